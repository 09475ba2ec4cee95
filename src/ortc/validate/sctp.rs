//! SCTP capabilities and parameters (DataChannels).

use super::{deserialize, object, optional, optional_integer, require_integer, typed, U16, U32};
use crate::error::{OrtcError, Result};
use crate::js;
use crate::types::{NumSctpStreams, SctpCapabilities, SctpParameters, SctpStreamParameters};
use serde_json::Value;

/// SCTP capabilities: `numStreams` is mandatory.
pub fn validate_sctp_capabilities(caps: &mut Value) -> Result<SctpCapabilities> {
    let obj = object(caps, "caps is not an object")?;
    match obj.get_mut("numStreams") {
        Some(num_streams @ Value::Object(_)) => {
            validate_num_sctp_streams(num_streams)?;
        }
        _ => return Err(OrtcError::type_error("missing caps.numStreams")),
    }
    typed(caps, "caps")
}

/// Number of SCTP streams: `OS` and `MIS` are mandatory.
pub fn validate_num_sctp_streams(num_streams: &mut Value) -> Result<NumSctpStreams> {
    let obj = object(num_streams, "numStreams is not an object")?;
    require_integer(obj, "OS", "numStreams.OS", 0, U16)?;
    require_integer(obj, "MIS", "numStreams.MIS", 0, U16)?;
    typed(num_streams, "numStreams")
}

/// SCTP parameters of a transport (from the server): `port`, `OS`, `MIS` and
/// `maxMessageSize` are mandatory (as libmediasoupclient checks them).
pub fn validate_sctp_parameters(params: &mut Value) -> Result<SctpParameters> {
    let obj = object(params, "params is not an object")?;
    require_integer(obj, "port", "params.port", 0, U16)?;
    require_integer(obj, "OS", "params.OS", 0, U16)?;
    require_integer(obj, "MIS", "params.MIS", 0, U16)?;
    require_integer(obj, "maxMessageSize", "params.maxMessageSize", 0, U32)?;
    typed(params, "params")
}

/// SCTP stream parameters of a data producer or consumer: `streamId` is mandatory;
/// `ordered` defaults to `true`, or to `false` when `maxPacketLifeTime` or `maxRetransmits`
/// is given (at most one of them, and not with `ordered: true`).
pub fn validate_and_normalize_sctp_stream_parameters(
    params: &mut Value,
) -> Result<SctpStreamParameters> {
    let obj = object(params, "params is not an object")?;
    require_integer(obj, "streamId", "params.streamId", 0, U16)?;
    let ordered_given = js::is_boolean(obj.get("ordered"));
    if !ordered_given {
        obj.insert("ordered".into(), Value::Bool(true));
    }
    optional_integer(obj, "maxPacketLifeTime", "params.maxPacketLifeTime", 0, U32)?;
    optional_integer(obj, "maxRetransmits", "params.maxRetransmits", 0, U32)?;
    let life_time = js::truthy(obj.get("maxPacketLifeTime"));
    let retransmits = js::truthy(obj.get("maxRetransmits"));
    if life_time && retransmits {
        return Err(OrtcError::type_error(
            "cannot provide both maxPacketLifeTime and maxRetransmits",
        ));
    }
    let ordered = obj.get("ordered") == Some(&Value::Bool(true));
    if ordered_given && ordered && (life_time || retransmits) {
        return Err(OrtcError::type_error(
            "cannot be ordered with maxPacketLifeTime or maxRetransmits",
        ));
    } else if !ordered_given && (life_time || retransmits) {
        obj.insert("ordered".into(), Value::Bool(false));
    }
    optional(obj, "label", "params.label", js::is_string)?;
    optional(obj, "protocol", "params.protocol", js::is_string)?;
    // label and protocol are the data channel's, not SDP text: any string
    deserialize(params, "params")
}
