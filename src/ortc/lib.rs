//! The ORTC layer of mediasoup-client-native: RTP capabilities and parameters, their
//! validation and matching. Pure functions over data: no I/O, no async, no napi.

pub mod types;

pub use types::*;
