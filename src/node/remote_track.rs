//! #[napi] RemoteTrack: thin glue over msc_media::RemoteTrack, what a consumer receives
//! (lib/RemoteTrack.js is its JS face: frames(), 'frame' events, rtp()).

use std::sync::Arc;

use msc_media::{ReceivedFrame, RemoteTrack};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

#[napi]
pub struct NativeRemoteTrack {
    inner: Arc<RemoteTrack>,
}

impl NativeRemoteTrack {
    pub fn new(inner: Arc<RemoteTrack>) -> Self {
        NativeRemoteTrack { inner }
    }
}

/// One frame, as lib/RemoteTrack.js hands it out.
#[napi(object)]
pub struct NativeFrame {
    pub data: Buffer,
    /// Microseconds since the track's first frame.
    pub timestamp: f64,
    pub rtp_timestamp: u32,
    pub keyframe: bool,
    pub spatial_layer: Option<u32>,
    pub temporal_layer: Option<u32>,
    pub gap_before: bool,
    /// Milliseconds since the Unix epoch, from the server's sender reports.
    pub ntp_time: Option<f64>,
}

impl From<ReceivedFrame> for NativeFrame {
    fn from(f: ReceivedFrame) -> Self {
        NativeFrame {
            data: Buffer::from(f.data.to_vec()),
            timestamp: f.timestamp_us as f64,
            rtp_timestamp: f.rtp_timestamp,
            keyframe: f.keyframe,
            spatial_layer: f.spatial_layer.map(u32::from),
            temporal_layer: f.temporal_layer.map(u32::from),
            gap_before: f.gap_before,
            ntp_time: f.ntp_time_ms,
        }
    }
}

/// The track's counters.
#[napi(object)]
pub struct NativeRemoteTrackStats {
    pub packets: f64,
    pub bytes: f64,
    pub frames: f64,
    pub frames_dropped: f64,
    pub frames_dropped_reader: f64,
    pub packets_lost: f64,
    pub duplicates: f64,
    pub packets_dropped_reader: f64,
    pub keyframe_requests: f64,
}

#[napi]
impl NativeRemoteTrack {
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.info().id.clone()
    }
    #[napi(getter)]
    pub fn kind(&self) -> String {
        self.inner.info().kind.as_str().to_string()
    }
    #[napi(getter)]
    pub fn mime_type(&self) -> String {
        self.inner.info().mime_type.clone()
    }
    #[napi(getter)]
    pub fn clock_rate(&self) -> u32 {
        self.inner.info().clock_rate
    }
    #[napi(getter)]
    pub fn ssrc(&self) -> u32 {
        self.inner.info().ssrc
    }
    #[napi(getter)]
    pub fn payload_type(&self) -> u32 {
        self.inner.info().payload_type as u32
    }
    #[napi(getter)]
    pub fn ended(&self) -> bool {
        self.inner.ended()
    }

    /// Up to `max` frames, waiting for one; null once the track ended.
    #[napi]
    pub async fn next_frames(&self, max: u32) -> Option<Vec<NativeFrame>> {
        let frames = self.inner.next_frames(max as usize).await?;
        Some(frames.into_iter().map(NativeFrame::from).collect())
    }

    #[napi]
    pub fn stop_reading(&self) {
        self.inner.stop_reading();
    }

    /// Up to `max` RTP packets (header included), waiting for one; null once the track ended.
    #[napi]
    pub async fn next_packets(&self, max: u32) -> Option<Vec<Buffer>> {
        let packets = self.inner.next_packets(max as usize).await?;
        Some(
            packets
                .into_iter()
                .map(|p| Buffer::from(p.to_vec()))
                .collect(),
        )
    }

    #[napi]
    pub fn stop_reading_packets(&self) {
        self.inner.stop_reading_packets();
    }

    /// Sends a keyframe request unless one went less than 300 ms ago; true when sent.
    #[napi]
    pub fn request_key_frame(&self) -> bool {
        self.inner.request_keyframe()
    }

    #[napi]
    pub fn stats(&self) -> NativeRemoteTrackStats {
        let s = self.inner.stats();
        NativeRemoteTrackStats {
            packets: s.packets as f64,
            bytes: s.bytes as f64,
            frames: s.frames as f64,
            frames_dropped: s.frames_dropped as f64,
            frames_dropped_reader: s.frames_dropped_reader as f64,
            packets_lost: s.packets_lost as f64,
            duplicates: s.duplicates as f64,
            packets_dropped_reader: s.packets_dropped_reader as f64,
            keyframe_requests: s.keyframe_requests as f64,
        }
    }
}
