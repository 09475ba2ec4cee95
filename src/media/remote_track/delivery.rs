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
//! - Wake-ups are at least the delivery's interval apart: a list that stops being empty
//!   sooner after the last wake-up is woken at that interval's end (by the timer task), so
//!   under load the reader takes many tracks per wake-up, and when idle nothing waits.
//! - While a track is armed, a hole its assembler waits for is given up at its deadline even
//!   when no packet follows (the timer task that [`FrameDelivery::new`] returns, to be
//!   spawned), and the frames behind it make the track ready.
//! - Within [`defer_wakes`] (a batch of reads on one thread), a delivery is woken once, at
//!   the batch's end, however many of its tracks became ready during it.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

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

thread_local! {
    /// The deliveries to wake at the end of this thread's current [`defer_wakes`]; `None`
    /// outside one.
    static DEFERRED: RefCell<Option<Vec<Arc<FrameDelivery>>>> = const { RefCell::new(None) };
}

/// Runs `reads` with the wake-ups of deliveries put off to its end: each delivery whose list
/// stopped being empty meanwhile is woken once then (as [`FrameDelivery`] wakes: at once, or
/// at its interval's end). A reader woken in the middle would take one track and be woken
/// again for the next; a thread that reads many sockets in a row runs each batch in this.
pub fn defer_wakes(reads: &mut dyn FnMut()) {
    let outer = DEFERRED.with(|d| d.borrow_mut().replace(Vec::new()));
    reads();
    let pending = DEFERRED.with(|d| std::mem::replace(&mut *d.borrow_mut(), outer));
    for delivery in pending.into_iter().flatten() {
        delivery.wake_now();
    }
}

/// The ready list shared by the tracks of one reader thread, and their deadlines.
pub struct FrameDelivery {
    state: Mutex<State>,
    wake: Wake,
    /// The least time between two wake-ups.
    interval: Duration,
    /// Tells the timer task the earliest deadline changed (or the delivery went away).
    timer: Arc<Notify>,
}

#[derive(Default)]
struct State {
    ready: Vec<Ready>,
    deadlines: BinaryHeap<Deadline>,
    /// When the last wake-up was called.
    last_wake: Option<Instant>,
    /// A wake-up put off to this time (the timer task calls it).
    wake_at: Option<Instant>,
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
    /// A delivery that calls `wake` when tracks become ready, at most once per `interval`,
    /// and its timer task (to spawn on a tokio runtime; it returns once the delivery is
    /// dropped).
    pub fn new(
        wake: Wake,
        interval: Duration,
    ) -> (Arc<Self>, impl std::future::Future<Output = ()> + Send) {
        let timer = Arc::new(Notify::new());
        let delivery = Arc::new(FrameDelivery {
            state: Mutex::new(State::default()),
            wake,
            interval,
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

    /// Wakes the reader now, or at the end of the interval since the last wake-up (nothing
    /// more when such a wake-up is already put off); within [`defer_wakes`], at its end.
    pub(super) fn wake(self: Arc<Self>) {
        let deferred = DEFERRED.with(|d| match d.borrow_mut().as_mut() {
            Some(pending) => {
                if !pending.iter().any(|p| Arc::ptr_eq(p, &self)) {
                    pending.push(self.clone());
                }
                true
            }
            None => false,
        });
        if !deferred {
            self.wake_now();
        }
    }

    fn wake_now(&self) {
        let now = Instant::now();
        let mut state = self.lock();
        if state.wake_at.is_some() {
            return;
        }
        match state.last_wake {
            Some(last) if now < last + self.interval => {
                state.wake_at = Some(last + self.interval);
                drop(state);
                self.timer.notify_one();
            }
            _ => {
                state.last_wake = Some(now);
                drop(state);
                (self.wake)();
            }
        }
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

    /// The deadlines due at `now`, removed.
    fn due(&self, now: Instant) -> Vec<Weak<RemoteTrack>> {
        let mut state = self.lock();
        let mut due = Vec::new();
        while state.deadlines.peek().is_some_and(|d| d.at <= now) {
            if let Some(d) = state.deadlines.pop() {
                due.push(d.track);
            }
        }
        due
    }

    /// Whether a put-off wake-up is due at `now` with tracks still listed (then counted as
    /// made); and the next time the timer has something to do.
    fn due_wake(&self, now: Instant) -> (bool, Option<Instant>) {
        let mut state = self.lock();
        let mut wake = false;
        if state.wake_at.is_some_and(|at| at <= now) {
            state.wake_at = None;
            if !state.ready.is_empty() {
                state.last_wake = Some(now);
                wake = true;
            }
        }
        let next = match (state.deadlines.peek().map(|d| d.at), state.wake_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        (wake, next)
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
                // the tracks first: those made ready join a wake-up due now
                for track in delivery.due(now) {
                    if let Some(track) = track.upgrade() {
                        track.deadline_passed(now);
                    }
                }
                let (wake, next) = delivery.due_wake(now);
                if wake {
                    (delivery.wake)();
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
