//! The floor of the receive path, for `npm run bench`: CPU per packet of one UDP `recv` on
//! 127.0.0.1 plus SRTP unprotection (header parse and decryption with the same `rtc::srtp`
//! context and crypto provider as webrtc-rs uses), nothing else.
//!
//! `cargo run --release -p msc-bench --bin srtp_recv_floor -- [--seconds S] [--sizes A,B,...]
//!  [--mix a,b,...] [--profiles aes128cm80,aeadaes128gcm,aeadaes256gcm]`
//!
//! - `--sizes`: RTP packet sizes in bytes before protection (header with the mid, abs-send-time
//!   and transport-wide-cc extensions, as a mediasoup consumer sends them, plus payload);
//! - `--mix`: how many packets of each size in one round (e.g. `12,5` for 120 video + 50 audio
//!   packets per second).
//!
//! A second thread protects and sends packets as fast as it can; the CPU time counted is the
//! receiving thread's only (`/proc/thread-self/schedstat`, ns), so it holds what one packet
//! costs the receiver: the kernel's delivery to the socket, the copy out, and the decryption.
//! The receiver mostly finds packets waiting (the sender is faster), so few wake-ups are
//! counted: a floor, not a typical cost. Prints one JSON object.

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

fn context(profile_name: &str) -> Context {
    let (profile, key_len, salt_len) = profile(profile_name);
    let provider = rtc::srtp::crypto::default_provider().expect("crypto provider");
    let key: Vec<u8> = (0..key_len as u8).collect();
    let salt: Vec<u8> = (0..salt_len as u8).map(|x| x ^ 0x5a).collect();
    Context::new(&key, &salt, profile, None, None, provider.crypto()).unwrap()
}

/// One RTP packet of `size` bytes as a mediasoup consumer sends it: mid (1 byte),
/// abs-send-time (3 bytes) and transport-wide-cc (2 bytes) one-byte header extensions, the
/// rest payload.
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
        .set_extension(4, Bytes::from_static(&[0, 1, 2]))
        .unwrap();
    header
        .set_extension(5, Bytes::from_static(&[0, 1]))
        .unwrap();
    let head = header.marshal().unwrap();
    let payload_len = size.saturating_sub(head.len()).max(1);
    let mut bytes = head.to_vec();
    bytes.extend((0..payload_len).map(|i| (i * 7) as u8));
    (header, bytes)
}

/// The round of packets `--sizes`/`--mix` describe, one SSRC per size.
fn round(sizes: &[usize], mix: &[usize]) -> Vec<(rtc::rtp::Header, Vec<u8>)> {
    let mut packets = Vec::new();
    for (i, (&size, &count)) in sizes.iter().zip(mix).enumerate() {
        for _ in 0..count {
            packets.push(packet(size, 0x1000 + i as u32));
        }
    }
    packets
}

/// Gives each packet of the round the next sequence number of its SSRC and passes it on.
struct Sequencer {
    packets: Vec<(rtc::rtp::Header, Vec<u8>)>,
    seq: [u16; 16],
}

impl Sequencer {
    fn next_round(&mut self, mut each: impl FnMut(&rtc::rtp::Header, &[u8])) {
        for (header, bytes) in self.packets.iter_mut() {
            let s = &mut self.seq[(header.ssrc - 0x1000) as usize];
            *s = s.wrapping_add(1);
            header.sequence_number = *s;
            bytes[2..4].copy_from_slice(&s.to_be_bytes());
            each(header, bytes);
        }
    }
}

struct Measure {
    packets: u64,
    cpu_ns: u64,
    sent: u64,
}

/// Decryption alone: packets protected beforehand, then unprotected in a loop on this thread.
fn decrypt_only(profile_name: &str, sizes: &[usize], mix: &[usize], seconds: f64) -> Measure {
    let mut tx = context(profile_name);
    let mut rx = context(profile_name);
    let mut seq = Sequencer {
        packets: round(sizes, mix),
        seq: [0; 16],
    };
    let mut decrypted = 0u64;
    let mut cpu_ns = 0u64;
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    while Instant::now() < deadline {
        // a batch protected (not counted), then unprotected (counted)
        let mut batch = Vec::with_capacity(2000);
        for _ in 0..100 {
            seq.next_round(|header, bytes| {
                batch.push(tx.encrypt_rtp_with_header(bytes, header).unwrap());
            });
        }
        let cpu0 = thread_cpu_ns();
        for p in &batch {
            rx.decrypt_rtp(p).expect("decrypt");
            decrypted += 1;
        }
        cpu_ns += thread_cpu_ns() - cpu0;
    }
    Measure {
        packets: decrypted,
        cpu_ns,
        sent: decrypted,
    }
}

/// One `recv` per packet on this thread (and a decryption when `decrypt`), while another
/// thread protects (when `decrypt`) and sends packets as fast as it can.
fn receive(
    profile_name: &str,
    sizes: &[usize],
    mix: &[usize],
    seconds: f64,
    decrypt: bool,
) -> Measure {
    let rx_socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx_socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let to = rx_socket.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let stop = stop.clone();
        let sizes = sizes.to_vec();
        let mix = mix.to_vec();
        let profile_name = profile_name.to_string();
        std::thread::spawn(move || {
            let tx_socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            let mut ctx = context(&profile_name);
            let mut seq = Sequencer {
                packets: round(&sizes, &mix),
                seq: [0; 16],
            };
            let mut sent = 0u64;
            while !stop.load(Ordering::Relaxed) {
                seq.next_round(|header, bytes| {
                    let ok = if decrypt {
                        let out = ctx.encrypt_rtp_with_header(bytes, header).unwrap();
                        tx_socket.send_to(&out, to).is_ok()
                    } else {
                        tx_socket.send_to(bytes, to).is_ok()
                    };
                    sent += ok as u64;
                });
            }
            sent
        })
    };
    let mut ctx = context(profile_name);
    let mut buf = [0u8; 2048];
    let mut received = 0u64;
    // the first packets wait for the sender thread to start: not counted
    let _ = rx_socket.recv(&mut buf);
    let cpu0 = thread_cpu_ns();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    while Instant::now() < deadline {
        for _ in 0..64 {
            let Ok(n) = rx_socket.recv(&mut buf) else {
                continue;
            };
            if decrypt {
                // a packet the kernel dropped leaves a gap, which unprotection allows
                if ctx.decrypt_rtp(&buf[..n]).is_ok() {
                    received += 1;
                }
            } else {
                received += 1;
            }
        }
    }
    let cpu_ns = thread_cpu_ns() - cpu0;
    stop.store(true, Ordering::Relaxed);
    let sent = sender.join().unwrap();
    Measure {
        packets: received,
        cpu_ns,
        sent,
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

    let per = |m: &Measure| m.cpu_ns as f64 / m.packets.max(1) as f64;
    let mut out = Vec::new();
    // the UDP receive alone, once: it does not depend on the profile
    let recv_only = receive(profiles[0], &sizes, &mix, seconds / 2.0, false);
    for p in &profiles {
        let decrypt = decrypt_only(p, &sizes, &mix, seconds / 2.0);
        let both = receive(p, &sizes, &mix, seconds, true);
        out.push(format!(
            "{{\"profile\":\"{p}\",\"decryptNsPerPacket\":{:.1},\"recvAndDecryptNsPerPacket\":{:.1},\"packets\":{},\"sent\":{}}}",
            per(&decrypt),
            per(&both),
            both.packets,
            both.sent
        ));
    }
    println!(
        "{{\"sizes\":{:?},\"mix\":{:?},\"recvNsPerPacket\":{:.1},\"recvPackets\":{},\"profiles\":[{}]}}",
        sizes,
        mix,
        per(&recv_only),
        recv_only.packets,
        out.join(",")
    );
}
