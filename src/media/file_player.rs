//! File player: a [`FrameTrack`] fed, in real time, with the frames of a file that needs no
//! decoding: IVF (VP8, VP9, AV1), Ogg/Opus, H.264 Annex B.
//!
//! Behaviour a program can rely on:
//! - [`FilePlayer::open`] recognises the format from the file's first bytes (not its name),
//!   reads the header and the first frame, and fails with the file name and the byte offset
//!   when the file is not one of those formats, is empty or is malformed there.
//! - The track it makes is bound to the file's codec and the profile its first frame declares
//!   ([`FrameTrack::with_codec_parameters`]).
//! - Playing starts when the track is first attached to a producer, from the first frame;
//!   from then on the file plays in real time like a camera, whether or not a producer uses
//!   the track (frames written while detached are dropped). Every layer of the producer gets
//!   the same frames (a file has one encoding).
//! - Frames are sent at the times the file gives them (IVF pts and timebase, Opus packet
//!   positions; H.264 Annex B has no times: a fixed frame rate, 30 by default).
//! - At the end of the file the track ends ([`EndReason::SourceEnded`](crate::EndReason)),
//!   unless looped: then the file starts again, its timestamps continuing after the last
//!   frame (one frame duration later), never backwards. A pass lasts at least 1 ms per frame
//!   (1000 frames per second), whatever the file's timestamps say.
//! - A read error, a truncated or malformed frame, or a jump of more than
//!   [`MAX_FRAME_GAP_US`] between two frames ends the track too; [`FilePlayer::error`] then
//!   tells what and where (file name and byte offset), and it is logged at `warn`.
//! - Stopping the track (or dropping the [`FilePlayer`]) stops the playing task within a
//!   frame interval.

use crate::counted;
use crate::{FrameTiming, FrameTrack, H264Reader, IvfReader, MediaError, MediaKind, OggOpusReader};
use bytes::Bytes;
use msc_ortc::CodecParameters;
use std::fs::File;
use std::future::Future;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Default frame rate of H.264 Annex B files, which carry no times.
pub const DEFAULT_H264_FRAME_RATE: f64 = 30.0;
/// Two frames further apart than this (60 s) make a file malformed rather than a long wait.
pub const MAX_FRAME_GAP_US: u64 = 60_000_000;
/// Duration given to the last frame of a video file before a loop restarts when the file
/// says nothing better (one frame at 30 fps).
const DEFAULT_FRAME_US: u64 = 33_333;
/// A pass of a looped file lasts at least this long per frame (1000 frames per second), so that
/// a file whose timestamps are microseconds apart cannot make a loop send without pause.
const MIN_LOOPED_FRAME_US: u64 = 1_000;

/// How a file is played.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FilePlayerOptions {
    /// Start again at the end of the file instead of ending the track.
    pub looped: bool,
    /// Frames per second of an H.264 Annex B file (default 30); ignored for other formats.
    pub frame_rate: Option<f64>,
}

/// The container formats a file player reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// IVF: VP8, VP9 or AV1 frames with their timestamps.
    Ivf,
    /// Ogg with one Opus stream (RFC 7845).
    OggOpus,
    /// H.264 Annex B byte stream: no times, played at [`FilePlayerOptions::frame_rate`].
    H264AnnexB,
}

impl FileFormat {
    /// Short name shown to the program (JS `fileTrack.format`): `ivf`, `ogg` or `h264`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Ivf => "ivf",
            FileFormat::OggOpus => "ogg",
            FileFormat::H264AnnexB => "h264",
        }
    }
}

/// What a file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct FileInfo {
    /// The container, recognised from the file's first bytes (not its name).
    pub format: FileFormat,
    /// Audio for Ogg/Opus, video otherwise; the kind of the track made for the file.
    pub kind: MediaKind,
    /// video/VP8, video/VP9, video/AV1, video/H264 or audio/opus.
    pub mime_type: &'static str,
    /// Video width in pixels from the IVF header (0 when unknown).
    pub width: u32,
    /// Video height in pixels from the IVF header (0 when unknown).
    pub height: u32,
    /// Opus channels (0 for video).
    pub channels: u8,
    /// Frames per second for H.264 Annex B (None for the formats that carry times).
    pub frame_rate: Option<f64>,
    /// The profile the first frame declares, as codec parameters ([`crate::codec_parameters`]).
    pub parameters: CodecParameters,
}

/// One frame or packet with its time.
struct Frame {
    data: Bytes,
    timestamp_us: u64,
    /// Known for Opus packets.
    duration_us: Option<u64>,
    offset: u64,
}

type FileReader = BufReader<File>;

enum Reader {
    Ivf(IvfReader<FileReader>),
    Ogg(OggOpusReader<FileReader>),
    H264(H264Reader<FileReader>),
}

impl Reader {
    fn open(path: &Path, info: &FileInfo) -> Result<Reader, MediaError> {
        Ok(match info.format {
            FileFormat::Ivf => Reader::Ivf(IvfReader::open(path)?),
            FileFormat::OggOpus => Reader::Ogg(OggOpusReader::open(path)?),
            FileFormat::H264AnnexB => Reader::H264(H264Reader::open(
                path,
                info.frame_rate.unwrap_or(DEFAULT_H264_FRAME_RATE),
            )?),
        })
    }

    fn next(&mut self) -> Result<Option<Frame>, MediaError> {
        Ok(match self {
            Reader::Ivf(r) => r.next_frame()?.map(|f| Frame {
                data: f.data,
                timestamp_us: f.timestamp_us,
                duration_us: None,
                offset: f.offset,
            }),
            Reader::Ogg(r) => r.next_packet()?.map(|p| Frame {
                timestamp_us: p.timestamp_us(),
                duration_us: Some(p.duration_us()),
                data: p.data,
                offset: 0,
            }),
            Reader::H264(r) => {
                let frame_us = (1_000_000.0 / r.frame_rate()).round() as u64;
                r.next_access_unit()?.map(|a| Frame {
                    data: a.data,
                    timestamp_us: a.timestamp_us,
                    duration_us: Some(frame_us),
                    offset: a.offset,
                })
            }
        })
    }
}

fn malformed(path: &Path, format: &'static str, offset: u64, reason: String) -> MediaError {
    MediaError::MalformedFile {
        file: path.display().to_string(),
        format,
        offset,
        reason,
    }
}

/// Recognises the format from the first bytes and reads the header and first frame.
fn probe(
    path: &Path,
    options: &FilePlayerOptions,
) -> Result<(FileInfo, Reader, Frame), MediaError> {
    let mut magic = [0u8; 4];
    let n = {
        let mut f = counted::open(path)?;
        let mut n = 0;
        while n < magic.len() {
            match f.read(&mut magic[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(MediaError::Io {
                        file: path.display().to_string(),
                        reason: format!("read error at byte offset {n}: {e}"),
                    })
                }
            }
        }
        n
    };
    if n == 0 {
        return Err(malformed(path, "media file", 0, "empty file".into()));
    }
    let mut info = FileInfo {
        format: FileFormat::Ivf,
        kind: MediaKind::Video,
        mime_type: "",
        width: 0,
        height: 0,
        channels: 0,
        frame_rate: None,
        parameters: CodecParameters::new(),
    };
    let reader = if magic.starts_with(b"DKIF") {
        let r = IvfReader::open(path)?;
        let h = r.header();
        info.mime_type = h.mime_type;
        info.width = u32::from(h.width);
        info.height = u32::from(h.height);
        Reader::Ivf(r)
    } else if magic.starts_with(b"OggS") {
        let r = OggOpusReader::open(path)?;
        let head = r.head();
        if head.mapping_family != 0 || head.channels > 2 {
            return Err(malformed(
                path,
                "Ogg/Opus",
                0,
                format!(
                    "{} channels with channel mapping family {}: only mono and stereo Opus \
                     (family 0) go over RTP as audio/opus",
                    head.channels, head.mapping_family
                ),
            ));
        }
        info.format = FileFormat::OggOpus;
        info.kind = MediaKind::Audio;
        info.mime_type = "audio/opus";
        info.channels = head.channels;
        Reader::Ogg(r)
    } else if magic[..n].starts_with(&[0, 0, 1]) || magic[..n].starts_with(&[0, 0, 0, 1]) {
        let frame_rate = options.frame_rate.unwrap_or(DEFAULT_H264_FRAME_RATE);
        let r = H264Reader::open(path, frame_rate)?;
        info.format = FileFormat::H264AnnexB;
        info.mime_type = "video/H264";
        info.frame_rate = Some(frame_rate);
        Reader::H264(r)
    } else {
        return Err(malformed(
            path,
            "media file",
            0,
            "not an IVF (VP8, VP9, AV1), Ogg/Opus or H.264 Annex B file; other containers \
             (mp4, webm, mkv...) need demuxing: send them with ffmpeg into createRtpTrack()"
                .into(),
        ));
    };
    let mut reader = reader;
    let first = reader.next()?.ok_or_else(|| {
        malformed(
            path,
            match info.format {
                FileFormat::Ivf => "IVF",
                FileFormat::OggOpus => "Ogg/Opus",
                FileFormat::H264AnnexB => "H.264 Annex B",
            },
            0,
            "no frame in the file".into(),
        )
    })?;
    info.parameters = crate::codec_parameters(info.mime_type, &first.data);
    Ok((info, reader, first))
}

/// State shared by a [`FilePlayer`] handle and its playing task.
#[derive(Default)]
struct Shared {
    wake: Notify,
    cancelled: AtomicBool,
    error: Mutex<Option<MediaError>>,
}

/// A file played into a [`FrameTrack`]. Dropping it stops the playing task (the track stays
/// live until stopped).
pub struct FilePlayer {
    path: PathBuf,
    info: FileInfo,
    options: FilePlayerOptions,
    track: Arc<FrameTrack>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FilePlayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilePlayer")
            .field("path", &self.path)
            .field("info", &self.info)
            .field("options", &self.options)
            .finish()
    }
}

impl Drop for FilePlayer {
    fn drop(&mut self) {
        self.shared.cancelled.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
    }
}

impl FilePlayer {
    /// Opens `path` (blocking file I/O: call it off the async threads) and makes its track.
    /// Returns the player and the task that plays the file: spawn it on a tokio runtime.
    pub fn open(
        path: impl AsRef<Path>,
        options: FilePlayerOptions,
    ) -> Result<(FilePlayer, impl Future<Output = ()> + Send + 'static), MediaError> {
        let path = path.as_ref().to_path_buf();
        if let Some(rate) = options.frame_rate {
            if !(rate.is_finite() && rate > 0.0 && rate <= 1000.0) {
                return Err(MediaError::InvalidArgument(format!(
                    "invalid frameRate {rate}: a number of frames per second in (0, 1000]"
                )));
            }
        }
        let (info, reader, first) = probe(&path, &options)?;
        let track = Arc::new(FrameTrack::with_codec_parameters(
            info.kind,
            info.mime_type,
            info.parameters.clone(),
        ));
        let shared = Arc::new(Shared::default());
        let waker = |shared: &Arc<Shared>| {
            let weak = Arc::downgrade(shared);
            move || {
                if let Some(s) = weak.upgrade() {
                    s.wake.notify_one();
                }
            }
        };
        track.on_attached(Box::new(waker(&shared)));
        let wake = waker(&shared);
        track.on_ended(Box::new(move |_| wake()));
        let task = Playback {
            path: path.clone(),
            info: info.clone(),
            looped: options.looped,
            track: track.clone(),
            shared: shared.clone(),
        }
        .run(reader, first);
        Ok((
            FilePlayer {
                path,
                info,
                options,
                track,
                shared,
            },
            task,
        ))
    }

    /// The track the file is played into: give it to a producer; playback waits until it is
    /// attached, and ends it at the end of the file (unless looped) or on a read error.
    pub fn track(&self) -> Arc<FrameTrack> {
        self.track.clone()
    }

    /// What the file holds, as probed by [`FilePlayer::open`].
    pub fn info(&self) -> &FileInfo {
        &self.info
    }

    /// The path as given to [`FilePlayer::open`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The options given to [`FilePlayer::open`].
    pub fn options(&self) -> FilePlayerOptions {
        self.options
    }

    /// Why the track ended early, if it did (read error, malformed frame).
    pub fn error(&self) -> Option<MediaError> {
        self.shared.error.lock().unwrap().clone()
    }
}

/// The playing task's own state.
struct Playback {
    path: PathBuf,
    info: FileInfo,
    looped: bool,
    track: Arc<FrameTrack>,
    shared: Arc<Shared>,
}

enum Outcome {
    /// The end of a file that is not looped.
    Finished,
    /// The track was stopped or the player dropped.
    Stopped,
    Failed(MediaError),
}

impl Playback {
    fn should_stop(&self) -> bool {
        self.shared.cancelled.load(Ordering::SeqCst) || self.track.ended()
    }

    /// Sleeps until `deadline`; false when the playback must stop instead.
    async fn sleep_until(&self, deadline: Instant) -> bool {
        loop {
            if self.should_stop() {
                return false;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => return !self.should_stop(),
                _ = self.shared.wake.notified() => {}
            }
        }
    }

    async fn run(self, reader: Reader, first: Frame) {
        // wait for the first attach
        loop {
            if self.should_stop() {
                return;
            }
            if self.track.is_attached() {
                break;
            }
            self.shared.wake.notified().await;
        }
        match self.play(reader, first).await {
            Outcome::Stopped => {}
            Outcome::Finished => {
                tracing::debug!(file = %self.path.display(), "end of file");
                self.track.end_source();
            }
            Outcome::Failed(e) => {
                tracing::warn!("file track ended: {e}");
                *self.shared.error.lock().unwrap() = Some(e);
                self.track.end_source();
            }
        }
    }

    async fn play(&self, mut reader: Reader, first: Frame) -> Outcome {
        let start = Instant::now();
        let mut next = Some(first);
        // timeline position (us) of the current pass's first frame, and of the file's
        let mut pass_base: u64 = 0;
        let mut pass_first: Option<u64> = None;
        let mut last: Option<(u64, u64)> = None; // (position, duration) of the last frame
        let mut passes = 0u64;
        let mut pass_frames = 0u64;
        loop {
            let frame = match next.take() {
                Some(f) => f,
                None => match reader.next() {
                    Ok(Some(f)) => f,
                    Ok(None) => {
                        if !self.looped {
                            return Outcome::Finished;
                        }
                        let Some((pos, duration)) = last else {
                            return Outcome::Failed(malformed(
                                &self.path,
                                "media file",
                                0,
                                "no frame in the file".into(),
                            ));
                        };
                        passes += 1;
                        tracing::debug!(file = %self.path.display(), passes, "looping");
                        match Reader::open(&self.path, &self.info) {
                            Ok(r) => reader = r,
                            Err(e) => return Outcome::Failed(e),
                        }
                        pass_base = (pos + duration.max(1))
                            .max(pass_base + pass_frames * MIN_LOOPED_FRAME_US);
                        pass_first = None;
                        pass_frames = 0;
                        continue;
                    }
                    Err(e) => return Outcome::Failed(e),
                },
            };
            let first_ts = *pass_first.get_or_insert(frame.timestamp_us);
            pass_frames += 1;
            let position = pass_base + frame.timestamp_us.saturating_sub(first_ts);
            if let Some((prev, _)) = last {
                if position > prev + MAX_FRAME_GAP_US {
                    return Outcome::Failed(self.frame_error(
                        &frame,
                        format!(
                            "the frame's time jumps {:.1} s ahead of the previous frame (more \
                             than {} s): a corrupt timestamp?",
                            (position - prev) as f64 / 1e6,
                            MAX_FRAME_GAP_US / 1_000_000
                        ),
                    ));
                }
            }
            if !self
                .sleep_until(start + Duration::from_micros(position))
                .await
            {
                return Outcome::Stopped;
            }
            let layers = self.track.num_layers().max(1);
            for layer in 0..layers {
                let timing = FrameTiming {
                    timestamp_us: Some(position),
                    duration_us: None,
                };
                match self
                    .track
                    .write_frame(frame.data.clone(), timing, None, layer)
                {
                    Ok(_) | Err(MediaError::NotAttached) => {}
                    // detached in between, or re-attached with fewer layers
                    Err(MediaError::InvalidArgument(_)) if layer > 0 => {}
                    Err(MediaError::Ended) => return Outcome::Stopped,
                    Err(e) => return Outcome::Failed(self.frame_error(&frame, e.to_string())),
                }
            }
            let duration = frame.duration_us.unwrap_or_else(|| match last {
                Some((prev, _)) if position > prev => position - prev,
                _ => DEFAULT_FRAME_US,
            });
            last = Some((position, duration));
        }
    }

    fn frame_error(&self, frame: &Frame, reason: String) -> MediaError {
        let format = match self.info.format {
            FileFormat::Ivf => "IVF",
            FileFormat::H264AnnexB => "H.264 Annex B",
            // an Ogg packet has no one offset (it may span pages): its time says where it is
            FileFormat::OggOpus => {
                return MediaError::Io {
                    file: self.path.display().to_string(),
                    reason: format!(
                        "Opus packet at {:.3} s: {reason}",
                        frame.timestamp_us as f64 / 1e6
                    ),
                }
            }
        };
        MediaError::MalformedFile {
            file: self.path.display().to_string(),
            format,
            offset: frame.offset,
            reason: format!("frame: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fuzz;
