//! Recording a received track: whole encoded frames with their RTP times, into files that
//! players time right.
//!
//! | codec | file | times |
//! | --- | --- | --- |
//! | video/VP8, video/VP9, video/AV1 | IVF | pts in a `1/clock_rate` time base |
//! | audio/opus | Ogg/Opus | granule position of each packet's page (48 kHz) |
//! | video/H264 | raw Annex B | the mean frame rate, in every SPS (see `annexb_writer.rs`) |
//!
//! Behaviour a program can rely on:
//! - Times come from the extended (unwrapped) RTP timestamps, relative to the first frame
//!   written, never from frame counts: lost frames and gaps keep their time in IVF and Ogg.
//!   Raw H.264 has no per-frame times: there the recording lasts as long as it should, at
//!   its mean rate.
//! - Video starts at a keyframe: frames before the first keyframe are skipped
//!   ([`Recorder::write_frame`] returns `false`).
//! - A frame with a timestamp before the previous frame's is refused, and nothing is written.
//! - [`Recorder::finish`] completes the headers (IVF picture size and length, Ogg
//!   end-of-stream page, H.264 frame rate). A file whose recorder was dropped unfinished still
//!   plays, with those fields at their placeholders (IVF size and length 0, H.264 at 30 fps,
//!   Ogg missing its last packet).

mod annexb_writer;
mod ivf_writer;
mod ogg_writer;

use crate::ogg_opus::opus_duration;
use crate::MediaError;
use annexb_writer::AnnexBWriter;
use ivf_writer::IvfWriter;
use ogg_writer::OggWriter;
use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::Path;

/// The file format a codec is recorded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFormat {
    /// IVF, for VP8, VP9 and AV1.
    Ivf,
    /// Ogg/Opus (RFC 7845).
    OggOpus,
    /// Raw H.264 Annex B byte stream.
    H264AnnexB,
}

impl RecordFormat {
    /// The format for a codec (case-insensitive MIME type).
    pub fn for_mime_type(mime_type: &str) -> Result<Self, MediaError> {
        match mime_type.to_ascii_lowercase().as_str() {
            "video/vp8" | "video/vp9" | "video/av1" => Ok(RecordFormat::Ivf),
            "audio/opus" => Ok(RecordFormat::OggOpus),
            "video/h264" => Ok(RecordFormat::H264AnnexB),
            _ => Err(MediaError::UnsupportedCodec {
                mime_type: mime_type.to_string(),
            }),
        }
    }

    /// The usual file extension, without the dot: `ivf`, `ogg`, `h264`.
    pub fn extension(&self) -> &'static str {
        match self {
            RecordFormat::Ivf => "ivf",
            RecordFormat::OggOpus => "ogg",
            RecordFormat::H264AnnexB => "h264",
        }
    }
}

/// What a finished recording holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordingSummary {
    /// Frames (Opus packets) written.
    pub frames: u64,
    /// Bytes of encoded media written (file headers and framing excluded).
    pub bytes: u64,
    /// Length of the recording in microseconds, from the first frame's start to the last one's
    /// end: an Opus packet's end is known from its TOC byte; a video frame is taken to last as
    /// long as the interval before it (a single frame: 0).
    pub duration_us: u64,
}

enum Sink<W: Write + Seek> {
    Ivf {
        writer: IvfWriter<W>,
        codec: VideoCodec,
        size_known: bool,
    },
    Ogg(OggWriter<W>),
    AnnexB(AnnexBWriter<W>),
}

#[derive(Clone, Copy)]
enum VideoCodec {
    Vp8,
    Vp9,
    Av1,
}

/// Writes the frames of one track to a file (or any seekable writer).
pub struct Recorder<W: Write + Seek> {
    sink: Sink<W>,
    name: String,
    mime_type: String,
    clock_rate: u32,
    first: Option<u64>,
    last: u64,
    /// Timestamp of the frame before the last one.
    previous: u64,
    /// Audio: end of the last packet, in clock ticks from the first.
    end: u64,
    frames: u64,
    bytes: u64,
}

impl Recorder<BufWriter<File>> {
    /// Creates (or truncates) the file at `path` and writes its header. `clock_rate` is the
    /// codec's RTP clock rate (90000 for video, 48000 for Opus); `channels` is the Opus
    /// channel count (1 or 2; ignored for video).
    pub fn create(
        path: impl AsRef<Path>,
        mime_type: &str,
        clock_rate: u32,
        channels: u8,
    ) -> Result<Self, MediaError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        // checked before the file is created, so that bad arguments leave no file behind
        Self::check(mime_type, clock_rate, channels)?;
        let file = File::create(path).map_err(|e| MediaError::Io {
            file: name.clone(),
            reason: format!("cannot create: {e}"),
        })?;
        Recorder::new(BufWriter::new(file), name, mime_type, clock_rate, channels)
    }
}

impl<W: Write + Seek> Recorder<W> {
    fn check(mime_type: &str, clock_rate: u32, channels: u8) -> Result<RecordFormat, MediaError> {
        let format = RecordFormat::for_mime_type(mime_type)?;
        if format == RecordFormat::OggOpus {
            if clock_rate != 48_000 {
                return Err(MediaError::InvalidArgument(format!(
                    "clock rate {clock_rate} of audio/opus: Opus over RTP is always 48000"
                )));
            }
            if !(1..=2).contains(&channels) {
                return Err(MediaError::InvalidArgument(format!(
                    "{channels} channels: an audio/opus recording has 1 or 2"
                )));
            }
        } else if clock_rate == 0 {
            return Err(MediaError::InvalidArgument(format!(
                "clock rate of {mime_type} must be greater than 0"
            )));
        }
        Ok(format)
    }

    /// A recorder writing to `out` (at its current position for H.264, at its start for the
    /// others); `name` (usually the path) goes into errors. Arguments as for
    /// [`Recorder::create`].
    pub fn new(
        out: W,
        name: impl Into<String>,
        mime_type: &str,
        clock_rate: u32,
        channels: u8,
    ) -> Result<Self, MediaError> {
        let name = name.into();
        let format = Self::check(mime_type, clock_rate, channels)?;
        let io = |e: std::io::Error| MediaError::Io {
            file: name.clone(),
            reason: format!("write error: {e}"),
        };
        let sink = match format {
            RecordFormat::Ivf => {
                let (codec, fourcc) = match mime_type.to_ascii_lowercase().as_str() {
                    "video/vp8" => (VideoCodec::Vp8, b"VP80"),
                    "video/vp9" => (VideoCodec::Vp9, b"VP90"),
                    _ => (VideoCodec::Av1, b"AV01"),
                };
                Sink::Ivf {
                    writer: IvfWriter::new(out, fourcc, clock_rate).map_err(io)?,
                    codec,
                    size_known: false,
                }
            }
            RecordFormat::OggOpus => {
                Sink::Ogg(OggWriter::new(out, channels, rand::random()).map_err(io)?)
            }
            RecordFormat::H264AnnexB => Sink::AnnexB(AnnexBWriter::new(out).map_err(io)?),
        };
        Ok(Recorder {
            sink,
            name,
            mime_type: mime_type.to_string(),
            clock_rate,
            first: None,
            last: 0,
            previous: 0,
            end: 0,
            frames: 0,
            bytes: 0,
        })
    }

    /// The format being written.
    pub fn format(&self) -> RecordFormat {
        match self.sink {
            Sink::Ivf { .. } => RecordFormat::Ivf,
            Sink::Ogg(_) => RecordFormat::OggOpus,
            Sink::AnnexB(_) => RecordFormat::H264AnnexB,
        }
    }

    fn io_error(&self, e: std::io::Error) -> MediaError {
        MediaError::Io {
            file: self.name.clone(),
            reason: format!("write error: {e}"),
        }
    }

    /// Writes one whole encoded frame (a VP8/VP9 frame, an AV1 temporal unit, an H.264 Annex B
    /// access unit, an Opus packet) whose RTP timestamp, unwrapped, is `extended_timestamp`.
    /// Returns `false` when the frame was skipped: video before the first keyframe.
    pub fn write_frame(
        &mut self,
        data: &[u8],
        extended_timestamp: u64,
        keyframe: bool,
    ) -> Result<bool, MediaError> {
        if data.is_empty() {
            return Err(MediaError::InvalidArgument(format!(
                "empty {} frame: a frame must hold at least one byte of encoded media",
                self.mime_type
            )));
        }
        let audio = matches!(self.sink, Sink::Ogg(_));
        let Some(first) = self
            .first
            .or((audio || keyframe).then_some(extended_timestamp))
        else {
            return Ok(false);
        };
        if self.first.is_some() && extended_timestamp < self.last {
            return Err(MediaError::InvalidArgument(format!(
                "timestamp {extended_timestamp} is before the previous frame's ({}): frames \
                 must be written in timestamp order",
                self.last
            )));
        }
        let time = extended_timestamp - first;
        let result = match &mut self.sink {
            Sink::Ivf {
                writer,
                codec,
                size_known,
            } => {
                if keyframe && !*size_known {
                    let size = match codec {
                        VideoCodec::Vp8 => ivf_writer::vp8_size(data),
                        VideoCodec::Vp9 => ivf_writer::vp9_size(data),
                        VideoCodec::Av1 => ivf_writer::av1_size(data),
                    };
                    if let Some((w, h)) = size {
                        writer.set_size(w, h);
                        *size_known = true;
                    }
                }
                writer.write_frame(data, time)
            }
            Sink::Ogg(writer) => {
                let duration = opus_duration(data)
                    .ok_or_else(|| MediaError::malformed("Opus", "bad TOC byte or frame count"))?;
                if data.len() > ogg_writer::MAX_PACKET_SIZE {
                    return Err(MediaError::malformed(
                        "Opus",
                        format!("{} bytes: larger than an Opus packet can be", data.len()),
                    ));
                }
                // 48 kHz clock (checked at creation): ticks are samples
                let end = time + u64::from(duration);
                self.end = self.end.max(end);
                writer.write_packet(data, end)
            }
            Sink::AnnexB(writer) => {
                let units = annexb_writer::split_nal_units(data).ok_or_else(|| {
                    MediaError::malformed("H264", "not an Annex B access unit (no start code)")
                })?;
                writer.write_access_unit(&units)
            }
        };
        result.map_err(|e| self.io_error(e))?;
        self.first = Some(first);
        self.previous = if self.frames == 0 {
            extended_timestamp
        } else {
            self.last
        };
        self.last = extended_timestamp;
        self.frames += 1;
        self.bytes += data.len() as u64;
        Ok(true)
    }

    /// Completes the headers, flushes, and says what was recorded.
    pub fn finish(self) -> Result<RecordingSummary, MediaError> {
        let span = self.first.map_or(0, |first| self.last - first);
        let video_length = span + (self.last - self.previous);
        let name = self.name.clone();
        let io = |e: std::io::Error| MediaError::Io {
            file: name.clone(),
            reason: format!("write error: {e}"),
        };
        let length = match self.sink {
            Sink::Ivf { writer, .. } => {
                writer.finish(video_length).map_err(io)?;
                video_length
            }
            Sink::Ogg(writer) => {
                writer.finish().map_err(io)?;
                self.end
            }
            Sink::AnnexB(writer) => {
                // the file shows `frames` frames at the mean rate: span + one mean interval
                let timing = annexb_writer::mean_rate_timing(span, self.frames, self.clock_rate);
                writer.finish(timing).map_err(io)?;
                video_length
            }
        };
        Ok(RecordingSummary {
            frames: self.frames,
            bytes: self.bytes,
            duration_us: (u128::from(length) * 1_000_000 / u128::from(self.clock_rate)) as u64,
        })
    }
}

#[cfg(test)]
mod tests;
