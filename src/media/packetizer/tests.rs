//! Round trips of every packetizer through rtc-rtp's depacketizers, plus the checks mediasoup's
//! worker makes on the payload (keyframe detection) written out here.

use super::*;
use crate::RtpChunk;
use rtc_rtp::codec::av1::Av1Depacketizer;
use rtc_rtp::codec::h264::H264Packet;
use rtc_rtp::codec::opus::OpusPacket;
use rtc_rtp::codec::vp8::Vp8Packet;
use rtc_rtp::codec::vp9::Vp9Packet;
use rtc_rtp::packetizer::Depacketizer;

/// Deterministic filler bytes (xorshift), never a start code when `nonzero`.
pub(crate) fn noise(len: usize, seed: u32, nonzero: bool) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let b = (x >> 24) as u8;
            if nonzero && b == 0 {
                0x55
            } else {
                b
            }
        })
        .collect()
}

fn check_markers(chunks: &[RtpChunk], timestamp: u32) {
    assert!(!chunks.is_empty());
    for (i, c) in chunks.iter().enumerate() {
        assert_eq!(
            c.marker,
            i == chunks.len() - 1,
            "marker only on the last packet"
        );
        assert_eq!(c.timestamp, timestamp);
    }
}

fn check_mtu(chunks: &[RtpChunk], mtu: usize) {
    for c in chunks {
        assert!(c.payload.len() <= mtu, "{} > mtu {mtu}", c.payload.len());
    }
}

#[test]
fn for_codec_accepts_the_five_codecs_case_insensitively() {
    for (mime, kind, canonical) in [
        ("video/VP8", MediaKind::Video, "video/VP8"),
        ("video/vp9", MediaKind::Video, "video/VP9"),
        ("VIDEO/H264", MediaKind::Video, "video/H264"),
        ("video/AV1", MediaKind::Video, "video/AV1"),
        ("audio/opus", MediaKind::Audio, "audio/opus"),
        ("audio/OPUS", MediaKind::Audio, "audio/opus"),
    ] {
        let p = Packetizer::for_codec(mime, 90_000, DEFAULT_MTU).unwrap();
        assert_eq!(p.kind(), kind);
        assert_eq!(p.mime_type(), canonical);
        assert_eq!(p.mtu(), 1200);
        assert_eq!(p.clock_rate(), 90_000);
    }
}

#[test]
fn for_codec_rejects_bad_arguments_clearly() {
    let e = Packetizer::for_codec("video/H265", 90_000, 1200).unwrap_err();
    assert_eq!(
        e,
        MediaError::UnsupportedCodec {
            mime_type: "video/H265".into()
        }
    );
    assert!(e.to_string().contains("unsupported codec \"video/H265\""));
    let e = Packetizer::for_codec("video/VP8", 0, 1200).unwrap_err();
    assert!(e.to_string().contains("clock rate"), "{e}");
    let e = Packetizer::for_codec("video/VP8", 90_000, 10).unwrap_err();
    assert!(e.to_string().contains("mtu 10 out of range"), "{e}");
    assert!(Packetizer::for_codec("video/VP8", 90_000, MAX_MTU + 1).is_err());
    let mut p = Packetizer::for_codec("audio/opus", 48_000, 1200).unwrap();
    let e = p.packetize(&Bytes::new(), None, 0).unwrap_err();
    assert!(e.to_string().contains("empty audio/opus frame"), "{e}");
}

// ---------------------------------------------------------------- VP8

fn vp8_frame(len: usize, key: bool, seed: u32) -> Bytes {
    let mut f = noise(len, seed, false);
    if key {
        f[0] &= !0x01; // P=0
        f[3..6].copy_from_slice(&[0x9d, 0x01, 0x2a]);
    } else {
        f[0] |= 0x01;
    }
    Bytes::from(f)
}

/// mediasoup's VP8::Parse: no descriptor without X; keyframe = S && PID==0 && !P.
fn mediasoup_vp8_keyframe(payload: &[u8]) -> Option<bool> {
    let x = payload[0] & 0x80 != 0;
    if !x {
        return None;
    }
    let mut off = 1;
    let (i, l, t, k) = (
        payload[1] & 0x80 != 0,
        payload[1] & 0x40 != 0,
        payload[1] & 0x20 != 0,
        payload[1] & 0x10 != 0,
    );
    if i {
        off += 1;
        if payload[off] & 0x80 != 0 {
            off += 1;
        }
    }
    if l {
        off += 1;
    }
    if t || k {
        off += 1;
    }
    off += 1;
    let start = payload[0] & 0x10 != 0;
    let pid = payload[0] & 0x07;
    Some(start && pid == 0 && payload[off] & 0x01 == 0)
}

#[test]
fn vp8_round_trip_split_at_mtu_with_picture_id() {
    let mut p = Packetizer::for_codec("video/VP8", 90_000, 1200).unwrap();
    let mut last_pid = None;
    for (n, (len, key)) in [
        (5000, true),
        (1100, false),
        (1197, false),
        (3, false),
        (2396, false),
    ]
    .into_iter()
    .enumerate()
    {
        let frame = vp8_frame(len, key, n as u32 + 1);
        let chunks = p.packetize(&frame, None, 1234).unwrap();
        check_markers(&chunks, 1234);
        check_mtu(&chunks, 1200);
        let mut out = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            let mut d = Vp8Packet::default();
            out.extend_from_slice(&d.depacketize(&c.payload).unwrap());
            assert_eq!(d.x, 1, "X must be set or mediasoup ignores the descriptor");
            assert_eq!(d.i, 1);
            assert_eq!(d.s, u8::from(i == 0));
            assert_eq!(d.pid, 0);
            assert_ne!(
                c.payload[2] & 0x80,
                0,
                "M: a 15-bit picture id, forwarded as it is"
            );
            if let Some(prev) = last_pid.filter(|_| i == 0) {
                assert_eq!(d.picture_id, (prev + 1) & 0x7fff);
            }
            if i == 0 {
                last_pid = Some(d.picture_id);
            }
            assert_eq!(c.keyframe, key);
            let ms = mediasoup_vp8_keyframe(&c.payload).unwrap();
            assert_eq!(
                ms,
                key && i == 0,
                "mediasoup sees a keyframe on the first packet"
            );
        }
        assert_eq!(out, frame, "frame {n}");
        assert_eq!(chunks.len(), len.div_ceil(1200 - 4), "frame {n}");
    }
}

#[test]
fn vp8_caller_keyframe_flag_wins_over_the_bitstream() {
    let mut p = Packetizer::for_codec("video/VP8", 90_000, 1200).unwrap();
    let delta = vp8_frame(100, false, 1);
    assert!(p.packetize(&delta, Some(true), 0).unwrap()[0].keyframe);
    let key = vp8_frame(100, true, 1);
    assert!(!p.packetize(&key, Some(false), 0).unwrap()[0].keyframe);
    let e = p
        .packetize(&Bytes::from_static(&[1, 2]), None, 0)
        .unwrap_err();
    assert!(e.to_string().starts_with("malformed VP8 frame"), "{e}");
}

#[test]
fn rtc_rtp_vp8_default_has_no_extended_header_so_mediasoup_sees_no_keyframe() {
    // Why the picture id is switched on: documents rtc-rtp's default.
    let mut raw = rtc_rtp::codec::vp8::Vp8Payloader::default();
    let payloads = raw.payload(1200, &vp8_frame(100, true, 1)).unwrap();
    assert_eq!(payloads[0][0] & 0x80, 0);
    assert_eq!(mediasoup_vp8_keyframe(&payloads[0]), None);
}

// ---------------------------------------------------------------- VP9

struct Bits(Vec<u8>, usize);

impl Bits {
    fn new() -> Self {
        Bits(Vec::new(), 0)
    }
    fn put(&mut self, n: u32, v: u32) {
        for i in (0..n).rev() {
            if self.1.is_multiple_of(8) {
                self.0.push(0);
            }
            let bit = ((v >> i) & 1) as u8;
            *self.0.last_mut().unwrap() |= bit << (7 - self.1 % 8);
            self.1 += 1;
        }
    }
}

fn vp9_keyframe(len: usize, profile: u32, w: u32, h: u32, seed: u32) -> Bytes {
    let mut b = Bits::new();
    b.put(2, 2); // frame_marker
    b.put(1, profile & 1);
    b.put(1, profile >> 1);
    if profile == 3 {
        b.put(1, 0);
    }
    b.put(1, 0); // show_existing_frame
    b.put(1, 0); // frame_type KEY_FRAME
    b.put(1, 1); // show_frame
    b.put(1, 0); // error_resilient_mode
    b.put(24, 0x49_83_42);
    if profile >= 2 {
        b.put(1, 0);
    }
    b.put(3, 2); // color_space BT709
    b.put(1, 0); // color_range
    if profile == 1 || profile == 3 {
        b.put(3, 0);
    }
    b.put(16, w - 1);
    b.put(16, h - 1);
    let mut f = b.0;
    f.extend(noise(len - f.len(), seed, false));
    Bytes::from(f)
}

fn vp9_delta(len: usize, seed: u32) -> Bytes {
    let mut f = noise(len, seed, false);
    f[0] = 0x86 | (f[0] & 0x01); // marker 2, profile 0, show_existing 0, frame_type 1
    Bytes::from(f)
}

/// mediasoup's VP9::Parse keyframe rule: !P && B && spatial layer 0.
fn mediasoup_vp9_keyframe(payload: &[u8]) -> bool {
    let p = payload[0] & 0x40 != 0;
    let b = payload[0] & 0x08 != 0;
    let l = payload[0] & 0x20 != 0;
    let sid = if l {
        let off = if payload[0] & 0x80 != 0 {
            if payload[1] & 0x80 != 0 {
                3
            } else {
                2
            }
        } else {
            1
        };
        (payload[off] >> 1) & 0x07
    } else {
        0
    };
    !p && b && sid == 0
}

#[test]
fn vp9_round_trip_flexible_mode_with_p_bit_and_picture_id() {
    let mut p = Packetizer::for_codec("video/VP9", 90_000, 1200).unwrap();
    let frames = [
        (vp9_keyframe(4000, 0, 1280, 720, 1), true),
        (vp9_delta(1500, 2), false),
        (vp9_delta(1196, 3), false),
        (vp9_delta(1, 4), false),
        (vp9_keyframe(900, 1, 320, 180, 5), true),
        (vp9_keyframe(2500, 2, 640, 360, 6), true),
        (vp9_keyframe(700, 3, 64, 64, 7), true),
    ];
    let mut pid = None;
    for (n, (frame, key)) in frames.iter().enumerate() {
        let chunks = p.packetize(frame, None, 99).unwrap();
        check_markers(&chunks, 99);
        check_mtu(&chunks, 1200);
        let mut out = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            let mut d = Vp9Packet::default();
            out.extend_from_slice(&d.depacketize(&c.payload).unwrap());
            assert!(d.i && d.f, "flexible mode with picture id");
            assert_eq!(
                d.p, !key,
                "P (inter-picture predicted) on delta frames only"
            );
            assert_eq!(d.b, i == 0, "B on the first packet only");
            assert_eq!(d.e, i == chunks.len() - 1, "E on the last packet only");
            assert!(!d.l);
            assert_eq!(d.pdiff, if *key { vec![] } else { vec![1] });
            assert_eq!(d.v, *key && i == 0, "SS on the first packet of a keyframe");
            if d.v {
                assert_eq!(d.ns, 0);
                assert!(d.y);
            }
            if i == 0 {
                if let Some(prev) = pid {
                    assert_eq!(d.picture_id, (prev + 1) & 0x7fff);
                }
                pid = Some(d.picture_id);
            } else {
                assert_eq!(Some(d.picture_id), pid, "same picture id in every packet");
            }
            assert_eq!(c.keyframe, *key);
            assert_eq!(mediasoup_vp9_keyframe(&c.payload), *key && i == 0);
        }
        assert_eq!(out, frame.to_vec(), "frame {n}");
    }
    // Sizes read from the keyframe headers.
    let c = p.packetize(&frames[0].0, None, 0).unwrap();
    let mut d = Vp9Packet::default();
    d.depacketize(&c[0].payload).unwrap();
    assert_eq!((d.width.clone(), d.height.clone()), (vec![1280], vec![720]));
    let c = p.packetize(&frames[6].0, None, 0).unwrap();
    let mut d = Vp9Packet::default();
    d.depacketize(&c[0].payload).unwrap();
    assert_eq!((d.width.clone(), d.height.clone()), (vec![64], vec![64]));
}

#[test]
fn vp9_caller_flag_and_malformed_input() {
    let mut p = Packetizer::for_codec("video/VP9", 90_000, 1200).unwrap();
    let c = p.packetize(&vp9_delta(100, 1), Some(true), 0).unwrap();
    assert!(c[0].keyframe && mediasoup_vp9_keyframe(&c[0].payload));
    let c = p
        .packetize(&vp9_keyframe(100, 0, 8, 8, 1), Some(false), 0)
        .unwrap();
    assert!(!c[0].keyframe && !mediasoup_vp9_keyframe(&c[0].payload));
    let e = p
        .packetize(&Bytes::from_static(&[0x00, 0x01]), None, 0)
        .unwrap_err();
    assert!(e.to_string().contains("malformed VP9 frame"), "{e}");
}

#[test]
fn rtc_rtp_vp9_marks_every_frame_as_a_keyframe_for_mediasoup() {
    // Why VP9 is ours: rtc-rtp's payloader never sets P.
    let mut raw = rtc_rtp::codec::vp9::Vp9Payloader::default();
    let payloads = raw.payload(1200, &vp9_delta(100, 1)).unwrap();
    assert!(mediasoup_vp9_keyframe(&payloads[0]));
}

// ---------------------------------------------------------------- H.264

fn nal(kind: u8, nri: u8, len: usize, seed: u32) -> Vec<u8> {
    let mut n = vec![(nri << 5) | kind];
    n.extend(noise(len - 1, seed, true));
    n
}

fn annex_b(nalus: &[&[u8]], four_byte: bool) -> Bytes {
    let mut au = Vec::new();
    for n in nalus {
        if four_byte {
            au.extend_from_slice(&[0, 0, 0, 1]);
        } else {
            au.extend_from_slice(&[0, 0, 1]);
        }
        au.extend_from_slice(n);
    }
    Bytes::from(au)
}

/// Depacketizes a frame's packets into the Annex B stream (4-byte start codes).
fn h264_depacketize(chunks: &[RtpChunk]) -> Vec<u8> {
    let mut d = H264Packet::default();
    let mut out = Vec::new();
    for c in chunks {
        out.extend_from_slice(&d.depacketize(&c.payload).unwrap());
    }
    out
}

/// mediasoup's H264::Parse (no frame marking): SPS alone, in a STAP-A, or starting a FU-A.
fn mediasoup_h264_keyframe(payload: &[u8]) -> bool {
    match payload[0] & 0x1f {
        7 => true,
        24 => {
            let mut off = 1;
            while off + 3 <= payload.len() {
                let size = usize::from(u16::from_be_bytes([payload[off], payload[off + 1]]));
                if payload[off + 2] & 0x1f == 7 {
                    return true;
                }
                off += 2 + size;
            }
            false
        }
        28 | 29 => payload[1] & 0x1f == 7 && payload[1] & 0x80 != 0,
        _ => false,
    }
}

#[test]
fn h264_small_access_unit_is_one_stap_a() {
    let mut p = Packetizer::for_codec("video/H264", 90_000, 1200).unwrap();
    let sps = nal(7, 3, 20, 1);
    let pps = nal(8, 3, 6, 2);
    let idr = nal(5, 3, 300, 3);
    let au = annex_b(&[&sps, &pps, &idr], true);
    let chunks = p.packetize(&au, None, 5).unwrap();
    assert_eq!(chunks.len(), 1);
    assert_eq!(
        chunks[0].payload[0],
        0x60 | 24,
        "STAP-A with the highest NRI"
    );
    check_markers(&chunks, 5);
    assert!(chunks[0].keyframe);
    assert!(mediasoup_h264_keyframe(&chunks[0].payload));
    assert_eq!(h264_depacketize(&chunks), au.to_vec());
}

#[test]
fn h264_large_idr_is_fu_a_after_sps_pps_stap_a() {
    let mut p = Packetizer::for_codec("video/H264", 90_000, 1200).unwrap();
    let aud = vec![0x09, 0xf0];
    let sps = nal(7, 3, 25, 1);
    let pps = nal(8, 3, 5, 2);
    let sei = nal(6, 0, 40, 4);
    let idr = nal(5, 3, 5000, 3);
    // 3-byte start codes and trailing zeros after the SEI.
    let mut raw = annex_b(&[&aud, &sps, &pps, &sei], false).to_vec();
    raw.extend_from_slice(&[0, 0]);
    raw.extend_from_slice(&annex_b(&[&idr], false));
    let chunks = p.packetize(&Bytes::from(raw), None, 0).unwrap();
    check_markers(&chunks, 0);
    check_mtu(&chunks, 1200);
    assert_eq!(chunks[0].payload[0] & 0x1f, 24, "SPS, PPS, SEI aggregated");
    let fu = &chunks[1..];
    assert_eq!(fu.len(), 4999usize.div_ceil(1198));
    for (i, c) in fu.iter().enumerate() {
        assert_eq!(c.payload[0], 0x60 | 28, "FU indicator keeps F and NRI");
        assert_eq!(c.payload[1] & 0x1f, 5);
        assert_eq!(c.payload[1] & 0x80 != 0, i == 0, "S on the first fragment");
        assert_eq!(c.payload[1] & 0x40 != 0, i == fu.len() - 1, "E on the last");
        assert!(c.keyframe);
    }
    assert!(mediasoup_h264_keyframe(&chunks[0].payload));
    // The AUD is dropped, the rest comes back.
    let expected = annex_b(&[&sps, &pps, &sei, &idr], true);
    assert_eq!(h264_depacketize(&chunks), expected.to_vec());
}

#[test]
fn h264_sps_pps_are_never_dropped_and_are_repeated_before_keyframes() {
    // MTU so small that SPS + PPS do not fit one STAP-A (rtc-rtp drops them there).
    let mut p = Packetizer::for_codec("video/H264", 90_000, 40).unwrap();
    let sps = nal(7, 3, 30, 1);
    let pps = nal(8, 3, 20, 2);
    let idr = nal(5, 3, 100, 3);
    let au = annex_b(&[&sps, &pps, &idr], true);
    let chunks = p.packetize(&au, None, 0).unwrap();
    check_mtu(&chunks, 40);
    assert_eq!(h264_depacketize(&chunks), au.to_vec());
    assert!(mediasoup_h264_keyframe(&chunks[0].payload));

    // A delta frame goes as is.
    let slice = nal(1, 2, 30, 4);
    let chunks = p.packetize(&annex_b(&[&slice], true), None, 0).unwrap();
    assert_eq!(chunks.len(), 1);
    assert!(!chunks[0].keyframe);
    assert_eq!(chunks[0].payload.to_vec(), slice);

    // A later IDR without SPS/PPS gets the last ones in front.
    let idr2 = nal(5, 3, 60, 5);
    let chunks = p.packetize(&annex_b(&[&idr2], true), None, 0).unwrap();
    assert!(mediasoup_h264_keyframe(&chunks[0].payload));
    assert_eq!(
        h264_depacketize(&chunks),
        annex_b(&[&sps, &pps, &idr2], true).to_vec()
    );

    // An IDR with a new SPS but no PPS: the cached PPS goes after the new SPS.
    let sps2 = nal(7, 3, 12, 6);
    let chunks = p
        .packetize(&annex_b(&[&sps2, &idr2], true), None, 0)
        .unwrap();
    assert_eq!(
        h264_depacketize(&chunks),
        annex_b(&[&sps2, &pps, &idr2], true).to_vec()
    );
}

#[test]
fn rtc_rtp_h264_drops_sps_pps_that_do_not_fit_one_stap_a() {
    let mut raw = rtc_rtp::codec::h264::H264Payloader::default();
    let au = annex_b(
        &[&nal(7, 3, 30, 1), &nal(8, 3, 20, 2), &nal(5, 3, 30, 3)],
        true,
    );
    let payloads = raw.payload(40, &au).unwrap();
    assert!(payloads.iter().all(|p| !mediasoup_h264_keyframe(p)));
}

#[test]
fn h264_many_small_nal_units_are_aggregated_up_to_the_mtu() {
    let mut p = Packetizer::for_codec("video/H264", 90_000, 200).unwrap();
    let slices: Vec<Vec<u8>> = (0..20).map(|i| nal(1, 2, 45, i)).collect();
    let refs: Vec<&[u8]> = slices.iter().map(|s| s.as_slice()).collect();
    let au = annex_b(&refs, true);
    let chunks = p.packetize(&au, Some(false), 0).unwrap();
    // 4 NAL units of 45 bytes per STAP-A: 1 + 4 * 47 = 189 <= 200.
    assert_eq!(chunks.len(), 5);
    check_mtu(&chunks, 200);
    check_markers(&chunks, 0);
    assert_eq!(h264_depacketize(&chunks), au.to_vec());
}

#[test]
fn h264_rejects_input_that_is_not_annex_b() {
    let mut p = Packetizer::for_codec("video/H264", 90_000, 1200).unwrap();
    // AVCC: 4-byte length prefix.
    let avcc = Bytes::from_static(&[0, 0, 0, 5, 0x65, 1, 2, 3, 4]);
    let e = p.packetize(&avcc, None, 0).unwrap_err();
    assert!(e.to_string().contains("not an Annex B access unit"), "{e}");
    let only_aud = annex_b(&[&[0x09, 0xf0]], true);
    let e = p.packetize(&only_aud, None, 0).unwrap_err();
    assert!(e.to_string().contains("no NAL unit"), "{e}");
}

// ---------------------------------------------------------------- AV1

fn leb128(mut v: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// An OBU with its size field; `ext` adds an extension header.
fn obu(kind: u8, payload: &[u8], ext: Option<u8>) -> Vec<u8> {
    let mut o = vec![(kind << 3) | 0x02 | if ext.is_some() { 0x04 } else { 0 }];
    o.extend(ext);
    o.extend(leb128(payload.len()));
    o.extend_from_slice(payload);
    o
}

const TD: [u8; 2] = [0x12, 0x00];

fn seq_header() -> Vec<u8> {
    obu(
        1,
        &[0x00, 0x00, 0x00, 0x02, 0xaf, 0xff, 0x9b, 0x5f, 0x30, 0x08],
        None,
    )
}

fn frame_obu(key: bool, len: usize, seed: u32) -> Vec<u8> {
    let mut payload = noise(len, seed, false);
    // show_existing_frame=0, frame_type=KEY_FRAME(0) or INTER_FRAME(1), show_frame=1
    payload[0] = if key { 0x10 } else { 0x30 };
    obu(6, &payload, None)
}

/// Depacketizes with rtc-rtp and with a reading of the spec written here; both must agree.
fn av1_depacketize(chunks: &[RtpChunk]) -> Vec<u8> {
    let mut d = Av1Depacketizer::new();
    let mut out = Vec::new();
    for c in chunks {
        out.extend_from_slice(&d.depacketize(&c.payload).unwrap());
    }
    assert_eq!(out, spec_depacketize(chunks));
    out
}

/// AV1 RTP spec 4.4-4.5: aggregation header |Z|Y|W W|N|-|-|-|, OBU elements with a leb128
/// length except the last when W != 0; elements have no obu_size, which is put back.
fn spec_depacketize(chunks: &[RtpChunk]) -> Vec<u8> {
    let mut obus: Vec<Vec<u8>> = Vec::new();
    let mut open = false;
    for c in chunks {
        let p = &c.payload[..];
        let (z, y, w) = (p[0] & 0x80 != 0, p[0] & 0x40 != 0, (p[0] >> 4) & 3);
        assert_eq!(z, open, "Z must match the previous packet's Y");
        let mut off = 1;
        let mut idx = 0;
        while off < p.len() {
            idx += 1;
            let len = if w != 0 && idx == w as usize {
                p.len() - off
            } else {
                let (mut v, mut shift) = (0usize, 0);
                loop {
                    let b = p[off];
                    off += 1;
                    v |= usize::from(b & 0x7f) << shift;
                    shift += 7;
                    if b & 0x80 == 0 {
                        break;
                    }
                }
                v
            };
            let element = &p[off..off + len];
            off += len;
            if idx == 1 && z {
                obus.last_mut().unwrap().extend_from_slice(element);
            } else {
                obus.push(element.to_vec());
            }
        }
        if w != 0 {
            assert_eq!(idx, w as usize, "W counts the elements");
        }
        open = y;
    }
    assert!(!open, "the last packet must not leave an OBU open");
    let mut out = Vec::new();
    for o in obus {
        assert_eq!(o[0] & 0x02, 0, "obu_has_size_field must be 0 in RTP");
        let header_len = if o[0] & 0x04 != 0 { 2 } else { 1 };
        out.push(o[0] | 0x02);
        out.extend_from_slice(&o[1..header_len]);
        out.extend(leb128(o.len() - header_len));
        out.extend_from_slice(&o[header_len..]);
    }
    out
}

#[test]
fn av1_round_trip_over_many_sizes_and_mtus() {
    for mtu in [32, 33, 100, 129, 130, 131, 500, 1200] {
        let mut p = Packetizer::for_codec("video/AV1", 90_000, mtu).unwrap();
        for seed in 0..40u32 {
            let n = 1 + seed as usize % 6;
            let mut tu = TD.to_vec();
            let mut expected = Vec::new();
            let key = seed % 5 == 0;
            if key {
                tu.extend(seq_header());
                expected.extend(seq_header());
            }
            for k in 0..n {
                let size =
                    noise(1, seed * 7 + k as u32, false)[0] as usize * (1 + seed as usize % 13) + 1;
                let o = if k == n - 1 {
                    frame_obu(key, size.max(2), seed + k as u32)
                } else if k % 2 == 0 {
                    obu(5, &noise(size, seed + 100, false), Some(0x08)) // metadata, extension
                } else {
                    obu(4, &noise(size, seed + 200, false), None) // tile group
                };
                tu.extend(&o);
                expected.extend(&o);
            }
            tu.extend(obu(15, &[0, 0, 0], None)); // padding: dropped
            let chunks = p.packetize(&Bytes::from(tu), None, 7).unwrap();
            check_markers(&chunks, 7);
            check_mtu(&chunks, mtu);
            assert_eq!(av1_depacketize(&chunks), expected, "mtu {mtu} seed {seed}");
            for (i, c) in chunks.iter().enumerate() {
                assert_eq!(c.keyframe, key);
                assert_eq!(c.payload[0] & 0x08 != 0, key && i == 0, "N bit");
            }
        }
    }
}

#[test]
fn av1_last_obu_without_size_field_is_accepted() {
    let mut p = Packetizer::for_codec("video/AV1", 90_000, 1200).unwrap();
    let mut tu = TD.to_vec();
    tu.extend(seq_header());
    let frame = frame_obu(true, 3000, 1);
    // Same OBU, its size field removed (allowed for the last OBU).
    let payload_start = 1 + leb128(2999).len();
    tu.push(frame[0] & !0x02);
    tu.extend_from_slice(&frame[payload_start..]);
    let chunks = p.packetize(&Bytes::from(tu), None, 0).unwrap();
    let mut expected = seq_header();
    expected.extend(frame);
    assert_eq!(av1_depacketize(&chunks), expected);
    assert!(chunks[0].keyframe);
}

#[test]
fn av1_n_bit_only_on_keyframes_and_sequence_header_repeated() {
    let mut p = Packetizer::for_codec("video/AV1", 90_000, 1200).unwrap();
    let mut key = seq_header();
    key.extend(frame_obu(true, 500, 1));
    let c = p.packetize(&Bytes::from(key.clone()), None, 0).unwrap();
    assert!(c[0].keyframe);
    assert_ne!(c[0].payload[0] & 0x08, 0);

    // A delta frame that repeats the sequence header: rtc-rtp sets N, we do not.
    let mut delta = seq_header();
    delta.extend(frame_obu(false, 500, 2));
    let c = p.packetize(&Bytes::from(delta.clone()), None, 0).unwrap();
    assert!(!c[0].keyframe);
    assert_eq!(c[0].payload[0] & 0x08, 0);
    let raw = rtc_rtp::codec::av1::Av1Payloader::default()
        .payload(1200, &Bytes::from(delta))
        .unwrap();
    assert_ne!(raw[0][0] & 0x08, 0, "rtc-rtp sets N on a delta frame");

    // A keyframe without a sequence header gets the last one in front.
    let bare_key = frame_obu(true, 400, 3);
    let c = p
        .packetize(&Bytes::from(bare_key.clone()), None, 0)
        .unwrap();
    assert!(c[0].keyframe);
    assert_ne!(c[0].payload[0] & 0x08, 0);
    let mut expected = seq_header();
    expected.extend(bare_key);
    assert_eq!(av1_depacketize(&c), expected);

    // Caller's flag wins.
    let c = p
        .packetize(&Bytes::from(frame_obu(false, 50, 4)), Some(true), 0)
        .unwrap();
    assert!(c[0].keyframe);
}

#[test]
fn av1_malformed_temporal_units_are_errors_not_panics() {
    let mut p = Packetizer::for_codec("video/AV1", 90_000, 1200).unwrap();
    let mut truncated = frame_obu(true, 500, 1);
    truncated.truncate(300);
    for bad in [
        truncated,
        vec![0x32, 0xff, 0xff], // obu_size leb128 never ends
        vec![0x34],             // extension flag, no extension byte
        vec![0xb2, 0x01, 0x00], // forbidden bit
        TD.to_vec(),            // nothing to send
        obu(15, &[1, 2], None), // padding only
    ] {
        let e = p.packetize(&Bytes::from(bad.clone()), None, 0).unwrap_err();
        assert!(
            e.to_string().starts_with("malformed AV1 frame"),
            "{bad:02x?}: {e}"
        );
    }
}

// ---------------------------------------------------------------- Opus

#[test]
fn opus_one_frame_is_one_packet_without_marker() {
    let mut p = Packetizer::for_codec("audio/opus", 48_000, 1200).unwrap();
    for len in [1, 80, 1275, 1500] {
        let frame = Bytes::from(noise(len, len as u32, false));
        let chunks = p.packetize(&frame, None, 960).unwrap();
        assert_eq!(chunks.len(), 1, "never split, even above the MTU");
        assert!(!chunks[0].marker);
        assert!(chunks[0].keyframe);
        assert_eq!(chunks[0].timestamp, 960);
        let mut d = OpusPacket;
        assert_eq!(d.depacketize(&chunks[0].payload).unwrap(), frame);
    }
}
