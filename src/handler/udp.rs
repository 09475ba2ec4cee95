//! A connection's UDP socket: reads wait in tokio's reactor, sends go straight to the socket,
//! and a full socket is waited on apart.
//!
//! Why not `tokio::net::UdpSocket`: it registers the socket for readable and writable. Each
//! datagram sent later frees send-buffer space, which then puts the socket on the epoll ready
//! list and wakes the reactor for a writable state nobody waits for: `ep_send_events` and
//! `sock_poll` were ~3% of the client's CPU at 500 peers. Here the socket is registered for
//! readable only; when a send finds it full (rare: a datagram socket is full only when the
//! network interface queue is), [`UdpPort::writable`] registers a second descriptor of it for
//! writable for as long as the wait lasts.
//!
//! Unix only (tokio's `AsyncFd`), as the addon is built for Linux.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, OwnedFd};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

#[cfg(not(unix))]
compile_error!("the UDP sockets of the direct driver need Unix (tokio's AsyncFd)");

pub(crate) struct UdpPort {
    socket: AsyncFd<UdpSocket>,
}

impl UdpPort {
    /// Binds `addr` (non-blocking) and registers it with the current tokio runtime.
    pub(crate) fn bind(addr: SocketAddr) -> io::Result<Self> {
        let socket = UdpSocket::bind(addr)?;
        socket.set_nonblocking(true)?;
        Ok(Self {
            socket: register(socket, Interest::READABLE)?,
        })
    }

    fn std(&self) -> &UdpSocket {
        self.socket.get_ref()
    }

    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.std().local_addr()
    }

    /// Sends now, or fails with `WouldBlock` when the socket is full.
    pub(crate) fn send_to(&self, data: &[u8], peer: SocketAddr) -> io::Result<usize> {
        self.std().send_to(data, peer)
    }

    /// A datagram already received, or `WouldBlock`.
    pub(crate) fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.std().recv_from(buf)
    }

    /// The next datagram.
    pub(crate) async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        loop {
            let mut ready = self.socket.readable().await?;
            match ready.try_io(|socket| socket.get_ref().recv_from(buf)) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    /// Resolves once the socket takes datagrams again (after a send failed with `WouldBlock`).
    pub(crate) async fn writable(&self) -> io::Result<()> {
        // A second descriptor of the socket, registered for writable while this waits: epoll
        // reports it at once if space came free since the send failed.
        let fd: OwnedFd = self.socket.get_ref().as_fd().try_clone_to_owned()?;
        let waiter = register(fd, Interest::WRITABLE)?;
        let _ready = waiter.writable().await?;
        Ok(())
    }
}

/// `descriptor` registered with the current runtime's reactor for `interest`.
fn register<T: std::os::fd::AsRawFd + OwnsItsDescriptor>(
    descriptor: T,
    interest: Interest,
) -> io::Result<AsyncFd<T>> {
    // SAFETY: `T` owns its descriptor: it stays open, and is the same, until the `AsyncFd`
    // (which owns `T`) is dropped.
    unsafe { AsyncFd::register_with_interest(descriptor, interest) }.map_err(|e| e.into())
}

/// Types that own their file descriptor, closing it when dropped and never swapping it.
trait OwnsItsDescriptor {}
impl OwnsItsDescriptor for UdpSocket {}
impl OwnsItsDescriptor for OwnedFd {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::time::Duration;

    fn port() -> UdpPort {
        UdpPort::bind("127.0.0.1:0".parse().unwrap()).unwrap()
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
        let reader = async {
            a.recv_from(&mut buf)
                .await
                .map(|(n, from)| (buf[..n].to_vec(), from))
        };
        let sender = async {
            tokio::task::yield_now().await;
            b.send_to(b"one", a.local_addr().unwrap()).unwrap();
        };
        let (got, ()) = tokio::join!(reader, sender);
        assert_eq!(got.unwrap(), (b"one".to_vec(), b.local_addr().unwrap()));
    }

    /// A UDP socket on loopback is never full (loopback hands each datagram over at once), so
    /// the wait is shown on a UNIX datagram socket filled up, wrapped as a port.
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
            socket: register(socket, Interest::READABLE).unwrap(),
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
}
