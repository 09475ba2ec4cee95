//! The direct driver: webrtc-rs' sans-IO core (`rtc::peer_connection::RTCPeerConnection`) with
//! I/O of our own, instead of webrtc-rs' async `PeerConnection` and its driver task.
//!
//! Why: the async driver hands every RTP packet from the track to its task through a channel,
//! wakes that task, and loops over every queue of the core per packet
//! (`docs/performance.md#the-direct-driver`). Here a writer takes the core's lock, writes the
//! packet through the interceptors and SRTP, and sends the datagrams the core produced, on the
//! caller's thread: no task wakes per packet.
//!
//! What still runs in the background, per connection:
//! - one task per socket reading datagrams (STUN answers, DTLS, RTCP) into the core;
//! - one task running the core's timers (ICE checks and consent, DTLS retransmits, sender
//!   reports, STUN gathering) and sending what a full socket could not take.
//!
//! Connection events are delivered after the core's lock is released. Datagrams leave through
//! the connection's pacer (`pacer.rs`): bursts beyond its bucket wait in the backlog, and so
//! does everything behind a socket whose send buffer is full.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rtc::data_channel::{RTCDataChannelId, RTCDataChannelInit, RTCDataChannelState};
use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::configuration::{RTCConfiguration, RTCOfferOptions};
use rtc::peer_connection::event::{RTCDataChannelEvent, RTCPeerConnectionEvent};
use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::RTCRtpCodecParameters;
use rtc::rtp_transceiver::{RTCRtpSenderId, RTCRtpTransceiverId};
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use rtc::statistics::report::RTCStatsReport;
use rtc::statistics::StatsSelector;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use webrtc::peer_connection::{
    RTCIceConnectionState, RTCPeerConnectionState, RTCSessionDescription, SettingEngine,
};
use webrtc::rtp_transceiver::RTCRtpTransceiverInit;

use super::data::{DataChannelOptions, OutgoingMessage};
use super::driver::{AddedTransceiver, Driver, DriverKind, RtpSink, Transceiver};
use super::dtls_failure::has_plaintext_fatal_alert;
use super::events::Events;
use super::gather::{host_candidate, Srflx};
use super::grid::{self, DistantOnGrid};
use super::inbound::Inbound;
use super::own_rtcp::OwnRtcp;
use super::own_rtp::OwnRtp;
use super::own_traffic::OwnTraffic;
use super::pacer::Pacer;
#[cfg(target_os = "linux")]
use super::rounds::{Eager, Ready, Registration, RoundReader, Rounds};
use super::srtp_keys::{Exported, KeyCapture};
use super::udp::{segment_run, Reads, UdpPort};
use super::udp_batch;
use crate::error::HandlerError;

/// Datagrams kept waiting for the pacer or a full socket (then the newest are dropped): the
/// frames of 1,000 video producers written at once, far more than a socket stays full on any
/// working network.
const BACKLOG_LIMIT: usize = 8192;

/// Batches of datagrams read under one lock of the connection after a wake-up (more wait for
/// the next turn, so that a flooded socket does not keep the lock).
const READ_BATCHES: usize = 4;

/// How far ahead the timer task sleeps when the core has no deadline.
const IDLE: Duration = Duration::from_secs(3600);

/// Where the DTLS handshake stands, as the driver tracks it (the core's own DTLS state never
/// becomes `failed`: see `dtls_failure.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handshake {
    /// Not completed yet: datagrams and timer errors are watched for a failure.
    Pending,
    /// Completed (the connection was `connected` once); nothing is watched any more.
    Done,
    /// Failed: the connection is `failed` for good, whatever the core reports afterwards.
    Failed,
}

/// What happened under the lock, for the events to deliver once it is released.
enum Notice {
    Ice(RTCIceConnectionState),
    State(RTCPeerConnectionState),
}

struct Socket {
    local: SocketAddr,
    /// Shared with the socket's read task.
    udp: Arc<UdpPort>,
}

/// Everything behind the lock: the core, its sockets and the STUN gathering.
///
/// In this order (`repr(C)`): first the fields a read of the server's RTP touches, together
/// on a few cache lines right after the lock's, for a receiving connection's state is out of
/// the cache at each of its reads (one of hundreds in a round); the core, which such a read
/// does not touch, last.
#[repr(C)]
struct CoreAndSockets {
    handshake: Handshake,
    /// The backlog was empty and is not any more: the timer task must learn of it.
    backlog_started: bool,
    /// The socket of the backlog's first datagram was full (wait until it is writable).
    blocked: bool,
    /// The receive rounds that read the sockets, if they do.
    #[cfg(target_os = "linux")]
    rounds: Option<&'static Rounds>,
    /// The direction's RTCP, written here instead of by the core once the keys are known
    /// (`own_rtcp.rs`), with when it is next due.
    own_rtcp: Option<OwnRtcp>,
    rtcp_due: Option<Instant>,
    notices: Vec<Notice>,
    /// What the core delivered to the application, for the connection's [`Inbound`].
    inbound: Vec<TaggedRTCMessage>,
    /// Data channel events, for the connection's [`Inbound`] as well.
    data_events: Vec<RTCDataChannelEvent>,
    /// The datagrams read and written here rather than by the core (for its stats), and the
    /// route they take: the RTCP written here goes where the RTP read here came from.
    own_traffic: OwnTraffic,
    /// RTP read here instead of by the core (`own_rtp.rs`; what a read touches comes first).
    own: OwnRtp,
    /// When the timer task must next run the core's timers.
    deadline: Option<Instant>,
    /// Datagrams waiting for the pacer or for a full socket, in order.
    backlog: VecDeque<TaggedBytesMut>,
    pacer: Pacer,
    dropped: u64,
    /// What the core produced, on its way out (kept for its capacity).
    outgoing: Vec<TaggedBytesMut>,
    sockets: Vec<Socket>,
    srflx: Srflx,
    /// A receiving connection's: its distant deadlines (the ICE agent's check every 200 ms,
    /// when no nearer deadline hides it) fall on the process's grid of the congestion feedback
    /// once it is connected and has no SCTP association, so that one timer wake-up serves
    /// every such connection.
    distant_on_grid: Option<DistantOnGrid>,
    /// Held from when the connection starts connecting (its ICE checks, also after a restart)
    /// until it connects, fails or closes, when its sockets are read in the receive rounds:
    /// the handshake's datagrams are read at once. A transport made and not yet negotiated
    /// does not hold it, so it does not keep the process's rounds from waiting.
    #[cfg(target_os = "linux")]
    eager: Option<Eager>,
    pc: RTCPeerConnection,
}

/// What became of datagrams given to the socket.
enum Sent {
    /// Sent, or dropped for good (no socket, an error): done with them.
    Done,
    /// The pacer or a full socket holds them: they wait in the backlog.
    Wait,
    /// GSO was refused: send them one by one.
    OneByOne,
}

impl CoreAndSockets {
    /// A core with its sockets, before any offer: nothing waiting, the handshake pending.
    fn new(pc: RTCPeerConnection, sockets: Vec<Socket>) -> Self {
        CoreAndSockets {
            pc,
            sockets,
            srflx: Srflx::default(),
            deadline: None,
            backlog: VecDeque::new(),
            blocked: false,
            backlog_started: false,
            pacer: Pacer::new(Instant::now()),
            dropped: 0,
            notices: Vec::new(),
            inbound: Vec::new(),
            data_events: Vec::new(),
            outgoing: Vec::new(),
            handshake: Handshake::Pending,
            own: OwnRtp::default(),
            own_rtcp: None,
            rtcp_due: None,
            own_traffic: OwnTraffic::default(),
            distant_on_grid: None,
            #[cfg(target_os = "linux")]
            rounds: None,
            #[cfg(target_os = "linux")]
            eager: None,
        }
    }

    fn socket(&self, local: SocketAddr) -> Option<&Socket> {
        self.sockets.iter().find(|s| s.local == local)
    }

    /// Sends `datagrams` now, runs of them to one peer in one GSO send, or queues them (in
    /// order) behind others waiting for the pacer or the socket. Leaves `datagrams` empty.
    fn send_all(&mut self, now: Instant, datagrams: &mut Vec<TaggedBytesMut>) {
        for d in datagrams.iter() {
            self.pacer.offered(now, d.message.len());
        }
        let mut start = 0;
        while start < datagrams.len() && self.backlog.is_empty() {
            let rest = &datagrams[start..];
            let segments = self
                .socket(rest[0].transport.local_addr)
                .is_some_and(|s| s.udp.segments());
            let run = if segments {
                segment_run(rest.iter().map(|d| {
                    (
                        d.transport.local_addr,
                        d.transport.peer_addr,
                        d.message.len(),
                    )
                }))
            } else {
                1
            };
            match self.try_send(&rest[..run], now) {
                Sent::Done => start += run,
                Sent::Wait => break,
                Sent::OneByOne => {}
            }
        }
        for datagram in datagrams.drain(start..) {
            self.enqueue(datagram);
        }
        datagrams.clear();
    }

    /// Queues `datagram` behind the others waiting (or drops it when the backlog is full).
    fn enqueue(&mut self, datagram: TaggedBytesMut) {
        if self.backlog.len() < BACKLOG_LIMIT {
            self.backlog_started |= self.backlog.is_empty();
            self.backlog.push_back(datagram);
        } else {
            self.dropped += 1;
            if self.dropped.is_power_of_two() {
                tracing::warn!(
                    dropped = self.dropped,
                    "send backlog full: datagrams dropped"
                );
            }
        }
    }

    /// Sends `run` (one datagram, or a [`segment_run`] in one GSO send) if the pacer and the
    /// socket take it now.
    fn try_send(&mut self, run: &[TaggedBytesMut], now: Instant) -> Sent {
        if !self.pacer.may_send(now) {
            return Sent::Wait;
        }
        let first = &run[0];
        let Some(socket) = self.socket(first.transport.local_addr) else {
            tracing::trace!(local = %first.transport.local_addr, "no socket for a datagram");
            return Sent::Done;
        };
        let peer = first.transport.peer_addr;
        let sent = if let [one] = run {
            socket.udp.send_to(&one.message, peer)
        } else {
            let slices: Vec<IoSlice<'_>> = run.iter().map(|d| IoSlice::new(&d.message)).collect();
            socket.udp.send_segments(&slices, first.message.len(), peer)
        };
        match sent {
            Ok(n) => {
                self.blocked = false;
                self.pacer.sent(now, n);
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.blocked = true;
                return Sent::Wait;
            }
            Err(_) if run.len() > 1 && !socket.udp.segments() => return Sent::OneByOne,
            Err(err) => tracing::trace!(%peer, %err, "send failed"),
        }
        Sent::Done
    }

    /// Sends what waited, as far as the pacer and the socket take it now.
    fn drain_backlog(&mut self, now: Instant) {
        while let Some(datagram) = self.backlog.pop_front() {
            if let Sent::Wait = self.try_send(std::slice::from_ref(&datagram), now) {
                self.backlog.push_front(datagram);
                return;
            }
        }
    }

    /// When the timer task must next run: the core's deadline, the direction's RTCP unless
    /// the receive rounds time it, or the pacer's for the backlog (none while the socket is
    /// full: then it waits for the socket).
    fn wake_at(&self) -> Option<Instant> {
        let pace = (!self.backlog.is_empty() && !self.blocked).then(|| self.pacer.next_send());
        let rtcp = self.rtcp_due.filter(|_| !self.rtcp_in_rounds());
        [self.deadline, rtcp, pace].into_iter().flatten().min()
    }

    /// Whether the receive rounds time the direction's RTCP: they read the sockets, and it is
    /// written here (`own_rtcp`). They learn its deadline from each read and each write
    /// ([`DirectConnection::turn_due`]).
    fn rtcp_in_rounds(&self) -> bool {
        #[cfg(target_os = "linux")]
        return self.own_rtcp.is_some() && self.rounds.is_some();
        #[cfg(not(target_os = "linux"))]
        return false;
    }

    /// Writes the direction's RTCP if it is due.
    fn write_due_rtcp(&mut self, direction: &dyn Inbound) {
        if let Some(due) = self.rtcp_due {
            let now = Instant::now();
            if due <= now {
                self.write_rtcp(direction, now);
            }
        }
    }

    /// Whether an offer made now gathers: the first one, and an ICE restart.
    fn gathers(&self, ice_restart: bool) -> bool {
        ice_restart || self.pc.local_description().is_none()
    }

    /// The addresses of the bound sockets.
    fn locals(&self) -> Vec<SocketAddr> {
        self.sockets.iter().map(|s| s.local).collect()
    }

    /// A host candidate for each bound socket (gathering, with the STUN requests of `srflx`).
    fn add_host_candidates(&mut self) -> Result<(), HandlerError> {
        for candidate in self.locals().into_iter().filter_map(host_candidate) {
            self.pc
                .add_local_candidate(candidate)
                .map_err(HandlerError::webrtc)?;
        }
        Ok(())
    }

    fn flush_writes(&mut self) {
        let mut out = std::mem::take(&mut self.outgoing);
        out.extend(std::iter::from_fn(|| self.pc.poll_write()));
        out.extend(std::iter::from_fn(|| self.srflx.poll_write()));
        if self.handshake == Handshake::Pending
            && out.iter().any(|d| has_plaintext_fatal_alert(&d.message))
        {
            self.handshake_failed(
                "fatal DTLS alert sent (the server's certificate may match no fingerprint of the \
                 transport's dtlsParameters)",
            );
        }
        self.send_all(Instant::now(), &mut out);
        self.outgoing = out;
    }

    /// The DTLS handshake failed: the connection becomes `failed`, and stays so (a DTLS
    /// transport never handshakes again, not even after an ICE restart).
    fn handshake_failed(&mut self, why: &str) {
        if self.handshake != Handshake::Pending {
            return;
        }
        tracing::warn!("DTLS handshake failed, the connection has failed: {why}");
        self.handshake = Handshake::Failed;
        #[cfg(target_os = "linux")]
        {
            self.eager = None;
        }
        self.notices
            .push(Notice::State(RTCPeerConnectionState::Failed));
    }

    /// A connection state from the core, unless the handshake failed: then only `closed`.
    fn core_state(&mut self, state: RTCPeerConnectionState) {
        match self.handshake {
            Handshake::Failed if state != RTCPeerConnectionState::Closed => return,
            Handshake::Pending if state == RTCPeerConnectionState::Connected => {
                self.handshake = Handshake::Done;
            }
            _ => {}
        }
        #[cfg(target_os = "linux")]
        match state {
            RTCPeerConnectionState::Connecting if self.eager.is_none() => {
                self.eager = self.rounds.map(Rounds::eager);
            }
            RTCPeerConnectionState::Connected
            | RTCPeerConnectionState::Failed
            | RTCPeerConnectionState::Closed => self.eager = None,
            _ => {}
        }
        self.notices.push(Notice::State(state));
    }

    /// The core's timers; an error from them before the handshake completed is the DTLS
    /// handshake giving up (its retransmissions exhausted: no other timer of the core fails).
    fn handle_timeout(&mut self, now: Instant) -> Result<(), HandlerError> {
        self.srflx.handle_timeout(now);
        let result = self.pc.handle_timeout(now);
        if let Err(err) = &result {
            tracing::debug!(%err, "timer of the connection");
            if self.handshake == Handshake::Pending {
                self.handshake_failed("the server never completed the DTLS handshake");
            }
        }
        result.map_err(HandlerError::webrtc)
    }

    /// One datagram from the network, for `direction`; false when it was read here
    /// (`own_rtp.rs`), the core given nothing.
    fn read(
        &mut self,
        direction: &dyn Inbound,
        now: Instant,
        local: SocketAddr,
        peer: SocketAddr,
        data: &[u8],
    ) -> bool {
        if self.handshake == Handshake::Done && self.own.read(direction, now, data) {
            self.own_traffic.received(now, data.len(), local, peer);
            return false;
        }
        let datagram = udp_datagram(now, local, peer, data);
        if self.srflx.owns(local, peer) {
            self.srflx.handle_read(datagram);
            return true;
        }
        if self.handshake == Handshake::Pending && has_plaintext_fatal_alert(data) {
            self.handshake_failed("fatal DTLS alert received from the server");
        }
        let result = self.pc.handle_read(datagram);
        if let Err(err) = result {
            tracing::trace!(%peer, %err, "datagram refused by the core");
        }
        true
    }

    /// The direction has something to send at `at`: true when the timer task must wake
    /// (earlier than what it sleeps to). `at` becomes the deadline of the direction's RTCP
    /// when written here, else the core's: the core's next timeout includes the direction's
    /// (its interceptor's), so the next pump finds it again. The timer task is not woken for
    /// RTCP the receive rounds time.
    fn sooner(&mut self, at: Option<Instant>) -> bool {
        let Some(at) = at else {
            return false;
        };
        let own = self.own_rtcp.is_some();
        let due = if own { self.rtcp_due } else { self.deadline };
        if due.is_some_and(|current| current <= at) {
            return false;
        }
        let sleeps_to = self.wake_at();
        if own {
            self.rtcp_due = Some(at);
            if self.rtcp_in_rounds() {
                return false;
            }
        } else {
            self.deadline = Some(at);
        }
        sleeps_to.is_none_or(|current| at < current)
    }

    /// Takes the direction's RTCP over from the core once the keys are known, if the
    /// direction writes any.
    fn take_over_rtcp(&mut self, direction: &dyn Inbound) {
        if self.own_rtcp.is_some() {
            return;
        }
        let Some(own) = self.own.keys().and_then(OwnRtcp::new) else {
            return;
        };
        if direction.take_over_rtcp() {
            self.own_rtcp = Some(own);
            self.rtcp_due = direction.rtcp_due();
        }
    }

    /// The direction's RTCP due at `now`, written here: out with the core's datagrams, through
    /// the pacer.
    fn write_rtcp(&mut self, direction: &dyn Inbound, now: Instant) {
        let Some(own) = &mut self.own_rtcp else {
            return;
        };
        let packets = direction.rtcp(now);
        self.rtcp_due = direction.rtcp_due();
        let Some((local, peer)) = self.own_traffic.route else {
            return;
        };
        let mut out = std::mem::take(&mut self.outgoing);
        for message in own.protect(&packets) {
            self.own_traffic.sent(now, message.len());
            out.push(udp_message(now, local, peer, message));
        }
        self.send_all(now, &mut out);
        self.outgoing = out;
    }

    /// Moves everything the core produced: datagrams out, events to notices, server-reflexive
    /// candidates in; then the next deadline. True when the timer task must wake: that deadline
    /// is earlier than the one it sleeps to, or the backlog has started.
    fn pump(&mut self) -> bool {
        // Handling an event can queue writes (the stream of a data channel opened when its
        // association comes up): another round sends them now, not with the next datagram. A
        // few rounds are enough; more would mean the core keeps raising events by itself.
        let mut event_rounds = 0;
        loop {
            self.flush_writes();
            let mut evented = false;
            while let Some(event) = self.pc.poll_event() {
                evented = true;
                match event {
                    RTCPeerConnectionEvent::OnIceConnectionStateChangeEvent(s) => {
                        self.notices.push(Notice::Ice(s))
                    }
                    RTCPeerConnectionEvent::OnConnectionStateChangeEvent(s) => self.core_state(s),
                    RTCPeerConnectionEvent::OnDataChannel(e) => self.data_events.push(e),
                    _ => {}
                }
            }
            self.inbound
                .extend(std::iter::from_fn(|| self.pc.poll_read()));
            let candidates = self.srflx.poll_candidates();
            if candidates.is_empty() {
                if evented && event_rounds < 4 {
                    event_rounds += 1;
                    continue;
                }
                break;
            }
            for candidate in candidates {
                tracing::debug!(candidate = %candidate.candidate, "server-reflexive candidate");
                if let Err(err) = self.pc.add_local_candidate(candidate) {
                    tracing::debug!(%err, "server-reflexive candidate refused");
                }
            }
        }
        let mut next = [self.pc.poll_timeout(), self.srflx.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        if let (Some(at), Some(grid)) = (next, self.distant_on_grid.as_mut()) {
            // a data channel's SCTP timers (its delayed acknowledgement, 200 ms) keep their time
            if self.handshake == Handshake::Done && self.pc.sctp().is_none() {
                next = Some(grid.place(at, Instant::now));
            }
        }
        let earlier = match (next, self.deadline) {
            (Some(next), Some(current)) => next < current,
            (Some(_), None) => true,
            _ => false,
        };
        self.deadline = next;
        earlier || std::mem::take(&mut self.backlog_started)
    }
}

/// A UDP datagram from `peer` to `local`, as the sans-IO protocols take it.
pub(crate) fn udp_datagram(
    now: Instant,
    local: SocketAddr,
    peer: SocketAddr,
    data: &[u8],
) -> TaggedBytesMut {
    udp_message(now, local, peer, BytesMut::from(data))
}

/// `message` as a UDP datagram between `local` and `peer` (either way: the same fields say
/// where a datagram came from and where one goes).
fn udp_message(
    now: Instant,
    local: SocketAddr,
    peer: SocketAddr,
    message: BytesMut,
) -> TaggedBytesMut {
    TaggedBytesMut {
        now,
        transport: TransportContext {
            local_addr: local,
            peer_addr: peer,
            ecn: None,
            transport_protocol: TransportProtocol::UDP,
        },
        message,
    }
}

/// In this order (`repr(C)`): what a read touches first, with the lock (see
/// [`CoreAndSockets`]).
#[repr(C)]
pub(crate) struct DirectConnection {
    closed: AtomicBool,
    /// Held while events are delivered (see `with_core`).
    delivery: Mutex<()>,
    /// Where what the core delivers goes (see `inbound.rs`).
    inbound: Arc<dyn Inbound>,
    core: Mutex<CoreAndSockets>,
    events: Arc<Events>,
    /// Wakes the timer task: a new earlier deadline, or datagrams waiting for a socket.
    wake: Notify,
}

impl DirectConnection {
    fn lock(&self) -> Result<MutexGuard<'_, CoreAndSockets>, HandlerError> {
        self.core
            .lock()
            .map_err(|_| HandlerError::WebRtc("the connection's state is poisoned".into()))
    }

    /// Runs `f` on the core, moves what it produced, then (lock released) delivers the events
    /// and the inbound messages. Both are delivered in the order the core produced them,
    /// whichever task got them: the delivery lock is taken before the core's is released.
    fn with_core<R>(
        &self,
        f: impl FnOnce(&mut CoreAndSockets) -> Result<R, HandlerError>,
    ) -> Result<R, HandlerError> {
        self.turn(|core| (f(core), true))
    }

    /// [`with_core`](Self::with_core) for an `f` that says whether it gave the core anything:
    /// when it did not (every datagram it read was RTP read here), the core has nothing new to
    /// produce and is not polled; only the direction's next deadline is taken.
    fn turn<R>(
        &self,
        f: impl FnOnce(&mut CoreAndSockets) -> (Result<R, HandlerError>, bool),
    ) -> Result<R, HandlerError> {
        self.turn_due(f).0
    }

    /// [`turn`](Self::turn), which also writes the direction's RTCP if it is due and the
    /// receive rounds time it, and then says when it is next due (for the rounds).
    fn turn_due<R>(
        &self,
        f: impl FnOnce(&mut CoreAndSockets) -> (Result<R, HandlerError>, bool),
    ) -> (Result<R, HandlerError>, Option<Instant>) {
        let (result, notices, inbound, data_events, wake, delivery, rtp, rtcp_due) = {
            let mut core = match self.lock() {
                Ok(core) => core,
                Err(err) => return (Err(err), None),
            };
            let (result, fed) = f(&mut core);
            // noted before the pump, which then sees the deadlines they set
            let mut rtp = core.own.take_packets();
            let due = if rtp.is_empty() {
                None
            } else {
                core.take_over_rtcp(&*self.inbound);
                self.inbound.note_rtp(&mut rtp)
            };
            let mut wake = match (fed, core.own_rtcp.is_some()) {
                (true, false) => core.pump(),
                (false, _) => core.sooner(due),
                // the direction's deadline is not the core's: both
                (true, true) => core.pump() | core.sooner(due),
            };
            let rtcp_due = if core.rtcp_in_rounds() {
                core.write_due_rtcp(&*self.inbound);
                wake |= std::mem::take(&mut core.backlog_started);
                core.rtcp_due
            } else {
                None
            };
            let notices = std::mem::take(&mut core.notices);
            let inbound = std::mem::take(&mut core.inbound);
            let data_events = std::mem::take(&mut core.data_events);
            let delivery = (!notices.is_empty()
                || !inbound.is_empty()
                || !data_events.is_empty()
                || !rtp.is_empty())
            .then(|| self.delivery.lock());
            (
                result,
                notices,
                inbound,
                data_events,
                wake,
                delivery,
                rtp,
                rtcp_due,
            )
        };
        if !inbound.is_empty() {
            self.inbound.deliver(inbound);
        }
        if !rtp.is_empty() {
            self.inbound.deliver_rtp(rtp);
        }
        if !data_events.is_empty() {
            self.inbound.data_events(data_events);
        }
        if wake {
            self.wake.notify_one();
        }
        if !self.closed.load(Ordering::Acquire) {
            for notice in notices {
                match notice {
                    Notice::Ice(s) => self.events.ice_state(s),
                    Notice::State(s) => self.events.connection_state(s),
                }
            }
        }
        drop(delivery);
        (result, rtcp_due)
    }

    /// The hot path: RTP packets of one sender through its interceptors and SRTP, out on the
    /// caller's thread; the datagrams of several packets to one peer leave in one GSO send.
    pub(crate) fn write_rtp(
        &self,
        sender: RTCRtpSenderId,
        packets: impl IntoIterator<Item = rtp::Packet>,
    ) -> Result<(), HandlerError> {
        let waiting = {
            let mut guard = self.lock()?;
            let core = &mut *guard;
            let now = Instant::now();
            if core.pc.rtp_sender(sender).is_none() {
                return Err(HandlerError::InvalidState("the RTP sender is gone".into()));
            }
            for packet in packets {
                // Straight into the core, not through `RTCRtpSender::write_rtp`: that checks
                // the SSRC, payload type and extension ids against the sender's parameters,
                // which it rebuilds for every packet, while the writer built this packet from
                // exactly those negotiated values (`send/writer.rs`; the cost:
                // `docs/performance.md#writes-straight-into-the-core`). The core ignores the
                // track id. Refused packets (DTLS not up yet) are dropped, as webrtc-rs' own
                // driver does: the media source goes on.
                let message = TaggedRTCMessage {
                    now,
                    message: RTCMessage::RtpPacket(String::new(), packet),
                };
                if let Err(err) = core.pc.handle_write(message) {
                    tracing::trace!(%err, "RTP packet dropped");
                }
                // One packet at a time through the core, whose queues then stay one packet
                // deep instead of a batch deep per connection; the datagrams wait in
                // `outgoing` to leave together.
                core.outgoing
                    .extend(std::iter::from_fn(|| core.pc.poll_write()));
            }
            core.flush_writes();
            std::mem::take(&mut core.backlog_started)
        };
        if waiting {
            self.wake.notify_one();
        }
        Ok(())
    }
}

/// Reads datagrams from one socket into the core until the connection closes, as tokio's
/// reactor finds them (a connection whose sockets are not in the receive rounds).
async fn read_loop(connection: Arc<DirectConnection>, udp: Arc<UdpPort>, local: SocketAddr) {
    loop {
        let mut readable = match udp.readable().await {
            Ok(readable) => readable,
            Err(err) => {
                tracing::debug!(%local, %err, "cannot wait on the UDP socket");
                return;
            }
        };
        if connection.closed.load(Ordering::Acquire) {
            return;
        }
        read_queued(&connection, local, |batch| readable.receive(batch));
    }
}

/// Reads what one socket has queued (up to [`READ_BATCHES`] batches) into the core, under
/// one hold of its lock; `receive` takes a batch. Says how many datagrams it read, and when
/// the direction's RTCP is next due if the receive rounds time it.
fn read_queued(
    connection: &DirectConnection,
    local: SocketAddr,
    mut receive: impl FnMut(&mut udp_batch::RecvBatch) -> std::io::Result<usize>,
) -> (usize, Option<Instant>) {
    let direction = &*connection.inbound;
    let mut read = 0;
    let (_, due) = connection.turn_due(|core| {
        let now = Instant::now();
        let mut fed = false;
        core.own.follow(direction, now);
        // what is queued, a batch at a time, under one lock
        udp_batch::with_batch(|batch| {
            for _ in 0..READ_BATCHES {
                match receive(batch) {
                    Ok(count) => {
                        read += count;
                        for (data, peer, arrived) in batch.datagrams_at(now) {
                            fed |= core.read(direction, arrived, local, peer, data);
                        }
                        if batch.drained() {
                            break;
                        }
                    }
                    Err(err) => {
                        if err.kind() != std::io::ErrorKind::WouldBlock {
                            // e.g. ICMP port unreachable reported on a later read: not fatal
                            tracing::trace!(%local, %err, "UDP receive error");
                        }
                        break;
                    }
                }
            }
        });
        (Ok(()), fed)
    });
    (read, due)
}

/// One socket of a receiving connection, read in the receive rounds (`rounds.rs`).
#[cfg(target_os = "linux")]
struct RoundSocket {
    /// Dropped first: the socket leaves the rounds before it can close.
    _registration: Option<Registration>,
    connection: Arc<DirectConnection>,
    udp: Arc<UdpPort>,
    local: SocketAddr,
    runtime: tokio::runtime::Handle,
}

#[cfg(target_os = "linux")]
impl RoundSocket {
    /// The socket read in `rounds` from now on, for as long as the returned reader lives.
    fn register(
        rounds: &'static Rounds,
        connection: Arc<DirectConnection>,
        udp: Arc<UdpPort>,
        local: SocketAddr,
    ) -> std::io::Result<Arc<Self>> {
        let fd = udp.raw_fd();
        let mut failed = None;
        let reader = Arc::new_cyclic(|reader: &std::sync::Weak<Self>| {
            // the rounds skip a reader still being made (not upgradable yet): its socket
            // stays ready for their next round
            let weak: std::sync::Weak<dyn RoundReader> = reader.clone();
            let registration = rounds
                .register(fd, weak)
                .map_err(|err| failed = Some(err))
                .ok();
            Self {
                _registration: registration,
                connection,
                udp,
                local,
                runtime: tokio::runtime::Handle::current(),
            }
        });
        if let Some(err) = failed {
            return Err(err);
        }
        Ok(reader)
    }
}

#[cfg(target_os = "linux")]
impl RoundReader for RoundSocket {
    fn read_ready(&self) -> Ready {
        if self.connection.closed.load(Ordering::Acquire) {
            return Ready { read: 0, due: None };
        }
        let _runtime = self.runtime.enter();
        let fd = self.udp.raw_fd();
        let (read, due) = read_queued(&self.connection, self.local, |batch| batch.receive(fd));
        Ready { read, due }
    }

    fn due(&self) -> Option<Instant> {
        if self.connection.closed.load(Ordering::Acquire) {
            return None;
        }
        let _runtime = self.runtime.enter();
        self.connection.turn_due(|_| (Ok(()), false)).1
    }
}

/// Runs the core's timers and drains the backlog until the connection closes.
async fn timer_loop(connection: Arc<DirectConnection>) {
    loop {
        if connection.closed.load(Ordering::Acquire) {
            return;
        }
        let Ok((wake_at, blocked)) = connection.lock().map(|core| {
            let blocked = core
                .backlog
                .front()
                .filter(|_| core.blocked)
                .and_then(|d| core.socket(d.transport.local_addr))
                .map(|s| s.udp.clone());
            (core.wake_at(), blocked)
        }) else {
            return;
        };
        let sleep = tokio::time::sleep_until(
            wake_at.map_or_else(|| tokio::time::Instant::now() + IDLE, Into::into),
        );
        let writable = async {
            match &blocked {
                Some(udp) => {
                    if let Err(err) = udp.writable().await {
                        // cannot wait on the socket: retry as the pacer would
                        tracing::debug!(%err, "waiting for a full socket");
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = sleep => {
                let direction = &*connection.inbound;
                let _ = connection.turn(|core| {
                    let now = Instant::now();
                    if !core.blocked {
                        core.drain_backlog(now);
                    }
                    if !core.rtcp_in_rounds() && core.rtcp_due.is_some_and(|d| d <= now) {
                        core.write_rtcp(direction, now);
                    }
                    // the core is run, and then polled, only when its own deadline is due
                    if core.deadline.is_some_and(|d| d <= now) {
                        (core.handle_timeout(now), true)
                    } else {
                        core.backlog_started = false;
                        (Ok(()), false)
                    }
                });
            }
            _ = connection.wake.notified() => {}
            _ = writable => {
                let _ = connection.with_core(|core| {
                    core.drain_backlog(Instant::now());
                    Ok(())
                });
            }
        }
    }
}

/// One connection on the direct driver.
pub(crate) struct DirectDriver {
    connection: Arc<DirectConnection>,
    tasks: Vec<JoinHandle<()>>,
    /// The sockets read in the receive rounds, each until it is dropped.
    #[cfg(target_os = "linux")]
    round_readers: Mutex<Vec<Arc<RoundSocket>>>,
}

impl DirectDriver {
    /// Builds the core and binds one UDP socket per address (port 0). Within a tokio runtime.
    pub(crate) fn new(
        configuration: RTCConfiguration,
        setting_engine: SettingEngine,
        media_engine: MediaEngine,
        registry: Registry,
        bind: &[SocketAddr],
        events: Arc<Events>,
        inbound: Arc<dyn Inbound>,
    ) -> Result<Self, HandlerError> {
        let mut setting_engine = setting_engine;
        let exported = Exported::default();
        if let Some(capture) = KeyCapture::new(exported.clone()) {
            setting_engine.set_crypto_provider(Arc::new(capture));
        }
        let pc = RTCPeerConnectionBuilder::new()
            .with_configuration(configuration)
            .with_setting_engine(setting_engine)
            .with_media_engine(media_engine)
            .with_interceptor_registry(registry)
            .build(Instant::now())
            .map_err(HandlerError::webrtc)?;
        // Every address that binds gets a socket; none binding is an error (naming the first).
        let mut sockets = Vec::with_capacity(bind.len());
        let mut first_error = None;
        // a receiving direction's sockets are read in the receive rounds (Linux)
        #[cfg(target_os = "linux")]
        let rounds = inbound
            .reads_in_rounds()
            .then(|| {
                Rounds::shared()
                    .map_err(|err| tracing::warn!(%err, "no receive rounds: reads in tokio"))
                    .ok()
            })
            .flatten();
        #[cfg(target_os = "linux")]
        let reads = if rounds.is_some() {
            Reads::Elsewhere
        } else {
            Reads::Reactor
        };
        #[cfg(not(target_os = "linux"))]
        let reads = Reads::Reactor;
        for addr in bind {
            let bound = UdpPort::bind(*addr, reads).and_then(|udp| Ok((udp.local_addr()?, udp)));
            match bound {
                Ok((local, udp)) => sockets.push(Socket {
                    local,
                    udp: Arc::new(udp),
                }),
                Err(e) => {
                    tracing::debug!(%addr, %e, "UDP address not bound");
                    first_error.get_or_insert_with(|| format!("cannot bind UDP {addr}: {e}"));
                }
            }
        }
        if sockets.is_empty() {
            return Err(HandlerError::WebRtc(
                first_error.unwrap_or_else(|| "no local address to bind".into()),
            ));
        }
        let readers: Vec<(Arc<UdpPort>, SocketAddr)> =
            sockets.iter().map(|s| (s.udp.clone(), s.local)).collect();
        let connection = Arc::new(DirectConnection {
            core: Mutex::new({
                let mut core = CoreAndSockets::new(pc, sockets);
                core.own.exported = exported;
                if inbound.reads_in_rounds() {
                    core.distant_on_grid = Some(DistantOnGrid::new(grid::FINEST));
                }
                #[cfg(target_os = "linux")]
                {
                    core.rounds = rounds;
                }
                core
            }),
            events,
            inbound,
            wake: Notify::new(),
            delivery: Mutex::new(()),
            closed: AtomicBool::new(false),
        });
        let mut tasks: Vec<JoinHandle<()>> = Vec::new();
        #[cfg(target_os = "linux")]
        let mut round_readers = Vec::new();
        for (udp, local) in readers {
            #[cfg(target_os = "linux")]
            if let Some(rounds) = rounds {
                match RoundSocket::register(rounds, connection.clone(), udp, local) {
                    Ok(reader) => round_readers.push(reader),
                    Err(err) => {
                        connection.closed.store(true, Ordering::Release);
                        return Err(HandlerError::WebRtc(format!(
                            "cannot read UDP {local} in the receive rounds: {err}"
                        )));
                    }
                }
                continue;
            }
            tasks.push(tokio::spawn(read_loop(connection.clone(), udp, local)));
        }
        tasks.push(tokio::spawn(timer_loop(connection.clone())));
        Ok(Self {
            connection,
            tasks,
            #[cfg(target_os = "linux")]
            round_readers: Mutex::new(round_readers),
        })
    }

    /// Closes the core (its DTLS close_notify goes out) and stops the tasks. Idempotent.
    fn close_now(&self) {
        if self.connection.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let _ = self.connection.with_core(|core| {
            if let Err(err) = core.pc.close() {
                tracing::debug!(%err, "closing the connection");
            }
            core.flush_writes();
            // the sockets close now, not when the last writer is dropped
            core.backlog.clear();
            core.sockets.clear();
            #[cfg(target_os = "linux")]
            {
                core.eager = None;
            }
            Ok(())
        });
        for task in &self.tasks {
            task.abort();
        }
        // out of the rounds, then the sockets close
        #[cfg(target_os = "linux")]
        self.round_readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[async_trait::async_trait]
impl Driver for DirectDriver {
    fn kind(&self) -> DriverKind {
        DriverKind::Direct
    }

    async fn add_transceiver(
        &self,
        track: MediaStreamTrack,
        init: RTCRtpTransceiverInit,
        preferences: Vec<RTCRtpCodecParameters>,
    ) -> Result<AddedTransceiver, HandlerError> {
        let (id, sender) = self.connection.with_core(|core| {
            let id = core
                .pc
                .add_transceiver_from_track(track, Some(init))
                .map_err(HandlerError::webrtc)?;
            let mut transceiver = core
                .pc
                .rtp_transceiver(id)
                .ok_or_else(|| HandlerError::WebRtc("transceiver not found".into()))?;
            transceiver
                .set_codec_preferences(preferences)
                .map_err(HandlerError::webrtc)?;
            let sender = transceiver
                .sender()
                .ok_or_else(|| HandlerError::WebRtc("transceiver without sender".into()))?;
            Ok((id, sender))
        })?;
        Ok(AddedTransceiver {
            transceiver: Box::new(DirectTransceiver {
                connection: self.connection.clone(),
                id,
            }),
            sender,
            sink: RtpSink::Direct(self.connection.clone(), sender),
        })
    }

    /// The first offer, and an ICE restart, also gather: host candidates of the sockets, and a
    /// STUN request to each of `stun_servers`.
    async fn set_new_offer(
        &self,
        options: Option<RTCOfferOptions>,
        stun_servers: &[SocketAddr],
    ) -> Result<String, HandlerError> {
        self.connection.with_core(|core| {
            let gather = core.gathers(options.as_ref().is_some_and(|o| o.ice_restart));
            if gather {
                core.add_host_candidates()?;
            }
            let offer = core
                .pc
                .create_offer(options)
                .map_err(HandlerError::webrtc)?;
            let now = Instant::now();
            core.pc
                .set_local_description(now, offer)
                .map_err(HandlerError::webrtc)?;
            if gather {
                core.srflx.start(now, &core.locals(), stun_servers);
            }
            core.pc
                .local_description()
                .map(|d| d.sdp)
                .ok_or_else(|| HandlerError::WebRtc("no local description after setting it".into()))
        })
    }

    async fn answer(
        &self,
        offer: RTCSessionDescription,
        stun_servers: &[SocketAddr],
    ) -> Result<String, HandlerError> {
        self.connection.with_core(|core| {
            let now = Instant::now();
            core.pc
                .set_remote_description(now, offer)
                .map_err(HandlerError::webrtc)?;
            if core.gathers(false) {
                core.add_host_candidates()?;
                core.srflx.start(now, &core.locals(), stun_servers);
            }
            let answer = core.pc.create_answer(None).map_err(HandlerError::webrtc)?;
            Ok(answer.sdp)
        })
    }

    async fn set_local_answer(&self, answer: RTCSessionDescription) -> Result<(), HandlerError> {
        self.connection.with_core(|core| {
            core.pc
                .set_local_description(Instant::now(), answer)
                .map_err(HandlerError::webrtc)
        })
    }

    async fn receiver_stats(&self, track_id: &str) -> Result<Option<RTCStatsReport>, HandlerError> {
        self.connection.with_core(|core| {
            let receivers: Vec<_> = core.pc.get_receivers().collect();
            let found = receivers.into_iter().find(|id| {
                core.pc
                    .rtp_receiver(*id)
                    .is_some_and(|r| r.track().track_id() == track_id)
            });
            Ok(found.map(|id| {
                core.pc
                    .get_stats(Instant::now(), StatsSelector::Receiver(id))
            }))
        })
    }

    fn write_rtcp(&self, packets: Vec<Box<dyn rtc::rtcp::Packet>>) -> Result<(), HandlerError> {
        self.connection.with_core(|core| {
            core.pc
                .handle_write(TaggedRTCMessage {
                    now: Instant::now(),
                    message: RTCMessage::RtcpPacket(String::new(), packets),
                })
                .map_err(HandlerError::webrtc)
        })
    }

    fn gathers_next(&self, ice_restart: bool) -> bool {
        self.connection
            .lock()
            .map(|core| core.gathers(ice_restart))
            .unwrap_or(false)
    }

    async fn set_remote_description(
        &self,
        description: RTCSessionDescription,
    ) -> Result<(), HandlerError> {
        self.connection.with_core(|core| {
            core.pc
                .set_remote_description(Instant::now(), description)
                .map_err(HandlerError::webrtc)
        })
    }

    async fn set_configuration(&self, configuration: RTCConfiguration) -> Result<(), HandlerError> {
        self.connection.with_core(|core| {
            core.pc
                .set_configuration(configuration)
                .map_err(HandlerError::webrtc)
        })
    }

    async fn get_stats(&self, selector: StatsSelector) -> Result<RTCStatsReport, HandlerError> {
        self.connection
            .with_core(|core| Ok(core.pc.get_stats(Instant::now(), selector)))
    }

    fn own_traffic(&self) -> OwnTraffic {
        self.connection
            .lock()
            .map(|core| core.own_traffic)
            .unwrap_or_default()
    }

    fn open_data_channel(
        &self,
        options: &DataChannelOptions,
        on_created: &mut (dyn FnMut(RTCDataChannelId) + Send),
    ) -> Result<bool, HandlerError> {
        self.connection.with_core(|core| {
            let init = RTCDataChannelInit {
                ordered: options.ordered,
                max_packet_life_time: options.max_packet_life_time,
                max_retransmits: options.max_retransmits,
                protocol: options.protocol.clone(),
                negotiated: Some(options.stream_id),
            };
            let channel = core
                .pc
                .create_data_channel(&options.label, Some(init))
                .map_err(HandlerError::webrtc)?;
            let id = channel.id();
            let open = channel.ready_state() == RTCDataChannelState::Open;
            on_created(id);
            Ok(open)
        })
    }

    fn offer_data_section(&self) -> Result<(), HandlerError> {
        self.connection.with_core(|core| {
            let id = core
                .pc
                .create_data_channel("", None)
                .map_err(HandlerError::webrtc)?
                .id();
            core.pc
                .data_channel(id)
                .ok_or_else(|| HandlerError::WebRtc("data channel not found".into()))?
                .close()
                .map_err(HandlerError::webrtc)
        })
    }

    fn send_data(
        &self,
        id: RTCDataChannelId,
        message: OutgoingMessage,
    ) -> Result<usize, HandlerError> {
        self.connection.with_core(|core| {
            let mut channel = core.pc.data_channel(id).ok_or_else(data_channel_closed)?;
            let now = Instant::now();
            let sent = match message {
                OutgoingMessage::Text(text) => channel.send_text(now, text),
                OutgoingMessage::Binary(data) => channel.send(now, data),
            };
            if let Err(err) = sent {
                let max = core.pc.sctp().and_then(|s| s.max_message_size());
                return Err(data_send_error(err, max));
            }
            Ok(core
                .pc
                .data_channel(id)
                .map_or(0, |c| c.outstanding_bytes()))
        })
    }

    fn data_buffered_amount(&self, id: RTCDataChannelId) -> usize {
        self.connection
            .lock()
            .ok()
            .and_then(|mut core| core.pc.data_channel(id).map(|c| c.outstanding_bytes()))
            .unwrap_or(0)
    }

    fn set_data_low_threshold(&self, id: RTCDataChannelId, threshold: u32) {
        let _ = self.connection.with_core(|core| {
            if let Some(mut channel) = core.pc.data_channel(id) {
                channel.set_buffered_amount_low_threshold(threshold);
            }
            Ok(())
        });
    }

    fn close_data_channel(&self, id: RTCDataChannelId) -> Result<(), HandlerError> {
        self.connection
            .with_core(|core| match core.pc.data_channel(id) {
                Some(mut channel) => channel.close().map_err(HandlerError::webrtc),
                None => Ok(()),
            })
    }

    async fn close(&self) {
        self.close_now();
    }

    fn close_soon(&self, _runtime: &tokio::runtime::Handle) {
        self.close_now();
    }
}

fn data_channel_closed() -> HandlerError {
    HandlerError::InvalidState("the data channel is closed".into())
}

/// The class of a refused send: too large is the caller's (W3C `send()`: TypeError), not open
/// or closed is the state's.
fn data_send_error(err: rtc::shared::error::Error, max_message_size: Option<u32>) -> HandlerError {
    use rtc::shared::error::Error;
    match err {
        Error::ErrOutboundPacketTooLarge => HandlerError::InvalidArgument(format!(
            "the message is larger than the maximum message size ({} bytes)",
            max_message_size.map_or(super::data::MAX_MESSAGE_SIZE, |m| m as usize)
        )),
        Error::ErrDataChannelNotOpen => {
            HandlerError::InvalidState("the data channel is not open yet".into())
        }
        Error::ErrDataChannelClosed => data_channel_closed(),
        other => HandlerError::webrtc(other),
    }
}

/// A transceiver of the direct driver (it holds the connection).
struct DirectTransceiver {
    connection: Arc<DirectConnection>,
    id: RTCRtpTransceiverId,
}

#[async_trait::async_trait]
impl Transceiver for DirectTransceiver {
    async fn mid(&self) -> Result<String, HandlerError> {
        let id = self.id;
        self.connection
            .with_core(|core| Ok(core.pc.rtp_transceiver(id).and_then(|t| t.mid().clone())))?
            .ok_or_else(|| HandlerError::WebRtc("no mid after the offer".into()))
    }

    async fn stop(&self) -> Result<(), HandlerError> {
        let id = self.id;
        self.connection.with_core(|core| {
            core.pc
                .rtp_transceiver(id)
                .ok_or_else(|| HandlerError::WebRtc("transceiver not found".into()))?
                .stop()
                .map_err(HandlerError::webrtc)
        })
    }
}

impl Drop for DirectDriver {
    fn drop(&mut self) {
        self.close_now();
    }
}

#[cfg(test)]
#[path = "direct_tests.rs"]
mod tests;
