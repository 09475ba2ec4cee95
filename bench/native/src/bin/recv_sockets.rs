//! What spreading received datagrams over many sockets costs the kernel's receive path: one
//! thread reads N UDP sockets in rounds of 10 ms (epoll, then `recvmmsg` on each ready socket,
//! as the receive rounds do) while another sends a fixed total rate to them in turn (12 of
//! 1033 + 16 bytes for 5 of 148 + 16, the receive benchmark's mix). Prints the reading
//! thread's CPU per datagram; no SRTP, no processing: the sockets' part alone. Run it with 1
//! socket and with 500 at the same rate to compare (docs/performance.md, "The RTCP timed by
//! the receive rounds").
//!
//! `cargo run --release -p msc-bench --bin recv_sockets -- [SOCKETS] [PPS] [SECONDS] [stamps]`
//! (defaults 500 85000 6; `stamps`: the kernel's receive timestamps, as the receive side asks).

use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROUND: Duration = Duration::from_millis(10);
const BATCH: usize = 32;
const EVENTS: usize = 256;
const CONTROL: usize = 64;

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn set_option(socket: &UdpSocket, name: libc::c_int, value: libc::c_int) {
    // SAFETY: `value` lives for the call; its size is given.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            name,
            &value as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}

/// Sends `pps` datagrams a second to `to` in turn, in bursts every [`ROUND`], until `stop`.
fn send(to: Vec<std::net::SocketAddr>, pps: usize, stop: Arc<AtomicBool>) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let video = vec![0x80u8; 1033 + 16];
    let audio = vec![0x80u8; 148 + 16];
    let per_round = pps * ROUND.as_millis() as usize / 1000;
    let mut next = Instant::now();
    let mut k = 0usize;
    while !stop.load(Ordering::Relaxed) {
        for _ in 0..per_round {
            let data = if (k / to.len()) % 17 < 12 {
                &video
            } else {
                &audio
            };
            let _ = socket.send_to(data, to[k % to.len()]);
            k += 1;
        }
        next += ROUND;
        if let Some(rest) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(rest);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count: usize = args.get(1).map_or(500, |a| a.parse().unwrap());
    let pps: usize = args.get(2).map_or(85_000, |a| a.parse().unwrap());
    let seconds: u64 = args.get(3).map_or(6, |a| a.parse().unwrap());
    let stamps = args.get(4).is_some_and(|a| a == "stamps");
    let sockets: Vec<UdpSocket> = (0..count)
        .map(|_| {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.set_nonblocking(true).unwrap();
            // room for a round of the whole rate in one socket (forced where allowed: root)
            set_option(&socket, libc::SO_RCVBUF, 8 << 20);
            set_option(&socket, libc::SO_RCVBUFFORCE, 8 << 20);
            if stamps {
                set_option(&socket, libc::SO_TIMESTAMPNS, 1);
            }
            socket
        })
        .collect();
    // SAFETY: no pointer arguments.
    let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    assert!(epoll >= 0, "epoll_create1");
    for (i, socket) in sockets.iter().enumerate() {
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: i as u64,
        };
        // SAFETY: `event` lives for the call; the kernel copies it.
        let added =
            unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, socket.as_raw_fd(), &mut event) };
        assert_eq!(added, 0, "epoll_ctl");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let to = sockets.iter().map(|s| s.local_addr().unwrap()).collect();
        let stop = stop.clone();
        std::thread::spawn(move || send(to, pps, stop))
    };

    let mut buffers = vec![[0u8; 2048]; BATCH];
    let mut controls = vec![[0u8; CONTROL]; BATCH];
    // SAFETY: an all-zero sockaddr_storage is a valid (unspecified) address.
    let mut names = vec![unsafe { std::mem::zeroed::<libc::sockaddr_storage>() }; BATCH];
    let mut iovecs: Vec<libc::iovec> = buffers
        .iter_mut()
        .map(|b| libc::iovec {
            iov_base: b.as_mut_ptr() as *mut libc::c_void,
            iov_len: b.len(),
        })
        .collect();
    let mut messages: Vec<libc::mmsghdr> = (0..BATCH)
        .map(|i| {
            // SAFETY: an all-zero msghdr is valid; its pointers are set below.
            let mut header: libc::msghdr = unsafe { std::mem::zeroed() };
            header.msg_name = &mut names[i] as *mut libc::sockaddr_storage as *mut libc::c_void;
            header.msg_iov = &mut iovecs[i];
            header.msg_iovlen = 1;
            header.msg_control = controls[i].as_mut_ptr() as *mut libc::c_void;
            libc::mmsghdr {
                msg_hdr: header,
                msg_len: 0,
            }
        })
        .collect();
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; EVENTS];

    let counted_from = Instant::now() + Duration::from_secs(2);
    let end = counted_from + Duration::from_secs(seconds);
    let (mut received, mut calls, mut cpu_from, mut counting) = (0u64, 0u64, 0u64, false);
    while Instant::now() < end {
        if !counting && Instant::now() >= counted_from {
            (received, calls, cpu_from, counting) = (0, 0, thread_cpu_ns(), true);
        }
        let started = Instant::now();
        loop {
            // SAFETY: `events` is writable for EVENTS entries.
            let ready = unsafe { libc::epoll_wait(epoll, events.as_mut_ptr(), EVENTS as i32, 0) };
            if ready <= 0 {
                break;
            }
            for event in &events[..ready as usize] {
                let fd = sockets[event.u64 as usize].as_raw_fd();
                loop {
                    for message in messages.iter_mut() {
                        message.msg_hdr.msg_namelen =
                            std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                        message.msg_hdr.msg_controllen = CONTROL as _;
                    }
                    // SAFETY: each message points to its own live name, iovec, buffer and
                    // control area, sized as given.
                    let got = unsafe {
                        libc::recvmmsg(
                            fd,
                            messages.as_mut_ptr(),
                            BATCH as u32,
                            libc::MSG_DONTWAIT,
                            std::ptr::null_mut(),
                        )
                    };
                    calls += 1;
                    if got <= 0 {
                        break;
                    }
                    received += got as u64;
                    if (got as usize) < BATCH {
                        break;
                    }
                }
            }
            if (ready as usize) < EVENTS {
                break;
            }
        }
        if let Some(rest) = ROUND.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    let cpu_ns = thread_cpu_ns() - cpu_from;
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    println!(
        "{count} sockets, {pps} datagrams/s asked, timestamps {stamps}: {:.0} received/s, \
         {:.2} us of CPU per datagram, {:.2} datagrams per recvmmsg",
        received as f64 / seconds as f64,
        cpu_ns as f64 / 1000.0 / received.max(1) as f64,
        received as f64 / calls.max(1) as f64
    );
}
