//! The receive side's frame assembler: the RTP packets of one stream (decrypted, RTX
//! unwrapped, in any order, duplicated, some lost, some repaired late) -> whole encoded frames,
//! in order. Pure: no I/O, no clock of its own (the caller passes `now`).
//!
//! | codec | payload format | frame out |
//! | --- | --- | --- |
//! | video/VP8 | RFC 7741 | descriptor stripped, partitions concatenated |
//! | video/VP9 | draft-ietf-payload-vp9 | descriptor stripped; a picture of several layer frames as one superframe |
//! | video/H264 | RFC 6184 (modes 0, 1) | an Annex B access unit (`00 00 00 01` before each NAL unit) |
//! | video/AV1 | AV1 RTP spec | a temporal unit: temporal delimiter, then OBUs with size fields |
//! | audio/opus | RFC 7587 | the payload |
//!
//! How packets become frames:
//! - A video frame is the packets with one RTP timestamp, contiguous in sequence number. Its
//!   first packet is known when its payload descriptor says it begins a frame, or when the
//!   packet before it ended the previous frame (marker bit, another timestamp, padding). Its
//!   last packet is known by the marker bit or by the next packet's other timestamp. A frame
//!   goes out as soon as it is complete and everything before it went out or was declared lost.
//! - A missing packet is waited for `max_wait` from the arrival of the first packet after it
//!   (time for a NACK to repair it), then declared lost; [`FrameAssembler::poll_timeout`] says
//!   when. When `max_packets` are buffered, the oldest hole is declared lost at once.
//! - Video cannot be decoded past an unrepaired loss or a malformed frame: frames are dropped
//!   until the next keyframe and one keyframe request is raised; that keyframe carries
//!   `gap_before` when packets were lost. Frames before the first keyframe are dropped the same
//!   way. Audio: every packet is a frame; a loss sets `gap_before` on the next one.
//! - At the very start, packets older than the first one received are accepted until
//!   something went out, and a first frame whose beginning is not known (or, for video, that
//!   is not a keyframe) waits `max_wait` for them.
//! - Empty payloads are padding: they take a sequence number and carry no media.

mod av1;
mod h264;
mod opus;
mod reorder;
mod vp8;
mod vp9;

use crate::MediaError;
use bytes::Bytes;
use reorder::{Inserted, ReorderBuffer, Slot};
use smallvec::SmallVec;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// One received RTP packet of the stream: header fields the assembler needs and the payload
/// (codec payload descriptor included, RTP header, extensions and padding excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedPacket {
    /// RTP sequence number.
    pub sequence_number: u16,
    /// RTP timestamp, in the codec's clock.
    pub timestamp: u32,
    /// RTP marker bit (video: last packet of a frame).
    pub marker: bool,
    /// The RTP payload; empty for a padding-only packet.
    pub payload: Bytes,
}

/// One whole encoded frame, out of [`FrameAssembler::poll_frame`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssembledFrame {
    /// The frame: a VP8 frame, a VP9 frame or superframe, an H.264 Annex B access unit, an AV1
    /// temporal unit in low-overhead bitstream format, an Opus packet.
    pub data: Bytes,
    /// The RTP timestamp of its packets.
    pub rtp_timestamp: u32,
    /// `rtp_timestamp` unwrapped across 32-bit wraps, relative to the previous frame handed
    /// out; the first frame's value is its `rtp_timestamp`.
    pub extended_timestamp: u64,
    /// A keyframe (decodable on its own). Always true for Opus.
    pub keyframe: bool,
    /// VP9: the highest spatial layer id (SID) in the picture, when the descriptor has layer
    /// indices. `None` for the other codecs.
    pub spatial_layer: Option<u8>,
    /// VP8: TID when the descriptor has it; VP9: TID when the descriptor has layer indices.
    /// `None` otherwise.
    pub temporal_layer: Option<u8>,
    /// Packets were lost (not repaired) between the previous frame handed out and this one.
    pub gap_before: bool,
    /// The sequence number of its first packet.
    pub first_sequence: u16,
    /// How many packets it was made of.
    pub packets: u16,
}

/// How long holes are waited for, and how many packets may be buffered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssemblerOptions {
    /// How long a missing packet is waited for (a NACK repair) before it is declared lost,
    /// counted from the arrival of the first packet after it. Default 200 ms.
    pub max_wait: Duration,
    /// The most packets buffered (and the most frames waiting in
    /// [`FrameAssembler::poll_frame`]); when more arrive, the oldest hole is declared lost at
    /// once. Default 2048; 0 counts as 1.
    pub max_packets: usize,
}

impl Default for AssemblerOptions {
    fn default() -> Self {
        AssemblerOptions {
            max_wait: Duration::from_millis(200),
            max_packets: 2048,
        }
    }
}

/// Counters since the assembler was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssemblerStats {
    /// Frames handed out.
    pub frames: u64,
    /// Frames discarded: incomplete, malformed, undecodable (after a loss, before a keyframe),
    /// or pushed out of a full output queue.
    pub frames_dropped: u64,
    /// Packets that never arrived in time.
    pub packets_lost: u64,
    /// Packets received twice while buffered.
    pub duplicates: u64,
    /// Packets that arrived after their place was declared lost or handed out.
    pub late: u64,
    /// Keyframe requests raised (see [`FrameAssembler::take_keyframe_request`]).
    pub keyframe_requests: u64,
}

/// The payloads of one frame, joined.
struct Parts {
    data: Bytes,
    keyframe: bool,
    spatial_layer: Option<u8>,
    temporal_layer: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    Vp8,
    Vp9,
    H264,
    Av1,
    Opus,
}

impl Codec {
    fn starts_frame(self, payload: &[u8]) -> bool {
        match self {
            Codec::Vp8 => vp8::starts_frame(payload),
            Codec::Vp9 => vp9::starts_frame(payload),
            Codec::H264 => h264::starts_frame(payload),
            Codec::Av1 => av1::starts_frame(payload),
            Codec::Opus => true,
        }
    }

    fn assemble(self, payloads: &[&Bytes]) -> Option<Parts> {
        match self {
            Codec::Vp8 => vp8::assemble(payloads),
            Codec::Vp9 => vp9::assemble(payloads),
            Codec::H264 => h264::assemble(payloads),
            Codec::Av1 => av1::assemble(payloads),
            Codec::Opus => opus::assemble(payloads),
        }
    }
}

/// What came just before the first packet not consumed yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// Nothing: the stream starts there (as far as is known).
    Start,
    /// A packet declared lost.
    Lost,
    /// A padding packet (it never sits inside a frame).
    Padding,
    /// A packet, handed out or discarded.
    Packet { timestamp: u32, marker: bool },
}

/// Whether a blocked assembler waits or gives up on what it waits for.
#[derive(Debug, Clone, Copy)]
enum Wait {
    Until(Option<Instant>),
    GiveUp,
}

/// RTP packets of one stream -> whole frames, in order (see the module documentation).
///
/// Drive it with [`push`](Self::push) for each packet, [`poll_frame`](Self::poll_frame) until
/// `None` after each push, and [`handle_timeout`](Self::handle_timeout) at
/// [`poll_timeout`](Self::poll_timeout). Never panics, whatever the packets.
#[derive(Debug)]
pub struct FrameAssembler {
    codec: Codec,
    max_wait: Duration,
    max_packets: usize,
    buffer: ReorderBuffer,
    prev: Prev,
    ready: VecDeque<AssembledFrame>,
    /// When the hole (or start) the assembler is blocked on stops being waited for.
    deadline: Option<Instant>,
    /// Video: frames are dropped until a keyframe.
    need_keyframe: bool,
    /// A keyframe request was raised for the current need.
    keyframe_requested: bool,
    /// A request not taken yet by `take_keyframe_request`.
    keyframe_request_pending: bool,
    /// Packets were declared lost since the last frame handed out.
    gap: bool,
    /// The timestamp of the last incomplete frame discarded (counted once).
    last_broken: Option<u32>,
    last_extended_timestamp: Option<u64>,
    stats: AssemblerStats,
}

impl FrameAssembler {
    /// An assembler for `mime_type` (case-insensitive: video/VP8, video/VP9, video/H264,
    /// video/AV1, audio/opus).
    pub fn new(mime_type: &str, options: AssemblerOptions) -> Result<Self, MediaError> {
        let codec = match mime_type.to_ascii_lowercase().as_str() {
            "video/vp8" => Codec::Vp8,
            "video/vp9" => Codec::Vp9,
            "video/h264" => Codec::H264,
            "video/av1" => Codec::Av1,
            "audio/opus" => Codec::Opus,
            _ => {
                return Err(MediaError::UnsupportedCodec {
                    mime_type: mime_type.to_string(),
                })
            }
        };
        let max_packets = options.max_packets.max(1);
        Ok(FrameAssembler {
            codec,
            max_wait: options.max_wait,
            max_packets,
            buffer: ReorderBuffer::new(max_packets),
            prev: Prev::Start,
            ready: VecDeque::new(),
            deadline: None,
            need_keyframe: codec != Codec::Opus,
            keyframe_requested: false,
            keyframe_request_pending: false,
            gap: false,
            last_broken: None,
            last_extended_timestamp: None,
            stats: AssemblerStats::default(),
        })
    }

    /// Takes one packet received at `now`. Frames it completes are ready in
    /// [`poll_frame`](Self::poll_frame).
    pub fn push(&mut self, now: Instant, packet: ReceivedPacket) {
        let start = !packet.payload.is_empty() && self.codec.starts_frame(&packet.payload);
        let slot = Slot {
            timestamp: packet.timestamp,
            marker: packet.marker,
            start,
            payload: packet.payload,
        };
        match self.buffer.insert(now, packet.sequence_number, slot) {
            Inserted::Stored => {}
            Inserted::Duplicate => self.stats.duplicates += 1,
            Inserted::Late => self.stats.late += 1,
        }
        self.advance(now, false);
        while self.buffer.len() > self.max_packets {
            self.advance(now, true);
        }
    }

    /// The next frame ready, in order.
    pub fn poll_frame(&mut self) -> Option<AssembledFrame> {
        self.ready.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must run: the deadline of the hole
    /// blocking the next frame. `None` when nothing is waited for.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// Declares lost the holes waited for past `max_wait` at `now`, and hands out what follows.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now, false);
    }

    /// True once per keyframe needed (video): decoding cannot go on without one (start of the
    /// stream, loss, malformed frame). The caller sends a PLI or FIR; it is raised again only
    /// after a keyframe went out, so a caller that gets no keyframe should repeat its request.
    pub fn take_keyframe_request(&mut self) -> bool {
        std::mem::take(&mut self.keyframe_request_pending)
    }

    /// The counters.
    pub fn stats(&self) -> AssemblerStats {
        self.stats
    }

    /// Packets buffered now.
    #[cfg(test)]
    pub(crate) fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Frames waiting in `poll_frame`.
    #[cfg(test)]
    pub(crate) fn ready_frames(&self) -> usize {
        self.ready.len()
    }

    #[cfg(test)]
    pub(crate) fn marks(&self) -> usize {
        self.buffer.marks()
    }

    fn video(&self) -> bool {
        self.codec != Codec::Opus
    }

    /// Whether to wait for `deadline` at `now`; `force` (the buffer is full) gives up once.
    fn wait(now: Instant, deadline: Option<Instant>, force: &mut bool) -> Wait {
        if std::mem::take(force) {
            return Wait::GiveUp;
        }
        match deadline {
            Some(d) if d <= now => Wait::GiveUp,
            d => Wait::Until(d),
        }
    }

    /// Hands out every frame that can go, declaring lost the holes past their deadline (and,
    /// with `force`, the first thing waited for whatever its deadline).
    fn advance(&mut self, now: Instant, mut force: bool) {
        self.deadline = None;
        'frames: loop {
            let next = self.buffer.next();
            let Some(highest) = self.buffer.highest() else {
                return;
            };
            if next > highest {
                return;
            }
            let Some(head) = self.buffer.peek(next) else {
                // A hole at the head; the highest packet is buffered, so the hole ends.
                let end = self.buffer.present_after(next).unwrap_or(highest);
                let deadline = self.buffer.hole_deadline(next, self.max_wait);
                match Self::wait(now, deadline, &mut force) {
                    Wait::GiveUp => {
                        self.declare_lost(next, end);
                        continue;
                    }
                    Wait::Until(d) => {
                        self.deadline = d;
                        return;
                    }
                }
            };
            if head.padding {
                self.buffer.consume_to(next + 1);
                self.prev = Prev::Padding;
                continue;
            }
            let begins = !self.video()
                || head.start
                || match self.prev {
                    Prev::Padding => true,
                    Prev::Packet { timestamp, marker } => marker || timestamp != head.timestamp,
                    Prev::Start | Prev::Lost => false,
                };
            if !begins {
                if self.prev == Prev::Start {
                    let deadline = self.buffer.start_deadline(self.max_wait);
                    if let Wait::Until(d) = Self::wait(now, deadline, &mut force) {
                        self.deadline = d;
                        return;
                    }
                }
                self.discard(next);
                continue;
            }

            // The frame's last packet.
            let mut end = next;
            let mut last = head;
            while self.video() && !last.marker {
                match self.buffer.peek(end + 1) {
                    Some(p) if p.padding || p.timestamp != head.timestamp => break,
                    Some(p) => {
                        end += 1;
                        last = p;
                    }
                    None if end + 1 > highest => {
                        // The next packet has not come yet: nothing known to be missing.
                        if std::mem::take(&mut force) {
                            self.discard(end);
                            continue 'frames;
                        }
                        return;
                    }
                    None => {
                        let deadline = self.buffer.hole_deadline(end + 1, self.max_wait);
                        match Self::wait(now, deadline, &mut force) {
                            Wait::GiveUp => {
                                self.discard(end);
                                let hole_end =
                                    self.buffer.present_after(end + 1).unwrap_or(highest);
                                self.declare_lost(end + 1, hole_end);
                                continue 'frames;
                            }
                            Wait::Until(d) => {
                                self.deadline = d;
                                return;
                            }
                        }
                    }
                }
            }

            // borrowed from the buffer, which drops them below: a frame of several packets
            // is copied out of them, one of one packet shares its payload
            let parts = {
                let payloads: SmallVec<[&Bytes; 8]> = (next..=end)
                    .filter_map(|e| self.buffer.payload(e))
                    .collect();
                self.codec.assemble(&payloads)
            };
            if self.prev == Prev::Start
                && self.video()
                && !parts.as_ref().is_some_and(|p| p.keyframe)
            {
                // Something older, maybe a keyframe, may still come.
                let deadline = self.buffer.start_deadline(self.max_wait);
                if let Wait::Until(d) = Self::wait(now, deadline, &mut force) {
                    self.deadline = d;
                    return;
                }
            }
            self.buffer.consume_to(end + 1);
            self.prev = Prev::Packet {
                timestamp: head.timestamp,
                marker: last.marker,
            };
            let packets = u16::try_from(end - next + 1).unwrap_or(u16::MAX);
            self.finish(parts, head.timestamp, next as u16, packets);
        }
    }

    /// Packets `next..=to` (of one timestamp) are an incomplete frame or the rest of one:
    /// they are dropped, and counted as one frame unless they continue the one dropped last.
    fn discard(&mut self, to: u64) {
        let Some(p) = self.buffer.peek(to) else {
            self.buffer.consume_to(to + 1);
            return;
        };
        self.buffer.consume_to(to + 1);
        let continued = self.last_broken == Some(p.timestamp)
            && match self.prev {
                Prev::Packet { timestamp, marker } => timestamp == p.timestamp && !marker,
                Prev::Lost => true,
                Prev::Start | Prev::Padding => false,
            };
        if !continued {
            self.stats.frames_dropped += 1;
        }
        self.last_broken = Some(p.timestamp);
        self.prev = Prev::Packet {
            timestamp: p.timestamp,
            marker: p.marker,
        };
        self.lose_decodability();
    }

    /// Sequence numbers `from..to` never came.
    fn declare_lost(&mut self, from: u64, to: u64) {
        self.stats.packets_lost += to.saturating_sub(from);
        self.buffer.consume_to(to);
        self.prev = Prev::Lost;
        self.gap = true;
        self.lose_decodability();
    }

    /// Video: what follows cannot be decoded before a keyframe.
    fn lose_decodability(&mut self) {
        if !self.video() {
            return;
        }
        self.need_keyframe = true;
        if !self.keyframe_requested {
            self.keyframe_requested = true;
            self.keyframe_request_pending = true;
            self.stats.keyframe_requests += 1;
        }
    }

    fn finish(&mut self, parts: Option<Parts>, timestamp: u32, first_sequence: u16, packets: u16) {
        let Some(parts) = parts else {
            self.stats.frames_dropped += 1;
            self.lose_decodability();
            return;
        };
        if self.need_keyframe && self.video() {
            if !parts.keyframe {
                self.stats.frames_dropped += 1;
                self.lose_decodability();
                return;
            }
            self.need_keyframe = false;
            self.keyframe_requested = false;
        }
        let extended_timestamp = match self.last_extended_timestamp {
            None => u64::from(timestamp),
            Some(last) => {
                let delta = timestamp.wrapping_sub(last as u32) as i32;
                last.checked_add_signed(i64::from(delta)).unwrap_or(0)
            }
        };
        self.last_extended_timestamp = Some(extended_timestamp);
        self.ready.push_back(AssembledFrame {
            data: parts.data,
            rtp_timestamp: timestamp,
            extended_timestamp,
            keyframe: parts.keyframe,
            spatial_layer: parts.spatial_layer,
            temporal_layer: parts.temporal_layer,
            gap_before: std::mem::take(&mut self.gap),
            first_sequence,
            packets,
        });
        self.stats.frames += 1;
        if self.ready.len() > self.max_packets {
            // Nobody polls: the oldest frame goes, and what follows it cannot be decoded.
            self.ready.pop_front();
            self.stats.frames -= 1;
            self.stats.frames_dropped += 1;
            if let Some(front) = self.ready.front_mut() {
                front.gap_before = true;
            }
            self.lose_decodability();
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fuzz;
