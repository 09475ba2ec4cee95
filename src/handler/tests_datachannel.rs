//! Data channels of webrtc-rs' sans-IO core against a real mediasoup worker (SCTP enabled):
//! `cargo test -p msc-handler -- --ignored datachannel` (needs `node`; MEDIASOUP_DIR as for
//! `tests_mediasoup.rs`).
//!
//! A spike for the DataProducer/DataConsumer design: each test drives one sans-IO
//! `RTCPeerConnection` itself (one UDP socket on 127.0.0.1, no interceptors, no media) so that
//! what is measured is the core's data channel behaviour, not a driver's. The server's answer
//! or offer is the SDP layer's `RemoteSdp` (`send_sctp_association`,
//! `receive_sctp_association`); `testdata/mediasoup_dc_peer.mjs` is the server, with a
//! DirectTransport on the other side of every data producer and consumer.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use msc_ortc::{DtlsParameters, DtlsRole, IceCandidate, IceParameters, SctpParameters};
use msc_sdp::{parse_sdp, RemoteSdp};
use rtc::data_channel::{RTCDataChannelId, RTCDataChannelInit, RTCDataChannelMessage};
use rtc::ice::candidate::CandidateConfig;
use rtc::ice::mdns::MulticastDnsMode;
use rtc::peer_connection::configuration::setting_engine::SctpMaxMessageSize;
use rtc::peer_connection::event::{RTCDataChannelEvent, RTCPeerConnectionEvent};
use rtc::peer_connection::message::RTCMessage;
use rtc::peer_connection::transport::{CandidateHostConfig, RTCDtlsRole, RTCIceCandidate};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::UdpSocket;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use webrtc::peer_connection::{
    RTCPeerConnectionState, RTCSessionDescription, SettingEngineBuilder,
};

use crate::connection::setup;
use crate::options::HandlerOptions;

#[path = "testdata/mediasoup_signalling.rs"]
#[allow(dead_code, clippy::duplicate_mod)]
mod signalling;
use signalling::{fingerprint, mediasoup_dir};

const WAIT: Duration = Duration::from_secs(20);

/// mediasoup's and the SDP layer's maximum message size.
const MEDIASOUP_MAX: usize = 262_144;

// ---------------------------------------------------------------------------------------------
// Logs of the core (warnings and errors), per thread: each test runs on its own thread (tokio's
// current-thread runtime), so a test reads only what its own connection logged.

struct Capture;

static CAPTURED: Mutex<Vec<(std::thread::ThreadId, String)>> = Mutex::new(Vec::new());

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Warn || std::env::var("MSC_TEST_LOG").is_ok()
    }
    fn log(&self, r: &log::Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let line = format!("{} {}: {}", r.level(), r.target(), r.args());
        if line.contains("pingAllCandidates") {
            return;
        }
        if std::env::var("MSC_TEST_LOG").is_ok_and(|f| r.target().contains(&f))
            || r.level() <= log::Level::Warn
        {
            eprintln!("[core] {line}");
        }
        if r.level() <= log::Level::Warn {
            if let Ok(mut c) = CAPTURED.lock() {
                c.push((std::thread::current().id(), line));
            }
        }
    }
    fn flush(&self) {}
}

fn init_log() {
    static LOG: Capture = Capture;
    if log::set_logger(&LOG).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
}

/// The warnings and errors the core logged on this thread so far (and forgets them).
fn take_core_warnings() -> Vec<String> {
    let me = std::thread::current().id();
    let mut all = CAPTURED.lock().unwrap();
    let (mine, others): (Vec<_>, Vec<_>) = all.drain(..).partition(|(t, _)| *t == me);
    *all = others;
    mine.into_iter().map(|(_, l)| l).collect()
}

// ---------------------------------------------------------------------------------------------
// The server.

struct Peer {
    _child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    /// Messages not taken yet, oldest first.
    inbox: VecDeque<Value>,
    /// `received` messages: what the server's DirectTransport consumers got.
    received: Vec<Value>,
    sctp_state: String,
}

impl Peer {
    async fn start() -> Peer {
        let mut child = Command::new("node")
            .arg(format!(
                "{}/testdata/mediasoup_dc_peer.mjs",
                std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| "src/handler".into())
            ))
            .env("MEDIASOUP_DIR", mediasoup_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node");
        Peer {
            stdin: child.stdin.take().unwrap(),
            lines: BufReader::new(child.stdout.take().unwrap()).lines(),
            _child: child,
            inbox: VecDeque::new(),
            received: Vec::new(),
            sctp_state: "new".into(),
        }
    }

    async fn send(&mut self, msg: Value) {
        let line = format!("{msg}\n");
        self.stdin.write_all(line.as_bytes()).await.unwrap();
    }

    fn on_line(&mut self, line: &str) {
        let msg: Value = serde_json::from_str(line).unwrap();
        assert!(msg.get("error").is_none(), "mediasoup: {msg}");
        if let Some(r) = msg.get("received") {
            self.received.push(r.clone());
        } else if let Some(s) = msg.get("sctp").and_then(Value::as_str) {
            eprintln!("server SCTP state: {s}");
            self.sctp_state = s.to_owned();
        } else {
            self.inbox.push_back(msg);
        }
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        let at = self.inbox.iter().position(|m| m.get(key).is_some())?;
        self.inbox.remove(at).map(|m| m[key].clone())
    }
}

/// What the server's `transport` message gives.
struct ServerTransport {
    ice: IceParameters,
    candidates: Vec<IceCandidate>,
    dtls: DtlsParameters,
    sctp: SctpParameters,
}

impl ServerTransport {
    fn from(v: &Value) -> Self {
        let mut dtls: DtlsParameters = serde_json::from_value(v["dtlsParameters"].clone()).unwrap();
        // webrtc-rs verifies sha-256 only (lib.rs: VERIFIABLE_FINGERPRINT_ALGORITHMS)
        dtls.fingerprints.retain(|f| f.algorithm == "sha-256");
        ServerTransport {
            ice: serde_json::from_value(v["iceParameters"].clone()).unwrap(),
            candidates: serde_json::from_value(v["iceCandidates"].clone()).unwrap(),
            dtls,
            sctp: serde_json::from_value(v["sctpParameters"].clone()).unwrap(),
        }
    }

    fn remote_sdp(&self) -> RemoteSdp {
        RemoteSdp::new(
            self.ice.clone(),
            self.candidates.clone(),
            self.dtls.clone(),
            Some(self.sctp),
        )
        .unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// The client: a sans-IO core, one socket, driven by the test.

struct Client {
    pc: RTCPeerConnection,
    udp: UdpSocket,
    local: SocketAddr,
    /// Data channel events, oldest first.
    events: Vec<RTCDataChannelEvent>,
    /// Data channel messages read, oldest first.
    messages: Vec<(RTCDataChannelId, RTCDataChannelMessage)>,
    state: RTCPeerConnectionState,
}

impl Client {
    /// `max_message_size`: the setting engine's SCTP max message size (None: webrtc-rs' default).
    async fn new(max_message_size: Option<SctpMaxMessageSize>) -> Client {
        let mut engine = SettingEngineBuilder::new()
            .with_multicast_dns_mode(MulticastDnsMode::Disabled)
            .with_answering_dtls_role(RTCDtlsRole::Client)
            .with_ice_connection_attempts(Some(Duration::from_millis(10)), Some(140));
        if let Some(size) = max_message_size {
            engine = engine.with_sctp_max_message_size(size);
        }
        let pc = RTCPeerConnectionBuilder::new()
            .with_media_engine(setup::media_engine().unwrap())
            .with_setting_engine(engine.build())
            .with_configuration(setup::configuration(&HandlerOptions::default()))
            .build(Instant::now())
            .unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let local = udp.local_addr().unwrap();
        Client {
            pc,
            udp,
            local,
            events: Vec::new(),
            messages: Vec::new(),
            state: RTCPeerConnectionState::New,
        }
    }

    fn add_host_candidate(&mut self) {
        let candidate = CandidateHostConfig {
            base_config: CandidateConfig {
                network: "udp".to_owned(),
                address: self.local.ip().to_string(),
                port: self.local.port(),
                component: 1,
                ..Default::default()
            },
            ..Default::default()
        }
        .new_candidate_host()
        .unwrap();
        self.pc
            .add_local_candidate(RTCIceCandidate::from(&candidate).to_json().unwrap())
            .unwrap();
    }

    /// A negotiated channel on `stream_id`; returns its handle.
    fn channel(
        &mut self,
        label: &str,
        stream_id: u16,
        ordered: bool,
        max_retransmits: Option<u16>,
    ) -> RTCDataChannelId {
        let dc = self
            .pc
            .create_data_channel(
                label,
                Some(RTCDataChannelInit {
                    ordered,
                    max_retransmits,
                    negotiated: Some(stream_id),
                    ..Default::default()
                }),
            )
            .unwrap();
        dc.id()
    }

    /// Our offer, set as the local description (the first one gathers our host candidate).
    fn offer(&mut self) -> String {
        if self.pc.local_description().is_none() {
            self.add_host_candidate();
        }
        let offer = self.pc.create_offer(None).unwrap();
        self.pc
            .set_local_description(Instant::now(), offer)
            .unwrap();
        self.pc.local_description().unwrap().sdp
    }

    fn set_answer(&mut self, sdp: String) {
        self.pc
            .set_remote_description(Instant::now(), RTCSessionDescription::answer(sdp).unwrap())
            .unwrap();
        self.flush();
    }

    /// Answers the server's offer (the first answer gathers our host candidate).
    fn answer(&mut self, offer: String) -> String {
        let now = Instant::now();
        self.pc
            .set_remote_description(now, RTCSessionDescription::offer(offer).unwrap())
            .unwrap();
        if self.pc.local_description().is_none() {
            self.add_host_candidate();
        }
        let answer = self.pc.create_answer(None).unwrap();
        self.pc.set_local_description(now, answer).unwrap();
        self.flush();
        self.pc.local_description().unwrap().sdp
    }

    /// Sends what the core wrote, keeps what it read and its events.
    fn flush(&mut self) {
        while let Some(d) = self.pc.poll_write() {
            // loopback: a full socket buffer is not expected; a drop would show as SCTP loss
            if let Err(e) = self.udp.try_send_to(&d.message, d.transport.peer_addr) {
                eprintln!("send to {}: {e}", d.transport.peer_addr);
            }
        }
        while let Some(e) = self.pc.poll_event() {
            match e {
                RTCPeerConnectionEvent::OnDataChannel(e) => self.events.push(e),
                RTCPeerConnectionEvent::OnConnectionStateChangeEvent(s) => self.state = s,
                _ => {}
            }
        }
        while let Some(m) = self.pc.poll_read() {
            if let RTCMessage::DataChannelMessage(id, msg) = m.message {
                self.messages.push((id, msg));
            }
        }
    }

    /// Runs the core (socket, timers) and the server's messages until `done` holds, for at
    /// most `limit`. False on the time limit.
    async fn drive_for(
        &mut self,
        peer: &mut Peer,
        limit: Duration,
        mut done: impl FnMut(&mut Client, &mut Peer) -> bool,
    ) -> bool {
        let end = tokio::time::Instant::now() + limit;
        let mut buf = vec![0u8; 2048];
        loop {
            self.flush();
            if done(self, peer) {
                return true;
            }
            let timer = self.pc.poll_timeout().map_or(end, |t| t.into()).min(end);
            tokio::select! {
                got = self.udp.recv_from(&mut buf) => {
                    let (n, from) = got.unwrap();
                    let now = Instant::now();
                    let _ = self.pc.handle_read(udp_datagram(now, self.local, from, &buf[..n]));
                    while let Ok((n, from)) = self.udp.try_recv_from(&mut buf) {
                        let _ = self.pc.handle_read(udp_datagram(now, self.local, from, &buf[..n]));
                    }
                }
                line = peer.lines.next_line() => {
                    peer.on_line(&line.unwrap().expect("node exited"));
                }
                _ = tokio::time::sleep_until(timer) => {
                    if tokio::time::Instant::now() >= end {
                        self.flush();
                        return done(self, peer);
                    }
                    let _ = self.pc.handle_timeout(Instant::now());
                }
            }
        }
    }

    async fn drive(
        &mut self,
        peer: &mut Peer,
        what: &str,
        done: impl FnMut(&mut Client, &mut Peer) -> bool,
    ) {
        assert!(self.drive_for(peer, WAIT, done).await, "timed out: {what}");
    }

    /// The server's next message with `key` (the core keeps running meanwhile).
    async fn expect(&mut self, peer: &mut Peer, key: &str) -> Value {
        let mut got = None;
        self.drive(peer, key, |_, p| {
            got = p.take(key);
            got.is_some()
        })
        .await;
        got.unwrap()
    }

    fn opened(&self, id: RTCDataChannelId) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, RTCDataChannelEvent::OnOpen(i) if *i == id))
    }

    fn send_binary(&mut self, id: RTCDataChannelId, data: &[u8]) -> Result<(), String> {
        let mut dc = self.pc.data_channel(id).ok_or("no such channel")?;
        dc.send(Instant::now(), BytesMut::from(data))
            .map_err(|e| e.to_string())?;
        self.flush();
        Ok(())
    }

    fn send_text(&mut self, id: RTCDataChannelId, text: &str) -> Result<(), String> {
        let mut dc = self.pc.data_channel(id).ok_or("no such channel")?;
        dc.send_text(Instant::now(), text)
            .map_err(|e| e.to_string())?;
        self.flush();
        Ok(())
    }
}

/// A datagram from `peer` to `local`, as the core takes it.
fn udp_datagram(now: Instant, local: SocketAddr, peer: SocketAddr, data: &[u8]) -> TaggedBytesMut {
    TaggedBytesMut {
        now,
        transport: TransportContext {
            local_addr: local,
            peer_addr: peer,
            ecn: None,
            transport_protocol: TransportProtocol::UDP,
        },
        message: BytesMut::from(data),
    }
}

/// Waits until the server's DataConsumer `consumer` (creation order) has sent `n` messages and
/// SCTP has them all acknowledged (its `bufferedAmount` is 0).
async fn wait_server_sent(client: &mut Client, peer: &mut Peer, consumer: usize, n: u64) {
    let end = Instant::now() + WAIT;
    loop {
        peer.send(json!({ "stats": true })).await;
        let stats = client.expect(peer, "stats").await;
        let s = &stats["consumers"][consumer][0];
        if s["messagesSent"].as_u64() >= Some(n) && s["bufferedAmount"].as_u64() == Some(0) {
            eprintln!("server consumer stats: {s}");
            return;
        }
        assert!(Instant::now() < end, "server consumer stats: {s}");
        client
            .drive_for(peer, Duration::from_millis(20), |_, _| false)
            .await;
    }
}

/// FNV-1a, 32 bits, as the server script computes it.
fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u32 = 0x811c_9dc5;
    for b in data {
        h = (h ^ u32::from(*b)).wrapping_mul(0x0100_0193);
    }
    u64::from(h)
}

/// The server script's binary payload: byte i is (i * 7 + seed) & 0xff.
fn pattern(size: usize, seed: usize) -> Vec<u8> {
    (0..size).map(|i| ((i * 7 + seed) & 0xff) as u8).collect()
}

/// Starts the server, connects a send-direction client whose first offer carries the
/// channels `make` creates (and m=application when `make` creates any). Returns once the
/// server's SCTP state is `connected` when an association is expected.
async fn connect_sending(
    max_message_size: Option<SctpMaxMessageSize>,
    make: impl FnOnce(&mut Client) -> Vec<RTCDataChannelId>,
) -> (
    Client,
    Peer,
    ServerTransport,
    RemoteSdp,
    Vec<RTCDataChannelId>,
) {
    init_log();
    let mut peer = Peer::start().await;
    let mut client = Client::new(max_message_size).await;
    let server = ServerTransport::from(&client.expect(&mut peer, "transport").await);
    let channels = make(&mut client);
    let offer = client.offer();
    let mut remote = server.remote_sdp();
    remote.update_dtls_role(DtlsRole::Server);
    let parsed = parse_sdp(&offer).unwrap();
    let application = parsed
        .media_descriptions
        .iter()
        .find(|m| m.media_name.media == "application");
    assert_eq!(
        application.is_some(),
        !channels.is_empty(),
        "m=application in the offer iff a channel exists before it:\n{offer}"
    );
    if let Some(media) = application {
        remote.send_sctp_association(media).unwrap();
    }
    let answer = remote.get_sdp();
    client.set_answer(answer);
    let (algorithm, value) = fingerprint(&offer);
    peer.send(json!({ "connect": { "role": "client", "fingerprints": [{ "algorithm": algorithm, "value": value }] } }))
        .await;
    client.expect(&mut peer, "connected").await;
    client
        .drive(&mut peer, "connected", |c, _| {
            c.state == RTCPeerConnectionState::Connected
        })
        .await;
    if !channels.is_empty() {
        client
            .drive(&mut peer, "server SCTP connected", |_, p| {
                p.sctp_state == "connected"
            })
            .await;
    }
    (client, peer, server, remote, channels)
}

/// Asks the server for a DataProducer on `stream_id` (with a DirectTransport consumer).
async fn produce_data(
    client: &mut Client,
    peer: &mut Peer,
    stream_id: u16,
    ordered: bool,
    max_retransmits: Option<u16>,
) {
    let mut params = json!({ "streamId": stream_id, "ordered": ordered });
    if let Some(n) = max_retransmits {
        params["maxRetransmits"] = json!(n);
    }
    peer.send(json!({ "produceData": {
        "sctpStreamParameters": params, "label": format!("dc{stream_id}"), "protocol": "spike"
    } }))
    .await;
    client.expect(peer, "produceData").await;
}

/// Sends `payloads` (text when `Ok`, binary when `Err`) on `id` and checks that the server's
/// consumer of `stream_id` received each, intact and in order.
async fn send_and_check(
    client: &mut Client,
    peer: &mut Peer,
    id: RTCDataChannelId,
    stream_id: u16,
    payloads: &[Result<String, Vec<u8>>],
) {
    let before = peer
        .received
        .iter()
        .filter(|r| r["streamId"] == stream_id)
        .count();
    for p in payloads {
        match p {
            Ok(text) => client.send_text(id, text).unwrap(),
            Err(data) => client.send_binary(id, data).unwrap(),
        }
    }
    let want = before + payloads.len();
    client
        .drive(peer, "the server received every message", |_, p| {
            p.received
                .iter()
                .filter(|r| r["streamId"] == stream_id)
                .count()
                >= want
        })
        .await;
    let got: Vec<&Value> = peer
        .received
        .iter()
        .filter(|r| r["streamId"] == stream_id)
        .skip(before)
        .collect();
    for (p, r) in payloads.iter().zip(got) {
        let (ppid, bytes) = match p {
            Ok(t) if t.is_empty() => (56, &[][..]),
            Ok(t) => (51, t.as_bytes()),
            Err(d) if d.is_empty() => (57, &[][..]),
            Err(d) => (53, &d[..]),
        };
        assert_eq!(r["ppid"], ppid, "{r}");
        // An empty message goes out as one zero byte with the "empty" PPID (RFC 8831 §6.6),
        // and mediasoup hands that byte on as it is.
        assert_eq!(r["size"], bytes.len().max(1), "{r}");
        if !bytes.is_empty() {
            assert_eq!(r["hash"], fnv1a(bytes), "{r}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Send direction: channels made before the first offer.

#[tokio::test]
#[ignore = "needs node and a built mediasoup (MEDIASOUP_DIR)"]
async fn datachannel_send_before_first_offer() {
    let (mut client, mut peer, _server, _remote, channels) =
        connect_sending(Some(SctpMaxMessageSize::Bounded(262_144)), |c| {
            vec![
                c.channel("ordered", 0, true, None),
                c.channel("unordered", 1, false, Some(0)),
            ]
        })
        .await;
    let (ordered, unordered) = (channels[0], channels[1]);
    assert!(
        client.opened(ordered) && client.opened(unordered),
        "{:?}",
        client.events
    );
    assert_eq!(
        client.pc.sctp().and_then(|s| s.max_message_size()),
        Some(262_144)
    );
    produce_data(&mut client, &mut peer, 0, true, None).await;
    produce_data(&mut client, &mut peer, 1, false, Some(0)).await;

    let mut payloads: Vec<Result<String, Vec<u8>>> = vec![
        Ok("hello".into()),
        Ok("é ü ☃".into()),
        Ok(String::new()),
        Err(vec![]),
    ];
    for (i, size) in [
        1,
        1000,
        1200,
        65_535,
        65_536,
        65_537,
        100_000,
        MEDIASOUP_MAX,
    ]
    .into_iter()
    .enumerate()
    {
        payloads.push(Err(pattern(size, i)));
    }
    payloads.push(Ok("x".repeat(MEDIASOUP_MAX)));
    let t0 = Instant::now();
    send_and_check(&mut client, &mut peer, ordered, 0, &payloads).await;
    eprintln!("ordered: {} messages in {:?}", payloads.len(), t0.elapsed());
    send_and_check(
        &mut client,
        &mut peer,
        unordered,
        1,
        &[Ok("u".into()), Err(pattern(10_000, 3))],
    )
    .await;

    // One byte more than the negotiated maximum: refused by `send`, synchronously.
    let too_big = client.send_binary(ordered, &pattern(MEDIASOUP_MAX + 1, 0));
    eprintln!("send of {} B: {too_big:?}", MEDIASOUP_MAX + 1);
    assert_eq!(
        too_big,
        Err("outbound packet larger than maximum message size".to_owned())
    );
    // bufferedAmount: what SCTP has not released yet; all acknowledged soon
    client
        .drive(&mut peer, "bufferedAmount back to 0", |c, _| {
            c.pc.data_channel(ordered).unwrap().outstanding_bytes() == 0
        })
        .await;
    let warnings = take_core_warnings();
    eprintln!("core warnings: {warnings:#?}");
    peer.send(json!({ "close": true })).await;
}

/// Without `with_sctp_max_message_size`, the negotiated maximum is webrtc-rs' default 64 KiB
/// (RFC 8841's default), whatever mediasoup's `a=max-message-size` says.
#[tokio::test]
#[ignore = "needs node and a built mediasoup (MEDIASOUP_DIR)"]
async fn datachannel_default_max_message_size() {
    let (mut client, mut peer, _server, _remote, channels) =
        connect_sending(None, |c| vec![c.channel("ordered", 0, true, None)]).await;
    let id = channels[0];
    let max = client.pc.sctp().and_then(|s| s.max_message_size());
    eprintln!("negotiated max message size with the default setting engine: {max:?}");
    assert_eq!(max, Some(65_536));
    produce_data(&mut client, &mut peer, 0, true, None).await;
    send_and_check(&mut client, &mut peer, id, 0, &[Err(pattern(65_536, 1))]).await;
    let refused = client.send_binary(id, &pattern(65_537, 1));
    eprintln!("send of 65,537 B: {refused:?}");
    assert_eq!(
        refused,
        Err("outbound packet larger than maximum message size".to_owned())
    );
    peer.send(json!({ "close": true })).await;
}

// ---------------------------------------------------------------------------------------------
// 2. A channel added after the first negotiation.

#[tokio::test]
#[ignore = "needs node and a built mediasoup (MEDIASOUP_DIR)"]
async fn datachannel_added_after_negotiation() {
    let (mut client, mut peer, _server, _remote, channels) =
        connect_sending(Some(SctpMaxMessageSize::Bounded(262_144)), |c| {
            vec![c.channel("first", 0, true, None)]
        })
        .await;
    produce_data(&mut client, &mut peer, 0, true, None).await;
    send_and_check(&mut client, &mut peer, channels[0], 0, &[Ok("one".into())]).await;

    // a new negotiated stream on the existing association: no offer/answer
    let second = client.channel("second", 2, true, None);
    client.flush();
    let state = client.pc.data_channel(second).unwrap().ready_state();
    eprintln!(
        "second channel: ready_state {state:?} right after create_data_channel; events {:?}",
        client.events
    );
    produce_data(&mut client, &mut peer, 2, true, None).await;
    send_and_check(
        &mut client,
        &mut peer,
        second,
        2,
        &[Ok("two".into()), Err(pattern(200_000, 9))],
    )
    .await;
    // open at once, and no `OnOpen` for it: the DataProducer says `open` itself
    assert_eq!(state, rtc::data_channel::RTCDataChannelState::Open);
    assert!(!client.opened(second), "{:?}", client.events);
    peer.send(json!({ "close": true })).await;
}

/// Trap 1: the first negotiation has no m=application; a channel and m=application come with
/// a second offer/answer.
#[tokio::test]
#[ignore = "needs node and a built mediasoup (MEDIASOUP_DIR)"]
async fn datachannel_after_a_first_negotiation_without_sctp() {
    init_log();
    let mut peer = Peer::start().await;
    let mut client = Client::new(Some(SctpMaxMessageSize::Bounded(262_144))).await;
    let transport = client.expect(&mut peer, "transport").await;
    let server = ServerTransport::from(&transport);

    // first negotiation: one VP8 producer's section (a media producer before any data one)
    let video = vp8_sendonly(&mut client);
    let offer = client.offer();
    let mid = client
        .pc
        .rtp_transceiver(video)
        .unwrap()
        .mid()
        .clone()
        .unwrap();
    let mid_id = signalling::extmap_id(&offer, signalling::MID_URI);
    let twcc_id = signalling::extmap_id(&offer, signalling::TWCC_URI);
    let video_answer = signalling::answer(&transport, &mid, mid_id, twcc_id, true);
    let mut remote = server.remote_sdp();
    remote.update_dtls_role(DtlsRole::Server);
    client.set_answer(video_answer.clone());
    let (algorithm, value) = fingerprint(&offer);
    peer.send(json!({ "connect": { "role": "client", "fingerprints": [{ "algorithm": algorithm, "value": value }] } }))
        .await;
    client.expect(&mut peer, "connected").await;
    client
        .drive(&mut peer, "connected", |c, _| {
            c.state == RTCPeerConnectionState::Connected
        })
        .await;
    eprintln!(
        "DTLS up without m=application; server SCTP state {}",
        peer.sctp_state
    );

    // second negotiation: a channel, the offer now has m=application
    let id = client.channel("late", 0, true, None);
    let offer2 = client.offer();
    let parsed = parse_sdp(&offer2).unwrap();
    let application = parsed
        .media_descriptions
        .iter()
        .find(|m| m.media_name.media == "application")
        .expect("m=application in the second offer");
    // the answer: the first (audio) section as before, then the SDP layer's application section
    remote.send_sctp_association(application).unwrap();
    let app_sdp = remote.get_sdp();
    let app_section = &app_sdp[app_sdp.find("m=application").unwrap()..];
    let mid_line = format!("a=group:BUNDLE {mid} datachannel");
    let answer2 = video_answer
        .lines()
        .map(|l| {
            if l.starts_with("a=group:BUNDLE") {
                mid_line.clone()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
        + "\r\n"
        + app_section;
    client.set_answer(answer2);
    let associated = client
        .drive_for(&mut peer, Duration::from_secs(10), |c, p| {
            p.sctp_state == "connected" || c.opened(id)
        })
        .await;
    let sctp_state = client.pc.sctp().map(|s| format!("{:?}", s.state()));
    eprintln!(
        "after a second negotiation with m=application: associated within 10 s: {associated}; \
         server SCTP {}; our SCTP transport {:?}; channel {:?}; events {:?}",
        peer.sctp_state,
        sctp_state,
        client.pc.data_channel(id).map(|d| d.ready_state()),
        client.events
    );
    let send = client.send_text(id, "late");
    eprintln!("send on it: {send:?}");
    assert_eq!(send, Err("data channel is not open yet".to_owned()));
    eprintln!("core warnings: {:#?}", take_core_warnings());
    assert!(
        !associated,
        "trap 1 refuted: SCTP associated after a later m=application"
    );
    assert!(send.is_err());
    peer.send(json!({ "close": true })).await;
}

/// A sendonly VP8 transceiver with one encoding (as a producer's), before the first offer.
fn vp8_sendonly(client: &mut Client) -> rtc::rtp_transceiver::RTCRtpTransceiverId {
    use rtc::rtp_transceiver::rtp_sender::{
        RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
    };
    use webrtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
    let encoding = RTCRtpEncodingParameters {
        rtp_coding_parameters: RTCRtpCodingParameters {
            ssrc: Some(0x1234_5678),
            ..Default::default()
        },
        active: true,
        codec: RTCRtpCodec {
            mime_type: "video/VP8".to_owned(),
            clock_rate: 90000,
            ..Default::default()
        },
        ..Default::default()
    };
    client
        .pc
        .add_transceiver_from_kind(
            RtpCodecKind::Video,
            Some(RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Sendonly,
                streams: vec![],
                send_encodings: vec![encoding],
            }),
        )
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// 3. Receive direction: the server offers m=application, we answer.

#[tokio::test]
#[ignore = "needs node and a built mediasoup (MEDIASOUP_DIR)"]
async fn datachannel_receive() {
    init_log();
    let mut peer = Peer::start().await;
    let mut client = Client::new(Some(SctpMaxMessageSize::Bounded(262_144))).await;
    let server = ServerTransport::from(&client.expect(&mut peer, "transport").await);
    let mut remote = server.remote_sdp();
    remote.receive_sctp_association().unwrap();
    let answer = client.answer(remote.get_sdp());
    assert!(answer.contains("a=setup:active"), "{answer}");
    let (algorithm, value) = fingerprint(&answer);
    peer.send(json!({ "connect": { "role": "client", "fingerprints": [{ "algorithm": algorithm, "value": value }] } }))
        .await;
    client.expect(&mut peer, "connected").await;
    client
        .drive(&mut peer, "server SCTP connected", |c, p| {
            p.sctp_state == "connected" && c.state == RTCPeerConnectionState::Connected
        })
        .await;
    assert_eq!(
        client.pc.sctp().and_then(|s| s.max_message_size()),
        Some(262_144)
    );

    // A consumer whose stream exists before the server sends: everything arrives.
    peer.send(json!({ "directProduce": { "label": "first" } }))
        .await;
    let consumer = client.expect(&mut peer, "directProduce").await;
    let stream_id = consumer["sctpStreamParameters"]["streamId"]
        .as_u64()
        .unwrap() as u16;
    eprintln!("server DataConsumer: {consumer}");
    let ordered = consumer["sctpStreamParameters"]["ordered"]
        .as_bool()
        .unwrap_or(true);
    let id = client.channel("first", stream_id, ordered, None);
    client.flush();
    eprintln!(
        "receive channel {id} on stream {stream_id}: {:?}, events {:?}",
        client.pc.data_channel(id).unwrap().ready_state(),
        client.events
    );
    let sizes = [1usize, 1000, 65_536, 65_537, 200_000, MEDIASOUP_MAX];
    peer.send(json!({ "directSend": { "index": 0, "text": "hello from the server" } }))
        .await;
    // One at a time: mediasoup drops (`sctpsendbufferfull`) what does not fit its SCTP send
    // buffer (262,144 B by default) with what is still unacknowledged.
    for (i, size) in sizes.iter().enumerate() {
        peer.send(json!({ "directSend": { "index": 0, "size": size, "seed": i } }))
            .await;
        let want = i + 2;
        client
            .drive(&mut peer, "the server's message", |c, p| {
                assert!(
                    p.take("sendBufferFull").is_none(),
                    "mediasoup's send buffer full"
                );
                c.messages.len() >= want
            })
            .await;
    }
    let (first_id, first) = &client.messages[0];
    assert_eq!(*first_id, id);
    assert!(first.is_string);
    assert_eq!(&first.data[..], b"hello from the server");
    for (i, size) in sizes.iter().enumerate() {
        let (got_id, msg) = &client.messages[i + 1];
        assert_eq!(*got_id, id);
        assert!(!msg.is_string);
        assert_eq!(msg.data.len(), *size);
        assert_eq!(&msg.data[..], &pattern(*size, i)[..], "message {i} intact");
    }
    eprintln!("received {} messages intact", client.messages.len());
    client.messages.clear();

    // Trap 6: the server sends before our channel for its stream exists.
    peer.send(json!({ "directProduce": { "label": "early" } }))
        .await;
    let consumer = client.expect(&mut peer, "directProduce").await;
    let early_stream = consumer["sctpStreamParameters"]["streamId"]
        .as_u64()
        .unwrap() as u16;
    take_core_warnings();
    peer.send(json!({ "directSend": { "index": 1, "text": "before the channel" } }))
        .await;
    peer.send(json!({ "directSend": { "index": 1, "size": 3000, "seed": 5 } }))
        .await;
    // the server counts both as sent, and SCTP has them acknowledged (bufferedAmount 0)
    wait_server_sent(&mut client, &mut peer, 1, 2).await;
    let warnings = take_core_warnings();
    eprintln!(
        "messages for stream {early_stream} before its channel: read {:?}; core warnings {warnings:#?}",
        client.messages
    );
    assert!(client.messages.is_empty());
    for ppid in [51, 53] {
        let text = format!(
            "DataChannelHandler.handle_read got error: Unknown PayloadProtocolIdentifier {ppid}"
        );
        assert!(warnings.iter().any(|w| w.contains(&text)), "{warnings:#?}");
    }
    let late = client.channel("early", early_stream, true, None);
    client.flush();
    let state = client.pc.data_channel(late).map(|d| d.ready_state());
    eprintln!(
        "channel created after the early messages: {state:?}, events {:?}, messages {:?}",
        client.events, client.messages
    );
    peer.send(json!({ "directSend": { "index": 1, "text": "after the channel" } }))
        .await;
    let got_after = client
        .drive_for(&mut peer, Duration::from_secs(3), |c, _| {
            c.messages.iter().any(|(i, _)| *i == late)
        })
        .await;
    let warnings = take_core_warnings();
    eprintln!(
        "after creating the channel: delivered {got_after}; messages {:?}; warnings {warnings:#?}",
        client.messages,
    );
    // the later message arrives; the early ones never do
    assert!(got_after);
    assert_eq!(client.messages.len(), 1);
    assert_eq!(&client.messages[0].1.data[..], b"after the channel");
    // the stream existed already (the early data made it): the channel's local open fails
    // quietly, so its stream keeps SCTP's default reliability (fine to receive on)
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("there already exists a stream with identifier")),
        "{warnings:#?}"
    );
    peer.send(json!({ "close": true })).await;
}

/// The way round trap 1: a channel created and closed before the first offer puts
/// m=application in it (webrtc-rs offers the section while its registry holds any channel),
/// SCTP associates when DTLS is up, and the closed channel takes no stream. A data producer
/// added after media producers then needs no renegotiation.
#[tokio::test]
#[ignore = "needs node and a built mediasoup (MEDIASOUP_DIR)"]
async fn datachannel_placeholder_before_first_offer() {
    init_log();
    let mut peer = Peer::start().await;
    let mut client = Client::new(Some(SctpMaxMessageSize::Bounded(262_144))).await;
    let transport = client.expect(&mut peer, "transport").await;
    let server = ServerTransport::from(&transport);

    let video = vp8_sendonly(&mut client);
    let placeholder = client
        .pc
        .create_data_channel("placeholder", None)
        .unwrap()
        .id();
    client
        .pc
        .data_channel(placeholder)
        .unwrap()
        .close()
        .unwrap();
    let offer = client.offer();
    let parsed = parse_sdp(&offer).unwrap();
    let application = parsed
        .media_descriptions
        .iter()
        .find(|m| m.media_name.media == "application")
        .expect("m=application in the first offer with only a closed channel");
    let mid = client
        .pc
        .rtp_transceiver(video)
        .unwrap()
        .mid()
        .clone()
        .unwrap();
    let video_answer = signalling::answer(
        &transport,
        &mid,
        signalling::extmap_id(&offer, signalling::MID_URI),
        signalling::extmap_id(&offer, signalling::TWCC_URI),
        true,
    );
    let mut remote = server.remote_sdp();
    remote.update_dtls_role(DtlsRole::Server);
    remote.send_sctp_association(application).unwrap();
    let app_sdp = remote.get_sdp();
    let answer = video_answer.replace(
        &format!("a=group:BUNDLE {mid}\r\n"),
        &format!("a=group:BUNDLE {mid} datachannel\r\n"),
    ) + &app_sdp[app_sdp.find("m=application").unwrap()..];
    client.set_answer(answer);
    let (algorithm, value) = fingerprint(&offer);
    peer.send(json!({ "connect": { "role": "client", "fingerprints": [{ "algorithm": algorithm, "value": value }] } }))
        .await;
    client.expect(&mut peer, "connected").await;
    client
        .drive(
            &mut peer,
            "SCTP associated with only a closed channel",
            |c, p| p.sctp_state == "connected" && c.state == RTCPeerConnectionState::Connected,
        )
        .await;
    eprintln!("placeholder events: {:?}", client.events);

    // later: a data producer, no renegotiation
    let id = client.channel("later", 0, true, None);
    produce_data(&mut client, &mut peer, 0, true, None).await;
    send_and_check(
        &mut client,
        &mut peer,
        id,
        0,
        &[Ok("after media".into()), Err(pattern(MEDIASOUP_MAX, 1))],
    )
    .await;
    peer.send(json!({ "close": true })).await;
}

// ---------------------------------------------------------------------------------------------
// 4. What a DataProducer/DataConsumer builds on: close both ways, bufferedAmount under a burst.

/// Our side closes a sending channel; then the server closes a DataConsumer of ours.
#[tokio::test]
#[ignore = "needs node and a built mediasoup (MEDIASOUP_DIR)"]
async fn datachannel_close() {
    let (mut client, mut peer, _server, _remote, channels) =
        connect_sending(Some(SctpMaxMessageSize::Bounded(262_144)), |c| {
            vec![c.channel("closing", 0, true, None)]
        })
        .await;
    let id = channels[0];
    produce_data(&mut client, &mut peer, 0, true, None).await;
    send_and_check(&mut client, &mut peer, id, 0, &[Ok("bye".into())]).await;

    client.pc.data_channel(id).unwrap().close().unwrap();
    client.flush();
    let closed = client
        .drive_for(&mut peer, Duration::from_secs(2), |c, _| {
            c.events
                .iter()
                .any(|e| matches!(e, RTCDataChannelEvent::OnClose(i) if *i == id))
        })
        .await;
    peer.send(json!({ "producersClosed": true })).await;
    let server_closed = client.expect(&mut peer, "producersClosed").await;
    let closed_note = peer.take("producerClosed");
    let after = client.send_text(id, "after close");
    eprintln!(
        "our close: OnClose {closed}; events {:?}; server DataProducer closed {server_closed} \
         (event {closed_note:?}); send after close: {after:?}; channel still known: {}",
        client.events,
        client.pc.data_channel(id).is_some()
    );
    assert!(closed, "{:?}", client.events);
    assert!(after.is_err());

    // The server side: a DataConsumer on the WebRTC transport (stream chosen by mediasoup),
    // closed by the server.
    peer.send(json!({ "directProduce": { "label": "to-close" } }))
        .await;
    let consumer = client.expect(&mut peer, "directProduce").await;
    let stream = consumer["sctpStreamParameters"]["streamId"]
        .as_u64()
        .unwrap() as u16;
    let rid = client.channel("to-close", stream, true, None);
    peer.send(json!({ "directSend": { "index": 0, "text": "before close" } }))
        .await;
    client
        .drive(&mut peer, "a message", |c, _| {
            c.messages.iter().any(|(i, _)| *i == rid)
        })
        .await;
    let events_before = client.events.len();
    // consumers: [0] the DirectTransport consumer of our producer, [1] this one
    peer.send(json!({ "closeConsumer": 1 })).await;
    client.expect(&mut peer, "closeConsumer").await;
    let got_close = client
        .drive_for(&mut peer, Duration::from_secs(2), |c, _| {
            c.events
                .iter()
                .any(|e| matches!(e, RTCDataChannelEvent::OnClose(i) if *i == rid))
        })
        .await;
    eprintln!(
        "server closed its DataConsumer (stream {stream}): OnClose {got_close}; new events {:?}; \
         warnings {:#?}",
        &client.events[events_before..],
        take_core_warnings()
    );
    assert!(got_close);
    peer.send(json!({ "close": true })).await;
}

/// A burst larger than the low threshold: `outstanding_bytes` (bufferedAmount) rises, then
/// `OnBufferedAmountLow` fires once SCTP has released enough; every message arrives. Prints
/// throughput figures (loopback, debug build, one message per line from node: lower bounds).
#[tokio::test]
#[ignore = "needs node and a built mediasoup (MEDIASOUP_DIR)"]
async fn datachannel_burst_buffered_amount() {
    let (mut client, mut peer, _server, _remote, channels) =
        connect_sending(Some(SctpMaxMessageSize::Bounded(262_144)), |c| {
            vec![c.channel("burst", 0, true, None)]
        })
        .await;
    let id = channels[0];
    produce_data(&mut client, &mut peer, 0, true, None).await;
    const LOW: u32 = 65_536;
    client
        .pc
        .data_channel(id)
        .unwrap()
        .set_buffered_amount_low_threshold(LOW);
    client.events.clear();

    let (count, size) = (200usize, 16_384usize);
    let t0 = Instant::now();
    let mut peak = 0;
    for i in 0..count {
        client.send_binary(id, &pattern(size, i)).unwrap();
        peak = peak.max(client.pc.data_channel(id).unwrap().outstanding_bytes());
    }
    let mut low_at = None;
    client
        .drive(&mut peer, "the burst received", |c, p| {
            if low_at.is_none()
                && c.events
                    .iter()
                    .any(|e| matches!(e, RTCDataChannelEvent::OnBufferedAmountLow(i) if *i == id))
            {
                low_at = Some(t0.elapsed());
            }
            p.received.len() >= count
        })
        .await;
    let elapsed = t0.elapsed();
    eprintln!(
        "burst: {count} x {size} B; bufferedAmount peak {peak} B; OnBufferedAmountLow({LOW}) at \
         {low_at:?}; all received in {elapsed:?} ({:.1} MB/s)",
        (count * size) as f64 / elapsed.as_secs_f64() / 1e6
    );
    assert!(peak > LOW as usize);
    assert!(low_at.is_some(), "{:?}", client.events);
    for (i, r) in peer.received.iter().enumerate() {
        assert_eq!(r["hash"], fnv1a(&pattern(size, i)), "message {i}");
    }
    // the last SACKs may still be on their way when the server has every message
    client
        .drive(&mut peer, "bufferedAmount back to 0", |c, _| {
            c.pc.data_channel(id).unwrap().outstanding_bytes() == 0
        })
        .await;

    // small messages
    peer.received.clear();
    let n = 5_000;
    let t0 = Instant::now();
    for i in 0..n {
        client.send_text(id, &format!("m{i}")).unwrap();
    }
    client
        .drive(&mut peer, "the small messages received", |_, p| {
            p.received.len() >= n
        })
        .await;
    let elapsed = t0.elapsed();
    eprintln!(
        "{n} small text messages received in {elapsed:?} ({:.0} messages/s)",
        n as f64 / elapsed.as_secs_f64()
    );
    for (i, r) in peer.received.iter().enumerate() {
        assert_eq!(r["text"], format!("m{i}"));
    }
    peer.send(json!({ "close": true })).await;
}

/// Trap 1 when the server offers (a receive transport): the first offer has one audio consumer
/// and no m=application; a later offer adds it. The answerer cannot add a section itself, so
/// only the offer's content decides.
#[tokio::test]
#[ignore = "needs node and a built mediasoup (MEDIASOUP_DIR)"]
async fn datachannel_receive_after_a_first_offer_without_sctp() {
    init_log();
    let mut peer = Peer::start().await;
    let mut client = Client::new(Some(SctpMaxMessageSize::Bounded(262_144))).await;
    let server = ServerTransport::from(&client.expect(&mut peer, "transport").await);
    let mut remote = server.remote_sdp();
    let audio: msc_ortc::RtpParameters = serde_json::from_value(json!({
        "mid": "0",
        "codecs": [{ "mimeType": "audio/opus", "payloadType": 100, "clockRate": 48000, "channels": 2 }],
        "encodings": [{ "ssrc": 11111111 }],
        "rtcp": { "cname": "server" }
    }))
    .unwrap();
    remote
        .receive(msc_sdp::RecvParams {
            mid: "0",
            kind: msc_ortc::MediaKind::Audio,
            offer_rtp_parameters: &audio,
            stream_id: "server",
            track_id: "consumer-0",
            extra_codecs: &[],
        })
        .unwrap();
    let answer = client.answer(remote.get_sdp());
    let (algorithm, value) = fingerprint(&answer);
    peer.send(json!({ "connect": { "role": "client", "fingerprints": [{ "algorithm": algorithm, "value": value }] } }))
        .await;
    client.expect(&mut peer, "connected").await;
    client
        .drive(&mut peer, "connected", |c, _| {
            c.state == RTCPeerConnectionState::Connected
        })
        .await;

    remote.receive_sctp_association().unwrap();
    let answer2 = client.answer(remote.get_sdp());
    assert!(answer2.contains("m=application"), "{answer2}");
    let associated = client
        .drive_for(&mut peer, Duration::from_secs(8), |_, p| {
            p.sctp_state == "connected"
        })
        .await;
    eprintln!(
        "answerer, m=application only in the second offer: associated within 8 s: {associated}; \
         server SCTP {}; ours {:?}; warnings {:#?}",
        peer.sctp_state,
        client.pc.sctp().map(|s| format!("{:?}", s.state())),
        take_core_warnings()
    );
    assert!(!associated, "trap 1 refuted for the answerer");
    peer.send(json!({ "close": true })).await;
}

/// Large server messages sent back to back: what does not fit mediasoup's SCTP send buffer
/// (its `sctpSendBufferSize`, 262,144 B by default) with what is still unacknowledged is
/// dropped by the server (`sctpsendbufferfull`), not by webrtc-rs.
#[tokio::test]
#[ignore = "needs node and a built mediasoup (MEDIASOUP_DIR)"]
async fn datachannel_receive_burst_server_send_buffer() {
    init_log();
    let mut peer = Peer::start().await;
    let mut client = Client::new(Some(SctpMaxMessageSize::Bounded(262_144))).await;
    let server = ServerTransport::from(&client.expect(&mut peer, "transport").await);
    let mut remote = server.remote_sdp();
    remote.receive_sctp_association().unwrap();
    let answer = client.answer(remote.get_sdp());
    let (algorithm, value) = fingerprint(&answer);
    peer.send(json!({ "connect": { "role": "client", "fingerprints": [{ "algorithm": algorithm, "value": value }] } }))
        .await;
    client.expect(&mut peer, "connected").await;
    client
        .drive(&mut peer, "server SCTP connected", |_, p| {
            p.sctp_state == "connected"
        })
        .await;
    peer.send(json!({ "directProduce": { "label": "burst" } }))
        .await;
    let consumer = client.expect(&mut peer, "directProduce").await;
    let stream = consumer["sctpStreamParameters"]["streamId"]
        .as_u64()
        .unwrap() as u16;
    client.channel("burst", stream, true, None);
    let sizes = [65_536usize, 65_537, 200_000, MEDIASOUP_MAX];
    for (i, size) in sizes.iter().enumerate() {
        peer.send(json!({ "directSend": { "index": 0, "size": size, "seed": i } }))
            .await;
    }
    let mut full = 0;
    client
        .drive(&mut peer, "each message received or dropped", |c, p| {
            while p.take("sendBufferFull").is_some() {
                full += 1;
            }
            c.messages.len() + full >= sizes.len()
        })
        .await;
    let got: Vec<usize> = client.messages.iter().map(|(_, m)| m.data.len()).collect();
    eprintln!("back to back {sizes:?}: received {got:?}; server sctpsendbufferfull x{full}");
    assert_eq!(got.len() + full, sizes.len());
    assert!(full > 0);
    peer.send(json!({ "close": true })).await;
}
