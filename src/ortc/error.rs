//! The error of the ORTC layer. Its `kind` names the JS error class a user should see
//! (mediasoup-client throws `TypeError` for bad input, `UnsupportedError` and
//! `InvalidStateError` for the rest); the napi glue maps it.

use std::fmt;

/// Which JS error class an [`OrtcError`] becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A bad argument: a missing or ill-typed field, an out-of-range value.
    TypeError,
    /// Something the capabilities of either side cannot do (no common codec, for example).
    UnsupportedError,
    /// A call that the current state does not allow.
    InvalidStateError,
}

impl ErrorKind {
    /// The JS class name: `"TypeError"`, `"UnsupportedError"` or `"InvalidStateError"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::TypeError => "TypeError",
            ErrorKind::UnsupportedError => "UnsupportedError",
            ErrorKind::InvalidStateError => "InvalidStateError",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with the JS class it maps to and a message naming the offending field
/// (for example `missing codec.mimeType`). `Display` prints the message alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrtcError {
    /// The JS error class.
    pub kind: ErrorKind,
    /// What went wrong, naming the field or value.
    pub message: String,
}

impl OrtcError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        OrtcError {
            kind,
            message: message.into(),
        }
    }

    /// A [`ErrorKind::TypeError`] with `message`.
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TypeError, message)
    }

    /// An [`ErrorKind::UnsupportedError`] with `message`.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::UnsupportedError, message)
    }

    /// An [`ErrorKind::InvalidStateError`] with `message`.
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidStateError, message)
    }
}

impl fmt::Display for OrtcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for OrtcError {}

/// Result of the ORTC layer.
pub type Result<T> = std::result::Result<T, OrtcError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_message_and_kind_names_the_class() {
        let e = OrtcError::type_error("missing codec.mimeType");
        assert_eq!(e.to_string(), "missing codec.mimeType");
        assert_eq!(e.kind.as_str(), "TypeError");
        assert_eq!(
            OrtcError::unsupported("x").kind.to_string(),
            "UnsupportedError"
        );
        assert_eq!(
            OrtcError::invalid_state("x").kind.to_string(),
            "InvalidStateError"
        );
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert_eq!(boxed.to_string(), "missing codec.mimeType");
    }
}
