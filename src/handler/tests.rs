//! Two PeerConnections in one process on 127.0.0.1: our [`SendHandler`] as offerer, a plain
//! webrtc-rs PeerConnection as answerer (recvonly, ICE-lite like mediasoup).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::interceptor::{
    Attribute, Interceptor, Packet, ReceiverReportBuilder, Registry, Slot, StreamInfo, TaggedPacket,
};
use rtc::rtcp::payload_feedbacks::full_intra_request::{FirEntry, FullIntraRequest};
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::sender_report::SenderReport;
use rtc::rtcp::transport_feedbacks::transport_layer_nack::{NackPair, TransportLayerNack};
use rtc::rtp;
use rtc::sansio::Protocol;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
    RTCPeerConnectionState, RTCSessionDescription, SettingEngineBuilder,
};

use super::*;
use crate::connection::setup as engine;

const WAIT: Duration = Duration::from_secs(10);

struct StderrLog(Instant);
impl log::Log for StderrLog {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        std::env::var("MSC_TEST_LOG").is_ok_and(|f| m.target().contains(&f))
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            eprintln!(
                "{:>10.3?} {:?} {} {}",
                self.0.elapsed(),
                std::thread::current().id(),
                r.target(),
                r.args()
            );
        }
    }
    fn flush(&self) {}
}

fn init_log() {
    static LOG: std::sync::OnceLock<StderrLog> = std::sync::OnceLock::new();
    let logger = LOG.get_or_init(|| StderrLog(Instant::now()));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
}

/// What the answerer's tracks report.
#[derive(Debug)]
enum Received {
    Open { ssrc: u32, rid: Option<String> },
    Rtp(rtp::Packet),
    Rtcp(Vec<Box<dyn rtc::rtcp::Packet>>),
}

/// The answerer's interceptor that hands inbound RTCP to its tracks: webrtc-rs delivers none
/// unless an interceptor marks it.
#[derive(Default)]
struct DeliverRtcp {
    read: VecDeque<TaggedPacket>,
    write: VecDeque<TaggedPacket>,
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for DeliverRtcp {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if matches!(msg.message.packet, Packet::Rtcp(_)) {
            let message = std::mem::replace(
                &mut msg.message,
                rtc::interceptor::AttributedPacket::new(Packet::Rtcp(vec![])),
            );
            msg.message = message.with(Attribute::DeliverToApplication);
        }
        self.read.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.read.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.write.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.write.pop_front()
    }
}

impl Interceptor for DeliverRtcp {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

struct RemoteEvents {
    gathering: watch::Sender<RTCIceGatheringState>,
    state: watch::Sender<RTCPeerConnectionState>,
    received: mpsc::UnboundedSender<Received>,
    tracks: Arc<Mutex<Vec<Arc<dyn TrackRemote>>>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for RemoteEvents {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        self.gathering.send_replace(state);
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.state.send_replace(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        self.tracks.lock().unwrap().push(track.clone());
        let tx = self.received.clone();
        tokio::spawn(async move {
            while let Some(event) = track.poll().await {
                let out = match event {
                    TrackRemoteEvent::OnOpen(init) => Received::Open {
                        ssrc: init.ssrc,
                        rid: init.rid,
                    },
                    TrackRemoteEvent::OnRtpPacket(packet) => Received::Rtp(packet),
                    TrackRemoteEvent::OnRtcpPacket(packets) => Received::Rtcp(packets),
                    _ => continue,
                };
                if tx.send(out).is_err() {
                    break;
                }
            }
        });
    }
}

/// The answering side: what mediasoup is in production.
struct Remote {
    pc: Arc<dyn PeerConnection>,
    gathering: watch::Receiver<RTCIceGatheringState>,
    state: watch::Receiver<RTCPeerConnectionState>,
    received: mpsc::UnboundedReceiver<Received>,
    tracks: Arc<Mutex<Vec<Arc<dyn TrackRemote>>>>,
}

impl Remote {
    /// `dtls_client`: answer `a=setup:active` (the remote is DTLS client, we are the server);
    /// otherwise `a=setup:passive`, as mediasoup-client has mediasoup answer (we are the DTLS
    /// client).
    async fn new(dtls_client: bool) -> Self {
        let (gathering_tx, gathering) = watch::channel(RTCIceGatheringState::New);
        let (state_tx, state) = watch::channel(RTCPeerConnectionState::New);
        let (received_tx, received) = mpsc::unbounded_channel();
        let tracks = Arc::new(Mutex::new(Vec::new()));
        let mut settings = SettingEngineBuilder::new()
            .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
            .with_include_loopback_candidate(true)
            .with_lite(true);
        settings = settings.with_answering_dtls_role(if dtls_client {
            rtc::peer_connection::transport::RTCDtlsRole::Client
        } else {
            rtc::peer_connection::transport::RTCDtlsRole::Server
        });
        let pc = PeerConnectionBuilder::new()
            .with_media_engine(engine::media_engine().unwrap())
            .with_interceptor_registry(
                Registry::new()
                    .with(Slot::ReceiverReport, ReceiverReportBuilder::new().build())
                    .with(Slot::from(15_000), DeliverRtcp::default()),
            )
            .with_setting_engine(settings.build())
            .with_handler(Arc::new(RemoteEvents {
                gathering: gathering_tx,
                state: state_tx,
                received: received_tx,
                tracks: tracks.clone(),
            }))
            .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
            .build()
            .await
            .unwrap();
        Self {
            pc: Arc::new(pc),
            gathering,
            state,
            received,
            tracks,
        }
    }

    /// Answers `offer`; returns the answer once it carries the gathered candidates.
    async fn answer(&mut self, offer: &str) -> String {
        self.pc
            .set_remote_description(RTCSessionDescription::offer(offer.to_owned()).unwrap())
            .await
            .unwrap();
        let answer = self.pc.create_answer(None).await.unwrap();
        self.pc.set_local_description(answer).await.unwrap();
        tokio::time::timeout(WAIT, async {
            loop {
                let sdp = self.pc.local_description().await.unwrap().sdp;
                if *self.gathering.borrow_and_update() == RTCIceGatheringState::Complete
                    && sdp.contains("a=candidate")
                {
                    return sdp;
                }
                self.gathering.changed().await.unwrap();
            }
        })
        .await
        .expect("answerer gathering")
    }

    async fn wait_connected(&mut self) {
        tokio::time::timeout(
            WAIT,
            self.state
                .wait_for(|s| *s == RTCPeerConnectionState::Connected),
        )
        .await
        .expect("answerer connected")
        .unwrap();
    }

    /// The next RTP packet of `ssrc`, skipping others.
    async fn next_rtp(&mut self, ssrc: u32) -> rtp::Packet {
        tokio::time::timeout(WAIT, async {
            loop {
                match self.received.recv().await.expect("tracks alive") {
                    Received::Rtp(p) if p.header.ssrc == ssrc => return p,
                    _ => {}
                }
            }
        })
        .await
        .expect("rtp packet")
    }

    /// The next sender report about `ssrc`, skipping everything else.
    async fn next_sender_report(&mut self, ssrc: u32) -> SenderReport {
        tokio::time::timeout(WAIT, async {
            loop {
                if let Received::Rtcp(packets) = self.received.recv().await.expect("tracks alive") {
                    let report = packets.iter().find_map(|p| {
                        p.as_any()
                            .downcast_ref::<SenderReport>()
                            .filter(|sr| sr.ssrc == ssrc)
                            .cloned()
                    });
                    if let Some(report) = report {
                        return report;
                    }
                }
            }
        })
        .await
        .expect("sender report")
    }

    /// Sends RTCP about a received SSRC from the answerer.
    async fn send_rtcp(&self, packets: Vec<Box<dyn rtc::rtcp::Packet>>) {
        let track = self.tracks.lock().unwrap()[0].clone();
        track.write_rtcp(packets).await.unwrap();
    }
}

fn loopback() -> HandlerOptions {
    HandlerOptions {
        local_addresses: LocalAddresses::Loopback,
        ..Default::default()
    }
}

fn cap(
    kind: MediaKind,
    mime: &str,
    pt: u8,
    clock_rate: u32,
    channels: Option<u8>,
) -> RtpCodecCapability {
    RtpCodecCapability {
        kind,
        mime_type: mime.to_owned(),
        preferred_payload_type: Some(pt),
        clock_rate,
        channels,
        parameters: Default::default(),
        rtcp_feedback: vec![],
    }
}

fn vp8_with_rtx() -> Vec<RtpCodecCapability> {
    vec![
        cap(MediaKind::Video, "video/VP8", 96, 90000, None),
        cap(MediaKind::Video, "video/rtx", 97, 90000, None),
    ]
}

fn opus() -> Vec<RtpCodecCapability> {
    vec![cap(MediaKind::Audio, "audio/opus", 111, 48000, Some(2))]
}

async fn wait_state(handler: &SendHandler, state: &'static str) {
    let mut rx = handler.subscribe_connection_state();
    tokio::time::timeout(WAIT, rx.wait_for(|s| *s == state))
        .await
        .unwrap_or_else(|_| panic!("handler never reached {state}"))
        .unwrap();
}

/// A VP8 sender with RTX on `handler`, connected to a new answerer.
async fn connected_video(handler: &SendHandler) -> (Remote, SendResult) {
    let mut remote = Remote::new(false).await;
    let sent = handler
        .send(MediaKind::Video, vp8_with_rtx(), vec![])
        .await
        .unwrap();
    connect(handler, &mut remote, &sent.offer_sdp).await;
    (remote, sent)
}

/// An Opus sender on a connected transport, then a VP8 sender with RTX added to it (offer
/// and answer applied).
async fn audio_then_video(handler: &SendHandler, remote: &mut Remote) -> (SendResult, SendResult) {
    let audio = handler
        .send(MediaKind::Audio, opus(), vec![])
        .await
        .unwrap();
    connect(handler, remote, &audio.offer_sdp).await;
    let video = handler
        .send(MediaKind::Video, vp8_with_rtx(), vec![])
        .await
        .unwrap();
    let answer = remote.answer(&video.offer_sdp).await;
    handler.set_remote_answer(answer).await.unwrap();
    (audio, video)
}

/// Offer (already made by `send`) -> answer -> connected on both sides.
async fn connect(handler: &SendHandler, remote: &mut Remote, offer: &str) {
    let answer = remote.answer(offer).await;
    handler.set_remote_answer(answer).await.unwrap();
    wait_state(handler, "connected").await;
    remote.wait_connected().await;
}

fn entries<'a>(stats: &'a Value, typ: &str) -> Vec<&'a Value> {
    stats
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == typ)
        .collect()
}

/// Writes `count` packets starting at `seq0` on `writer` and checks each one arrives intact.
async fn write_and_check(remote: &mut Remote, writer: &RtpWriter, seq0: u16, count: u16, pt: u8) {
    for i in 0..count {
        let seq = seq0.wrapping_add(i);
        let ts = 1000 + 3000 * u32::from(i);
        let marker = i % 3 == 2;
        let payload = Bytes::from(vec![i as u8; 10 + i as usize]);
        writer
            .write(seq, ts, marker, payload.clone())
            .await
            .unwrap();
        let p = remote.next_rtp(writer.ssrc()).await;
        assert_eq!(p.header.sequence_number, seq);
        assert_eq!(p.header.timestamp, ts);
        assert_eq!(p.header.marker, marker);
        assert_eq!(p.header.payload_type, pt);
        assert_eq!(p.payload, payload);
    }
}

#[tokio::test]
async fn native_offer_lists_codecs_and_extensions() {
    let sdp = native_offer_sdp().await.unwrap();
    for needle in [
        "m=audio",
        "m=video",
        "a=rtpmap:111 opus/48000/2",
        "a=rtpmap:96 VP8/90000",
        "a=rtpmap:97 rtx/90000",
        "a=fmtp:97 apt=96",
        "a=rtpmap:98 VP9/90000",
        "profile-id=2",
        "profile-level-id=42e01f",
        "packetization-mode=0",
        "profile-level-id=4d001f",
        "profile-level-id=640032",
        "AV1/90000",
        "a=rtcp-fb:96 nack pli",
        "a=rtcp-fb:96 ccm fir",
        "a=rtcp-fb:96 transport-cc",
        "a=rtcp-fb:96 goog-remb",
        "urn:ietf:params:rtp-hdrext:sdes:mid",
        "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
        "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
        "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "transport-wide-cc",
    ] {
        assert!(sdp.contains(needle), "{needle:?} missing from\n{sdp}");
    }
    assert!(!sdp.contains("a=candidate"), "no socket is bound:\n{sdp}");
}

#[tokio::test]
async fn rejects_bad_arguments() {
    let handler = SendHandler::new(loopback()).await.unwrap();
    let err = handler
        .send(
            MediaKind::Video,
            vec![cap(MediaKind::Video, "video/VP8", 100, 90000, None)],
            vec![],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::InvalidArgument(_)), "{err}");
    let err = handler
        .send(MediaKind::Video, vec![], vec![])
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::InvalidArgument(_)), "{err}");
    let err = handler
        .send(
            MediaKind::Video,
            vp8_with_rtx(),
            vec!["r0".into(), "r0".into()],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::InvalidArgument(_)), "{err}");
    let err = handler
        .send(MediaKind::Audio, vp8_with_rtx(), vec![])
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::InvalidArgument(_)), "{err}");

    // A writer is unusable before the answer.
    let sent = handler
        .send(MediaKind::Audio, opus(), vec![])
        .await
        .unwrap();
    let err = sent.writers[0]
        .write(1, 1, false, Bytes::from_static(b"x"))
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::InvalidState(_)), "{err}");

    handler.close().await;
    assert_eq!(handler.connection_state(), "closed");
    let err = handler
        .send(MediaKind::Audio, opus(), vec![])
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::InvalidState(_)), "{err}");
}

#[tokio::test]
async fn single_encoding_arrives_intact_with_stats() {
    init_log();
    let handler = SendHandler::new(loopback()).await.unwrap();
    let states = Arc::new(Mutex::new(Vec::new()));
    let seen = states.clone();
    handler.on_connection_state(Box::new(move |s| seen.lock().unwrap().push(s)));
    let mut remote = Remote::new(false).await;

    let sent = handler
        .send(MediaKind::Video, vp8_with_rtx(), vec![])
        .await
        .unwrap();
    assert_eq!(sent.writers.len(), 1);
    let writer = &sent.writers[0];
    assert!(writer.rid().is_none());
    assert!(writer.rtx_ssrc().is_some());
    assert!(sent.offer_sdp.contains("a=sendonly"), "{}", sent.offer_sdp);
    assert!(sent
        .offer_sdp
        .contains(&format!("a=ssrc:{}", writer.ssrc())));
    assert!(sent.offer_sdp.contains(&format!(
        "a=ssrc-group:FID {} {}",
        writer.ssrc(),
        writer.rtx_ssrc().unwrap()
    )));
    assert!(sent.offer_sdp.contains("a=setup:actpass"));

    let answer = remote.answer(&sent.offer_sdp).await;
    assert!(answer.contains("a=setup:passive"), "{answer}");
    let t0 = Instant::now();
    let mut ice = handler.transport.ice_connected();
    let ice_at = tokio::spawn(async move {
        ice.wait_for(|n| *n > 0).await.unwrap();
        t0.elapsed()
    });
    handler.set_remote_answer(answer).await.unwrap();
    wait_state(&handler, "connected").await;
    remote.wait_connected().await;
    eprintln!(
        "answer to ICE connected: {:?}, to connected: {:?}",
        ice_at.await.unwrap(),
        t0.elapsed()
    );
    assert_eq!(writer.payload_type(), Some(96));
    assert_eq!(states.lock().unwrap().last(), Some(&"connected"));

    write_and_check(&mut remote, writer, 65530, 20, 96).await;

    let stats = handler.sender_stats(&sent.mid).await.unwrap();
    let outbound = entries(&stats, "outbound-rtp");
    assert_eq!(outbound.len(), 1, "{stats:#}");
    assert_eq!(outbound[0]["ssrc"], writer.ssrc());
    assert_eq!(outbound[0]["kind"], "video");
    assert!(
        outbound[0]["packetsSent"].as_u64().unwrap() >= 20,
        "{stats:#}"
    );
    assert!(outbound[0]["bytesSent"].as_u64().unwrap() > 0);
    assert_eq!(outbound[0]["rtxSsrc"], writer.rtx_ssrc().unwrap());
    assert!(!entries(&stats, "codec").is_empty(), "{stats:#}");

    let transport = handler.transport_stats().await.unwrap();
    assert_eq!(entries(&transport, "transport").len(), 1, "{transport:#}");
    assert!(
        !entries(&transport, "candidate-pair").is_empty(),
        "{transport:#}"
    );
    assert!(
        !entries(&transport, "local-candidate").is_empty(),
        "{transport:#}"
    );
    assert!(
        !entries(&transport, "certificate").is_empty(),
        "{transport:#}"
    );
    for c in entries(&transport, "local-candidate") {
        let address: std::net::IpAddr = c["address"].as_str().unwrap().parse().unwrap();
        assert!(address.is_loopback(), "{c:#}");
    }
    // the pair in use names its local candidate by that entry's id (W3C), on 127.0.0.1 as the
    // remote is
    let pair = entries(&transport, "candidate-pair")
        .into_iter()
        .find(|p| p["nominated"] == true)
        .expect("a nominated pair");
    let local = entries(&transport, "local-candidate")
        .into_iter()
        .find(|c| c["id"] == pair["localCandidateId"])
        .unwrap_or_else(|| panic!("{transport:#}"));
    assert_eq!(local["address"], "127.0.0.1", "{local:#}");

    handler.close().await;
    let err = writer
        .write(1, 1, false, Bytes::from_static(b"x"))
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::InvalidState(_)));
}

/// A transport given a TURN server runs on webrtc-rs' async driver (TURN relaying is only
/// there). No TURN server listens here, so it connects over its host candidate, and media flows
/// as on the direct driver.
#[tokio::test]
async fn a_turn_transport_runs_on_webrtc_rs_driver() {
    init_log();
    let handler = SendHandler::new(HandlerOptions {
        ice_servers: vec![IceServer {
            urls: vec!["turn:127.0.0.1:9?transport=udp".into()],
            username: Some("user".into()),
            credential: Some("secret".into()),
        }],
        local_addresses: LocalAddresses::Loopback,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(handler.driver(), "webrtc-rs");
    assert_eq!(
        SendHandler::new(loopback()).await.unwrap().driver(),
        "direct"
    );
    let (mut remote, sent) = connected_video(&handler).await;
    write_and_check(&mut remote, &sent.writers[0], 100, 20, 96).await;
    let stats = handler.sender_stats(&sent.mid).await.unwrap();
    assert_eq!(entries(&stats, "outbound-rtp")[0]["packetsSent"], 20);
    // webrtc-rs' driver would keep the servers on an empty list: refused, not silently kept
    assert!(matches!(
        handler.update_ice_servers(vec![]).await,
        Err(HandlerError::InvalidArgument(_))
    ));
    handler.close().await;
    assert_eq!(handler.connection_state(), "closed");
}

#[tokio::test]
async fn we_can_be_dtls_server() {
    let handler = SendHandler::new(loopback()).await.unwrap();
    let mut remote = Remote::new(true).await;
    let sent = handler
        .send(MediaKind::Audio, opus(), vec![])
        .await
        .unwrap();
    let answer = remote.answer(&sent.offer_sdp).await;
    assert!(answer.contains("a=setup:active"), "{answer}");
    handler.set_remote_answer(answer).await.unwrap();
    wait_state(&handler, "connected").await;
    remote.wait_connected().await;
    assert_eq!(sent.writers[0].payload_type(), Some(111));
    write_and_check(&mut remote, &sent.writers[0], 0, 5, 111).await;
    handler.close().await;
}

#[tokio::test]
async fn simulcast_arrives_per_rid() {
    let handler = SendHandler::new(loopback()).await.unwrap();
    let mut remote = Remote::new(false).await;
    let rids: Vec<String> = ["r0", "r1", "r2"].map(String::from).into();
    let sent = handler
        .send(MediaKind::Video, vp8_with_rtx(), rids.clone())
        .await
        .unwrap();
    assert!(
        sent.offer_sdp.contains("a=simulcast:send r0;r1;r2"),
        "{}",
        sent.offer_sdp
    );
    for rid in &rids {
        assert!(
            sent.offer_sdp.contains(&format!("a=rid:{rid} send")),
            "{}",
            sent.offer_sdp
        );
    }
    let got: Vec<Option<String>> = sent.writers.iter().map(|w| w.rid()).collect();
    assert_eq!(got, rids.iter().cloned().map(Some).collect::<Vec<_>>());

    eprintln!("simulcast offer:\n{}", sent.offer_sdp);
    connect(&handler, &mut remote, &sent.offer_sdp).await;

    let mut opened: HashMap<u32, Option<String>> = HashMap::new();
    for (i, writer) in sent.writers.iter().enumerate() {
        for n in 0..5u16 {
            writer
                .write(
                    100 * i as u16 + n,
                    90 * u32::from(n),
                    n == 4,
                    Bytes::from(vec![i as u8; 50]),
                )
                .await
                .unwrap();
        }
    }
    let mut counts: HashMap<u32, usize> = HashMap::new();
    tokio::time::timeout(WAIT, async {
        while counts.values().sum::<usize>() < 15 {
            match remote.received.recv().await.unwrap() {
                Received::Open { ssrc, rid } => {
                    opened.insert(ssrc, rid);
                }
                Received::Rtp(p) => {
                    let i = sent
                        .writers
                        .iter()
                        .position(|w| w.ssrc() == p.header.ssrc)
                        .unwrap();
                    assert_eq!(p.payload, Bytes::from(vec![i as u8; 50]));
                    assert_eq!(p.header.sequence_number / 100, i as u16);
                    *counts.entry(p.header.ssrc).or_default() += 1;
                }
                Received::Rtcp(_) => {}
            }
        }
    })
    .await
    .expect("all simulcast packets");
    for writer in &sent.writers {
        assert_eq!(counts[&writer.ssrc()], 5);
        assert_eq!(
            opened.get(&writer.ssrc()),
            Some(&writer.rid()),
            "{opened:?}"
        );
    }

    let stats = handler.sender_stats(&sent.mid).await.unwrap();
    let outbound = entries(&stats, "outbound-rtp");
    assert_eq!(outbound.len(), 3, "{stats:#}");
    for o in outbound {
        let writer = sent.writers.iter().find(|w| o["ssrc"] == w.ssrc()).unwrap();
        assert_eq!(o["rid"], writer.rid().unwrap().as_str());
        assert_eq!(o["packetsSent"], 5);
    }
    handler.close().await;
}

#[tokio::test]
async fn keyframe_requests_reach_the_writer() {
    let handler = SendHandler::new(loopback()).await.unwrap();
    let mut remote = Remote::new(false).await;
    let sent = handler
        .send(MediaKind::Video, vp8_with_rtx(), vec![])
        .await
        .unwrap();
    let writer = sent.writers[0].clone();
    let (tx, mut rx) = mpsc::unbounded_channel();
    writer.on_keyframe_request(Box::new(move || {
        let _ = tx.send(());
    }));
    connect(&handler, &mut remote, &sent.offer_sdp).await;
    write_and_check(&mut remote, &writer, 1, 1, 96).await;

    remote
        .send_rtcp(vec![Box::new(PictureLossIndication {
            sender_ssrc: 0,
            media_ssrc: writer.ssrc(),
        })])
        .await;
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("PLI")
        .unwrap();

    remote
        .send_rtcp(vec![Box::new(FullIntraRequest {
            sender_ssrc: 0,
            media_ssrc: writer.ssrc(),
            fir: vec![FirEntry {
                ssrc: writer.ssrc(),
                sequence_number: 1,
            }],
        })])
        .await;
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("FIR")
        .unwrap();

    let stats = handler.sender_stats(&sent.mid).await.unwrap();
    let outbound = entries(&stats, "outbound-rtp");
    assert_eq!(outbound[0]["pliCount"], 1, "{stats:#}");
    assert_eq!(outbound[0]["firCount"], 1, "{stats:#}");
    handler.close().await;
}

#[tokio::test]
async fn nack_is_answered_over_rtx() {
    let handler = SendHandler::new(loopback()).await.unwrap();
    let mut remote = Remote::new(false).await;
    let sent = handler
        .send(MediaKind::Video, vp8_with_rtx(), vec![])
        .await
        .unwrap();
    let writer = sent.writers[0].clone();
    connect(&handler, &mut remote, &sent.offer_sdp).await;
    write_and_check(&mut remote, &writer, 10, 10, 96).await;

    remote
        .send_rtcp(vec![Box::new(TransportLayerNack {
            sender_ssrc: 0,
            media_ssrc: writer.ssrc(),
            nacks: vec![NackPair {
                packet_id: 13,
                lost_packets: 0b1, // and 14
            }],
        })])
        .await;
    // The answerer de-encapsulates RTX: the retransmissions arrive as the original packets.
    let p = remote.next_rtp(writer.ssrc()).await;
    assert_eq!(p.header.sequence_number, 13);
    assert_eq!(p.payload, Bytes::from(vec![3u8; 13]));
    let p = remote.next_rtp(writer.ssrc()).await;
    assert_eq!(p.header.sequence_number, 14);

    let stats = handler.sender_stats(&sent.mid).await.unwrap();
    let outbound = entries(&stats, "outbound-rtp");
    assert_eq!(outbound[0]["nackCount"], 1, "{stats:#}");
    handler.close().await;
}

/// The id `sdp` gives the header extension `uri`.
fn extmap_id(sdp: &str, uri: &str) -> u8 {
    sdp.lines()
        .filter_map(|l| l.strip_prefix("a=extmap:"))
        .find(|l| l.ends_with(uri))
        .and_then(|l| l.split([' ', '/']).next()?.parse().ok())
        .unwrap_or_else(|| panic!("no extmap for {uri}"))
}

#[tokio::test]
async fn packets_carry_transport_wide_numbers_and_sender_reports_count_them() {
    let handler = SendHandler::new(loopback()).await.unwrap();
    let mut remote = Remote::new(false).await;
    let (audio, video) = audio_then_video(&handler, &mut remote).await;
    let twcc_id = extmap_id(&video.offer_sdp, crate::extensions::TRANSPORT_CC_URI);

    // one counter for the whole transport, whichever stream a packet belongs to
    let mut numbers = Vec::new();
    let mut video_octets = 0;
    for i in 0..6u16 {
        let writer = if i % 2 == 0 {
            &video.writers[0]
        } else {
            &audio.writers[0]
        };
        let payload = Bytes::from(vec![i as u8; 100 + usize::from(i)]);
        if i % 2 == 0 {
            video_octets += payload.len() as u32;
        }
        writer
            .write(10 + i, 3000 * u32::from(i), false, payload)
            .await
            .unwrap();
        let p = remote.next_rtp(writer.ssrc()).await;
        let number = p
            .header
            .get_extension(twcc_id)
            .expect("a transport-wide sequence number");
        numbers.push(u16::from_be_bytes([number[0], number[1]]));
    }
    assert!(
        numbers.windows(2).all(|w| w[1] == w[0].wrapping_add(1)),
        "{numbers:?}"
    );

    let sent_at = Instant::now();
    let report = remote.next_sender_report(video.writers[0].ssrc()).await;
    assert_eq!(report.packet_count, 3, "{report:?}");
    assert_eq!(report.octet_count, video_octets, "{report:?}");
    // the RTP time of the report's wall-clock time: the last timestamp (12,000) plus the
    // time since, at 90 kHz
    let since = sent_at.elapsed().as_secs_f64() * 90_000.0;
    let rtp_time = f64::from(report.rtp_time);
    assert!(
        (12_000.0..=12_000.0 + since + 9_000.0).contains(&rtp_time),
        "{report:?}"
    );
    handler.close().await;
}

#[tokio::test]
async fn stop_sending_keeps_the_others_going() {
    let handler = SendHandler::new(loopback()).await.unwrap();
    let mut remote = Remote::new(false).await;
    let (audio, video) = audio_then_video(&handler, &mut remote).await;
    assert_ne!(audio.mid, video.mid);
    write_and_check(&mut remote, &video.writers[0], 1, 3, 96).await;
    write_and_check(&mut remote, &audio.writers[0], 1, 3, 111).await;

    let offer = handler.stop_sending(&video.mid).await.unwrap();
    assert!(offer.contains("a=mid:1\r\n"), "{offer}");
    assert!(video.writers[0].closed());
    let err = video.writers[0]
        .write(4, 0, false, Bytes::from_static(b"x"))
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::InvalidState(_)));
    // mediasoup-client closes the section in its answer (port 0), as the SDP layer will.
    let answer = close_section(&remote.answer(&offer).await, &video.mid);
    handler.set_remote_answer(answer).await.unwrap();
    write_and_check(&mut remote, &audio.writers[0], 4, 3, 111).await;
    assert!(handler.sender_stats(&video.mid).await.is_err());
    assert!(handler.stop_sending(&video.mid).await.is_err());

    // A new producer after a stop still works.
    let again = handler
        .send(MediaKind::Video, vp8_with_rtx(), vec![])
        .await
        .unwrap();
    // webrtc-rs does not recycle the stopped m-section: it stays in every offer (a=inactive,
    // port 9) and the new transceiver gets a new one.
    assert_eq!(
        (audio.mid.as_str(), video.mid.as_str(), again.mid.as_str()),
        ("0", "1", "2")
    );
    let answer = close_section(&remote.answer(&again.offer_sdp).await, &video.mid);
    handler.set_remote_answer(answer).await.unwrap();
    write_and_check(&mut remote, &again.writers[0], 1, 3, 96).await;
    assert_eq!(handler.connection_state(), "connected");
    handler.close().await;
}

/// `sdp` with the m-section of `mid` rejected (port 0), as mediasoup-client answers for a
/// closed producer.
fn close_section(sdp: &str, mid: &str) -> String {
    let mut sections: Vec<String> = sdp.split("\r\nm=").map(str::to_owned).collect();
    for section in sections.iter_mut().skip(1) {
        if section.contains(&format!("\r\na=mid:{mid}\r\n")) {
            let (kind, rest) = section.split_once(' ').unwrap();
            let (_port, rest) = rest.split_once(' ').unwrap();
            *section = format!("{kind} 0 {rest}");
        }
    }
    sections.join("\r\nm=")
}

/// STUN servers given later are asked at the next ICE restart, and removed ones are not.
#[tokio::test]
async fn ice_servers_can_be_replaced_and_removed() {
    let stun = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    stun.set_read_timeout(Some(WAIT)).unwrap();
    let binding_request = |buf: &[u8]| buf.len() >= 20 && buf[..2] == [0x00, 0x01];
    let mut buf = [0u8; 1500];

    let handler = SendHandler::new(loopback()).await.unwrap();
    handler
        .send(MediaKind::Audio, opus(), vec![])
        .await
        .unwrap();
    handler
        .update_ice_servers(vec![IceServer {
            urls: vec![format!("stun:{}", stun.local_addr().unwrap())],
            ..Default::default()
        }])
        .await
        .unwrap();
    handler.restart_ice_offer().await.unwrap();
    let n = stun
        .recv(&mut buf)
        .expect("a Binding request after the restart");
    assert!(binding_request(&buf[..n]));

    handler.update_ice_servers(vec![]).await.unwrap();
    handler.restart_ice_offer().await.unwrap();
    // the offer is set, and what it gathers already sent (loopback delivers within the send)
    stun.set_nonblocking(true).unwrap();
    assert!(
        stun.recv(&mut buf).is_err(),
        "a STUN request after the servers were removed"
    );
    // Dropped without close(): closes in the background.
    drop(handler);
}

#[tokio::test]
async fn ice_servers_are_validated() {
    let server = |url: &str, username: Option<&str>| IceServer {
        urls: vec![url.into()],
        username: username.map(Into::into),
        credential: username.map(|_| "secret".into()),
    };
    for good in [
        server("stun:127.0.0.1", None),
        server("stun:127.0.0.1:3478", None),
        server("stuns:example.org:5349", None),
        server("turn:127.0.0.1?transport=udp", Some("user")),
        server("turns:example.org:443?transport=tcp", Some("user")),
    ] {
        validate_ice_servers(std::slice::from_ref(&good))
            .unwrap_or_else(|e| panic!("{good:?}: {e}"));
    }
    for bad in [
        server("http://127.0.0.1", None),
        server("stun://127.0.0.1", None),
        server("127.0.0.1:3478", None),
        server("turn:127.0.0.1", None),
        IceServer::default(),
    ] {
        assert!(
            matches!(
                validate_ice_servers(std::slice::from_ref(&bad)),
                Err(HandlerError::InvalidArgument(_))
            ),
            "{bad:?}"
        );
    }
    let handler = SendHandler::new(loopback()).await.unwrap();
    assert!(matches!(
        handler
            .update_ice_servers(vec![server("turn:127.0.0.1", None)])
            .await,
        Err(HandlerError::InvalidArgument(_))
    ));
    // TURN relaying needs webrtc-rs' driver, chosen when the transport is created
    let refused = handler
        .update_ice_servers(vec![server("turn:127.0.0.1", Some("user"))])
        .await;
    assert!(
        matches!(&refused, Err(HandlerError::InvalidArgument(m)) if m.contains("created")),
        "{refused:?}"
    );
    // nothing set yet: an empty list is fine
    handler.update_ice_servers(vec![]).await.unwrap();
    handler.close().await;
    assert!(matches!(
        handler.update_ice_servers(vec![]).await,
        Err(HandlerError::InvalidState(_))
    ));
}

fn ufrag(sdp: &str) -> String {
    sdp.lines()
        .find_map(|l| l.strip_prefix("a=ice-ufrag:"))
        .unwrap()
        .trim()
        .to_owned()
}

#[tokio::test]
async fn ice_restart_reconnects_and_media_continues() {
    let handler = SendHandler::new(loopback()).await.unwrap();
    let (mut remote, sent) = connected_video(&handler).await;
    let writer = &sent.writers[0];
    write_and_check(&mut remote, writer, 1, 3, 96).await;
    let restarts_before = handler.ice_connected_count();

    let t0 = Instant::now();
    let offer = handler.restart_ice_offer().await.unwrap();
    assert_ne!(ufrag(&offer), ufrag(&sent.offer_sdp));
    let answer = remote.answer(&offer).await;
    handler.set_remote_answer(answer).await.unwrap();
    let mut ice = handler.transport.ice_connected();
    tokio::time::timeout(WAIT, ice.wait_for(|n| *n > restarts_before))
        .await
        .expect("ICE connected again")
        .unwrap();
    eprintln!("ICE restart to ICE connected: {:?}", t0.elapsed());
    write_and_check(&mut remote, writer, 4, 5, 96).await;
    assert_eq!(handler.connection_state(), "connected");
    handler.close().await;
}

/// `sdp` with the first byte of its sha-256 fingerprint changed.
fn wrong_fingerprint(sdp: &str) -> String {
    const KEY: &str = "a=fingerprint:sha-256 ";
    let at = sdp.find(KEY).expect("a sha-256 fingerprint") + KEY.len();
    let byte = u8::from_str_radix(&sdp[at..at + 2], 16).unwrap();
    format!(
        "{}{:02X}{}",
        &sdp[..at],
        byte.wrapping_add(1),
        &sdp[at + 2..]
    )
}

/// The handler's connection states, in order, until `last`; fails if that takes longer than
/// `within`.
async fn states_until(
    handler: &SendHandler,
    last: &'static str,
    within: Duration,
) -> Vec<&'static str> {
    let mut rx = handler.subscribe_connection_state();
    let mut seen = vec![*rx.borrow_and_update()];
    tokio::time::timeout(within, async {
        while *seen.last().unwrap() != last {
            rx.changed().await.unwrap();
            seen.push(*rx.borrow_and_update());
        }
    })
    .await
    .unwrap_or_else(|_| panic!("never reached {last}: {seen:?}"));
    seen
}

#[tokio::test]
async fn a_certificate_matching_no_fingerprint_of_the_answer_fails_the_connection() {
    let handler = SendHandler::new(loopback()).await.unwrap();
    let mut remote = Remote::new(false).await;
    let sent = handler
        .send(MediaKind::Audio, opus(), vec![])
        .await
        .unwrap();
    let answer = remote.answer(&sent.offer_sdp).await;
    handler
        .set_remote_answer(wrong_fingerprint(&answer))
        .await
        .unwrap();
    // at once: the alert we send (not the handshake's retransmissions running out, ~8 s)
    let states = states_until(&handler, "failed", Duration::from_secs(2)).await;
    assert!(!states.contains(&"connected"), "{states:?}");
    handler.close().await;
    assert_eq!(handler.connection_state(), "closed");
}

#[tokio::test]
async fn a_peer_refusing_our_certificate_fails_the_connection() {
    let handler = SendHandler::new(loopback()).await.unwrap();
    let mut remote = Remote::new(false).await;
    let sent = handler
        .send(MediaKind::Audio, opus(), vec![])
        .await
        .unwrap();
    // the peer is told another fingerprint than ours: it answers our certificate with a
    // fatal alert
    let answer = remote.answer(&wrong_fingerprint(&sent.offer_sdp)).await;
    handler.set_remote_answer(answer).await.unwrap();
    // at once: the alert received (not the handshake's retransmissions running out, ~8 s)
    let states = states_until(&handler, "failed", Duration::from_secs(2)).await;
    assert!(!states.contains(&"connected"), "{states:?}");
    handler.close().await;
}
