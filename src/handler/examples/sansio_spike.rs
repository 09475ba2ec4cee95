//! Spike: what CPU per packet a driver of our own over webrtc-rs' sans-IO `rtc` core would cost,
//! against the real mediasoup worker, next to this project's handler (webrtc-rs' async
//! PeerConnection and its driver task) under the same load.
//!
//! One PeerConnection, one VP8 SSRC, PPS packets per second of 1,000 bytes written in batches
//! every millisecond, the handler's interceptors (NACK responder, TWCC sender, sender reports).
//! The sans-IO loop is one thread that does everything: write the due packets into the core,
//! drain its datagrams to the socket, read what came back, run the timers.
//!
//! `cargo run --release -p msc-handler --example sansio_spike -- [PPS] [SECONDS] [MODE]`
//! MODE: none (sans-IO loop, one `send_to` per datagram), `gso` (sans-IO loop, runs of equal
//! datagrams in one `sendmsg` with UDP_SEGMENT), `webrtc` (the handler, as the addon uses it).
//! Needs node and the mediasoup that scripts/setup-worker.sh builds; run it in a loopback-only
//! namespace. Prints the process's CPU per packet (its threads' schedstat) and what the server
//! counted.
//!
//! Measured on the 2-core VM (2026-11-24, 12,000 packets/s, two runs each): the handler 12.9
//! and 13.4 µs per packet, the sans-IO loop 5.5 and 5.9 µs, with GSO 5.2 and 5.6 µs.

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

#[path = "../testdata/mediasoup_signalling.rs"]
mod signalling;
use signalling::{answer, connect_and_produce, extmap_id, MID_URI, TWCC_URI};

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

/// The same load through this project's handler (webrtc-rs' async PeerConnection and its
/// driver task, tokio with one worker per core): one RtpWriter, packets written every ms.
fn run_webrtc(
    transport: &Value,
    to_peer: &mut std::process::ChildStdin,
    expect: &dyn Fn(&str) -> Value,
    pps: u64,
    seconds: u64,
) -> (u64, u64) {
    use msc_handler::{HandlerOptions, LocalAddresses, MediaKind, RtpCodecCapability, SendHandler};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
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
        let writer = sent.writers[0].clone();
        let offer = &sent.offer_sdp;
        let mid_id = extmap_id(offer, MID_URI);
        let twcc_id = extmap_id(offer, TWCC_URI);
        handler
            .set_remote_answer(answer(transport, &sent.mid, mid_id, twcc_id, false))
            .await
            .unwrap();
        let msg = connect_and_produce(offer, &sent.mid, writer.ssrc(), None);
        writeln!(to_peer, "{msg}").unwrap();
        expect("produced");
        let mut state = handler.subscribe_connection_state();
        state.wait_for(|s| *s == "connected").await.unwrap();
        let at = Instant::now();
        let payload = Bytes::from(vec![0x10u8; 1000]);
        let (mut written, mut cpu0, mut written0) = (0u64, 0u64, 0u64);
        loop {
            let elapsed = at.elapsed();
            if cpu0 == 0 && elapsed >= Duration::from_secs(2) {
                cpu0 = process_cpu_ns();
                written0 = written;
            }
            if elapsed >= Duration::from_secs(2 + seconds) {
                break;
            }
            let due = (elapsed.as_secs_f64() * pps as f64) as u64;
            while written < due {
                let _ = writer
                    .write(
                        written as u16,
                        (written / 4) as u32 * 3000,
                        written % 4 == 3,
                        payload.clone(),
                    )
                    .await;
                written += 1;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let result = (process_cpu_ns() - cpu0, written - written0);
        handler.close().await;
        result
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pps: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(12_000);
    let seconds: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10);
    let dir = std::env::var("MEDIASOUP_DIR").unwrap_or_else(|_| {
        format!(
            "{}/.cache/mediasoup-client-native/mediasoup-3.19.3",
            std::env::var("HOME").unwrap()
        )
    });
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| "src/handler".into());
    let mut child = Command::new("node")
        .arg(format!("{manifest_dir}/testdata/mediasoup_peer.mjs"))
        .env("MEDIASOUP_DIR", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node");
    let mut to_peer = child.stdin.take().unwrap();
    let (tx, from_peer) = std::sync::mpsc::channel::<Value>();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let _ = tx.send(v);
            }
        }
    });
    let expect = |key: &str| loop {
        let v = from_peer
            .recv_timeout(Duration::from_secs(20))
            .expect("peer");
        assert!(v.get("error").is_none(), "{v}");
        if let Some(x) = v.get(key) {
            return x.clone();
        }
    };
    let transport = expect("transport");
    if args.get(3).map(String::as_str) == Some("webrtc") {
        let (cpu, packets) = run_webrtc(&transport, &mut to_peer, &expect, pps, seconds);
        writeln!(to_peer, "{}", json!({ "stats": true })).unwrap();
        let stats = expect("stats");
        println!(
            "{{\"driver\":\"webrtc-rs\",\"pps\":{pps},\"packets\":{packets},\"cpuNsPerPacket\":{:.0},\"serverPacketCount\":{},\"serverScore\":{}}}",
            cpu as f64 / packets as f64,
            stats[0]["packetCount"],
            stats[0]["score"],
        );
        let _ = writeln!(to_peer, "{}", json!({ "close": true }));
        let _ = child.wait();
        return;
    }

    // the handler's codecs, extensions and interceptors, for one VP8 stream
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

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_nonblocking(true).unwrap();
    let local = socket.local_addr().unwrap();
    let ssrc: u32 = 0x1234_5678;
    let track = MediaStreamTrack::new(
        "stream".into(),
        "track".into(),
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
    let mid_id = extmap_id(&offer_sdp, MID_URI);
    let twcc_id = extmap_id(&offer_sdp, TWCC_URI);
    let answer_sdp = answer(&transport, &mid, mid_id, twcc_id, false);
    pc.set_remote_description(
        Instant::now(),
        RTCSessionDescription::answer(answer_sdp).unwrap(),
    )
    .unwrap();
    let msg = connect_and_produce(&offer_sdp, &mid, ssrc, None);
    writeln!(to_peer, "{msg}").unwrap();
    expect("produced");

    let gso = (args.get(3).map(String::as_str) == Some("gso"))
        .then(|| quinn_udp::UdpSocketState::new((&socket).into()).unwrap());
    let mut gso_buf = Vec::with_capacity(64 * 1500);
    let mut buf = vec![0u8; 2048];
    let payload = Bytes::from(vec![0x10u8; 1000]);
    let mut connected: Option<Instant> = None;
    let mut seq: u16 = 0;
    let mut written: u64 = 0;
    let mut sent_datagrams: u64 = 0;
    let mut cpu_at_start = 0;
    let mut written_at_start = 0;
    let start = Instant::now();
    loop {
        let now = Instant::now();
        // read everything that came
        while let Ok((n, peer)) = socket.recv_from(&mut buf) {
            let _ = pc.handle_read(TaggedBytesMut {
                now,
                transport: TransportContext {
                    local_addr: local,
                    peer_addr: peer,
                    ecn: None,
                    transport_protocol: TransportProtocol::UDP,
                },
                message: BytesMut::from(&buf[..n]),
            });
        }
        while let Some(ev) = pc.poll_event() {
            if let RTCPeerConnectionEvent::OnConnectionStateChangeEvent(s) = ev {
                if s == RTCPeerConnectionState::Connected && connected.is_none() {
                    eprintln!("connected after {:?}", start.elapsed());
                    connected = Some(Instant::now());
                }
            }
        }
        while pc.poll_read().is_some() {}
        if pc.poll_timeout().is_some_and(|t| t <= now) {
            let _ = pc.handle_timeout(now);
        }
        // write the packets due (after a 2 s warm-up, measured for `seconds`)
        if let Some(at) = connected {
            let elapsed = now - at;
            let due = (elapsed.as_secs_f64() * pps as f64) as u64;
            if cpu_at_start == 0 && elapsed >= Duration::from_secs(2) {
                cpu_at_start = process_cpu_ns();
                written_at_start = written;
            }
            if elapsed >= Duration::from_secs(2 + seconds) {
                break;
            }
            if let Some(mut sender) = pc.rtp_sender(sender_id) {
                while written < due {
                    let packet = rtp::Packet {
                        header: rtp::header::Header {
                            version: 2,
                            payload_type: 96,
                            sequence_number: seq,
                            timestamp: (written / 4) as u32 * 3000,
                            ssrc,
                            marker: written % 4 == 3,
                            ..Default::default()
                        },
                        payload: payload.clone(),
                    };
                    seq = seq.wrapping_add(1);
                    written += 1;
                    let _ = sender.write_rtp(now, packet);
                }
            }
        }
        if let Some(state) = &gso {
            // runs of equal datagrams to one peer (the last may be shorter) in one sendmsg
            let writes: Vec<_> = std::iter::from_fn(|| pc.poll_write()).collect();
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
                gso_buf.clear();
                for w in &writes[i..end] {
                    gso_buf.extend_from_slice(&w.message);
                }
                let _ = state.try_send(
                    (&socket).into(),
                    &quinn_udp::Transmit {
                        destination: peer,
                        ecn: None,
                        contents: &gso_buf,
                        segment_size: Some(seg),
                        src_ip: None,
                    },
                );
                sent_datagrams += (end - i) as u64;
                i = end;
            }
        } else {
            while let Some(msg) = pc.poll_write() {
                let _ = socket.send_to(&msg.message, msg.transport.peer_addr);
                sent_datagrams += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(1));
        if start.elapsed() > Duration::from_secs(40) {
            panic!("not connected");
        }
    }
    let cpu = process_cpu_ns() - cpu_at_start;
    let packets = written - written_at_start;
    writeln!(to_peer, "{}", json!({ "stats": true })).unwrap();
    let stats = expect("stats");
    println!(
        "{{\"driver\":\"sans-IO\",\"gso\":{},\"pps\":{pps},\"packets\":{packets},\"cpuNsPerPacket\":{:.0},\"cpuShare\":{:.3},\"datagrams\":{sent_datagrams},\"serverPacketCount\":{},\"serverScore\":{},\"serverLost\":{}}}",
        gso.is_some(),
        cpu as f64 / packets as f64,
        cpu as f64 / 1e9 / seconds as f64,
        stats[0]["packetCount"],
        stats[0]["score"],
        stats[0]["packetsLost"]
    );
    let _ = writeln!(to_peer, "{}", json!({ "close": true }));
    let _ = child.wait();
}
