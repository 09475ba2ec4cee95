//! The packets of one RTP stream by extended (64-bit) sequence number, with what is needed to
//! tell how long a hole has been waited for.
//!
//! - Sequence numbers are unwrapped against the highest one seen: a packet is taken to be the
//!   nearest of its 16-bit value's candidates (at most 32767 behind or 32768 ahead), so wraps
//!   at 65535 are invisible to the caller. The first packet gets 2^32 + its 16-bit value, so
//!   that earlier packets never underflow.
//! - `next` is the first sequence number not yet consumed: everything before it was handed out
//!   or declared lost. Until something is consumed, a packet older than the first one received
//!   (reordered at the very start) moves `next` back, within `window` packets of the highest.
//! - A missing sequence number is known to be missing from the arrival of the first packet
//!   after it: each packet that raises the highest sequence number leaves a mark (its number,
//!   its arrival time), and a hole's wait starts at the first mark beyond it. Marks before
//!   `next` are dropped, so there are never more marks than buffered packets plus one.
//! - The packets sit in a ring of slots by sequence number from `base`, the oldest slot kept:
//!   a packet is found by its distance from `base`, with no search and no allocation per packet
//!   (a map by sequence number allocated and searched nodes for each). The ring spans from
//!   `base` to the highest packet buffered; after a jump ahead it holds the hole's empty slots
//!   until they are consumed, and gives its room back once it is empty.

use bytes::Bytes;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// One buffered packet, with what its payload descriptor says about frame boundaries.
#[derive(Debug)]
pub(super) struct Slot {
    pub(super) timestamp: u32,
    pub(super) marker: bool,
    /// The payload descriptor says this packet begins a frame (see each codec's `starts_frame`).
    pub(super) start: bool,
    /// Empty for a padding packet: it takes a sequence number but carries no media.
    pub(super) payload: Bytes,
}

/// What [`Slot`] says about boundaries, without the payload.
#[derive(Debug, Clone, Copy)]
pub(super) struct Peek {
    pub(super) timestamp: u32,
    pub(super) marker: bool,
    pub(super) start: bool,
    pub(super) padding: bool,
}

/// What became of an inserted packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Inserted {
    Stored,
    /// Already buffered.
    Duplicate,
    /// Its place was already consumed (handed out or declared lost).
    Late,
}

/// Slots a ring keeps room for once it is empty again (more were needed for a jump ahead).
const KEPT_ROOM: usize = 256;

#[derive(Debug)]
pub(super) struct ReorderBuffer {
    /// Slot `i` holds packet `base + i`, if it is buffered.
    slots: VecDeque<Option<Slot>>,
    base: u64,
    /// Packets buffered (slots holding one).
    count: usize,
    marks: VecDeque<(u64, Instant)>,
    highest: Option<u64>,
    next: u64,
    consumed: bool,
    first_arrival: Option<Instant>,
    window: u64,
}

impl ReorderBuffer {
    /// `window`: how far back from the highest sequence number a packet may move `next` before
    /// anything was consumed.
    pub(super) fn new(window: usize) -> Self {
        ReorderBuffer {
            slots: VecDeque::new(),
            base: 0,
            count: 0,
            marks: VecDeque::new(),
            highest: None,
            next: 0,
            consumed: false,
            first_arrival: None,
            window: window as u64,
        }
    }

    pub(super) fn insert(&mut self, now: Instant, sequence_number: u16, slot: Slot) -> Inserted {
        let ext = match self.highest {
            None => {
                let ext = (1u64 << 32) + u64::from(sequence_number);
                self.highest = Some(ext);
                self.next = ext;
                self.first_arrival = Some(now);
                self.marks.push_back((ext, now));
                ext
            }
            Some(highest) => {
                let delta = sequence_number.wrapping_sub(highest as u16) as i16;
                let ext = highest.wrapping_add_signed(i64::from(delta));
                if ext > highest {
                    self.highest = Some(ext);
                    self.marks.push_back((ext, now));
                }
                ext
            }
        };
        if ext < self.next {
            let highest = self.highest.unwrap_or(ext);
            if self.consumed || highest - ext >= self.window {
                return Inserted::Late;
            }
            self.next = ext;
        }
        if self.slots.is_empty() {
            self.base = ext;
        }
        if ext < self.base {
            // older than any buffered: a hole's, or (before anything was consumed, within
            // `window`) one from before the first packet
            for _ in ext..self.base {
                self.slots.push_front(None);
            }
            self.base = ext;
        }
        let at = (ext - self.base) as usize;
        if at >= self.slots.len() {
            self.slots.resize_with(at + 1, || None);
        }
        if self.slots[at].is_some() {
            return Inserted::Duplicate;
        }
        self.slots[at] = Some(slot);
        self.count += 1;
        Inserted::Stored
    }

    /// The first sequence number not consumed yet.
    pub(super) fn next(&self) -> u64 {
        self.next
    }

    /// The highest sequence number received, if any.
    pub(super) fn highest(&self) -> Option<u64> {
        self.highest
    }

    pub(super) fn len(&self) -> usize {
        self.count
    }

    fn slot(&self, ext: u64) -> Option<&Slot> {
        let at = usize::try_from(ext.checked_sub(self.base)?).ok()?;
        self.slots.get(at)?.as_ref()
    }

    pub(super) fn peek(&self, ext: u64) -> Option<Peek> {
        self.slot(ext).map(|s| Peek {
            timestamp: s.timestamp,
            marker: s.marker,
            start: s.start,
            padding: s.payload.is_empty(),
        })
    }

    pub(super) fn payload(&self, ext: u64) -> Option<&Bytes> {
        self.slot(ext).map(|s| &s.payload)
    }

    /// Consumes everything before `to` (buffered packets there are dropped).
    pub(super) fn consume_to(&mut self, to: u64) {
        if to <= self.next {
            return;
        }
        while self.base < to {
            match self.slots.pop_front() {
                Some(slot) => {
                    self.count -= usize::from(slot.is_some());
                    self.base += 1;
                }
                None => {
                    self.base = to;
                    break;
                }
            }
        }
        if self.slots.is_empty() && self.slots.capacity() > KEPT_ROOM {
            self.slots.shrink_to(KEPT_ROOM);
        }
        self.next = to;
        self.consumed = true;
        while self.marks.front().is_some_and(|&(ext, _)| ext < to) {
            self.marks.pop_front();
        }
    }

    /// The first buffered sequence number after `ext`.
    pub(super) fn present_after(&self, ext: u64) -> Option<u64> {
        let from = (ext + 1).max(self.base);
        let skip = usize::try_from(from - self.base).ok()?;
        let at = self.slots.iter().skip(skip).position(Option::is_some)?;
        Some(from + at as u64)
    }

    /// When the hole at `ext` stops being waited for: `max_wait` after a later packet showed it
    /// missing. `None`: never (no later packet yet, or the instant is not representable).
    pub(super) fn hole_deadline(&self, ext: u64, max_wait: Duration) -> Option<Instant> {
        let i = self.marks.partition_point(|&(mark, _)| mark <= ext);
        let (_, seen) = self.marks.get(i)?;
        seen.checked_add(max_wait)
    }

    /// Until when packets older than the first one received are waited for.
    pub(super) fn start_deadline(&self, max_wait: Duration) -> Option<Instant> {
        self.first_arrival?.checked_add(max_wait)
    }

    #[cfg(test)]
    pub(super) fn marks(&self) -> usize {
        self.marks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(timestamp: u32) -> Slot {
        Slot {
            timestamp,
            marker: false,
            start: true,
            payload: Bytes::from_static(b"x"),
        }
    }

    #[test]
    fn packets_are_found_across_a_jump_and_the_ring_gives_its_room_back() {
        let mut buffer = ReorderBuffer::new(64);
        let now = Instant::now();
        assert_eq!(buffer.insert(now, 100, slot(1)), Inserted::Stored);
        let first = buffer.next();
        buffer.consume_to(first + 1);
        // a jump 10,000 ahead, then a packet of the hole it left
        assert_eq!(buffer.insert(now, 10_101, slot(3)), Inserted::Stored);
        assert_eq!(buffer.insert(now, 5_000, slot(2)), Inserted::Stored);
        assert_eq!(buffer.insert(now, 5_000, slot(2)), Inserted::Duplicate);
        assert_eq!(buffer.len(), 2);
        assert_eq!(buffer.present_after(first), Some(first + 4_900));
        assert_eq!(buffer.present_after(first + 4_900), Some(first + 10_001));
        assert_eq!(buffer.present_after(first + 10_001), None);
        assert_eq!(buffer.peek(first + 4_900).unwrap().timestamp, 2);
        assert!(buffer.peek(first + 4_901).is_none());
        assert!(buffer.peek(first).is_none());
        buffer.consume_to(first + 4_901);
        assert_eq!(buffer.len(), 1);
        assert_eq!(
            buffer.payload(first + 10_001).map(|p| &p[..]),
            Some(&b"x"[..])
        );
        buffer.consume_to(first + 10_002);
        assert_eq!(buffer.len(), 0);
        assert!(
            buffer.slots.capacity() < 1_000,
            "{}",
            buffer.slots.capacity()
        );
        // consumed already
        assert_eq!(buffer.insert(now, 10_101, slot(3)), Inserted::Late);
        assert_eq!(buffer.insert(now, 10_102, slot(4)), Inserted::Stored);
        assert_eq!(buffer.peek(first + 10_002).unwrap().timestamp, 4);
    }
}
