//! RTP ingest: a [`FrameTrack`] fed with the RTP packets another tool (ffmpeg, GStreamer)
//! sends to a local UDP port.
//!
//! Behaviour a program can rely on:
//! - The socket is bound when [`RtpIngest::bind`] returns (port 0 picks a free port:
//!   [`RtpIngest::local_addr`] tells which), and closed when the track is stopped or the
//!   [`RtpIngest`] dropped.
//! - Payloads are passed on as they are (no depacketizing: the tool must send the codec the
//!   track is bound to, in the RTP payload format the router expects, with payloads that fit
//!   the path: 1200 bytes is safe), with their marker bit, to layer 0 of the producer.
//! - SSRC, payload type and sequence numbers are the producer's (its sink numbers the packets
//!   in arrival order); timestamps keep the sender's spacing on the track's own timeline.
//! - A new sender (another SSRC, or on the same SSRC a sequence number or timestamp jump that
//!   no packet loss explains, as when the tool restarts with the same settings) continues the
//!   timeline where the last one left off, plus the time that passed: the server sees one
//!   unbroken stream. One sender at a time: packets of two interleaved SSRCs make each look
//!   like a restart.
//! - RTCP that the sender sends to the same port (rtcp-mux) is recognised (RFC 5761), counted
//!   and not forwarded; its source address is where keyframe requests go.
//! - A keyframe request from the server (PLI or FIR on the producer, or re-enabling the track)
//!   becomes an RTCP PLI for the sender's SSRC, sent from the track's port to `rtcp_port` on
//!   the sender's host when given, else to the address the sender's RTCP last came from;
//!   with neither, it cannot be passed on (the track's keyframe-request callbacks still run).
//! - Packets that arrive while no producer uses the track are dropped (and counted).

use crate::{FrameTrack, MediaError, MediaKind};
use bytes::Bytes;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Notify;

/// A jump of the sequence number larger than this (either way) means a new sender.
const MAX_SEQ_JUMP: u16 = 3000;
/// A timestamp this far (in seconds) from where the sender's clock should be means a new sender.
const MAX_TIMESTAMP_JUMP_S: u64 = 10;
/// Payloads larger than this are forwarded but logged once: they may not fit a real path.
const SAFE_PAYLOAD: usize = 1200;

/// Where to listen and what the sender sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpIngestOptions {
    /// Kind of the track made for the stream; must match `mime_type`.
    pub kind: MediaKind,
    /// The codec the sender sends (video/VP8, video/VP9, video/H264, video/AV1, audio/opus).
    pub mime_type: String,
    /// Local address to bind (127.0.0.1 unless the sender is on another host).
    pub address: IpAddr,
    /// Local port (0: any free port).
    pub port: u16,
    /// Port where the sender listens for RTCP (keyframe requests), on the sender's host.
    pub rtcp_port: Option<u16>,
}

/// Counters of an ingest, for programs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RtpIngestStats {
    /// RTP packets received (valid ones).
    pub packets_received: u64,
    /// Size of those packets, RTP header included.
    pub bytes_received: u64,
    /// Passed on to the producer.
    pub packets_forwarded: u64,
    /// Dropped: no producer, track disabled, or not RTP/RTCP.
    pub packets_dropped: u64,
    /// Senders seen in turn (1 after the first packet, +1 at each restart).
    pub senders: u64,
    /// RTCP datagrams received on the port (ignored, apart from noting the sender's RTCP
    /// address for keyframe requests when `rtcp_port` is not given).
    pub rtcp_received: u64,
    /// PLIs sent to the sender for the producer's keyframe requests.
    pub pli_sent: u64,
    /// Keyframe requests that could not be passed on (no RTCP address known).
    pub pli_unsent: u64,
    /// SSRC of the current sender.
    pub ssrc: Option<u32>,
    /// Address of the current sender.
    pub sender: Option<SocketAddr>,
}

/// The fields of an RTP packet the ingest uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RtpHeader {
    pub(crate) marker: bool,
    pub(crate) payload_type: u8,
    pub(crate) seq: u16,
    pub(crate) timestamp: u32,
    pub(crate) ssrc: u32,
    /// payload = packet[start..end]
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// What a datagram is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Datagram {
    Rtp(RtpHeader),
    Rtcp,
}

/// Parses one datagram: RTP (RFC 3550) or RTCP multiplexed on the same port (RFC 5761).
pub(crate) fn parse(packet: &[u8]) -> Result<Datagram, String> {
    if packet.len() < 8 {
        return Err(format!("{} bytes: too short for RTP or RTCP", packet.len()));
    }
    if packet[0] >> 6 != 2 {
        return Err(format!("version {} is not RTP version 2", packet[0] >> 6));
    }
    if (192..=223).contains(&packet[1]) {
        return Ok(Datagram::Rtcp);
    }
    if packet.len() < 12 {
        return Err(format!("{} bytes: too short for RTP", packet.len()));
    }
    let csrc_count = usize::from(packet[0] & 0x0f);
    let mut start = 12 + 4 * csrc_count;
    if packet[0] & 0x10 != 0 {
        if packet.len() < start + 4 {
            return Err("truncated header extension".into());
        }
        let words = usize::from(u16::from_be_bytes([packet[start + 2], packet[start + 3]]));
        start += 4 + 4 * words;
    }
    let mut end = packet.len();
    if packet[0] & 0x20 != 0 {
        let padding = usize::from(packet[end - 1]);
        if padding == 0 || padding > end {
            return Err("bad padding".into());
        }
        end -= padding;
    }
    if start > end {
        return Err("header longer than the packet".into());
    }
    Ok(Datagram::Rtp(RtpHeader {
        marker: packet[1] & 0x80 != 0,
        payload_type: packet[1] & 0x7f,
        seq: u16::from_be_bytes([packet[2], packet[3]]),
        timestamp: u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]),
        ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
        start,
        end,
    }))
}

/// An RTCP PLI (RFC 4585) from `sender_ssrc` about `media_ssrc`.
pub(crate) fn pli(sender_ssrc: u32, media_ssrc: u32) -> [u8; 12] {
    let mut p = [0x81, 206, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0];
    p[4..8].copy_from_slice(&sender_ssrc.to_be_bytes());
    p[8..12].copy_from_slice(&media_ssrc.to_be_bytes());
    p
}

/// Maps the timestamps of successive senders onto one timeline.
#[derive(Debug)]
pub(crate) struct Restamper {
    clock_rate: u32,
    current: Option<Source>,
    /// The last timestamp given out, and when.
    last_out: Option<(u32, Instant)>,
}

#[derive(Debug)]
struct Source {
    ssrc: u32,
    offset: u32,
    last_seq: u16,
    last_timestamp: u32,
    last_at: Instant,
}

impl Restamper {
    pub(crate) fn new(clock_rate: u32) -> Self {
        Restamper {
            clock_rate,
            current: None,
            last_out: None,
        }
    }

    fn ticks(&self, d: std::time::Duration) -> u64 {
        (d.as_secs_f64() * f64::from(self.clock_rate)) as u64
    }

    /// The timestamp on the track's timeline of a packet; the bool is true when the packet
    /// comes from a new sender.
    pub(crate) fn restamp(
        &mut self,
        ssrc: u32,
        seq: u16,
        timestamp: u32,
        now: Instant,
    ) -> (u32, bool) {
        let same = self.current.as_ref().is_some_and(|s| {
            if s.ssrc != ssrc {
                return false;
            }
            let forward = seq.wrapping_sub(s.last_seq);
            let backward = s.last_seq.wrapping_sub(seq);
            if forward > MAX_SEQ_JUMP && backward > MAX_SEQ_JUMP {
                return false;
            }
            // where the sender's clock should be now, give or take a lot
            let elapsed = self.ticks(now.saturating_duration_since(s.last_at));
            let expected = s.last_timestamp.wrapping_add(elapsed as u32);
            let off = timestamp
                .wrapping_sub(expected)
                .min(expected.wrapping_sub(timestamp));
            u64::from(off) <= MAX_TIMESTAMP_JUMP_S * u64::from(self.clock_rate)
        });
        if !same {
            let offset = match self.last_out {
                Some((last, at)) => {
                    let gap = self.ticks(now.saturating_duration_since(at)).max(1);
                    last.wrapping_add(gap as u32).wrapping_sub(timestamp)
                }
                // the first sender's first packet is at 0
                None => 0u32.wrapping_sub(timestamp),
            };
            self.current = Some(Source {
                ssrc,
                offset,
                last_seq: seq,
                last_timestamp: timestamp,
                last_at: now,
            });
        }
        let s = self.current.as_mut().expect("set above");
        // the newest packet sets where the sender's clock is (reordered ones do not)
        if seq.wrapping_sub(s.last_seq) < 0x8000 {
            s.last_seq = seq;
            s.last_timestamp = timestamp;
            s.last_at = now;
        }
        let out = timestamp.wrapping_add(s.offset);
        let newer = self
            .last_out
            .is_none_or(|(last, _)| out.wrapping_sub(last) < 0x8000_0000);
        if newer {
            self.last_out = Some((out, now));
        }
        (out, !same)
    }
}

#[derive(Default)]
struct Shared {
    wake: Notify,
    cancelled: AtomicBool,
    keyframe_wanted: AtomicBool,
    stats: Mutex<RtpIngestStats>,
}

/// An RTP port feeding a [`FrameTrack`]. Dropping it closes the port (the track stays live
/// until stopped).
pub struct RtpIngest {
    track: Arc<FrameTrack>,
    local: SocketAddr,
    shared: Arc<Shared>,
}

impl Drop for RtpIngest {
    fn drop(&mut self) {
        self.shared.cancelled.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
    }
}

impl RtpIngest {
    /// Binds the UDP port and makes the track. Returns the ingest and the task that receives
    /// the packets: spawn it on a tokio runtime (the socket is registered with the runtime
    /// when the task first runs).
    pub fn bind(
        options: RtpIngestOptions,
    ) -> Result<(RtpIngest, impl Future<Output = ()> + Send + 'static), MediaError> {
        let clock_rate = match options.mime_type.to_ascii_lowercase().as_str() {
            "video/vp8" | "video/vp9" | "video/h264" | "video/av1" => 90_000,
            "audio/opus" => 48_000,
            _ => {
                return Err(MediaError::UnsupportedCodec {
                    mime_type: options.mime_type,
                })
            }
        };
        let codec_kind = if clock_rate == 48_000 {
            MediaKind::Audio
        } else {
            MediaKind::Video
        };
        if codec_kind != options.kind {
            return Err(MediaError::InvalidArgument(format!(
                "codec {} is not {} codec",
                options.mime_type,
                match options.kind {
                    MediaKind::Audio => "an audio",
                    MediaKind::Video => "a video",
                }
            )));
        }
        let where_ = SocketAddr::new(options.address, options.port);
        let io_error = |e: std::io::Error| MediaError::Io {
            file: format!("udp://{where_}"),
            reason: format!("cannot listen for RTP: {e}"),
        };
        let socket = std::net::UdpSocket::bind(where_).map_err(io_error)?;
        socket.set_nonblocking(true).map_err(io_error)?;
        let local = socket.local_addr().map_err(io_error)?;
        let track = Arc::new(FrameTrack::with_codec(
            options.kind,
            options.mime_type.clone(),
        ));
        let shared = Arc::new(Shared::default());
        {
            let weak = Arc::downgrade(&shared);
            track.on_keyframe_request(Box::new(move |_layer, _reason| {
                if let Some(s) = weak.upgrade() {
                    s.keyframe_wanted.store(true, Ordering::SeqCst);
                    s.wake.notify_one();
                }
            }));
            let weak = Arc::downgrade(&shared);
            track.on_ended(Box::new(move |_| {
                if let Some(s) = weak.upgrade() {
                    s.wake.notify_one();
                }
            }));
        }
        let task = Receiver {
            track: track.clone(),
            shared: shared.clone(),
            restamper: Restamper::new(clock_rate),
            rtcp_port: options.rtcp_port,
            rtcp_from: None,
            own_ssrc: rand::random(),
            warned_size: false,
        }
        .run(socket);
        Ok((
            RtpIngest {
                track,
                local,
                shared,
            },
            task,
        ))
    }

    /// The track the received stream feeds: give it to a producer; packets are dropped until
    /// it is attached.
    pub fn track(&self) -> Arc<FrameTrack> {
        self.track.clone()
    }

    /// The bound address, with the actual port when 0 was asked: where the sender sends.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> RtpIngestStats {
        self.shared.stats.lock().unwrap().clone()
    }
}

struct Receiver {
    track: Arc<FrameTrack>,
    shared: Arc<Shared>,
    restamper: Restamper,
    rtcp_port: Option<u16>,
    rtcp_from: Option<SocketAddr>,
    own_ssrc: u32,
    warned_size: bool,
}

impl Receiver {
    fn should_stop(&self) -> bool {
        self.shared.cancelled.load(Ordering::SeqCst) || self.track.ended()
    }

    async fn run(mut self, socket: std::net::UdpSocket) {
        let socket = match tokio::net::UdpSocket::from_std(socket) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("rtp ingest: cannot register the socket: {e}");
                self.track.end_source();
                return;
            }
        };
        let mut buf = vec![0u8; 65_536];
        let mut errors = 0u32;
        loop {
            if self.should_stop() {
                break;
            }
            if self.shared.keyframe_wanted.swap(false, Ordering::SeqCst) {
                self.send_pli(&socket).await;
            }
            tokio::select! {
                r = socket.recv_from(&mut buf) => match r {
                    Ok((n, from)) => {
                        errors = 0;
                        self.on_datagram(&buf[..n], from);
                    }
                    Err(e) => {
                        // e.g. an ICMP port unreachable after a PLI to a closed port
                        tracing::debug!("rtp ingest: receive error: {e}");
                        errors += 1;
                        if errors > 100 {
                            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                        }
                    }
                },
                _ = self.shared.wake.notified() => {}
            }
        }
        tracing::debug!("rtp ingest on {:?} closed", socket.local_addr());
    }

    fn on_datagram(&mut self, packet: &[u8], from: SocketAddr) {
        let mut stats = self.shared.stats.lock().unwrap();
        let header = match parse(packet) {
            Ok(Datagram::Rtp(h)) => h,
            Ok(Datagram::Rtcp) => {
                stats.rtcp_received += 1;
                self.rtcp_from = Some(from);
                return;
            }
            Err(reason) => {
                stats.packets_dropped += 1;
                tracing::debug!("rtp ingest: dropped a datagram from {from}: {reason}");
                return;
            }
        };
        stats.packets_received += 1;
        stats.bytes_received += packet.len() as u64;
        let (timestamp, new_sender) =
            self.restamper
                .restamp(header.ssrc, header.seq, header.timestamp, Instant::now());
        if new_sender {
            stats.senders += 1;
            stats.ssrc = Some(header.ssrc);
            if stats.sender.is_some_and(|s| s.ip() != from.ip()) {
                self.rtcp_from = None;
            }
            stats.sender = Some(from);
            tracing::debug!(
                ssrc = header.ssrc,
                payload_type = header.payload_type,
                %from,
                "rtp ingest: new sender"
            );
        }
        let payload = &packet[header.start..header.end];
        if payload.is_empty() {
            // padding only (bandwidth probing)
            stats.packets_dropped += 1;
            return;
        }
        if payload.len() > SAFE_PAYLOAD && !self.warned_size {
            self.warned_size = true;
            tracing::warn!(
                "rtp ingest: {}-byte RTP payloads may not fit the path once SRTP and header \
                 extensions are added: have the sender use payloads of at most {SAFE_PAYLOAD} \
                 bytes (ffmpeg -pkt_size 1200, GStreamer mtu=1200)",
                payload.len()
            );
        }
        let payload = Bytes::copy_from_slice(payload);
        match self.track.write_rtp(0, payload, timestamp, header.marker) {
            Ok(true) => stats.packets_forwarded += 1,
            Ok(false) | Err(MediaError::NotAttached) => stats.packets_dropped += 1,
            Err(e) => {
                stats.packets_dropped += 1;
                tracing::debug!("rtp ingest: {e}");
            }
        }
    }

    async fn send_pli(&mut self, socket: &tokio::net::UdpSocket) {
        let (ssrc, sender) = {
            let s = self.shared.stats.lock().unwrap();
            (s.ssrc, s.sender)
        };
        let target = match (self.rtcp_port, sender) {
            (Some(port), Some(sender)) => Some(SocketAddr::new(sender.ip(), port)),
            _ => self.rtcp_from,
        };
        let (Some(ssrc), Some(target)) = (ssrc, target) else {
            self.shared.stats.lock().unwrap().pli_unsent += 1;
            tracing::debug!("rtp ingest: keyframe request not passed on: no RTCP address");
            return;
        };
        match socket.send_to(&pli(self.own_ssrc, ssrc), target).await {
            Ok(_) => {
                self.shared.stats.lock().unwrap().pli_sent += 1;
                tracing::debug!(%target, ssrc, "rtp ingest: PLI sent");
            }
            Err(e) => {
                self.shared.stats.lock().unwrap().pli_unsent += 1;
                tracing::debug!(%target, "rtp ingest: PLI not sent: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fuzz;
