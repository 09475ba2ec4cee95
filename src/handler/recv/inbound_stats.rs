//! A receiver's `inbound-rtp` statistics from the connection's own counts: what webrtc-rs'
//! core counts of a stream covers only the packets it read, and the connection reads most of
//! them itself (`connection/direct.rs`, `OwnRtp`). The core's report of such a receiver has
//! no transport entries either (it adds those its streams refer to): they are added as a
//! browser's receiver stats have them.

use std::time::Instant;

use serde_json::{json, Value};

use super::reception::{ReceptionStats, RemoteSent};
use crate::connection::own_traffic::epoch_ms_now;

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
    let now = epoch_ms_now();
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
    let inbound_id = match found.and_then(Value::as_object_mut) {
        Some(entry) => {
            entry.extend(counts);
            entry["id"].clone()
        }
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
            let id = entry["id"].clone();
            entries.push(entry);
            id
        }
    };
    if let Some(sent) = stats.remote_sent {
        with_remote_outbound(entries, &inbound_id, ssrc, stats.kind, sent, now);
    }
}

/// The `remote-outbound-rtp` entry of the stream `ssrc` (what the server's sender reports
/// said), replacing the core's if it has one, and the `inbound-rtp` entry `inbound_id`
/// naming it. `remoteTimestamp` is on the server's NTP clock, in ms, as frames' `ntpTime`
/// (mediasoup's clock runs from its own start, not from the epoch).
fn with_remote_outbound(
    entries: &mut Vec<Value>,
    inbound_id: &Value,
    ssrc: u32,
    kind: &str,
    sent: RemoteSent,
    now: f64,
) {
    let id = format!("RTCRemoteOutboundRTPStream_{kind}_{ssrc}");
    entries.retain(|e| e["id"] != id.as_str());
    let seconds = (sent.ntp_time >> 32) as f64;
    let fraction = (sent.ntp_time & 0xffff_ffff) as f64 / 4_294_967_296.0;
    entries.push(json!({
        "id": id,
        "type": "remote-outbound-rtp",
        "timestamp": now,
        "ssrc": ssrc,
        "kind": kind,
        "localId": inbound_id,
        "packetsSent": sent.packets,
        "bytesSent": sent.octets,
        "remoteTimestamp": (seconds + fraction) * 1000.0,
        "reportsSent": sent.reports,
    }));
    if let Some(inbound) = entries.iter_mut().find(|e| e["id"] == *inbound_id) {
        inbound["remoteId"] = Value::from(id);
    }
}

/// `report` with the entries of `transport` (the transport's stats: `transport`,
/// `candidate-pair`, candidates, certificates) when it has no `transport` entry, and its
/// `inbound-rtp` and `remote-outbound-rtp` entries referring to the transport entry.
pub(crate) fn with_transport(report: &mut Value, transport: Value) {
    let (Some(entries), Value::Array(transport)) = (report.as_array_mut(), transport) else {
        return;
    };
    if !entries.iter().any(|e| e["type"] == "transport") {
        entries.extend(transport);
    }
    let Some(id) = entries
        .iter()
        .find(|e| e["type"] == "transport")
        .map(|e| e["id"].clone())
    else {
        return;
    };
    for entry in entries.iter_mut() {
        let stream = entry["type"] == "inbound-rtp" || entry["type"] == "remote-outbound-rtp";
        if stream && entry.get("transportId").is_none() {
            entry["transportId"] = id.clone();
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
            remote_sent: None,
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

    #[test]
    fn what_the_sender_reports_said_is_a_remote_outbound_entry() {
        let mut report = json!([{"id": "x", "type": "codec"}]);
        let sent = RemoteSent {
            packets: 300,
            octets: 250_000,
            ntp_time: (12u64 << 32) | (1u64 << 31),
            reports: 3,
            at: Instant::now(),
        };
        let with_reports = ReceptionStats {
            remote_sent: Some(sent),
            ..stats()
        };
        with_own_inbound(&mut report, "track", 7, with_reports);
        with_own_inbound(&mut report, "track", 7, with_reports);
        let entries = report.as_array().unwrap();
        assert_eq!(entries.len(), 3, "one entry each, however many calls");
        let inbound = &entries[1];
        let remote = entries
            .iter()
            .find(|e| e["id"] == inbound["remoteId"])
            .unwrap();
        assert_eq!(remote["type"], "remote-outbound-rtp");
        assert_eq!(remote["localId"], inbound["id"]);
        assert_eq!(remote["ssrc"], 7);
        assert_eq!(remote["packetsSent"], 300);
        assert_eq!(remote["bytesSent"], 250_000);
        assert_eq!(remote["reportsSent"], 3);
        assert_eq!(remote["remoteTimestamp"], 12_500.0);
    }

    #[test]
    fn the_transports_entries_are_added_once_and_referred_to() {
        let transport = json!([
            {"id": "T", "type": "transport"},
            {"id": "P", "type": "candidate-pair"}
        ]);
        let mut report = json!([{"id": "I", "type": "inbound-rtp", "ssrc": 7}]);
        with_transport(&mut report, transport.clone());
        let entries = report.as_array().unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0]["transportId"], "T");
        // the core's report had them already: nothing added
        let mut report = json!([
            {"id": "I", "type": "inbound-rtp", "transportId": "T0"},
            {"id": "T0", "type": "transport"}
        ]);
        with_transport(&mut report, transport);
        assert_eq!(report.as_array().unwrap().len(), 2);
        assert_eq!(report[0]["transportId"], "T0");
    }
}
