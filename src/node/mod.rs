//! napi glue: thin #[napi] wrappers over the client layer. No protocol logic lives here.

pub mod consumer;
pub mod convert;
pub mod data_channel;
pub mod device;
pub mod errors;
pub mod file_track;
pub mod listener;
pub mod logging;
pub mod ortc;
pub mod producer;
pub mod remote_track;
pub mod rtp_track;
pub mod runtime;
pub mod track;
pub mod transport;
pub mod version;
