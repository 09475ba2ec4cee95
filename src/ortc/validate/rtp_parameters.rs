//! RTP parameters: codecs, header extensions, encodings, RTCP.

use super::rtp_capabilities::normalize_channels;
use super::{
    array_or_empty, each, integer_in, normalize_codec_parameters, normalize_codec_rtcp_feedback,
    object, optional, optional_integer, require_codec_kind, require_integer, require_string, typed,
    Object, U32, U8,
};
use crate::error::{OrtcError, Result};
use crate::js;
use crate::types::{
    RtcpParameters, RtpCodecParameters, RtpEncodingParameters, RtpHeaderExtensionParameters,
    RtpParameters,
};
use serde_json::Value;

/// RTP parameters: `codecs` is mandatory; `headerExtensions` and `encodings` default to
/// `[]` and `rtcp` to `{}` (then normalized).
pub fn validate_and_normalize_rtp_parameters(params: &mut Value) -> Result<RtpParameters> {
    let obj = object(params, "params is not an object")?;
    let mid = obj.get("mid");
    if js::truthy(mid) && !js::is_string(mid) {
        return Err(OrtcError::type_error("params.mid is not a string"));
    }
    optional(obj, "mid", "params.mid", js::is_string)?;
    if !matches!(obj.get("codecs"), Some(Value::Array(_))) {
        return Err(OrtcError::type_error("missing params.codecs"));
    }
    each(obj, "codecs", validate_and_normalize_rtp_codec_parameters)?;
    array_or_empty(
        obj,
        "headerExtensions",
        "params.headerExtensions is not an array",
    )?;
    each(
        obj,
        "headerExtensions",
        validate_rtp_header_extension_parameters,
    )?;
    array_or_empty(obj, "encodings", "params.encodings is not an array")?;
    each(
        obj,
        "encodings",
        validate_and_normalize_rtp_encoding_parameters,
    )?;
    match obj.get("rtcp") {
        Some(Value::Object(_)) => {}
        rtcp if js::truthy(rtcp) => {
            return Err(OrtcError::type_error("params.rtcp is not an object"))
        }
        _ => {
            obj.insert("rtcp".into(), Value::Object(Object::new()));
        }
    }
    if let Some(rtcp) = obj.get_mut("rtcp") {
        validate_and_normalize_rtcp_parameters(rtcp)?;
    }
    typed(params, "params")
}

/// A codec of RTP parameters: like a codec capability, with `payloadType` and without
/// setting `kind`.
pub fn validate_and_normalize_rtp_codec_parameters(
    codec: &mut Value,
) -> Result<RtpCodecParameters> {
    let obj = object(codec, "codec is not an object")?;
    let kind = require_codec_kind(obj)?;
    require_integer(obj, "payloadType", "codec.payloadType", 0, U8)?;
    require_integer(obj, "clockRate", "codec.clockRate", 0, U32)?;
    normalize_channels(obj, kind)?;
    normalize_codec_parameters(obj)?;
    normalize_codec_rtcp_feedback(obj)?;
    typed(codec, "codec")
}

/// A header extension of RTP parameters: `uri` and `id` are mandatory, `encrypt` defaults
/// to `false` and `parameters` to `{}` (of strings and numbers).
pub fn validate_rtp_header_extension_parameters(
    ext: &mut Value,
) -> Result<RtpHeaderExtensionParameters> {
    let obj = object(ext, "ext is not an object")?;
    require_string(obj, "uri", "ext.uri")?;
    require_integer(obj, "id", "ext.id", 0, U8)?;
    let encrypt = obj.get("encrypt");
    if js::truthy(encrypt) && !js::is_boolean(encrypt) {
        return Err(OrtcError::type_error("invalid ext.encrypt"));
    } else if !js::truthy(encrypt) {
        obj.insert("encrypt".into(), Value::Bool(false));
    }
    if !js::is_object(obj.get("parameters")) {
        obj.insert("parameters".into(), Value::Object(Object::new()));
    }
    if let Some(Value::Object(parameters)) = obj.get("parameters") {
        if parameters
            .values()
            .any(|v| !matches!(v, Value::String(_) | Value::Number(_)))
        {
            return Err(OrtcError::type_error("invalid header extension parameter"));
        }
    }
    typed(ext, "ext")
}

/// An encoding: `ssrc`, `rid`, `rtx`, `scalabilityMode` are checked when present; `dtx`
/// defaults to `false`.
pub fn validate_and_normalize_rtp_encoding_parameters(
    encoding: &mut Value,
) -> Result<RtpEncodingParameters> {
    let obj = object(encoding, "encoding is not an object")?;
    optional_integer(obj, "ssrc", "encoding.ssrc", 0, U32)?;
    optional(obj, "rid", "encoding.rid", js::is_string)?;
    match obj.get("rtx") {
        Some(Value::Object(rtx)) => {
            if !js::is_number(rtx.get("ssrc")) {
                return Err(OrtcError::type_error("missing encoding.rtx.ssrc"));
            }
            if !rtx.get("ssrc").is_some_and(|v| integer_in(v, 0, U32)) {
                return Err(OrtcError::type_error("invalid encoding.rtx.ssrc"));
            }
        }
        Some(Value::Array(_)) => return Err(OrtcError::type_error("missing encoding.rtx.ssrc")),
        rtx if js::truthy(rtx) => return Err(OrtcError::type_error("invalid encoding.rtx")),
        Some(_) => {
            obj.shift_remove("rtx");
        }
        None => {}
    }
    let dtx = obj.get("dtx");
    if !(js::truthy(dtx) && js::is_boolean(dtx)) {
        obj.insert("dtx".into(), Value::Bool(false));
    }
    optional(
        obj,
        "scalabilityMode",
        "encoding.scalabilityMode",
        js::is_string,
    )?;
    typed(encoding, "encoding")
}

/// RTCP parameters: `cname` is checked when present; `reducedSize` becomes `true` unless
/// it is `true` already (so, as in the reference, `false` becomes `true`).
pub fn validate_and_normalize_rtcp_parameters(rtcp: &mut Value) -> Result<RtcpParameters> {
    let obj = object(rtcp, "rtcp is not an object")?;
    optional(obj, "cname", "rtcp.cname", js::is_string)?;
    let reduced_size = obj.get("reducedSize");
    if !(js::truthy(reduced_size) && js::is_boolean(reduced_size)) {
        obj.insert("reducedSize".into(), Value::Bool(true));
    }
    typed(rtcp, "rtcp")
}

/// `params` as mediasoup-client's `validateAndNormalizeRtpParameters` leaves them (every
/// encoding has `dtx`, `rtcp.reducedSize` is set, header extensions have `parameters`): the
/// form the `produce` event and `producer.rtpParameters` carry.
pub fn normalized_rtp_parameters(params: &RtpParameters) -> Result<RtpParameters> {
    let mut value = serde_json::to_value(params)
        .map_err(|e| OrtcError::type_error(format!("invalid rtpParameters: {e}")))?;
    validate_and_normalize_rtp_parameters(&mut value)
}
