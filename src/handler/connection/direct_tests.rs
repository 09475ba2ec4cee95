//! The direct driver's send path on injected instants: the backlog behind a full socket, the
//! pacer's release times, the timer task's wake-up time, and the fallback from a refused GSO
//! send. The socket's failures are injected (`UdpPort::fail_next_send`); datagrams that leave
//! go to a socket on loopback.

use super::*;

/// A core with one socket on loopback, and a socket on loopback to send to.
fn core() -> (CoreAndSockets, std::net::UdpSocket) {
    let pc = RTCPeerConnectionBuilder::new()
        .build(Instant::now())
        .unwrap();
    let udp = UdpPort::bind("127.0.0.1:0".parse().unwrap(), Reads::Reactor).unwrap();
    let local = udp.local_addr().unwrap();
    let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    receiver.set_nonblocking(true).unwrap();
    let sockets = vec![Socket {
        local,
        udp: Arc::new(udp),
    }];
    let core = CoreAndSockets::new(pc, sockets);
    (core, receiver)
}

/// Datagrams `first..first + count`, `len` bytes each, their number in the first two bytes.
fn datagrams(
    core: &CoreAndSockets,
    to: &std::net::UdpSocket,
    first: u16,
    count: u16,
    len: usize,
) -> Vec<TaggedBytesMut> {
    let local = core.sockets[0].local;
    let peer = to.local_addr().unwrap();
    (first..first + count)
        .map(|n| {
            let mut data = vec![0u8; len];
            data[..2].copy_from_slice(&n.to_be_bytes());
            udp_datagram(Instant::now(), local, peer, &data)
        })
        .collect()
}

/// The numbers of the `count` datagrams received next, in order (waiting for them, as loopback
/// may deliver after the send returns); none more already there.
fn received(receiver: &std::net::UdpSocket, count: usize) -> Vec<u16> {
    let mut buf = [0u8; 2048];
    let mut got = Vec::new();
    receiver.set_nonblocking(false).unwrap();
    receiver
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    while got.len() < count {
        let n = receiver.recv(&mut buf).expect("a datagram within 5 s");
        assert!(n >= 2);
        got.push(u16::from_be_bytes([buf[0], buf[1]]));
    }
    receiver.set_nonblocking(true).unwrap();
    match receiver.recv(&mut buf) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => got,
        Ok(_) => panic!("more than {count} datagrams: {got:?} and more"),
        Err(e) => panic!("{e}"),
    }
}

fn would_block() -> io::Error {
    io::Error::from(io::ErrorKind::WouldBlock)
}

fn udp(core: &CoreAndSockets) -> &UdpPort {
    &core.sockets[0].udp
}

#[tokio::test]
async fn a_full_socket_keeps_datagrams_in_order_until_it_takes_them() {
    let (mut core, receiver) = core();
    let t0 = Instant::now();
    udp(&core).fail_next_send(would_block());
    let mut out = datagrams(&core, &receiver, 0, 3, 100);
    core.send_all(t0, &mut out);
    assert!(out.is_empty());
    assert_eq!(core.backlog.len(), 3);
    assert!(core.blocked);
    assert!(core.backlog_started, "the timer task must learn of it");
    // while the socket is full, the timer task waits for the socket, not for the pacer
    assert_eq!(core.wake_at(), None);
    // later datagrams queue behind, even though the socket would take them now
    let mut out = datagrams(&core, &receiver, 3, 2, 100);
    core.send_all(t0, &mut out);
    assert_eq!(core.backlog.len(), 5);
    assert_eq!(received(&receiver, 0), Vec::<u16>::new());
    // still full when the drain starts: nothing leaves, nothing is lost
    udp(&core).fail_next_send(would_block());
    core.drain_backlog(t0);
    assert_eq!(core.backlog.len(), 5);
    assert!(core.blocked);
    // writable: all of them, in order
    core.drain_backlog(t0);
    assert!(core.backlog.is_empty());
    assert!(!core.blocked);
    assert_eq!(received(&receiver, 5), vec![0, 1, 2, 3, 4]);
    // and the next ones go straight out
    let mut out = datagrams(&core, &receiver, 5, 1, 100);
    core.send_all(t0, &mut out);
    assert!(core.backlog.is_empty());
    assert_eq!(received(&receiver, 1), vec![5]);
}

#[tokio::test]
async fn the_backlog_is_bounded_and_the_newest_are_dropped() {
    let (mut core, receiver) = core();
    let t0 = Instant::now();
    udp(&core).fail_next_send(would_block());
    let extra = 10;
    let mut out = datagrams(&core, &receiver, 0, BACKLOG_LIMIT as u16 + extra, 20);
    core.send_all(t0, &mut out);
    assert_eq!(core.backlog.len(), BACKLOG_LIMIT);
    assert_eq!(core.dropped, u64::from(extra));
    let number = |d: &TaggedBytesMut| u16::from_be_bytes([d.message[0], d.message[1]]);
    let kept: Vec<u16> = core.backlog.iter().map(number).collect();
    let expected: Vec<u16> = (0..BACKLOG_LIMIT as u16).collect();
    assert_eq!(kept, expected, "the oldest kept, in order");
    assert_eq!(received(&receiver, 0), Vec::<u16>::new());
}

#[tokio::test]
async fn the_pacer_releases_a_held_burst_at_its_times() {
    let (mut core, receiver) = core();
    let t0 = Instant::now();
    core.pacer = Pacer::new(t0);
    // the bucket spent, and 4,464 bytes owed: 357 µs at the minimum rate
    core.pacer
        .sent(t0, super::super::pacer::BURST as usize + 4_464);
    let mut out = datagrams(&core, &receiver, 0, 10, 1000);
    core.send_all(t0, &mut out);
    assert_eq!(core.backlog.len(), 10);
    assert!(!core.blocked);
    let first = core.wake_at().expect("the pacer's time");
    let owed = Duration::from_secs_f64(4_464.0 / super::super::pacer::MIN_RATE);
    let error = (first - t0).abs_diff(owed);
    assert!(error < Duration::from_micros(2), "{:?}", first - t0);
    // a microsecond early: held
    core.drain_backlog(first - Duration::from_micros(1));
    assert_eq!(core.backlog.len(), 10);
    assert_eq!(received(&receiver, 0), Vec::<u16>::new());
    // at each time the pacer gives, one datagram of 1,000 bytes (80 µs at the minimum rate)
    let mut now = first;
    let mut times = Vec::new();
    while !core.backlog.is_empty() {
        let before = core.backlog.len();
        core.drain_backlog(now);
        assert_eq!(core.backlog.len(), before - 1, "one at {:?}", now - t0);
        times.push(now);
        if let Some(next) = core.wake_at() {
            assert!(next > now);
            now = next;
        }
    }
    assert_eq!(received(&receiver, 10), (0..10).collect::<Vec<u16>>());
    let step = Duration::from_secs_f64(1000.0 / super::super::pacer::MIN_RATE);
    for pair in times.windows(2) {
        assert!((pair[1] - pair[0]).abs_diff(step) < Duration::from_micros(2));
    }
    // the backlog empty: the timer task sleeps to the core's deadline alone
    assert_eq!(core.wake_at(), None);
}

#[tokio::test]
async fn the_timer_wakes_at_the_earlier_of_the_core_and_the_pacer() {
    let (mut core, receiver) = core();
    let t0 = Instant::now();
    core.pacer = Pacer::new(t0);
    core.pacer
        .sent(t0, super::super::pacer::BURST as usize + 125_000);
    // (the pacer owes 125,000 bytes: 10 ms)
    let pace = t0 + Duration::from_millis(10);
    core.deadline = Some(t0 + Duration::from_millis(50));
    assert_eq!(
        core.wake_at(),
        core.deadline,
        "no backlog: the core's deadline"
    );
    let mut out = datagrams(&core, &receiver, 0, 1, 100);
    core.send_all(t0, &mut out);
    let wake = core.wake_at().unwrap();
    let error = wake.max(pace) - wake.min(pace);
    assert!(error < Duration::from_micros(2), "{error:?}");
    core.deadline = Some(t0 + Duration::from_millis(5));
    assert_eq!(core.wake_at(), core.deadline, "the core's deadline first");
    core.blocked = true;
    core.deadline = Some(t0 + Duration::from_millis(50));
    assert_eq!(
        core.wake_at(),
        core.deadline,
        "a full socket: not the pacer"
    );
    core.deadline = None;
    assert_eq!(core.wake_at(), None);
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_refused_gso_send_falls_back_to_one_datagram_per_send() {
    let (mut core, receiver) = core();
    let t0 = Instant::now();
    assert!(udp(&core).segments());
    // the kernel refuses the GSO send of the first run
    udp(&core).fail_next_send(io::Error::from_raw_os_error(libc::EIO));
    let mut out = datagrams(&core, &receiver, 0, 3, 100);
    core.send_all(t0, &mut out);
    assert!(!udp(&core).segments(), "GSO off for good");
    assert!(core.backlog.is_empty());
    assert_eq!(received(&receiver, 3), vec![0, 1, 2]);
    // the next ones go one by one: a send error now loses one datagram, not a run
    udp(&core).fail_next_send(io::Error::from_raw_os_error(libc::ECONNREFUSED));
    let mut out = datagrams(&core, &receiver, 3, 4, 100);
    core.send_all(t0, &mut out);
    assert!(core.backlog.is_empty());
    assert_eq!(received(&receiver, 3), vec![4, 5, 6]);
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn another_gso_error_leaves_gso_on() {
    let (mut core, receiver) = core();
    let t0 = Instant::now();
    udp(&core).fail_next_send(io::Error::from_raw_os_error(libc::ECONNREFUSED));
    let mut out = datagrams(&core, &receiver, 0, 3, 100);
    core.send_all(t0, &mut out);
    assert!(udp(&core).segments());
    assert!(core.backlog.is_empty());
    // that run is lost (as a single datagram's send error loses it); the next run leaves
    let mut out = datagrams(&core, &receiver, 3, 3, 100);
    core.send_all(t0, &mut out);
    assert_eq!(received(&receiver, 3), vec![3, 4, 5]);
}

/// A core as the driver builds it, with one receive-only audio section offered and answered by
/// a sans-IO peer whose one candidate is `remote` (where nothing answers).
fn offered_to(remote: &std::net::UdpSocket) -> CoreAndSockets {
    offered_to_peer(remote, |answer| answer).0
}

/// [`offered_to`], with the peer's core, the answer edited by `edit` before our core takes it.
fn offered_to_peer(
    remote: &std::net::UdpSocket,
    edit: impl FnOnce(String) -> String,
) -> (CoreAndSockets, RTCPeerConnection) {
    use super::super::setup;
    use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
    use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
    let build = || {
        RTCPeerConnectionBuilder::new()
            .with_configuration(setup::configuration(&Default::default()))
            .with_setting_engine(setup::setting_engine(true))
            .with_media_engine(setup::media_engine().unwrap())
            .build(Instant::now())
            .unwrap()
    };
    let (mut core, _) = core();
    core.pc = build();
    let t0 = Instant::now();
    core.pc
        .add_transceiver_from_kind(
            RtpCodecKind::Audio,
            Some(RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Recvonly,
                streams: vec![],
                send_encodings: vec![],
            }),
        )
        .unwrap();
    let local = core.sockets[0].local;
    core.pc
        .add_local_candidate(host_candidate(local).unwrap())
        .unwrap();
    let offer = core.pc.create_offer(None).unwrap();
    core.pc.set_local_description(t0, offer.clone()).unwrap();
    let mut peer = build();
    peer.set_remote_description(t0, offer).unwrap();
    peer.add_local_candidate(host_candidate(remote.local_addr().unwrap()).unwrap())
        .unwrap();
    let answer = peer.create_answer(None).unwrap();
    peer.set_local_description(t0, answer.clone()).unwrap();
    let mut answer = answer;
    answer.sdp = edit(answer.sdp);
    let answer = RTCSessionDescription::answer(answer.sdp).unwrap();
    core.pc.set_remote_description(t0, answer).unwrap();
    core.pc
        .add_remote_candidate(host_candidate(remote.local_addr().unwrap()).unwrap())
        .unwrap();
    peer.add_remote_candidate(host_candidate(local).unwrap())
        .unwrap();
    (core, peer)
}

/// Whether `data` is a STUN binding request.
fn binding_request(data: &[u8]) -> bool {
    data.len() >= 20 && data[..2] == [0x00, 0x01] && data[4..8] == [0x21, 0x12, 0xa4, 0x42]
}

/// The checking phase in virtual time: a binding request at each of the core's deadlines, every
/// `ICE_CHECK_INTERVAL` (10 ms) for `ICE_MAX_BINDING_REQUESTS` (140), none when its timers run
/// early; then, nothing answering, `failed` after `ICE_DISCONNECTED_TIMEOUT` and
/// `ICE_FAILED_TIMEOUT` (4 + 8 s, within the 1 s keepalive tick) (`setup.rs`).
#[tokio::test]
async fn ice_checks_leave_at_the_cores_deadlines_until_the_pair_fails() {
    let remote = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    remote.set_nonblocking(true).unwrap();
    let mut core = offered_to(&remote);
    assert!(core.pump(), "a first deadline wakes the timer task");
    let mut buf = [0u8; 2048];
    let mut checks = Vec::new();
    let mut failed_at = None;
    let t0 = core.deadline.expect("a deadline once checking");
    let mut now = t0;
    for _ in 0..100_000 {
        let deadline = core.deadline.expect("a deadline until failed");
        assert!(deadline >= now, "deadlines move forward");
        if checks.len() < 20 && deadline > t0 {
            // early: no check leaves
            core.handle_timeout(deadline - Duration::from_millis(1))
                .unwrap();
            core.pump();
            assert!(remote.recv(&mut buf).is_err(), "a check before its time");
        }
        now = deadline;
        core.handle_timeout(now).unwrap();
        core.pump();
        while let Ok(n) = remote.recv(&mut buf) {
            if binding_request(&buf[..n]) {
                checks.push(now - t0);
            }
        }
        for notice in core.notices.drain(..) {
            if let Notice::Ice(RTCIceConnectionState::Failed) = notice {
                failed_at.get_or_insert(now - t0);
            }
        }
        if failed_at.is_some() || now - t0 > Duration::from_secs(60) {
            break;
        }
    }
    assert!(checks.len() > 140, "{} checks", checks.len());
    for (i, at) in checks.iter().enumerate() {
        assert_eq!(*at, Duration::from_millis(10) * i as u32, "check {i}");
    }
    let failed_at = failed_at.expect("failed");
    assert!(
        failed_at >= Duration::from_secs(12) && failed_at <= Duration::from_secs(13),
        "failed at {failed_at:?}"
    );
}

/// A connection read in the receive rounds keeps them from waiting only from its ICE checks
/// on, until it fails (or connects, or closes): a transport made and never negotiated does
/// not keep the process's rounds from waiting.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_connection_keeps_the_rounds_eager_from_its_checks_until_it_ends() {
    let rounds = Rounds::for_tests();
    let (mut core, _) = core();
    core.rounds = Some(rounds);
    core.pump();
    assert_eq!(rounds.eager_count(), 0, "not negotiated: not eager");
    let remote = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    remote.set_nonblocking(true).unwrap();
    let mut core = offered_to(&remote);
    core.rounds = Some(rounds);
    core.pump();
    assert_eq!(rounds.eager_count(), 1, "checking: eager");
    let mut now = core.deadline.expect("a deadline once checking");
    let end = now + Duration::from_secs(60);
    while core.eager.is_some() && now < end {
        core.handle_timeout(now).unwrap();
        core.pump();
        now = core
            .deadline
            .unwrap_or(end)
            .max(now + Duration::from_millis(1));
    }
    assert!(
        core.notices
            .iter()
            .any(|n| matches!(n, Notice::State(RTCPeerConnectionState::Failed))),
        "the pair failed"
    );
    assert_eq!(rounds.eager_count(), 0, "failed: not eager");
}

/// Whether `data` is a DTLS record (RFC 7983: first byte 20 to 63).
fn dtls(data: &[u8]) -> bool {
    data.first().is_some_and(|b| (20..=63).contains(b))
}

/// The DTLS handshake in virtual time: ICE connects (the peer answers checks), the core, DTLS
/// client, sends its ClientHello and, nothing answering it, retransmits it at its deadlines
/// until the handshake gives up: the connection is then `failed`.
#[tokio::test]
async fn dtls_retransmits_at_the_cores_deadlines_until_the_handshake_fails() {
    let remote = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    remote.set_nonblocking(true).unwrap();
    let (mut core, mut peer) = offered_to_peer(&remote, |sdp| {
        sdp.replace("a=setup:active", "a=setup:passive")
    });
    let local = core.sockets[0].local;
    let remote_addr = remote.local_addr().unwrap();
    core.pump();
    let t0 = core.deadline.unwrap();
    let mut now = t0;
    let mut buf = [0u8; 4096];
    let mut hellos = Vec::new();
    let mut states = Vec::new();
    let mut ice = Vec::new();
    for _ in 0..100_000 {
        let next = [core.deadline, peer.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .unwrap();
        assert!(next >= now);
        now = next;
        if core.deadline.is_some_and(|d| d <= now) {
            let _ = core.handle_timeout(now);
        }
        if peer.poll_timeout().is_some_and(|d| d <= now) {
            let _ = peer.handle_timeout(now);
        }
        loop {
            core.pump();
            let mut moved = false;
            while let Ok((n, from)) = remote.recv_from(&mut buf) {
                moved = true;
                if dtls(&buf[..n]) {
                    hellos.push(now - t0);
                } else {
                    let _ = peer.handle_read(udp_datagram(now, remote_addr, from, &buf[..n]));
                }
            }
            while let Some(d) = peer.poll_write() {
                if !dtls(&d.message) {
                    remote.send_to(&d.message, d.transport.peer_addr).unwrap();
                }
            }
            while peer.poll_event().is_some() {}
            while peer.poll_read().is_some() {}
            while let Ok((n, from)) = core.sockets[0].udp.try_recv_from(&mut buf) {
                moved = true;
                core.read(
                    &crate::connection::inbound::Discard,
                    now,
                    local,
                    from,
                    &buf[..n],
                );
            }
            if !moved {
                break;
            }
        }
        for notice in core.notices.drain(..) {
            match notice {
                Notice::State(s) => states.push((now - t0, s)),
                Notice::Ice(s) => ice.push((now - t0, s)),
            }
        }
        if states
            .iter()
            .any(|(_, s)| *s == RTCPeerConnectionState::Failed)
            || now - t0 > Duration::from_secs(120)
        {
            break;
        }
    }
    // ICE connected on the first answered check; the ClientHello leaves on the next tick
    assert_eq!(
        ice,
        [
            (Duration::ZERO, RTCIceConnectionState::Checking),
            (Duration::from_millis(10), RTCIceConnectionState::Connected)
        ]
    );
    assert_eq!(
        hellos.first(),
        Some(&Duration::from_millis(20)),
        "{hellos:?}"
    );
    // then again about every second (webrtc-rs' retransmit interval, on the 1 s keepalive tick)
    assert!(hellos.len() >= 5, "{hellos:?}");
    for pair in hellos.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(900) && gap <= Duration::from_millis(1100),
            "{hellos:?}"
        );
    }
    // until the handshake gives up: `failed`, from the driver (the core's DTLS never fails)
    let last = *hellos.last().unwrap();
    let (failed_at, _) = states
        .iter()
        .find(|(_, s)| *s == RTCPeerConnectionState::Failed)
        .expect("failed");
    assert!(
        *failed_at > last && *failed_at - last <= Duration::from_millis(1100),
        "{states:?}"
    );
    assert!(!states
        .iter()
        .any(|(_, s)| *s == RTCPeerConnectionState::Connected));
    assert_eq!(core.handshake, Handshake::Failed);
}

/// A receiving direction that knows one stream and has a receiver report due at `due`.
struct Reporting {
    ssrc: u32,
    due: Mutex<Option<Instant>>,
    taken_over: AtomicBool,
}

impl Inbound for Reporting {
    fn deliver(&self, _messages: Vec<TaggedRTCMessage>) {}
    fn knows(&self, ssrc: u32) -> bool {
        ssrc == self.ssrc
    }
    fn take_over_rtcp(&self) -> bool {
        self.taken_over.store(true, Ordering::Relaxed);
        true
    }
    fn rtcp(&self, now: Instant) -> Vec<Box<dyn rtc::rtcp::Packet>> {
        let mut due = self.due.lock().unwrap();
        if due.is_none_or(|at| at > now) {
            return Vec::new();
        }
        *due = Some(now + Duration::from_secs(1));
        vec![Box::new(rtc::rtcp::receiver_report::ReceiverReport {
            ssrc: 2,
            ..Default::default()
        })]
    }
    fn rtcp_due(&self) -> Option<Instant> {
        *self.due.lock().unwrap()
    }
}

/// The next datagram `socket` receives (waiting up to 5 s), and where it came from.
fn next_datagram(socket: &std::net::UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = [0u8; 1500];
    socket.set_nonblocking(false).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let (n, from) = socket.recv_from(&mut buf).expect("a datagram within 5 s");
    (buf[..n].to_vec(), from)
}

/// The DTLS secret of [`handshaken`] connections, and their SRTP profile.
const SECRET: [u8; 48] = [9; 48];
const PROFILE: rtc::srtp::protection_profile::ProtectionProfile =
    rtc::srtp::protection_profile::ProtectionProfile::AeadAes256Gcm;

/// A core whose DTLS handshake is done ([`SECRET`] exported), a socket for the server, and
/// a receiving direction of stream 0x1234 with a report due 100 ms after the instant given.
fn handshaken() -> (CoreAndSockets, std::net::UdpSocket, Reporting, Instant) {
    let (mut core, server) = core();
    *core.own.exported.lock().unwrap() =
        Some((SECRET.to_vec(), super::super::srtp_keys::tests::seed()));
    core.handshake = Handshake::Done;
    let t0 = Instant::now();
    let direction = Reporting {
        ssrc: 0x1234,
        due: Mutex::new(Some(t0 + Duration::from_millis(100))),
        taken_over: AtomicBool::new(false),
    };
    (core, server, direction, t0)
}

#[tokio::test]
async fn a_receiving_directions_rtcp_leaves_outside_the_core_once_the_keys_are_found() {
    use super::super::srtp_keys::tests::{server_packet, server_receiving};
    let (mut core, server, direction, t0) = handshaken();
    // no keys yet: the core's
    core.take_over_rtcp(&direction);
    assert!(core.own_rtcp.is_none());
    assert!(!direction.taken_over.load(Ordering::Relaxed));

    // the server's first RTP packet finds the keys and where the server is
    let local = core.sockets[0].local;
    let peer = server.local_addr().unwrap();
    let first = server_packet(&SECRET, PROFILE, 0x1234, 1);
    assert!(!core.read(&direction, t0, local, peer, &first), "read here");
    assert_eq!(core.own.take_packets().len(), 1);
    core.take_over_rtcp(&direction);
    assert!(direction.taken_over.load(Ordering::Relaxed));
    assert_eq!(core.rtcp_due, Some(t0 + Duration::from_millis(100)));

    // the direction's deadlines are its own now, not the core's
    let nearer = t0 + Duration::from_millis(20);
    assert!(
        core.sooner(Some(nearer)),
        "earlier than the timer sleeps to"
    );
    assert_eq!((core.rtcp_due, core.deadline), (Some(nearer), None));
    assert_eq!(core.wake_at(), Some(nearer));
    assert!(!core.sooner(Some(t0 + Duration::from_millis(30))));

    // due: written here, encrypted with this side's keys, to where the server's RTP came from
    let now = t0 + Duration::from_millis(100);
    core.write_rtcp(&direction, now);
    assert_eq!(core.rtcp_due, Some(now + Duration::from_secs(1)));
    let (datagram, from) = next_datagram(&server);
    assert_eq!(from, local);
    let plain = server_receiving(&SECRET, PROFILE)
        .decrypt_rtcp(&datagram)
        .expect("SRTCP the server decrypts");
    let packets = rtc::rtcp::packet::unmarshal(&mut plain.freeze()).unwrap();
    let report = packets[0]
        .as_any()
        .downcast_ref::<rtc::rtcp::receiver_report::ReceiverReport>()
        .expect("the receiver report");
    assert_eq!(report.ssrc, 2);
    assert_eq!(core.deadline, None, "the core was not asked for anything");
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn rtcp_the_receive_rounds_time_never_wakes_the_timer_task() {
    use super::super::srtp_keys::tests::server_packet;
    let (mut core, server, direction, t0) = handshaken();
    core.rounds = Some(Rounds::for_tests());
    assert!(
        !core.rtcp_in_rounds(),
        "the core's RTCP until the keys are found"
    );
    let local = core.sockets[0].local;
    let peer = server.local_addr().unwrap();
    let first = server_packet(&SECRET, PROFILE, 0x1234, 1);
    assert!(!core.read(&direction, t0, local, peer, &first), "read here");
    core.own.take_packets();
    core.take_over_rtcp(&direction);
    assert!(core.rtcp_in_rounds());
    // its deadlines are kept, for the rounds, and the timer task sleeps on without them
    let nearer = t0 + Duration::from_millis(20);
    assert!(!core.sooner(Some(nearer)));
    assert_eq!(core.rtcp_due, Some(nearer));
    assert_eq!(core.wake_at(), None);
    // written when due, from a turn of the rounds
    core.write_due_rtcp(&direction);
    assert_eq!(core.rtcp_due, Some(nearer), "not due yet");
    *direction.due.lock().unwrap() = Some(t0);
    core.rtcp_due = Some(t0);
    core.write_due_rtcp(&direction);
    assert!(core
        .rtcp_due
        .is_some_and(|due| due > t0 + Duration::from_millis(900)));
    assert_eq!(next_datagram(&server).1, local);
}
