//! The feedback of the receive direction, for every packet a connection receives, whoever
//! reads it (webrtc-rs' core through the interceptor, `interceptor.rs`, or the connection
//! itself, `routes.rs`):
//! - retransmissions back into their stream (`rtx_unwrap.rs`), so that what follows sees the
//!   repaired packets;
//! - NACKs for the holes of streams that negotiated them (`holes.rs`), every
//!   [`NACK_INTERVAL`] while there is one;
//! - a receiver report every [`RECEIVER_REPORT_INTERVAL`] with a block per stream received
//!   (`reception.rs`), which also gives the streams' inbound statistics;
//! - transport-wide congestion control feedback every [`FEEDBACK_INTERVAL`] while packets
//!   come (`arrivals.rs`), for every packet with a transport-wide sequence number, whatever
//!   its stream (the server's probation packets and retransmissions count too).
//!
//! Reports and congestion feedback fall due on a grid shared by the process's connections
//! (the first one up to an interval after the first packet), so that they go out together.

use std::time::{Duration, Instant};

use msc_ortc::{MediaKind, ReceivedStream};
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::sender_report::SenderReport;
use rtc::rtcp::transport_feedbacks::transport_layer_nack::{
    nack_pairs_from_sequence_numbers, TransportLayerNack,
};
use rtc::shared::marshal::MarshalSize;

use super::arrivals::Arrivals;
use super::holes::Holes;
use super::reception::{Reception, ReceptionStats};
use super::rtx_unwrap::RtxStreams;
use crate::connection::grid::{self, on_grid};
use crate::ssrc_map::SsrcMap;

/// How often holes are asked for: every 20 ms, so that a loss is asked for within a frame
/// interval and a lost retransmission is asked for again well within the frame assembler's
/// wait.
pub(crate) const NACK_INTERVAL: Duration = Duration::from_millis(20);
/// How many times one lost packet is asked for: 10 requests, 200 ms at [`NACK_INTERVAL`], as
/// long as the frame assembler waits for a hole.
pub(crate) const NACKS_PER_PACKET: u16 = 10;

/// Receiver reports once a second, as browsers send them.
pub(crate) const RECEIVER_REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// Transport-wide congestion control feedback every 100 ms while packets come, on the grid's
/// finest step: mediasoup's bandwidth estimate for the connection (which chooses the simulcast
/// and SVC layers it forwards) is fed by it.
pub(crate) const FEEDBACK_INTERVAL: Duration = grid::FINEST;

/// The SSRC a receiver report or a feedback comes from while the core writes them: this side
/// sends no stream of its own on the connection's behalf, and the server reads only the report
/// blocks and the streams they are about.
const CORE_REPORTER_SSRC: u32 = 1;

/// The SSRC they come from once the connection writes them (`Feedback::written_by_connection`):
/// another than the core's, so that the connection's SRTCP packets, counted from 0, are not
/// taken by the server for replays of those the core sent before.
const CONNECTION_REPORTER_SSRC: u32 = 2;

/// Report blocks one receiver report carries at most (its 5-bit count).
const BLOCKS_PER_REPORT: usize = 31;

/// The feedback's state: per stream bound, and for the connection. In this order
/// (`repr(C)`): what each packet touches first, together (a connection's state is out of the
/// cache at each of its reads), the retransmissions' map last.
#[derive(Default)]
#[repr(C)]
pub(crate) struct Feedback {
    /// The bound streams, by SSRC: one map looked up per packet (each map is a cache miss of
    /// its own when packets of many connections come in turn).
    streams: SsrcMap<Stream>,
    arrivals: Arrivals,
    /// When the next receiver report is due: armed by the first packet.
    next_report: Option<Instant>,
    /// When holes are next asked for: armed while there is one.
    next_nack: Option<Instant>,
    /// When the next feedback is due: armed by a packet when none is, and kept armed by each
    /// feedback that had packets to tell.
    next_feedback: Option<Instant>,
    /// The first SSRC the feedback is about (the server reads none).
    feedback_ssrc: u32,
    /// The id of the transport-wide sequence number extension, once a stream with it is bound
    /// (one id for every stream of the connection: the server's).
    transport_wide: Option<u8>,
    /// The connection writes this RTCP, no longer the core through the interceptor.
    by_connection: bool,
    rtx: RtxStreams,
}

/// What is kept for a bound stream.
struct Stream {
    reception: Reception,
    /// Its holes, when it negotiated NACK.
    holes: Option<Holes>,
}

impl Feedback {
    /// A packet received at `now`: noted, and a retransmission turned back into the packet it
    /// repairs.
    pub(crate) fn packet(&mut self, now: Instant, packet: &mut rtc::rtp::Packet) {
        self.arrival(now, &packet.header);
        // a bound stream's own SSRC is not an RTX one
        let repair = !self.streams.contains_key(&packet.header.ssrc) && self.rtx.unwrap(packet);
        let header = &packet.header;
        let Some(stream) = self.streams.get_mut(&header.ssrc) else {
            return;
        };
        if let Some(holes) = &mut stream.holes {
            if holes.packet(header.sequence_number) {
                self.next_nack.get_or_insert(now + NACK_INTERVAL);
            }
        }
        let reception = &mut stream.reception;
        reception.packet(now, header.sequence_number, header.timestamp, repair);
        reception.bytes(header.marshal_size(), packet.payload.len());
        self.next_report
            .get_or_insert_with(|| on_grid(now, RECEIVER_REPORT_INTERVAL));
    }

    /// Whether the stream of `ssrc` is bound (its media, or its retransmissions).
    pub(crate) fn knows(&self, ssrc: u32) -> bool {
        self.streams.contains_key(&ssrc) || self.rtx.repairs(ssrc)
    }

    /// The server's sender report of `ssrc`.
    pub(crate) fn sender_report(&mut self, now: Instant, report: &SenderReport) {
        if let Some(stream) = self.streams.get_mut(&report.ssrc) {
            stream.reception.sender_report(now, report);
        }
    }

    /// From now on the connection writes what [`timeout`](Self::timeout) gives, from an SSRC
    /// of its own.
    pub(crate) fn written_by_connection(&mut self) {
        self.by_connection = true;
    }

    /// Whether the connection writes this RTCP (the interceptor then leaves it alone).
    pub(crate) fn by_connection(&self) -> bool {
        self.by_connection
    }

    /// The SSRC the RTCP comes from.
    fn reporter(&self) -> u32 {
        if self.by_connection {
            CONNECTION_REPORTER_SSRC
        } else {
            CORE_REPORTER_SSRC
        }
    }

    /// What is due at `now`: NACKs, receiver reports, congestion feedback.
    pub(crate) fn timeout(&mut self, now: Instant) -> Vec<Box<dyn rtc::rtcp::Packet>> {
        let mut out: Vec<Box<dyn rtc::rtcp::Packet>> = Vec::new();
        if self.next_nack.is_some_and(|at| at <= now) {
            let left = self.ask(&mut out);
            self.next_nack = left.then_some(now + NACK_INTERVAL);
        }
        if self.next_report.is_some_and(|at| at <= now) {
            self.next_report = Some(on_grid(now, RECEIVER_REPORT_INTERVAL));
            self.report(now, &mut out);
        }
        if self.next_feedback.is_some_and(|at| at <= now) {
            let before = out.len();
            let reporter = self.reporter();
            for feedback in self.arrivals.feedback(reporter, self.feedback_ssrc) {
                out.push(Box::new(feedback));
            }
            // while packets come, the next one is due on the grid already (no packet has to
            // arm it, which would wake the timer); after an interval with none, a packet arms it
            self.next_feedback = (out.len() > before).then(|| on_grid(now, FEEDBACK_INTERVAL));
        }
        out
    }

    /// When [`timeout`](Self::timeout) is next due.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        [self.next_nack, self.next_report, self.next_feedback]
            .into_iter()
            .flatten()
            .min()
    }

    /// The inbound statistics of the stream of `ssrc`, once a packet of it came.
    pub(crate) fn stats(&self, ssrc: u32) -> Option<ReceptionStats> {
        let stream = self.streams.get(&ssrc)?;
        let nacks = stream.holes.as_ref().map_or(0, Holes::nacks);
        stream.reception.stats(nacks)
    }

    /// The receiver reports of what came since the last ones.
    fn report(&mut self, now: Instant, out: &mut Vec<Box<dyn rtc::rtcp::Packet>>) {
        let mut blocks: Vec<_> = self
            .streams
            .values_mut()
            .filter_map(|s| s.reception.report(now))
            .collect();
        // in a stable order (the map's is not)
        blocks.sort_by_key(|b| b.ssrc);
        let reporter = self.reporter();
        for chunk in blocks.chunks(BLOCKS_PER_REPORT) {
            out.push(Box::new(ReceiverReport {
                ssrc: reporter,
                reports: chunk.to_vec(),
                ..Default::default()
            }));
        }
    }

    /// NACKs for the holes of each stream; true while holes are left.
    fn ask(&mut self, out: &mut Vec<Box<dyn rtc::rtcp::Packet>>) -> bool {
        let mut left = false;
        let reporter = self.reporter();
        let mut streams: Vec<_> = self
            .streams
            .iter_mut()
            .filter_map(|(ssrc, s)| Some((ssrc, s.holes.as_mut()?)))
            .collect();
        streams.sort_by_key(|(ssrc, _)| **ssrc);
        for (&ssrc, holes) in streams {
            let asked = holes.ask(NACKS_PER_PACKET);
            left |= holes.any();
            if !asked.is_empty() {
                out.push(Box::new(TransportLayerNack {
                    sender_ssrc: reporter,
                    media_ssrc: ssrc,
                    nacks: nack_pairs_from_sequence_numbers(&asked),
                }));
            }
        }
        left
    }

    /// A packet's arrival, when it has a transport-wide sequence number.
    fn arrival(&mut self, now: Instant, header: &rtc::rtp::Header) {
        let Some(id) = self.transport_wide else {
            return;
        };
        // borrowed, not `get_extension`'s clone (which makes the value's buffer shared: an
        // allocation per packet)
        let value = match header.extension {
            true => header.extensions.iter().find(|e| e.id == id),
            false => None,
        };
        let Some(value) = value.map(|e| &e.payload[..]).filter(|v| v.len() >= 2) else {
            return;
        };
        if self.feedback_ssrc == 0 {
            self.feedback_ssrc = header.ssrc;
        }
        self.arrivals
            .packet(now, u16::from_be_bytes([value[0], value[1]]));
        self.next_feedback
            .get_or_insert_with(|| on_grid(now, FEEDBACK_INTERVAL));
    }

    /// A stream the connection receives, from before its first packet (binding it again
    /// keeps what was counted).
    pub(crate) fn bind(&mut self, stream: &ReceivedStream) {
        self.rtx.bind(stream);
        if stream.transport_wide_id.is_some() {
            self.transport_wide = stream.transport_wide_id;
        }
        let bound = self.streams.entry(stream.ssrc).or_insert_with(|| {
            let kind = match stream.kind {
                MediaKind::Audio => "audio",
                MediaKind::Video => "video",
            };
            Stream {
                reception: Reception::new(stream.ssrc, kind, stream.clock_rate),
                holes: None,
            }
        });
        if stream.nack {
            bound.holes.get_or_insert_with(Holes::new);
        }
    }

    /// A stream no longer received: what was kept for it goes.
    pub(crate) fn unbind(&mut self, stream: &ReceivedStream) {
        self.rtx.unbind(stream);
        self.streams.remove(&stream.ssrc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    /// A packet of `ssrc` with the transport-wide sequence number `wide` (extension id 5).
    fn packet(ssrc: u32, sequence: u16, wide: u16) -> rtc::rtp::Packet {
        let mut packet = rtc::rtp::Packet::default();
        packet.header.ssrc = ssrc;
        packet.header.payload_type = 101;
        packet.header.sequence_number = sequence;
        packet
            .header
            .set_extension(5, Bytes::copy_from_slice(&wide.to_be_bytes()))
            .unwrap();
        packet.payload = Bytes::from_static(&[0; 100]);
        packet
    }

    fn feedbacks(out: &[Box<dyn rtc::rtcp::Packet>]) -> usize {
        out.iter()
            .filter(|p| {
                p.as_any()
                    .is::<rtc::rtcp::transport_feedbacks::transport_layer_cc::TransportLayerCc>()
            })
            .count()
    }

    #[test]
    fn congestion_feedback_stays_due_on_the_grid_while_packets_come() {
        let mut feedback = Feedback::default();
        let mut stream = super::super::rtx_unwrap::tests::stream();
        stream.transport_wide_id = Some(5);
        feedback.bind(&stream);
        // the grid starts at its first use in the process: before `start`, whichever test runs first
        on_grid(Instant::now(), FEEDBACK_INTERVAL);
        let start = Instant::now();
        feedback.packet(start, &mut packet(1000, 1, 1));
        let first = feedback.next_feedback.expect("a packet arms the feedback");
        assert!(first > start && first <= start + FEEDBACK_INTERVAL);
        // packets came: the feedback goes, and the next one is due a grid step later already
        assert_eq!(feedbacks(&feedback.timeout(first)), 1);
        assert_eq!(feedback.next_feedback, Some(first + FEEDBACK_INTERVAL));
        feedback.packet(first + FEEDBACK_INTERVAL / 2, &mut packet(1000, 2, 2));
        assert_eq!(feedback.next_feedback, Some(first + FEEDBACK_INTERVAL));
        assert_eq!(feedbacks(&feedback.timeout(first + FEEDBACK_INTERVAL)), 1);
        // an interval with no packet: nothing to tell, and nothing due until a packet comes
        let quiet = first + 2 * FEEDBACK_INTERVAL;
        assert_eq!(feedbacks(&feedback.timeout(quiet)), 0);
        assert_eq!(feedback.next_feedback, None);
        feedback.packet(quiet + FEEDBACK_INTERVAL / 3, &mut packet(1000, 3, 3));
        assert_eq!(feedback.next_feedback, Some(quiet + FEEDBACK_INTERVAL));
    }
}
