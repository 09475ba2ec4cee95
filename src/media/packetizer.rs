//! One encoded frame -> the payloads of the RTP packets that carry it.
//!
//! | codec | payload format | source |
//! | --- | --- | --- |
//! | video/VP8 | RFC 7741, X=1, I=1, 15-bit picture id, S on the first packet | ours |
//! | video/VP9 | draft-ietf-payload-vp9, flexible mode, picture id, P_DIFF on inter frames | ours |
//! | video/H264 | RFC 6184 packetization-mode 1: single NAL, STAP-A, FU-A | ours |
//! | video/AV1 | AV1 RTP spec, aggregation header, OBUs without size field | `rtc_rtp::codec::av1` + checks |
//! | audio/opus | RFC 7587, one frame = one packet | `rtc_rtp::codec::opus` |
//!
//! Whether a frame is a keyframe comes from the caller when it says so, else from the
//! bitstream (VP8 P bit, VP9 frame_type, H.264 IDR NAL, AV1 frame header).

mod av1;
mod h264;
mod vp8;
mod vp9;

use crate::{MediaError, MediaKind, RtpChunk};
use bytes::Bytes;
use rtc_rtp::codec::opus::OpusPayloader;
use rtc_rtp::packetizer::Payloader;

/// Default largest RTP payload, in bytes (what libwebrtc leaves room for under a 1280-byte
/// path MTU once RTP header, extensions and SRTP tag are added).
pub const DEFAULT_MTU: usize = 1200;
/// Smallest accepted payload size.
pub const MIN_MTU: usize = 32;
/// Largest accepted payload size (STAP-A lengths are 16 bits).
pub const MAX_MTU: usize = 65_000;

/// One encoded frame in, RTP payloads out, for one codec and one RTP stream (keeps per-stream
/// state such as the VP8/VP9 picture id or the last H.264 SPS/PPS: use one per layer).
#[derive(Debug)]
pub struct Packetizer {
    codec: Codec,
    clock_rate: u32,
    mtu: usize,
}

#[derive(Debug)]
enum Codec {
    Vp8(vp8::Vp8),
    Vp9(vp9::Vp9),
    H264(h264::H264),
    Av1(av1::Av1),
    Opus,
}

/// The payloads of one frame and whether the frame is a keyframe.
pub(crate) struct Packetized {
    pub(crate) payloads: Vec<Bytes>,
    pub(crate) keyframe: bool,
}

impl Packetizer {
    /// A packetizer for `mime_type` (case-insensitive: video/VP8, video/VP9, video/H264,
    /// video/AV1, audio/opus) with payloads of at most `mtu` bytes ([`DEFAULT_MTU`] is 1200).
    ///
    /// H.264 assumes packetization-mode=1 (what mediasoup and browsers use).
    pub fn for_codec(mime_type: &str, clock_rate: u32, mtu: usize) -> Result<Self, MediaError> {
        if clock_rate == 0 {
            return Err(MediaError::InvalidArgument(format!(
                "clock rate of {mime_type} must be greater than 0"
            )));
        }
        if !(MIN_MTU..=MAX_MTU).contains(&mtu) {
            return Err(MediaError::InvalidArgument(format!(
                "mtu {mtu} out of range: the largest RTP payload must be {MIN_MTU}..={MAX_MTU} bytes"
            )));
        }
        let codec = match mime_type.to_ascii_lowercase().as_str() {
            "video/vp8" => Codec::Vp8(vp8::Vp8::new()),
            "video/vp9" => Codec::Vp9(vp9::Vp9::new()),
            "video/h264" => Codec::H264(h264::H264::default()),
            "video/av1" => Codec::Av1(av1::Av1::default()),
            "audio/opus" => Codec::Opus,
            _ => {
                return Err(MediaError::UnsupportedCodec {
                    mime_type: mime_type.to_string(),
                })
            }
        };
        Ok(Packetizer {
            codec,
            clock_rate,
            mtu,
        })
    }

    /// Audio or video.
    pub fn kind(&self) -> MediaKind {
        match self.codec {
            Codec::Opus => MediaKind::Audio,
            _ => MediaKind::Video,
        }
    }

    /// The canonical mime type (video/VP8, video/VP9, video/H264, video/AV1, audio/opus).
    pub fn mime_type(&self) -> &'static str {
        match self.codec {
            Codec::Vp8(_) => "video/VP8",
            Codec::Vp9(_) => "video/VP9",
            Codec::H264(_) => "video/H264",
            Codec::Av1(_) => "video/AV1",
            Codec::Opus => "audio/opus",
        }
    }

    /// The RTP clock rate given at creation.
    pub fn clock_rate(&self) -> u32 {
        self.clock_rate
    }

    /// The largest payload this packetizer produces (Opus frames are never split: a frame
    /// larger than this goes out as one bigger packet).
    pub fn mtu(&self) -> usize {
        self.mtu
    }

    /// Packetizes one frame (a VP8/VP9 frame, an H.264 Annex B access unit, an AV1 temporal
    /// unit in low-overhead OBU format, an Opus packet) stamped with `timestamp`.
    ///
    /// `keyframe`: `Some` when the caller knows, `None` to read it from the bitstream. Video
    /// chunks carry the marker bit on the last packet of the frame; audio chunks never do.
    pub fn packetize(
        &mut self,
        frame: &Bytes,
        keyframe: Option<bool>,
        timestamp: u32,
    ) -> Result<Vec<RtpChunk>, MediaError> {
        let Packetized { payloads, keyframe } = self.payloads(frame, keyframe)?;
        let video = self.kind() == MediaKind::Video;
        let last = payloads.len().saturating_sub(1);
        Ok(payloads
            .into_iter()
            .enumerate()
            .map(|(i, payload)| RtpChunk {
                payload,
                marker: video && i == last,
                timestamp,
                keyframe,
                audio_level: None,
            })
            .collect())
    }

    pub(crate) fn payloads(
        &mut self,
        frame: &Bytes,
        keyframe: Option<bool>,
    ) -> Result<Packetized, MediaError> {
        if frame.is_empty() {
            return Err(MediaError::InvalidArgument(format!(
                "empty {} frame: a frame must hold at least one byte of encoded media",
                self.mime_type()
            )));
        }
        let mtu = self.mtu;
        let packetized = match &mut self.codec {
            Codec::Vp8(p) => p.packetize(frame, keyframe, mtu)?,
            Codec::Vp9(p) => p.packetize(frame, keyframe, mtu)?,
            Codec::H264(p) => p.packetize(frame, keyframe, mtu)?,
            Codec::Av1(p) => p.packetize(frame, keyframe, mtu)?,
            Codec::Opus => Packetized {
                payloads: OpusPayloader
                    .payload(usize::MAX, frame)
                    .map_err(|e| MediaError::malformed("Opus", e.to_string()))?,
                keyframe: keyframe.unwrap_or(true),
            },
        };
        debug_assert!(!packetized.payloads.is_empty());
        Ok(packetized)
    }
}

#[cfg(test)]
pub(crate) mod tests;
