//! Spike: what CPU per packet a driver of our own over webrtc-rs' sans-IO `rtc` core costs,
//! against the real mediasoup worker, next to this project's handler under the same load.
//!
//! N PeerConnections (one mediasoup transport each) with one VP8 SSRC each, PPS packets per
//! second in all of 1,000 bytes written in batches every millisecond, the handler's
//! interceptors (NACK responder, TWCC sender, sender reports). The sans-IO loop is one thread
//! that does everything for every connection: write the due packets into the core, drain its
//! datagrams to the one socket they share, read what came back, run the timers.
//!
//! `cargo run --release -p msc-bench --bin sansio_spike -- [PPS] [SECONDS] [MODE] [N]`
//! MODE: `sansio` (the loop, one `send_to` per datagram), `gso` (the loop, runs of equal
//! datagrams in one `sendmsg` with UDP_SEGMENT), `handler` (the handler, as the addon uses it).
//! Needs node and the mediasoup that scripts/setup-worker.sh builds; run it in a loopback-only
//! namespace. N: connections (default 1). Prints the process's CPU per packet (its threads'
//! schedstat) and what the server counted. What it measured:
//! `docs/performance.md#the-direct-driver`.

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rtc::interceptor::{NackResponderBuilder, Registry, SenderReportBuilder, TwccSenderBuilder};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MediaEngine, MIME_TYPE_VP8};
use rtc::peer_connection::configuration::setting_engine::SettingEngine;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::event::RTCPeerConnectionEvent;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate};
use rtc::peer_connection::RTCPeerConnectionBuilder;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters,
    RTCRtpEncodingParameters, RTCRtpHeaderExtensionCapability, RtpCodecKind,
};
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use serde_json::{json, Value};

#[path = "../../../../src/handler/testdata/mediasoup_signalling.rs"]
mod signalling;
use signalling::{
    answer, connect_and_produce, extmap_id, mediasoup_dir, peer_script, MID_URI, TWCC_URI,
};

/// CPU time of this process's live threads, in ns.
fn process_cpu_ns() -> u64 {
    std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// The node process with the real mediasoup transports.
struct Peer {
    child: std::process::Child,
    to: std::process::ChildStdin,
    from: std::sync::mpsc::Receiver<Value>,
}

impl Peer {
    fn start(transports: usize) -> Self {
        let mut child = Command::new("node")
            .arg(peer_script())
            .env("MEDIASOUP_DIR", mediasoup_dir())
            .env("TRANSPORTS", transports.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node");
        let to = child.stdin.take().unwrap();
        let (tx, from) = std::sync::mpsc::channel::<Value>();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        Self { child, to, from }
    }

    fn send(&mut self, msg: Value) {
        writeln!(self.to, "{msg}").unwrap();
    }

    /// The next message having `key` (others skipped; an error fails).
    fn message(&self, key: &str) -> Value {
        loop {
            let v = self
                .from
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no {key:?} from the mediasoup peer"));
            assert!(v.get("error").is_none(), "{v}");
            if v.get(key).is_some() {
                return v;
            }
        }
    }

    /// `key` of the next message having it.
    fn expect(&self, key: &str) -> Value {
        self.message(key)[key].clone()
    }

    /// Asks the server to connect transport `index` and produce the offer's stream on it.
    fn produce(&mut self, index: usize, offer: &str, mid: &str, ssrc: u32) {
        let mut msg = connect_and_produce(offer, mid, ssrc, None);
        msg["index"] = json!(index);
        self.send(msg);
        self.expect("produced");
    }

    /// Packets the server counted, in all, and how many producers it scores > 0.
    fn counted(&mut self) -> (u64, usize) {
        self.send(json!({ "stats": "all" }));
        let counts = self.message("packets");
        let (packets, scores) = (&counts["packets"], &counts["scores"]);
        let total = packets
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_u64)
            .sum();
        let scored = scores
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s.as_u64().unwrap_or(0) > 0)
            .count();
        (total, scored)
    }

    fn close(mut self) {
        self.send(json!({ "close": true }));
        let _ = self.child.wait();
    }
}

/// Packets `written` so far of `total` per second, `elapsed` into the run.
fn due(elapsed: Duration, per_second: f64) -> u64 {
    (elapsed.as_secs_f64() * per_second) as u64
}

/// The same load through this project's handler (tokio with one worker per core): one
/// RtpWriter per transport, every writer's due packets written every ms from one task.
fn run_handler(transports: &[Value], peer: &mut Peer, pps: u64, seconds: u64) -> (u64, u64) {
    use msc_handler::{HandlerOptions, LocalAddresses, MediaKind, RtpCodecCapability, SendHandler};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut handlers = Vec::new();
        let mut writers = Vec::new();
        for (index, transport) in transports.iter().enumerate() {
            let remote_ips = transport["iceCandidates"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|c| c["address"].as_str()?.parse().ok())
                .collect::<Vec<std::net::IpAddr>>();
            let handler = SendHandler::new(HandlerOptions {
                local_addresses: LocalAddresses::for_remote(remote_ips),
                ..Default::default()
            })
            .await
            .unwrap();
            let cap = RtpCodecCapability {
                kind: MediaKind::Video,
                mime_type: "video/VP8".into(),
                preferred_payload_type: Some(96),
                clock_rate: 90000,
                channels: None,
                parameters: Default::default(),
                rtcp_feedback: vec![],
            };
            let sent = handler
                .send(MediaKind::Video, vec![cap], vec![])
                .await
                .unwrap();
            let offer = &sent.offer_sdp;
            let (mid_id, twcc_id) = (extmap_id(offer, MID_URI), extmap_id(offer, TWCC_URI));
            handler
                .set_remote_answer(answer(transport, &sent.mid, mid_id, twcc_id, false))
                .await
                .unwrap();
            peer.produce(index, offer, &sent.mid, sent.writers[0].ssrc());
            writers.push(sent.writers[0].clone());
            handlers.push(handler);
        }
        for handler in &handlers {
            let mut state = handler.subscribe_connection_state();
            state.wait_for(|s| *s == "connected").await.unwrap();
        }
        let per_writer = pps as f64 / writers.len() as f64;
        let at = Instant::now();
        let payload = Bytes::from(vec![0x10u8; 1000]);
        let mut written = vec![0u64; writers.len()];
        let (mut cpu0, mut written0) = (0u64, 0u64);
        loop {
            let elapsed = at.elapsed();
            if cpu0 == 0 && elapsed >= Duration::from_secs(2) {
                cpu0 = process_cpu_ns();
                written0 = written.iter().sum();
            }
            if elapsed >= Duration::from_secs(2 + seconds) {
                break;
            }
            let due = due(elapsed, per_writer);
            for (writer, n) in writers.iter().zip(written.iter_mut()) {
                while *n < due {
                    let packet = (*n as u16, (*n / 4) as u32 * 3000, *n % 4 == 3);
                    let _ = writer
                        .write(packet.0, packet.1, packet.2, payload.clone())
                        .await;
                    *n += 1;
                }
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let result = (
            process_cpu_ns() - cpu0,
            written.iter().sum::<u64>() - written0,
        );
        for handler in handlers {
            handler.close().await;
        }
        result
    })
}

/// One connection of the sans-IO loop.
struct Conn {
    pc: rtc::peer_connection::RTCPeerConnection,
    sender_id: rtc::rtp_transceiver::RTCRtpSenderId,
    ssrc: u32,
    connected: bool,
    /// the core's next deadline, or a datagram came: the connection has work
    next_timeout: Option<Instant>,
    woken: bool,
    written: u64,
    seq: u16,
}

impl Conn {
    fn new(index: usize, transport: &Value, peer: &mut Peer, local: std::net::SocketAddr) -> Self {
        let mut engine = MediaEngine::default();
        let fb = |t: &str, p: &str| RTCPFeedback {
            typ: t.into(),
            parameter: p.into(),
        };
        let vp8 = RTCRtpCodec {
            mime_type: MIME_TYPE_VP8.into(),
            clock_rate: 90000,
            channels: 0,
            sdp_fmtp_line: String::new(),
            rtcp_feedback: vec![fb("transport-cc", ""), fb("nack", ""), fb("nack", "pli")],
        };
        engine
            .register_codec(
                RTCRtpCodecParameters {
                    rtp_codec: vp8.clone(),
                    payload_type: 96,
                },
                RtpCodecKind::Video,
            )
            .unwrap();
        for uri in [MID_URI, TWCC_URI] {
            engine
                .register_header_extension(
                    RTCRtpHeaderExtensionCapability { uri: uri.into() },
                    RtpCodecKind::Video,
                    None,
                )
                .unwrap();
        }
        let registry = Registry::new()
            .with(
                rtc::interceptor::Slot::NackResponder,
                NackResponderBuilder::new().with_size(256).build(),
            )
            .with(
                rtc::interceptor::Slot::TwccSender,
                TwccSenderBuilder::new().build(),
            )
            .with(
                rtc::interceptor::Slot::SenderReport,
                SenderReportBuilder::new().build(),
            );
        let mut pc = RTCPeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_setting_engine(SettingEngine::default())
            .with_media_engine(engine)
            .with_interceptor_registry(registry)
            .build(Instant::now())
            .unwrap();
        let ssrc = 0x1000_0000 + index as u32;
        let track = MediaStreamTrack::new(
            format!("stream{index}"),
            format!("track{index}"),
            "label".into(),
            RtpCodecKind::Video,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                codec: vp8,
                ..Default::default()
            }],
        );
        let sender_id = pc.add_track(track).unwrap();
        let candidate = CandidateHostConfig {
            base_config: CandidateConfig {
                network: "udp".into(),
                address: local.ip().to_string(),
                port: local.port(),
                component: 1,
                ..Default::default()
            },
            ..Default::default()
        }
        .new_candidate_host()
        .unwrap();
        pc.add_local_candidate(RTCIceCandidate::from(&candidate).to_json().unwrap())
            .unwrap();
        let offer = pc.create_offer(None).unwrap();
        pc.set_local_description(Instant::now(), offer.clone())
            .unwrap();
        let offer_sdp = offer.sdp.clone();
        let mid = offer_sdp
            .lines()
            .find_map(|l| l.strip_prefix("a=mid:"))
            .unwrap()
            .trim()
            .to_owned();
        let (mid_id, twcc_id) = (
            extmap_id(&offer_sdp, MID_URI),
            extmap_id(&offer_sdp, TWCC_URI),
        );
        let answer_sdp = answer(transport, &mid, mid_id, twcc_id, false);
        pc.set_remote_description(
            Instant::now(),
            RTCSessionDescription::answer(answer_sdp).unwrap(),
        )
        .unwrap();
        peer.produce(index, &offer_sdp, &mid, ssrc);
        Self {
            pc,
            sender_id,
            ssrc,
            connected: false,
            next_timeout: Some(Instant::now()),
            woken: true,
            written: 0,
            seq: 0,
        }
    }

    /// Hands a datagram from the server to the core.
    fn deliver(
        &mut self,
        now: Instant,
        local: std::net::SocketAddr,
        peer: std::net::SocketAddr,
        data: &[u8],
    ) {
        let _ = self.pc.handle_read(TaggedBytesMut {
            now,
            transport: TransportContext {
                local_addr: local,
                peer_addr: peer,
                ecn: None,
                transport_protocol: TransportProtocol::UDP,
            },
            message: BytesMut::from(data),
        });
        self.woken = true;
    }

    /// Whether `turn` has anything to do: a datagram came, a timer is due or packets are.
    fn has_work(&self, now: Instant, due: Option<u64>) -> bool {
        self.woken
            || self.next_timeout.is_some_and(|t| t <= now)
            || due.is_some_and(|d| d > self.written)
    }

    /// Runs the timers, writes the packets due, flushes to `wire`.
    fn turn(&mut self, now: Instant, due: Option<u64>, payload: &Bytes, wire: &mut Wire) {
        while let Some(ev) = self.pc.poll_event() {
            if let RTCPeerConnectionEvent::OnConnectionStateChangeEvent(s) = ev {
                self.connected = s == RTCPeerConnectionState::Connected;
            }
        }
        while self.pc.poll_read().is_some() {}
        if self.pc.poll_timeout().is_some_and(|t| t <= now) {
            let _ = self.pc.handle_timeout(now);
        }
        if let (Some(due), Some(mut sender)) = (due, self.pc.rtp_sender(self.sender_id)) {
            while self.written < due {
                let n = self.written;
                let packet = rtp::Packet {
                    header: rtp::header::Header {
                        version: 2,
                        payload_type: 96,
                        sequence_number: self.seq,
                        timestamp: (n / 4) as u32 * 3000,
                        ssrc: self.ssrc,
                        marker: n % 4 == 3,
                        ..Default::default()
                    },
                    payload: payload.clone(),
                };
                self.seq = self.seq.wrapping_add(1);
                self.written += 1;
                let _ = sender.write_rtp(now, packet);
            }
        }
        let writes: Vec<_> = std::iter::from_fn(|| self.pc.poll_write()).collect();
        wire.send(&writes);
        self.woken = false;
        self.next_timeout = self.pc.poll_timeout();
    }
}

/// The one UDP socket every connection of the loop shares (each server transport has its own
/// port, so what comes back is told apart by its source).
struct Wire {
    socket: UdpSocket,
    local: std::net::SocketAddr,
    gso: Option<quinn_udp::UdpSocketState>,
    gso_buf: Vec<u8>,
}

impl Wire {
    fn new(gso: bool) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let local = socket.local_addr().unwrap();
        let gso = gso.then(|| quinn_udp::UdpSocketState::new((&socket).into()).unwrap());
        Self {
            socket,
            local,
            gso,
            gso_buf: Vec::with_capacity(64 * 1500),
        }
    }

    fn send(&mut self, writes: &[TaggedBytesMut]) {
        let Some(state) = &self.gso else {
            for w in writes {
                let _ = self.socket.send_to(&w.message, w.transport.peer_addr);
            }
            return;
        };
        // runs of equal datagrams to one peer (the last may be shorter) in one sendmsg
        let mut i = 0;
        while i < writes.len() {
            let seg = writes[i].message.len();
            let peer = writes[i].transport.peer_addr;
            let mut end = i + 1;
            while end < writes.len()
                && end - i < state.max_gso_segments().min(64)
                && writes[end].transport.peer_addr == peer
                && writes[end].message.len() <= seg
            {
                end += 1;
                if writes[end - 1].message.len() < seg {
                    break;
                }
            }
            self.gso_buf.clear();
            for w in &writes[i..end] {
                self.gso_buf.extend_from_slice(&w.message);
            }
            let _ = state.try_send(
                (&self.socket).into(),
                &quinn_udp::Transmit {
                    destination: peer,
                    ecn: None,
                    contents: &self.gso_buf,
                    segment_size: Some(seg),
                    src_ip: None,
                },
            );
            i = end;
        }
    }
}

/// The sans-IO loop over every connection, on this thread.
fn run_sansio(
    transports: &[Value],
    peer: &mut Peer,
    pps: u64,
    seconds: u64,
    gso: bool,
) -> (u64, u64) {
    let mut wire = Wire::new(gso);
    let mut conns: Vec<Conn> = transports
        .iter()
        .enumerate()
        .map(|(i, t)| Conn::new(i, t, peer, wire.local))
        .collect();
    // which connection a datagram is for: its source, a server transport's candidate
    let by_source: std::collections::HashMap<std::net::SocketAddr, usize> = transports
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            t["iceCandidates"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|c| {
                    format!("{}:{}", c["address"].as_str()?, c["port"])
                        .parse()
                        .ok()
                })
                .map(move |addr| (addr, i))
                .collect::<Vec<_>>()
        })
        .collect();
    let per_conn = pps as f64 / conns.len() as f64;
    let payload = Bytes::from(vec![0x10u8; 1000]);
    let mut buf = vec![0u8; 2048];
    let start = Instant::now();
    let mut all_connected: Option<Instant> = None;
    let (mut cpu0, mut written0) = (0u64, 0u64);
    loop {
        let now = Instant::now();
        while let Ok((n, source)) = wire.socket.recv_from(&mut buf) {
            if let Some(&i) = by_source.get(&source) {
                conns[i].deliver(now, wire.local, source, &buf[..n]);
            }
        }
        let due = all_connected.map(|at| due(now - at, per_conn));
        for conn in conns.iter_mut().filter(|c| c.has_work(now, due)) {
            conn.turn(now, due, &payload, &mut wire);
        }
        if all_connected.is_none() && conns.iter().all(|c| c.connected) {
            eprintln!("all connected after {:?}", start.elapsed());
            all_connected = Some(Instant::now());
        }
        if let Some(at) = all_connected {
            let elapsed = now - at;
            if cpu0 == 0 && elapsed >= Duration::from_secs(2) {
                cpu0 = process_cpu_ns();
                written0 = conns.iter().map(|c| c.written).sum();
            }
            if elapsed >= Duration::from_secs(2 + seconds) {
                break;
            }
        } else if start.elapsed() > Duration::from_secs(60) {
            panic!("not connected");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    (
        process_cpu_ns() - cpu0,
        conns.iter().map(|c| c.written).sum::<u64>() - written0,
    )
}

fn main() {
    // The signalling helpers find their node script and the worker's version under msc-handler's
    // directory, which they read from CARGO_MANIFEST_DIR (else `src/handler`, from the root).
    if let Ok(dir) = std::env::var("CARGO_MANIFEST_DIR") {
        std::env::set_var("CARGO_MANIFEST_DIR", format!("{dir}/../../src/handler"));
    }
    let args: Vec<String> = std::env::args().collect();
    let pps: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(12_000);
    let seconds: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10);
    let mode = args.get(3).map(String::as_str).unwrap_or("sansio");
    let n: usize = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(1);
    let mut peer = Peer::start(n);
    let first = peer.expect("transport");
    let transports = if n > 1 {
        peer.expect("transports").as_array().unwrap().clone()
    } else {
        vec![first]
    };
    let (cpu, packets) = match mode {
        "handler" => run_handler(&transports, &mut peer, pps, seconds),
        "gso" => run_sansio(&transports, &mut peer, pps, seconds, true),
        _ => run_sansio(&transports, &mut peer, pps, seconds, false),
    };
    let (server_packets, scored) = peer.counted();
    println!(
        "{}",
        json!({
            "mode": mode, "connections": n, "pps": pps, "packets": packets,
            "cpuNsPerPacket": (cpu as f64 / packets as f64).round(),
            "cpuShare": cpu as f64 / 1e9 / seconds as f64,
            "serverPackets": server_packets, "serverScored": scored,
        })
    );
    peer.close();
}
