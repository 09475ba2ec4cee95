//! The ORTC layer of mediasoup-client-native: RTP capabilities and parameters, their
//! validation and matching. Pure functions over data: no I/O, no async, no napi.
//!
//! Behaviour follows mediasoup-client 3.18.7's `ortc` module (and libmediasoupclient where
//! mediasoup-client has nothing): same defaults, same matching, same JSON out.

#![warn(missing_docs)]

pub mod capabilities;
pub mod codec_match;
pub mod error;
pub mod extended;
pub mod h264;
mod js;
pub mod probator;
pub mod receiving;
pub mod scalability_mode;
pub mod sending;
pub mod track_codec;
pub mod types;
pub mod validate;

pub use capabilities::{
    can_receive, can_send, get_recv_rtp_capabilities, get_send_rtp_capabilities, CodecSet,
};
pub use error::{ErrorKind, OrtcError};
pub use extended::{
    get_extended_rtp_capabilities, get_extended_rtp_capabilities_mut, ExtendedRtpCapabilities,
    ExtendedRtpCodec, ExtendedRtpHeaderExtension,
};
pub use probator::generate_probator_rtp_parameters;
pub use receiving::{receivable_codecs, received_stream, ReceivedStream};
pub use scalability_mode::{parse_scalability_mode, ScalabilityMode};
pub use sending::{get_sending_remote_rtp_parameters, get_sending_rtp_parameters, reduce_codecs};
pub use track_codec::{check_codec_for_track, codec_for_track, TrackCodec};
pub use types::*;
pub use validate::*;
