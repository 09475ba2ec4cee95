//! `FrameTrack`: the track behind JS `createTrack({ kind })`, fed with encoded frames.
//!
//! Behaviour a program can rely on:
//! - `write_frame` on a track no producer uses fails with [`MediaError::NotAttached`] ("track
//!   is not attached to a producer"); after `stop()` with [`MediaError::Ended`].
//! - While `enabled` is false, frames are accepted and dropped (nothing is sent, audio
//!   included: no silence is synthesized, unlike mediasoup-client in a browser). Timestamps
//!   keep advancing, so the stream resumes at the right time. Re-enabling asks the program for
//!   a keyframe on every layer (through the keyframe-request callbacks).
//! - Frames are sent as written: a layer's delta frames are not held back until its first
//!   keyframe (the SFU waits for a keyframe itself, and asks for one with a PLI).
//! - All packets of a frame go to the sink at once (a burst); the program sets the frame rate.
//! - A track feeds at most one producer at a time; `attach` resets the per-layer state
//!   (packetizers, picture ids, random timestamp bases).
//! - A track made for one codec ([`FrameTrack::with_codec`]: file and RTP tracks) attaches only
//!   to a producer of that codec, and of its profile when the track knows it
//!   ([`FrameTrack::with_codec_parameters`]: VP9 profile-id, H.264 profile, as
//!   `msc_ortc::track_codec` matches them; a parameter the producer's codec does not state is
//!   not checked); sources that already hold RTP payloads write them with
//!   [`FrameTrack::write_rtp`], bypassing the packetizer.
//! - Audio levels (RFC 6464 `ssrc-audio-level`): a level the program gives with a frame
//!   ([`FrameTrack::write_frame_with_level`]) goes out as given. Otherwise an audio track made
//!   for Opus ([`FrameTrack::with_codec`]) measures it by decoding each packet (see
//!   `opus_level.rs`); a plain [`FrameTrack::new`] audio track decodes nothing and its packets
//!   carry no level, unless [`FrameTrack::measuring_audio_level`] turned measuring on. A packet
//!   that does not decode carries no level.

use crate::clock::LayerClock;
use crate::opus_level::OpusLevelMeter;
use crate::packetizer::{Packetizer, DEFAULT_MTU};
use crate::{AudioLevel, MediaError, MediaKind, RtpChunk, RtpSink};
use bytes::Bytes;
use msc_ortc::{CodecParameters, RtpCodecParameters, TrackCodec};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// When a frame is to be presented. Both absent: the wall clock at the time of writing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameTiming {
    /// Presentation time of this frame in microseconds, on any timeline the program likes
    /// (only differences count).
    pub timestamp_us: Option<u64>,
    /// Duration of this frame in microseconds: when the next frame gives no timestamp, it
    /// starts this much later.
    pub duration_us: Option<u64>,
}

/// `readyState` of a track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackState {
    /// Frames can be written and the track attached.
    Live,
    /// Stopped for good ([`FrameTrack::stop`] or the end of its source); a track never comes
    /// back to live.
    Ended,
}

impl TrackState {
    /// "live" or "ended", as in the W3C `MediaStreamTrack.readyState`.
    pub fn as_str(self) -> &'static str {
        match self {
            TrackState::Live => "live",
            TrackState::Ended => "ended",
        }
    }
}

/// Why a track ended, given to the ended callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The program called `stop()`.
    Stopped,
    /// The source has nothing more to give (end of a file that is not looped, closed socket).
    SourceEnded,
}

/// Why a keyframe is wanted, given to the keyframe-request callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyframeReason {
    /// The track was just plugged into a producer (produce, replaceTrack) or a layer was
    /// switched back on: its stream must start with a keyframe.
    Start,
    /// Media restarts after a pause (the producer resumed, or the track was re-enabled).
    Resume,
    /// The server asked for one (RTCP PLI or FIR).
    Server,
}

impl KeyframeReason {
    /// "start", "resume" or "server".
    pub fn as_str(self) -> &'static str {
        match self {
            KeyframeReason::Start => "start",
            KeyframeReason::Resume => "resume",
            KeyframeReason::Server => "server",
        }
    }
}

type EndedCallback = Arc<dyn Fn(EndReason) + Send + Sync>;
type KeyframeCallback = Arc<dyn Fn(usize, KeyframeReason) + Send + Sync>;
type AttachedCallback = Arc<dyn Fn() + Send + Sync>;

/// A track fed with encoded frames by the program. Share it as `Arc<FrameTrack>`.
pub struct FrameTrack {
    id: String,
    kind: MediaKind,
    /// Some: the only codec this track's frames can be sent as (mime type).
    codec: Option<String>,
    /// Audio levels the program does not give are measured by decoding (see the module doc).
    measure_audio_level: bool,
    /// The profile of that codec the frames are of (empty: not known).
    codec_parameters: CodecParameters,
    enabled: AtomicBool,
    ended: AtomicBool,
    writer: Mutex<Option<Attachment>>,
    listeners: Mutex<Listeners>,
}

struct Attachment {
    sink: Arc<dyn RtpSink>,
    layers: Vec<Layer>,
}

struct Layer {
    packetizer: Packetizer,
    clock: LayerClock,
    /// Some on audio layers of a track that measures its levels.
    meter: Option<OpusLevelMeter>,
}

#[derive(Default)]
struct Listeners {
    ended: Vec<EndedCallback>,
    keyframe: Vec<KeyframeCallback>,
    attached: Vec<AttachedCallback>,
}

impl std::fmt::Debug for FrameTrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameTrack")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("enabled", &self.enabled())
            .field("ready_state", &self.ready_state())
            .field("attached", &self.is_attached())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FrameTrack {
    /// A live, enabled, unattached track with a random uuid-like id.
    pub fn new(kind: MediaKind) -> Self {
        FrameTrack {
            id: random_uuid(),
            kind,
            codec: None,
            measure_audio_level: false,
            codec_parameters: CodecParameters::new(),
            enabled: AtomicBool::new(true),
            ended: AtomicBool::new(false),
            writer: Mutex::new(None),
            listeners: Mutex::new(Listeners::default()),
        }
    }

    /// A track whose frames are of one codec (`mime_type`, e.g. "video/VP8"): it attaches
    /// only to producers of that codec. An audio one measures the levels of its packets.
    pub fn with_codec(kind: MediaKind, mime_type: impl Into<String>) -> Self {
        FrameTrack {
            codec: Some(mime_type.into()),
            measure_audio_level: kind == MediaKind::Audio,
            ..FrameTrack::new(kind)
        }
    }

    /// The same track, measuring (`true`) or not the audio levels that the program does not
    /// give, by decoding its Opus packets. Ignored on video tracks.
    pub fn measuring_audio_level(self, measure: bool) -> Self {
        FrameTrack {
            measure_audio_level: measure && self.kind == MediaKind::Audio,
            ..self
        }
    }

    /// Whether audio levels that the program does not give are measured.
    pub fn measures_audio_level(&self) -> bool {
        self.measure_audio_level
    }

    /// A track whose frames are of one codec and profile (`parameters`: VP9 `profile-id`,
    /// H.264 `profile-level-id` and `packetization-mode`...): it attaches only to producers
    /// whose codec has that profile.
    pub fn with_codec_parameters(
        kind: MediaKind,
        mime_type: impl Into<String>,
        parameters: CodecParameters,
    ) -> Self {
        FrameTrack {
            codec_parameters: parameters,
            ..FrameTrack::with_codec(kind, mime_type)
        }
    }

    /// The codec this track is bound to, if any ([`FrameTrack::with_codec`]).
    pub fn codec(&self) -> Option<&str> {
        self.codec.as_deref()
    }

    /// Random, uuid v4 shaped.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Audio or video, fixed at creation; a producer takes only tracks of its own kind.
    pub fn kind(&self) -> MediaKind {
        self.kind
    }

    /// W3C `MediaStreamTrack.enabled`: true at creation; see [`FrameTrack::set_enabled`].
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::SeqCst)
    }

    /// Disabled: frames are dropped (see the module doc). Going from disabled to enabled on
    /// an attached track requests a keyframe on every layer.
    pub fn set_enabled(&self, enabled: bool) {
        let was = self.enabled.swap(enabled, Ordering::SeqCst);
        if enabled && !was {
            let layers = lock(&self.writer).as_ref().map_or(0, |a| a.layers.len());
            for layer in 0..layers {
                self.request_keyframe(layer, KeyframeReason::Resume);
            }
        }
    }

    /// W3C `MediaStreamTrack.readyState`.
    pub fn ready_state(&self) -> TrackState {
        if self.ended.load(Ordering::SeqCst) {
            TrackState::Ended
        } else {
            TrackState::Live
        }
    }

    /// `ready_state() == TrackState::Ended`.
    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    /// Whether a producer uses this track.
    pub fn is_attached(&self) -> bool {
        lock(&self.writer).is_some()
    }

    /// Ends the track: it detaches from its producer, further writes and attaches fail with
    /// [`MediaError::Ended`], and the ended callbacks run once with [`EndReason::Stopped`].
    /// Stopping an ended track does nothing.
    pub fn stop(&self) {
        self.end(EndReason::Stopped);
    }

    /// Ends the track because its source has nothing more to give (end of a file, a read
    /// error): as [`FrameTrack::stop`], with [`EndReason::SourceEnded`].
    pub fn end_source(&self) {
        self.end(EndReason::SourceEnded);
    }

    fn end(&self, reason: EndReason) {
        if self.ended.swap(true, Ordering::SeqCst) {
            return;
        }
        drop(lock(&self.writer).take());
        let callbacks = lock(&self.listeners).ended.clone();
        for cb in callbacks {
            cb(reason);
        }
    }

    /// Runs `cb` when the track ends (once). Not called if the track has already ended.
    pub fn on_ended(&self, cb: Box<dyn Fn(EndReason) + Send + Sync>) {
        lock(&self.listeners).ended.push(Arc::from(cb));
    }

    /// Runs `cb(layer, reason)` when a keyframe is wanted on `layer` (see [`KeyframeReason`]).
    /// The program should then write a keyframe on that layer. Callbacks may call back into
    /// the track (e.g. write the keyframe at once).
    pub fn on_keyframe_request(&self, cb: Box<dyn Fn(usize, KeyframeReason) + Send + Sync>) {
        lock(&self.listeners).keyframe.push(Arc::from(cb));
    }

    /// Runs `cb` each time the track is attached to a producer (after `attach` succeeds).
    pub fn on_attached(&self, cb: Box<dyn Fn() + Send + Sync>) {
        lock(&self.listeners).attached.push(Arc::from(cb));
    }

    /// The number of layers of the producer the track feeds (0 when not attached).
    pub fn num_layers(&self) -> usize {
        lock(&self.writer).as_ref().map_or(0, |a| a.layers.len())
    }

    /// Asks for a keyframe on `layer` for `reason`: runs the keyframe-request callbacks.
    /// Ignored once the track has ended.
    pub fn request_keyframe(&self, layer: usize, reason: KeyframeReason) {
        if self.ended.load(Ordering::SeqCst) {
            return;
        }
        let callbacks = lock(&self.listeners).keyframe.clone();
        for cb in callbacks {
            cb(layer, reason);
        }
    }

    /// Plugs the track into a producer's sink: frames written from now on are packetized for
    /// `codec` (mime type, clock rate) and sent to `sink`, on `num_layers` layers (simulcast
    /// encodings, lowest first; 1 without simulcast).
    ///
    /// Fails if the track has ended, is already attached, the codec has no packetizer or does
    /// not match the track's kind, or `num_layers` is 0.
    pub fn attach(
        &self,
        sink: Arc<dyn RtpSink>,
        codec: &RtpCodecParameters,
        num_layers: usize,
    ) -> Result<(), MediaError> {
        self.attach_with(sink, codec, num_layers, rand::random::<u32>)
    }

    fn attach_with(
        &self,
        sink: Arc<dyn RtpSink>,
        codec: &RtpCodecParameters,
        num_layers: usize,
        timestamp_base: impl FnMut() -> u32,
    ) -> Result<(), MediaError> {
        self.attach_locked(sink, codec, num_layers, timestamp_base)?;
        let callbacks = lock(&self.listeners).attached.clone();
        for cb in callbacks {
            cb();
        }
        Ok(())
    }

    fn attach_locked(
        &self,
        sink: Arc<dyn RtpSink>,
        codec: &RtpCodecParameters,
        num_layers: usize,
        mut timestamp_base: impl FnMut() -> u32,
    ) -> Result<(), MediaError> {
        let mut writer = lock(&self.writer);
        if self.ended.load(Ordering::SeqCst) {
            return Err(MediaError::Ended);
        }
        if writer.is_some() {
            return Err(MediaError::AlreadyAttached);
        }
        if num_layers == 0 {
            return Err(MediaError::InvalidArgument(
                "a track must be attached with at least one layer".into(),
            ));
        }
        if let Some(own) = &self.codec {
            if !own.eq_ignore_ascii_case(&codec.mime_type) {
                return Err(MediaError::InvalidArgument(format!(
                    "this track holds {own} media: it cannot feed a {} producer",
                    codec.mime_type
                )));
            }
        }
        if codec.mime_type.eq_ignore_ascii_case("video/h264")
            && codec
                .parameters
                .get("packetization-mode")
                .is_some_and(|m| m.as_u64() == Some(0) || m.as_str() == Some("0"))
        {
            return Err(MediaError::UnsupportedCodec {
                mime_type: format!("{} with packetization-mode=0", codec.mime_type),
            });
        }
        self.check_profile(codec)?;
        let mut layers = Vec::with_capacity(num_layers);
        for _ in 0..num_layers {
            let packetizer =
                Packetizer::for_codec(&codec.mime_type, codec.clock_rate, DEFAULT_MTU)?;
            if packetizer.kind() != self.kind {
                return Err(MediaError::InvalidArgument(format!(
                    "cannot attach {} track to a {} producer",
                    kind_str(self.kind),
                    codec.mime_type
                )));
            }
            let meter = if self.measure_audio_level && packetizer.kind() == MediaKind::Audio {
                OpusLevelMeter::new()
            } else {
                None
            };
            layers.push(Layer {
                clock: LayerClock::new(codec.clock_rate, timestamp_base()),
                packetizer,
                meter,
            });
        }
        *writer = Some(Attachment { sink, layers });
        Ok(())
    }

    /// The track's known profile against the producer's codec. Only the parameters the
    /// codec states count: a producer's codec has the device's parameters, which do not
    /// state what device.load does not match (AV1 `profile`).
    fn check_profile(&self, codec: &RtpCodecParameters) -> Result<(), MediaError> {
        let Some(own) = &self.codec else {
            return Ok(());
        };
        if self.codec_parameters.is_empty() {
            return Ok(());
        }
        // what the codec does not state is taken as the track's
        let mut parameters = codec.parameters.clone();
        for (key, value) in &self.codec_parameters {
            if !parameters.contains_key(key) {
                parameters.insert(key.clone(), value.clone());
            }
        }
        let track = TrackCodec {
            kind: self.kind,
            mime_type: own.clone(),
            parameters: self.codec_parameters.clone(),
        };
        msc_ortc::check_codec_for_track(&track, &codec.mime_type, &parameters).map_err(|e| {
            MediaError::InvalidArgument(format!("this track cannot feed the producer: {e}"))
        })
    }

    /// Unplugs the track from its producer (no-op when not attached). Returns once no frame
    /// is being delivered to the old sink.
    pub fn detach(&self) {
        drop(lock(&self.writer).take());
    }

    /// Packetizes one encoded frame for `layer` and sends its packets to the producer's sink.
    ///
    /// - `data`: a VP8/VP9 frame, an H.264 Annex B access unit, an AV1 temporal unit (OBUs in
    ///   low-overhead format), an Opus packet.
    /// - `timing`: see [`FrameTiming`].
    /// - `keyframe`: `None` to read it from the bitstream.
    ///
    /// Returns the number of RTP packets sent (0 when the track is disabled).
    pub fn write_frame(
        &self,
        data: Bytes,
        timing: FrameTiming,
        keyframe: Option<bool>,
        layer: usize,
    ) -> Result<usize, MediaError> {
        self.write_frame_at(data, timing, keyframe, layer, None, Instant::now())
    }

    /// As [`FrameTrack::write_frame`], with the audio level of the frame: `Some` is sent as
    /// is in the `ssrc-audio-level` extension of its packets (audio tracks only: an error on a
    /// video track); `None` is as `write_frame` (measured or not, see the module doc).
    pub fn write_frame_with_level(
        &self,
        data: Bytes,
        timing: FrameTiming,
        keyframe: Option<bool>,
        layer: usize,
        audio_level: Option<AudioLevel>,
    ) -> Result<usize, MediaError> {
        self.write_frame_at(data, timing, keyframe, layer, audio_level, Instant::now())
    }

    fn write_frame_at(
        &self,
        data: Bytes,
        timing: FrameTiming,
        keyframe: Option<bool>,
        layer: usize,
        audio_level: Option<AudioLevel>,
        now: Instant,
    ) -> Result<usize, MediaError> {
        if audio_level.is_some() && self.kind != MediaKind::Audio {
            return Err(MediaError::InvalidArgument(
                "audioLevel is for audio tracks: this is a video track".into(),
            ));
        }
        let mut writer = lock(&self.writer);
        if self.ended.load(Ordering::SeqCst) {
            return Err(MediaError::Ended);
        }
        let attachment = writer.as_mut().ok_or(MediaError::NotAttached)?;
        let num_layers = attachment.layers.len();
        let state = attachment.layers.get_mut(layer).ok_or_else(|| {
            MediaError::InvalidArgument(format!(
                "layer {layer} out of range: the producer sends {num_layers} layer(s), \
                 0..={}",
                num_layers - 1
            ))
        })?;
        let timestamp = state.clock.stamp(timing, now);
        if !self.enabled() {
            return Ok(0);
        }
        let chunks = state.packetizer.packetize(&data, keyframe, timestamp)?;
        let audio_level = audio_level.or_else(|| state.meter.as_mut()?.measure(&data));
        let count = chunks.len();
        for mut chunk in chunks {
            chunk.audio_level = audio_level;
            attachment.sink.send(layer, chunk);
        }
        Ok(count)
    }
}

impl FrameTrack {
    /// Sends one RTP payload as it is (no packetizer) on `layer`: for sources that already
    /// hold RTP payloads of the producer's codec (RTP ingest). `timestamp` is in the codec
    /// clock on the track's own timeline (the producer re-bases it); `marker` is the RTP
    /// marker bit. Returns whether it was sent (false while the track is disabled). On a
    /// track that measures audio levels, the payload (an Opus packet) is decoded for its level.
    pub fn write_rtp(
        &self,
        layer: usize,
        payload: Bytes,
        timestamp: u32,
        marker: bool,
    ) -> Result<bool, MediaError> {
        let mut writer = lock(&self.writer);
        if self.ended.load(Ordering::SeqCst) {
            return Err(MediaError::Ended);
        }
        let attachment = writer.as_mut().ok_or(MediaError::NotAttached)?;
        if layer >= attachment.layers.len() {
            return Err(MediaError::InvalidArgument(format!(
                "layer {layer} out of range: the producer sends {} layer(s)",
                attachment.layers.len()
            )));
        }
        if payload.is_empty() {
            return Err(MediaError::InvalidArgument("empty RTP payload".into()));
        }
        if !self.enabled() {
            return Ok(false);
        }
        let audio_level = attachment.layers[layer]
            .meter
            .as_mut()
            .and_then(|m| m.measure(&payload));
        attachment.sink.send(
            layer,
            RtpChunk {
                payload,
                marker,
                timestamp,
                keyframe: false,
                audio_level,
            },
        );
        Ok(true)
    }
}

fn kind_str(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Audio => "an audio",
        MediaKind::Video => "a video",
    }
}

fn random_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests;
