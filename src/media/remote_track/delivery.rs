//! [`FrameDelivery`]: one route for the frames of many tracks to one reading thread (the JS
//! thread), instead of a wait per track.
//!
//! Guarantees:
//! - A track is armed by [`RemoteTrack::wait_frames`] when its reader waits and nothing is
//!   queued. The first frame queued after that (or the track's end) puts the track's key in the
//!   ready list once and disarms it; the reader waits again to be listed again. So only tracks
//!   whose reader is waiting are listed: a reader that does not come back keeps its frames in
//!   the track's bounded queue, where the usual slow-reader rules apply.
//! - The wake-up is called when the ready list goes from empty to non-empty, and only then:
//!   one call however many tracks become ready before the reader drains the list.
//! - While a track is armed, a hole its assembler waits for is given up at its deadline even
//!   when no packet follows (the timer task that [`FrameDelivery::new`] returns, to be
//!   spawned), and the frames behind it make the track ready.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Instant;

use tokio::sync::Notify;

use super::RemoteTrack;

/// What [`RemoteTrack::wait_frames`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Frames were queued: the track is in the ready list now, no wake-up was sent for it.
    Listed,
    /// Nothing queued: the track is armed, its key will be listed when frames come.
    Armed,
    /// The track ended.
    Ended,
}

/// Called when the ready list stops being empty; it must not call back into the delivery
/// synchronously (it schedules the reader).
pub type Wake = Box<dyn Fn() + Send + Sync>;

/// A ready track: the key its reader armed it with, and the track.
pub type Ready = (u64, Weak<RemoteTrack>);

/// The ready list shared by the tracks of one reader thread, and their deadlines.
pub struct FrameDelivery {
    state: Mutex<State>,
    wake: Wake,
    /// Tells the timer task the earliest deadline changed (or the delivery went away).
    timer: Arc<Notify>,
}

#[derive(Default)]
struct State {
    ready: Vec<Ready>,
    deadlines: BinaryHeap<Deadline>,
}

/// A track's assembler deadline, earliest first in the heap.
struct Deadline {
    at: Instant,
    track: Weak<RemoteTrack>,
}

impl PartialEq for Deadline {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}
impl Eq for Deadline {}
impl PartialOrd for Deadline {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Deadline {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: the earliest deadline is the greatest.
        other.at.cmp(&self.at)
    }
}

/// Arms a track for a delivery (kept in the track while it is armed).
pub(super) struct Armed {
    pub(super) delivery: Arc<FrameDelivery>,
    pub(super) track: Weak<RemoteTrack>,
    pub(super) key: u64,
    /// The deadline already given to the delivery's timer.
    pub(super) scheduled: Option<Instant>,
}

impl FrameDelivery {
    /// A delivery that calls `wake` when tracks become ready, and its timer task (to spawn on
    /// a tokio runtime; it returns once the delivery is dropped).
    pub fn new(wake: Wake) -> (Arc<Self>, impl std::future::Future<Output = ()> + Send) {
        let timer = Arc::new(Notify::new());
        let delivery = Arc::new(FrameDelivery {
            state: Mutex::new(State::default()),
            wake,
            timer: timer.clone(),
        });
        let task = Self::run_timer(Arc::downgrade(&delivery), timer);
        (delivery, task)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the ready list: the tracks, each once, in the order they became ready. Each is
    /// disarmed: [`RemoteTrack::take_ready`] gives its frames.
    pub fn take_ready(&self) -> Vec<Ready> {
        std::mem::take(&mut self.lock().ready)
    }

    /// Lists again, ahead of the others, tracks taken by [`take_ready`](Self::take_ready)
    /// that the reader could not take yet; no wake-up (the reader goes on taking).
    pub fn relist(&self, tracks: impl IntoIterator<Item = Ready>) {
        let mut state = self.lock();
        let later = std::mem::take(&mut state.ready);
        state.ready.extend(tracks);
        state.ready.extend(later);
    }

    /// Lists a track; true when the list was empty (the caller then calls [`Self::wake`],
    /// outside the track's lock).
    pub(super) fn push_ready(&self, key: u64, track: Weak<RemoteTrack>) -> bool {
        let mut state = self.lock();
        state.ready.push((key, track));
        state.ready.len() == 1
    }

    pub(super) fn wake(&self) {
        (self.wake)();
    }

    /// Has `track`'s deadline handled at `at`.
    pub(super) fn schedule(&self, at: Instant, track: Weak<RemoteTrack>) {
        let mut state = self.lock();
        let earliest = state.deadlines.peek().is_none_or(|d| at < d.at);
        state.deadlines.push(Deadline { at, track });
        drop(state);
        if earliest {
            self.timer.notify_one();
        }
    }

    /// The deadlines due at `now`, removed; and the next one.
    fn due(&self, now: Instant) -> (Vec<Weak<RemoteTrack>>, Option<Instant>) {
        let mut state = self.lock();
        let mut due = Vec::new();
        while state.deadlines.peek().is_some_and(|d| d.at <= now) {
            if let Some(d) = state.deadlines.pop() {
                due.push(d.track);
            }
        }
        (due, state.deadlines.peek().map(|d| d.at))
    }

    async fn run_timer(delivery: Weak<FrameDelivery>, timer: Arc<Notify>) {
        loop {
            let notified = timer.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            let next = {
                let Some(delivery) = delivery.upgrade() else {
                    return;
                };
                let now = Instant::now();
                let (due, next) = delivery.due(now);
                for track in due {
                    if let Some(track) = track.upgrade() {
                        track.deadline_passed(now);
                    }
                }
                next
            };
            match next {
                Some(at) => {
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep_until(at.into()) => {}
                    }
                }
                None => notified.await,
            }
        }
    }
}

impl Drop for FrameDelivery {
    fn drop(&mut self) {
        // the timer task finds the delivery gone and returns
        self.timer.notify_one();
    }
}
