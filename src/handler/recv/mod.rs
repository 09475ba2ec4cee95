//! The receive direction: what a connection needs to receive RTP for consumers.
//!
//! - `handler.rs`: [`RecvHandler`](handler::RecvHandler), the connection of a receive
//!   transport: the server offers, this side answers;
//! - `routes.rs`: where each receiver's packets go ([`ReceiveSink`](routes::ReceiveSink), one
//!   per consumer), by track id, and the server's sender reports by SSRC;
//! - `feedback.rs`: what every received packet goes through, whoever read it: retransmissions
//!   turned back into the packets they repair (`rtx_unwrap.rs`), the NACKs (`holes.rs`), the
//!   receiver reports and inbound statistics (`reception.rs`), the transport-wide congestion
//!   control feedback (`arrivals.rs`);
//! - `interceptor.rs`: the direction's one interceptor in webrtc-rs' core: the packets the
//!   core reads through the feedback, the server's sender reports to it and to the routes,
//!   and what the feedback sends;
//! - `inbound_stats.rs`: a receiver's `inbound-rtp` statistics from the feedback's counts.

mod arrivals;
mod feedback;
pub(crate) mod handler;
mod holes;
mod inbound_stats;
mod interceptor;
mod reception;
pub(crate) mod routes;
mod rtx_unwrap;

use std::sync::Arc;

use rtc::interceptor::{Registry, Slot};

use interceptor::ReceiveInterceptor;
use routes::Routes;

/// Slot of our interceptor (the only one of the direction).
const RECEIVE_SLOT: usize = 6_000;

/// The interceptor chain of a receiving PeerConnection, one interceptor of ours: NACKs for
/// lost packets (repaired over RTX by the server, and seen repaired), receiver reports,
/// transport-wide congestion control feedback, and the server's sender reports to `routes`.
pub(crate) fn interceptors(routes: Arc<Routes>) -> Registry {
    Registry::new().with(Slot::from(RECEIVE_SLOT), ReceiveInterceptor::new(routes))
}
