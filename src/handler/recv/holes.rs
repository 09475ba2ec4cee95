//! The packets missing from one received stream, and when to ask the server for them again
//! (RFC 4585 generic NACK): each hole is asked for once per interval, a bounded number of
//! times, as long as it is recent enough to be worth repairing.

use std::collections::BTreeMap;

/// Sequence numbers behind the highest one that are still asked for: ~0.5 s of a 1 Mbps video
/// stream, longer than the frame assembler waits for a retransmission.
pub(crate) const LOG: u64 = 512;

/// The holes of one stream.
pub(crate) struct Holes {
    /// The highest sequence number seen, extended with its wraps (None before the first).
    highest: Option<u64>,
    /// Missing sequence numbers (extended) -> how many times they were asked for.
    missing: BTreeMap<u64, u16>,
    /// NACKs sent for the stream.
    nacks: u64,
}

impl Holes {
    pub(crate) fn new() -> Self {
        Holes {
            highest: None,
            missing: BTreeMap::new(),
            nacks: 0,
        }
    }

    /// A packet of the stream came (a retransmission already turned back into the packet it
    /// repairs). True when it opened a hole.
    pub(crate) fn packet(&mut self, sequence_number: u16) -> bool {
        let Some(highest) = self.highest else {
            // far from 0, so that earlier numbers extend without underflow
            self.highest = Some((1 << 32) + u64::from(sequence_number));
            return false;
        };
        let step = sequence_number.wrapping_sub(highest as u16) as i16;
        let extended = highest.wrapping_add_signed(i64::from(step));
        if extended <= highest {
            // late, or repaired
            self.missing.remove(&extended);
            return false;
        }
        self.highest = Some(extended);
        let oldest = extended.saturating_sub(LOG);
        for skipped in (highest + 1).max(oldest)..extended {
            self.missing.insert(skipped, 0);
        }
        // what fell out of the log is not asked for any more
        while self
            .missing
            .first_key_value()
            .is_some_and(|(&s, _)| s < oldest)
        {
            self.missing.pop_first();
        }
        extended > highest + 1
    }

    /// The sequence numbers to ask for now, each at most `limit` times in all; those asked
    /// for the last time are forgotten.
    pub(crate) fn ask(&mut self, limit: u16) -> Vec<u16> {
        let mut asked = Vec::with_capacity(self.missing.len());
        self.missing.retain(|&sequence, count| {
            asked.push(sequence as u16);
            *count += 1;
            *count < limit
        });
        if !asked.is_empty() {
            self.nacks += 1;
        }
        asked
    }

    /// How many times [`ask`](Self::ask) asked for something: the NACKs sent.
    pub(crate) fn nacks(&self) -> u64 {
        self.nacks
    }

    /// Whether a hole is still to be asked for.
    pub(crate) fn any(&self) -> bool {
        !self.missing.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hole_is_asked_for_until_repaired() {
        let mut h = Holes::new();
        assert!(!h.packet(10));
        assert!(!h.packet(11));
        assert!(!h.any());
        assert!(h.packet(14), "12 and 13 are missing");
        assert_eq!(h.ask(10), [12, 13]);
        assert_eq!(h.ask(10), [12, 13], "asked again until repaired");
        assert!(!h.packet(13), "a repair opens no hole");
        assert_eq!(h.ask(10), [12]);
        h.packet(12);
        assert!(!h.any());
        assert!(h.ask(10).is_empty());
        assert_eq!(h.nacks(), 3, "a NACK each time something was asked for");
    }

    #[test]
    fn each_hole_is_asked_for_a_limited_number_of_times() {
        let mut h = Holes::new();
        h.packet(1);
        h.packet(3);
        for _ in 0..3 {
            assert_eq!(h.ask(3), [2]);
        }
        assert!(!h.any());
        assert!(h.ask(3).is_empty());
    }

    #[test]
    fn holes_across_the_wrap() {
        let mut h = Holes::new();
        h.packet(65_534);
        h.packet(1);
        assert_eq!(h.ask(10), [65_535, 0]);
        // a late one from before the first packet is neither a hole nor a repair
        assert!(!h.packet(65_000));
        assert_eq!(h.ask(10), [65_535, 0]);
    }

    #[test]
    fn only_the_last_log_is_asked_for() {
        let mut h = Holes::new();
        h.packet(0);
        h.packet(2000);
        let asked = h.ask(10);
        assert_eq!(asked.len(), LOG as usize);
        assert_eq!(asked[0], (2000 - LOG) as u16);
        assert_eq!(*asked.last().unwrap(), 1999);
        // more packets push the older holes out (2000 itself came)
        h.packet(2100);
        let asked = h.ask(10);
        assert_eq!(asked.len(), LOG as usize - 1);
        assert_eq!(asked[0], (2100 - LOG) as u16);
    }
}
