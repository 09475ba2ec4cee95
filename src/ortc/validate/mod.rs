//! Validation and normalization of what crosses the signalling channel, on JSON values.
//!
//! Each `validate*` function checks a value the way mediasoup-client 3.18.7 (or, for the
//! types it does not check, libmediasoupclient) does, fills in the same defaults in place,
//! and returns the typed struct. A bad value is a `TypeError` whose message names the field,
//! in the reference's words (`missing codec.mimeType`).
//!
//! Deliberate differences, all on input the reference would accept only to carry junk:
//! - `null` and arrays are not objects (the reference crashes on `null` with another
//!   `TypeError`, and fills defaults into arrays);
//! - numbers must fit the typed field (a payload type is an integer 0-255, a clock rate a
//!   u32...): `invalid <field>`;
//! - an optional field that is falsy and of the wrong type (`mid: 0`, `ssrc: ""`, `null`) is
//!   removed rather than kept;
//! - a header extension `direction` must be one of the four directions;
//! - no string (nor object key) of RTP, ICE or DTLS parameters may hold a line break or NUL:
//!   each goes into an SDP line (`invalid <what>: "..." holds a line break or NUL character`).

mod consume;
mod rtp_capabilities;
mod rtp_parameters;
mod sctp;
mod transport;

pub use consume::*;
pub use rtp_capabilities::*;
pub use rtp_parameters::*;
pub use sctp::*;
pub use transport::*;

use crate::error::{OrtcError, Result};
use crate::js;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

type Object = Map<String, Value>;

/// The value as a plain object, or a `TypeError` with `message`.
fn object<'a>(value: &'a mut Value, message: &str) -> Result<&'a mut Object> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(OrtcError::type_error(message)),
    }
}

/// Replaces integral floats (`100.0`, as JS numbers may arrive) by integers, recursively.
fn integralize(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64() {
                if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
                    *n = Number::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integralize),
        Value::Object(map) => map.values_mut().for_each(integralize),
        _ => {}
    }
}

/// The typed struct of a validated value that goes into the remote SDP (RTP, ICE, DTLS): as
/// [`deserialize`], and a string (or key) holding a line break or NUL is `invalid <what>`,
/// since each such string is written into an SDP line, which a line break would end.
fn typed<T: DeserializeOwned>(value: &Value, what: &str) -> Result<T> {
    if let Some(text) = multiline_string(value) {
        return Err(OrtcError::type_error(format!(
            "invalid {what}: {} holds a line break or NUL character",
            Value::from(text)
        )));
    }
    deserialize(value, what)
}

/// The typed struct of a validated value; a serde failure is `invalid <what>: <why>`.
fn deserialize<T: DeserializeOwned>(value: &Value, what: &str) -> Result<T> {
    let mut value = value.clone();
    integralize(&mut value);
    serde_json::from_value(value).map_err(|e| OrtcError::type_error(format!("invalid {what}: {e}")))
}

/// The first string or object key of `value` that holds CR, LF or NUL.
fn multiline_string(value: &Value) -> Option<&str> {
    let bad = |text: &str| text.contains(['\r', '\n', '\0']);
    match value {
        Value::String(text) => bad(text).then_some(text.as_str()),
        Value::Array(items) => items.iter().find_map(multiline_string),
        Value::Object(map) => map.iter().find_map(|(key, value)| {
            if bad(key) {
                Some(key.as_str())
            } else {
                multiline_string(value)
            }
        }),
        _ => None,
    }
}

/// An integer in `min..=max` (integral floats included).
fn integer_in(value: &Value, min: i64, max: i64) -> bool {
    let Value::Number(n) = value else {
        return false;
    };
    let integer = match (n.as_i64(), n.as_f64()) {
        (Some(i), _) => Some(i),
        (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => Some(f as i64),
        _ => None,
    };
    integer.is_some_and(|i| (min..=max).contains(&i))
}

/// A mandatory number (`typeof === 'number'`, else `missing <name>`) that must also fit
/// `min..=max` (else `invalid <name>`).
fn require_integer(obj: &Object, key: &str, name: &str, min: i64, max: i64) -> Result<()> {
    let value = obj.get(key);
    if !js::is_number(value) {
        return Err(OrtcError::type_error(format!("missing {name}")));
    }
    if !value.is_some_and(|v| integer_in(v, min, max)) {
        return Err(OrtcError::type_error(format!("invalid {name}")));
    }
    Ok(())
}

/// An optional field checked as the reference does (`if (x && typeof x !== type) throw`):
/// truthy and not passing `is_type` is `invalid <name>`; falsy and not passing `is_type` is
/// removed.
fn optional(
    obj: &mut Object,
    key: &str,
    name: &str,
    is_type: fn(Option<&Value>) -> bool,
) -> Result<()> {
    let value = obj.get(key);
    if value.is_none() || is_type(value) {
        return Ok(());
    }
    if js::truthy(value) {
        return Err(OrtcError::type_error(format!("invalid {name}")));
    }
    obj.shift_remove(key);
    Ok(())
}

/// Like [`optional`] for a number, which must also fit `min..=max`.
fn optional_integer(obj: &mut Object, key: &str, name: &str, min: i64, max: i64) -> Result<()> {
    optional(obj, key, name, js::is_number)?;
    match obj.get(key) {
        Some(v) if !integer_in(v, min, max) => {
            Err(OrtcError::type_error(format!("invalid {name}")))
        }
        _ => Ok(()),
    }
}

/// A mandatory, non-empty string, else `missing <name>`.
fn require_string(obj: &Object, key: &str, name: &str) -> Result<()> {
    if js::truthy(obj.get(key)) && js::is_string(obj.get(key)) {
        Ok(())
    } else {
        Err(OrtcError::type_error(format!("missing {name}")))
    }
}

/// Runs `validate` on each element of the array under `key`.
fn each<T>(obj: &mut Object, key: &str, validate: fn(&mut Value) -> Result<T>) -> Result<()> {
    if let Some(Value::Array(items)) = obj.get_mut(key) {
        for item in items {
            validate(item)?;
        }
    }
    Ok(())
}

const U8: i64 = u8::MAX as i64;
const U16: i64 = u16::MAX as i64;
const U32: i64 = u32::MAX as i64;

#[cfg(test)]
mod tests;

/// An optional array (`if (x && !Array.isArray(x)) throw`): truthy and not an array is a
/// `TypeError` with `message`; falsy becomes `[]`.
fn array_or_empty(obj: &mut Object, key: &str, message: &str) -> Result<()> {
    match obj.get(key) {
        Some(Value::Array(_)) => Ok(()),
        value if js::truthy(value) => Err(OrtcError::type_error(message)),
        _ => {
            obj.insert(key.into(), Value::Array(vec![]));
            Ok(())
        }
    }
}

/// A codec's `mimeType`: present (`missing codec.mimeType`) and of the form `audio/...` or
/// `video/...` (`invalid codec.mimeType`); returns its media kind.
fn require_codec_kind(obj: &Object) -> Result<&'static str> {
    require_string(obj, "mimeType", "codec.mimeType")?;
    obj.get("mimeType")
        .and_then(Value::as_str)
        .and_then(mime_type_kind)
        .ok_or_else(|| OrtcError::type_error("invalid codec.mimeType"))
}

/// The media kind of a mimeType (`audio/...` or `video/...`, any case, something after the
/// slash), as the reference's `^(audio|video)/(.+)` regular expression reads it.
fn mime_type_kind(mime_type: &str) -> Option<&'static str> {
    let prefix = mime_type.get(..6)?;
    let kind = if prefix.eq_ignore_ascii_case("audio/") {
        "audio"
    } else if prefix.eq_ignore_ascii_case("video/") {
        "video"
    } else {
        return None;
    };
    let next = mime_type[6..].chars().next()?;
    if matches!(next, '\n' | '\r' | '\u{2028}' | '\u{2029}') {
        return None;
    }
    Some(kind)
}

/// Codec `parameters`: an object (else `{}`) of strings and numbers, `apt` a number.
fn normalize_codec_parameters(obj: &mut Object) -> Result<()> {
    if !js::is_object(obj.get("parameters")) {
        obj.insert("parameters".into(), Value::Object(Object::new()));
    }
    if let Some(Value::Object(parameters)) = obj.get("parameters") {
        for (key, value) in parameters {
            if !matches!(value, Value::String(_) | Value::Number(_)) {
                return Err(OrtcError::type_error(format!(
                    "invalid codec parameter [key:{key}, value:{}]",
                    js::display(value)
                )));
            }
            if key == "apt" && !value.is_number() {
                return Err(OrtcError::type_error("invalid codec apt parameter"));
            }
        }
    }
    Ok(())
}

/// Codec `rtcpFeedback`: an array (else `[]`) of valid feedback entries.
fn normalize_codec_rtcp_feedback(obj: &mut Object) -> Result<()> {
    if !matches!(obj.get("rtcpFeedback"), Some(Value::Array(_))) {
        obj.insert("rtcpFeedback".into(), Value::Array(vec![]));
    }
    each(obj, "rtcpFeedback", validate_and_normalize_rtcp_feedback)
}
