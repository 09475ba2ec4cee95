//! What a receiving transport derives from the extended capabilities: the codecs its offer
//! sections may list besides a consumer's own.

use crate::capabilities::rtx_parameters;
use crate::extended::ExtendedRtpCapabilities;
use crate::sending::unused_congestion_feedback;
use crate::types::{Direction, MediaKind, RtpCodecParameters};

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
