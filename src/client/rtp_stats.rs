//! What a producer's or a consumer's stats add to its sender's or receiver's: the fields of
//! its `outbound-rtp` or `inbound-rtp` entries that it knows (its `mid` and codec; for a
//! consumer, the frames and keyframe requests of its track), and the `codec` entry that
//! `codecId` names, as a browser's sender and receiver stats have them.

use msc_media::RemoteTrackStats;
use msc_ortc::RtpParameters;
use serde_json::{json, Value};

/// Completes the `inbound-rtp` entries of `report` (a W3C stats array) with what the consumer
/// of `mid`, receiving `rtp_parameters`, knows, and adds the entry of its media codec.
pub(crate) fn complete_inbound(
    report: &mut Value,
    mid: &str,
    rtp_parameters: &RtpParameters,
    track: &RemoteTrackStats,
) {
    with_codec(report, "inbound-rtp", mid, rtp_parameters, |entry| {
        entry["mid"] = Value::from(mid);
        entry["framesReceived"] = Value::from(track.frames);
        entry["framesDropped"] = Value::from(track.frames_dropped + track.frames_dropped_reader);
        entry["pliCount"] = Value::from(track.keyframe_requests);
    });
}

/// Completes the `outbound-rtp` entries of `report` with the codec of the producer of `mid`,
/// sending `rtp_parameters` (webrtc-rs 0.21.1 leaves `codecId` empty), and adds its entry.
pub(crate) fn complete_outbound(report: &mut Value, mid: &str, rtp_parameters: &RtpParameters) {
    with_codec(report, "outbound-rtp", mid, rtp_parameters, |_| {});
}

/// The entries of type `stream` name the media codec of `rtp_parameters` (`codecId`), whose
/// entry is added once any does, and get what `more` adds.
fn with_codec(
    report: &mut Value,
    stream: &str,
    mid: &str,
    rtp_parameters: &RtpParameters,
    mut more: impl FnMut(&mut Value),
) {
    let Some(entries) = report.as_array_mut() else {
        return;
    };
    let Some(codec) = rtp_parameters.codecs.first() else {
        return;
    };
    let transport_id = entries
        .iter()
        .find(|e| e["type"] == "transport")
        .map_or(Value::Null, |e| e["id"].clone());
    let codec_id = format!("RTCCodec_{mid}_{}", codec.payload_type);
    let mut timestamp = Value::Null;
    for entry in entries.iter_mut() {
        if entry["type"] != stream {
            continue;
        }
        timestamp = entry["timestamp"].clone();
        entry["codecId"] = Value::from(codec_id.as_str());
        more(entry);
    }
    if timestamp.is_null() || entries.iter().any(|e| e["id"] == codec_id.as_str()) {
        return;
    }
    let mut entry = json!({
        "id": codec_id,
        "type": "codec",
        "timestamp": timestamp,
        "transportId": transport_id,
        "payloadType": codec.payload_type,
        "mimeType": codec.mime_type,
        "clockRate": codec.clock_rate,
    });
    if let Some(channels) = codec.channels {
        entry["channels"] = Value::from(channels);
    }
    let fmtp = msc_sdp::fmtp_config(&codec.parameters);
    if !fmtp.is_empty() {
        entry["sdpFmtpLine"] = Value::from(fmtp);
    }
    entries.push(entry);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameters() -> RtpParameters {
        serde_json::from_value(json!({
            "mid": "3",
            "codecs": [
                { "mimeType": "audio/opus", "payloadType": 100, "clockRate": 48000, "channels": 2,
                  "parameters": { "useinbandfec": 1 } },
            ],
            "encodings": [{ "ssrc": 7 }],
        }))
        .unwrap()
    }

    #[test]
    fn the_inbound_entry_names_its_codec_and_counts_the_tracks_frames() {
        let mut report = json!([
            { "id": "I", "type": "inbound-rtp", "timestamp": 5.0, "ssrc": 7, "transportId": "T" },
            { "id": "T", "type": "transport", "timestamp": 5.0 },
        ]);
        let track = RemoteTrackStats {
            frames: 40,
            frames_dropped: 2,
            frames_dropped_reader: 3,
            keyframe_requests: 4,
            ..Default::default()
        };
        complete_inbound(&mut report, "3", &parameters(), &track);
        let inbound = &report[0];
        assert_eq!(inbound["mid"], "3");
        assert_eq!(inbound["framesReceived"], 40);
        assert_eq!(inbound["framesDropped"], 5);
        assert_eq!(inbound["pliCount"], 4);
        let codec = report
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == inbound["codecId"])
            .unwrap();
        assert_eq!(codec["type"], "codec");
        assert_eq!(codec["mimeType"], "audio/opus");
        assert_eq!(codec["payloadType"], 100);
        assert_eq!(codec["clockRate"], 48000);
        assert_eq!(codec["channels"], 2);
        assert_eq!(codec["sdpFmtpLine"], "useinbandfec=1");
        assert_eq!(codec["transportId"], "T");
        assert_eq!(codec["timestamp"], 5.0);
    }

    #[test]
    fn every_outbound_entry_names_the_producers_codec() {
        let mut report = json!([
            { "id": "O1", "type": "outbound-rtp", "timestamp": 5.0, "codecId": "", "mid": "3" },
            { "id": "O2", "type": "outbound-rtp", "timestamp": 5.0, "codecId": "", "mid": "3" },
            { "id": "T", "type": "transport" },
        ]);
        complete_outbound(&mut report, "3", &parameters());
        let entries = report.as_array().unwrap();
        assert_eq!(entries.len(), 4, "one codec entry for both encodings");
        assert_eq!(entries[0]["codecId"], entries[1]["codecId"]);
        let codec = entries
            .iter()
            .find(|e| e["id"] == entries[0]["codecId"])
            .unwrap();
        assert_eq!(codec["mimeType"], "audio/opus");
        assert!(entries[0].get("framesReceived").is_none());
    }

    #[test]
    fn no_inbound_entry_no_codec_entry() {
        let mut report = json!([{ "id": "T", "type": "transport" }]);
        complete_inbound(
            &mut report,
            "0",
            &parameters(),
            &RemoteTrackStats::default(),
        );
        assert_eq!(report.as_array().unwrap().len(), 1);
    }
}
