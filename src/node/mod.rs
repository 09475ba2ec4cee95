//! napi glue: thin #[napi] wrappers over the client layer. No protocol logic lives here.

pub mod errors;
pub mod version;
