//! The process's timer grid: instants on multiples of an interval since the grid's first use.
//! Periodic work of every connection that falls due on it falls due at the same instants, so
//! that one wake-up of the timer thread serves all of it.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The finest step of the grid: receiving connections' congestion feedback falls due on it
/// (`recv/feedback.rs`), and their distant deadlines move onto it (`direct.rs`), so that the
/// ICE checks fall due with the feedback of every receiving connection.
pub(crate) const FINEST: Duration = Duration::from_millis(100);

/// The grid's origin: its first use in the process.
fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// The first instant strictly after `now` on the grid of `interval`.
pub(crate) fn on_grid(now: Instant, interval: Duration) -> Instant {
    let origin = origin();
    let step = interval.as_nanos().max(1);
    let steps = now.saturating_duration_since(origin).as_nanos() / step + 1;
    origin + Duration::from_nanos((steps * step) as u64)
}

/// `at` itself when it is on the grid of `interval`, else the first instant after it on it:
/// never earlier than `at`, at most `interval` later.
pub(crate) fn round_up(at: Instant, interval: Duration) -> Instant {
    let next = on_grid(at, interval);
    if next.checked_sub(interval) == Some(at) {
        at
    } else {
        next
    }
}

/// Puts one connection's distant deadlines on the grid of `interval`: a deadline at least
/// `interval` ahead when first seen moves to the grid (later by less than `interval`), a nearer
/// one stays where it is. The same deadline seen again keeps the place it got, however near it
/// has come meanwhile, so a deadline moves at most once.
pub(crate) struct DistantOnGrid {
    interval: Duration,
    /// The last deadline placed, and where.
    last: Option<(Instant, Instant)>,
}

impl DistantOnGrid {
    pub(crate) fn new(interval: Duration) -> Self {
        DistantOnGrid {
            interval,
            last: None,
        }
    }

    /// Where the deadline `at` falls; `now` is read only for a deadline not placed before.
    pub(crate) fn place(&mut self, at: Instant, now: impl FnOnce() -> Instant) -> Instant {
        if let Some((seen, placed)) = self.last {
            if seen == at {
                return placed;
            }
        }
        let placed = if at >= now() + self.interval {
            round_up(at, self.interval)
        } else {
            at
        };
        self.last = Some((at, placed));
        placed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_work_of_every_connection_falls_due_together() {
        let interval = Duration::from_millis(100);
        // the grid starts at its first use
        on_grid(Instant::now(), interval);
        let start = Instant::now();
        let first = on_grid(start, interval);
        assert!(first > start && first <= start + interval);
        // any instant up to the first one is due with it; the next step from then on
        for ms in [0, 13, 50, 99] {
            let now = start + Duration::from_millis(ms);
            if now < first {
                assert_eq!(on_grid(now, interval), first);
            }
        }
        assert_eq!(on_grid(first, interval), first + interval);
        assert_eq!(on_grid(first + interval / 2, interval), first + interval);
        // a stamp from before the grid's first use
        assert!(on_grid(start - Duration::from_secs(5), interval) > start - Duration::from_secs(5));
    }

    #[test]
    fn a_deadline_rounds_up_to_the_grid_and_stays_on_it() {
        let interval = Duration::from_millis(100);
        let first = on_grid(Instant::now(), interval);
        // on the grid: itself
        assert_eq!(round_up(first, interval), first);
        assert_eq!(round_up(first + interval, interval), first + interval);
        // between two instants: the later one, never earlier than the deadline
        for ms in [1, 37, 99] {
            let at = first + Duration::from_millis(ms);
            assert_eq!(round_up(at, interval), first + interval);
        }
        let just_after = first + Duration::from_nanos(1);
        assert_eq!(round_up(just_after, interval), first + interval);
    }

    #[test]
    fn distant_deadlines_move_to_the_grid_once_and_near_ones_stay() {
        let interval = Duration::from_millis(100);
        let first = on_grid(Instant::now(), interval);
        let mut place = DistantOnGrid::new(interval);
        // 200 ms ahead, off the grid: the next grid instant
        let now = first + Duration::from_millis(3);
        let tick = now + Duration::from_millis(200);
        assert_eq!(place.place(tick, || now), first + 3 * interval);
        // the same deadline seen again once it is near keeps its place
        let later = now + Duration::from_millis(150);
        assert_eq!(place.place(tick, || later), first + 3 * interval);
        // a near deadline stays
        let near = later + Duration::from_millis(20);
        assert_eq!(place.place(near, || later), near);
        // a deadline already on the grid stays
        let on = first + 5 * interval;
        assert_eq!(place.place(on, || later), on);
    }
}
