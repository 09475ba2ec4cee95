//! The floor of the send path, for `npm run bench`: CPU per packet of SRTP protection (the
//! same `rtc::srtp` context and crypto provider as webrtc-rs uses) plus one UDP `send_to` on
//! 127.0.0.1, nothing else.
//!
//! `cargo run --release -p msc-bench --bin srtp_floor -- [--seconds S] [--sizes A,B,...]
//!  [--mix a,b,...] [--profiles aes128cm80,aeadaes128gcm,aeadaes256gcm]`
//!
//! - `--sizes`: RTP packet sizes in bytes before protection (header with mid and
//!   transport-wide-cc extensions, as webrtc-rs sends them, plus payload);
//! - `--mix`: how many packets of each size in one round (e.g. `12,5` for 120 video + 50 audio
//!   packets per second).
//!
//! A second thread drains the receiving socket; the CPU time counted is the sending thread's
//! only (`/proc/thread-self/schedstat`, ns), so it holds what one packet costs the sender:
//! building the protected packet and the kernel's loopback delivery. Prints one JSON object.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::shared::marshal::Marshal;
use rtc::srtp::context::Context;
use rtc::srtp::protection_profile::ProtectionProfile;

fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn list(s: &str) -> Vec<usize> {
    s.split(',').filter_map(|x| x.trim().parse().ok()).collect()
}

fn profile(name: &str) -> (ProtectionProfile, usize, usize) {
    match name {
        "aes128cm80" => (ProtectionProfile::Aes128CmHmacSha1_80, 16, 14),
        "aeadaes128gcm" => (ProtectionProfile::AeadAes128Gcm, 16, 12),
        "aeadaes256gcm" => (ProtectionProfile::AeadAes256Gcm, 32, 12),
        other => panic!("unknown profile {other}"),
    }
}

/// One RTP packet of `size` bytes as webrtc-rs sends it: mid (1 byte) and transport-wide-cc
/// (2 bytes) one-byte header extensions, the rest payload.
fn packet(size: usize, ssrc: u32) -> (rtc::rtp::Header, Vec<u8>) {
    let mut header = rtc::rtp::header::Header {
        version: 2,
        payload_type: 96,
        sequence_number: 1,
        timestamp: 1000,
        ssrc,
        ..Default::default()
    };
    header.set_extension(1, Bytes::from_static(b"0")).unwrap();
    header
        .set_extension(3, Bytes::from_static(&[0, 1]))
        .unwrap();
    let head = header.marshal().unwrap();
    let payload_len = size.saturating_sub(head.len()).max(1);
    let mut bytes = head.to_vec();
    bytes.extend((0..payload_len).map(|i| (i * 7) as u8));
    (header, bytes)
}

struct Result {
    packets: u64,
    cpu_ns: u64,
    wall_ns: u64,
}

fn run(
    profile_name: &str,
    sizes: &[usize],
    mix: &[usize],
    seconds: f64,
    encrypt: bool,
    send: bool,
) -> Result {
    let (profile, key_len, salt_len) = profile(profile_name);
    let provider = rtc::srtp::crypto::default_provider().expect("crypto provider");
    let key: Vec<u8> = (0..key_len as u8).collect();
    let salt: Vec<u8> = (0..salt_len as u8).map(|x| x ^ 0x5a).collect();
    let mut ctx = Context::new(&key, &salt, profile, None, None, provider.crypto()).unwrap();

    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let to = rx.local_addr().unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let drain = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                let _ = rx.recv(&mut buf);
            }
        })
    };

    let mut packets: Vec<(rtc::rtp::Header, Vec<u8>)> = Vec::new();
    for (i, (&size, &count)) in sizes.iter().zip(mix).enumerate() {
        for _ in 0..count {
            packets.push(packet(size, 0x1000 + i as u32));
        }
    }
    let mut seq = [0u16; 16];
    let mut sent = 0u64;
    let cpu0 = thread_cpu_ns();
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs_f64(seconds);
    while Instant::now() < deadline {
        for _ in 0..50 {
            for (header, bytes) in packets.iter_mut() {
                let s = &mut seq[(header.ssrc - 0x1000) as usize];
                *s = s.wrapping_add(1);
                header.sequence_number = *s;
                bytes[2..4].copy_from_slice(&s.to_be_bytes());
                if encrypt {
                    let out = ctx.encrypt_rtp_with_header(bytes, header).unwrap();
                    if send {
                        let _ = tx.send_to(&out, to);
                    }
                } else if send {
                    let _ = tx.send_to(bytes, to);
                }
                sent += 1;
            }
        }
    }
    let wall_ns = t0.elapsed().as_nanos() as u64;
    let cpu_ns = thread_cpu_ns() - cpu0;
    stop.store(true, Ordering::Relaxed);
    drain.join().unwrap();
    Result {
        packets: sent,
        cpu_ns,
        wall_ns,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: f64 = arg(&args, "--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let sizes = list(arg(&args, "--sizes").unwrap_or("1100,120"));
    let mix = list(arg(&args, "--mix").unwrap_or("12,5"));
    assert_eq!(sizes.len(), mix.len(), "--sizes and --mix differ in length");
    let profiles: Vec<&str> = arg(&args, "--profiles")
        .unwrap_or("aes128cm80,aeadaes128gcm,aeadaes256gcm")
        .split(',')
        .collect();

    let per = |r: &Result| r.cpu_ns as f64 / r.packets.max(1) as f64;
    let mut out = Vec::new();
    // the UDP send alone, once: it does not depend on the profile
    let send_only = run(profiles[0], &sizes, &mix, seconds / 2.0, false, true);
    for p in &profiles {
        let encrypt_only = run(p, &sizes, &mix, seconds / 2.0, true, false);
        let both = run(p, &sizes, &mix, seconds, true, true);
        out.push(format!(
            "{{\"profile\":\"{p}\",\"encryptNsPerPacket\":{:.1},\"encryptAndSendNsPerPacket\":{:.1},\"packets\":{},\"cpuShare\":{:.3}}}",
            per(&encrypt_only),
            per(&both),
            both.packets,
            both.cpu_ns as f64 / both.wall_ns as f64
        ));
    }
    println!(
        "{{\"sizes\":{:?},\"mix\":{:?},\"sendNsPerPacket\":{:.1},\"profiles\":[{}]}}",
        sizes,
        mix,
        per(&send_only),
        out.join(",")
    );
}
