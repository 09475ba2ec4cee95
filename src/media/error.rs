//! The one error type of this crate.

use thiserror::Error;

/// What can go wrong when feeding media: bad arguments, a frame the packetizer cannot parse, a
/// track in the wrong state, a file that is not what it claims to be.
///
/// Messages are meant to be shown to a Node program as is: they say what was wrong and, where
/// it helps, what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MediaError {
    /// No packetizer for this codec.
    #[error(
        "unsupported codec {mime_type:?}: frames can be written for video/VP8, video/VP9, \
         video/H264, video/AV1 and audio/opus"
    )]
    UnsupportedCodec {
        /// The MIME type asked for, as given (e.g. `video/H265`).
        mime_type: String,
    },

    /// A bad argument (clock rate, MTU, layer index, empty frame, kind mismatch...).
    #[error("{0}")]
    InvalidArgument(String),

    /// A frame that is not a valid access unit of its codec.
    #[error("malformed {codec} frame: {reason}")]
    MalformedFrame {
        /// Codec name as the packetizer knows it (`VP8`, `H264`, ...).
        codec: &'static str,
        /// What is wrong with the frame.
        reason: String,
    },

    /// The track was stopped: it can no longer be written to or attached.
    #[error("track has ended (stop() was called): it can no longer be written to or attached")]
    Ended,

    /// `write_frame` on a track that no producer uses.
    #[error(
        "track is not attached to a producer: pass it to transport.produce({{ track }}) \
         before writing frames"
    )]
    NotAttached,

    /// `attach` on a track that already feeds a producer.
    #[error(
        "track is already attached to a producer: a track feeds at most one producer at a time \
         (close that producer or replace its track first)"
    )]
    AlreadyAttached,

    /// A file that cannot be opened or read.
    #[error("{file}: {reason}")]
    Io {
        /// The path, as given by the program.
        file: String,
        /// The OS error, with the byte offset when it happened mid-read.
        reason: String,
    },

    /// A file (IVF, Ogg) that is truncated or not of the expected format.
    #[error("{file}: malformed {format} at byte offset {offset}: {reason}")]
    MalformedFile {
        /// The path, as given by the program.
        file: String,
        /// What the file was read as (`IVF`, `Ogg/Opus`, `H.264 Annex B`).
        format: &'static str,
        /// Byte offset in the file where the problem was found.
        offset: u64,
        /// What is wrong there.
        reason: String,
    },
}

impl MediaError {
    pub(crate) fn malformed(codec: &'static str, reason: impl Into<String>) -> Self {
        MediaError::MalformedFrame {
            codec,
            reason: reason.into(),
        }
    }
}
