//! The one interceptor of a sending connection, in place of webrtc-rs' NACK responder, TWCC
//! sender and sender-report interceptors plus ours: the same work in one pass per packet.
//!
//! Why: webrtc-rs' chain moves every packet through a queue in each interceptor, allocates a
//! queue per packet and looks the SSRC up in each, a cost per packet and per interceptor
//! (`docs/performance.md#one-interceptor`).
//!
//! Per outgoing RTP packet of a bound SSRC:
//! - the transport-wide sequence number (one counter per connection) when transport-cc was
//!   negotiated for it;
//! - kept for NACKs when `nack` was negotiated ([`NackHistory`]);
//! - counted for its sender reports ([`SenderCounters`], one per second per SSRC).
//!
//! Per incoming RTCP: NACKs answered (over RTX when negotiated) within the connection's
//! [`RetransmissionBudget`] and not twice within a round trip, which the receiver reports give
//! against our sender reports; the rest of the feedback to the writers ([`Feedback`]: keyframe
//! requests, counters).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::interceptor::{
    Attribute, AttributedPacket, Interceptor, Packet, StreamInfo, TaggedPacket,
};
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack;
use rtc::sansio::Protocol;
use rtc::shared::error::Error;
use rtc::shared::TransportContext;

use super::feedback::Feedback;
use super::nack_history::NackHistory;
use super::retransmission_budget::RetransmissionBudget;
use super::sender_report::{SenderCounters, REPORT_INTERVAL};
use crate::extensions::{extension_id, TRANSPORT_CC_URI};
use crate::ssrc_map::SsrcMap;

/// Every 16-bit sequence number's two big-endian bytes, so that stamping one on a packet
/// takes a slice of this instead of an allocation.
static SEQUENCE_BYTES: [u8; 1 << 17] = {
    let mut table = [0u8; 1 << 17];
    let mut i = 0;
    while i < 1 << 16 {
        table[2 * i] = (i >> 8) as u8;
        table[2 * i + 1] = i as u8;
        i += 1;
    }
    table
};

fn sequence_bytes(seq: u16) -> Bytes {
    let at = 2 * usize::from(seq);
    Bytes::from_static(&SEQUENCE_BYTES[at..at + 2])
}

/// Stamps the next transport-wide sequence number of `counter` on `packet`, as extension `id`.
fn stamp_transport_sequence(counter: &mut u16, packet: &mut rtc::rtp::Packet, id: u8) {
    let seq = *counter;
    *counter = seq.wrapping_add(1);
    let _ = packet.header.set_extension(id, sequence_bytes(seq));
}

struct LocalStream {
    /// The transport-cc header extension id, when negotiated.
    twcc_id: Option<u8>,
    nack: Option<NackHistory>,
    report: SenderCounters,
}

pub(crate) struct OutboundInterceptor {
    feedback: Feedback,
    nack_history: u16,
    streams: SsrcMap<LocalStream>,
    twcc_sequence: u16,
    next_report: Option<Instant>,
    budget: RetransmissionBudget,
    /// The round trip, smoothed, once a receiver report gave one.
    round_trip: Option<Duration>,
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
}

impl OutboundInterceptor {
    /// `nack_history`: packets kept per SSRC for NACKs (rounded up to a power of two).
    pub(crate) fn new(feedback: Feedback, nack_history: u16) -> Self {
        Self {
            feedback,
            nack_history,
            streams: SsrcMap::default(),
            twcc_sequence: 0,
            next_report: None,
            budget: RetransmissionBudget::new(Instant::now()),
            round_trip: None,
            read_queue: VecDeque::new(),
            write_queue: VecDeque::new(),
        }
    }

    fn rtcp_packet(now: Instant, packets: Vec<Box<dyn rtc::rtcp::Packet>>) -> TaggedPacket {
        TaggedPacket {
            now,
            transport: TransportContext::default(),
            message: AttributedPacket::new(Packet::Rtcp(packets)),
        }
    }

    fn answer_nack(&mut self, now: Instant, nack: &TransportLayerNack) {
        let Some(stream) = self.streams.get_mut(&nack.media_ssrc) else {
            return;
        };
        let twcc_id = stream.twcc_id;
        let Some(history) = stream.nack.as_mut() else {
            return;
        };
        let budget = &mut self.budget;
        let round_trip = self.round_trip.unwrap_or_default();
        for mut packet in history.answer(now, round_trip, &nack.nacks, |size| {
            budget.try_resend(now, size)
        }) {
            // a retransmission is a new packet on the transport: it gets its own number
            if let Some(id) = twcc_id {
                stamp_transport_sequence(&mut self.twcc_sequence, &mut packet, id);
            }
            self.write_queue.push_back(TaggedPacket {
                now,
                transport: TransportContext::default(),
                message: AttributedPacket::new(Packet::Rtp(packet)).with(Attribute::Retransmission),
            });
        }
    }

    /// The round trips our sent streams' reception reports give, into the smoothed one.
    fn observe_reports(&mut self, now: Instant, rr: &ReceiverReport) {
        for block in &rr.reports {
            let Some(stream) = self.streams.get(&block.ssrc) else {
                continue;
            };
            let Some(sample) = stream
                .report
                .round_trip(now, block.last_sender_report, block.delay)
            else {
                continue;
            };
            tracing::trace!(
                ssrc = block.ssrc,
                ?sample,
                "round trip from a receiver report"
            );
            // as TCP smooths its round trip (RFC 6298): an eighth of each new sample
            self.round_trip = Some(match self.round_trip {
                Some(smoothed) => (smoothed * 7 + sample) / 8,
                None => sample,
            });
        }
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for OutboundInterceptor {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            self.feedback.observe_rtcp(packets);
            for packet in packets {
                let any = packet.as_any();
                if let Some(nack) = any.downcast_ref::<TransportLayerNack>() {
                    self.answer_nack(msg.now, nack);
                } else if let Some(rr) = any.downcast_ref::<ReceiverReport>() {
                    self.observe_reports(msg.now, rr);
                }
            }
        }
        self.read_queue.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read_queue.pop_front()
    }

    fn handle_write(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtp(packet) = &mut msg.message.packet {
            if let Some(stream) = self.streams.get_mut(&packet.header.ssrc) {
                if let Some(id) = stream.twcc_id {
                    stamp_transport_sequence(&mut self.twcc_sequence, packet, id);
                }
                if let Some(history) = stream.nack.as_mut() {
                    history.add(packet);
                }
                stream.report.sent(
                    msg.now,
                    packet.header.sequence_number,
                    packet.header.timestamp,
                    packet.payload.len(),
                );
                self.budget.media(msg.now, packet.payload.len());
                self.next_report.get_or_insert(msg.now + REPORT_INTERVAL);
            }
        }
        self.write_queue.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.write_queue.pop_front()
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Self::Error> {
        if self.next_report.is_some_and(|at| at <= now) {
            self.next_report = Some(now + REPORT_INTERVAL);
            for stream in self.streams.values_mut() {
                if let Some(report) = stream.report.report(now) {
                    self.write_queue
                        .push_back(Self::rtcp_packet(now, vec![Box::new(report)]));
                }
            }
        }
        Ok(())
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.next_report
    }
}

impl Interceptor for OutboundInterceptor {
    fn bind_local_stream(&mut self, info: &StreamInfo) {
        self.feedback.bind(info);
        let twcc_id = extension_id(info, TRANSPORT_CC_URI).filter(|id| *id != 0);
        let nack = info
            .rtcp_feedback
            .iter()
            .any(|fb| fb.typ == "nack" && fb.parameter.is_empty())
            .then(|| {
                let rtx = info.ssrc_rtx.zip(info.payload_type_rtx);
                NackHistory::new(self.nack_history, rtx)
            });
        self.streams.insert(
            info.ssrc,
            LocalStream {
                twcc_id,
                nack,
                report: SenderCounters::new(info.ssrc, info.clock_rate),
            },
        );
    }

    fn unbind_local_stream(&mut self, info: &StreamInfo) {
        self.streams.remove(&info.ssrc);
        if self.streams.is_empty() {
            // nothing left to report on: no timer until media flows again
            self.next_report = None;
        }
    }

    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}

    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::interceptor::{RTCPFeedback, RTPHeaderExtension};
    use rtc::rtcp::sender_report::SenderReport;
    use rtc::rtcp::transport_feedbacks::transport_layer_nack::NackPair;
    use rtc::rtp;

    fn info(ssrc: u32, rtx: Option<(u32, u8)>) -> StreamInfo {
        StreamInfo {
            ssrc,
            ssrc_rtx: rtx.map(|r| r.0),
            payload_type: 96,
            payload_type_rtx: rtx.map(|r| r.1),
            clock_rate: 90_000,
            rtp_header_extensions: vec![RTPHeaderExtension {
                uri: TRANSPORT_CC_URI.to_owned(),
                id: 3,
            }],
            rtcp_feedback: vec![RTCPFeedback {
                typ: "nack".to_owned(),
                parameter: String::new(),
            }],
            ..Default::default()
        }
    }

    fn rtp_packet(now: Instant, ssrc: u32, seq: u16) -> TaggedPacket {
        TaggedPacket {
            now,
            transport: TransportContext::default(),
            message: AttributedPacket::new(Packet::Rtp(rtp::Packet {
                header: rtp::header::Header {
                    version: 2,
                    ssrc,
                    payload_type: 96,
                    sequence_number: seq,
                    timestamp: 9000,
                    ..Default::default()
                },
                payload: Bytes::from(vec![1u8; 100]),
            })),
        }
    }

    fn interceptor() -> OutboundInterceptor {
        let (feedback, _rx) = Feedback::new(Default::default());
        OutboundInterceptor::new(feedback, 8)
    }

    fn written(i: &mut OutboundInterceptor) -> Vec<TaggedPacket> {
        std::iter::from_fn(|| i.poll_write()).collect()
    }

    /// An interceptor with SSRC 1 bound, NACKs answered over RTX on SSRC 5, payload type 97.
    fn rtx_interceptor() -> OutboundInterceptor {
        let mut i = interceptor();
        i.bind_local_stream(&info(1, Some((5, 97))));
        i
    }

    /// Writes the packets `seqs` of SSRC 1 at `at`, and takes what went out: how many.
    fn send(i: &mut OutboundInterceptor, at: Instant, seqs: std::ops::Range<u16>) -> usize {
        for seq in seqs {
            i.handle_write(rtp_packet(at, 1, seq)).unwrap();
        }
        written(i).len()
    }

    fn twcc(p: &TaggedPacket) -> Option<u16> {
        let Packet::Rtp(p) = &p.message.packet else {
            return None;
        };
        p.header
            .get_extension(3)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    #[test]
    fn the_sequence_bytes_table_is_big_endian() {
        assert_eq!(&sequence_bytes(0)[..], &[0, 0]);
        assert_eq!(&sequence_bytes(0x1234)[..], &[0x12, 0x34]);
        assert_eq!(&sequence_bytes(u16::MAX)[..], &[0xff, 0xff]);
    }

    #[test]
    fn transport_wide_numbers_run_across_the_streams_and_skip_unbound_ones() {
        let mut i = interceptor();
        i.bind_local_stream(&info(1, None));
        i.bind_local_stream(&info(2, None));
        let now = Instant::now();
        for (ssrc, seq) in [(1, 10), (2, 50), (7, 1), (1, 11)] {
            i.handle_write(rtp_packet(now, ssrc, seq)).unwrap();
        }
        let numbers: Vec<Option<u16>> = written(&mut i).iter().map(twcc).collect();
        assert_eq!(numbers, vec![Some(0), Some(1), None, Some(2)]);
    }

    #[test]
    fn a_nack_is_answered_over_rtx_with_a_transport_wide_number_of_its_own() {
        let mut i = rtx_interceptor();
        let now = Instant::now();
        assert_eq!(send(&mut i, now, 10..16), 6);
        let nack = TransportLayerNack {
            sender_ssrc: 0,
            media_ssrc: 1,
            nacks: vec![NackPair {
                packet_id: 11,
                lost_packets: 0b10, // and 13
            }],
        };
        i.handle_read(OutboundInterceptor::rtcp_packet(now, vec![Box::new(nack)]))
            .unwrap();
        assert!(i.poll_read().is_some(), "the NACK goes on up");
        let out = written(&mut i);
        assert_eq!(out.len(), 2);
        for (p, original) in out.iter().zip([11u16, 13]) {
            assert!(p.message.has(&Attribute::Retransmission));
            let Packet::Rtp(rtp) = &p.message.packet else {
                panic!("not RTP");
            };
            assert_eq!((rtp.header.ssrc, rtp.header.payload_type), (5, 97));
            assert_eq!(&rtp.payload[..2], &original.to_be_bytes());
        }
        assert_eq!(
            out.iter().map(twcc).collect::<Vec<_>>(),
            vec![Some(6), Some(7)]
        );
    }

    #[test]
    fn sender_reports_once_a_second_after_media() {
        let mut i = interceptor();
        i.bind_local_stream(&info(1, None));
        i.bind_local_stream(&info(2, None));
        assert_eq!(i.poll_timeout(), None, "no report before media");
        let t0 = Instant::now();
        i.handle_write(rtp_packet(t0, 1, 10)).unwrap();
        i.handle_write(rtp_packet(t0, 1, 11)).unwrap();
        written(&mut i);
        let due = i.poll_timeout().expect("a report is due");
        assert_eq!(due, t0 + REPORT_INTERVAL);
        i.handle_timeout(due - std::time::Duration::from_millis(1))
            .unwrap();
        assert!(written(&mut i).is_empty(), "not yet");
        i.handle_timeout(due).unwrap();
        let reports = written(&mut i);
        // SSRC 2 sent nothing: no report for it
        assert_eq!(reports.len(), 1);
        let Packet::Rtcp(rtcp) = &reports[0].message.packet else {
            panic!("not RTCP");
        };
        let sr = rtcp[0].as_any().downcast_ref::<SenderReport>().unwrap();
        assert_eq!((sr.ssrc, sr.packet_count, sr.octet_count), (1, 2, 200));
        assert_eq!(i.poll_timeout(), Some(due + REPORT_INTERVAL));
        i.unbind_local_stream(&info(1, None));
        assert!(i.poll_timeout().is_some(), "SSRC 2 is still bound");
        i.unbind_local_stream(&info(2, None));
        assert_eq!(i.poll_timeout(), None, "no stream left, no timer");
    }

    fn nack(now: Instant, ssrc: u32, seq: u16) -> TaggedPacket {
        let nack = TransportLayerNack {
            sender_ssrc: 0,
            media_ssrc: ssrc,
            nacks: vec![NackPair {
                packet_id: seq,
                lost_packets: 0,
            }],
        };
        OutboundInterceptor::rtcp_packet(now, vec![Box::new(nack)])
    }

    #[test]
    fn retransmissions_stay_within_half_the_media_sent() {
        let mut i = rtx_interceptor();
        let now = Instant::now();
        // 8 packets of 100 bytes: room for 400 bytes of RTX, 3 packets of 102
        send(&mut i, now, 0..8);
        for seq in 0..8 {
            i.handle_read(nack(now, 1, seq)).unwrap();
        }
        assert_eq!(written(&mut i).len(), 3);
    }

    #[test]
    fn the_receiver_reports_give_the_round_trip_within_which_a_packet_is_not_resent() {
        let mut i = rtx_interceptor();
        let t0 = Instant::now();
        send(&mut i, t0, 0..8);
        let due = i.poll_timeout().unwrap();
        i.handle_timeout(due).unwrap();
        let sent = written(&mut i);
        let Packet::Rtcp(rtcp) = &sent[0].message.packet else {
            panic!("not RTCP");
        };
        let sr = rtcp[0].as_any().downcast_ref::<SenderReport>().unwrap();
        // the server held our report 250 ms and its report arrived 350 ms after ours left
        let rr = ReceiverReport {
            ssrc: 0,
            reports: vec![rtc::rtcp::reception_report::ReceptionReport {
                ssrc: 1,
                last_sender_report: (sr.ntp_time >> 16) as u32,
                delay: 65536 / 4,
                ..Default::default()
            }],
            ..Default::default()
        };
        let t1 = due + Duration::from_millis(350);
        // media goes on (the budget counts the last second's)
        send(&mut i, t1, 8..16);
        i.handle_read(OutboundInterceptor::rtcp_packet(t1, vec![Box::new(rr)]))
            .unwrap();
        let rtt = i.round_trip.expect("a round trip");
        assert!(rtt.abs_diff(Duration::from_millis(100)) < Duration::from_millis(1));
        let resent = |i: &mut OutboundInterceptor, at: Instant| {
            i.handle_read(nack(at, 1, 10)).unwrap();
            written(i).len()
        };
        assert_eq!(resent(&mut i, t1), 1);
        assert_eq!(resent(&mut i, t1 + Duration::from_millis(99)), 0);
        assert_eq!(resent(&mut i, t1 + Duration::from_millis(100)), 1);
    }
}
