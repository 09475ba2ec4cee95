//! The Rust API of mediasoup-client-native: Device, Transport, Producer, Consumer. It knows nothing of
//! napi; the protocol knowledge it applies lives in the ortc and sdp crates, and webrtc-rs is
//! reached only through the handler crate.

#![warn(missing_docs)]

pub mod consumer;
pub mod data_channel;
pub mod data_consumer;
pub mod data_producer;
pub mod device;
pub mod error;
pub mod producer;
mod rtp_stats;
pub mod transport;

pub use consumer::Consumer;
pub use data_channel::{DataChannel, DataChannelListener, ReadyState};
pub use data_consumer::DataConsumer;
pub use data_producer::DataProducer;
pub use device::{Device, Loaded};
pub use error::{Error, Result};
pub use msc_handler::{DataEvent, OutgoingMessage, MAX_MESSAGE_SIZE};
pub use msc_media::FrameTrack;
pub use producer::Producer;
pub use transport::{
    Answer, ConsumeDataOptions, ConsumeOptions, DataSendListener, Direction, ProduceDataOptions,
    ProduceOptions, SendListener, Transport, TransportListener, TransportOptions,
};
