//! webrtc-rs stats reports as JSON: an array of W3C stats dictionaries (`id`, `type`,
//! `timestamp` in ms since the epoch, then the W3C fields in camelCase), in report order.
//! The Node layer turns it into the `Map` that `getStats()` resolves with.

use serde_json::Value;
use webrtc::peer_connection::{RTCStatsReport, RTCStatsReportEntry};

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
        Ok(mut value) => {
            in_ms(&mut value);
            Some(value)
        }
        Err(err) => {
            tracing::warn!(id = entry.id(), %err, "stats entry not serializable");
            None
        }
    }
}

/// The fields webrtc-rs 0.21.1 gives in seconds since the epoch (`instant_to_epoch`), and
/// which W3C stats give in ms, as everything else here does.
const SECONDS_FIELDS: [&str; 5] = [
    "timestamp",
    "lastPacketSentTimestamp",
    "lastPacketReceivedTimestamp",
    "remoteTimestamp",
    "estimatedPlayoutTimestamp",
];

fn in_ms(entry: &mut Value) {
    for field in SECONDS_FIELDS {
        if let Some(seconds) = entry.get(field).and_then(Value::as_f64) {
            entry[field] = Value::from((seconds * 1000.0).round());
        }
    }
}

/// The entries of `report` whose W3C `type` is accepted by `keep`.
pub(crate) fn report_to_json(report: &RTCStatsReport, keep: impl Fn(&str) -> bool) -> Value {
    let mut entries: Vec<Value> = report.iter().filter_map(entry_to_json).collect();
    repair_references(&mut entries);
    fill_local_username_fragment(&mut entries);
    Value::Array(
        entries
            .into_iter()
            .filter(|v| v.get("type").and_then(Value::as_str).is_some_and(&keep))
            .collect(),
    )
}

/// Makes every `...Id` field name the `id` of the entry it refers to, as W3C stats do
/// (`report.get(pair.localCandidateId)`). webrtc-rs 0.21.1 gives a candidate pair's
/// `localCandidateId` and `remoteCandidateId` as the bare candidate id (`candidate:abc`), while
/// the candidate entries' ids carry a prefix (`RTCLocalIceCandidate_candidate:abc`). A value
/// that names no entry and is the suffix (after `_`) of exactly one id of an entry of the type
/// the field refers to (any type for a field not listed in [`referred_type`]) becomes that id.
fn repair_references(entries: &mut [Value]) {
    let ids: Vec<(String, String)> = entries
        .iter()
        .filter_map(|e| {
            let id = e["id"].as_str()?.to_owned();
            Some((id, e["type"].as_str().unwrap_or_default().to_owned()))
        })
        .collect();
    for entry in entries.iter_mut() {
        let Some(fields) = entry.as_object_mut() else {
            continue;
        };
        for (key, value) in fields.iter_mut() {
            let Some(reference) = value.as_str() else {
                continue;
            };
            if key == "id" || !key.ends_with("Id") || ids.iter().any(|(id, _)| id == reference) {
                continue;
            }
            let suffix = format!("_{reference}");
            let wanted = referred_type(key);
            let mut matches = ids
                .iter()
                .filter(|(id, typ)| id.ends_with(&suffix) && wanted.is_none_or(|w| w == typ))
                .map(|(id, _)| id);
            if let (Some(id), None) = (matches.next(), matches.next()) {
                *value = Value::String(id.clone());
            }
        }
    }
}

/// Gives a `transport` entry without `iceLocalUsernameFragment` (webrtc-rs 0.21.1 leaves it
/// empty) the one of the local candidate of its selected pair.
fn fill_local_username_fragment(entries: &mut [Value]) {
    let ufrag_of = |entries: &[Value], transport: &Value| {
        let pair = entries
            .iter()
            .find(|e| e["id"] == transport["selectedCandidatePairId"])?;
        let local = entries
            .iter()
            .find(|e| e["id"] == pair["localCandidateId"])?;
        local["usernameFragment"]
            .as_str()
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
    };
    for index in 0..entries.len() {
        let transport = &entries[index];
        if transport["type"] != "transport"
            || transport["iceLocalUsernameFragment"]
                .as_str()
                .is_some_and(|u| !u.is_empty())
        {
            continue;
        }
        if let Some(ufrag) = ufrag_of(entries, transport) {
            entries[index]["iceLocalUsernameFragment"] = Value::from(ufrag);
        }
    }
}

/// The type of the entries a reference field names, where webrtc-rs gives it bare.
fn referred_type(field: &str) -> Option<&'static str> {
    match field {
        "localCandidateId" => Some("local-candidate"),
        "remoteCandidateId" => Some("remote-candidate"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_name_the_entries_they_refer_to() {
        let mut entries = vec![
            json!({ "id": "RTCTransport", "type": "transport", "selectedCandidatePairId": "P" }),
            json!({ "id": "P", "type": "candidate-pair", "transportId": "RTCTransport",
                    "localCandidateId": "candidate:a", "remoteCandidateId": "candidate:b",
                    "codecId": "unknown" }),
            json!({ "id": "RTCLocalIceCandidate_candidate:a", "type": "local-candidate" }),
            json!({ "id": "RTCRemoteIceCandidate_candidate:b", "type": "remote-candidate" }),
        ];
        repair_references(&mut entries);
        let pair = &entries[1];
        assert_eq!(pair["localCandidateId"], "RTCLocalIceCandidate_candidate:a");
        assert_eq!(
            pair["remoteCandidateId"],
            "RTCRemoteIceCandidate_candidate:b"
        );
        // right already, or naming nothing: left as they are
        assert_eq!(pair["transportId"], "RTCTransport");
        assert_eq!(pair["codecId"], "unknown");
        assert_eq!(entries[0]["selectedCandidatePairId"], "P");
    }

    #[test]
    fn a_candidate_reference_names_a_candidate_or_stays_bare() {
        // no remote-candidate entry (webrtc-rs registers none for the candidates of a remote
        // description); the pair's own id also ends with "_candidate:b"
        let mut entries = vec![
            json!({ "id": "RTCIceCandidatePair_candidate:a_candidate:b", "type": "candidate-pair",
                    "localCandidateId": "candidate:a", "remoteCandidateId": "candidate:b" }),
            json!({ "id": "RTCLocalIceCandidate_candidate:a", "type": "local-candidate" }),
        ];
        repair_references(&mut entries);
        assert_eq!(
            entries[0]["localCandidateId"],
            "RTCLocalIceCandidate_candidate:a"
        );
        assert_eq!(entries[0]["remoteCandidateId"], "candidate:b");
    }

    #[test]
    fn the_transport_gets_its_selected_pairs_local_username_fragment() {
        let mut entries = vec![
            json!({ "id": "T", "type": "transport", "selectedCandidatePairId": "P",
                    "iceLocalUsernameFragment": "" }),
            json!({ "id": "P", "type": "candidate-pair", "localCandidateId": "L" }),
            json!({ "id": "L", "type": "local-candidate", "usernameFragment": "abcd" }),
        ];
        fill_local_username_fragment(&mut entries);
        assert_eq!(entries[0]["iceLocalUsernameFragment"], "abcd");
        // no pair selected yet: left empty
        let mut unselected =
            vec![json!({ "id": "T", "type": "transport", "iceLocalUsernameFragment": "" })];
        fill_local_username_fragment(&mut unselected);
        assert_eq!(unselected[0]["iceLocalUsernameFragment"], "");
    }

    #[test]
    fn times_in_ms_since_the_epoch() {
        let mut entry = json!({ "type": "candidate-pair", "timestamp": 1_796_673_967.362,
            "lastPacketSentTimestamp": 1_796_673_967.3, "lastPacketReceivedTimestamp": 12.5,
            "totalRoundTripTime": 0.25, "bytesSent": 10 });
        in_ms(&mut entry);
        assert_eq!(entry["timestamp"], 1_796_673_967_362.0);
        assert_eq!(entry["lastPacketSentTimestamp"], 1_796_673_967_300.0);
        assert_eq!(entry["lastPacketReceivedTimestamp"], 12_500.0);
        // durations stay in seconds, as W3C has them; counts are counts
        assert_eq!(entry["totalRoundTripTime"], 0.25);
        assert_eq!(entry["bytesSent"], 10);
    }
}
