//! Extended RTP capabilities: what the local side (the native WebRTC stack) and the remote
//! side (the mediasoup router) have in common, with the payload types and header
//! extension ids of each side. Everything the client sends or receives is derived from it.

use crate::codec_match::{
    apply_profile_level_id, is_rtx, match_codecs, reduce_rtcp_feedback, CodecMatch,
};
use crate::error::Result;
use crate::js;
use crate::types::{
    CodecParameters, Direction, MediaKind, RtcpFeedback, RtpCapabilities, RtpCodecCapability,
    RtpHeaderExtension,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

// What derives from extended capabilities is reachable from here as well.
pub use crate::capabilities::{
    can_receive, can_send, get_recv_rtp_capabilities, get_send_rtp_capabilities,
};
pub use crate::sending::{
    get_sending_remote_rtp_parameters, get_sending_rtp_parameters, reduce_codecs,
};

/// A codec both sides support.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedRtpCodec {
    /// Audio or video.
    pub kind: MediaKind,
    /// The local codec's `type/subtype`.
    pub mime_type: String,
    /// RTP clock rate in Hz (JSON `clockRate`).
    pub clock_rate: u32,
    /// Number of audio channels; absent for video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<u8>,
    /// The payload type the local side uses for the codec (JSON `localPayloadType`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_payload_type: Option<u8>,
    /// The local payload type of the codec's RTX (JSON `localRtxPayloadType`); set only
    /// when both sides have RTX for the codec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_rtx_payload_type: Option<u8>,
    /// The payload type the router uses for the codec (JSON `remotePayloadType`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_payload_type: Option<u8>,
    /// The router's payload type of the codec's RTX (JSON `remoteRtxPayloadType`); set only
    /// when both sides have RTX for the codec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_rtx_payload_type: Option<u8>,
    /// The local codec's parameters after matching (JSON `localParameters`).
    #[serde(default)]
    pub local_parameters: CodecParameters,
    /// The router codec's parameters after matching (JSON `remoteParameters`).
    #[serde(default)]
    pub remote_parameters: CodecParameters,
    /// The RTCP feedback both sides support (JSON `rtcpFeedback`).
    #[serde(default)]
    pub rtcp_feedback: Vec<RtcpFeedback>,
}

/// A header extension both sides support. `direction` is from the local point of view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedRtpHeaderExtension {
    /// The media kind this entry applies to.
    pub kind: MediaKind,
    /// The extension's URI.
    pub uri: String,
    /// The id used when sending: the local side's preferred id (JSON `sendId`).
    pub send_id: u8,
    /// The id expected when receiving: the router's preferred id (JSON `recvId`).
    pub recv_id: u8,
    /// Whether the extension is encrypted, as the local side prefers.
    #[serde(default)]
    pub encrypt: bool,
    /// Which way the extension may flow from the local side: the router's direction
    /// mirrored (its `recvonly` is our `sendonly`).
    pub direction: Direction,
}

/// What two sets of RTP capabilities have in common.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedRtpCapabilities {
    /// The matched media codecs, each with its RTX payload types when both sides have RTX.
    #[serde(default)]
    pub codecs: Vec<ExtendedRtpCodec>,
    /// The header extensions both sides know, by kind and URI (JSON `headerExtensions`).
    #[serde(default)]
    pub header_extensions: Vec<ExtendedRtpHeaderExtension>,
}

/// Finds the first codec of `candidates` that matches `codec` (strict), the candidate
/// taken as the local side of the H.264 level answer (as the reference does in both codec
/// orders). On a match the negotiated profile-level-id is written into both codecs.
fn find_and_negotiate(
    codec: &mut RtpCodecCapability,
    candidates: &mut [RtpCodecCapability],
) -> Option<usize> {
    for (index, candidate) in candidates.iter_mut().enumerate() {
        if let CodecMatch::Yes { profile_level_id } = match_codecs(&*candidate, &*codec, true) {
            if let Some(id) = profile_level_id {
                apply_profile_level_id(&mut candidate.parameters, &id);
                apply_profile_level_id(&mut codec.parameters, &id);
            }
            return Some(index);
        }
    }
    None
}

/// The first RTX codec of `codecs` whose `apt` is `payload_type` (compared as JS `===`).
fn rtx_payload_type_for(
    codecs: &[RtpCodecCapability],
    payload_type: Option<u8>,
) -> Option<Option<u8>> {
    let wanted = payload_type.map(Value::from);
    codecs
        .iter()
        .find(|c| is_rtx(*c) && js::strict_eq(c.parameters.get("apt"), wanted.as_ref()))
        .map(|c| c.preferred_payload_type)
}

fn header_extensions_match(a: &RtpHeaderExtension, b: &RtpHeaderExtension) -> bool {
    a.kind == b.kind && a.uri == b.uri
}

/// The extended RTP capabilities of `local` (our native capabilities) against `remote`
/// (the router's), in the router's codec order: what mediasoup-client's `Device.load()`
/// computes. The inputs are left untouched. Never fails today; a `Result` so that a check
/// can be added without changing callers.
pub fn get_extended_rtp_capabilities(
    local: &RtpCapabilities,
    remote: &RtpCapabilities,
) -> Result<ExtendedRtpCapabilities> {
    Ok(get_extended_rtp_capabilities_mut(
        &mut local.clone(),
        &mut remote.clone(),
        false,
    ))
}

/// [`get_extended_rtp_capabilities`] with everything mediasoup-client 3.18.7's
/// `getExtendedRtpCapabilities(localCaps, remoteCaps, preferLocalCodecsOrder)` does.
///
/// Codecs keep the remote order, or the local one with `prefer_local_codecs_order`. RTX is
/// paired by `apt` on both sides. Header extensions are matched by kind and uri, in remote
/// order; a `recvonly` remote extension is one we may send (`sendonly`) and vice versa.
///
/// As in mediasoup-client, codec matching negotiates H.264 `profile-level-id` and writes
/// the answer back into the matched codecs of `local` and `remote`, which is why they are
/// `&mut`: a later call with the same capabilities sees the negotiated value, exactly as
/// the reference's Device does. The returned `localParameters`/`remoteParameters` are
/// those codecs' parameters after the whole matching.
pub fn get_extended_rtp_capabilities_mut(
    local: &mut RtpCapabilities,
    remote: &mut RtpCapabilities,
    prefer_local_codecs_order: bool,
) -> ExtendedRtpCapabilities {
    // (local codec index, remote codec index) of each match, in output order.
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    if prefer_local_codecs_order {
        for li in 0..local.codecs.len() {
            if is_rtx(&local.codecs[li]) {
                continue;
            }
            let local_codec = &mut local.codecs[li];
            if let Some(ri) = find_and_negotiate(local_codec, &mut remote.codecs) {
                pairs.push((li, ri));
            }
        }
    } else {
        for ri in 0..remote.codecs.len() {
            if is_rtx(&remote.codecs[ri]) {
                continue;
            }
            let remote_codec = &mut remote.codecs[ri];
            if let Some(li) = find_and_negotiate(remote_codec, &mut local.codecs) {
                pairs.push((li, ri));
            }
        }
    }

    let mut extended = ExtendedRtpCapabilities::default();
    for &(li, ri) in &pairs {
        let local_codec = &local.codecs[li];
        let remote_codec = &remote.codecs[ri];
        let mut codec = ExtendedRtpCodec {
            kind: local_codec.kind,
            mime_type: local_codec.mime_type.clone(),
            clock_rate: local_codec.clock_rate,
            channels: local_codec.channels,
            local_payload_type: local_codec.preferred_payload_type,
            local_rtx_payload_type: None,
            remote_payload_type: remote_codec.preferred_payload_type,
            remote_rtx_payload_type: None,
            local_parameters: local_codec.parameters.clone(),
            remote_parameters: remote_codec.parameters.clone(),
            rtcp_feedback: reduce_rtcp_feedback(local_codec, remote_codec),
        };
        let local_rtx = rtx_payload_type_for(&local.codecs, codec.local_payload_type);
        let remote_rtx = rtx_payload_type_for(&remote.codecs, codec.remote_payload_type);
        if let (Some(local_rtx), Some(remote_rtx)) = (local_rtx, remote_rtx) {
            codec.local_rtx_payload_type = local_rtx;
            codec.remote_rtx_payload_type = remote_rtx;
        }
        extended.codecs.push(codec);
    }

    for remote_ext in &remote.header_extensions {
        let Some(local_ext) = local
            .header_extensions
            .iter()
            .find(|local_ext| header_extensions_match(local_ext, remote_ext))
        else {
            continue;
        };
        extended.header_extensions.push(ExtendedRtpHeaderExtension {
            kind: remote_ext.kind,
            uri: remote_ext.uri.clone(),
            send_id: local_ext.preferred_id,
            recv_id: remote_ext.preferred_id,
            encrypt: local_ext.preferred_encrypt,
            direction: match remote_ext.direction {
                Direction::Sendrecv => Direction::Sendrecv,
                Direction::Recvonly => Direction::Sendonly,
                Direction::Sendonly => Direction::Recvonly,
                Direction::Inactive => Direction::Inactive,
            },
        });
    }
    extended
}
