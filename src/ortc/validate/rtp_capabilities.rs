//! RTP capabilities: codecs, RTCP feedback, header extensions.

use super::{
    array_or_empty, each, normalize_codec_parameters, normalize_codec_rtcp_feedback, object,
    require_codec_kind, require_integer, require_string, typed, U32, U8,
};
use crate::error::{OrtcError, Result};
use crate::js;
use crate::types::{RtcpFeedback, RtpCapabilities, RtpCodecCapability, RtpHeaderExtension};
use serde_json::Value;

/// RTP capabilities: `codecs` and `headerExtensions` default to `[]`.
pub fn validate_and_normalize_rtp_capabilities(caps: &mut Value) -> Result<RtpCapabilities> {
    let obj = object(caps, "caps is not an object")?;
    array_or_empty(obj, "codecs", "caps.codecs is not an array")?;
    each(obj, "codecs", validate_and_normalize_rtp_codec_capability)?;
    array_or_empty(
        obj,
        "headerExtensions",
        "caps.headerExtensions is not an array",
    )?;
    each(
        obj,
        "headerExtensions",
        validate_and_normalize_rtp_header_extension,
    )?;
    typed(caps, "caps")
}

/// [`validate_and_normalize_rtp_capabilities`] under libmediasoupclient's name.
pub fn validate_rtp_capabilities(caps: &mut Value) -> Result<RtpCapabilities> {
    validate_and_normalize_rtp_capabilities(caps)
}

/// A codec capability: `kind` is set from the mimeType; audio `channels` default to 1 and
/// video ones are removed; `parameters` default to `{}`, `rtcpFeedback` to `[]`.
pub fn validate_and_normalize_rtp_codec_capability(
    codec: &mut Value,
) -> Result<RtpCodecCapability> {
    let obj = object(codec, "codec is not an object")?;
    let kind = require_codec_kind(obj)?;
    obj.insert("kind".into(), Value::from(kind));
    require_integer(
        obj,
        "preferredPayloadType",
        "codec.preferredPayloadType",
        0,
        U8,
    )?;
    require_integer(obj, "clockRate", "codec.clockRate", 0, U32)?;
    normalize_channels(obj, kind)?;
    normalize_codec_parameters(obj)?;
    normalize_codec_rtcp_feedback(obj)?;
    typed(codec, "codec")
}

/// Audio `channels` default to 1 (and must fit a u8); video codecs have none.
pub(super) fn normalize_channels(obj: &mut super::Object, kind: &str) -> Result<()> {
    if kind != "audio" {
        obj.shift_remove("channels");
        return Ok(());
    }
    match obj.get("channels") {
        Some(v) if v.is_number() => {
            if !super::integer_in(v, 0, U8) {
                return Err(OrtcError::type_error("invalid codec.channels"));
            }
        }
        _ => {
            obj.insert("channels".into(), Value::from(1));
        }
    }
    Ok(())
}

/// An RTCP feedback entry: `type` is mandatory, `parameter` defaults to `""`.
pub fn validate_and_normalize_rtcp_feedback(fb: &mut Value) -> Result<RtcpFeedback> {
    let obj = object(fb, "fb is not an object")?;
    require_string(obj, "type", "fb.type")?;
    let parameter = obj.get("parameter");
    if !(js::truthy(parameter) && js::is_string(parameter)) {
        obj.insert("parameter".into(), Value::from(""));
    }
    typed(fb, "fb")
}

/// A header extension capability: `kind`, `uri` and `preferredId` are mandatory,
/// `preferredEncrypt` defaults to `false` and `direction` to `"sendrecv"`.
pub fn validate_and_normalize_rtp_header_extension(ext: &mut Value) -> Result<RtpHeaderExtension> {
    let obj = object(ext, "ext is not an object")?;
    if !matches!(
        obj.get("kind").and_then(Value::as_str),
        Some("audio" | "video")
    ) {
        return Err(OrtcError::type_error("invalid ext.kind"));
    }
    require_string(obj, "uri", "ext.uri")?;
    require_integer(obj, "preferredId", "ext.preferredId", 0, U8)?;
    let encrypt = obj.get("preferredEncrypt");
    if js::truthy(encrypt) && !js::is_boolean(encrypt) {
        return Err(OrtcError::type_error("invalid ext.preferredEncrypt"));
    } else if !js::truthy(encrypt) {
        obj.insert("preferredEncrypt".into(), Value::Bool(false));
    }
    let direction = obj.get("direction");
    if js::truthy(direction) && !js::is_string(direction) {
        return Err(OrtcError::type_error("invalid ext.direction"));
    } else if !js::truthy(direction) {
        obj.insert("direction".into(), Value::from("sendrecv"));
    }
    if !matches!(
        obj.get("direction").and_then(Value::as_str),
        Some("sendrecv" | "sendonly" | "recvonly" | "inactive")
    ) {
        return Err(OrtcError::type_error("invalid ext.direction"));
    }
    typed(ext, "ext")
}
