//! [`HandlerError`]: the errors of this crate, by the class the client layer maps them to.

use std::fmt;

/// Errors of this crate, by the class the client layer maps them to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandlerError {
    /// Bad input from the caller (unknown codec, duplicated RID, unknown mid...): `TypeError`.
    InvalidArgument(String),
    /// The operation is not possible in the current state (closed handler or writer, writer not
    /// negotiated yet): `InvalidStateError`.
    InvalidState(String),
    /// Not possible with this connection (receiving over TURN): `UnsupportedError`.
    Unsupported(String),
    /// webrtc-rs failed; the message is webrtc-rs' own.
    WebRtc(String),
}

impl HandlerError {
    pub(crate) fn webrtc(err: impl fmt::Display) -> Self {
        HandlerError::WebRtc(err.to_string())
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandlerError::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            HandlerError::InvalidState(m) => write!(f, "invalid state: {m}"),
            HandlerError::Unsupported(m) => write!(f, "unsupported: {m}"),
            HandlerError::WebRtc(m) => write!(f, "webrtc: {m}"),
        }
    }
}

impl std::error::Error for HandlerError {}
