//! What a receiving transport derives from the extended capabilities and from a consumer's
//! parameters: the codecs its offer sections may list besides a consumer's own, and the
//! stream a consumer's receiver takes.

use serde_json::Value;

use crate::capabilities::rtx_parameters;
use crate::codec_match::is_rtx;
use crate::extended::ExtendedRtpCapabilities;
use crate::js;
use crate::sending::{unused_congestion_feedback, TRANSPORT_CC_URI};
use crate::types::{Direction, MediaKind, RtpCodecParameters, RtpParameters};

/// The RTP stream a consumer receives, as the connection needs it from the start (before
/// its first packet): to read it, repair it and report on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedStream {
    /// The SSRC of its media packets.
    pub ssrc: u32,
    /// Audio or video.
    pub kind: MediaKind,
    /// The media codec's payload type.
    pub payload_type: u8,
    /// The media codec's clock rate.
    pub clock_rate: u32,
    /// Its retransmissions (RFC 4588): their SSRC and payload type, when the parameters give
    /// both.
    pub rtx: Option<(u32, u8)>,
    /// Whether lost packets are to be asked for (generic NACK negotiated).
    pub nack: bool,
    /// The id of the transport-wide sequence number extension, when the stream carries it.
    pub transport_wide_id: Option<u8>,
}

/// The stream of a consumer of `kind` with these (the server's) parameters: the first
/// encoding's SSRC and RTX SSRC, the first media codec, the RTX codec whose `apt` is its
/// payload type. None without an SSRC or a media codec.
pub fn received_stream(kind: MediaKind, parameters: &RtpParameters) -> Option<ReceivedStream> {
    let encoding = parameters.encodings.first()?;
    let ssrc = encoding.ssrc?;
    let codec = parameters.codecs.iter().find(|c| !is_rtx(*c))?;
    let apt = Value::from(codec.payload_type);
    let rtx_payload_type = parameters
        .codecs
        .iter()
        .find(|c| is_rtx(*c) && js::strict_eq(c.parameters.get("apt"), Some(&apt)))
        .map(|c| c.payload_type);
    let rtx_ssrc = encoding.rtx.as_ref().map(|r| r.ssrc);
    Some(ReceivedStream {
        ssrc,
        kind,
        payload_type: codec.payload_type,
        clock_rate: codec.clock_rate,
        rtx: rtx_ssrc.zip(rtx_payload_type),
        nack: codec
            .rtcp_feedback
            .iter()
            .any(|fb| fb.kind == "nack" && fb.parameter.is_empty()),
        transport_wide_id: parameters
            .header_extensions
            .iter()
            .find(|e| e.uri == TRANSPORT_CC_URI)
            .map(|e| e.id),
    })
}

/// Every codec of `kind` the device can receive, as the server sends it to a consumer: the
/// router's payload type and codec parameters, the RTCP feedback both sides support minus the
/// congestion control not in use (mediasoup keeps transport-cc when the device receives the
/// transport-wide-cc extension for `kind`, else REMB with abs-send-time, else neither), each
/// followed by its RTX (the router's RTX payload type, `apt` the router's payload type) when
/// both sides have RTX for it. In the order of the extended capabilities (the router's, by
/// default).
///
/// These are the `extra_codecs` of a receiving offer section: a consumer's own codecs come
/// from the server with the same router payload types, so a codec and its repeat in this list
/// share a payload type. Codecs without a router payload type are left out, and so is an RTX
/// payload type of 0 (no RTX, as the reference reads it).
pub fn receivable_codecs(
    kind: MediaKind,
    extended: &ExtendedRtpCapabilities,
) -> Vec<RtpCodecParameters> {
    let dropped = unused_congestion_feedback(|uri| {
        extended.header_extensions.iter().any(|ext| {
            ext.kind == kind
                && ext.uri == uri
                && matches!(ext.direction, Direction::Sendrecv | Direction::Recvonly)
        })
    });
    let mut codecs = Vec::new();
    for codec in extended.codecs.iter().filter(|c| c.kind == kind) {
        let Some(payload_type) = codec.remote_payload_type else {
            continue;
        };
        codecs.push(RtpCodecParameters {
            mime_type: codec.mime_type.clone(),
            payload_type,
            clock_rate: codec.clock_rate,
            channels: codec.channels,
            parameters: codec.remote_parameters.clone(),
            rtcp_feedback: codec
                .rtcp_feedback
                .iter()
                .filter(|fb| !dropped.contains(&fb.kind.as_str()))
                .cloned()
                .collect(),
        });
        if let Some(rtx_payload_type) = codec.remote_rtx_payload_type.filter(|pt| *pt != 0) {
            codecs.push(RtpCodecParameters {
                mime_type: format!("{}/rtx", kind.as_str()),
                payload_type: rtx_payload_type,
                clock_rate: codec.clock_rate,
                channels: None,
                parameters: rtx_parameters(Some(payload_type)),
                rtcp_feedback: vec![],
            });
        }
    }
    codecs
}
