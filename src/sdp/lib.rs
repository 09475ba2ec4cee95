//! The SDP layer of mediasoup-client-native: what a local offer says (capabilities, DTLS
//! parameters, encodings) and the remote SDP that stands for the ICE-lite mediasoup server.
//! Pure functions over data: no I/O, no async, no napi.
//!
//! SDP text is parsed and written with webrtc-rs's `rtc-sdp` ([`SessionDescription`],
//! [`MediaDescription`], re-exported here); this crate reads and writes the attribute values.
//!
//! The send path of a transport uses it this way:
//! 1. [`parse_sdp`] the local offer;
//! 2. [`extract_rtp_capabilities`] (device load) and [`extract_dtls_parameters`] (`connect`);
//! 3. for the producer's section ([`RemoteSdp::next_media_section_idx`]): [`get_cname`],
//!    [`get_rtp_encodings`];
//! 4. [`RemoteSdp::send`] with the sending parameters and [`CodecOptions`], then
//!    [`RemoteSdp::get_sdp`] is the answer.
//!
//! The receive path the other way round (the server offers, the PeerConnection answers):
//! 1. [`RemoteSdp::receive`] for each consumer (and [`RemoteSdp::receive_sctp_association`]
//!    for data channels), then [`RemoteSdp::get_sdp`] is the offer;
//! 2. once answered, [`answer_dtls_role`] of the answer is the role to `connect` with;
//! 3. [`RemoteSdp::close_media_section`] when a consumer closes, then a new offer.

#![warn(missing_docs)]

mod capabilities;
mod codec_options;
mod dtls;
mod encodings;
mod error;
mod fmtp;
mod legacy_simulcast;
mod lines;
mod media_section;
mod remote_sdp;

pub use capabilities::extract_rtp_capabilities;
pub use codec_options::CodecOptions;
pub use dtls::{answer_dtls_role, extract_dtls_parameters};
pub use encodings::{get_cname, get_rtp_encodings};
pub use error::SdpError;
pub use fmtp::write_params as fmtp_config;
pub use legacy_simulcast::add_legacy_simulcast;
pub use remote_sdp::{MediaSectionIdx, RecvParams, RemoteSdp, SendParams};
pub use rtc_sdp::{MediaDescription, SessionDescription};

/// Parses SDP text (CRLF or LF line ends).
pub fn parse_sdp(sdp: &str) -> Result<SessionDescription, SdpError> {
    SessionDescription::unmarshal(&mut std::io::Cursor::new(sdp.as_bytes()))
        .map_err(|e| SdpError::Parse(e.to_string()))
}

/// The media section whose `a=mid` is `mid`.
pub fn media_by_mid<'a>(sdp: &'a SessionDescription, mid: &str) -> Option<&'a MediaDescription> {
    sdp.media_descriptions.iter().find(|m| {
        m.attributes
            .iter()
            .any(|a| a.key == "mid" && a.value.as_deref() == Some(mid))
    })
}
