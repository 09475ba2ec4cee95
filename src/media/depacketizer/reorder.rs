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

use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};
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

#[derive(Debug)]
pub(super) struct ReorderBuffer {
    packets: BTreeMap<u64, Slot>,
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
            packets: BTreeMap::new(),
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
        if self.packets.contains_key(&ext) {
            return Inserted::Duplicate;
        }
        self.packets.insert(ext, slot);
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
        self.packets.len()
    }

    pub(super) fn peek(&self, ext: u64) -> Option<Peek> {
        self.packets.get(&ext).map(|s| Peek {
            timestamp: s.timestamp,
            marker: s.marker,
            start: s.start,
            padding: s.payload.is_empty(),
        })
    }

    pub(super) fn payload(&self, ext: u64) -> Option<&Bytes> {
        self.packets.get(&ext).map(|s| &s.payload)
    }

    /// Consumes everything before `to` (buffered packets there are dropped).
    pub(super) fn consume_to(&mut self, to: u64) {
        if to <= self.next {
            return;
        }
        while let Some(entry) = self.packets.first_entry() {
            if *entry.key() >= to {
                break;
            }
            entry.remove();
        }
        self.next = to;
        self.consumed = true;
        while self.marks.front().is_some_and(|&(ext, _)| ext < to) {
            self.marks.pop_front();
        }
    }

    /// The first buffered sequence number after `ext`.
    pub(super) fn present_after(&self, ext: u64) -> Option<u64> {
        self.packets.range(ext + 1..).next().map(|(&k, _)| k)
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
