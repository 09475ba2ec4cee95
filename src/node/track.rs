//! #[napi] Track: thin glue over msc_media::FrameTrack, the track a program feeds with encoded
//! frames (lib/Track.js is its JS face).

use std::sync::Arc;

use msc_media::{AudioLevel, FrameTiming, FrameTrack, MediaError};
use napi::bindgen_prelude::{BufferSlice, FnArgs};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;

use super::convert::{kind_from_js, JsCallback};
use super::errors::{to_js, Code};

#[napi]
pub struct NativeTrack {
    inner: Arc<FrameTrack>,
}

impl NativeTrack {
    pub fn inner(&self) -> Arc<FrameTrack> {
        self.inner.clone()
    }

    /// Wraps a track that a source made (file player, RTP ingest).
    pub fn from_inner(inner: Arc<FrameTrack>) -> Self {
        NativeTrack { inner }
    }
}

#[napi]
impl NativeTrack {
    /// `measure_audio_level`: audio levels that `writeFrame` is not given are measured by
    /// decoding the frames (Opus).
    #[napi(constructor)]
    pub fn new(kind: String, measure_audio_level: Option<bool>) -> napi::Result<Self, Code> {
        let track = FrameTrack::new(kind_from_js(&kind)?)
            .measuring_audio_level(measure_audio_level.unwrap_or(false));
        Ok(NativeTrack {
            inner: Arc::new(track),
        })
    }

    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_string()
    }

    #[napi(getter)]
    pub fn kind(&self) -> String {
        self.inner.kind().as_str().to_string()
    }

    #[napi(getter)]
    pub fn enabled(&self) -> bool {
        self.inner.enabled()
    }

    #[napi(setter)]
    pub fn set_enabled(&self, enabled: bool) {
        self.inner.set_enabled(enabled)
    }

    #[napi(getter)]
    pub fn ready_state(&self) -> String {
        self.inner.ready_state().as_str().to_string()
    }

    #[napi]
    pub fn stop(&self) {
        self.inner.stop()
    }

    /// `callback(layer, reason)` when a keyframe is wanted: reason 'start', 'resume' or
    /// 'server'.
    #[napi(ts_args_type = "callback: (layer: number, reason: string) => void")]
    pub fn on_keyframe_request(&self, callback: JsCallback<FnArgs<(u32, String)>>) {
        self.inner
            .on_keyframe_request(Box::new(move |layer, reason| {
                let args = (layer as u32, reason.as_str().to_string());
                callback.call(args.into(), ThreadsafeFunctionCallMode::NonBlocking);
            }));
    }

    /// `callback(reason)` when the track ends: 'stopped' or 'source-ended'.
    #[napi]
    pub fn on_ended(&self, callback: JsCallback<String>) {
        self.inner.on_ended(Box::new(move |reason| {
            let reason = match reason {
                msc_media::EndReason::Stopped => "stopped",
                msc_media::EndReason::SourceEnded => "source-ended",
            };
            callback.call(reason.to_string(), ThreadsafeFunctionCallMode::NonBlocking);
        }));
    }

    /// Writes one encoded frame; returns the number of RTP packets it made. `audio_level`
    /// (-dBov, 0..=127) and `voice_activity` (its V bit) are the frame's RFC 6464 level.
    #[napi(catch_unwind)]
    #[allow(clippy::too_many_arguments)]
    pub fn write_frame(
        &self,
        data: BufferSlice,
        timestamp_us: Option<f64>,
        duration_us: Option<f64>,
        keyframe: Option<bool>,
        layer: Option<u32>,
        audio_level: Option<u32>,
        voice_activity: Option<bool>,
    ) -> napi::Result<u32, Code> {
        let timing = FrameTiming {
            timestamp_us: timestamp_us.map(|t| t.max(0.0) as u64),
            duration_us: duration_us.map(|d| d.max(0.0) as u64),
        };
        let audio_level = audio_level
            .map(|level| {
                let level = u8::try_from(level).unwrap_or(u8::MAX);
                AudioLevel::new(level, voice_activity.unwrap_or(false))
            })
            .transpose()
            .map_err(to_js)?;
        if audio_level.is_none() && voice_activity.is_some() {
            return Err(to_js(MediaError::InvalidArgument(
                "voiceActivity is the V bit of an audioLevel: give audioLevel too".into(),
            )));
        }
        let data = bytes::Bytes::copy_from_slice(&data);
        self.inner
            .write_frame_with_level(
                data,
                timing,
                keyframe,
                layer.unwrap_or(0) as usize,
                audio_level,
            )
            .map(|n| n as u32)
            .map_err(to_js)
    }
}
