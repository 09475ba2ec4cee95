//! The receive side's capabilities and codecs, on the fixtures: what the device announces to
//! the server (`device.rtpCapabilities`) and the codecs receiving offer sections list.

mod common;

use common::{native, router};
use msc_ortc::codec_match::{is_rtx, match_codecs};
use msc_ortc::{
    get_extended_rtp_capabilities, get_recv_rtp_capabilities, receivable_codecs, received_stream,
    validate_and_normalize_rtp_capabilities, Direction, MediaKind, ReceivedStream, RtpCapabilities,
    RtpParameters,
};
use serde_json::{json, Value};

fn recv_capabilities() -> RtpCapabilities {
    get_recv_rtp_capabilities(&get_extended_rtp_capabilities(&native(), &router()).unwrap())
}

/// mediasoup-client 3.18.7's `getRecvRtpCapabilities(getExtendedRtpCapabilities(native,
/// router, false))` on the two fixtures (both normalized first), as its Node module printed
/// it.
#[test]
fn recv_capabilities_are_mediasoup_clients() {
    let reference: Value = serde_json::from_str(include_str!(
        "fixtures/recv_rtp_capabilities_mediasoup_client.json"
    ))
    .unwrap();
    assert_eq!(
        serde_json::to_value(recv_capabilities()).unwrap(),
        reference
    );
}

/// What mediasoup's `router.canConsume()` and `getConsumerRtpParameters()` do with the
/// device's capabilities, checked piece by piece: each codec is one of the router's (strict
/// match: H.264 profile and packetization-mode) on the router's payload type, so that the
/// consumer the server builds carries payload types the device knows; each RTX repairs a
/// listed codec with the router's RTX payload type; each header extension has the router's
/// id (the server keeps a consumer extension only when `preferredId === id`) and is one the
/// router sends.
#[test]
fn recv_capabilities_are_what_a_router_can_consume_with() {
    let router = router();
    let caps = recv_capabilities();
    // Normalized as mediasoup validates them.
    validate_and_normalize_rtp_capabilities(&mut serde_json::to_value(&caps).unwrap()).unwrap();

    let mut media_payload_types = Vec::new();
    for codec in caps.codecs.iter().filter(|c| !is_rtx(*c)) {
        let pt = codec.preferred_payload_type.expect("a payload type");
        let router_codec = router
            .codecs
            .iter()
            .find(|r| match_codecs(*r, codec, true).matched())
            .unwrap_or_else(|| panic!("no router codec matches {codec:?}"));
        assert_eq!(router_codec.preferred_payload_type, Some(pt), "{codec:?}");
        assert_eq!(router_codec.kind, codec.kind);
        media_payload_types.push(pt);
    }
    for rtx in caps.codecs.iter().filter(|c| is_rtx(*c)) {
        let apt = rtx.parameters["apt"].as_u64().unwrap();
        assert!(media_payload_types.iter().any(|pt| u64::from(*pt) == apt));
        assert!(router.codecs.iter().any(|r| is_rtx(r)
            && r.preferred_payload_type == rtx.preferred_payload_type
            && r.parameters["apt"].as_u64() == Some(apt)));
    }
    // Every router media codec the native side has is receivable: opus, VP8, H264.
    assert_eq!(media_payload_types, [100, 101, 103]);

    for ext in &caps.header_extensions {
        let router_ext = router
            .header_extensions
            .iter()
            .find(|r| r.kind == ext.kind && r.uri == ext.uri)
            .unwrap_or_else(|| panic!("no router extension {ext:?}"));
        assert_eq!(router_ext.preferred_id, ext.preferred_id, "{ext:?}");
        // What mediasoup puts in consumable parameters: extensions it sends.
        assert!(matches!(
            router_ext.direction,
            Direction::Sendrecv | Direction::Sendonly
        ));
        assert!(matches!(
            ext.direction,
            Direction::Sendrecv | Direction::Recvonly
        ));
    }
    // The consumer extensions mediasoup keeps for a video consumer: all it sends that the
    // native side knows (rid and repaired-rid are receive-only on the router).
    let kept: Vec<&str> = router
        .header_extensions
        .iter()
        .filter(|r| r.kind == MediaKind::Video)
        .filter(|r| matches!(r.direction, Direction::Sendrecv | Direction::Sendonly))
        .filter(|r| {
            caps.header_extensions
                .iter()
                .any(|c| c.preferred_id == r.preferred_id && c.uri == r.uri)
        })
        .map(|r| r.uri.as_str())
        .collect();
    assert_eq!(
        kept,
        [
            "urn:ietf:params:rtp-hdrext:sdes:mid",
            "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
            "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
        ]
    );
}

#[test]
fn receivable_codecs_have_the_routers_payload_types_and_parameters() {
    let extended = get_extended_rtp_capabilities(&native(), &router()).unwrap();
    let video = serde_json::to_value(receivable_codecs(MediaKind::Video, &extended)).unwrap();
    // The device receives transport-wide-cc for video: no REMB, as in a consumer.
    let feedback = json!([
        { "type": "transport-cc", "parameter": "" },
        { "type": "ccm", "parameter": "fir" }, { "type": "nack", "parameter": "" },
        { "type": "nack", "parameter": "pli" }
    ]);
    assert_eq!(
        video,
        json!([
            { "mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
              "parameters": { "x-google-start-bitrate": 1500 }, "rtcpFeedback": feedback },
            { "mimeType": "video/rtx", "payloadType": 102, "clockRate": 90000,
              "parameters": { "apt": 101 }, "rtcpFeedback": [] },
            { "mimeType": "video/H264", "payloadType": 103, "clockRate": 90000,
              // The router's 42e01f after level negotiation (level-asymmetry-allowed: the
              // native 42e034), as mediasoup-client's matching writes it back.
              "parameters": { "level-asymmetry-allowed": 1, "packetization-mode": 1,
                              "profile-level-id": "42e034" },
              "rtcpFeedback": feedback },
            { "mimeType": "video/rtx", "payloadType": 104, "clockRate": 90000,
              "parameters": { "apt": 103 }, "rtcpFeedback": [] },
        ])
    );
    let audio = receivable_codecs(MediaKind::Audio, &extended);
    assert_eq!(audio.len(), 1);
    assert_eq!(
        (
            audio[0].mime_type.as_str(),
            audio[0].payload_type,
            audio[0].channels
        ),
        ("audio/opus", 100, Some(2))
    );

    // No RTX on either side, or an RTX payload type of 0: the codec alone. No router payload
    // type: left out.
    let mut extended = extended;
    extended.codecs[1].remote_rtx_payload_type = Some(0);
    extended.codecs[2].remote_rtx_payload_type = None;
    extended.codecs[0].remote_payload_type = None;
    let mimes: Vec<String> = receivable_codecs(MediaKind::Video, &extended)
        .into_iter()
        .map(|c| c.mime_type)
        .collect();
    assert_eq!(mimes, ["video/VP8", "video/H264"]);
    assert!(receivable_codecs(MediaKind::Audio, &extended).is_empty());
}

/// The stream of a consumer, from parameters of the shape mediasoup gives `consume()`: the
/// RTX codec found by its `apt` (not by its place), the transport-wide extension's id, NACK
/// only for generic `nack` (not `nack pli`).
#[test]
fn a_consumers_received_stream() {
    let video: RtpParameters = serde_json::from_value(json!({
        "mid": "1",
        "codecs": [
            { "mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
              "rtcpFeedback": [{ "type": "nack" }, { "type": "nack", "parameter": "pli" },
                               { "type": "transport-cc" }] },
            { "mimeType": "video/rtx", "payloadType": 99, "clockRate": 90000,
              "parameters": { "apt": 100 } },
            { "mimeType": "video/rtx", "payloadType": 102, "clockRate": 90000,
              "parameters": { "apt": 101 } }
        ],
        "headerExtensions": [
            { "uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 1 },
            { "uri": "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
              "id": 5 }
        ],
        "encodings": [{ "ssrc": 11111, "rtx": { "ssrc": 22222 } }],
        "rtcp": { "cname": "x" }
    }))
    .unwrap();
    assert_eq!(
        received_stream(MediaKind::Video, &video),
        Some(ReceivedStream {
            ssrc: 11111,
            kind: MediaKind::Video,
            payload_type: 101,
            clock_rate: 90000,
            rtx: Some((22222, 102)),
            nack: true,
            transport_wide_id: Some(5),
        })
    );

    let audio: RtpParameters = serde_json::from_value(json!({
        "codecs": [
            { "mimeType": "audio/opus", "payloadType": 100, "clockRate": 48000, "channels": 2,
              "rtcpFeedback": [{ "type": "nack", "parameter": "pli" }] }
        ],
        "encodings": [{ "ssrc": 33333 }]
    }))
    .unwrap();
    let stream = received_stream(MediaKind::Audio, &audio).unwrap();
    assert_eq!((stream.ssrc, stream.clock_rate), (33333, 48000));
    assert_eq!(
        (stream.rtx, stream.nack, stream.transport_wide_id),
        (None, false, None)
    );

    let mut no_ssrc = audio;
    no_ssrc.encodings[0].ssrc = None;
    assert_eq!(received_stream(MediaKind::Audio, &no_ssrc), None);
}
