//! How errors cross into JS, in one place. Every error the addon throws or rejects with is a JS
//! Error whose `code` names what went wrong (napi-rs's custom status); lib/errors.js gives it
//! the class that code stands for. The codes (documented in index.d.ts):
//!
//! | code | JS class | meaning |
//! | --- | --- | --- |
//! | `ERR_INVALID_ARGUMENT` | TypeError | bad input |
//! | `ERR_UNSUPPORTED` | UnsupportedError | a valid request this device/router/transport cannot do |
//! | `ERR_INVALID_STATE` | InvalidStateError | closed, or not in the state the call needs |
//! | `ERR_REFUSED` | Error | the application's signalling (`connect`, `produce`) refused |
//! | `ERR_FAILED` | Error | a failure below (WebRTC, the network, the addon) |

// Fallible #[napi] functions return `napi::Result<T, Code>` spelled as such: the macro
// recognises a Result by that name, and an alias would be returned to JS as a value instead of
// thrown.

use std::future::Future;

use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::{Env, JsError};

/// The `code` of an error thrown into JS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidArgument,
    Unsupported,
    InvalidState,
    Refused,
    Failed,
}

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        match self {
            Code::InvalidArgument => "ERR_INVALID_ARGUMENT",
            Code::Unsupported => "ERR_UNSUPPORTED",
            Code::InvalidState => "ERR_INVALID_STATE",
            Code::Refused => "ERR_REFUSED",
            Code::Failed => "ERR_FAILED",
        }
    }
}

/// An error of the client layer (or of a layer below it: ortc, media), for JS.
pub fn to_js(e: impl Into<msc_client::Error>) -> napi::Error<Code> {
    use msc_client::Error as E;
    let e = e.into();
    let code = match &e {
        E::InvalidArgument(_) => Code::InvalidArgument,
        E::Unsupported(_) => Code::Unsupported,
        E::InvalidState(_) => Code::InvalidState,
        E::Refused(_) => Code::Refused,
        E::Failed(_) => Code::Failed,
    };
    napi::Error::new(code, e.message())
}

/// Bad input found by the glue itself (a value that does not convert).
pub fn invalid_argument(message: impl std::fmt::Display) -> napi::Error<Code> {
    napi::Error::new(Code::InvalidArgument, message.to_string())
}

/// A failure of the glue itself, or of napi.
pub fn failed(message: impl std::fmt::Display) -> napi::Error<Code> {
    napi::Error::new(Code::Failed, message.to_string())
}

/// A napi error (its own status) as a failure.
pub fn from_napi(e: napi::Error) -> napi::Error<Code> {
    failed(e.reason)
}

/// A Promise settled by `work`: resolved with `resolve(env, value)`, or rejected with the
/// error's code. The error object is made on the JS thread (napi-rs's async functions can only
/// reject with its own statuses as codes) and handed to the rejection as it is.
pub fn promise<'env, T, V, F, R>(
    env: &'env Env,
    work: F,
    resolve: R,
) -> napi::Result<PromiseRaw<'env, V>, Code>
where
    T: Send + 'static,
    V: ToNapiValue,
    F: Future<Output = msc_client::Result<T>> + Send + 'static,
    R: FnOnce(&'env Env, T) -> napi::Result<V> + 'static,
{
    env.spawn_future_with_callback(
        async move { Ok(work.await) },
        move |env, result| match result {
            Ok(value) => resolve(env, value),
            Err(e) => Err(napi::Error::from(
                JsError::from(to_js(e)).into_unknown(*env),
            )),
        },
    )
    .map_err(from_napi)
}
