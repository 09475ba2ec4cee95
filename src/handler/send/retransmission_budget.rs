//! How much a connection may retransmit: at most [`SHARE`] of the media bytes it sent over the
//! last second, as libwebrtc caps retransmissions at a rate over a one-second window.
//!
//! Why: a receiver NACKs every packet it misses, and mediasoup asks again every 100 ms, up to
//! ten times. When packets are lost because the receiver or this process is short of CPU,
//! answering every NACK adds the work that causes the loss: new media goes out late and is lost
//! in turn, until retransmissions take most of the CPU and little new media gets through
//! (`docs/performance.md#retransmission-budget`). Under the cap, a NACK beyond it goes
//! unanswered: the receiver asks again later, or asks for a keyframe.

use std::time::{Duration, Instant};

/// The most a connection retransmits, as a share of the media bytes it sent in the window.
pub(crate) const SHARE: u64 = 50; // percent

/// The window the two rates are measured over.
const WINDOW: Duration = Duration::from_secs(1);

/// The window is kept as this many slices, the oldest dropped as time goes.
const SLICES: usize = 10;

const SLICE: Duration = Duration::from_millis(WINDOW.as_millis() as u64 / SLICES as u64);

#[derive(Clone, Copy, Default)]
struct Slice {
    media: u64,
    resent: u64,
}

pub(crate) struct RetransmissionBudget {
    slices: [Slice; SLICES],
    /// The slice `now` counts into, and when it started.
    current: usize,
    started: Instant,
    /// The sums over the slices.
    media: u64,
    resent: u64,
}

impl RetransmissionBudget {
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            slices: [Slice::default(); SLICES],
            current: 0,
            started: now,
            media: 0,
            resent: 0,
        }
    }

    /// Drops the slices older than the window at `now`.
    fn advance(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.started);
        if elapsed < SLICE {
            return;
        }
        if elapsed >= WINDOW {
            // nothing sent for a whole window: start over
            *self = Self::new(now);
            return;
        }
        let steps = (elapsed.as_nanos() / SLICE.as_nanos()) as usize;
        for _ in 0..steps {
            self.current = (self.current + 1) % SLICES;
            let old = std::mem::take(&mut self.slices[self.current]);
            self.media -= old.media;
            self.resent -= old.resent;
        }
        self.started += SLICE * steps as u32;
    }

    /// `bytes` of media sent at `now`.
    pub(crate) fn media(&mut self, now: Instant, bytes: usize) {
        self.advance(now);
        self.slices[self.current].media += bytes as u64;
        self.media += bytes as u64;
    }

    /// Whether a retransmission of `bytes` fits at `now`; if it does, it is counted.
    pub(crate) fn try_resend(&mut self, now: Instant, bytes: usize) -> bool {
        self.advance(now);
        let bytes = bytes as u64;
        if (self.resent + bytes) * 100 > self.media * SHARE {
            return false;
        }
        self.slices[self.current].resent += bytes;
        self.resent += bytes;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retransmits_up_to_the_share_of_the_media_sent() {
        let t0 = Instant::now();
        let mut budget = RetransmissionBudget::new(t0);
        assert!(!budget.try_resend(t0, 1), "nothing sent, nothing to resend");
        budget.media(t0, 10_000);
        let fits = (10_000 * SHARE / 100) as usize;
        assert!(budget.try_resend(t0, fits - 1_000));
        assert!(!budget.try_resend(t0, 1_001), "beyond the share");
        assert!(budget.try_resend(t0, 1_000), "what is left still fits");
        assert!(!budget.try_resend(t0, 1));
        // more media, more room
        budget.media(t0 + Duration::from_millis(50), 2_000);
        assert!(budget.try_resend(t0 + Duration::from_millis(50), 1_000));
    }

    #[test]
    fn the_window_slides() {
        let t0 = Instant::now();
        let mut budget = RetransmissionBudget::new(t0);
        budget.media(t0, 10_000);
        assert!(budget.try_resend(t0, 5_000));
        assert!(!budget.try_resend(t0, 100));
        // half a second later the first slice still counts: media and what was resent
        let t1 = t0 + Duration::from_millis(500);
        budget.media(t1, 10_000);
        assert!(budget.try_resend(t1, 5_000));
        assert!(!budget.try_resend(t1, 100));
        // once the first slice left the window, only the second half's figures count
        let t2 = t0 + Duration::from_millis(1_050);
        assert!(
            !budget.try_resend(t2, 100),
            "the second half's share is used up"
        );
        budget.media(t2, 2_000);
        assert!(budget.try_resend(t2, 1_000));
        assert!(!budget.try_resend(t2, 1));
        // after a silent second nothing is left
        let t3 = t2 + Duration::from_secs(2);
        assert!(!budget.try_resend(t3, 1));
    }
}
