//! RTCP sender reports (RFC 3550 §6.4.1) for one sent SSRC: what was sent, and the RTP time
//! that goes with a wall-clock time, so that the receiver can sync streams and measure the
//! round trip from its receiver reports.
//!
//! As webrtc-rs' sender-report interceptor did: one report per SSRC every second once media
//! flowed, no report blocks (a send transport receives no RTP), the RTP time extrapolated from
//! the newest timestamp at the clock rate, counts of packets and payload octets.
//!
//! The receiver's reports name our last report it got (the middle of its NTP time) and how long
//! it held it: with when we sent that one, that is the round trip (RFC 3550 §6.4.1).

use std::time::{Duration, Instant};

use rtc::rtcp::sender_report::SenderReport;
use rtc::shared::time::SystemInstant;

/// How often each SSRC reports.
pub(crate) const REPORT_INTERVAL: Duration = Duration::from_secs(1);

pub(crate) struct SenderCounters {
    ssrc: u32,
    clock_rate: f64,
    /// The newest sequence number counted as in order, once a packet was.
    last_sequence: Option<u16>,
    /// The newest RTP timestamp and when it was first sent.
    last_timestamp: Option<(u32, Instant)>,
    packets: u32,
    octets: u32,
    /// The last reports sent: the middle 32 bits of their NTP time, and when.
    sent_reports: [Option<(u32, Instant)>; KEPT_REPORTS],
}

/// Reports remembered for the round trip: a receiver report may name one sent a few seconds ago.
const KEPT_REPORTS: usize = 4;

impl SenderCounters {
    pub(crate) fn new(ssrc: u32, clock_rate: u32) -> Self {
        Self {
            ssrc,
            clock_rate: f64::from(clock_rate),
            last_sequence: None,
            last_timestamp: None,
            packets: 0,
            octets: 0,
            sent_reports: [None; KEPT_REPORTS],
        }
    }

    /// One packet of this SSRC sent at `now`.
    pub(crate) fn sent(&mut self, now: Instant, sequence: u16, timestamp: u32, payload: usize) {
        let in_order = self.last_sequence.is_none_or(|last| {
            let ahead = sequence.wrapping_sub(last);
            ahead != 0 && ahead < 0x8000
        });
        if in_order {
            self.last_sequence = Some(sequence);
            if self.last_timestamp.is_none_or(|(ts, _)| ts != timestamp) {
                self.last_timestamp = Some((timestamp, now));
            }
        }
        self.packets = self.packets.wrapping_add(1);
        self.octets = self
            .octets
            .wrapping_add(u32::try_from(payload).unwrap_or(u32::MAX));
    }

    /// The report at `now` (the current time: the wall clock is read for it), remembered for
    /// the round trip; none before the first packet.
    pub(crate) fn report(&mut self, now: Instant) -> Option<SenderReport> {
        self.report_at(now, SystemInstant::now(now).ntp(now))
    }

    /// The report at `now`, whose wall-clock time is `ntp_time`.
    fn report_at(&mut self, now: Instant, ntp_time: u64) -> Option<SenderReport> {
        let (timestamp, at) = self.last_timestamp?;
        let elapsed = now.saturating_duration_since(at).as_secs_f64() * self.clock_rate;
        self.sent_reports.rotate_right(1);
        self.sent_reports[0] = Some(((ntp_time >> 16) as u32, now));
        Some(SenderReport {
            ssrc: self.ssrc,
            ntp_time,
            rtp_time: timestamp.wrapping_add(elapsed as u32),
            packet_count: self.packets,
            octet_count: self.octets,
            ..Default::default()
        })
    }

    /// The round trip a reception report got at `now` tells: `last_report` names one of our
    /// reports, which the receiver held for `delay` (1/65536 s) before reporting. None when it
    /// names no report we remember.
    pub(crate) fn round_trip(
        &self,
        now: Instant,
        last_report: u32,
        delay: u32,
    ) -> Option<Duration> {
        if last_report == 0 {
            return None;
        }
        let (_, sent) = self
            .sent_reports
            .iter()
            .flatten()
            .find(|(ntp, _)| *ntp == last_report)?;
        let held = Duration::from_secs_f64(f64::from(delay) / 65536.0);
        Some(now.saturating_duration_since(*sent).saturating_sub(held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_report_before_a_packet() {
        let mut counters = SenderCounters::new(7, 90_000);
        assert!(counters.report(Instant::now()).is_none());
    }

    #[test]
    fn reports_counts_and_extrapolates_the_rtp_time() {
        let t0 = Instant::now();
        let mut counters = SenderCounters::new(7, 90_000);
        counters.sent(t0, 10, 1_000, 1_200);
        counters.sent(t0, 11, 1_000, 800);
        // a late retransmission is counted, but does not move the clock
        counters.sent(t0 + Duration::from_millis(5), 9, 500, 100);
        let report = counters
            .report(t0 + Duration::from_millis(500))
            .expect("a report");
        assert_eq!(report.ssrc, 7);
        assert_eq!(report.packet_count, 3);
        assert_eq!(report.octet_count, 2_100);
        // 500 ms at 90 kHz after timestamp 1,000
        assert_eq!(report.rtp_time, 1_000 + 45_000);
        // NTP seconds: the wall clock, 70 years ahead of Unix time
        let ntp_seconds = report.ntp_time >> 32;
        let unix_seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(ntp_seconds.abs_diff(unix_seconds + 2_208_988_800) <= 2);
    }

    #[test]
    fn a_new_timestamp_restarts_the_extrapolation() {
        let t0 = Instant::now();
        let mut counters = SenderCounters::new(7, 48_000);
        counters.sent(t0, 1, 0, 100);
        counters.sent(t0 + Duration::from_millis(20), 2, 960, 100);
        let report = counters.report(t0 + Duration::from_millis(20)).unwrap();
        assert_eq!(report.rtp_time, 960);
    }

    #[test]
    fn a_reception_report_naming_a_sent_report_gives_the_round_trip() {
        let t0 = Instant::now();
        let mut counters = SenderCounters::new(7, 90_000);
        counters.sent(t0, 1, 0, 100);
        // NTP times one second apart, as the wall clock would give them
        let ntp0 = 0xe6a1_0000_4000_0000;
        let first = counters.report_at(t0, ntp0).unwrap();
        let t1 = t0 + Duration::from_secs(1);
        let second = counters.report_at(t1, ntp0 + (1 << 32)).unwrap();
        let middle = |ntp: u64| (ntp >> 16) as u32;
        // the receiver got the first report, held it 250 ms, and its report came 300 ms after
        // the first was sent
        let rtt = counters
            .round_trip(
                t0 + Duration::from_millis(300),
                middle(first.ntp_time),
                65536 / 4,
            )
            .unwrap();
        assert!(
            rtt.abs_diff(Duration::from_millis(50)) < Duration::from_millis(1),
            "{rtt:?}"
        );
        let rtt = counters
            .round_trip(t1 + Duration::from_millis(20), middle(second.ntp_time), 0)
            .unwrap();
        assert!(
            rtt.abs_diff(Duration::from_millis(20)) < Duration::from_millis(1),
            "{rtt:?}"
        );
        // no report yet (0), or one we do not know
        assert_eq!(counters.round_trip(t1, 0, 0), None);
        assert_eq!(
            counters.round_trip(t1, middle(second.ntp_time) ^ 0x8000, 0),
            None
        );
    }
}
