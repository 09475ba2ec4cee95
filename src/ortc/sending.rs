//! RTP parameters for sending: what our side puts on the wire, what the remote answer
//! should say, and the codec a producer ends up using.

use crate::capabilities::rtx_parameters;
use crate::codec_match::{is_rtx, match_codecs};
use crate::error::{OrtcError, Result};
use crate::extended::{ExtendedRtpCapabilities, ExtendedRtpCodec};
use crate::types::{
    CodecParameters, Direction, MediaKind, RtpCodecCapability, RtpCodecParameters,
    RtpHeaderExtensionParameters, RtpParameters,
};
use serde_json::Map;

pub(crate) const TRANSPORT_CC_URI: &str =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
const ABS_SEND_TIME_URI: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";

/// The RTCP feedback types of congestion control not in use, as mediasoup decides it for a
/// stream whose header extensions `has`: transport-cc when the transport-wide-cc extension is
/// there (so no `goog-remb`), else REMB when abs-send-time is (no `transport-cc`), else none.
pub(crate) fn unused_congestion_feedback(has: impl Fn(&str) -> bool) -> &'static [&'static str] {
    if has(TRANSPORT_CC_URI) {
        &["goog-remb"]
    } else if has(ABS_SEND_TIME_URI) {
        &["transport-cc"]
    } else {
        &["transport-cc", "goog-remb"]
    }
}

fn sending_parameters(
    kind: MediaKind,
    extended: &ExtendedRtpCapabilities,
    parameters_of: impl Fn(&ExtendedRtpCodec) -> &CodecParameters,
) -> RtpParameters {
    let mut rtp = RtpParameters::default();
    for codec in extended.codecs.iter().filter(|c| c.kind == kind) {
        let Some(payload_type) = codec.local_payload_type else {
            continue;
        };
        rtp.codecs.push(RtpCodecParameters {
            mime_type: codec.mime_type.clone(),
            payload_type,
            clock_rate: codec.clock_rate,
            channels: codec.channels,
            parameters: parameters_of(codec).clone(),
            rtcp_feedback: codec.rtcp_feedback.clone(),
        });
        // A zero RTX payload type counts as none, as in the reference (JS falsiness).
        if let Some(rtx_payload_type) = codec.local_rtx_payload_type.filter(|pt| *pt != 0) {
            rtp.codecs.push(RtpCodecParameters {
                mime_type: format!("{}/rtx", codec.kind.as_str()),
                payload_type: rtx_payload_type,
                clock_rate: codec.clock_rate,
                channels: None,
                parameters: rtx_parameters(codec.local_payload_type),
                rtcp_feedback: vec![],
            });
        }
    }
    for ext in &extended.header_extensions {
        if ext.kind != kind
            || (ext.direction != Direction::Sendrecv && ext.direction != Direction::Sendonly)
        {
            continue;
        }
        rtp.header_extensions.push(RtpHeaderExtensionParameters {
            uri: ext.uri.clone(),
            id: ext.send_id,
            encrypt: ext.encrypt,
            parameters: Map::new(),
        });
    }
    rtp
}

/// The RTP parameters of `kind` we send with: local payload types and parameters, our
/// send header extension ids. `mid`, `encodings` and `rtcp` are left empty. Never fails
/// today (no codec of `kind` gives no codecs, as in the reference).
pub fn get_sending_rtp_parameters(
    kind: MediaKind,
    extended: &ExtendedRtpCapabilities,
) -> Result<RtpParameters> {
    Ok(sending_parameters(kind, extended, |c| &c.local_parameters))
}

/// The RTP parameters of `kind` for the remote SDP answer: local payload types with the
/// remote codec parameters. RTCP feedback is trimmed to one congestion control: with the
/// transport-cc header extension no `goog-remb`; else with abs-send-time no
/// `transport-cc`; else neither. Never fails today.
pub fn get_sending_remote_rtp_parameters(
    kind: MediaKind,
    extended: &ExtendedRtpCapabilities,
) -> Result<RtpParameters> {
    let mut rtp = sending_parameters(kind, extended, |c| &c.remote_parameters);
    let dropped =
        unused_congestion_feedback(|uri| rtp.header_extensions.iter().any(|ext| ext.uri == uri));
    for codec in &mut rtp.codecs {
        codec
            .rtcp_feedback
            .retain(|fb| !dropped.contains(&fb.kind.as_str()));
    }
    Ok(rtp)
}

/// The codecs a producer uses, out of sending `codecs` (from [`get_sending_rtp_parameters`]
/// or [`get_sending_remote_rtp_parameters`]): the first codec matching `cap_codec` (strict),
/// or the first codec when none is asked for, followed by its RTX codec if any.
///
/// A `cap_codec` that matches nothing is a `TypeError` ("no matching codec found").
pub fn reduce_codecs(
    codecs: &[RtpCodecParameters],
    cap_codec: Option<&RtpCodecCapability>,
) -> Result<Vec<RtpCodecParameters>> {
    let index = match cap_codec {
        None => {
            if codecs.is_empty() {
                return Ok(Vec::new());
            }
            0
        }
        Some(cap) => codecs
            .iter()
            .position(|codec| match_codecs(codec, cap, true).matched())
            .ok_or_else(|| OrtcError::type_error("no matching codec found"))?,
    };
    let mut reduced = vec![codecs[index].clone()];
    if let Some(rtx) = codecs.get(index + 1).filter(|c| is_rtx(*c)) {
        reduced.push(rtx.clone());
    }
    Ok(reduced)
}
