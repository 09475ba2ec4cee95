//! Against a real mediasoup worker: `cargo test -p msc-handler -- --ignored mediasoup`
//! (needs `node`; MEDIASOUP_DIR defaults to the one `scripts/setup-worker.sh` builds in the cache).
//!
//! The answer is written by hand from the transport's ICE-lite/DTLS parameters
//! (`testdata/mediasoup_signalling.rs`); the real answer builder is the SDP layer's.

use std::process::Stdio;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{ChildStdin, ChildStdout, Command};

use super::*;

#[path = "testdata/mediasoup_signalling.rs"]
mod signalling;
use signalling::{answer, connect_and_produce, extmap_id, mediasoup_dir, peer_script};

const WAIT: Duration = Duration::from_secs(20);

struct Peer {
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Peer {
    async fn send(&mut self, msg: Value) {
        let line = format!("{msg}\n");
        self.stdin.write_all(line.as_bytes()).await.unwrap();
    }

    /// The next message having `key`, skipping others (but failing on `error`).
    async fn expect(&mut self, key: &str) -> Value {
        tokio::time::timeout(WAIT, async {
            loop {
                let line = self.lines.next_line().await.unwrap().expect("node exited");
                let msg: Value = serde_json::from_str(&line).unwrap();
                assert!(msg.get("error").is_none(), "mediasoup: {msg}");
                if let Some(v) = msg.get(key) {
                    return v.clone();
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {key:?} from mediasoup"))
    }
}

/// A VP8 keyframe-looking payload: payload descriptor (S=1), then a key frame header.
fn vp8_payload(n: u8) -> Bytes {
    let mut p = vec![
        0x10, 0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00,
    ];
    p.extend(std::iter::repeat_n(n, 100));
    Bytes::from(p)
}

#[tokio::test]
#[ignore = "needs node and a built mediasoup (MEDIASOUP_DIR)"]
async fn mediasoup_accepts_our_media() {
    let mut child = Command::new("node")
        .arg(peer_script())
        .env("MEDIASOUP_DIR", mediasoup_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node");
    let mut peer = Peer {
        stdin: child.stdin.take().unwrap(),
        lines: BufReader::new(child.stdout.take().unwrap()).lines(),
    };
    let transport = peer.expect("transport").await;

    let remote_ips = transport["iceCandidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["address"].as_str()?.parse().ok());
    let handler = SendHandler::new(HandlerOptions {
        local_addresses: LocalAddresses::for_remote(remote_ips),
        ..Default::default()
    })
    .await
    .unwrap();
    let sent = handler
        .send(
            MediaKind::Video,
            vec![
                tests_support::cap(MediaKind::Video, "video/VP8", 96, 90000),
                tests_support::cap(MediaKind::Video, "video/rtx", 97, 90000),
            ],
            vec![],
        )
        .await
        .unwrap();
    let writer = sent.writers[0].clone();
    let (tx, mut keyframes) = tokio::sync::mpsc::unbounded_channel();
    writer.on_keyframe_request(Box::new(move || {
        let _ = tx.send(());
    }));
    let offer = &sent.offer_sdp;
    let mid_id = extmap_id(offer, crate::extensions::MID_URI);
    let twcc_id = extmap_id(offer, crate::extensions::TRANSPORT_CC_URI);

    let t0 = Instant::now();
    handler
        .set_remote_answer(answer(&transport, &sent.mid, mid_id, twcc_id, true))
        .await
        .unwrap();
    peer.send(connect_and_produce(
        offer,
        &sent.mid,
        writer.ssrc(),
        writer.rtx_ssrc(),
    ))
    .await;
    peer.expect("produced").await;
    let mut state = handler.subscribe_connection_state();
    tokio::time::timeout(WAIT, state.wait_for(|s| *s == "connected"))
        .await
        .expect("connected to mediasoup")
        .unwrap();
    eprintln!("answer to connected (mediasoup): {:?}", t0.elapsed());
    // The server reports `connecting` first, unless it came before `produced` (`expect`
    // skips other messages): its DTLS must reach `connected`, through nothing else.
    loop {
        match peer.expect("dtls").await.as_str() {
            Some("connected") => break,
            Some("connecting") => continue,
            other => panic!("server DTLS state {other:?}"),
        }
    }

    for n in 0..50u16 {
        writer
            .write(1000 + n, 3000 * u32::from(n), true, vp8_payload(n as u8))
            .await
            .unwrap();
    }
    // mediasoup asks for a keyframe when a producer appears (and when a consumer joins); with
    // no consumer it may not: wait briefly but do not require it.
    let got_keyframe_request = tokio::time::timeout(Duration::from_secs(1), keyframes.recv())
        .await
        .is_ok();
    eprintln!("keyframe request from mediasoup: {got_keyframe_request}");

    let stats = tokio::time::timeout(WAIT, async {
        loop {
            peer.send(json!({ "stats": true })).await;
            let stats = peer.expect("stats").await;
            let count = stats[0]["packetCount"].as_u64().unwrap_or(0);
            if count >= 50 {
                return stats;
            }
        }
    })
    .await
    .expect("mediasoup counted our packets");
    eprintln!("mediasoup producer stats: {stats:#}");
    assert_eq!(stats[0]["ssrc"], writer.ssrc());
    assert_eq!(stats[0]["mimeType"], "video/VP8");

    let ours = handler.sender_stats(&sent.mid).await.unwrap();
    eprintln!("our sender stats: {ours:#}");
    peer.send(json!({ "close": true })).await;
    handler.close().await;
    let _ = child.wait().await;
}

mod tests_support {
    use super::*;

    pub(super) fn cap(kind: MediaKind, mime: &str, pt: u8, clock_rate: u32) -> RtpCodecCapability {
        RtpCodecCapability {
            kind,
            mime_type: mime.to_owned(),
            preferred_payload_type: Some(pt),
            clock_rate,
            channels: None,
            parameters: Default::default(),
            rtcp_feedback: vec![],
        }
    }
}
