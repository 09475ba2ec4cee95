use super::*;
use crate::{RtpChunk, RtpSink};
use msc_ortc::RtpCodecParameters;
use std::time::Duration;
use tokio::net::UdpSocket;

fn rtp(marker: bool, pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, (u8::from(marker) << 7) | pt];
    p.extend(seq.to_be_bytes());
    p.extend(ts.to_be_bytes());
    p.extend(ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

#[test]
fn parses_rtp_with_csrcs_extension_and_padding() {
    let mut p = rtp(true, 96, 7, 9000, 0xdead_beef, &[]);
    p[0] |= 0x30 | 2; // padding, extension, 2 CSRCs
    p.extend([0u8; 8]); // CSRCs
    p.extend([0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0]); // one-byte extension, 1 word
    p.extend([1, 2, 3]);
    p.extend([0, 0, 3]); // 3 bytes of padding
    let Datagram::Rtp(h) = parse(&p).unwrap() else {
        panic!("rtp")
    };
    assert!(h.marker);
    assert_eq!(
        (h.payload_type, h.seq, h.timestamp, h.ssrc),
        (96, 7, 9000, 0xdead_beef)
    );
    assert_eq!(&p[h.start..h.end], &[1, 2, 3]);

    // RTCP sender report multiplexed on the port
    assert_eq!(
        parse(&[0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0]).unwrap(),
        Datagram::Rtcp
    );
    assert!(parse(&[0x80; 7]).unwrap_err().contains("too short"));
    assert!(parse(&[0x80; 11])
        .unwrap_err()
        .contains("too short for RTP"));
    assert!(parse(&[0x40; 12]).unwrap_err().contains("version 1"));
    let mut bad = rtp(false, 96, 1, 1, 1, &[1]);
    bad[0] |= 0x20;
    *bad.last_mut().unwrap() = 200;
    assert!(parse(&bad).unwrap_err().contains("padding"));
}

#[test]
fn a_pli_names_both_ssrcs() {
    assert_eq!(
        pli(1, 0x0102_0304),
        [0x81, 206, 0, 2, 0, 0, 0, 1, 1, 2, 3, 4]
    );
}

#[test]
fn restamping_keeps_a_sender_s_spacing_and_continues_across_restarts() {
    let t0 = Instant::now();
    let ms = |n: u64| t0 + Duration::from_millis(n);
    let mut r = Restamper::new(90_000);
    // the first sender: its own spacing, from 0
    assert_eq!(r.restamp(5, 100, 1_000_000, ms(0)), (0, true));
    assert_eq!(r.restamp(5, 101, 1_000_000, ms(0)), (0, false));
    assert_eq!(r.restamp(5, 102, 1_003_000, ms(33)), (3000, false));
    // a reordered packet keeps its place
    assert_eq!(r.restamp(5, 101, 1_000_000, ms(34)), (0, false));
    // a gap with loss (seq + 50) is the same sender
    assert_eq!(r.restamp(5, 152, 1_093_000, ms(1033)), (93_000, false));
    // a new SSRC 500 ms later starts 500 ms (45000 ticks) after the last packet
    assert_eq!(r.restamp(9, 7, 42, ms(1533)), (93_000 + 45_000, true));
    assert_eq!(
        r.restamp(9, 8, 3042, ms(1566)),
        (93_000 + 45_000 + 3000, false)
    );
    // the same SSRC restarting: sequence numbers start again far away
    let (ts, new) = r.restamp(9, 30_000, 3042, ms(2566));
    assert!(new);
    assert_eq!(ts, 93_000 + 45_000 + 3000 + 90_000);
    // ... or the same sequence numbers but a timestamp 20 s off
    let (_, new) = r.restamp(9, 30_001, 3042 + 20 * 90_000, ms(2600));
    assert!(new);
}

#[test]
fn restamping_wraps_around() {
    let t0 = Instant::now();
    let mut r = Restamper::new(48_000);
    assert_eq!(r.restamp(1, 65_535, u32::MAX - 479, t0), (0, true));
    let (ts, new) = r.restamp(1, 0, 480, t0 + Duration::from_millis(20));
    assert!(
        !new,
        "sequence number and timestamp wrap-around is the same sender"
    );
    assert_eq!(ts, 960);
}

#[derive(Default)]
struct Sink {
    sent: std::sync::Mutex<Vec<RtpChunk>>,
    arrived: Notify,
}

impl RtpSink for Sink {
    fn send(&self, _layer: usize, chunk: RtpChunk) {
        self.sent.lock().unwrap().push(chunk);
        self.arrived.notify_one();
    }
}

impl Sink {
    async fn wait_for(&self, n: usize) -> Vec<RtpChunk> {
        tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                if self.sent.lock().unwrap().len() >= n {
                    return self.sent.lock().unwrap().clone();
                }
                self.arrived.notified().await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{n} packets forwarded in time"))
    }
}

fn vp8() -> RtpCodecParameters {
    RtpCodecParameters {
        mime_type: "video/VP8".into(),
        payload_type: 100,
        clock_rate: 90_000,
        channels: None,
        parameters: Default::default(),
        rtcp_feedback: vec![],
    }
}

fn options(port: u16, rtcp_port: Option<u16>) -> RtpIngestOptions {
    RtpIngestOptions {
        kind: MediaKind::Video,
        mime_type: "video/VP8".into(),
        address: "127.0.0.1".parse().unwrap(),
        port,
        rtcp_port,
    }
}

async fn recv_pli(socket: &UdpSocket) -> [u8; 12] {
    let mut buf = [0u8; 64];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
        .await
        .expect("a PLI in time")
        .unwrap();
    assert_eq!(n, 12);
    buf[..12].try_into().unwrap()
}

#[tokio::test]
async fn forwards_payloads_survives_a_restart_and_passes_keyframe_requests_back() {
    let (ingest, task) = RtpIngest::bind(options(0, None)).unwrap();
    let task = tokio::spawn(task);
    let port = ingest.local_addr().port();
    assert_ne!(port, 0);
    let track = ingest.track();
    assert_eq!(track.codec(), Some("video/VP8"));

    let tool = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let to = ingest.local_addr();
    // before a producer uses the track: dropped
    tool.send_to(&rtp(true, 96, 1, 1, 77, &[0x10, 1]), to)
        .await
        .unwrap();
    let sink = Arc::new(Sink::default());
    tokio::time::timeout(Duration::from_secs(5), async {
        while ingest.stats().packets_dropped == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    track.attach(sink.clone(), &vp8(), 1).unwrap();

    tool.send_to(&rtp(false, 96, 2, 9000, 77, &[0x10, 2]), to)
        .await
        .unwrap();
    tool.send_to(&rtp(true, 96, 3, 9000, 77, &[0x00, 3]), to)
        .await
        .unwrap();
    tool.send_to(&rtp(true, 96, 4, 12_000, 77, &[0x00, 4]), to)
        .await
        .unwrap();
    let sent = sink.wait_for(3).await;
    assert_eq!(
        sent.iter()
            .map(|c| (c.payload.to_vec(), c.marker))
            .collect::<Vec<_>>(),
        [
            (vec![0x10, 2], false),
            (vec![0x00, 3], true),
            (vec![0x00, 4], true)
        ]
    );
    assert_eq!(sent[2].timestamp.wrapping_sub(sent[0].timestamp), 3000);

    // no RTCP from the tool yet: a keyframe request cannot go anywhere
    track.request_keyframe(0, crate::KeyframeReason::Server);
    tokio::time::timeout(Duration::from_secs(5), async {
        while ingest.stats().pli_unsent == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();

    // the tool restarts: new socket, SSRC, sequence numbers and timestamps; it sends RTCP
    drop(tool);
    let tool = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    tool.send_to(&[0x80, 200, 0, 1, 0, 0, 0, 88], to)
        .await
        .unwrap();
    tool.send_to(&rtp(true, 111, 40_000, 5, 88, &[0x10, 5]), to)
        .await
        .unwrap();
    let sent = sink.wait_for(4).await;
    let step = sent[3].timestamp.wrapping_sub(sent[2].timestamp);
    assert!((1..90_000).contains(&step), "continues just after: {step}");
    let stats = ingest.stats();
    assert_eq!(
        (stats.senders, stats.ssrc, stats.rtcp_received),
        (2, Some(88), 1)
    );
    assert_eq!(stats.sender, Some(tool.local_addr().unwrap()));
    assert_eq!(stats.packets_forwarded, 4);

    // now a keyframe request reaches the tool as a PLI about its SSRC
    track.request_keyframe(0, crate::KeyframeReason::Server);
    let p = recv_pli(&tool).await;
    assert_eq!(&p[..4], &[0x81, 206, 0, 2]);
    assert_eq!(&p[8..], &88u32.to_be_bytes());
    assert_eq!(ingest.stats().pli_sent, 1);

    // stop() closes the port (another test of this process binding ports of its own may hold
    // it for a moment once it is free: it is tried for a while)
    track.stop();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    let mut bound = std::net::UdpSocket::bind(to);
    for _ in 0..40 {
        if bound.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        bound = std::net::UdpSocket::bind(to);
    }
    bound.expect("the port is free again");
}

#[tokio::test]
async fn keyframe_requests_go_to_the_rtcp_port_given() {
    let feedback = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let rtcp_port = feedback.local_addr().unwrap().port();
    let (ingest, task) = RtpIngest::bind(options(0, Some(rtcp_port))).unwrap();
    tokio::spawn(task);
    let sink = Arc::new(Sink::default());
    ingest.track().attach(sink.clone(), &vp8(), 1).unwrap();
    let tool = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    tool.send_to(&rtp(true, 96, 1, 1, 0x1234, &[0x10]), ingest.local_addr())
        .await
        .unwrap();
    sink.wait_for(1).await;
    ingest
        .track()
        .request_keyframe(0, crate::KeyframeReason::Server);
    let p = recv_pli(&feedback).await;
    assert_eq!(&p[8..], &0x1234u32.to_be_bytes());
    // dropping the ingest closes the port
    let addr = ingest.local_addr();
    drop(ingest);
    tokio::time::timeout(Duration::from_secs(5), async {
        while std::net::UdpSocket::bind(addr).is_err() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the port is freed");
}

#[test]
fn bind_errors() {
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let e = RtpIngest::bind(options(port, None))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.starts_with(&format!("udp://127.0.0.1:{port}: cannot listen for RTP: ")),
        "{e}"
    );
    let mut o = options(0, None);
    o.mime_type = "video/H265".into();
    assert!(matches!(
        RtpIngest::bind(o).err().unwrap(),
        MediaError::UnsupportedCodec { .. }
    ));
    let mut o = options(0, None);
    o.mime_type = "audio/opus".into();
    assert_eq!(
        RtpIngest::bind(o).err().unwrap().to_string(),
        "codec audio/opus is not a video codec"
    );
}
