//! How errors cross into JS. napi-rs gives a returned Error the `code` of its napi Status only,
//! so the class the user should see travels as a tag at the start of the message,
//! `[TypeError] `, `[UnsupportedError] ` or `[InvalidStateError] `, which lib/errors.js strips
//! and turns into that class. An untagged message stays a plain Error.

// Fallible #[napi] functions return `napi::Result<T>` spelled as such: the macro recognises a
// Result by that name, and an alias would be returned to JS as a value instead of thrown.

/// An error of the JS class `class` (one of the three above, or 'Error').
pub fn js_error(class: &str, message: impl std::fmt::Display) -> napi::Error {
    let reason = match class {
        "TypeError" | "UnsupportedError" | "InvalidStateError" => format!("[{class}] {message}"),
        _ => message.to_string(),
    };
    napi::Error::new(napi::Status::GenericFailure, reason)
}
