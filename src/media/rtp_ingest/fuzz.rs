//! Property tests of what the ingest does with datagrams from its UDP port (anyone may send
//! to it): random bytes, RTP headers with random flags, counts and lengths, and random
//! sender sequences. `PROPTEST_CASES` sets the number of cases (see docs/testing.md).

use super::*;
use crate::proptest_config::config;
use crate::{RtpChunk, RtpSink};
use msc_ortc::RtpCodecParameters;
use proptest::prelude::*;
use std::time::Duration;

/// An RTP header (version 2) with random padding/extension/CSRC-count bits and fields,
/// followed by random bytes: the header's lengths may or may not fit.
fn rtp_like() -> impl Strategy<Value = Vec<u8>> {
    (
        0u8..64,
        any::<[u8; 11]>(),
        proptest::collection::vec(any::<u8>(), 0..96),
    )
        .prop_map(|(flags, fields, tail)| {
            let mut p = vec![0x80 | flags];
            p.extend(fields);
            p.extend(tail);
            p
        })
}

fn datagram() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![proptest::collection::vec(any::<u8>(), 0..64), rtp_like(),]
}

fn check_parse(packet: &[u8]) -> Result<(), TestCaseError> {
    match parse(packet) {
        Ok(Datagram::Rtp(h)) => {
            prop_assert!(
                12 <= h.start && h.start <= h.end && h.end <= packet.len(),
                "{h:?}"
            );
            prop_assert_eq!(&h.ssrc.to_be_bytes()[..], &packet[8..12]);
        }
        Ok(Datagram::Rtcp) => prop_assert!((192..=223).contains(&packet[1])),
        Err(reason) => prop_assert!(!reason.is_empty()),
    }
    Ok(())
}

#[derive(Default)]
struct Sink {
    sent: Mutex<Vec<RtpChunk>>,
}

impl RtpSink for Sink {
    fn send(&self, _layer: usize, chunk: RtpChunk) {
        self.sent.lock().unwrap().push(chunk);
    }
}

/// A receiver whose track feeds `sink`, as `RtpIngest::bind` makes it (without the socket).
fn receiver(sink: Arc<Sink>) -> Receiver {
    let track = Arc::new(FrameTrack::with_codec(MediaKind::Video, "video/VP8"));
    let codec = RtpCodecParameters {
        mime_type: "video/VP8".into(),
        payload_type: 100,
        clock_rate: 90_000,
        channels: None,
        parameters: Default::default(),
        rtcp_feedback: vec![],
    };
    track.attach(sink, &codec, 1).unwrap();
    Receiver {
        track,
        shared: Arc::new(Shared::default()),
        restamper: Restamper::new(90_000),
        rtcp_port: None,
        rtcp_from: None,
        own_ssrc: 1,
        warned_size: false,
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_datagram_parses_or_is_refused(packet in datagram()) {
        check_parse(&packet)?;
    }

    /// Every datagram is counted once, as RTP, RTCP or dropped; what is forwarded is the
    /// payload inside the packet.
    #[test]
    fn the_receiver_counts_every_datagram(packets in proptest::collection::vec(datagram(), 1..40)) {
        let sink = Arc::new(Sink::default());
        let mut r = receiver(sink.clone());
        let from: SocketAddr = "127.0.0.1:5004".parse().unwrap();
        let mut refused = 0;
        for p in &packets {
            refused += u64::from(parse(p).is_err());
            r.on_datagram(p, from);
        }
        let stats = r.shared.stats.lock().unwrap().clone();
        prop_assert_eq!(stats.packets_received + stats.rtcp_received + refused, packets.len() as u64);
        prop_assert_eq!(stats.packets_forwarded + stats.packets_dropped, stats.packets_received + refused);
        let sent = sink.sent.lock().unwrap();
        prop_assert_eq!(sent.len() as u64, stats.packets_forwarded);
        prop_assert!(sent.iter().all(|c| !c.payload.is_empty() && c.payload.len() <= 96));
    }

    /// One sender whose timestamps follow the clock keeps its spacing on the track's timeline,
    /// whatever its start values and packet spacing (wrap-arounds included).
    #[test]
    fn one_steady_sender_keeps_its_spacing(
        ssrc in any::<u32>(),
        seq in any::<u16>(),
        timestamp in any::<u32>(),
        gaps_ms in proptest::collection::vec(0u64..2000, 1..50),
    ) {
        let t0 = Instant::now();
        let mut r = Restamper::new(90_000);
        prop_assert_eq!(r.restamp(ssrc, seq, timestamp, t0), (0, true));
        let mut at = 0u64;
        for (i, gap) in gaps_ms.iter().enumerate() {
            at += gap;
            let ticks = (at * 90) as u32;
            let (out, new) = r.restamp(
                ssrc,
                seq.wrapping_add(i as u16 + 1),
                timestamp.wrapping_add(ticks),
                t0 + Duration::from_millis(at),
            );
            prop_assert!(!new, "packet {} taken for a new sender", i + 1);
            prop_assert_eq!(out, ticks);
        }
    }

    /// Any sequence of senders, numbers and arrival times: no panic, and a new sender starts
    /// after the newest timestamp given out so far, never on or before it.
    #[test]
    fn any_sender_sequence_is_restamped(
        packets in proptest::collection::vec(
            (0u32..3, any::<u16>(), any::<u32>(), 0u64..100_000),
            1..60,
        ),
    ) {
        let t0 = Instant::now();
        let mut r = Restamper::new(48_000);
        let mut at = 0;
        let mut newest: Option<u32> = None;
        for (ssrc, seq, ts, gap_ms) in packets {
            at += gap_ms;
            let (out, new) = r.restamp(ssrc, seq, ts, t0 + Duration::from_millis(at));
            if let (true, Some(prev)) = (new, newest) {
                let ahead = out.wrapping_sub(prev);
                prop_assert!(ahead > 0 && ahead < 0x8000_0000, "{} -> {}", prev, out);
            }
            if newest.is_none_or(|n| out.wrapping_sub(n) < 0x8000_0000) {
                newest = Some(out);
            }
        }
    }
}
