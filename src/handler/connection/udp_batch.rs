//! Datagrams read many at a time. On Linux one `recvmmsg` takes up to [`BATCH`] of what a
//! socket has queued, where one `recvfrom` each costs a system call per datagram and one more
//! to find the queue empty. Elsewhere a batch is filled one receive at a time.
//!
//! A batch is big (`BATCH` datagrams of [`DATAGRAM`] bytes), so there is one per thread
//! ([`with_batch`]): it is filled and handled before the thread reads again.
//!
//! On Linux a read also takes each datagram's arrival time, when the socket asked the kernel
//! to stamp them (`SO_TIMESTAMPNS`, see `udp.rs`): a socket read some time after its datagrams
//! came (`rounds.rs`) still knows when each came.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

/// The oldest arrival stamp believed: an older one (the system clock set back meanwhile) is
/// taken as "now".
const MAX_AGE: Duration = Duration::from_secs(1);

/// The most datagrams one read takes.
pub(crate) const BATCH: usize = 16;

/// The bytes kept of a datagram. What a server sends fits a network's MTU; a longer datagram is
/// cut here, as a `recvfrom` into a buffer of this size cuts it.
pub(crate) const DATAGRAM: usize = 2048;

/// Datagrams received by one read, with their senders.
pub(crate) struct RecvBatch {
    data: Box<[u8]>,
    lens: [usize; BATCH],
    peers: [Option<SocketAddr>; BATCH],
    /// The kernel's arrival stamps (system time since the Unix epoch), when it gave them.
    stamps: [Option<Duration>; BATCH],
    count: usize,
    /// The last read found the queue empty (after the datagrams it took).
    drained: bool,
}

impl RecvBatch {
    pub(crate) fn new() -> Self {
        Self {
            data: vec![0; BATCH * DATAGRAM].into_boxed_slice(),
            lens: [0; BATCH],
            peers: [None; BATCH],
            stamps: [None; BATCH],
            count: 0,
            drained: false,
        }
    }

    /// The datagrams of the last read in the order they were queued, with their senders (a
    /// datagram whose sender is not an IP address is left out).
    #[cfg(test)]
    pub(crate) fn datagrams(&self) -> impl Iterator<Item = (&[u8], SocketAddr)> + '_ {
        (0..self.count).filter_map(move |i| {
            let start = i * DATAGRAM;
            Some((&self.data[start..start + self.lens[i]], self.peers[i]?))
        })
    }

    /// [`datagrams`](Self::datagrams) with when each arrived: the kernel's stamp when the
    /// socket has them, else `now` (the time of the read).
    pub(crate) fn datagrams_at(
        &self,
        now: Instant,
    ) -> impl Iterator<Item = (&[u8], SocketAddr, Instant)> + '_ {
        let stamped = self.stamps[..self.count].iter().any(Option::is_some);
        let system = if stamped {
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
        } else {
            Duration::ZERO
        };
        (0..self.count).filter_map(move |i| {
            let start = i * DATAGRAM;
            let at = self.stamps[i]
                .map(|stamp| system.saturating_sub(stamp))
                .filter(|age| *age <= MAX_AGE)
                .and_then(|age| now.checked_sub(age))
                .unwrap_or(now);
            Some((&self.data[start..start + self.lens[i]], self.peers[i]?, at))
        })
    }

    /// Whether the last read found the socket's queue empty: it took all there was.
    pub(crate) fn drained(&self) -> bool {
        self.drained
    }

    /// Fills the batch by calling `receive` for each datagram until it fails: the count (at
    /// least 1), or the first call's error (`WouldBlock` when nothing was queued).
    #[cfg(any(test, not(any(target_os = "linux", target_os = "android"))))]
    pub(crate) fn fill(
        &mut self,
        mut receive: impl FnMut(&mut [u8]) -> io::Result<(usize, SocketAddr)>,
    ) -> io::Result<usize> {
        self.count = 0;
        self.drained = false;
        while self.count < BATCH {
            let start = self.count * DATAGRAM;
            match receive(&mut self.data[start..start + DATAGRAM]) {
                Ok((len, peer)) => {
                    self.lens[self.count] = len;
                    self.peers[self.count] = Some(peer);
                    self.stamps[self.count] = None;
                    self.count += 1;
                }
                Err(err) => {
                    self.drained = err.kind() == io::ErrorKind::WouldBlock;
                    if self.count == 0 {
                        return Err(err);
                    }
                    break;
                }
            }
        }
        Ok(self.count)
    }

    /// Reads what the socket `fd` has queued, up to [`BATCH`], without waiting, in one
    /// system call: as [`fill`](Self::fill) says. Fewer than `BATCH` means the kernel found
    /// the queue empty: it stops early only then, or on an error it keeps for the next read.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(crate) fn receive(&mut self, fd: std::os::fd::RawFd) -> io::Result<usize> {
        use std::mem::{size_of, zeroed};
        self.count = 0;
        self.drained = false;
        // SAFETY: plain C structures, all-zero is a valid value of each.
        let mut names: [libc::sockaddr_storage; BATCH] = unsafe { zeroed() };
        let mut iovecs: [libc::iovec; BATCH] = unsafe { zeroed() };
        let mut messages: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        let mut controls = [Control([0; CONTROL]); BATCH];
        for (i, chunk) in self.data.chunks_exact_mut(DATAGRAM).enumerate() {
            iovecs[i] = libc::iovec {
                iov_base: chunk.as_mut_ptr().cast(),
                iov_len: DATAGRAM,
            };
            let header = &mut messages[i].msg_hdr;
            header.msg_name = std::ptr::from_mut(&mut names[i]).cast();
            header.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            header.msg_iov = &mut iovecs[i];
            header.msg_iovlen = 1;
            header.msg_control = controls[i].0.as_mut_ptr().cast();
            header.msg_controllen = CONTROL as _;
        }
        // SAFETY: every message points at its own name, its own control buffer and one buffer
        // of `DATAGRAM` bytes of `self.data`, all alive and unaliased for the call.
        let count = unsafe {
            libc::recvmmsg(
                fd,
                messages.as_mut_ptr(),
                BATCH as _,
                libc::MSG_DONTWAIT as _,
                std::ptr::null_mut(),
            )
        };
        if count < 0 {
            let err = io::Error::last_os_error();
            self.drained = err.kind() == io::ErrorKind::WouldBlock;
            return Err(err);
        }
        let count = count as usize;
        for i in 0..count {
            self.lens[i] = (messages[i].msg_len as usize).min(DATAGRAM);
            self.peers[i] = socket_addr(&names[i]);
            self.stamps[i] = arrival_stamp(&messages[i].msg_hdr);
        }
        self.count = count;
        self.drained = count < BATCH;
        Ok(count)
    }
}

/// Room for the control messages of one datagram: its arrival stamp (`SCM_TIMESTAMPNS`,
/// a header and a `timespec`) with some to spare.
#[cfg(any(target_os = "linux", target_os = "android"))]
const CONTROL: usize = 64;

/// A control buffer aligned as the kernel's `cmsghdr` needs.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Control([u8; CONTROL]);

/// The `SCM_TIMESTAMPNS` stamp among a received message's control messages, if any.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn arrival_stamp(header: &libc::msghdr) -> Option<Duration> {
    // SAFETY: the kernel wrote `msg_controllen` bytes of control messages into the buffer
    // `msg_control` points at; the CMSG macros walk within them.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(header);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let time = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::timespec>());
                return Some(Duration::new(time.tv_sec as u64, time.tv_nsec as u32));
            }
            cmsg = libc::CMSG_NXTHDR(header, cmsg);
        }
    }
    None
}

/// An IPv4 or IPv6 address written by the kernel; None for another family.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn socket_addr(name: &libc::sockaddr_storage) -> Option<SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    match i32::from(name.ss_family) {
        libc::AF_INET => {
            // SAFETY: the kernel wrote a `sockaddr_in` for this family; storage is larger
            // and aligned for any address.
            let v4 = unsafe { &*std::ptr::from_ref(name).cast::<libc::sockaddr_in>() };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr)),
                u16::from_be(v4.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, a `sockaddr_in6`.
            let v6 = unsafe { &*std::ptr::from_ref(name).cast::<libc::sockaddr_in6>() };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(v6.sin6_addr.s6_addr),
                u16::from_be(v6.sin6_port),
                v6.sin6_flowinfo,
                v6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

thread_local! {
    static BATCH_OF_THREAD: RefCell<Option<RecvBatch>> = const { RefCell::new(None) };
}

/// Calls `f` with this thread's batch, made on first use; with a new one if the thread's is
/// in use (a read inside another's handling).
pub(crate) fn with_batch<R>(f: impl FnOnce(&mut RecvBatch) -> R) -> R {
    BATCH_OF_THREAD.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => f(slot.get_or_insert_with(RecvBatch::new)),
        Err(_) => f(&mut RecvBatch::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FROM: &str = "127.0.0.1:5000";

    /// A receive that gives `datagrams`, then `end`'s error kind.
    fn source(
        datagrams: Vec<&'static [u8]>,
        end: io::ErrorKind,
    ) -> impl FnMut(&mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let mut queue = datagrams.into_iter();
        move |buf| match queue.next() {
            Some(d) => {
                buf[..d.len()].copy_from_slice(d);
                Ok((d.len(), FROM.parse().unwrap()))
            }
            None => Err(end.into()),
        }
    }

    fn contents(batch: &RecvBatch) -> Vec<Vec<u8>> {
        batch.datagrams().map(|(d, _)| d.to_vec()).collect()
    }

    #[test]
    fn a_fill_takes_what_is_queued_and_says_when_the_queue_was_empty() {
        let mut batch = RecvBatch::new();
        let got = batch.fill(source(vec![b"one", b"two"], io::ErrorKind::WouldBlock));
        assert_eq!(got.unwrap(), 2);
        assert_eq!(contents(&batch), [b"one".to_vec(), b"two".to_vec()]);
        assert!(batch.drained());
        assert!(batch
            .datagrams()
            .all(|(_, from)| from == FROM.parse::<SocketAddr>().unwrap()));

        let none = batch.fill(source(vec![], io::ErrorKind::WouldBlock));
        assert_eq!(none.unwrap_err().kind(), io::ErrorKind::WouldBlock);
        assert!(batch.drained());
        assert_eq!(contents(&batch), Vec::<Vec<u8>>::new());

        // another error after a datagram: the datagram, and the queue not known to be empty
        let got = batch.fill(source(vec![b"six"], io::ErrorKind::ConnectionRefused));
        assert_eq!(got.unwrap(), 1);
        assert!(!batch.drained());
        let refused = batch.fill(source(vec![], io::ErrorKind::ConnectionRefused));
        assert_eq!(
            refused.unwrap_err().kind(),
            io::ErrorKind::ConnectionRefused
        );
        assert!(!batch.drained());
    }

    #[test]
    fn a_fill_stops_at_a_batch() {
        let many: Vec<&'static [u8]> = vec![b"d"; BATCH + 2];
        let mut batch = RecvBatch::new();
        assert_eq!(
            batch.fill(source(many, io::ErrorKind::WouldBlock)).unwrap(),
            BATCH
        );
        assert!(!batch.drained());
    }

    #[test]
    fn a_read_inside_another_gets_its_own_batch() {
        with_batch(|outer| {
            outer
                .fill(source(vec![b"outer"], io::ErrorKind::WouldBlock))
                .unwrap();
            with_batch(|inner| {
                inner
                    .fill(source(vec![b"inner"], io::ErrorKind::WouldBlock))
                    .unwrap();
            });
            assert_eq!(contents(outer), [b"outer".to_vec()]);
        });
    }
}
