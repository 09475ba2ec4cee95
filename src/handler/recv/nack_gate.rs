//! The NACK generator's timer, kept only while there can be something to ask for.
//!
//! webrtc-rs' NACK generator asks to be woken every interval (20 ms here) from the first
//! packet on, for every connection, whether or not a packet is missing: with no loss that is
//! most of a receive transport's timer wake-ups (the other timers of the direction are the
//! congestion feedback's 100 ms and the receiver reports' second). It asks for a sequence
//! number only once a later one came (a hole), and at most its per-packet limit of times,
//! one per interval. So [`NackGate`] watches the sequence numbers go by and passes the
//! generator's wake-ups on only from a hole's first packet until every request the generator
//! may make for it is past (the limit of intervals, and one more); in between, the generator
//! still runs whenever the connection's other timers run, and finds nothing to ask for.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rtc::interceptor::{Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

/// A NACK generator, woken only around holes (see the module's text).
pub(crate) struct NackGate<I> {
    inner: I,
    /// How long after a hole is seen the generator may still ask for it.
    window: Duration,
    /// The highest sequence number seen per SSRC of the streams bound (None before the
    /// first packet).
    highest: HashMap<u32, Option<u16>>,
    /// The generator's wake-ups pass until then.
    open_until: Option<Instant>,
}

impl<I: Interceptor> NackGate<I> {
    /// `inner` asks every `interval`, at most `max_per_packet` times for one packet.
    pub(crate) fn new(inner: I, interval: Duration, max_per_packet: u16) -> Self {
        NackGate {
            inner,
            window: interval * (u32::from(max_per_packet) + 1),
            highest: HashMap::new(),
            open_until: None,
        }
    }

    /// Notes `seq` of `ssrc`, received at `now`: a sequence number beyond the next one opens
    /// a hole.
    fn saw(&mut self, ssrc: u32, seq: u16, now: Instant) {
        let Some(highest) = self.highest.get_mut(&ssrc) else {
            return;
        };
        let Some(last) = *highest else {
            *highest = Some(seq);
            return;
        };
        let ahead = seq.wrapping_sub(last);
        // 0: a duplicate; at or above half the space: an older packet (late or repaired)
        if ahead == 0 || ahead >= 0x8000 {
            return;
        }
        *highest = Some(seq);
        if ahead > 1 {
            let until = now + self.window;
            self.open_until = Some(self.open_until.map_or(until, |u| u.max(until)));
        }
    }

    fn open_at(&self, at: Instant) -> bool {
        self.open_until.is_some_and(|until| at <= until)
    }
}

impl<I: Interceptor> Protocol<TaggedPacket, TaggedPacket, ()> for NackGate<I> {
    pass_through_protocol!();

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Error> {
        if let Packet::Rtp(packet) = &msg.message.packet {
            self.saw(packet.header.ssrc, packet.header.sequence_number, msg.now);
        }
        self.inner.handle_read(msg)
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        self.inner.handle_timeout(now)
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        // a wake-up due before the gate closes passes (one due in the past fires at once)
        self.inner.poll_timeout().filter(|&at| self.open_at(at))
    }
}

impl<I: Interceptor> Interceptor for NackGate<I> {
    pass_through_local_streams!();

    fn bind_remote_stream(&mut self, info: &StreamInfo) {
        self.inner.bind_remote_stream(info);
        self.highest.entry(info.ssrc).or_insert(None);
    }

    fn unbind_remote_stream(&mut self, info: &StreamInfo) {
        self.highest.remove(&info.ssrc);
        self.inner.unbind_remote_stream(info);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::interceptor::{AttributedPacket, NackGeneratorBuilder, RTCPFeedback};
    use rtc::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack;
    use rtc::shared::TransportContext;

    const INTERVAL: Duration = Duration::from_millis(20);
    const MAX: u16 = 10;

    fn generator() -> impl Interceptor {
        NackGeneratorBuilder::new()
            .with_size(512)
            .with_interval(INTERVAL)
            .with_max_nacks_per_packet(MAX)
            .build()
    }

    fn stream(ssrc: u32) -> StreamInfo {
        StreamInfo {
            ssrc,
            rtcp_feedback: vec![RTCPFeedback {
                typ: "nack".into(),
                parameter: String::new(),
            }],
            ..Default::default()
        }
    }

    fn rtp(ssrc: u32, seq: u16, now: Instant) -> TaggedPacket {
        let mut packet = rtc::rtp::packet::Packet::default();
        packet.header.ssrc = ssrc;
        packet.header.sequence_number = seq;
        TaggedPacket {
            now,
            transport: TransportContext::default(),
            message: AttributedPacket::new(Packet::Rtp(packet)),
        }
    }

    /// Runs the interceptor's timer up to `until`, packets read passed through; the sequence
    /// numbers asked for, one entry per NACK, with when.
    fn run<P: Interceptor>(p: &mut P, until: Instant) -> Vec<(Instant, Vec<u16>)> {
        let mut asked = Vec::new();
        while p.poll_read().is_some() {}
        while let Some(at) = p.poll_timeout().filter(|&at| at <= until) {
            p.handle_timeout(at).unwrap();
            while let Some(out) = p.poll_write() {
                if let Packet::Rtcp(packets) = &out.message.packet {
                    for packet in packets {
                        if let Some(nack) = packet.as_any().downcast_ref::<TransportLayerNack>() {
                            let seqs = nack.nacks.iter().flat_map(|p| p.packet_list()).collect();
                            asked.push((at, seqs));
                        }
                    }
                }
            }
        }
        asked
    }

    // In order, the generator alone asks to be woken every interval; behind the gate it does
    // not. A hole opens the gate: every request the generator makes for it comes out, on
    // time, and then the gate closes again.
    #[test]
    fn the_generator_is_woken_only_around_holes_and_asks_for_them_all() {
        let t0 = Instant::now();
        let mut alone = generator();
        let mut gated = NackGate::new(generator(), INTERVAL, MAX);
        alone.bind_remote_stream(&stream(1));
        gated.bind_remote_stream(&stream(1));
        // a first packet high in the sequence space, then in order, over a second
        for seq in 0..50u16 {
            let at = t0 + INTERVAL * u32::from(seq);
            alone.handle_read(rtp(1, 40_000 + seq, at)).unwrap();
            gated.handle_read(rtp(1, 40_000 + seq, at)).unwrap();
        }
        let quiet = t0 + Duration::from_secs(1);
        assert!(alone.poll_timeout().is_some());
        assert!(run(&mut alone, quiet).is_empty());
        while gated.poll_read().is_some() {}
        assert_eq!(gated.poll_timeout(), None, "no hole: no wake-up");
        // 40,050 and 40,051 lost
        let hole = quiet + Duration::from_millis(5);
        gated.handle_read(rtp(1, 40_052, hole)).unwrap();
        let asked = run(&mut gated, hole + Duration::from_secs(1));
        assert_eq!(asked.len(), usize::from(MAX), "{asked:?}");
        assert!(asked.iter().all(|(_, seqs)| seqs == &[40_050, 40_051]));
        assert!(asked[0].0 <= hole + INTERVAL);
        // closed again once the last request is made
        assert_eq!(gated.poll_timeout(), None);
        // a late or repaired packet opens nothing; a stream unbound is forgotten
        gated.handle_read(rtp(1, 40_050, hole)).unwrap();
        while gated.poll_read().is_some() {}
        assert_eq!(gated.poll_timeout(), None);
        gated.unbind_remote_stream(&stream(1));
        assert!(gated.highest.is_empty());
    }
}
