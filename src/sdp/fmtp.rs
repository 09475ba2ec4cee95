//! `a=fmtp` parameter strings <-> mediasoup codec parameters.
//!
//! mediasoup-client reads fmtp with sdp-transform, which turns a value into a JSON number when
//! printing that number gives back the same text (`"1"` -> `1`, `"42e01f"` stays a string,
//! `"01"` stays a string), and writes them back as `key=value` joined by `;`.

use msc_ortc::CodecParameters;
use serde_json::{Number, Value};

/// Largest integer a JavaScript number holds exactly: beyond it sdp-transform keeps a string.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Parses `minptime=10;useinbandfec=1` into `{ "minptime": 10, "useinbandfec": 1 }`.
///
/// Keys without a value (`foo` or `foo=`) are dropped, as they are by sdp-transform's JSON.
pub(crate) fn parse_params(config: &str) -> CodecParameters {
    let mut params = CodecParameters::new();
    for expr in split_params(config) {
        if let Some((key, value)) = expr.split_once('=') {
            if !value.is_empty() {
                params.insert(key.to_owned(), typed_value(value));
            }
        }
    }
    params
}

/// Splits on `;` and one optional whitespace after it (sdp-transform's `/;\s?/`).
fn split_params(config: &str) -> impl Iterator<Item = &str> {
    config.split(';').enumerate().map(|(i, part)| {
        if i == 0 {
            part
        } else {
            match part.chars().next() {
                Some(c) if c.is_whitespace() => &part[c.len_utf8()..],
                _ => part,
            }
        }
    })
}

/// `"10"` -> `10`, `"0.5"` -> `0.5`, anything that would not print back identically -> string.
pub(crate) fn typed_value(text: &str) -> Value {
    if let Ok(int) = text.parse::<i64>() {
        if int.to_string() == text && int.abs() <= MAX_SAFE_INTEGER {
            return Value::Number(int.into());
        }
        return Value::String(text.to_owned());
    }
    if text.contains('.') {
        if let Ok(float) = text.parse::<f64>() {
            if float.is_finite() && float.to_string() == text {
                if let Some(number) = Number::from_f64(float) {
                    return Value::Number(number);
                }
            }
        }
    }
    Value::String(text.to_owned())
}

/// Writes parameters as an fmtp config: `key=value;key=value`, in the map's order.
/// Null values are skipped; strings are written bare.
pub fn write_params(params: &CodecParameters) -> String {
    let mut out = String::new();
    for (key, value) in params {
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if !out.is_empty() {
            out.push(';');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_become_numbers_and_the_rest_strings() {
        let params = parse_params(
            "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f;x=01;y=-0;z=0.5",
        );
        assert_eq!(
            Value::Object(params),
            json!({
                "level-asymmetry-allowed": 1,
                "packetization-mode": 0,
                "profile-level-id": "42e01f",
                "x": "01",
                "y": "-0",
                "z": 0.5
            })
        );
    }

    #[test]
    fn one_space_after_the_semicolon_is_allowed_and_bare_keys_are_dropped() {
        let params = parse_params("minptime=10; useinbandfec=1;flag;apt=96");
        assert_eq!(
            Value::Object(params),
            json!({ "minptime": 10, "useinbandfec": 1, "apt": 96 })
        );
    }

    #[test]
    fn huge_integers_stay_strings() {
        assert_eq!(typed_value("9007199254740993"), json!("9007199254740993"));
        assert_eq!(typed_value("9007199254740991"), json!(9007199254740991_i64));
    }

    #[test]
    fn writes_in_map_order() {
        let params = parse_params("minptime=10;useinbandfec=1;profile-level-id=42e01f");
        assert_eq!(
            write_params(&params),
            "minptime=10;useinbandfec=1;profile-level-id=42e01f"
        );
        assert_eq!(write_params(&CodecParameters::new()), "");
    }
}
