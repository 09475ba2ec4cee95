//! Our own feedback counters in the stats of a sender.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::Value;

use super::writer::WriterState;

/// Sets `nackCount`, `pliCount` and `firCount` of each `outbound-rtp` entry from our own
/// counters (webrtc-rs 0.21.1 leaves them at 0).
pub(crate) fn patch_feedback_counts(json: &mut Value, writers: &[Arc<WriterState>]) {
    let Some(entries) = json.as_array_mut() else {
        return;
    };
    for entry in entries {
        if entry["type"] != "outbound-rtp" {
            continue;
        }
        let Some(writer) = entry["ssrc"]
            .as_u64()
            .and_then(|ssrc| writers.iter().find(|w| u64::from(w.ssrc()) == ssrc))
        else {
            continue;
        };
        let c = &writer.counters;
        entry["nackCount"] = c.nack.load(Ordering::Relaxed).into();
        entry["pliCount"] = c.pli.load(Ordering::Relaxed).into();
        entry["firCount"] = c.fir.load(Ordering::Relaxed).into();
    }
}
