//! Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01):
//! when each packet of the connection arrived, by its transport-wide sequence number, sent
//! back to the server in RTCP `TransportLayerCc` packets. mediasoup's bandwidth estimate for
//! the connection, which chooses the simulcast and SVC layers it forwards, is fed by them.

use std::collections::VecDeque;
use std::time::Instant;

use rtc::rtcp::transport_feedbacks::transport_layer_cc::{
    PacketStatusChunk, RecvDelta, StatusChunkTypeTcc, StatusVectorChunk, SymbolSizeTypeTcc,
    SymbolTypeTcc, TransportLayerCc,
};

/// The unit of arrival times and their deltas, in µs.
const TICK_US: i64 = 250;
/// The unit of the reference time, in ticks (64 ms).
const REFERENCE_TICKS: i64 = 256;
/// Statuses one feedback packet carries at most: with large deltas, ~460 bytes.
const MAX_STATUSES: u64 = 200;
/// Arrivals kept at most while none is reported (a feedback is due every 100 ms; this bounds
/// the memory if the timer stops being run).
const MAX_KEPT: usize = 10_000;
/// The room for arrivals kept between feedbacks at most: a feedback interval of 10 Mbps
/// of full-size packets.
const KEPT_ROOM: usize = 1024;
/// Statuses per two-bit status vector chunk.
const SYMBOLS_PER_CHUNK: usize = 7;

/// The arrivals not yet reported, and what the feedback already said.
#[derive(Default)]
pub(crate) struct Arrivals {
    /// Transport-wide sequence number (extended with its wraps) and arrival, in ticks since
    /// `origin`, in the order of the numbers, each once. A ring rather than a tree: packets
    /// come mostly in order (each one appended), and the ring keeps its room from one feedback
    /// to the next (no node allocated or searched per packet).
    pending: VecDeque<(u64, i64)>,
    origin: Option<Instant>,
    /// The highest extended sequence number seen, to extend the next.
    highest: Option<u64>,
    /// The first sequence number the next feedback reports: those before it were reported.
    next: Option<u64>,
    /// Feedback packets sent (wrapping).
    count: u8,
}

impl Arrivals {
    /// A packet with transport-wide sequence number `sequence_number` arrived at `now`.
    pub(crate) fn packet(&mut self, now: Instant, sequence_number: u16) {
        let origin = *self.origin.get_or_insert(now);
        let extended = match self.highest {
            // far from 0, so that earlier numbers extend without underflow
            None => (1 << 32) + u64::from(sequence_number),
            Some(highest) => {
                let step = sequence_number.wrapping_sub(highest as u16) as i16;
                highest.wrapping_add_signed(i64::from(step))
            }
        };
        self.highest = Some(self.highest.map_or(extended, |h| h.max(extended)));
        if self.next.is_some_and(|next| extended < next) {
            // reported already (as lost): too late for the estimate
            return;
        }
        let ticks = now.saturating_duration_since(origin).as_micros() as i64 / TICK_US;
        match self.pending.back() {
            Some(&(last, _)) if last >= extended => {
                let at = self.pending.partition_point(|&(s, _)| s < extended);
                if self.pending.get(at).is_some_and(|&(s, _)| s == extended) {
                    // a duplicate: its first arrival counts
                    return;
                }
                self.pending.insert(at, (extended, ticks));
            }
            _ => self.pending.push_back((extended, ticks)),
        }
        if self.pending.len() > MAX_KEPT {
            self.pending.pop_front();
        }
    }

    /// Whether a feedback has something to say.
    #[cfg(test)]
    pub(crate) fn any(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The feedback packets for what arrived since the last ones, from `sender_ssrc` about
    /// `media_ssrc`; packets missing between arrivals are reported lost.
    pub(crate) fn feedback(&mut self, sender_ssrc: u32, media_ssrc: u32) -> Vec<TransportLayerCc> {
        let mut packets = Vec::new();
        while let Some(&(first, _)) = self.pending.front() {
            // from the first unreported number, unless the arrivals start far after it
            let base = match self.next {
                Some(next) if first - next < MAX_STATUSES => next,
                _ => first,
            };
            packets.push(self.one(base, sender_ssrc, media_ssrc));
        }
        // the room a burst took (up to MAX_KEPT) is not kept for good
        if self.pending.capacity() > KEPT_ROOM {
            self.pending.shrink_to(KEPT_ROOM);
        }
        packets
    }

    /// One feedback packet from `base`: as many statuses as fit, ending with a received one.
    fn one(&mut self, base: u64, sender_ssrc: u32, media_ssrc: u32) -> TransportLayerCc {
        let first_arrival = self.pending.front().map_or(0, |&(_, arrival)| arrival);
        let reference = first_arrival.div_euclid(REFERENCE_TICKS);
        let mut previous = reference * REFERENCE_TICKS;
        let mut symbols = Vec::new();
        let mut deltas = Vec::new();
        let mut end = base;
        while let Some(&(sequence, arrival)) = self.pending.front() {
            if sequence - base >= MAX_STATUSES {
                break;
            }
            let delta = arrival - previous;
            let symbol = if (0..=i64::from(u8::MAX)).contains(&delta) {
                SymbolTypeTcc::PacketReceivedSmallDelta
            } else if (i64::from(i16::MIN)..=i64::from(i16::MAX)).contains(&delta) {
                SymbolTypeTcc::PacketReceivedLargeDelta
            } else if deltas.is_empty() {
                // cannot happen for the first: its delta is within the reference's 64 ms
                SymbolTypeTcc::PacketReceivedLargeDelta
            } else {
                // too far from the one before: the next feedback starts with it
                break;
            };
            symbols.resize((sequence - base) as usize, SymbolTypeTcc::PacketNotReceived);
            symbols.push(symbol);
            deltas.push(RecvDelta {
                type_tcc_packet: symbol,
                delta: delta * TICK_US,
            });
            previous = arrival;
            end = sequence + 1;
            self.pending.pop_front();
        }
        self.next = Some(end);
        let count = self.count;
        self.count = self.count.wrapping_add(1);
        TransportLayerCc {
            sender_ssrc,
            media_ssrc,
            base_sequence_number: base as u16,
            packet_status_count: symbols.len() as u16,
            reference_time: (reference as u32) & 0xFF_FFFF,
            fb_pkt_count: count,
            packet_chunks: symbols
                .chunks(SYMBOLS_PER_CHUNK)
                .map(|chunk| {
                    PacketStatusChunk::StatusVectorChunk(StatusVectorChunk {
                        type_tcc: StatusChunkTypeTcc::StatusVectorChunk,
                        symbol_size: SymbolSizeTypeTcc::TwoBit,
                        symbol_list: chunk.to_vec(),
                    })
                })
                .collect(),
            recv_deltas: deltas,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::shared::marshal::{Marshal, Unmarshal};
    use std::time::Duration;

    /// The feedback as the server reads it: each status from the base, with its arrival
    /// (in µs from the reference time) when received.
    fn read(feedback: &TransportLayerCc) -> (u16, Vec<Option<i64>>) {
        let raw = feedback.marshal().unwrap();
        let parsed = TransportLayerCc::unmarshal(&mut raw.clone()).unwrap();
        let mut statuses = Vec::new();
        for chunk in &parsed.packet_chunks {
            match chunk {
                PacketStatusChunk::StatusVectorChunk(c) => {
                    statuses.extend(c.symbol_list.iter().copied())
                }
                PacketStatusChunk::RunLengthChunk(c) => statuses.extend(std::iter::repeat_n(
                    c.packet_status_symbol,
                    c.run_length as usize,
                )),
            }
        }
        statuses.truncate(parsed.packet_status_count as usize);
        let mut at = i64::from(parsed.reference_time) * 64_000;
        let mut deltas = parsed.recv_deltas.iter();
        let arrivals = statuses
            .iter()
            .map(|s| match s {
                SymbolTypeTcc::PacketNotReceived => None,
                _ => {
                    at += deltas.next().unwrap().delta;
                    Some(at)
                }
            })
            .collect();
        (parsed.base_sequence_number, arrivals)
    }

    fn ms(t: Instant, ms: u64) -> Instant {
        t + Duration::from_millis(ms)
    }

    #[test]
    fn arrivals_and_losses_from_the_first_number() {
        let t = Instant::now();
        let mut a = Arrivals::default();
        assert!(!a.any());
        a.packet(t, 100);
        a.packet(ms(t, 1), 101);
        a.packet(ms(t, 3), 103);
        a.packet(ms(t, 100), 104);
        assert!(a.any());
        let feedback = a.feedback(1, 2);
        assert_eq!(feedback.len(), 1);
        assert_eq!((feedback[0].sender_ssrc, feedback[0].media_ssrc), (1, 2));
        let (base, arrivals) = read(&feedback[0]);
        assert_eq!(base, 100);
        let origin = arrivals[0].unwrap();
        let relative: Vec<Option<i64>> = arrivals.iter().map(|a| a.map(|a| a - origin)).collect();
        assert_eq!(
            relative,
            [Some(0), Some(1000), None, Some(3000), Some(100_000)]
        );
        assert!(!a.any());
    }

    #[test]
    fn the_next_feedback_starts_where_the_last_ended_and_counts_up() {
        let t = Instant::now();
        let mut a = Arrivals::default();
        a.packet(t, 7);
        let first = a.feedback(1, 2);
        a.packet(ms(t, 5), 10);
        a.packet(ms(t, 6), 8);
        let second = a.feedback(1, 2);
        let (base, arrivals) = read(&second[0]);
        assert_eq!(base, 8);
        assert_eq!(
            arrivals.iter().map(Option::is_some).collect::<Vec<_>>(),
            [true, false, true]
        );
        assert_eq!(
            second[0].fb_pkt_count,
            first[0].fb_pkt_count.wrapping_add(1)
        );
        // a packet of what was reported comes too late for it
        a.packet(ms(t, 7), 9);
        assert!(!a.any());
    }

    #[test]
    fn reordered_arrivals_go_back_with_a_large_delta() {
        let t = Instant::now();
        let mut a = Arrivals::default();
        a.packet(ms(t, 10), 2);
        a.packet(ms(t, 12), 1);
        let (_, arrivals) = read(&a.feedback(1, 2)[0]);
        let [Some(one), Some(two)] = arrivals[..] else {
            panic!("{arrivals:?}")
        };
        assert_eq!(two - one, -2000);
    }

    #[test]
    fn a_number_that_comes_again_keeps_its_first_arrival_wherever_it_falls() {
        let t = Instant::now();
        let mut a = Arrivals::default();
        a.packet(ms(t, 0), 1);
        a.packet(ms(t, 1), 3);
        a.packet(ms(t, 2), 5);
        // again: the last, one in the middle, the first; and a new one between two
        a.packet(ms(t, 3), 5);
        a.packet(ms(t, 4), 3);
        a.packet(ms(t, 5), 1);
        a.packet(ms(t, 6), 4);
        let (base, arrivals) = read(&a.feedback(1, 2)[0]);
        assert_eq!(base, 1);
        let origin = arrivals[0].unwrap();
        let relative: Vec<Option<i64>> = arrivals.iter().map(|a| a.map(|a| a - origin)).collect();
        assert_eq!(
            relative,
            [Some(0), None, Some(1000), Some(6000), Some(2000)]
        );
    }

    #[test]
    fn sequence_numbers_wrap() {
        let t = Instant::now();
        let mut a = Arrivals::default();
        a.packet(t, 65_534);
        a.packet(ms(t, 1), 65_535);
        a.packet(ms(t, 2), 1);
        let (base, arrivals) = read(&a.feedback(1, 2)[0]);
        assert_eq!(base, 65_534);
        assert_eq!(
            arrivals.iter().map(Option::is_some).collect::<Vec<_>>(),
            [true, true, false, true]
        );
    }

    #[test]
    fn many_packets_take_several_feedbacks_and_a_long_silence_a_new_reference() {
        let t = Instant::now();
        let mut a = Arrivals::default();
        for i in 0..450u16 {
            a.packet(t + Duration::from_micros(u64::from(i) * 500), i);
        }
        // 10 s later: beyond a large delta's 8 s
        a.packet(ms(t, 10_000), 450);
        let feedback = a.feedback(1, 2);
        let read: Vec<(u16, usize)> = feedback
            .iter()
            .map(|f| {
                let (b, s) = read(f);
                (b, s.len())
            })
            .collect();
        assert_eq!(read, [(0, 200), (200, 200), (400, 50), (450, 1)]);
        let last = &feedback[3];
        assert_eq!(
            i64::from(last.reference_time),
            (10_000 * 4) / REFERENCE_TICKS
        );
        let counts: Vec<u8> = feedback.iter().map(|f| f.fb_pkt_count).collect();
        assert_eq!(counts, [0, 1, 2, 3]);
    }
}
