//! The client layer's error: the JS class a user should see, and a message.

use std::fmt;

use msc_ortc::error::{ErrorKind, OrtcError};

/// Which JS error class an [`Error`] becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// bad arguments
    Type,
    /// a valid request this device, router or transport cannot do
    Unsupported,
    /// the object is closed, or not in the state the call needs
    InvalidState,
    /// a failure below us (WebRTC, the network, the application's signalling)
    Other,
}

impl Kind {
    pub fn js_class(self) -> &'static str {
        match self {
            Kind::Type => "TypeError",
            Kind::Unsupported => "UnsupportedError",
            Kind::InvalidState => "InvalidStateError",
            Kind::Other => "Error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn type_error(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Type,
            message: message.into(),
        }
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Unsupported,
            message: message.into(),
        }
    }
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::InvalidState,
            message: message.into(),
        }
    }
    pub fn other(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Other,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<OrtcError> for Error {
    fn from(e: OrtcError) -> Self {
        let kind = match e.kind {
            ErrorKind::TypeError => Kind::Type,
            ErrorKind::UnsupportedError => Kind::Unsupported,
            ErrorKind::InvalidStateError => Kind::InvalidState,
        };
        Error {
            kind,
            message: e.message,
        }
    }
}
