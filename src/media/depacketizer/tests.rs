//! Round trips through this crate's `Packetizer` over the bundled samples, in order and with
//! the network's troubles (reordering, duplicates, repaired and unrepaired losses, wraps), and
//! hand-built packets for what the packetizer never sends.

use super::*;
use crate::{H264Reader, IvfReader, OggOpusReader, Packetizer};
use std::path::PathBuf;

const VIDEO: [&str; 4] = ["video/VP8", "video/VP9", "video/H264", "video/AV1"];
const ALL: [&str; 5] = [
    "video/VP8",
    "video/VP9",
    "video/H264",
    "video/AV1",
    "audio/opus",
];

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples")
}

/// The first `n` frames of the sample of `mime`.
pub(crate) fn sample_frames(mime: &str, n: usize) -> Vec<Bytes> {
    let dir = samples();
    let ivf = |name: &str| -> Vec<Bytes> {
        IvfReader::open(dir.join(name))
            .unwrap()
            .take(n)
            .map(|f| f.unwrap().data)
            .collect()
    };
    match mime {
        "video/VP8" => ivf("vp8.ivf"),
        "video/VP9" => ivf("vp9.ivf"),
        "video/AV1" => ivf("av1.ivf"),
        "video/H264" => H264Reader::open(dir.join("h264.h264"), 30.0)
            .unwrap()
            .take(n)
            .map(|a| a.unwrap().data)
            .collect(),
        "audio/opus" => OggOpusReader::open(dir.join("opus.ogg"))
            .unwrap()
            .take(n)
            .map(|p| p.unwrap().data)
            .collect(),
        _ => unreachable!(),
    }
}

fn clock(mime: &str) -> (u32, u32) {
    if mime == "audio/opus" {
        (48_000, 960)
    } else {
        (90_000, 3000)
    }
}

/// What the assembler must give back for one frame written to the packetizer.
#[derive(Debug, Clone)]
pub(super) struct Expected {
    pub(super) data: Bytes,
    pub(super) keyframe: bool,
    pub(super) timestamp: u32,
    /// Index of its first packet in `Stream::packets`.
    pub(super) first: usize,
}

pub(super) struct Stream {
    pub(super) mime: &'static str,
    pub(super) packets: Vec<ReceivedPacket>,
    pub(super) frames: Vec<Expected>,
}

/// Packetizes `frames` (MTU 300, so that most video frames take several packets), sequence
/// numbers from `first_sequence`, timestamps from `first_timestamp`.
fn stream(
    mime: &'static str,
    frames: &[Bytes],
    first_sequence: u16,
    first_timestamp: u32,
) -> Stream {
    let (rate, step) = clock(mime);
    let mut packetizer = Packetizer::for_codec(mime, rate, 300).unwrap();
    let mut packets = Vec::new();
    let mut expected = Vec::new();
    let mut sequence = first_sequence;
    for (i, frame) in frames.iter().enumerate() {
        let timestamp = first_timestamp.wrapping_add(step * i as u32);
        let chunks = packetizer.packetize(frame, None, timestamp).unwrap();
        expected.push(Expected {
            data: frame.clone(),
            keyframe: chunks[0].keyframe,
            timestamp,
            first: packets.len(),
        });
        for c in chunks {
            packets.push(ReceivedPacket {
                sequence_number: sequence,
                timestamp,
                marker: c.marker,
                payload: c.payload,
            });
            sequence = sequence.wrapping_add(1);
        }
    }
    Stream {
        mime,
        packets,
        frames: expected,
    }
}

/// A stream of a sample's first `n` frames, twice (so that a second keyframe follows).
pub(super) fn sample_stream(
    mime: &'static str,
    n: usize,
    first_sequence: u16,
    first_timestamp: u32,
) -> Stream {
    let mut frames = sample_frames(mime, n);
    frames.extend(frames.clone());
    stream(mime, &frames, first_sequence, first_timestamp)
}

pub(super) struct Run {
    pub(super) frames: Vec<AssembledFrame>,
    pub(super) stats: AssemblerStats,
    pub(super) requests: usize,
    pub(super) most_buffered: usize,
}

/// Pushes `arrivals` (packet, arrival in ms from the start), running the timer as a caller
/// would (at `poll_timeout`), then runs it once more long after the last packet.
pub(super) fn run(
    mime: &str,
    options: AssemblerOptions,
    arrivals: &[(u64, ReceivedPacket)],
) -> Run {
    let t0 = Instant::now();
    let mut a = FrameAssembler::new(mime, options).unwrap();
    let mut out = Run {
        frames: Vec::new(),
        stats: AssemblerStats::default(),
        requests: 0,
        most_buffered: 0,
    };
    let drain = |a: &mut FrameAssembler, out: &mut Run| {
        while let Some(f) = a.poll_frame() {
            out.frames.push(f);
        }
        out.requests += usize::from(a.take_keyframe_request());
        out.most_buffered = out.most_buffered.max(a.buffered());
    };
    for (ms, packet) in arrivals {
        let now = t0 + Duration::from_millis(*ms);
        while let Some(at) = a.poll_timeout().filter(|&at| at <= now) {
            a.handle_timeout(at);
            drain(&mut a, &mut out);
        }
        a.push(now, packet.clone());
        drain(&mut a, &mut out);
    }
    let end = arrivals.last().map_or(0, |(ms, _)| *ms) + 60_000;
    a.handle_timeout(t0 + Duration::from_millis(end));
    drain(&mut a, &mut out);
    assert_eq!(a.poll_timeout(), None, "{mime}: still waiting at the end");
    out.stats = a.stats();
    out
}

fn in_order(packets: &[ReceivedPacket]) -> Vec<(u64, ReceivedPacket)> {
    packets
        .iter()
        .enumerate()
        .map(|(i, p)| (i as u64, p.clone()))
        .collect()
}

/// Annex B -> NAL units, AUD and filler left out (the packetizer does not send them).
fn nal_units(au: &[u8]) -> Vec<Vec<u8>> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= au.len() {
        if au[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut nalus = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let mut e = starts.get(k + 1).map_or(au.len(), |&n| n - 3);
        while e > s && au[e - 1] == 0 {
            e -= 1;
        }
        if e > s && !matches!(au[s] & 0x1f, 9 | 12) {
            nalus.push(au[s..e].to_vec());
        }
    }
    nalus
}

fn leb128(data: &[u8]) -> (usize, usize) {
    let mut v = 0;
    for (i, &b) in data.iter().enumerate() {
        v |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return (v, i + 1);
        }
    }
    panic!("bad leb128");
}

/// A low-overhead AV1 temporal unit -> (OBU header without the size flag, payload), temporal
/// delimiters, tile lists and padding left out.
fn obus(tu: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < tu.len() {
        let h = tu[at];
        let hl = if h & 0x04 != 0 { 2 } else { 1 };
        let mut header = tu[at..at + hl].to_vec();
        header[0] &= !0x02;
        let (size, n) = if h & 0x02 != 0 {
            leb128(&tu[at + hl..])
        } else {
            (tu.len() - at - hl, 0)
        };
        let start = at + hl + n;
        if !matches!((h >> 3) & 0x0f, 2 | 8 | 15) {
            out.push((header, tu[start..start + size].to_vec()));
        }
        at = start + size;
    }
    out
}

/// Asserts that `got` is `want` (same bitstream, in the codec's terms).
pub(super) fn assert_same_frame(mime: &str, got: &AssembledFrame, want: &Expected, what: &str) {
    assert_eq!(
        got.rtp_timestamp, want.timestamp,
        "{mime} {what}: timestamp"
    );
    assert_eq!(
        got.keyframe, want.keyframe,
        "{mime} {what}: keyframe flag at {}",
        want.timestamp
    );
    match mime {
        "video/H264" => {
            assert!(
                got.data.starts_with(&[0, 0, 0, 1]),
                "{mime} {what}: Annex B"
            );
            let (got, want) = (nal_units(&got.data), nal_units(&want.data));
            let types = |n: &[Vec<u8>]| n.iter().map(|n| n[0] & 0x1f).collect::<Vec<_>>();
            assert!(
                got == want,
                "{mime} {what}: NAL units of types {:?}, want {:?}",
                types(&got),
                types(&want)
            );
        }
        "video/AV1" => {
            assert_eq!(
                &got.data[..2],
                &[0x12, 0],
                "{mime} {what}: temporal delimiter first"
            );
            let mut at = 0;
            while at < got.data.len() {
                let h = got.data[at];
                assert!(h & 0x02 != 0, "{mime} {what}: OBU without size field");
                let hl = if h & 0x04 != 0 { 2 } else { 1 };
                let (size, n) = leb128(&got.data[at + hl..]);
                at += hl + n + size;
            }
            assert_eq!(at, got.data.len(), "{mime} {what}: OBU sizes");
            let (got, want) = (obus(&got.data), obus(&want.data));
            let types =
                |o: &[(Vec<u8>, Vec<u8>)]| o.iter().map(|o| o.0[0] >> 3).collect::<Vec<_>>();
            assert!(
                got == want,
                "{mime} {what}: OBUs of types {:?}, want {:?}",
                types(&got),
                types(&want)
            );
        }
        _ => assert!(
            got.data == want.data,
            "{mime} {what}: {} bytes, want {}",
            got.data.len(),
            want.data.len()
        ),
    }
}

/// Asserts that `run` gave back exactly `want`, in order, with no gap.
fn assert_all_frames(mime: &str, run: &Run, want: &[Expected], what: &str) {
    assert_eq!(run.frames.len(), want.len(), "{mime} {what}: frame count");
    for (got, want) in run.frames.iter().zip(want) {
        assert_same_frame(mime, got, want, what);
        assert!(!got.gap_before, "{mime} {what}: gap at {}", want.timestamp);
    }
    assert_eq!(run.stats.frames, want.len() as u64, "{mime} {what}: stats");
    assert_eq!(run.stats.frames_dropped, 0, "{mime} {what}: dropped");
    assert_eq!(run.stats.packets_lost, 0, "{mime} {what}: lost");
    assert_eq!(run.requests, 0, "{mime} {what}: keyframe requests");
}

#[test]
fn new_takes_the_five_codecs_case_insensitively_and_refuses_others() {
    for mime in ALL {
        FrameAssembler::new(&mime.to_uppercase(), AssemblerOptions::default()).unwrap();
    }
    let err = FrameAssembler::new("video/H265", AssemblerOptions::default()).unwrap_err();
    assert!(
        matches!(err, MediaError::UnsupportedCodec { .. }),
        "{err:?}"
    );
}

#[test]
fn samples_come_back_frame_for_frame_in_order() {
    for mime in ALL {
        let s = sample_stream(mime, 30, 1000, 90_000);
        assert!(
            s.packets.len() > s.frames.len() || mime == "audio/opus",
            "{mime}"
        );
        let r = run(mime, AssemblerOptions::default(), &in_order(&s.packets));
        assert_all_frames(mime, &r, &s.frames, "in order");
        assert_eq!(r.stats.duplicates + r.stats.late, 0, "{mime}");
        for (f, w) in r.frames.iter().zip(&s.frames) {
            assert_eq!(f.first_sequence, 1000 + w.first as u16, "{mime}");
        }
        let packets: usize = r.frames.iter().map(|f| usize::from(f.packets)).sum();
        assert_eq!(packets, s.packets.len(), "{mime}");
    }
}

/// A frame goes out with its marker packet, not when the next frame begins.
#[test]
fn a_frame_goes_out_with_its_last_packet() {
    for mime in ALL {
        let s = sample_stream(mime, 4, 7, 0);
        let mut a = FrameAssembler::new(mime, AssemblerOptions::default()).unwrap();
        let now = Instant::now();
        let second = s.frames[1].first;
        for p in &s.packets[..second] {
            a.push(now, p.clone());
        }
        let f = a
            .poll_frame()
            .unwrap_or_else(|| panic!("{mime}: first frame not out"));
        assert_same_frame(mime, &f, &s.frames[0], "first");
        assert!(f.keyframe, "{mime}");
        assert_eq!(f.extended_timestamp, 0, "{mime}");
        assert_eq!(a.poll_frame(), None, "{mime}");
        assert_eq!(a.poll_timeout(), None, "{mime}");
        assert!(!a.take_keyframe_request(), "{mime}");
    }
}

/// Deterministic shuffle: packets permuted within consecutive windows of `window`.
fn shuffled(packets: &[ReceivedPacket], window: usize, seed: u32) -> Vec<ReceivedPacket> {
    let mut state = seed;
    let mut out = Vec::with_capacity(packets.len());
    for chunk in packets.chunks(window) {
        let mut chunk = chunk.to_vec();
        for i in (1..chunk.len()).rev() {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            chunk.swap(i, (state >> 16) as usize % (i + 1));
        }
        out.extend(chunk);
    }
    out
}

#[test]
fn shuffled_packets_come_back_in_order() {
    for mime in ALL {
        let s = sample_stream(mime, 30, 2000, 0);
        for seed in 1..4 {
            let mut packets = shuffled(&s.packets, 7, seed);
            if mime == "audio/opus" {
                // An audio frame goes out at once: a packet older than the very first one
                // received would be late.
                let first = packets
                    .iter()
                    .position(|p| p.sequence_number == 2000)
                    .unwrap();
                let p = packets.remove(first);
                packets.insert(0, p);
            }
            let r = run(mime, AssemblerOptions::default(), &in_order(&packets));
            assert_all_frames(mime, &r, &s.frames, "shuffled");
            assert_eq!(r.stats.late, 0, "{mime}");
        }
    }
}

/// Video: the stream's first packets arrive reversed; the keyframe still goes out first.
#[test]
fn the_first_packets_reordered_still_give_the_first_keyframe() {
    for mime in VIDEO {
        let s = sample_stream(mime, 6, 300, 0);
        let mut packets = s.packets.clone();
        packets[..s.frames[2].first + 1].reverse();
        let r = run(mime, AssemblerOptions::default(), &in_order(&packets));
        assert_all_frames(mime, &r, &s.frames, "start reversed");
    }
}

#[test]
fn duplicates_are_dropped_and_counted() {
    for mime in ALL {
        let s = sample_stream(mime, 20, 50, 0);
        let mut arrivals = Vec::new();
        for (i, p) in s.packets.iter().enumerate() {
            arrivals.push(p.clone());
            arrivals.push(p.clone()); // duplicated at once: buffered or handed out
            if i >= 3 {
                arrivals.push(s.packets[i - 3].clone()); // a retransmission of a delivered one
            }
        }
        let r = run(mime, AssemblerOptions::default(), &in_order(&arrivals));
        assert_all_frames(mime, &r, &s.frames, "duplicated");
        assert_eq!(
            r.stats.duplicates + r.stats.late,
            (2 * s.packets.len() - 3) as u64,
            "{mime}"
        );
    }
}

/// A packet to lose: Opus, the sixth; video, the middle one of the first non-key frame of
/// at least 3 packets after the second frame.
fn victim(s: &Stream) -> usize {
    if s.mime == "audio/opus" {
        return 5;
    }
    let end = |f: usize| s.frames.get(f + 1).map_or(s.packets.len(), |n| n.first);
    let f = (2..s.frames.len())
        .find(|&f| !s.frames[f].keyframe && end(f) - s.frames[f].first >= 3)
        .expect("a non-key frame of 3 packets");
    s.frames[f].first + 1
}

#[test]
fn a_lost_packet_repaired_within_max_wait_leaves_no_gap() {
    for mime in ALL {
        let s = sample_stream(mime, 20, 60_000, 0);
        let k = victim(&s);
        let mut packets = s.packets.clone();
        let lost = packets.remove(k);
        packets.insert(k + 6, lost); // 6 ms later, well within 200 ms
        let r = run(mime, AssemblerOptions::default(), &in_order(&packets));
        assert_all_frames(mime, &r, &s.frames, "repaired");
        assert_eq!(r.stats.late, 0, "{mime}");
    }
}

#[test]
fn the_hole_deadline_is_max_wait_after_the_packet_that_showed_it() {
    for mime in ALL {
        let s = sample_stream(mime, 20, 10, 0);
        let k = victim(&s);
        let mut a = FrameAssembler::new(mime, AssemblerOptions::default()).unwrap();
        let t0 = Instant::now();
        for p in &s.packets[..k] {
            a.push(t0, p.clone());
        }
        assert_eq!(a.poll_timeout(), None, "{mime}");
        let t1 = t0 + Duration::from_millis(5);
        a.push(t1, s.packets[k + 1].clone());
        a.push(t1 + Duration::from_millis(7), s.packets[k + 2].clone());
        let deadline = t1 + Duration::from_millis(200);
        assert_eq!(a.poll_timeout(), Some(deadline), "{mime}");
        a.handle_timeout(deadline - Duration::from_millis(1));
        assert_eq!(a.stats().packets_lost, 0, "{mime}");
        a.handle_timeout(deadline);
        assert_eq!(a.stats().packets_lost, 1, "{mime}");
        assert_eq!(a.take_keyframe_request(), mime != "audio/opus", "{mime}");
        // Arriving now, it is late.
        a.push(deadline, s.packets[k].clone());
        assert_eq!(a.stats().late, 1, "{mime}");
    }
}

#[test]
fn a_lost_packet_never_repaired_drops_video_until_the_next_keyframe() {
    for mime in ALL {
        let s = sample_stream(mime, 20, 65_000, 0);
        let k = victim(&s);
        let broken = s.frames.iter().rposition(|f| f.first <= k).unwrap();
        let next_key = s
            .frames
            .iter()
            .skip(broken + 1)
            .position(|f| f.keyframe)
            .unwrap()
            + broken
            + 1;
        let mut packets = s.packets.clone();
        packets.remove(k);
        let r = run(mime, AssemblerOptions::default(), &in_order(&packets));
        assert_eq!(r.stats.packets_lost, 1, "{mime}");
        let want: Vec<&Expected> = if mime == "audio/opus" {
            s.frames.iter().filter(|f| f.first != k).collect()
        } else {
            s.frames[..broken]
                .iter()
                .chain(&s.frames[next_key..])
                .collect()
        };
        assert_eq!(r.frames.len(), want.len(), "{mime}");
        for (i, (got, want)) in r.frames.iter().zip(&want).enumerate() {
            assert_same_frame(mime, got, want, "after a loss");
            assert_eq!(got.gap_before, i == broken, "{mime}: gap at frame {i}");
        }
        if mime == "audio/opus" {
            assert_eq!(r.requests, 0);
            assert_eq!(r.stats.frames_dropped, 0);
        } else {
            assert!(r.frames[broken].keyframe, "{mime}");
            assert_eq!(r.requests, 1, "{mime}: one keyframe request");
            assert_eq!(r.stats.keyframe_requests, 1, "{mime}");
            assert_eq!(r.stats.frames_dropped, (next_key - broken) as u64, "{mime}");
        }
    }
}

#[test]
fn sequence_numbers_and_timestamps_wrap() {
    for mime in ALL {
        let (_, step) = clock(mime);
        let first_timestamp = u32::MAX - 4 * step;
        let s = sample_stream(mime, 30, 65_500, first_timestamp);
        assert!(
            s.packets.len() > 40,
            "{mime}: the sequence numbers must wrap"
        );
        for packets in [s.packets.clone(), shuffled(&s.packets, 5, 9)] {
            let mut packets = packets;
            if mime == "audio/opus" {
                let first = packets
                    .iter()
                    .position(|p| p.sequence_number == 65_500)
                    .unwrap();
                let p = packets.remove(first);
                packets.insert(0, p);
            }
            let r = run(mime, AssemblerOptions::default(), &in_order(&packets));
            assert_all_frames(mime, &r, &s.frames, "wrapping");
            for (i, f) in r.frames.iter().enumerate() {
                assert_eq!(
                    f.extended_timestamp,
                    u64::from(first_timestamp) + u64::from(step) * i as u64,
                    "{mime}: frame {i}"
                );
            }
        }
    }
}

#[test]
fn video_starting_mid_stream_waits_for_a_keyframe_and_asks_for_one_once() {
    for mime in VIDEO {
        let s = sample_stream(mime, 10, 0, 0);
        let key = s.frames.iter().skip(1).position(|f| f.keyframe).unwrap() + 1;
        let packets = &s.packets[s.frames[3].first..];
        let mut a = FrameAssembler::new(mime, AssemblerOptions::default()).unwrap();
        let t0 = Instant::now();
        for p in &packets[..s.frames[4].first - s.frames[3].first] {
            a.push(t0, p.clone());
        }
        // The first frame is no keyframe: an older packet may still come, until max_wait.
        assert_eq!(
            a.poll_timeout(),
            Some(t0 + Duration::from_millis(200)),
            "{mime}"
        );
        let r = run(mime, AssemblerOptions::default(), &in_order(packets));
        assert_eq!(r.requests, 1, "{mime}");
        assert_eq!(r.stats.frames_dropped, (key - 3) as u64, "{mime}");
        assert_eq!(r.frames.len(), s.frames.len() - key, "{mime}");
        for (got, want) in r.frames.iter().zip(&s.frames[key..]) {
            assert_same_frame(mime, got, want, "mid-stream");
            assert!(!got.gap_before, "{mime}");
        }
    }
}

#[test]
fn a_packet_starting_mid_frame_is_dropped_after_max_wait() {
    for mime in VIDEO {
        let s = sample_stream(mime, 4, 0, 0);
        // Frame 0 without its first packet.
        let packets = &s.packets[1..];
        let r = run(mime, AssemblerOptions::default(), &in_order(packets));
        assert_eq!(r.requests, 1, "{mime}");
        assert!(r.stats.frames_dropped >= 1, "{mime}");
        assert_eq!(r.frames.len(), 4, "{mime}: the second copy's frames");
        assert!(r.frames[0].keyframe, "{mime}");
    }
}

#[test]
fn the_buffer_stays_within_max_packets() {
    for mime in ALL {
        let s = sample_stream(mime, 30, 0, 0);
        let k = victim(&s);
        let mut packets = s.packets.clone();
        packets.remove(k);
        let largest = (0..s.frames.len())
            .map(|f| s.frames.get(f + 1).map_or(s.packets.len(), |n| n.first) - s.frames[f].first)
            .max()
            .unwrap();
        let bound = 2 * largest + 2;
        let options = AssemblerOptions {
            max_wait: Duration::from_secs(3600),
            max_packets: bound,
        };
        // All within a millisecond: only the bound can declare the hole lost.
        let arrivals: Vec<_> = packets.iter().map(|p| (0, p.clone())).collect();
        let r = run(mime, options, &arrivals);
        assert!(
            r.most_buffered <= bound,
            "{mime}: {} buffered",
            r.most_buffered
        );
        assert_eq!(r.stats.packets_lost, 1, "{mime}");
        let last = s.frames.last().unwrap();
        assert_eq!(
            r.frames.last().unwrap().rtp_timestamp,
            last.timestamp,
            "{mime}"
        );
    }
}

#[test]
fn a_far_jump_and_garbage_never_grow_the_buffer() {
    let mut a = FrameAssembler::new(
        "video/VP8",
        AssemblerOptions {
            max_wait: Duration::from_secs(3600),
            max_packets: 4,
        },
    )
    .unwrap();
    let now = Instant::now();
    for i in 0..1000u32 {
        a.push(
            now,
            ReceivedPacket {
                sequence_number: (i * 7919) as u16,
                timestamp: i,
                marker: i % 3 == 0,
                payload: Bytes::from(vec![0x90, 0, 1, 2, 3]),
            },
        );
        assert!(a.buffered() <= 4);
        assert!(a.marks() <= a.buffered() + 1, "{} marks", a.marks());
    }
}

#[test]
fn frames_nobody_polls_are_bounded() {
    let s = sample_stream("audio/opus", 50, 0, 0);
    let mut a = FrameAssembler::new(
        "audio/opus",
        AssemblerOptions {
            max_wait: Duration::from_millis(200),
            max_packets: 16,
        },
    )
    .unwrap();
    let now = Instant::now();
    for p in &s.packets {
        a.push(now, p.clone());
        assert!(a.ready_frames() <= 16);
    }
    assert_eq!(a.stats().frames_dropped, s.packets.len() as u64 - 16);
    assert!(a.poll_frame().unwrap().gap_before);
}

#[test]
fn padding_packets_take_a_sequence_number_and_no_frame() {
    for mime in ALL {
        let s = sample_stream(mime, 6, 0, 0);
        let mut packets = Vec::new();
        let mut sequence = 0u16;
        for (i, f) in s.frames.iter().enumerate() {
            let end = s.frames.get(i + 1).map_or(s.packets.len(), |n| n.first);
            for p in &s.packets[f.first..end] {
                packets.push(ReceivedPacket {
                    sequence_number: sequence,
                    ..p.clone()
                });
                sequence += 1;
            }
            packets.push(ReceivedPacket {
                sequence_number: sequence,
                timestamp: f.timestamp,
                marker: false,
                payload: Bytes::new(),
            });
            sequence += 1;
        }
        let r = run(mime, AssemblerOptions::default(), &in_order(&packets));
        assert_eq!(r.frames.len(), s.frames.len(), "{mime}");
        assert_eq!(r.stats.packets_lost + r.stats.frames_dropped, 0, "{mime}");
    }
}

#[test]
fn malformed_video_frames_are_dropped_and_ask_for_a_keyframe() {
    // A descriptor and nothing else, for each video codec; then the sample resumes with a
    // keyframe.
    let empty: [(&str, &[u8]); 4] = [
        ("video/VP8", &[0x90, 0x80, 0x80, 0x01]),
        ("video/VP9", &[0x9c, 0x80, 0x01]),
        ("video/H264", &[0x1d]),      // FU-B: not allowed
        ("video/AV1", &[0x10, 0x80]), // W=1, one OBU with its forbidden bit set
    ];
    for (mime, payload) in empty {
        let s = sample_stream(mime, 3, 0, 3000);
        let mut a = FrameAssembler::new(mime, AssemblerOptions::default()).unwrap();
        let now = Instant::now();
        for p in &s.packets[..s.frames[1].first] {
            a.push(now, p.clone());
        }
        assert!(a.poll_frame().unwrap().keyframe, "{mime}");
        let bad = ReceivedPacket {
            sequence_number: s.packets[s.frames[1].first].sequence_number,
            timestamp: 1,
            marker: true,
            payload: Bytes::from_static(payload),
        };
        a.push(now, bad);
        assert_eq!(a.stats().frames_dropped, 1, "{mime}");
        assert!(a.take_keyframe_request(), "{mime}");
        assert!(!a.take_keyframe_request(), "{mime}: once");
        // The rest of the first copy (non-key frames) is dropped, the second copy's keyframe
        // goes out.
        for p in &s.packets[s.frames[1].first + 1..] {
            a.push(now, p.clone());
        }
        let out: Vec<_> = std::iter::from_fn(|| a.poll_frame()).collect();
        assert!(out[0].keyframe && !out[0].gap_before, "{mime}");
        assert_eq!(out.len(), 3, "{mime}");
    }
}

#[test]
fn vp8_temporal_layer_comes_from_tid() {
    // X=1, S=1; I=1 (15-bit picture id), T=1 with TID=2; a key frame's tag.
    let payload = [
        0x90, 0xa0, 0x80, 0x10, 0x80, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0, 0,
    ];
    let mut a = FrameAssembler::new("video/VP8", AssemblerOptions::default()).unwrap();
    a.push(
        Instant::now(),
        ReceivedPacket {
            sequence_number: 1,
            timestamp: 5,
            marker: true,
            payload: Bytes::copy_from_slice(&payload),
        },
    );
    let f = a.poll_frame().unwrap();
    assert_eq!(f.temporal_layer, Some(2));
    assert_eq!(f.spatial_layer, None);
    assert!(f.keyframe);
    assert_eq!(&f.data[..], &payload[5..]);
}

#[test]
fn a_vp9_picture_of_two_spatial_layers_becomes_a_superframe() {
    let frames = sample_frames("video/VP9", 2);
    let (base, upper) = (&frames[0], Bytes::from(vec![0x86; 300]));
    // Flexible mode, L=1, 7-bit picture id 5: layer 0 (B, E), layer 1 over two packets (B;
    // E with the marker). P=0 everywhere (a keyframe picture), TID=0, D=1 on layer 1.
    let packet = |seq: u16, flags: u8, sid: u8, data: &[u8], marker: bool| {
        let mut p = vec![
            0x80 | 0x20 | 0x10 | flags,
            0x05,
            (sid << 1) | u8::from(sid > 0),
        ];
        p.extend_from_slice(data);
        ReceivedPacket {
            sequence_number: seq,
            timestamp: 9000,
            marker,
            payload: Bytes::from(p),
        }
    };
    let packets = [
        packet(10, 0x08 | 0x04, 0, base, false),
        packet(11, 0x08, 1, &upper[..100], false),
        packet(12, 0x04, 1, &upper[100..], true),
    ];
    let mut want = base.to_vec();
    want.extend_from_slice(&upper);
    let marker = if base.len() > 255 { 0xc9 } else { 0xc1 };
    want.push(marker);
    if base.len() > 255 {
        want.extend_from_slice(&(base.len() as u16).to_le_bytes());
        want.extend_from_slice(&300u16.to_le_bytes());
    } else {
        want.push(base.len() as u8);
        want.extend_from_slice(&300u16.to_le_bytes()[..1]);
    }
    want.push(marker);

    for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
        let arrivals: Vec<_> = order.iter().map(|&i| (0, packets[i].clone())).collect();
        let r = run("video/VP9", AssemblerOptions::default(), &arrivals);
        assert_eq!(r.frames.len(), 1, "{order:?}");
        let f = &r.frames[0];
        assert_eq!(&f.data[..], &want[..], "{order:?}");
        assert!(f.keyframe);
        assert_eq!(f.spatial_layer, Some(1));
        assert_eq!(f.temporal_layer, Some(0));
        assert_eq!(f.packets, 3);
    }
}

#[test]
fn h264_mode_0_and_stap_a_and_fu_a_make_one_access_unit() {
    let sps = [0x67, 0x42, 0xc0, 0x1f];
    let pps = [0x68, 0xce, 0x3c, 0x80];
    let idr: Vec<u8> = [0x65, 0x88].iter().copied().chain(0..200).collect();
    let mut stap = vec![0x78, 0, 4];
    stap.extend_from_slice(&sps);
    stap.extend_from_slice(&[0, 4]);
    stap.extend_from_slice(&pps);
    let fu = |s: bool, e: bool, body: &[u8]| {
        let mut p = vec![0x7c, (u8::from(s) << 7) | (u8::from(e) << 6) | 5];
        p.extend_from_slice(body);
        p
    };
    let payloads = [
        stap,
        fu(true, false, &idr[1..100]),
        fu(false, true, &idr[100..]),
        vec![0x06, 0x05, 0x01], // SEI, single NAL unit
    ];
    let mut a = FrameAssembler::new("video/H264", AssemblerOptions::default()).unwrap();
    for (i, p) in payloads.iter().enumerate() {
        a.push(
            Instant::now(),
            ReceivedPacket {
                sequence_number: 100 + i as u16,
                timestamp: 0,
                marker: i == 3,
                payload: Bytes::from(p.clone()),
            },
        );
    }
    let f = a.poll_frame().unwrap();
    assert!(f.keyframe);
    let mut want = vec![0, 0, 0, 1];
    want.extend_from_slice(&sps);
    want.extend_from_slice(&[0, 0, 0, 1]);
    want.extend_from_slice(&pps);
    want.extend_from_slice(&[0, 0, 0, 1]);
    want.extend_from_slice(&idr);
    want.extend_from_slice(&[0, 0, 0, 1, 0x06, 0x05, 0x01]);
    assert_eq!(&f.data[..], &want[..]);
}

#[test]
fn av1_obus_with_size_fields_in_the_packet_come_out_once_sized() {
    // W=0: each element with its length; the OBUs themselves carry size fields (allowed).
    // N=1: a new coded video sequence (keyframe).
    let sequence_header = [0x0a, 0x03, 0x00, 0x00, 0x00];
    let frame = [0x32, 0x02, 0x10, 0x20];
    let mut p = vec![0x08, sequence_header.len() as u8];
    p.extend_from_slice(&sequence_header);
    p.push(frame.len() as u8);
    p.extend_from_slice(&frame);
    let mut a = FrameAssembler::new("video/AV1", AssemblerOptions::default()).unwrap();
    a.push(
        Instant::now(),
        ReceivedPacket {
            sequence_number: 1,
            timestamp: 0,
            marker: true,
            payload: Bytes::from(p),
        },
    );
    let f = a.poll_frame().unwrap();
    assert!(f.keyframe);
    assert_eq!(
        &f.data[..],
        &[0x12, 0x00, 0x0a, 0x03, 0x00, 0x00, 0x00, 0x32, 0x02, 0x10, 0x20]
    );
}

#[test]
fn vp9_non_flexible_mode_with_scalability_structure() {
    let frames = sample_frames("video/VP9", 2);
    // Picture 1 (key): I=1 (7-bit id), L=1, F=0, B, E, V=1; layer byte TID=0 SID=0;
    // TL0PICIDX; SS with N_S=0, Y=1, G=1: 640x360, one group (TID 0, U 0, R=1, P_DIFF 1).
    let mut key = vec![
        0xae, 0x05, 0x00, 0x07, 0x18, 0x02, 0x80, 0x01, 0x68, 0x01, 0x04, 0x02,
    ];
    key.extend_from_slice(&frames[0]);
    // Picture 2 (inter): P=1, I=1, L=1, F=0, B, E; TID=1 SID=0; TL0PICIDX.
    let mut inter = vec![0xec, 0x06, 0x20, 0x07];
    inter.extend_from_slice(&frames[1]);
    let arrivals = [(0, 3000, key), (1, 6000, inter)]
        .map(|(seq, timestamp, p)| {
            (
                0,
                ReceivedPacket {
                    sequence_number: seq,
                    timestamp,
                    marker: true,
                    payload: Bytes::from(p),
                },
            )
        })
        .to_vec();
    let r = run("video/VP9", AssemblerOptions::default(), &arrivals);
    assert_eq!(r.frames.len(), 2);
    assert_eq!(r.frames[0].data, frames[0]);
    assert!(r.frames[0].keyframe);
    assert_eq!(
        (r.frames[0].spatial_layer, r.frames[0].temporal_layer),
        (Some(0), Some(0))
    );
    assert_eq!(r.frames[1].data, frames[1]);
    assert!(!r.frames[1].keyframe);
    assert_eq!(r.frames[1].temporal_layer, Some(1));
    assert_eq!(r.requests, 0);
}

#[test]
fn h264_packetization_mode_0_one_nal_unit_per_packet() {
    let nalus: [&[u8]; 5] = [
        &[0x67, 0x42, 0xc0, 0x1f],
        &[0x68, 0xce, 0x3c, 0x80],
        &[0x65, 0x88, 0x84, 0x21],
        &[0x65, 0x00, 0x84, 0x21], // a second slice of the IDR picture
        &[0x41, 0x9a, 0x02],       // the next picture
    ];
    let mut a = FrameAssembler::new("video/H264", AssemblerOptions::default()).unwrap();
    for (i, n) in nalus.iter().enumerate() {
        a.push(
            Instant::now(),
            ReceivedPacket {
                sequence_number: 65_534u16.wrapping_add(i as u16),
                timestamp: if i < 4 { 0 } else { 3000 },
                marker: i >= 3,
                payload: Bytes::copy_from_slice(n),
            },
        );
    }
    let key = a.poll_frame().unwrap();
    let want: Vec<u8> = nalus[..4]
        .iter()
        .flat_map(|n| [0, 0, 0, 1].iter().chain(n.iter()).copied())
        .collect();
    assert_eq!(&key.data[..], &want[..]);
    assert!(key.keyframe);
    assert_eq!((key.first_sequence, key.packets), (65_534, 4));
    let next = a.poll_frame().unwrap();
    assert_eq!(&next.data[..], &[0, 0, 0, 1, 0x41, 0x9a, 0x02]);
    assert!(!next.keyframe);
    assert_eq!(next.first_sequence, 2);
}

#[test]
fn a_vp9_layer_frame_that_is_a_superframe_is_flattened_into_the_picture_superframe() {
    // Base layer: a superframe of a hidden frame (10 bytes) and a shown one (5 bytes).
    let (hidden, shown, upper) = ([0x82; 10], [0x86; 5], [0x86; 7]);
    let mut base = hidden.to_vec();
    base.extend_from_slice(&shown);
    base.extend_from_slice(&[0xc1, 10, 5, 0xc1]);
    let packet = |seq: u16, sid: u8, data: &[u8], marker: bool| {
        let mut p = vec![0x80 | 0x20 | 0x10 | 0x08 | 0x04, 0x05, sid << 1];
        p.extend_from_slice(data);
        ReceivedPacket {
            sequence_number: seq,
            timestamp: 0,
            marker,
            payload: Bytes::from(p),
        }
    };
    let mut a = FrameAssembler::new("video/VP9", AssemblerOptions::default()).unwrap();
    a.push(Instant::now(), packet(1, 0, &base, false));
    a.push(Instant::now(), packet(2, 1, &upper, true));
    let f = a.poll_frame().unwrap();
    let mut want = hidden.to_vec();
    want.extend_from_slice(&shown);
    want.extend_from_slice(&upper);
    want.extend_from_slice(&[0xc2, 10, 5, 7, 0xc2]);
    assert_eq!(&f.data[..], &want[..]);
    assert!(f.keyframe);
    assert_eq!(f.spatial_layer, Some(1));
}
