//! A receiver's `inbound-rtp` statistics from the connection's own counts: what webrtc-rs'
//! core counts of a stream covers only the packets it read, and the connection reads most of
//! them itself (`connection/direct.rs`, `OwnRtp`).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::reception::ReceptionStats;

/// `report` (a W3C stats array) with the `inbound-rtp` entry of `ssrc` counting what
/// `stats` says, added (for `track_id`) when the core has none.
pub(crate) fn with_own_inbound(
    report: &mut Value,
    track_id: &str,
    ssrc: u32,
    stats: ReceptionStats,
) {
    let Some(entries) = report.as_array_mut() else {
        return;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    let since_last = Instant::now()
        .saturating_duration_since(stats.last_packet)
        .as_secs_f64()
        * 1000.0;
    let counts = json!({
        "packetsReceived": stats.packets_received,
        "bytesReceived": stats.bytes_received,
        "headerBytesReceived": stats.header_bytes_received,
        "packetsLost": stats.packets_lost,
        "jitter": stats.jitter,
        "nackCount": stats.nack_count,
        "lastPacketReceivedTimestamp": now - since_last,
    });
    let Value::Object(counts) = counts else {
        return;
    };
    let found = entries
        .iter_mut()
        .find(|e| e["type"] == "inbound-rtp" && e["ssrc"].as_u64() == Some(u64::from(ssrc)));
    match found.and_then(Value::as_object_mut) {
        Some(entry) => entry.extend(counts),
        None => {
            let mut entry = json!({
                "id": format!("RTCInboundRTPStream_{}_{ssrc}", stats.kind),
                "type": "inbound-rtp",
                "timestamp": now,
                "ssrc": ssrc,
                "kind": stats.kind,
                "trackIdentifier": track_id,
            });
            if let Some(fields) = entry.as_object_mut() {
                fields.extend(counts);
            }
            entries.push(entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> ReceptionStats {
        ReceptionStats {
            kind: "video",
            packets_received: 10,
            header_bytes_received: 120,
            bytes_received: 1000,
            packets_lost: 2,
            jitter: 0.004,
            last_packet: Instant::now(),
            nack_count: 1,
        }
    }

    #[test]
    fn the_cores_entry_takes_the_counts() {
        let mut report = json!([
            {"id": "RTCInboundRTPStream_video_5", "type": "inbound-rtp", "ssrc": 5, "packetsReceived": 1, "mid": "0"},
            {"id": "x", "type": "codec"}
        ]);
        with_own_inbound(&mut report, "t", 5, stats());
        let entry = &report[0];
        assert_eq!(entry["packetsReceived"], 10);
        assert_eq!(entry["bytesReceived"], 1000);
        assert_eq!(entry["packetsLost"], 2);
        assert_eq!(entry["nackCount"], 1);
        assert_eq!(entry["mid"], "0", "the core's other fields stay");
        assert_eq!(report.as_array().unwrap().len(), 2);
    }

    #[test]
    fn an_entry_is_made_when_the_core_has_none() {
        let mut report = json!([{"id": "x", "type": "codec"}]);
        with_own_inbound(&mut report, "track", 7, stats());
        let entry = &report[1];
        assert_eq!(entry["type"], "inbound-rtp");
        assert_eq!(
            (entry["ssrc"].as_u64(), entry["kind"].as_str()),
            (Some(7), Some("video"))
        );
        assert_eq!(entry["trackIdentifier"], "track");
        assert_eq!(entry["packetsReceived"], 10);
        let last = entry["lastPacketReceivedTimestamp"].as_f64().unwrap();
        assert!((entry["timestamp"].as_f64().unwrap() - last).abs() < 1000.0);
    }
}
