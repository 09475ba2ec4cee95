//! The Rust API of mediasoup-client-native: Device, Transport, Producer, Consumer. It knows nothing of
//! napi; the protocol knowledge it applies lives in the ortc and sdp crates, and webrtc-rs is
//! reached only through the handler crate.

#![warn(missing_docs)]

pub mod consumer;
pub mod device;
pub mod error;
pub mod producer;
pub mod transport;

pub use consumer::Consumer;
pub use device::{Device, Loaded};
pub use error::{Error, Result};
pub use msc_media::FrameTrack;
pub use producer::Producer;
pub use transport::{
    Answer, ConsumeOptions, Direction, ProduceOptions, SendListener, Transport, TransportListener,
    TransportOptions,
};
