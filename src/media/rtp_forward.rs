//! RTP forwarding: the RTP packets of a received track, sent to a local port where another tool
//! (ffmpeg, GStreamer) reads them through an SDP file. The mirror of [`crate::RtpIngest`].
//!
//! Behaviour a program can rely on:
//! - Two UDP sockets are bound when [`RtpForwarder::new`] returns: RTP goes out of the first;
//!   RTCP is received on the second (port [`RtpForwarder::local_rtcp_addr`]), by default the
//!   port right after the RTP one, where ffmpeg sends its RTCP when told to answer the source
//!   (`-sdp_flags rtcp_to_source`). RTCP arriving on the RTP port (rtcp-mux) counts too. Both
//!   are on the target's loopback address when the target is on loopback.
//! - [`RtpForwarder::forward`] takes whole RTP packets, sets the SSRC and payload type to the
//!   options' values (sequence numbers, timestamps, marker and extensions are kept) and sends
//!   them without blocking: a packet the socket cannot take now is dropped and counted.
//! - Once a second while packets flow, an RTCP sender report goes from the RTCP socket to the
//!   tool's RTCP port (`rtcp_port`, default `port + 1`), mapping the last packet's timestamp
//!   to the wall clock (a tool aligns audio and video forwarded separately with it).
//! - Keyframe requests in the RTCP the tool sends (PLI, and FIR with a new sequence number,
//!   RFC 4585 / 5104, alone or in compound packets) for this SSRC, or for SSRC 0, call the
//!   callback given to [`RtpForwarder::new`], on the runtime's thread.
//! - [`RtpForwarder::sdp`] describes the stream for the tool: where it receives (`c=`, `m=`
//!   port), the codec (`a=rtpmap`, `a=fmtp`), RTP/AVPF with `nack pli` and `ccm fir` video
//!   feedback, and `a=rtcp` (RFC 3605: the tool's RTCP port) when that is not `port + 1`.
//!   An SDP has no way to name the sender's RTCP port: ffmpeg sends its RTCP to the source
//!   when run with `-sdp_flags rtcp_to_source` (that is, to the RTCP socket here), and
//!   GStreamer's `sdpdemux` to the `c=` address, port + 1, which is its own; a GStreamer
//!   `rtpbin` pipeline whose RTCP goes to [`RtpForwarder::local_rtcp_addr`] sends PLIs (with
//!   `rtp-profile=avpf` and `rtpvp8depay request-keyframe=true`). ffmpeg 5.1 reading an SDP
//!   sends no PLI or FIR at all.
//! - [`RtpForwarder::close`] (or dropping the forwarder) sends an RTCP BYE to the tool's RTCP
//!   port (ffmpeg ends its input on it, after the packets that came before) and stops receiving
//!   RTCP; later packets are dropped. The ports are released when the forwarder is dropped.

use crate::rtp_ingest::{parse, Datagram};
use crate::MediaError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// Seconds between two sender reports.
const SR_INTERVAL: Duration = Duration::from_secs(1);
/// Tries at binding an RTP port whose next port is free for RTCP.
const PAIR_TRIES: usize = 32;
/// RTCP payload-specific feedback (RFC 4585).
const RTCP_PSFB: u8 = 206;
const FMT_PLI: u8 = 1;
const FMT_FIR: u8 = 4;

/// Where the tool listens, and what the stream is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpForwardOptions {
    /// Address the tool listens on (127.0.0.1 or ::1 when it runs on this host).
    pub address: IpAddr,
    /// The tool's RTP port (the `m=` line's port).
    pub port: u16,
    /// The tool's RTCP port, where sender reports go; `None`: `port + 1`.
    pub rtcp_port: Option<u16>,
    /// Payload type put in every packet (and in the SDP): 0..=127 except 72..=76, which
    /// would look like RTCP.
    pub payload_type: u8,
    /// SSRC put in every packet.
    pub ssrc: u32,
    /// `kind/name`, e.g. `video/VP8`, `audio/opus`: the `m=` line's kind and the rtpmap name.
    pub mime_type: String,
    /// RTP clock rate (90000 for video, 48000 for Opus).
    pub clock_rate: u32,
    /// Audio channels for the rtpmap (`None`: 2 for Opus, which RFC 7587 requires, else
    /// omitted).
    pub channels: Option<u8>,
    /// The `a=fmtp` parameters, e.g. `packetization-mode=1;profile-level-id=42e01f`.
    pub fmtp: Option<String>,
    /// Local port to receive the tool's RTCP on (`None`: the port after the RTP socket's,
    /// when free, else any).
    pub local_rtcp_port: Option<u16>,
}

/// Counters of a forwarder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RtpForwardStats {
    /// RTP packets sent.
    pub packets: u64,
    /// Their size, RTP header included.
    pub bytes: u64,
    /// Packets not sent: not RTP, socket full or failing, or forwarder closed.
    pub dropped: u64,
    /// Keyframe requests (PLI, FIR) received from the tool.
    pub keyframe_requests: u64,
    /// RTCP packets (datagrams) received from the tool.
    pub rtcp_received: u64,
    /// Sender reports sent.
    pub sender_reports: u64,
}

struct Shared {
    closed: AtomicBool,
    wake: Notify,
    packets: AtomicU64,
    bytes: AtomicU64,
    /// Payload bytes sent (for sender reports).
    payload_bytes: AtomicU64,
    dropped: AtomicU64,
    keyframe_requests: AtomicU64,
    rtcp_received: AtomicU64,
    sender_reports: AtomicU64,
    /// Timestamp of the last packet sent, and when.
    last_sent: Mutex<Option<(u32, Instant)>>,
}

/// Sends a track's RTP packets to a tool and passes the tool's keyframe requests back.
pub struct RtpForwarder {
    options: RtpForwardOptions,
    rtp: UdpSocket,
    /// The RTCP socket, to send the BYE from.
    rtcp: UdpSocket,
    report_to: SocketAddr,
    target: SocketAddr,
    local_rtp: SocketAddr,
    local_rtcp: SocketAddr,
    shared: Arc<Shared>,
}

impl Drop for RtpForwarder {
    fn drop(&mut self) {
        self.close();
    }
}

fn kind_and_name(mime_type: &str) -> Option<(&str, &str)> {
    let (kind, name) = mime_type.split_once('/')?;
    let kind_ok = kind.eq_ignore_ascii_case("audio") || kind.eq_ignore_ascii_case("video");
    let name_ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (kind_ok && name_ok).then_some((kind, name))
}

impl RtpForwarder {
    /// Checks the options, binds the sockets and starts receiving RTCP (on the current tokio
    /// runtime). `on_keyframe_request` runs for each keyframe request from the tool.
    pub async fn new(
        options: RtpForwardOptions,
        on_keyframe_request: impl Fn() + Send + Sync + 'static,
    ) -> Result<Self, MediaError> {
        let bad = |m: String| Err(MediaError::InvalidArgument(m));
        if kind_and_name(&options.mime_type).is_none() {
            return bad(format!(
                "mime type {:?}: audio/NAME or video/NAME expected (e.g. video/VP8)",
                options.mime_type
            ));
        }
        if options.payload_type > 127 || (72..=76).contains(&options.payload_type) {
            return bad(format!(
                "payload type {}: 0..=127 except 72..=76 (those look like RTCP)",
                options.payload_type
            ));
        }
        if options.clock_rate == 0 {
            return bad("clock rate must be greater than 0".into());
        }
        if options.port == 0 || options.rtcp_port == Some(0) {
            return bad("the tool's ports must not be 0".into());
        }
        if options
            .fmtp
            .as_deref()
            .is_some_and(|f| f.contains(['\r', '\n']))
        {
            return bad("fmtp must be a single line".into());
        }
        let target = SocketAddr::new(options.address, options.port);
        let local_ip = match options.address {
            a if a.is_loopback() => a,
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        let io_error = |e: std::io::Error| MediaError::Io {
            file: format!("udp://{target}"),
            reason: format!("cannot open a socket to forward RTP: {e}"),
        };
        let (rtp, rtcp) = bind_sockets(local_ip, options.local_rtcp_port).map_err(io_error)?;
        rtp.set_nonblocking(true).map_err(io_error)?;
        rtcp.set_nonblocking(true).map_err(io_error)?;
        let local_rtp = rtp.local_addr().map_err(io_error)?;
        let local_rtcp = rtcp.local_addr().map_err(io_error)?;
        let rtp_rx = tokio::net::UdpSocket::from_std(rtp.try_clone().map_err(io_error)?)
            .map_err(io_error)?;
        let rtcp_tx = rtcp.try_clone().map_err(io_error)?;
        let rtcp = tokio::net::UdpSocket::from_std(rtcp).map_err(io_error)?;
        let report_to = SocketAddr::new(
            options.address,
            options
                .rtcp_port
                .unwrap_or_else(|| options.port.wrapping_add(1)),
        );
        let shared = Arc::new(Shared {
            closed: AtomicBool::new(false),
            wake: Notify::new(),
            packets: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            payload_bytes: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            keyframe_requests: AtomicU64::new(0),
            rtcp_received: AtomicU64::new(0),
            sender_reports: AtomicU64::new(0),
            last_sent: Mutex::new(None),
        });
        let receiver = Receiver {
            shared: shared.clone(),
            ssrc: options.ssrc,
            clock_rate: options.clock_rate,
            report_to,
            last_fir: None,
            on_keyframe_request: Box::new(on_keyframe_request),
        };
        tokio::spawn(receiver.run(rtp_rx, rtcp));
        Ok(RtpForwarder {
            options,
            rtp,
            rtcp: rtcp_tx,
            report_to,
            target,
            local_rtp,
            local_rtcp,
            shared,
        })
    }

    /// The address RTP is sent from.
    pub fn local_rtp_addr(&self) -> SocketAddr {
        self.local_rtp
    }

    /// The address the tool's RTCP is received on.
    pub fn local_rtcp_addr(&self) -> SocketAddr {
        self.local_rtcp
    }

    /// Sends one RTP packet (header included) with the options' SSRC and payload type. Never
    /// blocks; a packet that is not RTP, or that the socket cannot take now, is dropped.
    pub fn forward(&self, packet: &[u8]) {
        let s = &self.shared;
        let (timestamp, payload) = match parse(packet) {
            Ok(Datagram::Rtp(h)) if !s.closed.load(Ordering::SeqCst) => {
                (h.timestamp, h.end - h.start)
            }
            other => {
                if let Err(reason) = other {
                    tracing::debug!("rtp forward: not forwarded: {reason}");
                }
                s.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        let mut out = packet.to_vec();
        out[1] = (out[1] & 0x80) | self.options.payload_type;
        out[8..12].copy_from_slice(&self.options.ssrc.to_be_bytes());
        match self.rtp.send_to(&out, self.target) {
            Ok(_) => {
                s.packets.fetch_add(1, Ordering::Relaxed);
                s.bytes.fetch_add(out.len() as u64, Ordering::Relaxed);
                s.payload_bytes.fetch_add(payload as u64, Ordering::Relaxed);
                *s.last_sent.lock().unwrap() = Some((timestamp, Instant::now()));
            }
            Err(e) => {
                // WouldBlock when the socket buffer is full; ECONNREFUSED after an ICMP port
                // unreachable when the tool is not (yet) listening
                tracing::trace!("rtp forward: dropped: {e}");
                s.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// An SDP that the tool can open (`ffmpeg -protocol_whitelist file,udp,rtp -sdp_flags
    /// rtcp_to_source -i x.sdp`, `gst-launch-1.0 filesrc location=x.sdp ! sdpdemux`).
    pub fn sdp(&self) -> String {
        let o = &self.options;
        let (kind, name) = kind_and_name(&o.mime_type).expect("checked in new");
        let kind = kind.to_ascii_lowercase();
        let family = if o.address.is_ipv4() { "IP4" } else { "IP6" };
        let pt = o.payload_type;
        let channels = o
            .channels
            .or((kind == "audio" && name.eq_ignore_ascii_case("opus")).then_some(2));
        let mut sdp = format!(
            "v=0\r\no=- {ssrc} 0 IN {family} {addr}\r\ns=msc-media forward\r\n\
             c=IN {family} {addr}\r\nt=0 0\r\nm={kind} {port} RTP/AVPF {pt}\r\n\
             a=rtpmap:{pt} {name}/{rate}",
            ssrc = o.ssrc,
            addr = o.address,
            port = o.port,
            rate = o.clock_rate,
        );
        if let Some(c) = channels {
            sdp += &format!("/{c}");
        }
        sdp += "\r\n";
        if let Some(fmtp) = o.fmtp.as_deref().filter(|f| !f.is_empty()) {
            sdp += &format!("a=fmtp:{pt} {fmtp}\r\n");
        }
        if let Some(rtcp) = o.rtcp_port.filter(|&p| p != o.port.wrapping_add(1)) {
            // RFC 3605: the tool's RTCP port, when not the next one
            sdp += &format!("a=rtcp:{rtcp}\r\n");
        }
        if kind == "video" {
            sdp += &format!(
                "a=rtcp-fb:{pt} nack\r\na=rtcp-fb:{pt} nack pli\r\na=rtcp-fb:{pt} ccm fir\r\n"
            );
        }
        sdp += &format!("a=ssrc:{} cname:msc-media\r\na=recvonly\r\n", o.ssrc);
        sdp
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> RtpForwardStats {
        let s = &self.shared;
        RtpForwardStats {
            packets: s.packets.load(Ordering::Relaxed),
            bytes: s.bytes.load(Ordering::Relaxed),
            dropped: s.dropped.load(Ordering::Relaxed),
            keyframe_requests: s.keyframe_requests.load(Ordering::Relaxed),
            rtcp_received: s.rtcp_received.load(Ordering::Relaxed),
            sender_reports: s.sender_reports.load(Ordering::Relaxed),
        }
    }

    /// Sends an RTCP BYE and stops forwarding and receiving (the keyframe-request callback is
    /// not called after the receiving task sees it). Idempotent.
    pub fn close(&self) {
        if self.shared.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Err(e) = self.rtcp.send_to(&bye(self.options.ssrc), self.report_to) {
            tracing::debug!("rtp forward: BYE not sent: {e}");
        }
        self.shared.wake.notify_one();
    }
}

/// The RTP and RTCP sockets: RTCP on `rtcp_port` when given, else on the RTP port + 1 when
/// that is free.
fn bind_sockets(ip: IpAddr, rtcp_port: Option<u16>) -> std::io::Result<(UdpSocket, UdpSocket)> {
    if let Some(port) = rtcp_port {
        let rtcp = UdpSocket::bind((ip, port))?;
        return Ok((UdpSocket::bind((ip, 0))?, rtcp));
    }
    for _ in 0..PAIR_TRIES {
        let rtp = UdpSocket::bind((ip, 0))?;
        let port = rtp.local_addr()?.port();
        if let Some(next) = port.checked_add(1) {
            if let Ok(rtcp) = UdpSocket::bind((ip, next)) {
                return Ok((rtp, rtcp));
            }
        }
    }
    Ok((UdpSocket::bind((ip, 0))?, UdpSocket::bind((ip, 0))?))
}

/// What an RTCP datagram asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Feedback {
    pub(crate) pli: bool,
    /// Sequence numbers of the FIR entries for our SSRC.
    pub(crate) fir: Vec<u8>,
}

/// Reads the keyframe requests about `ssrc` (or SSRC 0) in a compound RTCP packet; `None`
/// when the datagram is not RTCP.
pub(crate) fn keyframe_requests(datagram: &[u8], ssrc: u32) -> Option<Feedback> {
    let mut out = Feedback::default();
    let mut at = 0;
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let ours = |s: u32| s == ssrc || s == 0;
    while at + 4 <= datagram.len() {
        let p = &datagram[at..];
        if p[0] >> 6 != 2 || !(192..=223).contains(&p[1]) {
            return (at > 0).then_some(out);
        }
        let len = 4 * (usize::from(u16::from_be_bytes([p[2], p[3]])) + 1);
        let Some(p) = p.get(..len) else {
            return (at > 0).then_some(out);
        };
        if p[1] == RTCP_PSFB && p.len() >= 12 {
            match p[0] & 0x1f {
                FMT_PLI if ours(be32(&p[8..12])) => out.pli = true,
                FMT_FIR => {
                    for entry in p[12..].chunks_exact(8) {
                        if ours(be32(&entry[0..4])) {
                            out.fir.push(entry[4]);
                        }
                    }
                }
                _ => {}
            }
        }
        at += len;
    }
    (at > 0).then_some(out)
}

/// An RTCP sender report (RFC 3550, 6.4.1) with no report blocks.
pub(crate) fn sender_report(
    ssrc: u32,
    wall: SystemTime,
    rtp_timestamp: u32,
    packets: u32,
    octets: u32,
) -> [u8; 28] {
    let since = wall.duration_since(UNIX_EPOCH).unwrap_or_default();
    // NTP time: seconds since 1900, and a 32-bit fraction
    let secs = since.as_secs() + 2_208_988_800;
    let frac = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
    let mut p = [0u8; 28];
    p[0] = 0x80;
    p[1] = 200;
    p[2..4].copy_from_slice(&6u16.to_be_bytes());
    p[4..8].copy_from_slice(&ssrc.to_be_bytes());
    p[8..12].copy_from_slice(&(secs as u32).to_be_bytes());
    p[12..16].copy_from_slice(&(frac as u32).to_be_bytes());
    p[16..20].copy_from_slice(&rtp_timestamp.to_be_bytes());
    p[20..24].copy_from_slice(&packets.to_be_bytes());
    p[24..28].copy_from_slice(&octets.to_be_bytes());
    p
}

/// An RTCP BYE (RFC 3550, 6.6) for `ssrc`, after an empty receiver report (a compound packet
/// begins with a report).
pub(crate) fn bye(ssrc: u32) -> [u8; 16] {
    let mut p = [0x80, 201, 0, 1, 0, 0, 0, 0, 0x81, 203, 0, 1, 0, 0, 0, 0];
    p[4..8].copy_from_slice(&ssrc.to_be_bytes());
    p[12..16].copy_from_slice(&ssrc.to_be_bytes());
    p
}

struct Receiver {
    shared: Arc<Shared>,
    ssrc: u32,
    clock_rate: u32,
    report_to: SocketAddr,
    last_fir: Option<u8>,
    on_keyframe_request: Box<dyn Fn() + Send + Sync>,
}

impl Receiver {
    async fn run(mut self, rtp: tokio::net::UdpSocket, rtcp: tokio::net::UdpSocket) {
        let mut buf = vec![0u8; 2048];
        let mut buf2 = vec![0u8; 2048];
        let mut reports = tokio::time::interval(SR_INTERVAL);
        reports.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !self.shared.closed.load(Ordering::SeqCst) {
            tokio::select! {
                r = rtcp.recv_from(&mut buf) => match r {
                    Ok((n, from)) => self.on_rtcp(&buf[..n], from),
                    Err(e) => tracing::debug!("rtp forward: RTCP receive error: {e}"),
                },
                r = rtp.recv_from(&mut buf2) => match r {
                    Ok((n, from)) => self.on_rtcp(&buf2[..n], from),
                    // e.g. port unreachable while the tool is not listening yet
                    Err(e) => tracing::trace!("rtp forward: receive error: {e}"),
                },
                _ = reports.tick() => self.send_report(&rtcp).await,
                _ = self.shared.wake.notified() => {}
            }
        }
        tracing::debug!("rtp forward from {:?} closed", rtp.local_addr());
    }

    fn on_rtcp(&mut self, datagram: &[u8], from: SocketAddr) {
        let Some(feedback) = keyframe_requests(datagram, self.ssrc) else {
            tracing::debug!(%from, "rtp forward: ignored a datagram that is not RTCP");
            return;
        };
        self.shared.rtcp_received.fetch_add(1, Ordering::Relaxed);
        // a FIR is repeated with the same sequence number until answered: one request
        let new_fir = feedback.fir.iter().any(|&seq| self.last_fir != Some(seq));
        if let Some(&seq) = feedback.fir.last() {
            self.last_fir = Some(seq);
        }
        if feedback.pli || new_fir {
            self.shared
                .keyframe_requests
                .fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%from, pli = feedback.pli, "rtp forward: keyframe request");
            (self.on_keyframe_request)();
        }
    }

    async fn send_report(&self, rtcp: &tokio::net::UdpSocket) {
        let Some((timestamp, at)) = *self.shared.last_sent.lock().unwrap() else {
            return;
        };
        let elapsed = at.elapsed();
        if elapsed > SR_INTERVAL * 2 {
            return; // the stream paused: no report until it resumes
        }
        let ticks = (elapsed.as_secs_f64() * f64::from(self.clock_rate)) as u32;
        let sr = sender_report(
            self.ssrc,
            SystemTime::now(),
            timestamp.wrapping_add(ticks),
            self.shared.packets.load(Ordering::Relaxed) as u32,
            self.shared.payload_bytes.load(Ordering::Relaxed) as u32,
        );
        match rtcp.send_to(&sr, self.report_to).await {
            Ok(_) => {
                self.shared.sender_reports.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => tracing::trace!("rtp forward: sender report not sent: {e}"),
        }
    }
}

#[cfg(test)]
mod tests;
