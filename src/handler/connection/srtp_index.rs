//! A received SRTP stream's packet index and replay window (RFC 3711: the index from the
//! sequence number and the rollover counter, section 3.3.1 and appendix A; the window,
//! section 3.3.2), for the streams decrypted outside webrtc-rs (`srtp_gcm.rs`).
//!
//! The index is what the packet's nonce is made of: a packet whose index is guessed wrong
//! fails authentication. Only an authenticated packet moves the stream on ([`accept`]), so
//! that a forged datagram can neither advance the rollover counter nor use up the window.
//!
//! [`accept`]: StreamIndex::accept

/// Packets behind the highest index received that are still taken, each once (what
/// webrtc-rs' contexts keep).
const WINDOW: u64 = 64;

/// Half the sequence number space: how far a packet may be from the highest one for its
/// rollover counter to be told.
const HALF: u16 = 1 << 15;

/// One stream's received packets: the highest index and which of the [`WINDOW`] before it
/// came.
#[derive(Default)]
pub(super) struct StreamIndex {
    /// The highest index authenticated, once a packet was (the first one's rollover counter
    /// is 0, as every DTLS-SRTP stream starts).
    highest: Option<u64>,
    /// Bit `n` set: the packet of index `highest - n` was taken.
    taken: u64,
}

impl StreamIndex {
    /// The index of the packet with sequence number `seq`, or None when it must be refused:
    /// taken already, or further behind the highest than the window reaches.
    pub(super) fn index(&self, seq: u16) -> Option<u64> {
        let Some(highest) = self.highest else {
            return Some(u64::from(seq));
        };
        let rollovers = highest >> 16;
        let last = highest as u16;
        let rollovers = if last < HALF {
            // far ahead of a low sequence number: from before the last wrap
            if seq > last && seq - last > HALF {
                rollovers.checked_sub(1)?
            } else {
                rollovers
            }
        } else if last - HALF > seq {
            // far behind a high one: past the next wrap
            rollovers + 1
        } else {
            rollovers
        };
        let index = rollovers << 16 | u64::from(seq);
        if index > highest {
            return Some(index);
        }
        let behind = highest - index;
        (behind < WINDOW && self.taken >> behind & 1 == 0).then_some(index)
    }

    /// The packet of `index` ([`index`](Self::index)) was authenticated: it is taken, and the
    /// stream moves on when it is the highest.
    pub(super) fn accept(&mut self, index: u64) {
        match self.highest {
            Some(highest) if index <= highest => self.taken |= 1 << (highest - index),
            Some(highest) => {
                let ahead = index - highest;
                self.taken = if ahead >= WINDOW {
                    1
                } else {
                    self.taken << ahead | 1
                };
                self.highest = Some(index);
            }
            None => {
                self.taken = 1;
                self.highest = Some(index);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `seq` as a packet that authenticates would be: its index, or None if refused.
    fn take(stream: &mut StreamIndex, seq: u16) -> Option<u64> {
        let index = stream.index(seq)?;
        stream.accept(index);
        Some(index)
    }

    #[test]
    fn the_rollover_counter_follows_the_sequence_numbers_through_wraps() {
        let mut stream = StreamIndex::default();
        assert_eq!(take(&mut stream, 65_530), Some(65_530));
        assert_eq!(take(&mut stream, 65_535), Some(65_535));
        assert_eq!(take(&mut stream, 2), Some(65_536 + 2));
        // a packet from before the wrap, late
        assert_eq!(take(&mut stream, 65_533), Some(65_533));
        // further than half the space from the highest: from before the wrap, far behind
        assert_eq!(stream.index(40_000), None);
        assert_eq!(take(&mut stream, 30_000), Some(65_536 + 30_000));
        assert_eq!(take(&mut stream, 60_000), Some(65_536 + 60_000));
        assert_eq!(take(&mut stream, 1), Some(2 * 65_536 + 1));
        for seq in 2..=65_535u16 {
            take(&mut stream, seq).unwrap();
        }
        assert_eq!(take(&mut stream, 0), Some(3 * 65_536));
    }

    #[test]
    fn a_packet_is_taken_once_and_not_from_behind_the_window() {
        let mut stream = StreamIndex::default();
        for seq in 100..=200 {
            take(&mut stream, seq).unwrap();
        }
        assert_eq!(stream.index(200), None);
        assert_eq!(stream.index(150), None);
        // 137 is the oldest the window reaches
        let mut fresh = StreamIndex::default();
        take(&mut fresh, 200).unwrap();
        assert_eq!(fresh.index(137), Some(137));
        assert_eq!(fresh.index(136), None);
        // one that was skipped is taken late, once
        let mut gap = StreamIndex::default();
        take(&mut gap, 10).unwrap();
        take(&mut gap, 12).unwrap();
        assert_eq!(take(&mut gap, 11), Some(11));
        assert_eq!(gap.index(11), None);
        assert_eq!(gap.index(12), None);
    }

    #[test]
    fn only_accepted_packets_move_the_stream() {
        let mut stream = StreamIndex::default();
        take(&mut stream, 1000).unwrap();
        // guessed, never authenticated: the same index is still free, nothing moved
        assert_eq!(stream.index(1001), Some(1001));
        assert_eq!(stream.index(1001), Some(1001));
        assert_eq!(stream.index(1000), None);
        // a jump past the window forgets what was taken before it
        assert_eq!(take(&mut stream, 1200), Some(1200));
        assert_eq!(stream.index(1199), Some(1199));
        assert_eq!(stream.index(1000), None);
    }

    #[test]
    fn nothing_comes_from_before_the_first_rollover() {
        let mut stream = StreamIndex::default();
        take(&mut stream, 10).unwrap();
        // 65_500 would be from rollover -1
        assert_eq!(stream.index(65_500), None);
    }
}
