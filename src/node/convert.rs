//! Conversions between JS values and the client layer's types.

use msc_client::Error;
use msc_ortc::MediaKind;

use super::errors::js_error;

pub fn to_js(e: Error) -> napi::Error {
    js_error(e.kind.js_class(), e.message)
}

pub fn kind_from_js(kind: &str) -> napi::Result<MediaKind> {
    match kind {
        "audio" => Ok(MediaKind::Audio),
        "video" => Ok(MediaKind::Video),
        other => Err(js_error(
            "TypeError",
            format!("invalid kind {other:?} (expected 'audio' or 'video')"),
        )),
    }
}

pub fn json<T: serde::Serialize>(value: &T) -> napi::Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| js_error("Error", e))
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

/// The JS class of a media error: bad input is a TypeError, a track in the wrong state an
/// InvalidStateError.
pub fn media_to_js(e: msc_media::MediaError) -> napi::Error {
    use msc_media::MediaError as M;
    let class = match &e {
        M::InvalidArgument(_) | M::MalformedFrame { .. } => "TypeError",
        M::UnsupportedCodec { .. } => "UnsupportedError",
        M::Ended | M::NotAttached | M::AlreadyAttached => "InvalidStateError",
        _ => "Error",
    };
    js_error(class, e)
}
