//! What one received RTP stream's receiver report says (RFC 3550 section 6.4.1, the counting of
//! its appendices A.3 and A.8): the highest sequence number, the packets lost in all and since
//! the last report, the interarrival jitter, and the last sender report with the time since.
//!
//! The server reads them: mediasoup scores a consumer by its loss and times the round trip by
//! the sender report's echo.

use std::time::Instant;

use rtc::rtcp::reception_report::ReceptionReport;
use rtc::rtcp::sender_report::SenderReport;

/// Sequence numbers remembered to tell a duplicate (a retransmission of a packet that came
/// after all) from a repair: as far back as the NACK generator asks for packets.
const WINDOW: u64 = 512;
const WORDS: usize = (WINDOW / 64) as usize;

/// Reception statistics of one stream.
pub(crate) struct Reception {
    ssrc: u32,
    /// `audio` or `video`.
    kind: &'static str,
    clock_rate: f64,
    /// Extended sequence numbers (with their wraps): the first, and the highest so far.
    first: u64,
    highest: u64,
    /// Packets received, each sequence number once.
    received: u64,
    /// `expected` and `received` when the last report was made.
    expected_before: u64,
    received_before: u64,
    /// Which of the last [`WINDOW`] sequence numbers came (bit `seq % WINDOW`).
    seen: [u64; WORDS],
    /// Interarrival jitter, in RTP timestamp units.
    jitter: f64,
    /// The last in-order packet: its arrival and RTP timestamp.
    last: Option<(Instant, u32)>,
    started: bool,
    /// Every packet noted (duplicates too), its header's and its payload's bytes, and the
    /// time of the last one: the inbound statistics.
    packets: u64,
    header_bytes: u64,
    payload_bytes: u64,
    last_packet: Option<Instant>,
    /// The last sender report, which receiver reports echo.
    remote_sent: Option<RemoteSent>,
}

/// What the server's sender reports of a stream said: the last one's counts and NTP time,
/// and how many came (W3C `remote-outbound-rtp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RemoteSent {
    pub(crate) packets: u32,
    pub(crate) octets: u32,
    pub(crate) ntp_time: u64,
    pub(crate) reports: u64,
    /// When the last one came.
    pub(crate) at: Instant,
}

/// The inbound RTP statistics of a stream (W3C `inbound-rtp`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReceptionStats {
    pub(crate) kind: &'static str,
    pub(crate) packets_received: u64,
    pub(crate) header_bytes_received: u64,
    pub(crate) bytes_received: u64,
    pub(crate) packets_lost: i64,
    /// Interarrival jitter, in seconds.
    pub(crate) jitter: f64,
    pub(crate) last_packet: Instant,
    pub(crate) nack_count: u64,
    /// What the server's sender reports said, once one came.
    pub(crate) remote_sent: Option<RemoteSent>,
}

impl Reception {
    pub(crate) fn new(ssrc: u32, kind: &'static str, clock_rate: u32) -> Self {
        Reception {
            ssrc,
            kind,
            clock_rate: f64::from(clock_rate.max(1)),
            first: 0,
            highest: 0,
            received: 0,
            expected_before: 0,
            received_before: 0,
            seen: [0; WORDS],
            jitter: 0.0,
            last: None,
            started: false,
            packets: 0,
            header_bytes: 0,
            payload_bytes: 0,
            last_packet: None,
            remote_sent: None,
        }
    }

    /// The bytes of a packet just noted by [`packet`](Self::packet).
    pub(crate) fn bytes(&mut self, header: usize, payload: usize) {
        self.header_bytes += header as u64;
        self.payload_bytes += payload as u64;
    }

    /// The stream's inbound statistics, once a packet came; `nack_count` NACKs were sent for it.
    pub(crate) fn stats(&self, nack_count: u64) -> Option<ReceptionStats> {
        Some(ReceptionStats {
            kind: self.kind,
            packets_received: self.packets,
            header_bytes_received: self.header_bytes,
            bytes_received: self.payload_bytes,
            packets_lost: (self.highest - self.first + 1) as i64 - self.received as i64,
            jitter: self.jitter / self.clock_rate,
            last_packet: self.last_packet?,
            nack_count,
            remote_sent: self.remote_sent,
        })
    }

    fn bit(&mut self, extended: u64) -> (&mut u64, u64) {
        let i = extended % WINDOW;
        (&mut self.seen[(i / 64) as usize], 1 << (i % 64))
    }

    /// A packet of the stream arrived at `now`; `repair` when it came as a retransmission
    /// (its arrival says nothing of the network's jitter).
    pub(crate) fn packet(
        &mut self,
        now: Instant,
        sequence_number: u16,
        timestamp: u32,
        repair: bool,
    ) {
        self.packets += 1;
        self.last_packet = Some(now);
        if !self.started {
            self.started = true;
            // far from 0, so that packets from before the first one extend without underflow
            self.first = (1 << 32) + u64::from(sequence_number);
            self.highest = self.first;
            self.received = 1;
            let (word, bit) = self.bit(self.first);
            *word |= bit;
            if !repair {
                self.last = Some((now, timestamp));
            }
            return;
        }
        let step = sequence_number.wrapping_sub(self.highest as u16) as i16;
        let extended = self.highest.wrapping_add_signed(i64::from(step));
        if extended > self.highest {
            // newer: the numbers skipped are not seen (yet)
            let gap = extended - self.highest;
            if gap >= WINDOW {
                self.seen = [0; WORDS];
            } else {
                for skipped in self.highest + 1..extended {
                    let (word, bit) = self.bit(skipped);
                    *word &= !bit;
                }
            }
            self.highest = extended;
            let (word, bit) = self.bit(extended);
            *word |= bit;
            self.received += 1;
            if !repair {
                self.jitter(now, timestamp);
            }
        } else if self.highest - extended < WINDOW && extended >= self.first {
            let (word, bit) = self.bit(extended);
            if *word & bit == 0 {
                *word |= bit;
                self.received += 1;
            }
        } else if extended < self.first && self.first - extended < WINDOW {
            // from before the first one (reordered): the stream starts there
            self.first = extended;
            self.received += 1;
            let (word, bit) = self.bit(extended);
            *word |= bit;
        }
    }

    /// RFC 3550 A.8, between consecutive in-order packets.
    fn jitter(&mut self, now: Instant, timestamp: u32) {
        if let Some((then, before)) = self.last {
            let arrival = now.saturating_duration_since(then).as_secs_f64() * self.clock_rate;
            let sent = f64::from(timestamp.wrapping_sub(before) as i32);
            let d = (arrival - sent).abs();
            self.jitter += (d - self.jitter) / 16.0;
        }
        self.last = Some((now, timestamp));
    }

    /// The server's sender report of the stream, at `now`.
    pub(crate) fn sender_report(&mut self, now: Instant, report: &SenderReport) {
        let reports = self.remote_sent.map_or(0, |r| r.reports) + 1;
        self.remote_sent = Some(RemoteSent {
            packets: report.packet_count,
            octets: report.octet_count,
            ntp_time: report.ntp_time,
            reports,
            at: now,
        });
    }

    /// The report block for a receiver report made at `now` (none before the first packet).
    pub(crate) fn report(&mut self, now: Instant) -> Option<ReceptionReport> {
        if !self.started {
            return None;
        }
        let expected = self.highest - self.first + 1;
        let lost = expected as i64 - self.received as i64;
        let expected_since = expected - self.expected_before;
        let lost_since = expected_since as i64 - (self.received - self.received_before) as i64;
        self.expected_before = expected;
        self.received_before = self.received;
        let fraction_lost = if expected_since == 0 || lost_since <= 0 {
            0
        } else {
            ((lost_since << 8) / expected_since as i64).min(255) as u8
        };
        // the middle 32 bits of its NTP time, and the time since it came in 1/65536 s
        let (last_sender_report, delay) = match self.remote_sent {
            Some(sent) => (
                (sent.ntp_time >> 16) as u32,
                (now.saturating_duration_since(sent.at).as_secs_f64() * 65536.0) as u32,
            ),
            None => (0, 0),
        };
        Some(ReceptionReport {
            ssrc: self.ssrc,
            fraction_lost,
            // a signed 24-bit field, never negative here (each number is counted once)
            total_lost: lost.clamp(0, 0x7F_FFFF) as u32,
            last_sequence_number: self.highest as u32,
            jitter: self.jitter as u32,
            last_sender_report,
            delay,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn nothing_to_report_before_the_first_packet() {
        let mut r = Reception::new(5, "video", 90_000);
        assert!(r.report(Instant::now()).is_none());
    }

    #[test]
    fn losses_in_all_and_since_the_last_report() {
        let t = Instant::now();
        let mut r = Reception::new(5, "video", 90_000);
        for seq in [10u16, 11, 13, 14] {
            r.packet(t, seq, 0, false);
        }
        let first = r.report(t).unwrap();
        assert_eq!(first.ssrc, 5);
        assert_eq!(first.last_sequence_number, 14);
        assert_eq!(first.total_lost, 1);
        assert_eq!(first.fraction_lost, (256 / 5) as u8);
        // the hole repaired: none lost in all, and the interval's count goes the other way
        r.packet(t, 12, 0, true);
        for seq in 15u16..=18 {
            r.packet(t, seq, 0, false);
        }
        let second = r.report(t).unwrap();
        assert_eq!(second.total_lost, 0);
        assert_eq!(second.fraction_lost, 0);
        assert_eq!(second.last_sequence_number, 18);
        // nothing new: nothing lost since
        assert_eq!(r.report(t).unwrap().fraction_lost, 0);
    }

    #[test]
    fn inbound_statistics_count_every_packet_and_its_bytes() {
        let t = Instant::now();
        let mut r = Reception::new(5, "video", 90_000);
        assert!(r.stats(0).is_none());
        for seq in [1u16, 2, 4, 4] {
            r.packet(at(t, u64::from(seq)), seq, 0, false);
            r.bytes(12, 100);
        }
        let stats = r.stats(3).unwrap();
        assert_eq!(
            (
                stats.packets_received,
                stats.header_bytes_received,
                stats.bytes_received
            ),
            (4, 48, 400)
        );
        assert_eq!(stats.packets_lost, 1);
        assert_eq!(stats.last_packet, at(t, 4));
        assert_eq!(stats.nack_count, 3);
    }

    #[test]
    fn a_duplicate_is_counted_once() {
        let t = Instant::now();
        let mut r = Reception::new(5, "video", 90_000);
        for seq in [1u16, 2, 3, 2, 3] {
            r.packet(t, seq, 0, false);
        }
        assert_eq!(r.report(t).unwrap().total_lost, 0);
    }

    #[test]
    fn sequence_numbers_wrap_into_the_cycle_count() {
        let t = Instant::now();
        let mut r = Reception::new(5, "video", 90_000);
        for seq in [65_534u16, 65_535, 0, 2] {
            r.packet(t, seq, 0, false);
        }
        let report = r.report(t).unwrap();
        assert_eq!(report.last_sequence_number, (1 << 16) | 2);
        assert_eq!(report.total_lost, 1);
        // one from before the first: the stream starts there
        r.packet(t, 65_533, 0, false);
        assert_eq!(r.report(t).unwrap().total_lost, 1);
    }

    #[test]
    fn a_jump_beyond_the_window_counts_the_packets_skipped_as_lost() {
        let t = Instant::now();
        let mut r = Reception::new(5, "video", 90_000);
        r.packet(t, 0, 0, false);
        r.packet(t, 1000, 0, false);
        assert_eq!(r.report(t).unwrap().total_lost, 999);
        // a packet that old is not counted any more
        r.packet(t, 1, 0, true);
        assert_eq!(r.report(t).unwrap().total_lost, 999);
    }

    #[test]
    fn jitter_follows_arrivals_that_stray_from_the_timestamps() {
        let t = Instant::now();
        let mut steady = Reception::new(5, "video", 90_000);
        let mut uneven = Reception::new(6, "video", 90_000);
        for i in 0..50u64 {
            // 30 fps: 3,000 ticks every 33.3 ms
            let ts = (i * 3000) as u32;
            steady.packet(t + Duration::from_micros(i * 33_333), i as u16, ts, false);
            let wobble = if i % 2 == 0 { 0 } else { 10 };
            uneven.packet(at(t, i * 33 + wobble), i as u16, ts, false);
        }
        let steady = steady.report(t).unwrap().jitter;
        let uneven = uneven.report(t).unwrap().jitter;
        assert!(steady < 5, "steady arrivals: jitter {steady}");
        // ±10 ms at 90 kHz is 900 ticks each step; the estimate converges towards it
        assert!(uneven > 500, "uneven arrivals: jitter {uneven}");
        // a late retransmission says nothing of the jitter
        let mut r = Reception::new(7, "video", 90_000);
        r.packet(t, 0, 0, false);
        r.packet(at(t, 33), 2, 6000, false);
        let before = r.report(t).unwrap().jitter;
        r.packet(at(t, 500), 1, 3000, true);
        r.packet(at(t, 501), 3, 9000, true);
        assert_eq!(r.report(t).unwrap().jitter, before);
    }

    #[test]
    fn the_last_sender_report_is_echoed_with_the_time_since() {
        let t = Instant::now();
        let mut r = Reception::new(5, "video", 90_000);
        r.packet(t, 1, 0, false);
        let report = r.report(t).unwrap();
        assert_eq!((report.last_sender_report, report.delay), (0, 0));
        let sender_report = SenderReport {
            ssrc: 5,
            ntp_time: 0x0123_4567_89AB_CDEF,
            packet_count: 10,
            octet_count: 1000,
            ..Default::default()
        };
        r.sender_report(t, &sender_report);
        let report = r.report(at(t, 500)).unwrap();
        assert_eq!(report.last_sender_report, 0x4567_89AB);
        assert_eq!(report.delay, 32_768, "half a second in 1/65536 s");
        // the counts the stats give, and how many reports came
        r.sender_report(t, &sender_report);
        let sent = r.stats(0).unwrap().remote_sent.unwrap();
        assert_eq!((sent.packets, sent.octets, sent.reports), (10, 1000, 2));
        assert_eq!(sent.ntp_time, 0x0123_4567_89AB_CDEF);
    }
}
