//! Conversions between JS values and the client layer's types.

use msc_ortc::MediaKind;

use super::errors::{failed, invalid_argument, Code};

pub fn kind_from_js(kind: &str) -> napi::Result<MediaKind, Code> {
    match kind {
        "audio" => Ok(MediaKind::Audio),
        "video" => Ok(MediaKind::Video),
        other => Err(invalid_argument(format!(
            "invalid kind {other:?} (expected 'audio' or 'video')"
        ))),
    }
}

pub fn json<T: serde::Serialize>(value: &T) -> napi::Result<serde_json::Value, Code> {
    serde_json::to_value(value).map_err(failed)
}

/// The callback type used for events sent from Rust to JS: weak (it does not keep Node alive)
/// and fire-and-forget.
pub type JsCallback<T> = napi::threadsafe_function::ThreadsafeFunction<
    T,
    napi::bindgen_prelude::Unknown<'static>,
    T,
    napi::Status,
    false,
    true,
>;
