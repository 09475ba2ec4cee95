//! The pacer of a connection: a token bucket over the bytes it sends, so that a burst (every
//! producer of a transport writing its frame at the same moment) leaves spread over a few
//! milliseconds instead of all at once, as browsers pace.
//!
//! Why: a receiver takes datagrams at its own pace, and what arrives faster waits in its
//! socket's receive buffer (208 KiB by default on Linux); what does not fit is lost. Against
//! mediasoup, a transport whose producers all write their frames at once lost far fewer packets
//! paced than unpaced, and fewer at 1.1 times the offered rate than at 1.25 or 1.5
//! (`docs/performance.md#pacing`).
//!
//! The rate is [`FACTOR`] times what the connection was given to send lately, at least
//! [`MIN_RATE`]; up to [`BURST`] bytes leave at once. A steady stream is never held, nor is
//! anything on a transport sending less than ~90 Mbit/s but a burst beyond `BURST` (the
//! second half of a 128 KB keyframe leaves over 5 ms). On a bigger transport a burst leaves
//! within the interval between bursts divided by `FACTOR` (the frames of every producer
//! written at once, every 33 ms: within 30 ms). Browsers pace at 2.5 times their bandwidth
//! estimate, to keep queues short on the network; here the bottleneck is the receiver, which a
//! smoother stream serves better.

use std::time::{Duration, Instant};

/// Bytes that may leave at once: a few frames of a 1-2 Mbps video stream.
pub(crate) const BURST: f64 = 64.0 * 1024.0;

/// The lowest pacing rate, bytes per second (100 Mbit/s): a 500 KB keyframe leaves within
/// ~40 ms, one of 100 KB within ~3 ms after its first `BURST`.
pub(crate) const MIN_RATE: f64 = 100e6 / 8.0;

/// How many times the recent offered rate a burst may leave at.
const FACTOR: f64 = 1.1;

/// How long a backlog may earn tokens for, beyond [`BURST`]: the timer that drains it ticks
/// every millisecond or so, and must be able to send the rate's worth at each tick.
const TICK: Duration = Duration::from_millis(2);

/// How long the offered rate is measured over.
const WINDOW: Duration = Duration::from_millis(100);

pub(crate) struct Pacer {
    /// Bytes that may leave now (negative: owed).
    tokens: f64,
    /// Bytes per second.
    rate: f64,
    refilled: Instant,
    window_start: Instant,
    window_bytes: f64,
}

impl Pacer {
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            tokens: BURST,
            rate: MIN_RATE,
            refilled: now,
            window_start: now,
            window_bytes: 0.0,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        let cap = BURST.max(self.rate * TICK.as_secs_f64());
        self.tokens = (self.tokens + elapsed * self.rate).min(cap);
    }

    /// A datagram of `len` bytes is to be sent (now or from the backlog): what the rate
    /// follows.
    pub(crate) fn offered(&mut self, now: Instant, len: usize) {
        self.window_bytes += len as f64;
        let window = now.saturating_duration_since(self.window_start);
        if window >= WINDOW {
            let offered = self.window_bytes / window.as_secs_f64();
            self.rate = (offered * FACTOR).max(MIN_RATE);
            self.window_start = now;
            self.window_bytes = 0.0;
        }
    }

    /// Whether a datagram may leave now.
    pub(crate) fn may_send(&mut self, now: Instant) -> bool {
        if self.tokens < 0.0 {
            self.refill(now);
        }
        // (a byte of slack for the rounding of `next_send`)
        self.tokens > -1.0
    }

    /// A datagram of `len` bytes left.
    pub(crate) fn sent(&mut self, now: Instant, len: usize) {
        self.refill(now);
        self.tokens -= len as f64;
    }

    /// When the next datagram may leave (now or earlier: at once).
    pub(crate) fn next_send(&self) -> Instant {
        if self.tokens >= 0.0 {
            return self.refilled;
        }
        self.refilled + Duration::from_secs_f64(-self.tokens / self.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_stream_is_never_held() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(t0);
        // 1,000-byte datagrams at 12,000 per second (96 Mbit/s, just under MIN_RATE) for 2 s
        for i in 0..24_000u64 {
            let now = t0 + Duration::from_micros(i * 1_000_000 / 12_000);
            pacer.offered(now, 1000);
            assert!(pacer.may_send(now), "held at {i}");
            pacer.sent(now, 1000);
        }
    }

    #[test]
    fn a_burst_beyond_the_bucket_leaves_at_the_rate() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(t0);
        let mut now = t0;
        let mut held_at = None;
        for i in 0..200 {
            pacer.offered(now, 1000);
            if !pacer.may_send(now) {
                held_at.get_or_insert(i);
                now = pacer.next_send();
                assert!(pacer.may_send(now));
            }
            pacer.sent(now, 1000);
        }
        // the first BURST bytes at once, then MIN_RATE
        assert_eq!(held_at, Some((BURST / 1000.0).ceil() as usize));
        let expected = (200_000.0 - BURST) / MIN_RATE;
        let took = (now - t0).as_secs_f64();
        assert!(
            (took - expected).abs() < 0.001,
            "{took} s, expected ~{expected} s"
        );
    }

    #[test]
    fn the_rate_follows_what_is_offered() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(t0);
        // 40 MB/s offered for a window: the rate becomes FACTOR times that
        let mut now = t0;
        for _ in 0..4_000 {
            now += Duration::from_micros(25);
            pacer.offered(now, 1000);
        }
        let expected = FACTOR * 40e6;
        assert!((pacer.rate / expected - 1.0).abs() < 0.01, "{}", pacer.rate);
        // idle for a window: back to the minimum
        now += WINDOW * 2;
        pacer.offered(now, 1000);
        assert_eq!(pacer.rate, MIN_RATE);
    }

    #[test]
    fn a_backlog_drains_at_the_rate_with_a_tick_of_a_millisecond() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(t0);
        pacer.rate = 150e6;
        pacer.tokens = -1.0;
        // a timer every ms: each tick sends what the rate allows (150 KB), not just BURST
        let mut sent = 0;
        let mut now = t0;
        for _ in 0..10 {
            now += Duration::from_millis(1);
            while pacer.may_send(now) {
                pacer.sent(now, 1000);
                sent += 1000;
            }
        }
        assert!(sent >= 1_490_000, "{sent} bytes in 10 ms");
    }
}
