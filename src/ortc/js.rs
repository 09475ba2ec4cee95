//! JavaScript value semantics over `serde_json::Value`.
//!
//! The reference implementation (mediasoup-client) is JavaScript: it tests fields for
//! truthiness, compares them with `===` and falls back with `??`. Reproducing its results
//! on JSON input needs those same rules, gathered here. A missing field is JS `undefined`
//! (`None`); JSON `null` is `null`.

use serde_json::Value;

/// JS truthiness: `undefined`, `null`, `false`, `0`, `NaN` and `""` are falsy.
pub fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(_)) | Some(Value::Object(_)) => true,
    }
}

/// JS `a === b` for JSON values. Numbers compare by value (`1 === 1.0`); arrays and
/// objects are never equal (in JS they would be only if they were the same object).
pub fn strict_eq(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(Value::Null), Some(Value::Null)) => true,
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x == y,
        (Some(Value::Number(x)), Some(Value::Number(y))) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
        (Some(Value::String(x)), Some(Value::String(y))) => x == y,
        _ => false,
    }
}

/// JS `value ?? fallback`: `undefined` and `null` give the fallback.
pub fn nullish_or<'a>(value: Option<&'a Value>, fallback: &'a Value) -> &'a Value {
    match value {
        None | Some(Value::Null) => fallback,
        Some(v) => v,
    }
}

/// JS `typeof value === 'number'`.
pub fn is_number(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::Number(_)))
}

/// JS `typeof value === 'string'`.
pub fn is_string(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::String(_)))
}

/// JS `typeof value === 'boolean'`.
pub fn is_boolean(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::Bool(_)))
}

/// A plain object. Unlike JS `typeof value === 'object'`, `null` and arrays are not
/// objects here: the reference would go on to fail or fill junk into them.
pub fn is_object(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::Object(_)))
}

/// The JS string of a primitive (`String(value)`), or the JSON text of anything else.
pub fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// JS white space and line terminators, as `parseInt` and `trim` skip them.
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\u{0009}'
            | '\u{000A}'
            | '\u{000B}'
            | '\u{000C}'
            | '\u{000D}'
            | '\u{0020}'
            | '\u{00A0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// JS `parseInt(text, 16)`: leading white space, an optional sign and an optional `0x`,
/// then as many hex digits as there are. `None` is `NaN` (no digit at all). Only meant for
/// short strings: digits past the 15th are ignored rather than rounded.
pub fn parse_int_hex(text: &str) -> Option<i64> {
    let mut rest = text.trim_start_matches(is_js_space);
    let mut negative = false;
    if let Some(r) = rest.strip_prefix('-') {
        negative = true;
        rest = r;
    } else if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    }
    if let Some(r) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        rest = r;
    }
    let digits: Vec<u32> = rest
        .chars()
        .map_while(|c| c.to_digit(16))
        .take(15)
        .collect();
    if digits.is_empty() {
        return None;
    }
    let value = digits.iter().fold(0i64, |acc, d| acc * 16 + i64::from(*d));
    Some(if negative { -value } else { value })
}

/// The JS `length` of a string: its count of UTF-16 code units.
pub fn js_length(text: &str) -> usize {
    text.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truthiness() {
        for v in [json!(null), json!(false), json!(0), json!(0.0), json!("")] {
            assert!(!truthy(Some(&v)), "{v}");
        }
        assert!(!truthy(None));
        for v in [
            json!(true),
            json!(1),
            json!(-0.5),
            json!("0"),
            json!([]),
            json!({}),
        ] {
            assert!(truthy(Some(&v)), "{v}");
        }
    }

    #[test]
    fn strict_equality() {
        assert!(strict_eq(None, None));
        assert!(!strict_eq(None, Some(&json!(null))));
        assert!(strict_eq(Some(&json!(1)), Some(&json!(1.0))));
        assert!(!strict_eq(Some(&json!(1)), Some(&json!("1"))));
        assert!(strict_eq(Some(&json!("a")), Some(&json!("a"))));
        assert!(!strict_eq(Some(&json!({})), Some(&json!({}))));
        assert!(!strict_eq(Some(&json!([])), Some(&json!([]))));
    }

    #[test]
    fn nullish() {
        let zero = json!(0);
        assert_eq!(nullish_or(None, &zero), &zero);
        assert_eq!(nullish_or(Some(&json!(null)), &zero), &zero);
        assert_eq!(nullish_or(Some(&json!(false)), &zero), &json!(false));
    }

    #[test]
    fn parse_int_like_js() {
        assert_eq!(parse_int_hex("42e01f"), Some(0x42e01f));
        assert_eq!(parse_int_hex("42E01F"), Some(0x42e01f));
        assert_eq!(parse_int_hex("0x42e0"), Some(0x42e0));
        assert_eq!(parse_int_hex("  42e0"), Some(0x42e0));
        assert_eq!(parse_int_hex("42zz1f"), Some(0x42));
        assert_eq!(parse_int_hex("-00001"), Some(-1));
        assert_eq!(parse_int_hex("zzzzzz"), None);
        assert_eq!(parse_int_hex("0x"), None);
        assert_eq!(parse_int_hex(""), None);
        assert_eq!(js_length("42e01f"), 6);
        assert_eq!(js_length("4\u{1F600}01f"), 6);
    }
}
