//! ICE and DTLS parameters of a transport, as the server gives them. mediasoup-client
//! does not check these; the checks follow libmediasoupclient's, with mediasoup 3.13+
//! candidates (`address`, older servers sent `ip`).

use super::{object, optional, require_integer, require_string, typed, U16, U32};
use crate::error::{OrtcError, Result};
use crate::js;
use crate::types::{DtlsParameters, IceCandidate, IceParameters};
use serde_json::Value;

/// ICE parameters: `usernameFragment` and `password` are mandatory, `iceLite` defaults to
/// `false`.
pub fn validate_ice_parameters(params: &mut Value) -> Result<IceParameters> {
    let obj = object(params, "params is not an object")?;
    require_string(obj, "usernameFragment", "params.usernameFragment")?;
    require_string(obj, "password", "params.password")?;
    if !js::is_boolean(obj.get("iceLite")) {
        obj.insert("iceLite".into(), Value::Bool(false));
    }
    typed(params, "params")
}

/// An ICE candidate: `foundation`, `priority`, `address` (or the older `ip`, copied to
/// `address`), `protocol` (`udp`/`tcp`), `port` and `type` (`host`, `srflx`, `prflx`,
/// `relay`) are mandatory; `tcpType` is checked when present.
pub fn validate_ice_candidate(candidate: &mut Value) -> Result<IceCandidate> {
    let obj = object(candidate, "params is not an object")?;
    require_string(obj, "foundation", "params.foundation")?;
    require_integer(obj, "priority", "params.priority", 0, U32)?;
    if !js::truthy(obj.get("address")) {
        if let Some(ip) = obj.get("ip").filter(|ip| js::truthy(Some(ip))).cloned() {
            obj.insert("address".into(), ip);
        }
    }
    require_string(obj, "address", "params.address")?;
    require_string(obj, "protocol", "params.protocol")?;
    let protocol = obj
        .get("protocol")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !["udp", "tcp"]
        .iter()
        .any(|p| protocol.eq_ignore_ascii_case(p))
    {
        return Err(OrtcError::type_error("invalid params.protocol"));
    }
    require_integer(obj, "port", "params.port", 0, U16)?;
    require_string(obj, "type", "params.type")?;
    let kind = obj.get("type").and_then(Value::as_str).unwrap_or_default();
    if !["host", "srflx", "prflx", "relay"]
        .iter()
        .any(|t| kind.eq_ignore_ascii_case(t))
    {
        return Err(OrtcError::type_error("invalid params.type"));
    }
    optional(obj, "tcpType", "params.tcpType", js::is_string)?;
    typed(candidate, "params")
}

/// A list of ICE candidates.
pub fn validate_ice_candidates(candidates: &mut Value) -> Result<Vec<IceCandidate>> {
    let Value::Array(items) = candidates else {
        return Err(OrtcError::type_error("params is not an array"));
    };
    items.iter_mut().map(validate_ice_candidate).collect()
}

/// DTLS parameters: `fingerprints` is a mandatory, non-empty array of `{ algorithm, value }`;
/// `role` is optional (`auto`, `client` or `server`, any case, written lowercase).
pub fn validate_dtls_parameters(params: &mut Value) -> Result<DtlsParameters> {
    let obj = object(params, "params is not an object")?;
    match obj.get("role") {
        None | Some(Value::Null) => {
            obj.shift_remove("role");
        }
        Some(Value::String(role))
            if ["auto", "client", "server"]
                .iter()
                .any(|r| role.eq_ignore_ascii_case(r)) =>
        {
            let lower = role.to_ascii_lowercase();
            obj.insert("role".into(), Value::String(lower));
        }
        Some(_) => return Err(OrtcError::type_error("invalid params.role")),
    }
    match obj.get_mut("fingerprints") {
        Some(Value::Array(fingerprints)) if !fingerprints.is_empty() => {
            for fingerprint in fingerprints {
                let fp = object(fingerprint, "fingerprint is not an object")?;
                require_string(fp, "algorithm", "fingerprint.algorithm")?;
                require_string(fp, "value", "fingerprint.value")?;
            }
        }
        _ => return Err(OrtcError::type_error("missing params.fingerprints")),
    }
    typed(params, "params")
}
