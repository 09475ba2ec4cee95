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

/// Test only (not exported by index.js): panics inside a synchronous call. `catch_unwind` turns
/// the panic into a thrown Error instead of an abort of the process.
#[napi(catch_unwind)]
pub fn native_panic_sync(message: String) {
    panic!("{message}");
}

/// Test only (not exported by index.js): panics inside an async call; napi-rs catches the panic
/// of the future and rejects the promise (with "Panic in async function").
#[napi]
pub async fn native_panic_async(message: String) -> napi::Result<()> {
    tokio::task::yield_now().await;
    panic!("{message}");
}
