//! The one interceptor of the receive direction:
//! - retransmissions back into their stream (`rtx_unwrap.rs`), so that what follows sees the
//!   repaired packets;
//! - NACKs for the holes of streams that negotiated them (`holes.rs`), every
//!   [`NACK_INTERVAL`] while there is one;
//! - the server's sender reports (SSRC, NTP time, RTP time) to the connection's routes:
//!   webrtc-rs ends inbound RTCP inside its interceptor chain;
//! - a receiver report every [`RECEIVER_REPORT_INTERVAL`] with a block per stream received
//!   (`reception.rs`);
//! - transport-wide congestion control feedback every [`FEEDBACK_INTERVAL`] while packets
//!   come (`arrivals.rs`), for every packet with a transport-wide sequence number, whatever
//!   its stream (the server's probation packets and retransmissions count too).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtc::interceptor::{AttributedPacket, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::sender_report::SenderReport;
use rtc::rtcp::transport_feedbacks::transport_layer_nack::{
    nack_pairs_from_sequence_numbers, TransportLayerNack,
};
use rtc::sansio::Protocol;
use rtc::shared::error::Error;
use rtc::shared::TransportContext;

use super::arrivals::Arrivals;
use super::holes::Holes;
use super::reception::Reception;
use super::routes::Routes;
use super::rtx_unwrap::RtxStreams;

/// How often holes are asked for: every 20 ms, so that a loss is asked for within a frame
/// interval and a lost retransmission is asked for again well within the frame assembler's
/// wait.
pub(crate) const NACK_INTERVAL: Duration = Duration::from_millis(20);
/// How many times one lost packet is asked for: 10 requests, 200 ms at [`NACK_INTERVAL`], as
/// long as the frame assembler waits for a hole.
pub(crate) const NACKS_PER_PACKET: u16 = 10;

/// Receiver reports once a second, as browsers send them.
pub(crate) const RECEIVER_REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// Transport-wide congestion control feedback every 100 ms while packets come: mediasoup's
/// bandwidth estimate for the connection (which chooses the simulcast and SVC layers it
/// forwards) is fed by it.
pub(crate) const FEEDBACK_INTERVAL: Duration = Duration::from_millis(100);

/// The header extension of transport-wide sequence numbers.
const TRANSPORT_WIDE_CC: &str =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

/// The SSRC a receiver report or a feedback comes from: this side sends no stream of its own on the
/// connection's behalf, and the server reads only the report blocks.
const REPORTER_SSRC: u32 = 1;

/// Report blocks one receiver report carries at most (its 5-bit count).
const BLOCKS_PER_REPORT: usize = 31;

/// Passes every packet on, a retransmission unwrapped; a sender report is also given to the
/// routes (called under the connection's lock: [`Routes::sender_report`] only stores it).
/// Counts what each bound stream received, for the receiver reports it writes.
pub(crate) struct ReceiveInterceptor {
    routes: Arc<Routes>,
    rtx: RtxStreams,
    receptions: HashMap<u32, Reception>,
    /// The holes of the streams that negotiated NACK.
    holes: HashMap<u32, Holes>,
    /// When holes are next asked for: armed while there is one.
    next_nack: Option<Instant>,
    /// When the next receiver report is due: armed by the first packet.
    next_report: Option<Instant>,
    /// The id of the transport-wide sequence number extension, once a stream with it is bound
    /// (one id for every stream of the connection: the server's).
    transport_wide: Option<u8>,
    arrivals: Arrivals,
    /// The first SSRC the feedback is about (the server reads none).
    feedback_ssrc: u32,
    /// When the next feedback is due: armed by a packet when none is.
    next_feedback: Option<Instant>,
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
}

impl ReceiveInterceptor {
    pub(crate) fn new(routes: Arc<Routes>) -> Self {
        ReceiveInterceptor {
            routes,
            rtx: RtxStreams::default(),
            receptions: HashMap::new(),
            holes: HashMap::new(),
            next_nack: None,
            next_report: None,
            transport_wide: None,
            arrivals: Arrivals::default(),
            feedback_ssrc: 0,
            next_feedback: None,
            read_queue: VecDeque::new(),
            write_queue: VecDeque::new(),
        }
    }

    fn write(&mut self, now: Instant, packet: Box<dyn rtc::rtcp::Packet>) {
        self.write_queue.push_back(TaggedPacket {
            now,
            transport: TransportContext::default(),
            message: AttributedPacket::new(Packet::Rtcp(vec![packet])),
        });
    }

    /// The receiver reports of what came since the last ones, into the write queue.
    fn report(&mut self, now: Instant) {
        let mut blocks: Vec<_> = self
            .receptions
            .values_mut()
            .filter_map(|r| r.report(now))
            .collect();
        // in a stable order (the map's is not)
        blocks.sort_by_key(|b| b.ssrc);
        for chunk in blocks.chunks(BLOCKS_PER_REPORT) {
            let report = ReceiverReport {
                ssrc: REPORTER_SSRC,
                reports: chunk.to_vec(),
                ..Default::default()
            };
            self.write(now, Box::new(report));
        }
    }

    /// NACKs for the holes of each stream, into the write queue; true while holes are left.
    fn ask(&mut self, now: Instant) -> bool {
        let mut nacks = Vec::new();
        let mut left = false;
        for (&ssrc, holes) in &mut self.holes {
            let asked = holes.ask(NACKS_PER_PACKET);
            left |= holes.any();
            if !asked.is_empty() {
                nacks.push(TransportLayerNack {
                    sender_ssrc: REPORTER_SSRC,
                    media_ssrc: ssrc,
                    nacks: nack_pairs_from_sequence_numbers(&asked),
                });
            }
        }
        for nack in nacks {
            self.write(now, Box::new(nack));
        }
        left
    }

    /// A packet's arrival, when it has a transport-wide sequence number.
    fn arrival(&mut self, now: Instant, header: &rtc::rtp::Header) {
        let Some(id) = self.transport_wide else {
            return;
        };
        let Some(value) = header.get_extension(id) else {
            return;
        };
        if value.len() < 2 {
            return;
        }
        if !self.arrivals.any() && self.feedback_ssrc == 0 {
            self.feedback_ssrc = header.ssrc;
        }
        self.arrivals
            .packet(now, u16::from_be_bytes([value[0], value[1]]));
        self.next_feedback.get_or_insert(now + FEEDBACK_INTERVAL);
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for ReceiveInterceptor {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtp(packet) = &mut msg.message.packet {
            self.arrival(msg.now, &packet.header);
            let repair = self.rtx.unwrap(packet);
            let header = &packet.header;
            if let Some(holes) = self.holes.get_mut(&header.ssrc) {
                if holes.packet(header.sequence_number) {
                    self.next_nack.get_or_insert(msg.now + NACK_INTERVAL);
                }
            }
            if let Some(reception) = self.receptions.get_mut(&header.ssrc) {
                reception.packet(msg.now, header.sequence_number, header.timestamp, repair);
                self.next_report
                    .get_or_insert(msg.now + RECEIVER_REPORT_INTERVAL);
            }
        } else if let Packet::Rtcp(packets) = &msg.message.packet {
            for packet in packets {
                if let Some(sr) = packet.as_any().downcast_ref::<SenderReport>() {
                    self.routes
                        .sender_report(msg.now, sr.ssrc, sr.ntp_time, sr.rtp_time);
                    if let Some(reception) = self.receptions.get_mut(&sr.ssrc) {
                        reception.sender_report(msg.now, sr.ntp_time);
                    }
                }
            }
        }
        self.read_queue.push_back(msg);
        Ok(())
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Self::Error> {
        if self.next_nack.is_some_and(|at| at <= now) {
            self.next_nack = self.ask(now).then_some(now + NACK_INTERVAL);
        }
        if self.next_report.is_some_and(|at| at <= now) {
            self.next_report = Some(now + RECEIVER_REPORT_INTERVAL);
            self.report(now);
        }
        if self.next_feedback.is_some_and(|at| at <= now) {
            // none again until a packet comes
            self.next_feedback = None;
            for feedback in self.arrivals.feedback(REPORTER_SSRC, self.feedback_ssrc) {
                self.write(now, Box::new(feedback));
            }
        }
        Ok(())
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        [self.next_nack, self.next_report, self.next_feedback]
            .into_iter()
            .flatten()
            .min()
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read_queue.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.write_queue.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.write_queue.pop_front()
    }
}

impl Interceptor for ReceiveInterceptor {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}

    fn bind_remote_stream(&mut self, info: &StreamInfo) {
        self.rtx.bind(info);
        if let Some(extension) = info
            .rtp_header_extensions
            .iter()
            .find(|e| e.uri == TRANSPORT_WIDE_CC)
        {
            self.transport_wide = u8::try_from(extension.id).ok();
        }
        // bound again at each negotiation: what was counted stays
        self.receptions
            .entry(info.ssrc)
            .or_insert_with(|| Reception::new(info.ssrc, info.clock_rate));
        let nack = info
            .rtcp_feedback
            .iter()
            .any(|fb| fb.typ == "nack" && fb.parameter.is_empty());
        if nack {
            self.holes.entry(info.ssrc).or_insert_with(Holes::new);
        }
    }

    fn unbind_remote_stream(&mut self, info: &StreamInfo) {
        self.rtx.unbind(info);
        self.receptions.remove(&info.ssrc);
        self.holes.remove(&info.ssrc);
    }
}
