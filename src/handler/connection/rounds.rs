//! The sockets of receiving connections, read in rounds by one thread of the process (Linux).
//!
//! A socket in tokio's reactor wakes a thread for each datagram that finds it idle. A
//! receiving process is woken by every burst of its sources, and at light loads each wake-up
//! costs more than the datagrams it brings (`docs/performance.md`, "Receive rounds"). Here the
//! sockets sit in an epoll set of their own, read by one thread:
//!
//! - when nothing came since its last round, the thread waits in that set, so the first
//!   datagram after a quiet spell is read at once;
//! - while the process is busy, it sleeps out the rest of [`ROUND`] after each round and then
//!   reads whatever came meanwhile, every socket in one round; otherwise it goes on as after
//!   a quiet spell. Busy: the last round read [`BUSY`] datagrams or more, or the rounds of
//!   the last [`RATE_WINDOW`] read half as many per [`ROUND`] on average (a steady 800
//!   datagrams a second). So a datagram waits only in a busy process, at most [`ROUND`]; its
//!   arrival time is the kernel's stamp, not the read's (`udp_batch.rs`), so feedback and
//!   reports carry the times the datagrams came.
//! - a round that found one socket's datagrams coming fast sleeps less: at the rate they came
//!   since the round before, no more than [`SOCKET_QUEUE`] queue in that socket before the
//!   next round, well within what its receive buffer holds (a burst is not lost to a round's
//!   sleep). The first round after a quiet spell, which has no rate to go by, lasts half of
//!   [`ROUND`] at most.
//! - while a registered connection is still connecting ([`Eager`]), rounds do not wait: the
//!   handshake's round trips are never held up.
//!
//! A reader also says when it next has something to do without a datagram (a connection's
//! RTCP): the thread keeps these deadlines, so that no other thread is woken for them. When
//! quiet, it waits for the earliest; while busy, it runs those that came at the end of each
//! round, as late as a datagram's read (at most [`ROUND`]): cutting a round's sleep short for
//! them would make more rounds, each reading fewer datagrams per socket.
//!
//! Readers run on this thread, one at a time, each round inside the scope the layer above
//! set ([`set_round_scope`]: it can put work off to the round's end); a reader that needs its
//! tokio runtime enters it itself. Registration ends when the [`Registration`] is dropped,
//! which must happen before its socket closes: a reader keeps its registration, so that
//! dropping the reader ends both.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

/// The longest a datagram waits between its arrival and its read, once the process is busy.
pub(crate) const ROUND: Duration = Duration::from_millis(10);

/// The datagrams a round reads from which the process counts as busy: the next round waits
/// for the rest of [`ROUND`]. A process that reads fewer per round, and fewer than half as
/// many on average over [`RATE_WINDOW`], reads the next datagram as it comes.
pub(crate) const BUSY: usize = 16;

/// The span over which the rounds' average is taken (see [`BUSY`]).
const RATE_WINDOW: Duration = Duration::from_millis(50);

/// The most datagrams a busy round's sleep lets queue in one socket, at the rate the
/// busiest socket's came since the round before: ~110 KB of full-size datagrams in the
/// kernel's accounting, half its smallest default buffer (208 KiB).
const SOCKET_QUEUE: u32 = 48;

/// The shortest span a round's datagrams are taken to have come in: right after a quiet
/// spell, or a round that did not sleep, the span measured can be shorter than the time they
/// took to come.
const MIN_SPAN: Duration = Duration::from_millis(1);

/// The ready sockets one wait reports, at most (a round waits again until it has them all).
const EVENTS: usize = 256;

/// What each round runs in: it calls the round it is given once.
pub type RoundScope = fn(&mut dyn FnMut());

/// Has every round of the process run inside `scope` (the first call sets it; later calls
/// change nothing).
pub fn set_round_scope(scope: RoundScope) {
    if let Ok(rounds) = Rounds::shared() {
        let _ = rounds.scope.set(scope);
    }
}

/// Reads what one registered socket holds.
pub(crate) trait RoundReader: Send + Sync {
    /// Called on the rounds' thread when the socket has datagrams queued. Reads what it
    /// wants of them (those left make the socket ready again in the next round) and says
    /// how many it read, and when it next has something to do without a datagram.
    fn read_ready(&self) -> Ready;

    /// Called on the rounds' thread once the deadline it last gave has come: does what is
    /// due and says when it next has something to do.
    fn due(&self) -> Option<Instant>;
}

/// What a reader did with its socket's datagrams.
pub(crate) struct Ready {
    /// How many it read.
    pub(crate) read: usize,
    /// When it next has something to do without a datagram (see [`RoundReader::due`]).
    pub(crate) due: Option<Instant>,
}

/// One epoll set and the thread that reads its sockets.
pub(crate) struct Rounds {
    epoll: OwnedFd,
    readers: Mutex<HashMap<u64, Weak<dyn RoundReader>>>,
    next_token: AtomicU64,
    /// Registered connections still connecting.
    eager: AtomicUsize,
    round: Duration,
    busy: usize,
    /// The most datagrams a busy round's sleep lets queue in one socket ([`SOCKET_QUEUE`]).
    queue: u32,
    /// What each round runs in, once set.
    scope: OnceLock<RoundScope>,
    thread: OnceLock<io::Result<()>>,
}

impl Rounds {
    /// The process's rounds (one epoll set, one thread, started at the first registration).
    pub(crate) fn shared() -> io::Result<&'static Rounds> {
        static SHARED: OnceLock<Result<&'static Rounds, i32>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                Rounds::new(ROUND, BUSY, SOCKET_QUEUE)
                    .map(|r| &*Box::leak(Box::new(r)))
                    .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
            })
            .map_err(io::Error::from_raw_os_error)
    }

    fn new(round: Duration, busy: usize, queue: u32) -> io::Result<Self> {
        // SAFETY: no pointer arguments; a non-negative result is a new descriptor we own.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Self {
            // SAFETY: `fd` was just created and nothing else owns it.
            epoll: unsafe { OwnedFd::from_raw_fd(fd) },
            readers: Mutex::new(HashMap::new()),
            next_token: AtomicU64::new(1),
            eager: AtomicUsize::new(0),
            round,
            busy,
            queue,
            scope: OnceLock::new(),
            thread: OnceLock::new(),
        })
    }

    /// Reads `fd` in rounds with `reader` from now on, until the registration is dropped
    /// (which must happen before `fd` closes).
    pub(crate) fn register(
        &'static self,
        fd: RawFd,
        reader: Weak<dyn RoundReader>,
    ) -> io::Result<Registration> {
        self.start()?;
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        self.readers_map().insert(token, reader);
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        // SAFETY: `event` is alive for the call; the kernel copies it.
        if unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) }
            < 0
        {
            let err = io::Error::last_os_error();
            self.readers_map().remove(&token);
            return Err(err);
        }
        Ok(Registration {
            rounds: self,
            token,
            fd,
        })
    }

    /// Rounds of their own (not the process's), for tests.
    #[cfg(test)]
    pub(crate) fn for_tests() -> &'static Rounds {
        Box::leak(Box::new(Rounds::new(ROUND, BUSY, SOCKET_QUEUE).unwrap()))
    }

    /// How many [`Eager`] guards live.
    #[cfg(test)]
    pub(crate) fn eager_count(&self) -> usize {
        self.eager.load(Ordering::Acquire)
    }

    /// Rounds do not wait while the returned guard lives (a connection connecting).
    pub(crate) fn eager(&'static self) -> Eager {
        self.eager.fetch_add(1, Ordering::AcqRel);
        Eager { rounds: self }
    }

    fn readers_map(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Weak<dyn RoundReader>>> {
        // a reader never runs under this lock, so it cannot be poisoned by one
        self.readers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn start(&'static self) -> io::Result<()> {
        self.thread
            .get_or_init(|| {
                std::thread::Builder::new()
                    .name("msc-recv".into())
                    .spawn(move || self.run())
                    .map(drop)
            })
            .as_ref()
            .map(|_| ())
            .map_err(|e| io::Error::new(e.kind(), e.to_string()))
    }

    fn run(&self) {
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; EVENTS];
        let mut ready: Vec<(u64, Arc<dyn RoundReader>)> = Vec::new();
        let mut deadlines = Deadlines::default();
        let mut load = Load::new(Instant::now());
        loop {
            // quiet: wait for the first datagram, or the earliest deadline
            let mut count = self.wait(&mut events, deadlines.timeout(Instant::now()));
            if count == 0 {
                self.in_scope(&mut || self.run_due(&mut deadlines, &mut ready));
                continue;
            }
            let mut before = Instant::now();
            // a burst may have just begun, and one round's few datagrams say nothing of its rate
            let mut longest = self.round / 2;
            while count > 0 {
                let started = Instant::now();
                let mut read = Read::default();
                self.in_scope(&mut || {
                    read = self.round(&mut events, count, &mut ready, &mut deadlines);
                    self.run_due(&mut deadlines, &mut ready);
                });
                let busy = load.busy(Instant::now(), read.all, self.round, self.busy);
                if busy && self.eager.load(Ordering::Acquire) == 0 {
                    let round = round_for(longest, started - before, read.most, self.queue);
                    if let Some(rest) = round.checked_sub(started.elapsed()) {
                        std::thread::sleep(rest);
                    }
                }
                before = started;
                longest = self.round;
                count = self.wait(&mut events, 0);
            }
        }
    }

    /// Runs `work` inside the scope, once one is set.
    fn in_scope(&self, work: &mut dyn FnMut()) {
        match self.scope.get() {
            Some(scope) => scope(work),
            None => work(),
        }
    }

    /// Has the readers whose deadlines came do what is due.
    fn run_due(&self, deadlines: &mut Deadlines, ready: &mut Vec<(u64, Arc<dyn RoundReader>)>) {
        let now = Instant::now();
        if deadlines.earliest().is_none_or(|at| at > now) {
            return;
        }
        {
            let readers = self.readers_map();
            ready.extend(
                std::iter::from_fn(|| deadlines.pop_due(now))
                    .filter_map(|token| Some((token, readers.get(&token)?.upgrade()?))),
            );
        }
        for (token, reader) in ready.drain(..) {
            deadlines.set(token, reader.due());
        }
    }

    /// One round: every ready socket, even more than one wait reports (`count` of them are
    /// in `events`).
    fn round(
        &self,
        events: &mut [libc::epoll_event],
        mut count: usize,
        ready: &mut Vec<(u64, Arc<dyn RoundReader>)>,
        deadlines: &mut Deadlines,
    ) -> Read {
        let mut read = Read::default();
        loop {
            {
                let readers = self.readers_map();
                ready.extend(events[..count].iter().filter_map(|e| {
                    let token = e.u64;
                    Some((token, readers.get(&token)?.upgrade()?))
                }));
            }
            for (token, reader) in ready.drain(..) {
                let Ready { read: n, due } = reader.read_ready();
                deadlines.set(token, due);
                read.all += n;
                read.most = read.most.max(n);
            }
            if count < events.len() {
                return read;
            }
            count = self.wait(events, 0);
            if count == 0 {
                return read;
            }
        }
    }

    /// The ready sockets' events, waiting up to `timeout` ms (-1: until one is ready).
    fn wait(&self, events: &mut [libc::epoll_event], timeout: i32) -> usize {
        loop {
            // SAFETY: `events` is writable for `events.len()` entries.
            let n = unsafe {
                libc::epoll_wait(
                    self.epoll.as_raw_fd(),
                    events.as_mut_ptr(),
                    events.len() as i32,
                    timeout,
                )
            };
            if n >= 0 {
                return n as usize;
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                tracing::error!(%err, "the receive rounds cannot wait on their sockets");
                // not a busy loop if the set is broken for good
                std::thread::sleep(self.round);
                return 0;
            }
        }
    }
}

/// The readers' deadlines (see [`RoundReader::due`]), by token.
#[derive(Default)]
struct Deadlines {
    /// Each reader's current deadline.
    current: HashMap<u64, Instant>,
    /// Every deadline given, earliest first; those no longer current are skipped.
    queue: BinaryHeap<Reverse<(Instant, u64)>>,
}

impl Deadlines {
    /// The reader `token` next has something to do at `due` (or has nothing to do).
    fn set(&mut self, token: u64, due: Option<Instant>) {
        match due {
            Some(at) => {
                if self.current.insert(token, at) != Some(at) {
                    self.queue.push(Reverse((at, token)));
                }
            }
            None => {
                self.current.remove(&token);
            }
        }
    }

    /// The earliest deadline, current or not (one no longer current only ends a wait early).
    fn earliest(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse((at, _))| *at)
    }

    /// The epoll timeout until the earliest deadline, in whole milliseconds rounded up (-1:
    /// none).
    fn timeout(&self, now: Instant) -> i32 {
        self.earliest().map_or(-1, |at| {
            let wait = at.saturating_duration_since(now);
            i32::try_from(wait.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX)
        })
    }

    /// A reader whose current deadline came by `now`, no longer current (its reader gives the
    /// next), until there is none.
    fn pop_due(&mut self, now: Instant) -> Option<u64> {
        while let Some(&Reverse((at, token))) = self.queue.peek() {
            if at > now {
                return None;
            }
            self.queue.pop();
            if self.current.get(&token) == Some(&at) {
                self.current.remove(&token);
                return Some(token);
            }
        }
        None
    }
}

/// The datagrams one round read: in all, and from the socket that had the most.
#[derive(Default)]
struct Read {
    all: usize,
    most: usize,
}

/// How long a busy round lasts, from its start to the next: `round`, or less when the socket
/// that had the most datagrams, `most`, got them in `span` (since the round before started)
/// at a rate that would queue more than `queue` in it meanwhile.
fn round_for(round: Duration, span: Duration, most: usize, queue: u32) -> Duration {
    match u32::try_from(most) {
        Ok(0) => round,
        Ok(most) => span
            .max(MIN_SPAN)
            .checked_mul(queue)
            .map_or(round, |d| round.min(d / most)),
        Err(_) => Duration::ZERO,
    }
}

/// How many datagrams the rounds read lately (see [`BUSY`]).
struct Load {
    /// When the current window started, and what its rounds read.
    since: Instant,
    read: usize,
    /// Whether the last whole window read half of `busy` per round on average.
    steady: bool,
}

impl Load {
    fn new(now: Instant) -> Self {
        Load {
            since: now,
            read: 0,
            steady: false,
        }
    }

    /// A round that read `read` datagrams ended at `now`: whether the process is busy.
    fn busy(&mut self, now: Instant, read: usize, round: Duration, busy: usize) -> bool {
        self.read += read;
        let span = now.saturating_duration_since(self.since);
        if span >= RATE_WINDOW {
            // read / span >= (busy / 2) / round
            self.steady =
                2 * self.read as u128 * round.as_nanos() >= busy as u128 * span.as_nanos();
            self.since = now;
            self.read = 0;
        }
        self.steady || read >= busy
    }
}

/// A socket read in rounds; dropping it ends that (before the socket closes).
pub(crate) struct Registration {
    rounds: &'static Rounds,
    token: u64,
    fd: RawFd,
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: no event argument is needed to remove; `fd` is still open (see `register`).
        unsafe {
            libc::epoll_ctl(
                self.rounds.epoll.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                self.fd,
                std::ptr::null_mut(),
            )
        };
        self.rounds.readers_map().remove(&self.token);
    }
}

/// While it lives, rounds do not wait (see [`Rounds::eager`]).
pub(crate) struct Eager {
    rounds: &'static Rounds,
}

impl Drop for Eager {
    fn drop(&mut self) {
        self.rounds.eager.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::sync::mpsc;

    /// Reads everything queued and reports each read: when, and how many datagrams.
    struct Recorder {
        socket: UdpSocket,
        reads: mpsc::Sender<(Instant, usize)>,
    }

    impl RoundReader for Recorder {
        fn read_ready(&self) -> Ready {
            let mut buf = [0u8; 64];
            let mut count = 0;
            while self.socket.recv(&mut buf).is_ok() {
                count += 1;
            }
            let _ = self.reads.send((Instant::now(), count));
            Ready {
                read: count,
                due: None,
            }
        }

        fn due(&self) -> Option<Instant> {
            None
        }
    }

    /// Rounds in which any datagram read makes the process busy.
    fn rounds_of(round: Duration) -> &'static Rounds {
        rounds_busy_from(round, 1)
    }

    /// Rounds whose sleep does not depend on the rate datagrams come.
    fn rounds_busy_from(round: Duration, busy: usize) -> &'static Rounds {
        Box::leak(Box::new(Rounds::new(round, busy, u32::MAX).unwrap()))
    }

    fn recorder() -> (Arc<Recorder>, UdpSocket, mpsc::Receiver<(Instant, usize)>) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.connect(socket.local_addr().unwrap()).unwrap();
        let (reads, got) = mpsc::channel();
        (Arc::new(Recorder { socket, reads }), sender, got)
    }

    fn register(rounds: &'static Rounds, reader: &Arc<Recorder>) -> Registration {
        let weak: Weak<dyn RoundReader> = Arc::downgrade(reader) as _;
        rounds.register(reader.socket.as_raw_fd(), weak).unwrap()
    }

    const LONG: Duration = Duration::from_secs(10);

    #[test]
    fn the_first_datagram_is_read_at_once_and_later_ones_wait_for_the_next_round() {
        let round = Duration::from_millis(300);
        let rounds = rounds_of(round);
        let (reader, sender, reads) = recorder();
        let _registration = register(rounds, &reader);
        sender.send(b"a").unwrap();
        let (first, count) = reads.recv_timeout(LONG).unwrap();
        assert_eq!(count, 1);
        // two datagrams while the thread sleeps out its round: read together, a round later
        // (half a round after a quiet spell, then whole ones)
        let early = Duration::from_millis(5);
        sender.send(b"b").unwrap();
        sender.send(b"c").unwrap();
        let (second, count) = reads.recv_timeout(LONG).unwrap();
        assert_eq!(count, 2);
        assert!(second.duration_since(first) >= round / 2 - early);
        sender.send(b"d").unwrap();
        sender.send(b"e").unwrap();
        let (third, count) = reads.recv_timeout(LONG).unwrap();
        assert_eq!(count, 2);
        assert!(third.duration_since(second) >= round - early);
        // a round that read nothing: the next datagram is read at once again
        std::thread::sleep(round * 2);
        let sent = Instant::now();
        sender.send(b"f").unwrap();
        let (fourth, count) = reads.recv_timeout(LONG).unwrap();
        assert_eq!(count, 1);
        assert!(fourth.duration_since(sent) < round);
    }

    #[test]
    fn a_round_reads_every_ready_socket_even_more_than_one_wait_reports() {
        let round = Duration::from_millis(400);
        let rounds = rounds_of(round);
        let (first, first_sender, first_reads) = recorder();
        let _first = register(rounds, &first);
        let (reads, got) = mpsc::channel();
        let mut readers = Vec::new();
        for _ in 0..EVENTS + 40 {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.set_nonblocking(true).unwrap();
            let reader = Arc::new(Recorder {
                socket,
                reads: reads.clone(),
            });
            let registration = register(rounds, &reader);
            readers.push((reader, registration));
        }
        // a read: the thread sleeps out a round, while every other socket gets a datagram
        first_sender.send(b"a").unwrap();
        first_reads.recv_timeout(LONG).unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        for (reader, _) in &readers {
            sender
                .send_to(b"x", reader.socket.local_addr().unwrap())
                .unwrap();
        }
        let times: Vec<Instant> = (0..readers.len())
            .map(|_| got.recv_timeout(LONG).unwrap().0)
            .collect();
        let first_read = *times.iter().min().unwrap();
        let last_read = *times.iter().max().unwrap();
        // in one round: not the last ones a round later
        assert!(
            last_read - first_read < round / 2,
            "{:?}",
            last_read - first_read
        );
    }

    thread_local! {
        static IN_SCOPE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    fn marking_scope(round: &mut dyn FnMut()) {
        IN_SCOPE.with(|s| s.set(true));
        round();
        IN_SCOPE.with(|s| s.set(false));
    }

    /// Reports whether it reads inside the rounds' scope.
    struct ScopeWitness(UdpSocket, mpsc::Sender<bool>);

    impl RoundReader for ScopeWitness {
        fn read_ready(&self) -> Ready {
            let mut buf = [0u8; 64];
            while self.0.recv(&mut buf).is_ok() {}
            let _ = self.1.send(IN_SCOPE.with(|s| s.get()));
            Ready { read: 1, due: None }
        }

        fn due(&self) -> Option<Instant> {
            None
        }
    }

    #[test]
    fn readers_run_inside_the_scope_once_it_is_set() {
        let rounds = rounds_busy_from(Duration::from_millis(1), 1000);
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.connect(socket.local_addr().unwrap()).unwrap();
        let fd = socket.as_raw_fd();
        let (seen, got) = mpsc::channel();
        let reader: Arc<dyn RoundReader> = Arc::new(ScopeWitness(socket, seen));
        let _registration = rounds.register(fd, Arc::downgrade(&reader)).unwrap();
        sender.send(b"a").unwrap();
        assert!(!got.recv_timeout(LONG).unwrap());
        rounds.scope.set(marking_scope).unwrap();
        sender.send(b"b").unwrap();
        assert!(got.recv_timeout(LONG).unwrap());
    }

    #[test]
    fn a_steady_rate_of_half_the_busy_rounds_keeps_the_process_busy() {
        let round = Duration::from_millis(5);
        let start = Instant::now();
        let mut load = Load::new(start);
        let at = |ms: u64| start + Duration::from_millis(ms);
        // a round of 8 is busy by itself; rounds of 2 are not, until a window averaged 4
        assert!(load.busy(at(1), 8, round, 8));
        assert!(!load.busy(at(2), 2, round, 8));
        let mut t = 2;
        while t < 50 {
            t += 5;
            assert!(!load.busy(at(t), 3, round, 8));
        }
        // that window: 8 + 2 + 10 * 3 = 40 datagrams in 52 ms, 3.8 per round: not steady
        t += 5;
        assert!(!load.busy(at(t), 4, round, 8));
        while t < 105 {
            t += 5;
            load.busy(at(t), 4, round, 8);
        }
        // 4 per round for a window: busy with rounds of 1
        assert!(load.busy(at(t + 1), 1, round, 8));
        // a quiet spell: the next window averages below, not busy any more
        assert!(!load.busy(at(t + 500), 1, round, 8));
    }

    #[test]
    fn a_busy_round_is_shorter_when_one_socket_s_datagrams_come_fast() {
        let ms = Duration::from_millis;
        let round = ms(10);
        // a few a round, or none: the whole round
        let queue = SOCKET_QUEUE;
        assert_eq!(round_for(round, ms(10), 3, queue), round);
        assert_eq!(round_for(round, ms(10), 0, queue), round);
        // 96 in 10 ms: 48 queue in 5 ms
        assert_eq!(round_for(round, ms(10), 96, queue), ms(5));
        // 16 right after a quiet spell: taken to have come in 1 ms, not in 100 µs
        assert_eq!(
            round_for(round, Duration::from_micros(100), 16, queue),
            ms(3)
        );
    }

    #[test]
    fn a_burst_is_read_in_rounds_shorter_than_the_round() {
        let round = Duration::from_secs(2);
        let rounds = Box::leak(Box::new(Rounds::new(round, 1, SOCKET_QUEUE).unwrap()));
        let (reader, sender, reads) = recorder();
        let _registration = register(rounds, &reader);
        let sent = Instant::now();
        for _ in 0..100 {
            sender.send(b"x").unwrap();
        }
        let mut count = 0;
        while count < 100 {
            count += reads.recv_timeout(LONG).unwrap().1;
        }
        // sent while the round that read the burst's last datagrams sleeps
        sender.send(b"y").unwrap();
        let (last, count) = reads.recv_timeout(LONG).unwrap();
        assert_eq!(count, 1);
        // rounds of 2 s would have read it 2 s after, or the burst's rest 2 s after its start
        assert!(last - sent < round / 2, "{:?}", last - sent);
    }

    #[test]
    fn rounds_that_read_few_datagrams_do_not_wait() {
        let rounds = rounds_busy_from(Duration::from_secs(30), 3);
        let (reader, sender, reads) = recorder();
        let _registration = register(rounds, &reader);
        for _ in 0..3 {
            sender.send(b"x").unwrap();
            // a round of 30 s would fail these waits
            let (_, count) = reads.recv_timeout(LONG).unwrap();
            assert_eq!(count, 1);
        }
    }

    #[test]
    fn rounds_do_not_wait_while_a_connection_connects() {
        let round = Duration::from_secs(30);
        let rounds = rounds_of(round);
        let (reader, sender, reads) = recorder();
        let _registration = register(rounds, &reader);
        let eager = rounds.eager();
        for _ in 0..3 {
            sender.send(b"x").unwrap();
            // a round of 30 s would fail these waits
            let (_, count) = reads.recv_timeout(LONG).unwrap();
            assert_eq!(count, 1);
        }
        drop(eager);
        assert_eq!(rounds.eager.load(Ordering::Acquire), 0);
    }

    /// Reads everything queued and then has something to do `after` its read; reports its
    /// reads and the times its deadlines are run, and gives `again` more deadlines, each
    /// `after` the last.
    struct Timed {
        socket: UdpSocket,
        after: Duration,
        again: AtomicUsize,
        calls: mpsc::Sender<(Call, Instant)>,
    }

    #[derive(Debug, PartialEq)]
    enum Call {
        Read,
        Due,
    }

    impl RoundReader for Timed {
        fn read_ready(&self) -> Ready {
            let mut buf = [0u8; 64];
            let mut read = 0;
            while self.socket.recv(&mut buf).is_ok() {
                read += 1;
            }
            let now = Instant::now();
            let _ = self.calls.send((Call::Read, now));
            Ready {
                read,
                due: Some(now + self.after),
            }
        }

        fn due(&self) -> Option<Instant> {
            let now = Instant::now();
            let _ = self.calls.send((Call::Due, now));
            let again = self.again.load(Ordering::Relaxed);
            self.again.store(again.saturating_sub(1), Ordering::Relaxed);
            (again > 0).then(|| now + self.after)
        }
    }

    /// A [`Timed`] reader registered in `rounds`, its registration, a socket that sends to
    /// it, and its calls.
    fn timed(
        rounds: &'static Rounds,
        after: Duration,
        again: usize,
    ) -> (
        Arc<Timed>,
        Registration,
        UdpSocket,
        mpsc::Receiver<(Call, Instant)>,
    ) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.connect(socket.local_addr().unwrap()).unwrap();
        let (calls, got) = mpsc::channel();
        let fd = socket.as_raw_fd();
        let reader = Arc::new(Timed {
            socket,
            after,
            again: AtomicUsize::new(again),
            calls,
        });
        let weak: Weak<dyn RoundReader> = Arc::downgrade(&reader) as _;
        let registration = rounds.register(fd, weak).unwrap();
        (reader, registration, sender, got)
    }

    /// When the next call comes, which must be `call`.
    fn next(calls: &mpsc::Receiver<(Call, Instant)>, call: Call) -> Instant {
        let (got, at) = calls.recv_timeout(LONG).unwrap();
        assert_eq!(got, call);
        at
    }

    #[test]
    fn a_readers_deadlines_come_without_datagrams() {
        let rounds = rounds_busy_from(Duration::from_secs(30), 1000);
        let after = Duration::from_millis(150);
        // a loaded machine may run the thread late, never early
        let late = Duration::from_millis(500);
        let (_reader, _registration, sender, calls) = timed(rounds, after, 1);
        sender.send(b"a").unwrap();
        let read = next(&calls, Call::Read);
        let first = next(&calls, Call::Due);
        assert!(first - read >= after && first - read < after + late);
        // the next one it gave, and then none
        let second = next(&calls, Call::Due);
        assert!(second - first >= after && second - first < after + late);
        assert!(calls.recv_timeout(after * 3).is_err());
    }

    #[test]
    fn a_deadline_in_a_busy_round_comes_at_its_end() {
        // every read makes the process busy, and the first busy round lasts 500 ms
        let round = Duration::from_secs(1);
        let rounds = rounds_of(round);
        let after = Duration::from_millis(100);
        let (_reader, _registration, sender, calls) = timed(rounds, after, 0);
        sender.send(b"a").unwrap();
        let read = next(&calls, Call::Read);
        let due = next(&calls, Call::Due);
        assert!(
            due - read >= round / 2 - Duration::from_millis(5),
            "{:?}",
            due - read
        );
        assert!(due - read < round, "{:?}", due - read);
    }

    #[test]
    fn a_dropped_registrations_deadline_does_not_come() {
        let rounds = rounds_busy_from(Duration::from_secs(30), 1000);
        let after = Duration::from_millis(100);
        let (_reader, registration, sender, calls) = timed(rounds, after, 0);
        sender.send(b"a").unwrap();
        next(&calls, Call::Read);
        drop(registration);
        assert!(calls.recv_timeout(after * 4).is_err());
    }

    #[test]
    fn deadlines_come_earliest_first_and_a_replaced_one_does_not_come() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut deadlines = Deadlines::default();
        assert_eq!(deadlines.timeout(t0), -1);
        deadlines.set(1, Some(ms(30)));
        deadlines.set(2, Some(ms(10)));
        deadlines.set(3, Some(ms(20)));
        // 3's deadline moves later, 2's is set again unchanged
        deadlines.set(3, Some(ms(50)));
        deadlines.set(2, Some(ms(10)));
        assert_eq!(deadlines.timeout(t0), 10);
        assert_eq!(
            deadlines.timeout(t0 + Duration::from_micros(9_100)),
            1,
            "rounded up"
        );
        assert_eq!(deadlines.pop_due(ms(9)), None);
        assert_eq!(deadlines.pop_due(ms(25)), Some(2));
        // 3's replaced deadline (20) is skipped
        assert_eq!(deadlines.pop_due(ms(25)), None);
        assert_eq!(deadlines.earliest(), Some(ms(30)));
        // 1 has nothing to do any more
        deadlines.set(1, None);
        assert_eq!(deadlines.pop_due(ms(40)), None);
        assert_eq!(deadlines.pop_due(ms(60)), Some(3));
        assert_eq!(deadlines.pop_due(ms(60)), None);
        assert_eq!(deadlines.timeout(ms(60)), -1);
    }

    #[test]
    fn a_dropped_registration_is_read_no_more() {
        let rounds = rounds_of(Duration::from_millis(1));
        let (reader, sender, reads) = recorder();
        let registration = register(rounds, &reader);
        sender.send(b"a").unwrap();
        reads.recv_timeout(LONG).unwrap();
        drop(registration);
        assert!(rounds.readers_map().is_empty());
        sender.send(b"b").unwrap();
        assert!(reads.recv_timeout(Duration::from_millis(200)).is_err());
        // the datagram is still queued: nobody read it
        let mut buf = [0u8; 8];
        assert_eq!(reader.socket.recv(&mut buf).unwrap(), 1);
    }
}
