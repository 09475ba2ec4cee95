//! The one error type of this crate.

use std::fmt;

/// What went wrong while reading an SDP or building the remote one.
///
/// Messages follow mediasoup-client's wording where it has one, so that errors surfaced to
/// JavaScript read the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdpError {
    /// The text is not SDP that `rtc-sdp` can parse.
    Parse(String),
    /// A line the operation needs is absent (e.g. no `a=fingerprint`, no `a=ssrc`).
    Missing(String),
    /// An argument or a value in the SDP is not acceptable (e.g. a bad mimeType).
    Invalid(String),
    /// No media section carries the given mid.
    UnknownMid(String),
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SdpError::Parse(msg) => write!(f, "invalid SDP: {msg}"),
            SdpError::Missing(msg) | SdpError::Invalid(msg) => f.write_str(msg),
            SdpError::UnknownMid(mid) => write!(f, "no media section found with mid '{mid}'"),
        }
    }
}

impl std::error::Error for SdpError {}
