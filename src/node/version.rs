use napi_derive::napi;

use super::errors::js_error;

/// The version of the native addon (the crate's version).
#[napi]
pub fn native_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Throws an error of the class named by `code`: lets the JS tests check the error mapping.
#[napi]
pub fn native_throw(code: String, message: String) -> napi::Result<()> {
    Err(js_error(&code, message))
}
