//! What can be plugged into a [`RemoteTrack`](super::RemoteTrack) besides a reader: a
//! recording (frames into a file) and an RTP forwarder (packets to another tool).

use std::fs::File;
use std::io::BufWriter;
use std::sync::{Arc, Mutex};

use super::{FrameTap, PacketTap};
use crate::{MediaError, Recorder, RecordingSummary, RtpForwarder};

/// A recording in progress: its recorder, shared by the track's tap (which writes) and the
/// program's handle (which stops it).
pub struct Recording {
    recorder: Mutex<Option<Recorder<BufWriter<File>>>>,
    error: Mutex<Option<MediaError>>,
    summary: Mutex<Option<RecordingSummary>>,
}

impl Recording {
    /// A recording writing with `recorder`.
    pub fn new(recorder: Recorder<BufWriter<File>>) -> Arc<Self> {
        Arc::new(Recording {
            recorder: Mutex::new(Some(recorder)),
            error: Mutex::new(None),
            summary: Mutex::new(None),
        })
    }

    /// The tap to add to the track.
    pub fn tap(self: &Arc<Self>) -> Box<dyn FrameTap> {
        Box::new(RecordingTap(self.clone()))
    }

    /// Ends the file (headers completed); later frames are not written. What was recorded,
    /// or the first write error (the recording stopped there). Idempotent: the same answer.
    pub fn finish(&self) -> Result<RecordingSummary, MediaError> {
        let recorder = self.recorder.lock().ok().and_then(|mut r| r.take());
        if let Some(recorder) = recorder {
            match recorder.finish() {
                Ok(summary) => {
                    if let Ok(mut s) = self.summary.lock() {
                        *s = Some(summary);
                    }
                }
                Err(e) => self.fail(e),
            }
        }
        if let Some(e) = self.error.lock().ok().and_then(|e| e.clone()) {
            return Err(e);
        }
        Ok(self
            .summary
            .lock()
            .ok()
            .and_then(|s| *s)
            .unwrap_or(RecordingSummary {
                frames: 0,
                bytes: 0,
                duration_us: 0,
            }))
    }

    /// Whether the recording is still writing.
    pub fn recording(&self) -> bool {
        self.recorder.lock().is_ok_and(|r| r.is_some())
    }

    fn fail(&self, e: MediaError) {
        tracing::warn!("recording stopped: {e}");
        if let Ok(mut slot) = self.error.lock() {
            slot.get_or_insert(e);
        }
    }
}

struct RecordingTap(Arc<Recording>);

impl FrameTap for RecordingTap {
    fn frame(&mut self, data: &[u8], extended_timestamp: u64, keyframe: bool) {
        let failed = {
            let Ok(mut slot) = self.0.recorder.lock() else {
                return;
            };
            let Some(recorder) = slot.as_mut() else {
                return;
            };
            match recorder.write_frame(data, extended_timestamp, keyframe) {
                Ok(_) => None,
                // a frame the writer refuses (a malformed one) is skipped, not fatal
                Err(MediaError::MalformedFrame { .. }) => None,
                Err(e) => slot.take().map(|r| (r, e)),
            }
        };
        if let Some((recorder, e)) = failed {
            let _ = recorder.finish();
            self.0.fail(e);
        }
    }
}

/// The track's tap is dropped when the track ends or the recording is stopped: the file is
/// completed then.
impl Drop for RecordingTap {
    fn drop(&mut self) {
        let _ = self.0.finish();
    }
}

/// A forwarder's tap: every packet of the track to the forwarder.
pub struct ForwardTap(pub Arc<RtpForwarder>);

impl PacketTap for ForwardTap {
    fn packet(&self, packet: &[u8]) {
        self.0.forward(packet);
    }
}
