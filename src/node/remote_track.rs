//! #[napi] RemoteTrack: thin glue over msc_media::RemoteTrack, what a consumer receives
//! (lib/RemoteTrack.js is its JS face: frames(), 'frame' events, rtp()).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use msc_media::{
    ForwardTap, FrameDelivery, ReceivedFrame, Recorder, Recording, RemoteTrack, RtpForwardOptions,
    RtpForwarder, Take,
};
use napi::bindgen_prelude::{Buffer, BufferSlice, PromiseRaw};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::Env;
use napi_derive::napi;

use super::convert::JsCallback;
use super::errors::{invalid_argument, promise, to_js, Code};

#[napi]
pub struct NativeRemoteTrack {
    inner: Arc<RemoteTrack>,
}

impl NativeRemoteTrack {
    pub fn new(inner: Arc<RemoteTrack>) -> Self {
        NativeRemoteTrack { inner }
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
                .map(|p| Buffer::from(Vec::from(p)))
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

    /// Starts recording the frames to `path` (IVF for VP8/VP9/AV1, Ogg for Opus, Annex B for
    /// H.264), from the next keyframe (one is asked for).
    #[napi(catch_unwind)]
    pub fn record(&self, path: String) -> napi::Result<NativeRecording, Code> {
        if self.inner.ended() {
            return Err(to_js(msc_client::Error::invalid_state(
                "the track has ended",
            )));
        }
        let info = self.inner.info();
        let recorder = Recorder::create(
            &path,
            &info.mime_type,
            info.clock_rate,
            info.channels.unwrap_or(2),
        )
        .map_err(to_js)?;
        let recording = Recording::new(recorder);
        let tap = self.inner.add_frame_tap(recording.tap());
        self.inner.request_keyframe();
        Ok(NativeRecording {
            recording,
            track: self.inner.clone(),
            tap,
        })
    }

    /// Sends the track's RTP packets to `address:port` (see `msc_media::RtpForwarder`).
    #[napi(ts_return_type = "Promise<NativeRtpForwarder>")]
    pub fn forward_rtp<'env>(
        &self,
        env: &'env Env,
        options: NativeForwardOptions,
    ) -> napi::Result<PromiseRaw<'env, NativeRtpForwarder>, Code> {
        if self.inner.ended() {
            return Err(to_js(msc_client::Error::invalid_state(
                "the track has ended",
            )));
        }
        let info = self.inner.info().clone();
        let address = options
            .address
            .parse()
            .map_err(|_| invalid_argument(format!("invalid address {:?}", options.address)))?;
        let port = |p: u32, what: &str| {
            u16::try_from(p)
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| invalid_argument(format!("invalid {what} {p}")))
        };
        let payload_type = match options.payload_type {
            Some(pt) => u8::try_from(pt).map_err(|_| invalid_argument("invalid payloadType"))?,
            None => info.payload_type,
        };
        let forward_options = RtpForwardOptions {
            address,
            port: port(options.port, "port")?,
            rtcp_port: options.rtcp_port.map(|p| port(p, "rtcpPort")).transpose()?,
            payload_type,
            ssrc: info.ssrc,
            mime_type: info.mime_type.clone(),
            clock_rate: info.clock_rate,
            channels: info.channels,
            fmtp: info.fmtp.clone(),
            local_rtcp_port: None,
        };
        let track = self.inner.clone();
        let starting = async move {
            let weak = Arc::downgrade(&track);
            let forwarder = RtpForwarder::new(forward_options, move || {
                if let Some(track) = weak.upgrade() {
                    track.request_keyframe();
                }
            })
            .await?;
            let forwarder = Arc::new(forwarder);
            let tap = track.add_packet_tap(Arc::new(ForwardTap(forwarder.clone())));
            // the tool gets a decodable stream from the start
            track.request_keyframe();
            Ok(NativeRtpForwarder {
                forwarder,
                track,
                tap,
            })
        };
        promise(env, starting, |_, forwarder| Ok(forwarder))
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

/// What forwardRtp() takes (checked by lib/).
#[napi(object)]
pub struct NativeForwardOptions {
    pub address: String,
    pub port: u32,
    pub rtcp_port: Option<u32>,
    pub payload_type: Option<u32>,
}

/// What a finished recording holds.
#[napi(object)]
pub struct NativeRecordingSummary {
    pub frames: f64,
    pub bytes: f64,
    /// Microseconds from the first frame written to the end of the last.
    pub duration: f64,
}

#[napi]
pub struct NativeRecording {
    recording: Arc<Recording>,
    track: Arc<RemoteTrack>,
    tap: u64,
}

#[napi]
impl NativeRecording {
    #[napi(getter)]
    pub fn recording(&self) -> bool {
        self.recording.recording()
    }

    /// Completes the file; what was recorded. Idempotent.
    #[napi(catch_unwind)]
    pub fn stop(&self) -> napi::Result<NativeRecordingSummary, Code> {
        drop(self.track.remove_tap(self.tap));
        let summary = self.recording.finish().map_err(to_js)?;
        Ok(NativeRecordingSummary {
            frames: summary.frames as f64,
            bytes: summary.bytes as f64,
            duration: summary.duration_us as f64,
        })
    }
}

/// A forwarder's counters.
#[napi(object)]
pub struct NativeRtpForwardStats {
    pub packets: f64,
    pub bytes: f64,
    pub dropped: f64,
    pub keyframe_requests: f64,
    pub rtcp_received: f64,
}

#[napi]
pub struct NativeRtpForwarder {
    forwarder: Arc<RtpForwarder>,
    track: Arc<RemoteTrack>,
    tap: u64,
}

#[napi]
impl NativeRtpForwarder {
    /// The SDP to give the tool.
    #[napi(getter)]
    pub fn sdp(&self) -> String {
        self.forwarder.sdp()
    }

    /// The local port the tool's RTCP (keyframe requests) is received on.
    #[napi(getter)]
    pub fn local_rtcp_port(&self) -> u32 {
        self.forwarder.local_rtcp_addr().port() as u32
    }

    #[napi]
    pub fn stats(&self) -> NativeRtpForwardStats {
        let s = self.forwarder.stats();
        NativeRtpForwardStats {
            packets: s.packets as f64,
            bytes: s.bytes as f64,
            dropped: s.dropped as f64,
            keyframe_requests: s.keyframe_requests as f64,
            rtcp_received: s.rtcp_received as f64,
        }
    }

    /// Stops forwarding (an RTCP BYE tells the tool). Idempotent.
    #[napi]
    pub fn close(&self) {
        self.track.remove_tap(self.tap);
        self.forwarder.close();
    }
}

/// Numbers per frame in what `NativeFrameDelivery::drain` writes.
pub const FRAME_FIELDS: usize = 7;

/// The numbers of a Float64Array, written through its bytes (native byte order, as typed
/// arrays are).
struct Meta<'a>(&'a mut [u8]);

impl Meta<'_> {
    fn len(&self) -> usize {
        self.0.len() / 8
    }
    fn set(&mut self, at: usize, value: f64) {
        self.0[at * 8..at * 8 + 8].copy_from_slice(&value.to_ne_bytes());
    }
}

fn put_frame(frame: &ReceivedFrame, meta: &mut Meta<'_>, at: usize) {
    let flags = u8::from(frame.keyframe) | (u8::from(frame.gap_before) << 1);
    let values = [
        frame.data.len() as f64,
        frame.timestamp_us as f64,
        f64::from(frame.rtp_timestamp),
        f64::from(flags),
        frame.spatial_layer.map_or(f64::NAN, f64::from),
        frame.temporal_layer.map_or(f64::NAN, f64::from),
        frame.ntp_time_ms.unwrap_or(f64::NAN),
    ];
    for (i, value) in values.into_iter().enumerate() {
        meta.set(at + i, value);
    }
}

type WakeCallback = JsCallback<()>;

/// The least time between two wake-ups of the JS thread for frames: a frame waits at most
/// about this long (tokio's timers tick by the millisecond) for the JS thread to be woken, and
/// under load each wake-up takes the frames of many tracks at once.
const WAKE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(2);

/// One route for the frames of every remote track read on this JS thread (see
/// `msc_media::FrameDelivery`): `callback()` when tracks became ready, then `drain()`.
#[napi]
pub struct NativeFrameDelivery {
    inner: Arc<FrameDelivery>,
    callback: Arc<Mutex<WakeCallback>>,
    /// The tracks read through this delivery, by their key (see `wait`).
    tracks: Mutex<HashMap<u32, Weak<RemoteTrack>>>,
}

#[napi]
impl NativeFrameDelivery {
    /// `callback` is weak (it does not keep Node alive): see `keepAlive`.
    #[napi(constructor, ts_args_type = "callback: () => void")]
    pub fn new(callback: WakeCallback) -> Self {
        let callback = Arc::new(Mutex::new(callback));
        let wake = {
            let callback = callback.clone();
            Box::new(move || {
                if let Ok(callback) = callback.lock() {
                    callback.call((), ThreadsafeFunctionCallMode::NonBlocking);
                }
            })
        };
        let (inner, timer) = FrameDelivery::new(wake, WAKE_INTERVAL);
        napi::bindgen_prelude::spawn(timer);
        NativeFrameDelivery {
            inner,
            callback,
            tracks: Mutex::default(),
        }
    }

    /// Reads `track` under `key` from now on (see `wait`).
    #[napi]
    pub fn add_track(&self, track: &NativeRemoteTrack, key: u32) {
        self.tracks_lock().insert(key, Arc::downgrade(&track.inner));
    }

    /// The track of `key` is read no more (it ended).
    #[napi]
    pub fn remove_track(&self, key: u32) {
        self.tracks_lock().remove(&key);
    }

    /// The readers of the tracks whose keys are the first `count` numbers of `keys` (a
    /// Uint32Array's bytes) wait for frames, as `msc_media::RemoteTrack::wait_frames`. Each
    /// key is replaced by what its wait did, as an Int32Array reads it: 1 when frames are
    /// queued (the track is in the ready list: `drain()` now), 0 when the track is armed (the
    /// callback comes when frames do), -1 once it ended or when no track has that key.
    /// Returns how many were listed. One call for the waits of many tracks: a call from JS
    /// costs more than a wait.
    #[napi]
    pub fn wait(&self, mut keys: BufferSlice, count: u32) -> u32 {
        let tracks = self.tracks_lock();
        let mut listed = 0;
        for slot in keys.chunks_exact_mut(4).take(count as usize) {
            let key = u32::from_ne_bytes([slot[0], slot[1], slot[2], slot[3]]);
            let take = tracks
                .get(&key)
                .and_then(Weak::upgrade)
                .map_or(Take::Ended, |track| {
                    track.wait_frames(&self.inner, u64::from(key))
                });
            let state: i32 = match take {
                Take::Listed => 1,
                Take::Armed => 0,
                Take::Ended => -1,
            };
            listed += u32::from(take == Take::Listed);
            slot.copy_from_slice(&state.to_ne_bytes());
        }
        listed
    }

    fn tracks_lock(&self) -> MutexGuard<'_, HashMap<u32, Weak<RemoteTrack>>> {
        self.tracks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the wake-up keeps Node's event loop alive (while readers wait, as a pending
    /// promise would).
    #[napi]
    #[allow(deprecated)] // refer/unref: the callback is shared with the wake-up closure
    pub fn keep_alive(&self, env: Env, keep: bool) -> napi::Result<()> {
        let mut callback = self.callback.lock().unwrap_or_else(|p| p.into_inner());
        if keep {
            callback.refer(&env)
        } else {
            callback.unref(&env)
        }
    }

    /// Writes the frames of the tracks listed since the last call, up to `max` per track,
    /// in the order the tracks became ready, into `data` (their bytes, one after the other)
    /// and `meta`; returns how many numbers of `meta` it wrote (0: none listed). `meta` holds,
    /// per track: its key, then its frame count (-1: the track ended; 0: its reader stopped
    /// meanwhile), then per frame [`FRAME_FIELDS`] numbers: byte length, timestamp (µs), RTP
    /// timestamp, flags (1: keyframe, 2: gap before), spatial layer, temporal layer, NTP time
    /// (ms); NaN where a value is absent. Tracks that do not fit stay listed for the next call;
    /// when not even the first fits, returns minus the bytes of `data` it needs (`meta` must
    /// hold at least 2 + 7 * `max` numbers).
    #[napi]
    pub fn drain(&self, max: u32, mut data: BufferSlice, mut meta: BufferSlice) -> f64 {
        let mut meta = Meta(&mut meta);
        let mut ready = self.inner.take_ready().into_iter();
        let (mut d, mut m) = (0, 0);
        while let Some((key, weak)) = ready.next() {
            let track = weak.upgrade();
            let frames = track.as_ref().and_then(|t| t.take_ready(max as usize));
            let bytes: usize = frames.iter().flatten().map(|f| f.data.len()).sum();
            let numbers = 2 + frames.as_ref().map_or(0, |f| f.len() * FRAME_FIELDS);
            if d + bytes > data.len() || m + numbers > meta.len() {
                if let (Some(track), Some(frames)) = (&track, frames) {
                    track.give_back(frames);
                }
                self.inner.relist(std::iter::once((key, weak)).chain(ready));
                if m == 0 {
                    return -(bytes as f64);
                }
                break;
            }
            meta.set(m, key as f64);
            meta.set(m + 1, frames.as_ref().map_or(-1.0, |f| f.len() as f64));
            m += 2;
            for frame in frames.iter().flatten() {
                data[d..d + frame.data.len()].copy_from_slice(&frame.data);
                d += frame.data.len();
                put_frame(frame, &mut meta, m);
                m += FRAME_FIELDS;
            }
        }
        m as f64
    }
}
