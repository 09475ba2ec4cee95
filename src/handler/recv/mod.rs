//! The receive direction: what a connection needs to receive RTP for consumers.
//!
//! - `handler.rs`: [`RecvHandler`](handler::RecvHandler), the connection of a receive
//!   transport: the server offers, this side answers;
//! - `routes.rs`: where each receiver's packets go ([`ReceiveSink`](routes::ReceiveSink), one
//!   per consumer), by track id, and the server's sender reports by SSRC;
//! - `interceptor.rs`: the one interceptor of the direction, below the NACK generator: it
//!   turns retransmissions back into the packets they repair (`rtx_unwrap.rs`), takes the
//!   server's sender reports to the routes, and writes the receiver reports (`reception.rs`)
//!   and the transport-wide congestion control feedback (`arrivals.rs`);
//! - `forget.rs`: every interceptor of the chain forgets the streams of closed consumers.

#[macro_use]
mod pass_through;

mod arrivals;
mod forget;
pub(crate) mod handler;
mod interceptor;
mod nack_gate;
mod reception;
pub(crate) mod routes;
mod rtx_unwrap;

use std::time::Duration;

use std::sync::Arc;

use rtc::interceptor::{NackGeneratorBuilder, Registry, Slot};

use forget::Retired;
use interceptor::ReceiveInterceptor;
use nack_gate::NackGate;
use routes::Routes;

/// Packets remembered per stream to find holes in: 512 sequence numbers, ~0.5 s of a 1 Mbps
/// video stream, longer than the frame assembler waits for a retransmission.
const NACK_LOG: u16 = 512;
/// How often holes are asked for: every 20 ms, so that a loss is asked for within a frame
/// interval and a lost retransmission is asked for again well within the assembler's wait.
const NACK_INTERVAL: Duration = Duration::from_millis(20);
/// How many times one lost packet is asked for (0 would be forever): 10 requests, 200 ms at
/// [`NACK_INTERVAL`], as long as the frame assembler waits for a hole.
const NACKS_PER_PACKET: u16 = 10;

/// Slot of our interceptor: below the NACK generator (7,000), which then sees repaired
/// packets in their stream.
const RECEIVE_SLOT: usize = 6_000;

/// The interceptor chain of a receiving PeerConnection: NACKs for lost packets (repaired over
/// RTX by the server, and seen repaired; the generator's timer runs only around holes),
/// and ours: receiver reports, transport-wide congestion control feedback, and the server's
/// sender reports to `routes`. Each forgets the streams `retired` names.
pub(crate) fn interceptors(routes: Arc<Routes>, retired: &Retired) -> Registry {
    Registry::new()
        .with(
            Slot::from(RECEIVE_SLOT),
            retired.wrap(ReceiveInterceptor::new(routes)),
        )
        .with(
            Slot::NackGenerator,
            retired.wrap(NackGate::new(
                NackGeneratorBuilder::new()
                    .with_size(NACK_LOG)
                    .with_interval(NACK_INTERVAL)
                    .with_max_nacks_per_packet(NACKS_PER_PACKET)
                    .build(),
                NACK_INTERVAL,
                NACKS_PER_PACKET,
            )),
        )
}
