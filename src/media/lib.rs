//! Tracks and sources that a Node program feeds: frame writer, packetizers, pacing.
//!
//! A producer (in `msc-client`) owns one [`RtpSink`] per producer; a track is a source plugged
//! into it. The track turns what the program writes (encoded frames) into [`RtpChunk`]s, one per
//! RTP packet, and hands them to the sink, which stamps SSRC, payload type and sequence number
//! and sends them. Pure Rust: no napi, no webrtc PeerConnection.
//!
//! - [`Packetizer`]: one encoded frame -> RTP payloads, for VP8, VP9, H.264, AV1 and Opus.
//! - [`FrameTrack`]: the track behind JS `createTrack({ kind })` and `track.writeFrame()`.
//! - [`IvfReader`], [`OggOpusReader`], [`H264Reader`]: frames and packets of IVF (VP8, VP9,
//!   AV1), Ogg/Opus and H.264 Annex B files, with their times, for file tracks.
//! - [`FilePlayer`]: a track that plays such a file in real time (JS `createFileTrack`).
//! - [`RtpIngest`]: a track fed by RTP that another tool sends to a local port (JS
//!   `createRtpTrack`).
//! - [`RemoteTrack`]: what a consumer receives: whole frames in order (the frame assembler),
//!   raw RTP packets, keyframe requests, taps for recording and forwarding.
//! - [`FrameDelivery`]: the frames of many remote tracks to one reading thread, with one
//!   wake-up for all the tracks that became ready.
//! - [`FrameAssembler`]: the receive side's RTP packets of one stream (reordered, duplicated,
//!   lossy) -> whole encoded frames, in order, with keyframe flags and loss marks.
//! - [`RtpForwarder`]: the RTP of a received track sent to another tool, with an SDP for it.
//! - [`Recorder`]: the frames of a received track into IVF, Ogg/Opus or H.264 Annex B files,
//!   timed by their RTP timestamps.
//! - [`AudioLevel`]: the RFC 6464 level that audio packets carry, given by the program or
//!   measured by decoding the Opus packets (file and RTP tracks).

#![warn(missing_docs)]

mod audio_level;
mod clock;
mod counted;
mod depacketizer;
mod error;
mod file_player;
mod frame_track;
mod h264_annexb;
mod ivf;
mod ogg_opus;
mod opus_level;
mod packetizer;
mod profile;
mod recorder;
mod remote_track;
mod rtp_forward;
mod rtp_ingest;

pub use audio_level::AudioLevel;
pub use depacketizer::{
    AssembledFrame, AssemblerOptions, AssemblerStats, FrameAssembler, ReceivedPacket,
};
pub use error::MediaError;
pub use file_player::{
    FileFormat, FileInfo, FilePlayer, FilePlayerOptions, DEFAULT_H264_FRAME_RATE, MAX_FRAME_GAP_US,
};
pub use frame_track::{EndReason, FrameTiming, FrameTrack, KeyframeReason, TrackState};
pub use h264_annexb::{H264AccessUnit, H264Reader};
pub use ivf::{IvfFrame, IvfHeader, IvfReader};
pub use ogg_opus::{OggOpusPacket, OggOpusReader, OpusHead};
pub use packetizer::{Packetizer, DEFAULT_MTU, MAX_MTU, MIN_MTU};
pub use profile::codec_parameters;
pub use recorder::{RecordFormat, Recorder, RecordingSummary};
pub use remote_track::{
    defer_wakes, ForwardTap, FrameDelivery, FrameTap, KeyframeRequester, PacketTap, Ready,
    ReceivedFrame, Recording, RemoteTrack, RemoteTrackInfo, RemoteTrackStats, Take, Wake,
    FRAME_QUEUE, KEYFRAME_REQUEST_INTERVAL, NACK_WAIT, REORDER_WAIT, RTP_QUEUE,
};
pub use rtp_forward::{RtpForwardOptions, RtpForwardStats, RtpForwarder};
pub use rtp_ingest::{RtpIngest, RtpIngestOptions, RtpIngestStats};

pub use msc_ortc::MediaKind;

use bytes::Bytes;

/// One RTP packet's worth of media, before SSRC/PT/sequence number are stamped by the producer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpChunk {
    /// The RTP payload (codec payload header included, RTP header excluded).
    pub payload: Bytes,
    /// The RTP marker bit: set on the last packet of a video frame; never set for audio.
    pub marker: bool,
    /// RTP timestamp in the codec clock (90 kHz video, 48 kHz Opus).
    pub timestamp: u32,
    /// The chunk belongs to a keyframe (every Opus packet counts as one).
    pub keyframe: bool,
    /// Audio: the level to send in the `ssrc-audio-level` header extension (RFC 6464);
    /// `None` sends no level. Always `None` for video.
    pub audio_level: Option<AudioLevel>,
}

/// Where a track sends its packets: implemented by the producer, one per producer.
///
/// `send` is called with the track's internal lock held, so that the packets of one frame reach
/// the sink together and in order: it must not call back into the track (`write_frame`,
/// `attach`, `detach`, `stop`) and should not block (hand the chunk over and return).
pub trait RtpSink: Send + Sync {
    /// One chunk for encoding `layer` (0 = lowest simulcast layer).
    fn send(&self, layer: usize, chunk: RtpChunk);
}

#[cfg(test)]
mod proptest_config;
