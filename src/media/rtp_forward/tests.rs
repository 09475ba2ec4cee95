use super::*;
use crate::{IvfReader, OggOpusReader, Packetizer, DEFAULT_MTU};
use bytes::Bytes;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use tokio::sync::mpsc;
use tokio::time::timeout;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const WAIT: Duration = Duration::from_secs(10);

fn options(port: u16) -> RtpForwardOptions {
    RtpForwardOptions {
        address: LOCALHOST,
        port,
        rtcp_port: None,
        payload_type: 111,
        ssrc: 0x0abc_0def,
        mime_type: "video/VP8".into(),
        clock_rate: 90_000,
        channels: None,
        fmtp: None,
        local_rtcp_port: None,
    }
}

fn rtp(marker: bool, pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, (u8::from(marker) << 7) | pt];
    p.extend(seq.to_be_bytes());
    p.extend(ts.to_be_bytes());
    p.extend(ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

fn pli(media_ssrc: u32) -> Vec<u8> {
    crate::rtp_ingest::pli(7, media_ssrc).to_vec()
}

fn fir(media_ssrc: u32, seq: u8) -> Vec<u8> {
    let mut p = vec![0x84, RTCP_PSFB, 0, 4, 0, 0, 0, 7, 0, 0, 0, 0];
    p.extend(media_ssrc.to_be_bytes());
    p.extend([seq, 0, 0, 0]);
    p
}

/// An empty receiver report, as tools put first in a compound packet.
fn rr() -> Vec<u8> {
    vec![0x80, 201, 0, 1, 0, 0, 0, 7]
}

#[test]
fn reads_keyframe_requests_in_compound_rtcp() {
    let ours = 0x0abc_0def;
    let feedback = |d: &[u8]| keyframe_requests(d, ours);
    assert_eq!(
        feedback(&pli(ours)),
        Some(Feedback {
            pli: true,
            fir: vec![]
        })
    );
    assert!(feedback(&[rr(), pli(ours)].concat()).unwrap().pli);
    assert!(feedback(&pli(0)).unwrap().pli, "SSRC 0: whatever is sent");
    assert_eq!(feedback(&pli(5)), Some(Feedback::default()), "another SSRC");
    assert_eq!(feedback(&[rr(), fir(ours, 9)].concat()).unwrap().fir, [9]);
    assert_eq!(feedback(&fir(5, 9)).unwrap().fir, Vec::<u8>::new());
    assert_eq!(feedback(&rr()), Some(Feedback::default()));
    // not RTCP: RTP, garbage, a truncated packet
    assert_eq!(feedback(&rtp(false, 96, 1, 1, 1, &[1])), None);
    assert_eq!(feedback(&[1, 2, 3]), None);
    assert_eq!(feedback(&pli(ours)[..10]), None);
}

#[test]
fn sender_reports_carry_ntp_and_rtp_times() {
    let wall = UNIX_EPOCH + Duration::from_millis(1_500);
    let sr = sender_report(0x0102_0304, wall, 90_000, 10, 1000);
    assert_eq!(&sr[..8], &[0x80, 200, 0, 6, 1, 2, 3, 4]);
    assert_eq!(
        u32::from_be_bytes(sr[8..12].try_into().unwrap()),
        2_208_988_801
    );
    assert_eq!(u32::from_be_bytes(sr[12..16].try_into().unwrap()), 1 << 31);
    assert_eq!(u32::from_be_bytes(sr[16..20].try_into().unwrap()), 90_000);
    assert_eq!(u32::from_be_bytes(sr[20..24].try_into().unwrap()), 10);
    assert_eq!(u32::from_be_bytes(sr[24..28].try_into().unwrap()), 1000);
}

#[tokio::test]
async fn bad_options_are_refused() {
    let err = |o: RtpForwardOptions| {
        let o2 = o.clone();
        async move {
            match RtpForwarder::new(o2, || {}).await {
                Err(e) => e.to_string(),
                Ok(_) => panic!("{o:?} accepted"),
            }
        }
    };
    let o = options(5004);
    let e = err(RtpForwardOptions {
        mime_type: "VP8".into(),
        ..o.clone()
    })
    .await;
    assert!(e.contains("video/NAME expected"), "{e}");
    let e = err(RtpForwardOptions {
        payload_type: 72,
        ..o.clone()
    })
    .await;
    assert!(e.contains("look like RTCP"), "{e}");
    let e = err(RtpForwardOptions {
        payload_type: 128,
        ..o.clone()
    })
    .await;
    assert!(e.contains("payload type 128"), "{e}");
    let e = err(RtpForwardOptions {
        clock_rate: 0,
        ..o.clone()
    })
    .await;
    assert!(e.contains("clock rate"), "{e}");
    let e = err(RtpForwardOptions {
        port: 0,
        ..o.clone()
    })
    .await;
    assert!(e.contains("must not be 0"), "{e}");
    let e = err(RtpForwardOptions {
        fmtp: Some("a=1\r\nm=x".into()),
        ..o
    })
    .await;
    assert!(e.contains("single line"), "{e}");
}

#[tokio::test]
async fn the_sdp_describes_the_stream() {
    let mut o = options(5004);
    o.fmtp = Some("max-fr=30".into());
    let f = RtpForwarder::new(o.clone(), || {}).await.unwrap();
    let sdp = f.sdp();
    assert!(sdp.contains("\r\nc=IN IP4 127.0.0.1\r\n"), "{sdp}");
    assert!(sdp.contains("\r\nm=video 5004 RTP/AVPF 111\r\n"), "{sdp}");
    assert!(sdp.contains("\r\na=rtpmap:111 VP8/90000\r\n"), "{sdp}");
    assert!(sdp.contains("\r\na=fmtp:111 max-fr=30\r\n"), "{sdp}");
    assert!(sdp.contains("\r\na=rtcp-fb:111 nack pli\r\n"), "{sdp}");
    assert!(sdp.contains("\r\na=rtcp-fb:111 ccm fir\r\n"), "{sdp}");
    assert!(
        sdp.contains("\r\na=ssrc:180096495 cname:msc-media\r\n"),
        "{sdp}"
    );
    assert!(
        !sdp.contains("a=rtcp:"),
        "the default RTCP port needs no attribute"
    );
    // audio on IPv6 with its own RTCP port
    let f = RtpForwarder::new(
        RtpForwardOptions {
            address: IpAddr::V6(Ipv6Addr::LOCALHOST),
            rtcp_port: Some(6000),
            mime_type: "audio/opus".into(),
            clock_rate: 48_000,
            payload_type: 100,
            ..o
        },
        || {},
    )
    .await
    .unwrap();
    let sdp = f.sdp();
    assert!(sdp.contains("\r\nc=IN IP6 ::1\r\n"), "{sdp}");
    assert!(sdp.contains("\r\nm=audio 5004 RTP/AVPF 100\r\n"), "{sdp}");
    assert!(sdp.contains("\r\na=rtpmap:100 opus/48000/2\r\n"), "{sdp}");
    assert!(sdp.contains("\r\na=rtcp:6000\r\n"), "{sdp}");
    assert!(!sdp.contains("rtcp-fb"), "{sdp}");
    assert_eq!(f.local_rtp_addr().ip(), IpAddr::V6(Ipv6Addr::LOCALHOST));
}

/// Packets arrive with the options' SSRC and payload type, the rest kept; the tool's keyframe
/// requests (on the RTCP port, or on the RTP port) call back; sender reports reach its RTCP
/// port.
#[tokio::test]
async fn forwards_rewritten_packets_and_passes_keyframe_requests_back() {
    let tool = tokio::net::UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
    let tool_rtcp = tokio::net::UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
    let mut o = options(tool.local_addr().unwrap().port());
    o.rtcp_port = Some(tool_rtcp.local_addr().unwrap().port());
    let (tx, mut requests) = mpsc::unbounded_channel();
    let f = RtpForwarder::new(o.clone(), move || {
        let _ = tx.send(());
    })
    .await
    .unwrap();
    assert_eq!(
        f.local_rtcp_addr().port(),
        f.local_rtp_addr().port() + 1,
        "RTCP on the next port, where ffmpeg's rtcp_to_source answers"
    );

    let mut packet = rtp(true, 96, 65_535, 0xffff_fff0, 1, &[9, 8, 7]);
    packet[0] |= 0x10; // a header extension, kept
    packet.splice(12..12, [0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0]);
    f.forward(&packet);
    f.forward(&[1, 2, 3]); // not RTP: dropped
    let mut buf = [0u8; 1500];
    let (n, from) = timeout(WAIT, tool.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(from, f.local_rtp_addr());
    let mut expected = packet.clone();
    expected[1] = 0x80 | 111;
    expected[8..12].copy_from_slice(&0x0abc_0defu32.to_be_bytes());
    assert_eq!(&buf[..n], &expected[..]);

    // a sender report for the stream reaches the tool's RTCP port
    let (n, from) = timeout(WAIT, tool_rtcp.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(from, f.local_rtcp_addr());
    assert_eq!((n, buf[1]), (28, 200));
    assert_eq!(&buf[4..8], &0x0abc_0defu32.to_be_bytes());
    assert_eq!(
        &buf[20..28],
        &[0, 0, 0, 1, 0, 0, 0, 3],
        "1 packet, 3 payload bytes"
    );

    // PLI in a compound packet, to the RTCP port
    tool_rtcp
        .send_to(&[rr(), pli(o.ssrc)].concat(), f.local_rtcp_addr())
        .await
        .unwrap();
    timeout(WAIT, requests.recv()).await.unwrap().unwrap();
    // a PLI for another stream: none; a FIR, repeated with the same sequence number: one
    // request; then a new one (one socket: handled in this order)
    tool_rtcp
        .send_to(&pli(5), f.local_rtcp_addr())
        .await
        .unwrap();
    for seq in [1, 1, 2] {
        tool_rtcp
            .send_to(&fir(o.ssrc, seq), f.local_rtcp_addr())
            .await
            .unwrap();
    }
    // and a PLI on the RTP port (rtcp-mux)
    tool.send_to(&pli(o.ssrc), f.local_rtp_addr())
        .await
        .unwrap();
    for _ in 0..3 {
        timeout(WAIT, requests.recv()).await.unwrap().unwrap();
    }
    let s = f.stats();
    assert_eq!(
        (s.packets, s.dropped, s.keyframe_requests),
        (1, 1, 4),
        "{s:?}"
    );
    assert_eq!(s.rtcp_received, 6, "{s:?}");
    assert_eq!(s.bytes, packet.len() as u64);
    assert!(
        requests.try_recv().is_err(),
        "no request for the repeated FIR or the other SSRC"
    );

    f.close();
    f.forward(&packet);
    assert_eq!(f.stats().dropped, 2, "closed: dropped");
}

/// Binds nothing: a free port P with P + 1 free too (the tool binds both).
fn free_port_pair() -> u16 {
    loop {
        let s = std::net::UdpSocket::bind((LOCALHOST, 0)).unwrap();
        let port = s.local_addr().unwrap().port();
        if port < 65_000 && std::net::UdpSocket::bind((LOCALHOST, port + 1)).is_ok() {
            return port;
        }
    }
}

fn have_ffmpeg() -> bool {
    let found = Command::new("ffmpeg").arg("-version").output().is_ok();
    if !found {
        println!("ffmpeg is not on PATH: test skipped");
    }
    found
}

fn sample(name: &str) -> PathBuf {
    // read when the test runs (see file_player::tests::sample)
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test"))
        .join("../../samples")
        .join(name)
}

fn out_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("msc-forward-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts `ffmpeg -i sdp -c copy out` and returns once it listens on `port`.
async fn start_ffmpeg(sdp: &Path, out: &Path, port: u16) -> Child {
    let child = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-protocol_whitelist", "file,udp,rtp"])
        .args(["-sdp_flags", "rtcp_to_source", "-i"])
        .arg(sdp)
        .args(["-c", "copy"])
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // listening once its port is taken
    let start = Instant::now();
    while std::net::UdpSocket::bind((LOCALHOST, port)).is_ok() {
        assert!(start.elapsed() < WAIT, "ffmpeg does not listen on {port}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child
}

/// Waits for ffmpeg to end (its input ends with the forwarder's BYE) and returns what it wrote
/// on stderr.
fn ffmpeg_exits(mut child: Child) -> String {
    use std::io::Read;
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > WAIT {
            let _ = child.kill();
            panic!("ffmpeg does not end after the BYE");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    err
}

/// Sends `frames` (data, RTP timestamp) as RTP packets, a frame every `pace`.
async fn send_frames(
    f: &RtpForwarder,
    p: &mut Packetizer,
    frames: &[(Bytes, u32)],
    seq: &mut u16,
    pace: Duration,
) {
    for (data, ts) in frames {
        for chunk in p.packetize(data, None, *ts).unwrap() {
            f.forward(&rtp(
                chunk.marker,
                96,
                *seq,
                chunk.timestamp,
                1,
                &chunk.payload,
            ));
            *seq = seq.wrapping_add(1);
        }
        tokio::time::sleep(pace).await;
    }
}

fn decodes(path: &Path) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn vp8_frames() -> Vec<(Bytes, u32)> {
    IvfReader::open(sample("vp8.ivf"))
        .unwrap()
        .map(|fr| {
            let fr = fr.unwrap();
            (fr.data, (fr.timestamp_us * 9 / 100) as u32)
        })
        .collect()
}

/// ffmpeg reads the SDP and records every frame; the BYE of `close` ends its input.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_records_the_forwarded_stream_until_the_bye() {
    if !have_ffmpeg() {
        return;
    }
    let dir = out_dir("vp8");
    let port = free_port_pair();
    let f = RtpForwarder::new(options(port), || {}).await.unwrap();
    let sdp = dir.join("fwd.sdp");
    std::fs::write(&sdp, f.sdp()).unwrap();
    let out = dir.join("out.ivf");
    let child = start_ffmpeg(&sdp, &out, port).await;
    let frames = vp8_frames();
    let mut p = Packetizer::for_codec("video/VP8", 90_000, DEFAULT_MTU).unwrap();
    let mut seq = 65_500; // wraps
    send_frames(&f, &mut p, &frames, &mut seq, Duration::from_millis(5)).await;
    f.close();
    let err = ffmpeg_exits(child);
    println!("{:?}; ffmpeg: {err}", f.stats());
    let got: Vec<_> = IvfReader::open(&out)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got.len(), frames.len());
    for (g, s) in got.iter().zip(&frames) {
        assert_eq!(g.data, s.0);
    }
    decodes(&out);
}

/// A GStreamer receiver (rtpbin with AVPF feedback, its RTCP sent to our RTCP port) asks for a
/// keyframe while the stream starts with inter frames: the PLI calls back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gstreamer_pli_calls_back() {
    if Command::new("gst-launch-1.0")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("gst-launch-1.0 is not on PATH: test skipped");
        return;
    }
    let port = free_port_pair();
    let (tx, mut requests) = mpsc::unbounded_channel();
    let f = RtpForwarder::new(options(port), move || {
        let _ = tx.send(());
    })
    .await
    .unwrap();
    let caps = "application/x-rtp,media=video,clock-rate=90000,encoding-name=VP8,payload=111,\
                rtcp-fb-nack-pli=1";
    let mut child = Command::new("gst-launch-1.0")
        .args(["-q", "rtpbin", "name=b", "rtp-profile=avpf", "udpsrc"])
        .arg(format!("port={port}"))
        .arg(format!("caps={caps}"))
        .args(["!", "b.recv_rtp_sink_0", "udpsrc"])
        .arg(format!("port={}", port + 1))
        .args(["!", "b.recv_rtcp_sink_0", "b.", "!", "rtpvp8depay"])
        .args([
            "request-keyframe=true",
            "wait-for-keyframe=true",
            "!",
            "fakesink",
        ])
        .args(["b.send_rtcp_src_0", "!", "udpsink", "host=127.0.0.1"])
        .arg(format!("port={}", f.local_rtcp_addr().port()))
        .args(["sync=false", "async=false"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::net::UdpSocket::bind((LOCALHOST, port)).is_ok() {
        assert!(
            start.elapsed() < WAIT,
            "gst-launch does not listen on {port}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let frames = vp8_frames();
    let mut p = Packetizer::for_codec("video/VP8", 90_000, DEFAULT_MTU).unwrap();
    let mut seq = 1;
    // inter frames only: the receiver cannot start and asks for a keyframe
    send_frames(
        &f,
        &mut p,
        &frames[1..30],
        &mut seq,
        Duration::from_millis(20),
    )
    .await;
    let got = timeout(WAIT, requests.recv()).await;
    let _ = child.kill();
    let _ = child.wait();
    got.expect("GStreamer's PLI").unwrap();
    let s = f.stats();
    assert!(s.keyframe_requests >= 1 && s.rtcp_received >= 1, "{s:?}");
}

/// H.264 and Opus through ffmpeg: every frame arrives and decodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_records_forwarded_h264_and_opus() {
    if !have_ffmpeg() {
        return;
    }
    let dir = out_dir("h264-opus");
    for (mime, clock, fmtp, file) in [
        (
            "video/H264",
            90_000,
            Some("packetization-mode=1;profile-level-id=42e01f"),
            "out.h264",
        ),
        ("audio/opus", 48_000, None, "out.ogg"),
    ] {
        let port = free_port_pair();
        let mut o = options(port);
        o.mime_type = mime.into();
        o.clock_rate = clock;
        o.fmtp = fmtp.map(String::from);
        let f = RtpForwarder::new(o, || {}).await.unwrap();
        let sdp = dir.join(format!("{file}.sdp"));
        std::fs::write(&sdp, f.sdp()).unwrap();
        let out = dir.join(file);
        let child = start_ffmpeg(&sdp, &out, port).await;
        let frames: Vec<(Bytes, u32)> = if clock == 48_000 {
            OggOpusReader::open(sample("opus.ogg"))
                .unwrap()
                .map(|p| {
                    let p = p.unwrap();
                    (p.data, p.position_samples as u32)
                })
                .collect()
        } else {
            crate::H264Reader::open(sample("h264.h264"), 30.0)
                .unwrap()
                .map(|au| {
                    let au = au.unwrap();
                    (au.data, (au.timestamp_us * 9 / 100) as u32)
                })
                .collect()
        };
        let mut p = Packetizer::for_codec(mime, clock, DEFAULT_MTU).unwrap();
        let mut seq = 0;
        send_frames(&f, &mut p, &frames, &mut seq, Duration::from_millis(5)).await;
        f.close();
        let err = ffmpeg_exits(child);
        println!("{mime}: {:?}; ffmpeg: {err}", f.stats());
        let count = if clock == 48_000 {
            OggOpusReader::open(&out).unwrap().count()
        } else {
            crate::H264Reader::open(&out, 30.0).unwrap().count()
        };
        assert_eq!(count, frames.len(), "{mime}");
        decodes(&out);
    }
}
