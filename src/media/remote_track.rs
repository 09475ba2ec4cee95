//! [`RemoteTrack`]: what a consumer receives, for a program: whole encoded frames in order,
//! the raw RTP packets, keyframe requests.
//!
//! Behaviour a program can rely on:
//! - Packets go through the frame assembler (`depacketizer/`): frames come out whole, in
//!   order, a hole waited for while a retransmission may still repair it; video frames that
//!   cannot be decoded after an unrepaired loss are dropped until the next keyframe, which is
//!   asked for by itself (through the keyframe requester the consumer installs). While a
//!   program waits in [`RemoteTrack::wait_frames`], a hole is given up at its deadline even
//!   when no packet follows it (the stream stopped, or a loss NACK cannot repair).
//! - Frames are queued only while the program reads them ([`RemoteTrack::wait_frames`] was
//!   called and [`RemoteTrack::stop_reading`] not since); a reader joining a video stream
//!   already flowing starts at the next keyframe (one is asked for). The queue holds
//!   [`FRAME_QUEUE`] frames: a reader that falls that far behind loses whole frames, the
//!   newest, up to the next keyframe (video), and the loss is counted; a keyframe is asked for
//!   so that reading resumes soon.
//! - Raw packets likewise, while [`RemoteTrack::next_packets`] is being called, in a queue of
//!   [`RTP_QUEUE`] packets (the newest are dropped and counted beyond it).
//! - A frame's `timestamp_us` is the time since the track's first frame, from RTP timestamps
//!   (the convention of `writeFrame`); its time on the server's NTP clock comes from the
//!   server's sender reports once one arrived.
//! - While paused nothing is delivered; resuming asks for a keyframe (video).
//! - Once ended, readers get `None` and nothing else is delivered.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::Notify;

mod delivery;
mod taps;

use delivery::Armed;
pub use delivery::{defer_wakes, FrameDelivery, Ready, Take, Wake};
pub use taps::{ForwardTap, Recording};

use crate::depacketizer::{AssemblerOptions, FrameAssembler, ReceivedPacket};
use crate::{MediaError, MediaKind};

/// Frames kept for a reader that is behind: ~2 s of 30 fps video, ~1.3 s of Opus.
pub const FRAME_QUEUE: usize = 64;
/// Raw RTP packets kept for a reader that is behind.
pub const RTP_QUEUE: usize = 1024;
/// How long a hole is waited for when lost packets are asked for again (NACK/RTX): a few
/// round trips to any SFU worth receiving from.
pub const NACK_WAIT: Duration = Duration::from_millis(200);
/// How long a hole is waited for when nothing repairs it (Opus, no NACK): packets merely
/// reordered on the way.
pub const REORDER_WAIT: Duration = Duration::from_millis(40);

/// Keyframe requests closer together than this are merged into the first.
pub const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(300);

/// What a remote track carries (the consumer's codec and stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteTrackInfo {
    /// The track id: the consumer id.
    pub id: String,
    /// Audio or video.
    pub kind: MediaKind,
    /// The codec, e.g. `video/VP8`.
    pub mime_type: String,
    /// The codec's RTP clock rate.
    pub clock_rate: u32,
    /// Audio channels (Opus: 2).
    pub channels: Option<u8>,
    /// The codec's payload type in the stream.
    pub payload_type: u8,
    /// The codec's fmtp parameters, as `key=value;...`.
    pub fmtp: Option<String>,
    /// The stream's SSRC.
    pub ssrc: u32,
    /// Lost packets are asked for again (`nack` negotiated for the codec): the frame assembler
    /// waits [`NACK_WAIT`] for a hole, else only [`REORDER_WAIT`] for a late packet.
    pub nack: bool,
}

/// One whole encoded frame.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedFrame {
    /// The frame: VP8/VP9 frame (a VP9 superframe for several spatial layers), AV1 temporal
    /// unit (OBUs with size fields), H.264 access unit (Annex B), Opus packet.
    pub data: Bytes,
    /// Microseconds since the track's first frame, from the RTP timestamps.
    pub timestamp_us: u64,
    /// The RTP timestamp.
    pub rtp_timestamp: u32,
    /// A keyframe (every Opus packet is one).
    pub keyframe: bool,
    /// Spatial layer, where the payload format tells (VP9).
    pub spatial_layer: Option<u8>,
    /// Temporal layer, where the payload format tells (VP8, VP9).
    pub temporal_layer: Option<u8>,
    /// Packets were lost, not repaired, between the previous frame and this one.
    pub gap_before: bool,
    /// The frame's time on the sender's NTP clock, in milliseconds, from the server's sender
    /// reports; `None` before the first one. The same clock for every stream the server
    /// sends (what aligns audio and video), not necessarily the wall clock: mediasoup's runs
    /// from its own start.
    pub ntp_time_ms: Option<f64>,
}

/// Counters of a remote track.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteTrackStats {
    /// RTP packets received (retransmissions included, duplicates included).
    pub packets: u64,
    /// Their payload bytes.
    pub bytes: u64,
    /// Frames assembled.
    pub frames: u64,
    /// Frames the assembler discarded (incomplete, or undecodable after a loss).
    pub frames_dropped: u64,
    /// Frames a slow reader lost (its queue was full).
    pub frames_dropped_reader: u64,
    /// Packets never received in time.
    pub packets_lost: u64,
    /// Packets received twice.
    pub duplicates: u64,
    /// Raw packets a slow reader of `next_packets` lost.
    pub packets_dropped_reader: u64,
    /// Keyframe requests sent to the server.
    pub keyframe_requests: u64,
}

/// Asks the server for a keyframe (an RTCP PLI for the track's SSRC).
pub type KeyframeRequester = Box<dyn Fn() + Send + Sync>;

/// Something more that sees every frame (a recording).
pub trait FrameTap: Send {
    /// One whole frame, `extended_timestamp` being its RTP timestamp unwrapped.
    fn frame(&mut self, data: &[u8], extended_timestamp: u64, keyframe: bool);
}

/// Something more that sees every RTP packet (a forwarder).
pub trait PacketTap: Send + Sync {
    /// One RTP packet, header included, as received (RTX unwrapped).
    fn packet(&self, packet: &[u8]);
}

struct Inner {
    assembler: FrameAssembler,
    first_timestamp: Option<u64>,
    /// Last sender report: NTP time (64-bit) and its RTP time.
    sender_report: Option<(u64, u32)>,
    frames: Option<VecDeque<ReceivedFrame>>,
    /// The reader waits through a [`FrameDelivery`] (see `delivery.rs`).
    armed: Option<Armed>,
    /// A frame was dropped for a slow reader: video frames are dropped until a keyframe.
    reader_skipping: bool,
    packets: Option<VecDeque<Bytes>>,
    frame_taps: Vec<(u64, Box<dyn FrameTap>)>,
    packet_taps: Vec<(u64, Arc<dyn PacketTap>)>,
    next_tap: u64,
    paused: bool,
    ended: bool,
    last_keyframe_request: Option<Instant>,
    stats: RemoteTrackStats,
}

/// The track of a consumer. Shared: the receive path pushes packets in, readers take frames.
pub struct RemoteTrack {
    info: RemoteTrackInfo,
    inner: Mutex<Inner>,
    packets_ready: Notify,
    requester: Mutex<Option<KeyframeRequester>>,
    ended: AtomicBool,
}

impl RemoteTrack {
    /// A track for the stream `info` describes; fails for a codec without a depacketizer.
    pub fn new(info: RemoteTrackInfo) -> Result<Self, MediaError> {
        let options = AssemblerOptions {
            max_wait: if info.nack { NACK_WAIT } else { REORDER_WAIT },
            ..AssemblerOptions::default()
        };
        let assembler = FrameAssembler::new(&info.mime_type, options)?;
        Ok(RemoteTrack {
            info,
            inner: Mutex::new(Inner {
                assembler,
                first_timestamp: None,
                sender_report: None,
                frames: None,
                armed: None,
                reader_skipping: false,
                packets: None,
                frame_taps: Vec::new(),
                packet_taps: Vec::new(),
                next_tap: 0,
                paused: false,
                ended: false,
                last_keyframe_request: None,
                stats: RemoteTrackStats::default(),
            }),
            packets_ready: Notify::new(),
            requester: Mutex::new(None),
            ended: AtomicBool::new(false),
        })
    }

    /// What the track carries.
    pub fn info(&self) -> &RemoteTrackInfo {
        &self.info
    }

    /// Installs how keyframes are asked for.
    pub fn set_keyframe_requester(&self, requester: KeyframeRequester) {
        if let Ok(mut slot) = self.requester.lock() {
            *slot = Some(requester);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One RTP packet of the stream, with the fields the assembler needs (`raw` writes it
    /// back, header included, from its payload, for raw readers and taps).
    pub fn push_rtp(
        &self,
        now: Instant,
        sequence_number: u16,
        timestamp: u32,
        marker: bool,
        payload: Bytes,
        raw: impl FnOnce(&Bytes) -> Bytes,
    ) {
        let mut keyframe = false;
        let wake;
        let packets_ready = {
            let mut guard = self.lock();
            let inner = &mut *guard;
            if inner.ended || inner.paused {
                return;
            }
            inner.stats.packets += 1;
            inner.stats.bytes += payload.len() as u64;
            let mut packets_ready = false;
            if inner.packets.is_some() || !inner.packet_taps.is_empty() {
                let raw = raw(&payload);
                for (_, tap) in &inner.packet_taps {
                    tap.packet(&raw);
                }
                if let Some(queue) = &mut inner.packets {
                    if queue.len() < RTP_QUEUE {
                        queue.push_back(raw);
                        packets_ready = true;
                    } else {
                        inner.stats.packets_dropped_reader += 1;
                    }
                }
            }
            inner.assembler.handle_timeout(now);
            inner.assembler.push(
                now,
                ReceivedPacket {
                    sequence_number,
                    timestamp,
                    marker,
                    payload,
                },
            );
            let queued = self.take_frames(inner, &mut keyframe);
            keyframe |= inner.assembler.take_keyframe_request();
            wake = Self::arm_check(inner, queued);
            packets_ready
        };
        if let Some(delivery) = wake {
            delivery.wake();
        }
        if packets_ready {
            self.packets_ready.notify_one();
        }
        if keyframe {
            self.request_keyframe_at(now);
        }
    }

    /// Moves the frames the assembler completed to the taps and the reader's queue. True when
    /// the queue got one.
    fn take_frames(&self, inner: &mut Inner, keyframe_needed: &mut bool) -> bool {
        let mut queued = false;
        while let Some(frame) = inner.assembler.poll_frame() {
            inner.stats.frames += 1;
            for (_, tap) in &mut inner.frame_taps {
                tap.frame(&frame.data, frame.extended_timestamp, frame.keyframe);
            }
            let Some(queue) = &mut inner.frames else {
                continue;
            };
            let video = self.info.kind == MediaKind::Video;
            if inner.reader_skipping && !(frame.keyframe && queue.len() < FRAME_QUEUE) {
                inner.stats.frames_dropped_reader += 1;
                continue;
            }
            if queue.len() >= FRAME_QUEUE {
                inner.stats.frames_dropped_reader += 1;
                if video {
                    inner.reader_skipping = true;
                    *keyframe_needed = true;
                }
                continue;
            }
            inner.reader_skipping = false;
            let first = *inner
                .first_timestamp
                .get_or_insert(frame.extended_timestamp);
            let ticks = frame.extended_timestamp.saturating_sub(first);
            let timestamp_us =
                (ticks as u128 * 1_000_000 / self.info.clock_rate.max(1) as u128) as u64;
            let ntp_time_ms = inner.sender_report.map(|(ntp, rtp)| {
                ntp_ms(ntp) + rtp_delta_ms(frame.rtp_timestamp, rtp, self.info.clock_rate)
            });
            queue.push_back(ReceivedFrame {
                data: frame.data,
                timestamp_us,
                rtp_timestamp: frame.rtp_timestamp,
                keyframe: frame.keyframe,
                spatial_layer: frame.spatial_layer,
                temporal_layer: frame.temporal_layer,
                gap_before: frame.gap_before,
                ntp_time_ms,
            });
            queued = true;
        }
        queued
    }

    /// A sender report of the stream.
    pub fn sender_report(&self, ntp_time: u64, rtp_time: u32) {
        self.lock().sender_report = Some((ntp_time, rtp_time));
    }

    /// Gives up the holes waited for past their deadline at `now` (no packet may come to show
    /// it: the stream may have stopped), delivering the frames behind them.
    fn handle_timeout(&self, now: Instant) {
        let mut keyframe = false;
        let wake;
        {
            let mut guard = self.lock();
            let inner = &mut *guard;
            if inner.ended || inner.paused {
                return;
            }
            inner.assembler.handle_timeout(now);
            let ready = self.take_frames(inner, &mut keyframe);
            keyframe |= inner.assembler.take_keyframe_request();
            wake = Self::arm_check(inner, ready);
        }
        if let Some(delivery) = wake {
            delivery.wake();
        }
        if keyframe {
            self.request_keyframe_at(now);
        }
    }

    /// Starts queueing frames if nothing did; true when a keyframe must be asked for: a
    /// reader joining a video stream already flowing starts at a keyframe.
    fn start_reading(&self, inner: &mut Inner) -> bool {
        if inner.frames.is_some() {
            return false;
        }
        inner.frames = Some(VecDeque::new());
        let keyframe = self.info.kind == MediaKind::Video && inner.stats.frames > 0;
        inner.reader_skipping = keyframe;
        keyframe
    }

    /// The reader waits for frames through `delivery`: when frames are queued the track is
    /// listed in its ready list now ([`Take::Listed`]: no wake-up is sent for it, the caller
    /// takes the list), else it is armed ([`Take::Armed`]): the next frame queued (or the end)
    /// lists `key` and wakes the delivery if its list was empty. Either way the frames come
    /// from [`take_ready`](Self::take_ready). The first call starts queueing frames for the
    /// reader; while armed, a hole is given up at its deadline even if no packet follows.
    pub fn wait_frames(self: &Arc<Self>, delivery: &Arc<FrameDelivery>, key: u64) -> Take {
        let keyframe;
        let listed;
        {
            let mut guard = self.lock();
            let inner = &mut *guard;
            if inner.ended {
                return Take::Ended;
            }
            keyframe = self.start_reading(inner);
            inner.armed = Some(Armed {
                delivery: delivery.clone(),
                track: Arc::downgrade(self),
                key,
                scheduled: None,
            });
            // frames already queued list the track at once; else a pending deadline is
            // handled by the delivery from now on
            let _ = Self::arm_check(inner, false);
            listed = inner.armed.is_none();
        }
        if keyframe {
            self.request_keyframe();
        }
        if listed {
            Take::Listed
        } else {
            Take::Armed
        }
    }

    /// The frames of a track a [`FrameDelivery`] listed as ready: up to `max`; `None` once
    /// the track ended; none when the reader stopped meanwhile.
    pub fn take_ready(&self, max: usize) -> Option<Vec<ReceivedFrame>> {
        let mut inner = self.lock();
        if inner.ended {
            return None;
        }
        Some(Self::drain_queue(&mut inner, max).unwrap_or_default())
    }

    /// Puts frames taken by [`take_ready`](Self::take_ready) back at the head of the queue
    /// (the reader could not take them yet), before any queued since: the order stays.
    pub fn give_back(&self, frames: Vec<ReceivedFrame>) {
        let mut inner = self.lock();
        if let Some(queue) = &mut inner.frames {
            for frame in frames.into_iter().rev() {
                queue.push_front(frame);
            }
        }
    }

    fn drain_queue(inner: &mut Inner, max: usize) -> Option<Vec<ReceivedFrame>> {
        let queue = inner.frames.as_mut()?;
        if queue.is_empty() {
            return None;
        }
        let n = queue.len().min(max.max(1));
        Some(queue.drain(..n).collect())
    }

    /// After frames were queued (`queued`) or the assembler's deadline moved: an armed track
    /// with frames is listed (and disarmed), the delivery returned when it must be woken
    /// (outside the lock); an armed track without gets its new deadline scheduled.
    fn arm_check(inner: &mut Inner, queued: bool) -> Option<Arc<FrameDelivery>> {
        let armed = inner.armed.as_mut()?;
        let has_frames = queued || inner.frames.as_ref().is_some_and(|q| !q.is_empty());
        if has_frames {
            let armed = inner.armed.take()?;
            let first = armed.delivery.push_ready(armed.key, armed.track);
            return first.then_some(armed.delivery);
        }
        if inner.paused {
            return None;
        }
        if let Some(at) = inner.assembler.poll_timeout() {
            if armed.scheduled != Some(at) {
                armed.scheduled = Some(at);
                armed.delivery.schedule(at, armed.track.clone());
            }
        }
        None
    }

    /// A deadline the delivery scheduled for this track passed.
    fn deadline_passed(&self, now: Instant) {
        {
            let mut inner = self.lock();
            match &mut inner.armed {
                Some(armed) if armed.scheduled.is_some_and(|at| at <= now) => {
                    armed.scheduled = None;
                }
                // disarmed since, or rescheduled later
                _ => return,
            }
        }
        self.handle_timeout(now);
    }

    /// Stops queueing frames (the reader went away); what was queued is dropped.
    pub fn stop_reading(&self) {
        let mut inner = self.lock();
        inner.frames = None;
        inner.armed = None;
    }

    /// Up to `max` raw RTP packets, waiting for at least one; `None` once the track ended.
    /// The first call starts queueing packets.
    pub async fn next_packets(&self, max: usize) -> Option<Vec<Bytes>> {
        loop {
            let notified = self.packets_ready.notified();
            {
                let mut inner = self.lock();
                if inner.ended {
                    return None;
                }
                let queue = inner.packets.get_or_insert_with(VecDeque::new);
                if !queue.is_empty() {
                    let n = queue.len().min(max.max(1));
                    return Some(queue.drain(..n).collect());
                }
            }
            notified.await;
        }
    }

    /// Stops queueing raw packets.
    pub fn stop_reading_packets(&self) {
        self.lock().packets = None;
    }

    /// Adds a tap that sees every frame from now on; returns its id for [`remove_tap`].
    ///
    /// [`remove_tap`]: Self::remove_tap
    pub fn add_frame_tap(&self, tap: Box<dyn FrameTap>) -> u64 {
        let mut inner = self.lock();
        inner.next_tap += 1;
        let id = inner.next_tap;
        inner.frame_taps.push((id, tap));
        id
    }

    /// Adds a tap that sees every RTP packet from now on.
    pub fn add_packet_tap(&self, tap: Arc<dyn PacketTap>) -> u64 {
        let mut inner = self.lock();
        inner.next_tap += 1;
        let id = inner.next_tap;
        inner.packet_taps.push((id, tap));
        id
    }

    /// Removes a frame tap (returning it) or a packet tap.
    pub fn remove_tap(&self, id: u64) -> Option<Box<dyn FrameTap>> {
        let mut inner = self.lock();
        inner.packet_taps.retain(|(i, _)| *i != id);
        let at = inner.frame_taps.iter().position(|(i, _)| *i == id)?;
        Some(inner.frame_taps.remove(at).1)
    }

    /// Asks the server for a keyframe, unless one was asked for less than
    /// [`KEYFRAME_REQUEST_INTERVAL`] ago. True when a request was sent. Audio has no keyframes:
    /// false.
    pub fn request_keyframe(&self) -> bool {
        self.request_keyframe_at(Instant::now())
    }

    fn request_keyframe_at(&self, now: Instant) -> bool {
        if self.info.kind != MediaKind::Video {
            return false;
        }
        {
            let mut inner = self.lock();
            if inner.ended
                || inner
                    .last_keyframe_request
                    .is_some_and(|t| now.saturating_duration_since(t) < KEYFRAME_REQUEST_INTERVAL)
            {
                return false;
            }
            inner.last_keyframe_request = Some(now);
            inner.stats.keyframe_requests += 1;
        }
        if let Ok(requester) = self.requester.lock() {
            if let Some(request) = requester.as_ref() {
                request();
                return true;
            }
        }
        false
    }

    /// Pauses (nothing delivered) or resumes; resuming video asks for a keyframe.
    pub fn set_paused(&self, paused: bool) {
        let was = std::mem::replace(&mut self.lock().paused, paused);
        if was && !paused {
            self.request_keyframe();
        }
    }

    /// Whether the track is paused.
    pub fn paused(&self) -> bool {
        self.lock().paused
    }

    /// Ends the track: readers get `None`, taps are dropped (a recording is finished by
    /// dropping its tap), nothing else is delivered. True the first time.
    pub fn end(&self) -> bool {
        if self.ended.swap(true, Ordering::AcqRel) {
            return false;
        }
        let mut wake = None;
        let taps = {
            let mut inner = self.lock();
            inner.ended = true;
            if let Some(armed) = inner.armed.take() {
                // the reader learns of the end from the delivery
                if armed.delivery.push_ready(armed.key, armed.track) {
                    wake = Some(armed.delivery);
                }
            }
            inner.frames = None;
            inner.packets = None;
            inner.packet_taps.clear();
            std::mem::take(&mut inner.frame_taps)
        };
        drop(taps);
        if let Some(delivery) = wake {
            delivery.wake();
        }
        if let Ok(mut r) = self.requester.lock() {
            *r = None;
        }
        self.packets_ready.notify_waiters();
        true
    }

    /// Whether the track ended.
    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }

    /// The track's counters.
    pub fn stats(&self) -> RemoteTrackStats {
        let inner = self.lock();
        let assembler = inner.assembler.stats();
        RemoteTrackStats {
            frames_dropped: assembler.frames_dropped,
            packets_lost: assembler.packets_lost,
            duplicates: assembler.duplicates,
            ..inner.stats.clone()
        }
    }
}

/// A 64-bit NTP time (RFC 3550: seconds and fraction) in milliseconds.
fn ntp_ms(ntp: u64) -> f64 {
    let seconds = (ntp >> 32) as f64;
    let fraction = (ntp & 0xffff_ffff) as f64 / 4_294_967_296.0;
    (seconds + fraction) * 1000.0
}

/// Milliseconds from RTP time `from` to `to` (the nearest way round the 32-bit wrap).
fn rtp_delta_ms(to: u32, from: u32, clock_rate: u32) -> f64 {
    let delta = to.wrapping_sub(from) as i32;
    delta as f64 * 1000.0 / clock_rate.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_times_in_milliseconds() {
        let ntp = (12_345u64 << 32) | (1u64 << 31);
        assert_eq!(ntp_ms(ntp), 12_345_500.0);
        assert_eq!(rtp_delta_ms(90_000, 0, 90_000), 1000.0);
        assert_eq!(rtp_delta_ms(0, u32::MAX - 89_999, 90_000), 1000.0);
        assert_eq!(rtp_delta_ms(0, 90_000, 90_000), -1000.0);
    }

    pub(super) fn opus_track() -> RemoteTrack {
        RemoteTrack::new(RemoteTrackInfo {
            id: "t".into(),
            kind: MediaKind::Audio,
            mime_type: "audio/opus".into(),
            clock_rate: 48_000,
            channels: Some(2),
            payload_type: 100,
            fmtp: None,
            ssrc: 1,
            nack: false,
        })
        .unwrap()
    }

    pub(super) fn push_opus(track: &RemoteTrack, seq: u16) {
        let payload = Bytes::from(vec![0xf8, seq as u8]);
        track.push_rtp(
            Instant::now(),
            seq,
            u32::from(seq) * 960,
            true,
            payload,
            |_| Bytes::new(),
        );
    }
}

#[cfg(test)]
mod delivery_tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    use super::tests::push_opus;

    fn opus_track() -> Arc<RemoteTrack> {
        Arc::new(super::tests::opus_track())
    }

    /// A delivery counting its wake-ups (and signalling them), its timer running.
    fn delivery() -> (Arc<FrameDelivery>, Arc<AtomicUsize>, Arc<Notify>) {
        delivery_waking_every(Duration::ZERO)
    }

    fn delivery_waking_every(
        interval: Duration,
    ) -> (Arc<FrameDelivery>, Arc<AtomicUsize>, Arc<Notify>) {
        let wakes = Arc::new(AtomicUsize::new(0));
        let woken = Arc::new(Notify::new());
        let (delivery, timer) = FrameDelivery::new(
            {
                let wakes = wakes.clone();
                let woken = woken.clone();
                Box::new(move || {
                    wakes.fetch_add(1, Ordering::SeqCst);
                    woken.notify_one();
                })
            },
            interval,
        );
        tokio::spawn(timer);
        (delivery, wakes, woken)
    }

    fn data(frames: &[ReceivedFrame]) -> Vec<u8> {
        frames.iter().map(|f| f.data[1]).collect()
    }

    /// The keys listed, and the frames of each (None: ended).
    fn drain(delivery: &FrameDelivery, max: usize) -> Vec<(u64, Option<Vec<u8>>)> {
        delivery
            .take_ready()
            .into_iter()
            .map(|(key, track)| {
                let frames = track.upgrade().unwrap().take_ready(max);
                (key, frames.map(|f| data(&f)))
            })
            .collect()
    }

    // Many tracks become ready before the reader drains: one wake-up, each track listed once
    // in the order it became ready, each with all its frames in order.
    #[tokio::test]
    async fn tracks_ready_together_cost_one_wake_up_and_keep_their_order() {
        let (delivery, wakes, _) = delivery();
        let tracks: Vec<_> = (0..5).map(|_| opus_track()).collect();
        for (key, track) in tracks.iter().enumerate() {
            assert_eq!(track.wait_frames(&delivery, key as u64), Take::Armed);
        }
        for seq in 1..=3 {
            for track in tracks.iter().rev() {
                push_opus(track, seq);
            }
        }
        assert_eq!(wakes.load(Ordering::SeqCst), 1);
        let got = drain(&delivery, 8);
        let expected: Vec<_> = (0..5).rev().map(|k| (k, Some(vec![1, 2, 3]))).collect();
        assert_eq!(got, expected);
        assert!(delivery.take_ready().is_empty());
    }

    // Within a batch of reads the reader is not woken; it is woken once at the batch's end,
    // even when it drained in the middle and the list filled again.
    #[tokio::test]
    async fn a_batch_of_reads_wakes_the_reader_once_at_its_end() {
        let (delivery, wakes, _) = delivery();
        let (a, b) = (opus_track(), opus_track());
        assert_eq!(a.wait_frames(&delivery, 1), Take::Armed);
        assert_eq!(b.wait_frames(&delivery, 2), Take::Armed);
        let mut drained = Vec::new();
        defer_wakes(&mut || {
            push_opus(&a, 1);
            assert_eq!(wakes.load(Ordering::SeqCst), 0);
            drained.extend(drain(&delivery, 8));
            push_opus(&b, 1);
            assert_eq!(wakes.load(Ordering::SeqCst), 0);
        });
        assert_eq!(wakes.load(Ordering::SeqCst), 1);
        drained.extend(drain(&delivery, 8));
        assert_eq!(drained, [(1, Some(vec![1])), (2, Some(vec![1]))]);
        // outside a batch, at once again
        assert_eq!(a.wait_frames(&delivery, 1), Take::Armed);
        push_opus(&a, 2);
        assert_eq!(wakes.load(Ordering::SeqCst), 2);
    }

    // A track is listed only while its reader waits: frames coming while the reader is busy
    // stay in the track's bounded queue, listed when the reader waits again.
    #[tokio::test]
    async fn only_a_waiting_reader_is_listed() {
        let (delivery, wakes, _) = delivery();
        let track = opus_track();
        assert_eq!(track.wait_frames(&delivery, 7), Take::Armed);
        push_opus(&track, 1);
        assert_eq!(drain(&delivery, 8), [(7, Some(vec![1]))]);
        // the reader is busy: not listed again, nothing woken
        for seq in 2..=4 {
            push_opus(&track, seq);
        }
        assert_eq!(wakes.load(Ordering::SeqCst), 1);
        assert!(delivery.take_ready().is_empty());
        // it waits again: listed at once, without a wake-up; `max` at a time
        assert_eq!(track.wait_frames(&delivery, 7), Take::Listed);
        assert_eq!(drain(&delivery, 2), [(7, Some(vec![2, 3]))]);
        assert_eq!(track.wait_frames(&delivery, 7), Take::Listed);
        assert_eq!(drain(&delivery, 2), [(7, Some(vec![4]))]);
        assert_eq!(wakes.load(Ordering::SeqCst), 1);
        // nothing queued: armed, the next frame wakes
        assert_eq!(track.wait_frames(&delivery, 7), Take::Armed);
        push_opus(&track, 5);
        assert_eq!(wakes.load(Ordering::SeqCst), 2);
        assert_eq!(drain(&delivery, 8), [(7, Some(vec![5]))]);
        // a reader that does not come back keeps FRAME_QUEUE frames, the rest counted lost
        for seq in 6..(6 + FRAME_QUEUE as u16 + 10) {
            push_opus(&track, seq);
        }
        assert!(delivery.take_ready().is_empty());
        assert_eq!(track.stats().frames_dropped_reader, 10);
        assert_eq!(track.wait_frames(&delivery, 7), Take::Listed);
        let got = drain(&delivery, 2 * FRAME_QUEUE);
        assert_eq!(got[0].1.as_ref().map(|f| f.len()), Some(FRAME_QUEUE));
        // stopped reading: disarmed, nothing listed
        assert_eq!(track.wait_frames(&delivery, 7), Take::Armed);
        track.stop_reading();
        push_opus(&track, 200);
        assert!(delivery.take_ready().is_empty());
        assert_eq!(wakes.load(Ordering::SeqCst), 2);
    }

    // The last packets of a stream behind a hole: no later packet comes, yet the waiting
    // reader is woken with them once the hole's wait is over.
    #[tokio::test]
    async fn a_waiting_reader_gets_the_frames_behind_a_hole_when_no_packet_follows() {
        let (delivery, wakes, woken) = delivery();
        let track = opus_track();
        assert_eq!(track.wait_frames(&delivery, 1), Take::Armed);
        push_opus(&track, 1);
        woken.notified().await;
        assert_eq!(drain(&delivery, 8), [(1, Some(vec![1]))]);
        assert_eq!(track.wait_frames(&delivery, 1), Take::Armed);
        let start = Instant::now();
        // 2 is lost; 3 and 4 are the stream's last packets
        push_opus(&track, 3);
        push_opus(&track, 4);
        assert!(delivery.take_ready().is_empty());
        tokio::time::timeout(Duration::from_secs(2), woken.notified())
            .await
            .expect("woken at the hole's deadline");
        let waited = start.elapsed();
        assert!(
            waited >= REORDER_WAIT / 2 && waited < NACK_WAIT,
            "{waited:?}"
        );
        assert_eq!(wakes.load(Ordering::SeqCst), 2);
        let ready = delivery.take_ready();
        assert_eq!(ready.len(), 1);
        let frames = track.take_ready(8).unwrap();
        assert_eq!(data(&frames), [3, 4]);
        assert!(frames[0].gap_before && !frames[1].gap_before);
        assert_eq!(track.stats().packets_lost, 1);
    }

    // A waiting reader learns of the end from the delivery.
    #[tokio::test]
    async fn a_waiting_reader_is_woken_by_the_end() {
        let (delivery, wakes, _) = delivery();
        let track = opus_track();
        assert_eq!(track.wait_frames(&delivery, 3), Take::Armed);
        assert!(track.end());
        assert_eq!(wakes.load(Ordering::SeqCst), 1);
        assert_eq!(drain(&delivery, 8), [(3, None)]);
        assert_eq!(track.wait_frames(&delivery, 3), Take::Ended);
    }

    // Wake-ups are an interval apart: tracks that become ready sooner after one are woken
    // together at the interval's end, not each at once; after a quiet interval, at once.
    #[tokio::test]
    async fn wake_ups_closer_than_the_interval_are_put_off_and_joined() {
        let interval = Duration::from_millis(40);
        let (delivery, wakes, woken) = delivery_waking_every(interval);
        let tracks: Vec<_> = (0..3).map(|_| opus_track()).collect();
        assert_eq!(tracks[0].wait_frames(&delivery, 0), Take::Armed);
        push_opus(&tracks[0], 1);
        let first = Instant::now();
        assert_eq!(wakes.load(Ordering::SeqCst), 1);
        woken.notified().await;
        assert_eq!(drain(&delivery, 8), [(0, Some(vec![1]))]);
        for (key, track) in tracks.iter().enumerate() {
            assert_eq!(track.wait_frames(&delivery, key as u64), Take::Armed);
        }
        push_opus(&tracks[1], 1);
        push_opus(&tracks[0], 2);
        push_opus(&tracks[2], 1);
        assert_eq!(wakes.load(Ordering::SeqCst), 1, "put off");
        tokio::time::timeout(Duration::from_secs(2), woken.notified())
            .await
            .expect("woken at the interval's end");
        assert!(first.elapsed() >= interval, "{:?}", first.elapsed());
        assert_eq!(wakes.load(Ordering::SeqCst), 2);
        assert_eq!(
            drain(&delivery, 8),
            [(1, Some(vec![1])), (0, Some(vec![2])), (2, Some(vec![1]))]
        );
        // the list drained before the put-off wake-up is due: that wake-up is not made
        assert_eq!(tracks[0].wait_frames(&delivery, 0), Take::Armed);
        push_opus(&tracks[0], 3);
        assert_eq!(drain(&delivery, 8), [(0, Some(vec![3]))]);
        tokio::time::sleep(interval * 2).await;
        assert_eq!(wakes.load(Ordering::SeqCst), 2);
        // a quiet interval since the last wake-up: at once
        assert_eq!(tracks[0].wait_frames(&delivery, 0), Take::Armed);
        push_opus(&tracks[0], 4);
        assert_eq!(wakes.load(Ordering::SeqCst), 3);
        assert_eq!(drain(&delivery, 8), [(0, Some(vec![4]))]);
    }
}
