//! The send direction: what a connection needs to send RTP for producers.
//!
//! - `handler.rs`: [`SendHandler`](handler::SendHandler), the connection of a send transport;
//! - `writer.rs`: [`RtpWriter`](writer::RtpWriter), one per encoding, stamping and writing
//!   packets into the connection;
//! - `outbound.rs`: the one interceptor of the send direction (transport-wide sequence numbers,
//!   NACK answers, sender reports), with its parts `nack_history.rs`, `sender_report.rs`,
//!   `retransmission_budget.rs`, and `feedback.rs` (inbound RTCP about our streams, to the
//!   writers);
//! - `first_sequence.rs`, `stats.rs`: the first RTP sequence number; our counters in the stats.

pub(crate) mod feedback;
pub(crate) mod first_sequence;
pub(crate) mod handler;
mod nack_history;
mod outbound;
mod retransmission_budget;
mod sender_report;
pub(crate) mod stats;
pub(crate) mod writer;

use rtc::interceptor::{Registry, Slot};

use feedback::Feedback;
use outbound::OutboundInterceptor;

/// Slot of our interceptor in the chain (the only one).
const OUTBOUND_SLOT: usize = 14_000;

/// Packets kept per SSRC for retransmission: 2.5 s of a 1 Mbps video stream, 0.6 s at 4 Mbps,
/// more than a NACK round trip to any SFU worth sending to. A quarter of webrtc-rs's default,
/// 1024, for a fraction of the RSS per video producer at the same CPU
/// (`docs/performance.md#nack-history`).
const NACK_HISTORY: u16 = 256;

/// The interceptor chain of a sending PeerConnection: one interceptor of ours
/// ([`OutboundInterceptor`]: NACK answers over RTX, transport-wide sequence numbers, sender
/// reports, feedback to the writers), with a NACK history of [`NACK_HISTORY`] packets per SSRC.
/// No receiver reports: a send transport receives no RTP.
pub(crate) fn interceptors(feedback: Feedback) -> Registry {
    Registry::new().with(
        Slot::from(OUTBOUND_SLOT),
        OutboundInterceptor::new(feedback, NACK_HISTORY),
    )
}
