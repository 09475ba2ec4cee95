//! The connection, whatever its direction: one PeerConnection (webrtc-rs' sans-IO core) and what
//! carries it. [`Transport`](transport::Transport) (`transport.rs`) is what a handler holds:
//! offers, answers, ICE restarts and servers, state, stats, close. Its driver (`driver.rs`:
//! ours in `direct.rs`, webrtc-rs' async one in `async_driver.rs` for TURN), its sockets
//! (`udp.rs`, read by batches in `udp_batch.rs`, those of a receiving connection in the
//! process's receive rounds of `rounds.rs`, paced by `pacer.rs`), candidate gathering
//! (`gather.rs`), the process's timer grid that periodic work falls due on (`grid.rs`),
//! connection events (`events.rs`), stats as JSON (`stats.rs`), DTLS failure detection
//! (`dtls_failure.rs`), data channels (`data.rs`), received RTP read and the receive side's
//! RTCP written outside the core (`own_rtp.rs`, `own_rtcp.rs`, with the keys of
//! `srtp_keys.rs`, counted for the stats in `own_traffic.rs`, beside the server's candidates of
//! `remote_candidates.rs`) and how every PeerConnection is set up (`setup.rs`).
//!
//! Nothing here knows a direction: the send side (`crate::send`) and the receive side build on
//! this module, never the other way round. What a direction adds to the connection (its
//! interceptors) is given to it at creation.

mod async_driver;
pub(crate) mod data;
mod direct;
pub(crate) mod driver;
mod dtls_failure;
mod events;
mod gather;
pub(crate) mod grid;
pub(crate) mod inbound;
mod own_rtcp;
mod own_rtp;
pub(crate) mod own_traffic;
mod pacer;
mod remote_candidates;
#[cfg(target_os = "linux")]
pub(crate) mod rounds;
pub(crate) mod setup;
mod srtp_gcm;
mod srtp_index;
mod srtp_keys;
pub(crate) mod stats;
pub(crate) mod transport;
mod udp;
mod udp_batch;
