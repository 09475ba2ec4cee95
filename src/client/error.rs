//! The client layer's error: what went wrong, by what the user can do about it. Each variant is
//! one JS class and one `error.code` (src/node/errors.rs maps them, in one place).

use msc_handler::HandlerError;
use msc_media::MediaError;
use msc_ortc::error::{ErrorKind, OrtcError};

/// An error of the client layer. Display is the message alone; the variant says the class
/// (TypeError, UnsupportedError, InvalidStateError) or `error.code` the Node program sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Bad arguments: a TypeError.
    #[error("{0}")]
    InvalidArgument(String),
    /// A valid request this device, router or transport cannot do.
    #[error("{0}")]
    Unsupported(String),
    /// The object is closed, or not in the state the call needs.
    #[error("{0}")]
    InvalidState(String),
    /// The application's signalling (`connect`, `produce`) refused; the message is its own
    /// (`ERR_REFUSED`).
    #[error("{0}")]
    Refused(String),
    /// A failure below us (WebRTC, the network, a file) (`ERR_FAILED`).
    #[error("{0}")]
    Failed(String),
}

/// The result of every fallible call of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// [`Error::InvalidArgument`]: a TypeError in Node.
    pub fn type_error(message: impl Into<String>) -> Self {
        Error::InvalidArgument(message.into())
    }
    /// [`Error::Unsupported`]: an UnsupportedError in Node.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Error::Unsupported(message.into())
    }
    /// [`Error::InvalidState`]: an InvalidStateError in Node.
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Error::InvalidState(message.into())
    }
    /// [`Error::Refused`]: the application's own refusal, message kept as is.
    pub fn refused(message: impl Into<String>) -> Self {
        Error::Refused(message.into())
    }
    /// [`Error::Failed`]: a failure below this layer.
    pub fn other(message: impl Into<String>) -> Self {
        Error::Failed(message.into())
    }

    /// The same error, its message prefixed with `context` (a failure below this layer) or
    /// kept (any other class, whose message already says what the caller did wrong).
    pub fn with_context(self, context: &str) -> Self {
        match self {
            Error::Failed(m) => Error::Failed(format!("{context}: {m}")),
            other => other,
        }
    }

    /// The message alone (Display gives the same).
    pub fn message(&self) -> &str {
        match self {
            Error::InvalidArgument(m)
            | Error::Unsupported(m)
            | Error::InvalidState(m)
            | Error::Refused(m)
            | Error::Failed(m) => m,
        }
    }
}

impl From<OrtcError> for Error {
    fn from(e: OrtcError) -> Self {
        match e.kind {
            ErrorKind::TypeError => Error::InvalidArgument(e.message),
            ErrorKind::UnsupportedError => Error::Unsupported(e.message),
            ErrorKind::InvalidStateError => Error::InvalidState(e.message),
        }
    }
}

/// The handler's errors keep their meaning: bad input stays bad input, a closed handler is a
/// closed transport, anything webrtc-rs reports is a failure below us.
impl From<HandlerError> for Error {
    fn from(e: HandlerError) -> Self {
        match e {
            HandlerError::InvalidArgument(m) => Error::InvalidArgument(m),
            HandlerError::InvalidState(_) => Error::InvalidState("closed".into()),
            HandlerError::Unsupported(m) => Error::Unsupported(m),
            other => Error::Failed(other.to_string()),
        }
    }
}

/// A track's errors: bad input is an argument error, a track in the wrong state (ended,
/// attached elsewhere) an invalid state, a codec the track cannot carry unsupported.
impl From<MediaError> for Error {
    fn from(e: MediaError) -> Self {
        use MediaError as M;
        match &e {
            M::InvalidArgument(_) | M::MalformedFrame { .. } => {
                Error::InvalidArgument(e.to_string())
            }
            M::UnsupportedCodec { .. } => Error::Unsupported(e.to_string()),
            M::Ended | M::NotAttached | M::AlreadyAttached => Error::InvalidState(e.to_string()),
            _ => Error::Failed(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_errors_keep_their_class() {
        assert!(matches!(
            Error::from(HandlerError::InvalidArgument("bad url".into())),
            Error::InvalidArgument(m) if m == "bad url"
        ));
        assert_eq!(
            Error::from(HandlerError::InvalidState("handler closed".into())),
            Error::invalid_state("closed")
        );
        assert!(matches!(
            Error::from(HandlerError::WebRtc("x".into())),
            Error::Failed(_)
        ));
    }
}
