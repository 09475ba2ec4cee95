//! The packets of one SSRC kept for retransmission, and what a NACK (RFC 4585 generic NACK)
//! sends back: over RTX (RFC 4588) when it was negotiated, else the packet again as it was.
//!
//! As libwebrtc does, a packet is not sent again within one round trip of its last
//! retransmission (a NACK sent before that one arrived asks for it again), and each
//! retransmission must fit the connection's budget (`retransmission_budget.rs`).

use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use rtc::rtcp::transport_feedbacks::transport_layer_nack::NackPair;
use rtc::rtp;

use super::first_sequence::first_sequence_number;

/// What is kept of a sent packet: what its RTX packet needs, and its whole header only when
/// there is no RTX (then the packet goes again as it was). Kept small on purpose: the slot a
/// packet replaces was written 256 packets ago and is cold, so what it drops should be cheap.
struct Kept {
    sequence: u16,
    timestamp: u32,
    marker: bool,
    payload: Bytes,
    header: Option<rtp::header::Header>,
    /// When it was last retransmitted.
    resent: Option<Instant>,
}

/// The last `size` packets by sequence number (`size` a power of two).
pub(crate) struct NackHistory {
    slots: Vec<Option<Kept>>,
    mask: usize,
    /// The highest sequence number kept, once one was.
    highest: Option<u16>,
    /// RTX SSRC and payload type, when negotiated.
    rtx: Option<(u32, u8)>,
    rtx_sequence: u16,
}

impl NackHistory {
    pub(crate) fn new(size: u16, rtx: Option<(u32, u8)>) -> Self {
        let size = usize::from(size.max(1)).next_power_of_two();
        Self {
            slots: (0..size).map(|_| None).collect(),
            mask: size - 1,
            highest: None,
            rtx,
            rtx_sequence: first_sequence_number(),
        }
    }

    /// Keeps `packet` (sent just now).
    pub(crate) fn add(&mut self, packet: &rtp::Packet) {
        let seq = packet.header.sequence_number;
        match self.highest {
            Some(highest) => {
                let ahead = seq.wrapping_sub(highest);
                if ahead != 0 && ahead < 0x8000 {
                    // the sequence numbers skipped are not in the history any more
                    for skipped in 1..ahead.min(self.slots.len() as u16) {
                        self.slots[usize::from(highest.wrapping_add(skipped)) & self.mask] = None;
                    }
                    self.highest = Some(seq);
                }
            }
            None => self.highest = Some(seq),
        }
        self.slots[usize::from(seq) & self.mask] = Some(Kept {
            sequence: seq,
            timestamp: packet.header.timestamp,
            marker: packet.header.marker,
            payload: packet.payload.clone(),
            header: self.rtx.is_none().then(|| packet.header.clone()),
            resent: None,
        });
    }

    /// The slot of `seq`, when it is still kept.
    fn index(&self, seq: u16) -> Option<usize> {
        let highest = self.highest?;
        if usize::from(highest.wrapping_sub(seq)) >= self.slots.len() {
            return None;
        }
        let index = usize::from(seq) & self.mask;
        self.slots[index]
            .as_ref()
            .is_some_and(|k| k.sequence == seq)
            .then_some(index)
    }

    /// What answers the NACKed sequence numbers of `pairs` at `now`, in order: those still
    /// kept, not retransmitted within the last `round_trip`, and that `fits` (given the size of
    /// the packet to send; it counts what it lets through).
    pub(crate) fn answer(
        &mut self,
        now: Instant,
        round_trip: Duration,
        pairs: &[NackPair],
        mut fits: impl FnMut(usize) -> bool,
    ) -> Vec<rtp::Packet> {
        let mut out = Vec::new();
        for pair in pairs {
            let lost = std::iter::once(pair.packet_id).chain(
                (0..16u16)
                    .filter(|i| pair.lost_packets & (1 << i) != 0)
                    .map(|i| pair.packet_id.wrapping_add(i + 1)),
            );
            for seq in lost {
                let Some(original) = self.index(seq).and_then(|i| self.slots[i].as_mut()) else {
                    continue;
                };
                if original
                    .resent
                    .is_some_and(|at| now.saturating_duration_since(at) < round_trip)
                {
                    continue;
                }
                let size = match (self.rtx, &original.header) {
                    (Some(_), _) => 2 + original.payload.len(),
                    (None, Some(_)) => original.payload.len(),
                    (None, None) => continue,
                };
                if !fits(size) {
                    continue;
                }
                original.resent = Some(now);
                let packet = match (self.rtx, &original.header) {
                    (Some((ssrc, payload_type)), _) => {
                        let sequence = self.rtx_sequence;
                        self.rtx_sequence = sequence.wrapping_add(1);
                        rtx_packet(original, ssrc, payload_type, sequence)
                    }
                    (None, header) => rtp::Packet {
                        // kept whenever there is no RTX (see `add`)
                        header: header.clone().unwrap_or_default(),
                        payload: original.payload.clone(),
                    },
                };
                out.push(packet);
            }
        }
        out
    }
}

/// RFC 4588: the original sequence number before the original payload, on the RTX SSRC and
/// payload type with a sequence of its own; same timestamp and marker, no header extension.
fn rtx_packet(original: &Kept, ssrc: u32, payload_type: u8, sequence: u16) -> rtp::Packet {
    let mut payload = BytesMut::with_capacity(2 + original.payload.len());
    payload.put_u16(original.sequence);
    payload.put_slice(&original.payload);
    rtp::Packet {
        header: rtp::header::Header {
            version: 2,
            ssrc,
            payload_type,
            sequence_number: sequence,
            timestamp: original.timestamp,
            marker: original.marker,
            ..Default::default()
        },
        payload: Bytes::from(payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u16) -> rtp::Packet {
        rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                ssrc: 1,
                payload_type: 96,
                sequence_number: seq,
                timestamp: u32::from(seq) * 3000,
                marker: seq.is_multiple_of(2),
                ..Default::default()
            },
            payload: Bytes::from(vec![seq as u8; 10]),
        }
    }

    fn nack(packet_id: u16, lost_packets: u16) -> Vec<NackPair> {
        vec![NackPair {
            packet_id,
            lost_packets,
        }]
    }

    /// Every NACKed packet still kept, at a new time each call, with no budget.
    fn answer_all(history: &mut NackHistory, pairs: &[NackPair]) -> Vec<rtp::Packet> {
        history.answer(Instant::now(), Duration::ZERO, pairs, |_| true)
    }

    #[test]
    fn answers_over_rtx_with_the_original_sequence_number_first() {
        let mut history = NackHistory::new(8, Some((99, 97)));
        for seq in 100..105 {
            history.add(&packet(seq));
        }
        let out = answer_all(&mut history, &nack(101, 0b101)); // 101, 102 and 104
        assert_eq!(out.len(), 3);
        for (p, original) in out.iter().zip([101u16, 102, 104]) {
            assert_eq!(p.header.version, 2);
            assert_eq!(p.header.ssrc, 99);
            assert_eq!(p.header.payload_type, 97);
            assert_eq!(p.header.timestamp, u32::from(original) * 3000);
            assert_eq!(p.header.marker, original.is_multiple_of(2));
            assert_eq!(&p.payload[..2], &original.to_be_bytes());
            assert_eq!(&p.payload[2..], &[original as u8; 10][..]);
        }
        // RTX has a sequence of its own
        assert_eq!(
            out[1].header.sequence_number,
            out[0].header.sequence_number.wrapping_add(1)
        );
        assert_eq!(
            out[2].header.sequence_number,
            out[0].header.sequence_number.wrapping_add(2)
        );
    }

    #[test]
    fn without_rtx_the_packet_goes_again_as_it_was() {
        let mut history = NackHistory::new(8, None);
        history.add(&packet(7));
        let out = answer_all(&mut history, &nack(7, 0));
        assert_eq!(out, vec![packet(7)]);
    }

    #[test]
    fn only_the_last_packets_are_kept() {
        let mut history = NackHistory::new(4, None);
        for seq in 0..10 {
            history.add(&packet(seq));
        }
        let kept: Vec<u16> = answer_all(&mut history, &nack(0, 0xffff))
            .iter()
            .map(|p| p.header.sequence_number)
            .collect();
        assert_eq!(kept, vec![6, 7, 8, 9]);
    }

    #[test]
    fn a_gap_forgets_what_its_slots_held() {
        let mut history = NackHistory::new(8, None);
        history.add(&packet(65534));
        history.add(&packet(65535));
        // 0..2 never sent; across the wrap
        history.add(&packet(3));
        let answered: Vec<u16> = answer_all(&mut history, &nack(65534, 0b11111))
            .iter()
            .map(|p| p.header.sequence_number)
            .collect();
        assert_eq!(answered, vec![65534, 65535, 3]);
        // a far jump forgets everything before it
        history.add(&packet(1000));
        assert!(answer_all(&mut history, &nack(3, 0)).is_empty());
        assert_eq!(answer_all(&mut history, &nack(1000, 0)).len(), 1);
    }

    #[test]
    fn a_packet_goes_again_only_once_per_round_trip() {
        let mut history = NackHistory::new(8, Some((99, 97)));
        history.add(&packet(1));
        history.add(&packet(2));
        let rtt = Duration::from_millis(40);
        let t0 = Instant::now();
        let seqs = |out: Vec<rtp::Packet>| -> Vec<u16> {
            out.iter()
                .map(|p| u16::from_be_bytes([p.payload[0], p.payload[1]]))
                .collect()
        };
        assert_eq!(
            seqs(history.answer(t0, rtt, &nack(1, 0), |_| true)),
            vec![1]
        );
        // asked again before a round trip passed: only the packet not resent yet goes
        let t1 = t0 + Duration::from_millis(39);
        assert_eq!(
            seqs(history.answer(t1, rtt, &nack(1, 0b1), |_| true)),
            vec![2]
        );
        let t2 = t0 + rtt;
        assert_eq!(
            seqs(history.answer(t2, rtt, &nack(1, 0b1), |_| true)),
            vec![1]
        );
    }

    #[test]
    fn what_the_budget_refuses_is_not_sent_and_may_go_later() {
        let mut history = NackHistory::new(8, Some((99, 97)));
        for seq in 1..=3 {
            history.add(&packet(seq));
        }
        let t0 = Instant::now();
        let mut sizes = Vec::new();
        // room for one packet: 2 bytes of original sequence number and 10 of payload
        let mut room = 12;
        let out = history.answer(t0, Duration::from_secs(1), &nack(1, 0b11), |size| {
            sizes.push(size);
            let fits = size <= room;
            if fits {
                room -= size;
            }
            fits
        });
        assert_eq!(out.len(), 1);
        assert_eq!(&out[0].payload[..2], &1u16.to_be_bytes());
        assert_eq!(
            sizes,
            vec![12, 12, 12],
            "each packet is offered at its RTX size"
        );
        // the refused ones were not marked as sent: they go when there is room
        let out = history.answer(t0, Duration::from_secs(1), &nack(1, 0b11), |_| true);
        let seqs: Vec<u16> = out
            .iter()
            .map(|p| u16::from_be_bytes([p.payload[0], p.payload[1]]))
            .collect();
        assert_eq!(seqs, vec![2, 3]);
        // RTX sequence numbers follow on, with no gap for the refused packets
        assert_eq!(
            out[1].header.sequence_number,
            out[0].header.sequence_number.wrapping_add(1)
        );
    }
}
