//! RTP timestamps of one layer: frame timing in microseconds -> codec clock ticks.

use crate::FrameTiming;
use std::time::Instant;

/// Places each frame of one layer on a media timeline (microseconds from the layer's first
/// frame) and converts that position to the codec clock, offset by a random base.
///
/// The position of a frame is, in order of precedence:
/// 1. its `timestamp_us`, relative to the first timestamp seen (which is placed where the
///    frame would have gone otherwise, so switching to timestamps mid-stream keeps going);
/// 2. the end of the previous frame, when that frame gave its `duration_us`;
/// 3. the wall clock since the layer's first frame (never before the previous frame's end).
///
/// Positions are converted from the start each time (no accumulated rounding), and the
/// timestamp wraps modulo 2^32 as RTP timestamps do.
#[derive(Debug)]
pub(crate) struct LayerClock {
    clock_rate: u32,
    base: u32,
    started: Option<Instant>,
    /// `timestamp_us` that maps to position 0.
    anchor_us: Option<i128>,
    /// Where the next frame starts if it gives no timestamp.
    next_us: i128,
    /// The previous frame gave its duration, so `next_us` is exact.
    next_known: bool,
}

impl LayerClock {
    pub(crate) fn new(clock_rate: u32, base: u32) -> Self {
        LayerClock {
            clock_rate,
            base,
            started: None,
            anchor_us: None,
            next_us: 0,
            next_known: false,
        }
    }

    /// The RTP timestamp of the next frame, written at `now`.
    pub(crate) fn stamp(&mut self, timing: FrameTiming, now: Instant) -> u32 {
        let started = *self.started.get_or_insert(now);
        let default_us = if self.next_known {
            self.next_us
        } else {
            let wall = now.saturating_duration_since(started).as_micros() as i128;
            wall.max(self.next_us)
        };
        let position_us = match timing.timestamp_us {
            Some(t) => {
                let t = i128::from(t);
                t - *self.anchor_us.get_or_insert(t - default_us)
            }
            None => default_us,
        };
        self.next_us = position_us + timing.duration_us.map_or(0, i128::from);
        self.next_known = timing.duration_us.is_some();

        let ticks = (position_us * i128::from(self.clock_rate)).div_euclid(1_000_000);
        self.base.wrapping_add(ticks.rem_euclid(1 << 32) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ts(t: u64) -> FrameTiming {
        FrameTiming {
            timestamp_us: Some(t),
            duration_us: None,
        }
    }

    fn dur(d: u64) -> FrameTiming {
        FrameTiming {
            timestamp_us: None,
            duration_us: Some(d),
        }
    }

    #[test]
    fn timestamps_are_relative_to_the_first_one_in_the_codec_clock() {
        let now = Instant::now();
        let mut video = LayerClock::new(90_000, 1000);
        assert_eq!(video.stamp(ts(5_000_000), now), 1000);
        assert_eq!(video.stamp(ts(5_033_333), now), 1000 + 2999);
        assert_eq!(video.stamp(ts(6_000_000), now), 1000 + 90_000);
        let mut opus = LayerClock::new(48_000, 7);
        assert_eq!(opus.stamp(ts(0), now), 7);
        assert_eq!(opus.stamp(ts(20_000), now), 7 + 960);
    }

    #[test]
    fn durations_advance_the_next_frame_without_drift() {
        let now = Instant::now();
        let mut c = LayerClock::new(90_000, 0);
        let mut last = 0;
        for i in 0..300u32 {
            // 30 fps as 33_333 us: 90_000 * 33_333 / 1e6 = 2999.97 ticks per frame.
            last = c.stamp(dur(33_333), now);
            assert_eq!(last, (u64::from(i) * 33_333 * 90 / 1000) as u32);
        }
        assert_eq!(last, 896_991); // frame 299 at 9.966_567 s
        let mut opus = LayerClock::new(48_000, 0);
        for i in 0..10u32 {
            assert_eq!(opus.stamp(dur(20_000), now), i * 960);
        }
    }

    #[test]
    fn wall_clock_when_neither_is_given() {
        let t0 = Instant::now();
        let mut c = LayerClock::new(90_000, 500);
        assert_eq!(c.stamp(FrameTiming::default(), t0), 500);
        let t1 = t0 + Duration::from_millis(100);
        assert_eq!(c.stamp(FrameTiming::default(), t1), 500 + 9000);
        // A clock that does not move forward keeps the timestamp.
        assert_eq!(c.stamp(FrameTiming::default(), t1), 500 + 9000);
    }

    #[test]
    fn timestamps_wrap_around_modulo_2_pow_32() {
        let now = Instant::now();
        let mut c = LayerClock::new(90_000, u32::MAX - 899);
        assert_eq!(c.stamp(ts(0), now), u32::MAX - 899);
        assert_eq!(c.stamp(ts(10_000), now), 0); // +900 ticks
        assert_eq!(c.stamp(ts(20_000), now), 900);
        // Far beyond one wrap (2^32 / 90 kHz is ~13.25 hours).
        let hours_20 = 20 * 3600 * 1_000_000u64;
        let expected = (u64::from(u32::MAX - 899) + hours_20 * 90 / 1000) % (1 << 32);
        assert_eq!(c.stamp(ts(hours_20), now), expected as u32);
    }

    #[test]
    fn timestamps_before_the_first_go_backwards() {
        let now = Instant::now();
        let mut c = LayerClock::new(90_000, 0);
        assert_eq!(c.stamp(ts(1_000_000), now), 0);
        // A B-frame presented before the first frame: wraps below the base.
        assert_eq!(c.stamp(ts(1_000_000 - 10_000), now), u32::MAX - 899);
    }

    #[test]
    fn switching_modes_continues_the_timeline() {
        let now = Instant::now();
        let mut c = LayerClock::new(90_000, 0);
        assert_eq!(c.stamp(dur(10_000), now), 0);
        assert_eq!(c.stamp(dur(10_000), now), 900);
        // First timestamp lands where the next frame would have gone (20 ms).
        assert_eq!(c.stamp(ts(777_000), now), 1800);
        assert_eq!(c.stamp(ts(787_000), now), 2700);
        // A frame with no timing after a frame with no duration: wall clock, never backwards.
        assert_eq!(c.stamp(FrameTiming::default(), now), 2700);
    }
}
