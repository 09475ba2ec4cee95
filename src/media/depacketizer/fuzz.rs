//! Property tests of the assembler on packets anyone could send: random payloads, real
//! payloads of the samples with bytes flipped, random sequence numbers (near and far),
//! timestamps, markers, arrival times and timer runs, any `max_packets`. For every step: no
//! panic, at most `max_packets` packets buffered and frames waiting, holes' marks bounded, no
//! deadline already past after a push; every frame out is non-empty. `PROPTEST_CASES` sets the number
//! of cases (see docs/testing.md).

use super::tests::sample_frames;
use super::*;
use crate::proptest_config::config;
use crate::Packetizer;
use proptest::prelude::*;
use std::sync::OnceLock;

const CODECS: [&str; 5] = [
    "video/VP8",
    "video/VP9",
    "video/H264",
    "video/AV1",
    "audio/opus",
];

/// The payloads of the first frames of each codec's sample, packetized with a small MTU.
fn sample_payloads() -> &'static [Vec<Bytes>; 5] {
    static PAYLOADS: OnceLock<[Vec<Bytes>; 5]> = OnceLock::new();
    PAYLOADS.get_or_init(|| {
        CODECS.map(|mime| {
            let rate = if mime == "audio/opus" { 48_000 } else { 90_000 };
            let mut packetizer = Packetizer::for_codec(mime, rate, 120).unwrap();
            sample_frames(mime, 6)
                .iter()
                .flat_map(|f| packetizer.packetize(f, None, 0).unwrap())
                .map(|c| c.payload)
                .collect()
        })
    })
}

#[derive(Debug, Clone)]
enum Payload {
    Random(Vec<u8>),
    /// A sample payload (index), with bytes at some positions xor'ed, maybe cut.
    Sample(
        prop::sample::Index,
        Vec<(prop::sample::Index, u8)>,
        Option<usize>,
    ),
}

#[derive(Debug, Clone)]
struct Step {
    /// Sequence number: a small step from the previous one, or anything.
    sequence: Result<i8, u16>,
    /// Timestamp: one of a few, or anything.
    timestamp: Result<u8, u32>,
    marker: bool,
    payload: Payload,
    /// Milliseconds since the previous step.
    elapsed: u16,
    /// Run the timer (at `poll_timeout`) before the push.
    timer: bool,
    /// Poll frames after the push.
    poll: bool,
}

fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..24).prop_map(Payload::Random),
        (
            any::<prop::sample::Index>(),
            proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
            proptest::option::of(0usize..16),
        )
            .prop_map(|(i, flips, cut)| Payload::Sample(i, flips, cut)),
        any::<prop::sample::Index>().prop_map(|i| Payload::Sample(i, Vec::new(), None)),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    (
        prop_oneof![4 => any::<i8>().prop_map(Ok), 1 => any::<u16>().prop_map(Err)],
        prop_oneof![4 => (0u8..4).prop_map(Ok), 1 => any::<u32>().prop_map(Err)],
        any::<bool>(),
        payload(),
        prop_oneof![0u16..5, 0u16..400],
        any::<bool>(),
        prop::bool::weighted(0.8),
    )
        .prop_map(
            |(sequence, timestamp, marker, payload, elapsed, timer, poll)| Step {
                sequence,
                timestamp,
                marker,
                payload,
                elapsed,
                timer,
                poll,
            },
        )
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_packets_keep_the_assembler_bounded(
        codec in 0usize..5,
        max_packets in 1usize..40,
        max_wait_ms in 0u64..300,
        steps in proptest::collection::vec(step(), 1..120),
    ) {
        let samples = &sample_payloads()[codec];
        let mut a = FrameAssembler::new(
            CODECS[codec],
            AssemblerOptions { max_wait: Duration::from_millis(max_wait_ms), max_packets },
        )
        .unwrap();
        let mut now = Instant::now();
        let mut sequence = 0u16;
        for s in steps {
            now += Duration::from_millis(u64::from(s.elapsed));
            if s.timer {
                if let Some(at) = a.poll_timeout() {
                    a.handle_timeout(at.max(now));
                }
            }
            sequence = match s.sequence {
                Ok(d) => sequence.wrapping_add_signed(i16::from(d)),
                Err(v) => v,
            };
            let timestamp = match s.timestamp {
                Ok(t) => u32::from(t) * 3000,
                Err(t) => t,
            };
            let payload = match s.payload {
                Payload::Random(bytes) => Bytes::from(bytes),
                Payload::Sample(i, flips, cut) => {
                    let mut p = samples[i.index(samples.len())].to_vec();
                    for (at, x) in flips {
                        if !p.is_empty() {
                            let at = at.index(p.len());
                            p[at] ^= x;
                        }
                    }
                    if let Some(cut) = cut {
                        p.truncate(cut);
                    }
                    Bytes::from(p)
                }
            };
            a.push(now, ReceivedPacket { sequence_number: sequence, timestamp, marker: s.marker, payload });
            prop_assert!(a.buffered() <= max_packets, "{} buffered", a.buffered());
            prop_assert!(a.ready_frames() <= max_packets);
            prop_assert!(a.marks() <= a.buffered() + 1, "{} marks", a.marks());
            if let Some(at) = a.poll_timeout() {
                prop_assert!(at > now, "a deadline already past after push");
            }
            if s.poll {
                while let Some(f) = a.poll_frame() {
                    prop_assert!(!f.data.is_empty());
                    prop_assert!(f.packets >= 1);
                    let _ = a.take_keyframe_request();
                }
            }
        }
        let stats = a.stats();
        prop_assert!(stats.keyframe_requests <= stats.frames_dropped + stats.packets_lost + 1);
    }
}

/// Packet `i` of a sample stream on a lossy network: lost, then maybe retransmitted after
/// `repair` ms; delayed by `jitter` ms; maybe duplicated `dup` ms later.
#[derive(Debug, Clone)]
struct Fate {
    lost: bool,
    repair: Option<u16>,
    jitter: u8,
    dup: Option<u16>,
}

fn fate() -> impl Strategy<Value = Fate> {
    (
        prop::bool::weighted(0.03),
        proptest::option::of(0u16..400),
        prop_oneof![3 => Just(0u8), 1 => 0u8..40],
        proptest::option::weighted(0.05, 0u16..300),
    )
        .prop_map(|(lost, repair, jitter, dup)| Fate {
            lost,
            repair,
            jitter,
            dup,
        })
}

proptest! {
    #![proptest_config(config(48))]

    /// Whatever the network does to a stream of sample frames: every frame out is one that was
    /// sent, byte for byte, in order; video never goes on after a missing frame but with a
    /// keyframe; with nothing lost, every frame comes out.
    #[test]
    fn a_lossy_network_never_yields_a_wrong_or_undecodable_frame(
        codec in 0usize..5,
        first_sequence in any::<u16>(),
        first_timestamp in any::<u32>(),
        fates in proptest::collection::vec(fate(), 400),
    ) {
        let mime = CODECS[codec];
        let s = super::tests::sample_stream(mime, 12, first_sequence, first_timestamp);
        let mut arrivals: Vec<(u64, usize, ReceivedPacket)> = Vec::new();
        let mut lost_for_good = false;
        for (i, p) in s.packets.iter().enumerate() {
            let f = &fates[i % fates.len()];
            // The first packet arrives first and is never lost: an audio packet older than
            // the first one received is late by design.
            let sent = i as u64 + if i == 0 { 0 } else { u64::from(f.jitter) };
            if f.lost && i > 0 {
                match f.repair {
                    Some(repair) => arrivals.push((sent + u64::from(repair), i, p.clone())),
                    None => lost_for_good = true,
                }
                lost_for_good |= f.repair.is_some_and(|r| r >= 150);
            } else {
                arrivals.push((sent, i, p.clone()));
            }
            if let Some(dup) = f.dup {
                arrivals.push((sent + u64::from(dup), i, p.clone()));
            }
        }
        arrivals.sort_by_key(|&(at, i, _)| (at, i));
        let arrivals: Vec<(u64, ReceivedPacket)> =
            arrivals.into_iter().map(|(at, _, p)| (at, p)).collect();
        let r = super::tests::run(mime, AssemblerOptions::default(), &arrivals);

        let index_of = |timestamp: u32| s.frames.iter().position(|f| f.timestamp == timestamp);
        let mut previous: Option<usize> = None;
        for got in &r.frames {
            let i = index_of(got.rtp_timestamp);
            prop_assert!(i.is_some(), "a frame with a timestamp never sent");
            let i = i.unwrap_or_default();
            super::tests::assert_same_frame(mime, got, &s.frames[i], "lossy");
            if let Some(p) = previous {
                prop_assert!(i > p, "frame {} after frame {}", i, p);
            }
            let contiguous = previous.map_or(i == 0, |p| i == p + 1);
            if mime != "audio/opus" && !contiguous {
                prop_assert!(got.keyframe, "video frame {} after a missing frame is no keyframe", i);
            }
            if mime != "audio/opus" && got.gap_before {
                prop_assert!(got.keyframe);
            }
            previous = Some(i);
        }
        if !lost_for_good {
            prop_assert_eq!(r.frames.len(), s.frames.len());
            prop_assert_eq!(r.stats.packets_lost, 0);
        }
    }
}
