//! The receive direction: what a connection needs to receive RTP for consumers.
//!
//! - `handler.rs`: [`RecvHandler`](handler::RecvHandler), the connection of a receive
//!   transport: the server offers, this side answers;
//! - `routes.rs`: where each receiver's packets go ([`ReceiveSink`](routes::ReceiveSink), one
//!   per consumer), by track id, and the server's sender reports by SSRC;
//! - `sender_reports.rs`: the interceptor that takes the sender reports to the routes;
//! - `rtx_unwrap.rs`: the interceptor that turns retransmissions back into the packets they
//!   repair before the NACK generator sees them.

pub(crate) mod handler;
pub(crate) mod routes;
mod rtx_unwrap;
mod sender_reports;

use std::time::Duration;

use std::sync::Arc;

use rtc::interceptor::{
    NackGeneratorBuilder, ReceiverReportBuilder, Registry, Slot, TwccReceiverBuilder,
};

use routes::Routes;
use rtx_unwrap::RtxUnwrap;
use sender_reports::SenderReportTap;

/// Packets remembered per stream to find holes in: 512 sequence numbers, ~0.5 s of a 1 Mbps
/// video stream, longer than the frame assembler waits for a retransmission.
const NACK_LOG: u16 = 512;
/// How often holes are asked for: every 20 ms, so that a loss is asked for within a frame
/// interval and a lost retransmission is asked for again well within the assembler's wait.
const NACK_INTERVAL: Duration = Duration::from_millis(20);
/// How many times one lost packet is asked for (0 would be forever): 10 requests, 200 ms at
/// [`NACK_INTERVAL`], as long as the frame assembler waits for a hole.
const NACKS_PER_PACKET: u16 = 10;
/// Receiver reports once a second, as browsers send them.
const RECEIVER_REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// Transport-wide congestion control feedback every 100 ms: mediasoup's bandwidth estimation
/// (which chooses the simulcast and SVC layers it forwards) is fed by it.
const TWCC_INTERVAL: Duration = Duration::from_millis(100);

/// Slot of the sender-report tap: right above the receiver reports (which read them too).
const SENDER_REPORT_SLOT: usize = 11_000;
/// Slot of the RTX unwrapping: below the NACK generator (7,000), so that it sees repaired
/// packets in their stream.
const RTX_UNWRAP_SLOT: usize = 6_000;

/// The interceptor chain of a receiving PeerConnection: NACKs for lost packets (repaired over
/// RTX by the server, and seen repaired), transport-wide congestion control feedback, receiver reports, and the
/// server's sender reports to `routes`.
pub(crate) fn interceptors(routes: Arc<Routes>) -> Registry {
    Registry::new()
        .with(Slot::from(RTX_UNWRAP_SLOT), RtxUnwrap::default())
        .with(Slot::from(SENDER_REPORT_SLOT), SenderReportTap::new(routes))
        .with(
            Slot::NackGenerator,
            NackGeneratorBuilder::new()
                .with_size(NACK_LOG)
                .with_interval(NACK_INTERVAL)
                .with_max_nacks_per_packet(NACKS_PER_PACKET)
                .build(),
        )
        .with(
            Slot::TwccReceiver,
            TwccReceiverBuilder::new()
                .with_interval(TWCC_INTERVAL)
                .build(),
        )
        .with(
            Slot::ReceiverReport,
            ReceiverReportBuilder::new()
                .with_interval(RECEIVER_REPORT_INTERVAL)
                .build(),
        )
}
