//! #[napi] glue for the pure ORTC layer (msc-ortc): mediasoup-client's `ortc` functions over
//! JSON values. lib/ortc.js gives them their JS names and the reference's in-place semantics.

use msc_ortc::{self as ortc, MediaKind, OrtcError};
use napi_derive::napi;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use super::errors::{failed, invalid_argument, to_js, Code};

fn to_json<T: Serialize>(value: &T) -> napi::Result<Value, Code> {
    serde_json::to_value(value).map_err(failed)
}

/// A typed argument, or a TypeError naming it.
fn arg<T: DeserializeOwned>(value: Value, name: &str) -> napi::Result<T, Code> {
    serde_json::from_value(value).map_err(|e| invalid_argument(format!("invalid {name}: {e}")))
}

/// `None` for a kind that is neither audio nor video: the reference then matches nothing.
fn kind(kind: &str) -> Option<MediaKind> {
    match kind {
        "audio" => Some(MediaKind::Audio),
        "video" => Some(MediaKind::Video),
        _ => None,
    }
}

/// Runs a validator and returns the normalized value.
fn normalized<T>(
    mut value: Value,
    validate: fn(&mut Value) -> Result<T, OrtcError>,
) -> napi::Result<Value, Code> {
    validate(&mut value).map_err(to_js)?;
    Ok(value)
}

#[napi(js_name = "ortcValidateAndNormalizeRtpCapabilities", catch_unwind)]
pub fn validate_and_normalize_rtp_capabilities(caps: Value) -> napi::Result<Value, Code> {
    normalized(caps, ortc::validate_and_normalize_rtp_capabilities)
}

#[napi(js_name = "ortcValidateAndNormalizeRtpParameters", catch_unwind)]
pub fn validate_and_normalize_rtp_parameters(params: Value) -> napi::Result<Value, Code> {
    normalized(params, ortc::validate_and_normalize_rtp_parameters)
}

#[napi(js_name = "ortcValidateAndNormalizeSctpStreamParameters", catch_unwind)]
pub fn validate_and_normalize_sctp_stream_parameters(params: Value) -> napi::Result<Value, Code> {
    normalized(params, ortc::validate_and_normalize_sctp_stream_parameters)
}

#[napi(js_name = "ortcValidateSctpCapabilities", catch_unwind)]
pub fn validate_sctp_capabilities(caps: Value) -> napi::Result<Value, Code> {
    normalized(caps, ortc::validate_sctp_capabilities)
}

#[napi(js_name = "ortcValidateSctpParameters", catch_unwind)]
pub fn validate_sctp_parameters(params: Value) -> napi::Result<Value, Code> {
    normalized(params, ortc::validate_sctp_parameters)
}

#[napi(js_name = "ortcValidateIceParameters", catch_unwind)]
pub fn validate_ice_parameters(params: Value) -> napi::Result<Value, Code> {
    normalized(params, ortc::validate_ice_parameters)
}

#[napi(js_name = "ortcValidateIceCandidates", catch_unwind)]
pub fn validate_ice_candidates(candidates: Value) -> napi::Result<Value, Code> {
    normalized(candidates, ortc::validate_ice_candidates)
}

#[napi(js_name = "ortcValidateDtlsParameters", catch_unwind)]
pub fn validate_dtls_parameters(params: Value) -> napi::Result<Value, Code> {
    normalized(params, ortc::validate_dtls_parameters)
}

/// `{ extended, localCaps, remoteCaps }`: the extended capabilities, and both inputs with the
/// negotiated H.264 profile-level-id written back (the reference mutates its arguments).
#[napi(js_name = "ortcGetExtendedRtpCapabilities", catch_unwind)]
pub fn get_extended_rtp_capabilities(
    local_caps: Value,
    remote_caps: Value,
    prefer_local_codecs_order: Option<bool>,
) -> napi::Result<Value, Code> {
    let mut local: ortc::RtpCapabilities = arg(local_caps, "localCaps")?;
    let mut remote: ortc::RtpCapabilities = arg(remote_caps, "remoteCaps")?;
    let extended = ortc::get_extended_rtp_capabilities_mut(
        &mut local,
        &mut remote,
        prefer_local_codecs_order.unwrap_or(false),
    );
    Ok(json!({
        "extended": to_json(&extended)?,
        "localCaps": to_json(&local)?,
        "remoteCaps": to_json(&remote)?,
    }))
}

#[napi(js_name = "ortcGetRecvRtpCapabilities", catch_unwind)]
pub fn get_recv_rtp_capabilities(extended_rtp_capabilities: Value) -> napi::Result<Value, Code> {
    let extended: ortc::ExtendedRtpCapabilities =
        arg(extended_rtp_capabilities, "extendedRtpCapabilities")?;
    to_json(&ortc::get_recv_rtp_capabilities(&extended))
}

#[napi(js_name = "ortcGetSendRtpCapabilities", catch_unwind)]
pub fn get_send_rtp_capabilities(extended_rtp_capabilities: Value) -> napi::Result<Value, Code> {
    let extended: ortc::ExtendedRtpCapabilities =
        arg(extended_rtp_capabilities, "extendedRtpCapabilities")?;
    to_json(&ortc::get_send_rtp_capabilities(&extended))
}

#[napi(js_name = "ortcGetSendingRtpParameters", catch_unwind)]
pub fn get_sending_rtp_parameters(
    kind_: String,
    extended_rtp_capabilities: Value,
) -> napi::Result<Value, Code> {
    let extended: ortc::ExtendedRtpCapabilities =
        arg(extended_rtp_capabilities, "extendedRtpCapabilities")?;
    match kind(&kind_) {
        Some(k) => to_json(&ortc::get_sending_rtp_parameters(k, &extended).map_err(to_js)?),
        None => to_json(&ortc::RtpParameters::default()),
    }
}

#[napi(js_name = "ortcGetSendingRemoteRtpParameters", catch_unwind)]
pub fn get_sending_remote_rtp_parameters(
    kind_: String,
    extended_rtp_capabilities: Value,
) -> napi::Result<Value, Code> {
    let extended: ortc::ExtendedRtpCapabilities =
        arg(extended_rtp_capabilities, "extendedRtpCapabilities")?;
    match kind(&kind_) {
        Some(k) => to_json(&ortc::get_sending_remote_rtp_parameters(k, &extended).map_err(to_js)?),
        None => to_json(&ortc::RtpParameters::default()),
    }
}

#[napi(js_name = "ortcReduceCodecs", catch_unwind)]
pub fn reduce_codecs(codecs: Value, cap_codec: Option<Value>) -> napi::Result<Value, Code> {
    let codecs: Vec<ortc::RtpCodecParameters> = arg(codecs, "codecs")?;
    let cap_codec: Option<ortc::RtpCodecCapability> = match cap_codec {
        None | Some(Value::Null) => None,
        Some(value) => Some(arg(value, "capCodec")?),
    };
    to_json(&ortc::reduce_codecs(&codecs, cap_codec.as_ref()).map_err(to_js)?)
}

#[napi(js_name = "ortcGenerateProbatorRtpParameters", catch_unwind)]
pub fn generate_probator_rtp_parameters(video_rtp_parameters: Value) -> napi::Result<Value, Code> {
    let mut value = video_rtp_parameters;
    let video = ortc::validate_and_normalize_rtp_parameters(&mut value).map_err(to_js)?;
    to_json(&ortc::generate_probator_rtp_parameters(&video).map_err(to_js)?)
}

#[napi(js_name = "ortcCanSend", catch_unwind)]
pub fn can_send(kind_: String, rtp_capabilities: Value) -> napi::Result<bool, Code> {
    let caps: ortc::RtpCapabilities = arg(rtp_capabilities, "rtpCapabilities")?;
    Ok(kind(&kind_).is_some_and(|k| ortc::can_send(k, &caps)))
}

/// `rtpParameters` must be normalized already (lib/ortc.js validates them first, in place).
#[napi(js_name = "ortcCanReceive", catch_unwind)]
pub fn can_receive(rtp_parameters: Value, rtp_capabilities: Value) -> napi::Result<bool, Code> {
    let mut value = rtp_parameters;
    let params = ortc::validate_and_normalize_rtp_parameters(&mut value).map_err(to_js)?;
    let caps: ortc::RtpCapabilities = arg(rtp_capabilities, "rtpCapabilities")?;
    Ok(ortc::can_receive(&params, &caps))
}

#[napi(js_name = "ortcParseScalabilityMode", catch_unwind)]
pub fn parse_scalability_mode(scalability_mode: Option<String>) -> napi::Result<Value, Code> {
    to_json(&ortc::parse_scalability_mode(scalability_mode.as_deref()))
}

/// The track's codec from its JS description `{ kind, mimeType, parameters }`.
fn track_codec(track: Value) -> napi::Result<ortc::TrackCodec, Code> {
    let field = |name: &str| track.get(name).and_then(Value::as_str);
    let kind = field("kind")
        .and_then(kind)
        .ok_or_else(|| invalid_argument("invalid track kind"))?;
    let mime_type = field("mimeType")
        .ok_or_else(|| invalid_argument("invalid track codec"))?
        .to_owned();
    let parameters = match track.get("parameters") {
        None | Some(Value::Null) => ortc::CodecParameters::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => return Err(invalid_argument("track codec parameters must be an object")),
    };
    Ok(ortc::TrackCodec {
        kind,
        mime_type,
        parameters,
    })
}

/// The codec of `rtpCapabilities` (a loaded device's) to send a track bound to one bitstream
/// as, profiles read from `routerRtpCapabilities` (what the device was loaded with) when
/// given; UnsupportedError when there is none.
#[napi(js_name = "ortcCodecForTrack", catch_unwind)]
pub fn codec_for_track(
    track: Value,
    rtp_capabilities: Value,
    router_rtp_capabilities: Option<Value>,
) -> napi::Result<Value, Code> {
    let track = track_codec(track)?;
    let caps: ortc::RtpCapabilities = arg(rtp_capabilities, "rtpCapabilities")?;
    let router: ortc::RtpCapabilities = match router_rtp_capabilities {
        None | Some(Value::Null) => ortc::RtpCapabilities::default(),
        Some(mut value) => {
            ortc::validate_and_normalize_rtp_capabilities(&mut value).map_err(to_js)?
        }
    };
    let index = ortc::codec_for_track(&track, &caps.codecs, &router.codecs).map_err(to_js)?;
    to_json(&caps.codecs[index])
}

/// Checks the `codec` an application gave produce() for such a track: TypeError when it is
/// not of the track's mime type and profile.
#[napi(js_name = "ortcCheckCodecForTrack", catch_unwind)]
pub fn check_codec_for_track(track: Value, codec: Value) -> napi::Result<(), Code> {
    let track = track_codec(track)?;
    let mime_type = codec.get("mimeType").and_then(Value::as_str);
    let parameters = match codec.get("parameters") {
        Some(Value::Object(map)) => map.clone(),
        _ => ortc::CodecParameters::new(),
    };
    match mime_type {
        Some(mime_type) => ortc::check_codec_for_track(&track, mime_type, &parameters),
        None => Err(OrtcError::type_error(format!(
            "codec {} does not match the track, which holds {}",
            codec
                .get("mimeType")
                .map_or("undefined".into(), |v| v.to_string()),
            track.mime_type
        ))),
    }
    .map_err(to_js)
}
