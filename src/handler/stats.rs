//! webrtc-rs stats reports as JSON: an array of W3C stats dictionaries (`id`, `type`,
//! `timestamp` in ms since the epoch, then the W3C fields in camelCase), in report order.
//! The Node layer turns it into the `Map` that `getStats()` resolves with.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::Value;
use webrtc::peer_connection::{RTCStatsReport, RTCStatsReportEntry};

use crate::writer::WriterState;

fn entry_to_json(entry: &RTCStatsReportEntry) -> Option<Value> {
    use RTCStatsReportEntry as E;
    let value = match entry {
        E::PeerConnection(s) => serde_json::to_value(s),
        E::Transport(s) => serde_json::to_value(s),
        E::IceCandidatePair(s) => serde_json::to_value(s),
        E::LocalCandidate(s) => serde_json::to_value(s),
        E::RemoteCandidate(s) => serde_json::to_value(s),
        E::Certificate(s) => serde_json::to_value(s),
        E::Codec(s) => serde_json::to_value(s),
        E::DataChannel(s) => serde_json::to_value(s),
        E::InboundRtp(s) => serde_json::to_value(s),
        E::OutboundRtp(s) => serde_json::to_value(s),
        E::RemoteInboundRtp(s) => serde_json::to_value(s),
        E::RemoteOutboundRtp(s) => serde_json::to_value(s),
        E::AudioSource(s) => serde_json::to_value(s),
        E::VideoSource(s) => serde_json::to_value(s),
        E::AudioPlayout(s) => serde_json::to_value(s),
        _ => return None,
    };
    match value {
        Ok(value) => Some(value),
        Err(err) => {
            tracing::warn!(id = entry.id(), %err, "stats entry not serializable");
            None
        }
    }
}

/// The entries of `report` whose W3C `type` is accepted by `keep`.
pub(crate) fn report_to_json(report: &RTCStatsReport, keep: impl Fn(&str) -> bool) -> Value {
    Value::Array(
        report
            .iter()
            .filter_map(entry_to_json)
            .filter(|v| v.get("type").and_then(Value::as_str).is_some_and(&keep))
            .collect(),
    )
}

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
