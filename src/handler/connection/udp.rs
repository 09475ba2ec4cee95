//! A connection's UDP socket: reads wait in tokio's reactor and take what is queued in
//! batches (`udp_batch.rs`), or, for a receiving connection, are made elsewhere (the receive
//! rounds of `rounds.rs`) with the kernel stamping each datagram's arrival; sends go straight
//! to the socket, and a full socket is waited on apart.
//!
//! Why not `tokio::net::UdpSocket`: it registers the socket for readable and writable. Each
//! datagram sent later frees send-buffer space, which then puts the socket on the epoll ready
//! list and wakes the reactor for a writable state nobody waits for, a cost paid per packet
//! (`docs/performance.md#udp-sockets-and-gso`). Here the socket is registered for readable
//! only; when a send finds it full (rare: a datagram socket is full only when the network
//! interface queue is), [`UdpPort::writable`] registers a second descriptor of it for writable
//! for as long as the wait lasts.
//!
//! On Linux, datagrams of one burst to one peer leave in one `sendmsg` with `UDP_SEGMENT`
//! (GSO): the kernel takes them through its UDP and IP layers once and splits them at the end
//! (on loopback: when the receiving socket queues them), which costs the sending thread less
//! per datagram than one send each (`docs/performance.md#udp-sockets-and-gso`).
//! [`segment_run`] says which datagrams may go together.
//!
//! The readable-only registration needs Unix (tokio's `AsyncFd` over epoll or kqueue). Elsewhere
//! (Windows) the port is a plain `tokio::net::UdpSocket`, with the same methods: the wake-ups
//! avoided above are epoll's. GSO is Linux's alone; elsewhere datagrams go one by one.

use std::io::{self, IoSlice};
use std::net::{SocketAddr, UdpSocket};
#[cfg(unix)]
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use super::udp_batch::RecvBatch;

#[cfg(unix)]
use tokio::io::unix::AsyncFd;
#[cfg(unix)]
use tokio::io::Interest;

/// The most datagrams one GSO send carries (the kernel's limit is 64 or more).
const MAX_SEGMENTS: usize = 64;

/// The most bytes one GSO send carries (an IP datagram's payload, with room for headers).
const MAX_SEGMENTED_BYTES: usize = 65_000;

/// The receive buffer asked for a socket read in rounds. Between two rounds a busy source's
/// datagrams queue in it: 100 Mbit/s into one socket is ~100 full-size datagrams in 10 ms,
/// and the kernel's default buffer (208 KiB on stock kernels, each datagram charged ~2.3 KB)
/// holds ~90. The kernel grants twice what is asked, up to twice `net.core.rmem_max`: at
/// least twice its default on a stock kernel. A limit, not an allocation: only what is
/// queued takes memory.
#[cfg(unix)]
const ROUNDS_RECEIVE_BUFFER: usize = 1 << 20;

/// How many of `datagrams` (local address, peer address, length), from the first, may leave
/// in one GSO send: the same addresses, all of one length but the last (which may be
/// shorter), within [`MAX_SEGMENTS`] and [`MAX_SEGMENTED_BYTES`]. At least 1 when there is one.
pub(crate) fn segment_run(
    mut datagrams: impl Iterator<Item = (SocketAddr, SocketAddr, usize)>,
) -> usize {
    let Some((local, peer, size)) = datagrams.next() else {
        return 0;
    };
    let mut count = 1;
    let mut total = size;
    for (l, p, len) in datagrams {
        if count == MAX_SEGMENTS
            || l != local
            || p != peer
            || len > size
            || len == 0
            || total + len > MAX_SEGMENTED_BYTES
        {
            break;
        }
        count += 1;
        total += len;
        if len < size {
            // a shorter one ends the run
            break;
        }
    }
    count
}

pub(crate) struct UdpPort {
    #[cfg(unix)]
    socket: Registered,
    #[cfg(not(unix))]
    socket: tokio::net::UdpSocket,
    /// Whether GSO sends are still tried (off for good after the kernel refused one).
    segments: AtomicBool,
    /// Errors the next sends return instead of sending (tests only: a full socket, a refused
    /// GSO send).
    #[cfg(test)]
    faults: std::sync::Mutex<std::collections::VecDeque<io::Error>>,
}

/// Who waits for a socket's datagrams.
#[cfg(unix)]
enum Registered {
    /// tokio's reactor: [`UdpPort::readable`] waits there.
    Reactor(AsyncFd<UdpSocket>),
    /// Someone else reads it ([`UdpPort::raw_fd`]: the receive rounds of `rounds.rs`), and
    /// the kernel stamps each datagram with its arrival time.
    Elsewhere(UdpSocket),
}

/// How a port's datagrams are waited for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reads {
    /// In tokio's reactor, by [`UdpPort::readable`].
    Reactor,
    /// Elsewhere, on the descriptor ([`UdpPort::raw_fd`]), with arrival stamps (Unix; falls
    /// back to the reactor elsewhere).
    Elsewhere,
}

#[cfg(unix)]
impl UdpPort {
    /// Binds `addr` (non-blocking); registers it with the current tokio runtime for `reads`
    /// in the reactor.
    pub(crate) fn bind(addr: SocketAddr, reads: Reads) -> io::Result<Self> {
        let socket = UdpSocket::bind(addr)?;
        socket.set_nonblocking(true)?;
        let socket = match reads {
            Reads::Reactor => Registered::Reactor(register(socket, Interest::READABLE)?),
            Reads::Elsewhere => {
                stamp_arrivals(&socket)?;
                socket2::SockRef::from(&socket).set_recv_buffer_size(ROUNDS_RECEIVE_BUFFER)?;
                Registered::Elsewhere(socket)
            }
        };
        Ok(Self {
            socket,
            segments: AtomicBool::new(cfg!(target_os = "linux")),
            #[cfg(test)]
            faults: Default::default(),
        })
    }

    fn std(&self) -> &UdpSocket {
        match &self.socket {
            Registered::Reactor(socket) => socket.get_ref(),
            Registered::Elsewhere(socket) => socket,
        }
    }

    /// The descriptor, for a port whose datagrams are read elsewhere ([`Reads::Elsewhere`]).
    pub(crate) fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.std().as_raw_fd()
    }

    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.std().local_addr()
    }

    /// Sends now, or fails with `WouldBlock` when the socket is full.
    pub(crate) fn send_to(&self, data: &[u8], peer: SocketAddr) -> io::Result<usize> {
        #[cfg(test)]
        if let Some(err) = self.fault() {
            return Err(err);
        }
        self.std().send_to(data, peer)
    }

    /// A datagram already received, or `WouldBlock` (for tests that drive a socket by hand).
    #[cfg(test)]
    pub(crate) fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.std().recv_from(buf)
    }

    /// Resolves when datagrams may be queued: what reads them. Fails for a port read
    /// elsewhere.
    pub(crate) async fn readable(&self) -> io::Result<Readable<'_>> {
        match &self.socket {
            Registered::Reactor(socket) => Ok(Readable {
                guard: socket.readable().await?,
            }),
            Registered::Elsewhere(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this socket is read in the receive rounds",
            )),
        }
    }

    /// Resolves once the socket takes datagrams again (after a send failed with `WouldBlock`).
    pub(crate) async fn writable(&self) -> io::Result<()> {
        // A second descriptor of the socket, registered for writable while this waits: epoll
        // reports it at once if space came free since the send failed.
        let fd: OwnedFd = self.std().as_fd().try_clone_to_owned()?;
        let waiter = register(fd, Interest::WRITABLE)?;
        let _ready = waiter.writable().await?;
        Ok(())
    }
}

/// Asks the kernel to stamp each datagram `socket` receives with its arrival time.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn stamp_arrivals(socket: &UdpSocket) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: `on` is alive for the call and its size is passed.
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            std::ptr::from_ref(&on).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Elsewhere than Linux, datagrams are not stamped: their arrival is the time of the read.
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
fn stamp_arrivals(_socket: &UdpSocket) -> io::Result<()> {
    Ok(())
}

#[cfg(not(unix))]
impl UdpPort {
    /// Binds `addr` (non-blocking) and registers it with the current tokio runtime.
    pub(crate) fn bind(addr: SocketAddr, _reads: Reads) -> io::Result<Self> {
        let socket = UdpSocket::bind(addr)?;
        socket.set_nonblocking(true)?;
        Ok(Self {
            socket: tokio::net::UdpSocket::from_std(socket)?,
            segments: AtomicBool::new(false),
            #[cfg(test)]
            faults: Default::default(),
        })
    }

    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Sends now, or fails with `WouldBlock` when the socket is full.
    pub(crate) fn send_to(&self, data: &[u8], peer: SocketAddr) -> io::Result<usize> {
        #[cfg(test)]
        if let Some(err) = self.fault() {
            return Err(err);
        }
        self.socket.try_send_to(data, peer)
    }

    /// A datagram already received, or `WouldBlock` (for tests that drive a socket by hand).
    #[cfg(test)]
    pub(crate) fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.socket.try_recv_from(buf)
    }

    /// Resolves when datagrams may be queued: what reads them.
    pub(crate) async fn readable(&self) -> io::Result<Readable<'_>> {
        self.socket.readable().await?;
        Ok(Readable {
            socket: &self.socket,
        })
    }

    /// Resolves once the socket takes datagrams again (after a send failed with `WouldBlock`).
    pub(crate) async fn writable(&self) -> io::Result<()> {
        self.socket.writable().await
    }
}

/// A socket found readable: [`receive`](Self::receive) takes what it has queued.
pub(crate) struct Readable<'a> {
    #[cfg(unix)]
    guard: tokio::io::unix::AsyncFdReadyGuard<'a, UdpSocket>,
    #[cfg(not(unix))]
    socket: &'a tokio::net::UdpSocket,
}

impl Readable<'_> {
    /// Up to [`BATCH`](super::udp_batch::BATCH) queued datagrams into `batch`: the count (at
    /// least 1), or `WouldBlock` when none was queued. Once a read finds the queue empty, the
    /// socket's next [`UdpPort::readable`] waits for a datagram to come instead of resolving
    /// at once.
    pub(crate) fn receive(&mut self, batch: &mut RecvBatch) -> io::Result<usize> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let got = {
            use std::os::fd::AsRawFd;
            batch.receive(self.guard.get_inner().as_raw_fd())
        };
        #[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
        let got = {
            let socket = self.guard.get_inner();
            batch.fill(|buf| socket.recv_from(buf))
        };
        // tokio forgets the readiness only if no new event came since the wait ended, so a
        // datagram queued after the read still wakes the next wait
        #[cfg(unix)]
        if batch.drained() {
            self.guard.clear_ready();
        }
        // tokio's own receive forgets the readiness on `WouldBlock`
        #[cfg(not(unix))]
        let got = batch.fill(|buf| self.socket.try_recv_from(buf));
        got
    }
}

impl UdpPort {
    /// The next send fails with `err` instead of sending (tests only).
    #[cfg(test)]
    pub(crate) fn fail_next_send(&self, err: io::Error) {
        self.faults.lock().unwrap().push_back(err);
    }

    #[cfg(test)]
    fn fault(&self) -> Option<io::Error> {
        self.faults.lock().unwrap().pop_front()
    }

    /// Whether [`send_segments`](Self::send_segments) is worth trying.
    pub(crate) fn segments(&self) -> bool {
        self.segments.load(Ordering::Relaxed)
    }
    /// Sends `datagrams` to `peer` in one GSO send: each but the last `size` bytes long, the
    /// last at most (see [`segment_run`]). `WouldBlock` when the socket is full. When the
    /// kernel refuses GSO itself, it is turned off for this socket
    /// ([`segments`](Self::segments)) and the error returned: send them one by one. Linux
    /// only (elsewhere `segments` is false and this is not called).
    pub(crate) fn send_segments(
        &self,
        datagrams: &[IoSlice<'_>],
        size: usize,
        peer: SocketAddr,
    ) -> io::Result<usize> {
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (datagrams, size, peer);
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "no UDP GSO here",
            ))
        }
        #[cfg(target_os = "linux")]
        {
            /// The control message of a GSO send: `UDP_SEGMENT` and the segment size.
            #[repr(C)]
            struct Control {
                header: libc::cmsghdr,
                size: u16,
            }
            // SAFETY: cmsghdr is plain data (integers), valid zeroed.
            let mut control: Control = unsafe { std::mem::zeroed() };
            control.header.cmsg_level = libc::SOL_UDP;
            control.header.cmsg_type = libc::UDP_SEGMENT;
            // SAFETY: CMSG_LEN only computes a length.
            control.header.cmsg_len = unsafe { libc::CMSG_LEN(2) } as _;
            control.size = u16::try_from(size)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "segment too large"))?;
            // SAFETY: `control` is a live, initialized repr(C) value; its bytes are read only
            // for the duration of the call. Its padding was zeroed above.
            let bytes = unsafe {
                std::slice::from_raw_parts(
                    (&control as *const Control).cast::<u8>(),
                    std::mem::size_of::<Control>(),
                )
            };
            let addr = socket2::SockAddr::from(peer);
            let message = socket2::MsgHdr::new()
                .with_addr(&addr)
                .with_buffers(datagrams)
                .with_control(bytes);
            #[cfg(test)]
            let fault = self.fault();
            #[cfg(not(test))]
            let fault: Option<io::Error> = None;
            let sent = match fault {
                Some(err) => Err(err),
                None => socket2::SockRef::from(self.std()).sendmsg(&message, 0),
            };
            if let Err(err) = &sent {
                // EIO: the device cannot segment; EINVAL/ENOPROTOOPT/EOPNOTSUPP: no UDP_SEGMENT
                if matches!(
                    err.raw_os_error(),
                    Some(libc::EIO | libc::EINVAL | libc::ENOPROTOOPT | libc::EOPNOTSUPP)
                ) {
                    tracing::debug!(%err, "UDP GSO refused: datagrams go one by one");
                    self.segments.store(false, Ordering::Relaxed);
                }
            }
            sent
        }
    }
}

/// `descriptor` registered with the current runtime's reactor for `interest`.
#[cfg(unix)]
fn register<T: std::os::fd::AsRawFd + OwnsItsDescriptor>(
    descriptor: T,
    interest: Interest,
) -> io::Result<AsyncFd<T>> {
    // SAFETY: `T` owns its descriptor: it stays open, and is the same, until the `AsyncFd`
    // (which owns `T`) is dropped.
    unsafe { AsyncFd::register_with_interest(descriptor, interest) }.map_err(|e| e.into())
}

/// Types that own their file descriptor, closing it when dropped and never swapping it.
#[cfg(unix)]
trait OwnsItsDescriptor {}
#[cfg(unix)]
impl OwnsItsDescriptor for UdpSocket {}
#[cfg(unix)]
impl OwnsItsDescriptor for OwnedFd {}

#[cfg(test)]
mod tests {
    use super::super::udp_batch::{BATCH, DATAGRAM};
    use super::*;
    use std::future::Future;
    #[cfg(unix)]
    use std::os::fd::{AsRawFd, FromRawFd};
    #[cfg(unix)]
    use std::time::Duration;

    fn port() -> UdpPort {
        UdpPort::bind("127.0.0.1:0".parse().unwrap(), Reads::Reactor).unwrap()
    }

    /// The datagrams of one read, as (bytes, sender).
    async fn read(port: &UdpPort) -> (Vec<(Vec<u8>, SocketAddr)>, bool) {
        let mut readable = port.readable().await.unwrap();
        let mut batch = RecvBatch::new();
        readable.receive(&mut batch).unwrap();
        let got = batch
            .datagrams()
            .map(|(d, from)| (d.to_vec(), from))
            .collect();
        (got, batch.drained())
    }

    /// Whether `port.readable()` resolves at its first poll.
    fn ready_at_once(port: &UdpPort) -> bool {
        let mut wait = std::pin::pin!(port.readable());
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        wait.as_mut().poll(&mut context).is_ready()
    }

    // What is queued comes in one read, in order, with its sender; the read that found the
    // queue empty makes the next wait wait, and a datagram sent after it still wakes that wait.
    #[tokio::test]
    async fn queued_datagrams_in_one_read_then_a_wait_that_still_wakes() {
        let a = port();
        let b = port();
        let to = a.local_addr().unwrap();
        let from = b.local_addr().unwrap();
        for data in [b"one", b"two", b"six"] {
            b.send_to(data, to).unwrap();
        }
        let (got, drained) = read(&a).await;
        assert_eq!(
            got,
            [b"one", b"two", b"six"]
                .map(|d| (d.to_vec(), from))
                .to_vec()
        );
        assert!(drained);
        assert!(!ready_at_once(&a), "the emptied queue leaves no readiness");
        let later = async {
            tokio::task::yield_now().await;
            b.send_to(b"ten", to).unwrap();
        };
        let (got, ()) = tokio::join!(
            tokio::time::timeout(std::time::Duration::from_secs(5), read(&a)),
            later
        );
        assert_eq!(
            got.expect("woken by the later datagram").0,
            [(b"ten".to_vec(), from)]
        );
    }

    // A port read elsewhere is not in tokio's reactor, and its datagrams carry the time they
    // came, not the time they were read. The kernel turns its stamping on for the whole
    // system a moment after the first socket asks (until then it stamps at the read): the
    // test tries a few datagrams.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[tokio::test]
    async fn a_port_read_elsewhere_knows_when_its_datagrams_came() {
        let a = UdpPort::bind("127.0.0.1:0".parse().unwrap(), Reads::Elsewhere).unwrap();
        let b = port();
        let to = a.local_addr().unwrap();
        assert!(a.readable().await.is_err());
        let mut batch = RecvBatch::new();
        let stamped_early = (0..20).any(|_| {
            let before = std::time::Instant::now();
            b.send_to(b"one", to).unwrap();
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(batch.receive(a.raw_fd()).unwrap(), 1);
            let read = std::time::Instant::now();
            let got: Vec<_> = batch.datagrams_at(read).collect();
            let (data, from, arrived) = got[0];
            assert_eq!((data, from), (&b"one"[..], b.local_addr().unwrap()));
            assert!(arrived <= read);
            // never before it was sent (within the two clocks' reading error)
            assert!(arrived + Duration::from_millis(10) >= before);
            arrived <= read - Duration::from_millis(40)
        });
        assert!(stamped_early, "no datagram knew it came before the read");
    }

    // What a busy round leaves queued must fit: a port read elsewhere gets the buffer it asks
    // for, which the kernel doubles up to twice `rmem_max`; one read in the reactor keeps the
    // default.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_port_read_elsewhere_asks_for_a_larger_receive_buffer() {
        let sysctl = |name: &str| -> usize {
            std::fs::read_to_string(format!("/proc/sys/net/core/{name}"))
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        let granted = |port: &UdpPort| {
            socket2::SockRef::from(port.std())
                .recv_buffer_size()
                .unwrap()
        };
        let a = UdpPort::bind("127.0.0.1:0".parse().unwrap(), Reads::Elsewhere).unwrap();
        let max = sysctl("rmem_max");
        assert_eq!(granted(&a), 2 * ROUNDS_RECEIVE_BUFFER.min(max));
        assert_eq!(granted(&port()), sysctl("rmem_default"));
    }

    #[tokio::test]
    async fn more_than_a_batch_takes_two_reads() {
        let a = port();
        let b = port();
        let to = a.local_addr().unwrap();
        let sent: Vec<Vec<u8>> = (0..BATCH + 3)
            .map(|i| format!("d{i}").into_bytes())
            .collect();
        for data in &sent {
            b.send_to(data, to).unwrap();
        }
        let (first, drained) = read(&a).await;
        assert_eq!(first.len(), BATCH);
        assert!(!drained);
        assert!(ready_at_once(&a), "a full read keeps the readiness");
        let (rest, drained) = read(&a).await;
        assert!(drained);
        let all: Vec<Vec<u8>> = first.into_iter().chain(rest).map(|(d, _)| d).collect();
        assert_eq!(all, sent);
    }

    #[tokio::test]
    async fn reads_wait_for_datagrams() {
        let a = port();
        let b = port();
        let mut buf = [0u8; 64];
        assert_eq!(
            a.try_recv_from(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        let sender = async {
            tokio::task::yield_now().await;
            b.send_to(b"one", a.local_addr().unwrap()).unwrap();
        };
        let ((got, _), ()) = tokio::join!(read(&a), sender);
        assert_eq!(got, [(b"one".to_vec(), b.local_addr().unwrap())]);
    }

    // A datagram longer than a batch keeps is cut to what it keeps, as a receive into a
    // buffer that size cuts it.
    #[tokio::test]
    async fn a_longer_datagram_is_cut() {
        let a = port();
        let b = port();
        b.send_to(&[7; DATAGRAM + 100], a.local_addr().unwrap())
            .unwrap();
        b.send_to(b"one", a.local_addr().unwrap()).unwrap();
        let (got, _) = read(&a).await;
        let lengths: Vec<usize> = got.iter().map(|(d, _)| d.len()).collect();
        assert_eq!(lengths, [DATAGRAM, 3]);
    }

    // IPv6 senders are read as such (where the machine has ::1).
    #[tokio::test]
    async fn an_ipv6_sender() {
        let Ok(a) = UdpPort::bind("[::1]:0".parse().unwrap(), Reads::Reactor) else {
            return;
        };
        let b = UdpPort::bind("[::1]:0".parse().unwrap(), Reads::Reactor).unwrap();
        b.send_to(b"six", a.local_addr().unwrap()).unwrap();
        let (got, _) = read(&a).await;
        assert_eq!(got, [(b"six".to_vec(), b.local_addr().unwrap())]);
    }

    /// A UDP socket on loopback is never full (loopback hands each datagram over at once), so
    /// the wait is shown on a UNIX datagram socket filled up, wrapped as a port.
    #[cfg(unix)]
    #[tokio::test]
    async fn the_writable_wait_ends_when_the_socket_takes_datagrams_again() {
        let (full, peer) = std::os::unix::net::UnixDatagram::pair().unwrap();
        full.set_nonblocking(true).unwrap();
        let mut sent = 0;
        loop {
            match full.send(&[0u8; 1024]) {
                Ok(_) => sent += 1,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(sent > 0);
        let fd = std::os::fd::IntoRawFd::into_raw_fd(full);
        // SAFETY: the descriptor was moved out of `full` (into_raw_fd): the port owns it.
        let socket = unsafe { UdpSocket::from_raw_fd(fd) };
        let port = UdpPort {
            socket: Registered::Reactor(register(socket, Interest::READABLE).unwrap()),
            segments: AtomicBool::new(false),
            faults: Default::default(),
        };
        assert_eq!(port.std().as_raw_fd(), fd);
        let wait = port.writable();
        tokio::pin!(wait);
        // still full: the wait does not end
        assert!(tokio::time::timeout(Duration::from_millis(50), &mut wait)
            .await
            .is_err());
        // the peer reads: room again
        let mut buf = [0u8; 1024];
        for _ in 0..sent {
            peer.recv(&mut buf).unwrap();
        }
        tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .expect("writable once the peer read")
            .unwrap();
    }

    #[test]
    fn a_run_is_one_peer_and_one_length_but_a_shorter_last() {
        let (a, b, c): (SocketAddr, SocketAddr, SocketAddr) = (
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.1:2".parse().unwrap(),
            "127.0.0.1:3".parse().unwrap(),
        );
        let run = |d: &[(SocketAddr, SocketAddr, usize)]| segment_run(d.iter().copied());
        assert_eq!(run(&[]), 0);
        assert_eq!(run(&[(a, b, 100)]), 1);
        assert_eq!(run(&[(a, b, 100), (a, b, 100), (a, b, 60), (a, b, 100)]), 3);
        assert_eq!(
            run(&[(a, b, 100), (a, b, 120)]),
            1,
            "a longer one starts a new run"
        );
        assert_eq!(run(&[(a, b, 100), (a, c, 100)]), 1, "another peer");
        assert_eq!(run(&[(a, b, 100), (c, b, 100)]), 1, "another socket");
        assert_eq!(
            run(&[(a, b, 100), (a, b, 0)]),
            1,
            "an empty one cannot be a segment"
        );
        assert_eq!(run(&vec![(a, b, 100); 100]), MAX_SEGMENTS);
        assert_eq!(run(&vec![(a, b, 1200); 100]), MAX_SEGMENTED_BYTES / 1200);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_gso_send_arrives_as_separate_datagrams() {
        let sender = port();
        assert!(sender.segments());
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        let datagrams = [vec![1u8; 100], vec![2u8; 100], vec![3u8; 60]];
        let slices: Vec<IoSlice<'_>> = datagrams.iter().map(|d| IoSlice::new(d)).collect();
        let sent = sender
            .send_segments(&slices, 100, receiver.local_addr().unwrap())
            .unwrap();
        assert_eq!(sent, 260);
        let mut buf = [0u8; 2048];
        for expected in &datagrams {
            let (n, from) = receiver.recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..n], &expected[..]);
            assert_eq!(from, sender.local_addr().unwrap());
        }
    }
}
