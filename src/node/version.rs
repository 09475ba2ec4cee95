use napi_derive::napi;

use super::errors::{failed, to_js, Code};

/// The version of the native addon (the crate's version).
#[napi]
pub fn native_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Throws the error the client layer has for the JS class named `class` (test only, not
/// exported by index.js): lets the JS tests check the error mapping.
#[napi]
pub fn native_throw(class_name: String, message: String) -> napi::Result<(), Code> {
    use msc_client::Error as E;
    Err(match class_name.as_str() {
        "TypeError" => to_js(E::type_error(message)),
        "UnsupportedError" => to_js(E::unsupported(message)),
        "InvalidStateError" => to_js(E::invalid_state(message)),
        _ => failed(message),
    })
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
