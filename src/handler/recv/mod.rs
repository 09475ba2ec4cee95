//! The receive direction: what a connection needs to receive RTP for consumers.
//!
//! - `handler.rs`: [`RecvHandler`](handler::RecvHandler), the connection of a receive
//!   transport: the server offers, this side answers;
//! - `routes.rs`: where each receiver's packets go ([`ReceiveSink`](routes::ReceiveSink), one
//!   per consumer), by track id, and the server's sender reports by SSRC;
//! - `interceptor.rs`: the one interceptor of the direction: it turns retransmissions back
//!   into the packets they repair (`rtx_unwrap.rs`), takes the server's sender reports to the
//!   routes, and writes the NACKs (`holes.rs`), the receiver reports (`reception.rs`) and the
//!   transport-wide congestion control feedback (`arrivals.rs`);
//! - `forget.rs`: the interceptor forgets the streams of closed consumers.

#[macro_use]
mod pass_through;

mod arrivals;
mod forget;
pub(crate) mod handler;
mod holes;
mod interceptor;
mod reception;
pub(crate) mod routes;
mod rtx_unwrap;

use std::sync::Arc;

use rtc::interceptor::{Registry, Slot};

use forget::Retired;
use interceptor::ReceiveInterceptor;
use routes::Routes;

/// Slot of our interceptor (the only one of the direction).
const RECEIVE_SLOT: usize = 6_000;

/// The interceptor chain of a receiving PeerConnection, one interceptor of ours: NACKs for
/// lost packets (repaired over RTX by the server, and seen repaired), receiver reports,
/// transport-wide congestion control feedback, and the server's sender reports to `routes`.
/// It forgets the streams `retired` names.
pub(crate) fn interceptors(routes: Arc<Routes>, retired: &Retired) -> Registry {
    Registry::new().with(
        Slot::from(RECEIVE_SLOT),
        retired.wrap(ReceiveInterceptor::new(routes)),
    )
}
