//! Extended RTP capabilities and what derives from them, on the router fixture.

mod common;

use common::*;
use msc_ortc::*;
use serde_json::json;

#[test]
fn local_equal_to_remote() {
    let (mut local, mut remote) = (router(), router());
    let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
    let codecs: Vec<_> = ext.codecs.iter().map(|c| c.mime_type.as_str()).collect();
    assert_eq!(codecs, ["audio/opus", "video/VP8", "video/H264"]);
    assert_eq!(ext.codecs[0].local_rtx_payload_type, None);
    assert_eq!(ext.codecs[1].remote_rtx_payload_type, Some(102));
    assert_eq!(ext.codecs[1].local_rtx_payload_type, Some(102));
    assert_eq!(ext.codecs[2].remote_rtx_payload_type, Some(104));
    assert_eq!(ext.codecs[2].local_rtx_payload_type, Some(104));
    assert_eq!(ext.header_extensions.len(), 8);
}

#[test]
fn local_without_vp8() {
    let (mut local, mut remote) = (router(), router());
    local.codecs.remove(1);
    let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
    let codecs: Vec<_> = ext.codecs.iter().map(|c| c.mime_type.as_str()).collect();
    assert_eq!(codecs, ["audio/opus", "video/H264"]);
    assert_eq!(ext.codecs[1].remote_rtx_payload_type, Some(104));
    assert_eq!(ext.codecs[1].local_rtx_payload_type, Some(104));
    assert_eq!(ext.header_extensions.len(), 8);
}

#[test]
fn extended_json_shape() {
    let (mut local, mut remote) = (native(), router());
    let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
    let json = serde_json::to_value(&ext).unwrap();
    assert_eq!(
        json["codecs"][0],
        json!({
            "kind": "audio",
            "mimeType": "audio/opus",
            "clockRate": 48000,
            "channels": 2,
            "localPayloadType": 111,
            "remotePayloadType": 100,
            "localParameters": { "minptime": 10, "useinbandfec": 1 },
            "remoteParameters": { "useinbandfec": 1 },
            "rtcpFeedback": [{ "type": "transport-cc", "parameter": "" }]
        })
    );
    // Video codecs have no channels; RTX payload types on both sides.
    assert_eq!(
        json["codecs"][1],
        json!({
            "kind": "video",
            "mimeType": "video/VP8",
            "clockRate": 90000,
            "localPayloadType": 96,
            "localRtxPayloadType": 97,
            "remotePayloadType": 101,
            "remoteRtxPayloadType": 102,
            "localParameters": {},
            "remoteParameters": { "x-google-start-bitrate": 1500 },
            "rtcpFeedback": [
                { "type": "goog-remb", "parameter": "" },
                { "type": "transport-cc", "parameter": "" },
                { "type": "ccm", "parameter": "fir" },
                { "type": "nack", "parameter": "" },
                { "type": "nack", "parameter": "pli" }
            ]
        })
    );
    assert_eq!(
        json["headerExtensions"][2],
        json!({
            "kind": "video",
            "uri": "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
            "sendId": 10,
            "recvId": 2,
            "encrypt": false,
            "direction": "sendonly"
        })
    );
    let back: ExtendedRtpCapabilities = serde_json::from_value(json).unwrap();
    assert_eq!(back, ext);
}

#[test]
fn h264_matches_by_packetization_mode_and_profile_and_negotiates_the_level() {
    let (mut local, mut remote) = (native(), router());
    let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
    let h264 = &ext.codecs[2];
    // Baseline 42001f (102) and packetization-mode 0 (127) do not match; 125 does.
    assert_eq!(h264.mime_type, "video/H264");
    assert_eq!(h264.local_payload_type, Some(125));
    assert_eq!(h264.local_rtx_payload_type, Some(107));
    assert_eq!(h264.remote_payload_type, Some(103));
    assert_eq!(h264.remote_rtx_payload_type, Some(104));
    // Level asymmetry on both sides: our level (5.2) is the answer, on both sides.
    assert_eq!(h264.local_parameters["profile-level-id"], "42e034");
    assert_eq!(h264.remote_parameters["profile-level-id"], "42e034");
    // ...and written back into the capabilities, as the reference does.
    assert_eq!(remote.codecs[3].parameters["profile-level-id"], "42e034");
    assert_eq!(local.codecs[10].parameters["profile-level-id"], "42e034");
    assert_eq!(local.codecs[6].parameters["profile-level-id"], "42001f");
}

#[test]
fn h264_without_level_asymmetry_takes_the_lower_level() {
    let mut remote_json = router_json();
    remote_json["codecs"][3]["parameters"]
        .as_object_mut()
        .unwrap()
        .remove("level-asymmetry-allowed");
    let (mut local, mut remote) = (native(), caps(remote_json));
    let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
    assert_eq!(ext.codecs[2].local_parameters["profile-level-id"], "42e01f");
}

#[test]
fn h264_profiles_must_be_the_same() {
    for (profile, matches) in [("42e01f", true), ("4d001f", false), ("640032", false)] {
        let mut local_json = router_json();
        local_json["codecs"][3]["parameters"]["profile-level-id"] = json!(profile);
        let (mut local, mut remote) = (caps(local_json), router());
        let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
        let has_h264 = ext.codecs.iter().any(|c| c.mime_type == "video/H264");
        assert_eq!(has_h264, matches, "{profile}");
    }
    for (mode, matches) in [(json!(1), true), (json!(0), false), (json!("1"), false)] {
        let mut local_json = router_json();
        local_json["codecs"][3]["parameters"]["packetization-mode"] = mode.clone();
        let (mut local, mut remote) = (caps(local_json), router());
        let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
        let has_h264 = ext.codecs.iter().any(|c| c.mime_type == "video/H264");
        assert_eq!(has_h264, matches, "{mode}");
    }
}

#[test]
fn vp9_profile_id() {
    let vp9 = |profile: serde_json::Value| {
        json!({ "mimeType": "video/VP9", "preferredPayloadType": 98, "clockRate": 90000,
                "parameters": { "profile-id": profile } })
    };
    for (local_profile, remote_profile, matches) in [
        (json!(0), json!(0), true),
        (json!(2), json!(0), false),
        (json!(2), json!(2), true),
        (json!("2"), json!(2), false),
    ] {
        let mut local = caps(json!({ "codecs": [vp9(local_profile.clone())] }));
        let mut remote = caps(json!({ "codecs": [vp9(remote_profile.clone())] }));
        let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
        assert_eq!(
            ext.codecs.len() == 1,
            matches,
            "{local_profile} {remote_profile}"
        );
    }
}

#[test]
fn codec_order_local_or_remote() {
    let (mut local, mut remote) = (native(), router());
    local.codecs.swap(0, 2); // VP8 first locally
    let ext = get_extended_rtp_capabilities_mut(&mut local.clone(), &mut remote.clone(), false);
    let order: Vec<_> = ext.codecs.iter().map(|c| c.mime_type.as_str()).collect();
    assert_eq!(order, ["audio/opus", "video/VP8", "video/H264"]);
    let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, true);
    let order: Vec<_> = ext.codecs.iter().map(|c| c.mime_type.as_str()).collect();
    assert_eq!(order, ["video/VP8", "audio/opus", "video/H264"]);
}

#[test]
fn rtx_needs_both_sides() {
    let (mut local, mut remote) = (native(), router());
    remote.codecs.remove(2); // VP8's RTX on the router
    let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
    assert_eq!(ext.codecs[1].mime_type, "video/VP8");
    assert_eq!(ext.codecs[1].local_rtx_payload_type, None);
    assert_eq!(ext.codecs[1].remote_rtx_payload_type, None);
}

#[test]
fn header_extension_directions() {
    let ext_caps = |direction: &str| {
        caps(
            json!({ "headerExtensions": [{ "kind": "video", "uri": "urn:x", "preferredId": 7,
                                            "direction": direction }] }),
        )
    };
    for (remote, expected) in [
        ("sendrecv", Direction::Sendrecv),
        ("recvonly", Direction::Sendonly),
        ("sendonly", Direction::Recvonly),
        ("inactive", Direction::Inactive),
    ] {
        let mut local = caps(json!({ "headerExtensions": [
            { "kind": "audio", "uri": "urn:x", "preferredId": 3 },
            { "kind": "video", "uri": "urn:x", "preferredId": 5, "preferredEncrypt": true }
        ] }));
        let ext = get_extended_rtp_capabilities_mut(&mut local, &mut ext_caps(remote), false);
        assert_eq!(ext.header_extensions.len(), 1);
        let h = &ext.header_extensions[0];
        assert_eq!(
            (h.send_id, h.recv_id, h.encrypt, h.direction),
            (5, 7, true, expected)
        );
    }
}

#[test]
fn recv_capabilities_order() {
    let (mut local, mut remote) = (router(), router());
    let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
    let recv = get_recv_rtp_capabilities(&ext);
    let codecs: Vec<_> = recv.codecs.iter().map(|c| c.mime_type.as_str()).collect();
    assert_eq!(
        codecs,
        [
            "audio/opus",
            "video/VP8",
            "video/rtx",
            "video/H264",
            "video/rtx"
        ]
    );

    let (mut local, mut remote) = (router(), router());
    local.codecs.remove(1);
    let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
    let recv = get_recv_rtp_capabilities(&ext);
    let codecs: Vec<_> = recv.codecs.iter().map(|c| c.mime_type.as_str()).collect();
    assert_eq!(codecs, ["audio/opus", "video/H264", "video/rtx"]);
}

#[test]
fn recv_and_send_capabilities_content() {
    let (mut local, mut remote) = (native(), router());
    let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
    let recv = serde_json::to_value(get_recv_rtp_capabilities(&ext)).unwrap();
    assert_eq!(
        recv["codecs"][2],
        json!({ "kind": "video", "mimeType": "video/rtx", "preferredPayloadType": 102,
                "clockRate": 90000, "parameters": { "apt": 101 }, "rtcpFeedback": [] })
    );
    assert_eq!(recv["codecs"][1]["preferredPayloadType"], 101);
    assert_eq!(
        recv["codecs"][1]["parameters"],
        json!({}),
        "local parameters"
    );
    // recvonly remote extensions are sendonly for us: not in what we receive.
    let recv_uris: Vec<_> = recv["headerExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["uri"].as_str().unwrap())
        .collect();
    assert!(!recv_uris.contains(&"urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"));
    assert_eq!(recv_uris.len(), 6);
    let send = get_send_rtp_capabilities(&ext);
    assert_eq!(send.header_extensions.len(), 8);
    assert_eq!(send.header_extensions[0].preferred_id, 1, "remote ids");
}

#[test]
fn can_send_and_receive() {
    let (mut local, mut remote) = (router(), router());
    let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
    let recv = get_recv_rtp_capabilities(&ext);
    let send = get_send_rtp_capabilities(&ext);
    assert!(can_send(MediaKind::Audio, &send));
    assert!(can_send(MediaKind::Video, &send));
    let mut no_audio = send.clone();
    no_audio.codecs.retain(|c| c.kind != MediaKind::Audio);
    assert!(!can_send(MediaKind::Audio, &no_audio));
    assert!(can_send(MediaKind::Video, &no_audio));
    assert!(!can_send(MediaKind::Video, &RtpCapabilities::default()));

    let params = |pt: u8, fmtp: serde_json::Value| {
        let mut v = json!({ "codecs": [{ "mimeType": "audio/opus", "kind": "audio",
            "clockRate": 48000, "payloadType": pt, "channels": 2, "rtcpFeedback": [],
            "parameters": { "useinbandfec": fmtp } }] });
        validate_and_normalize_rtp_parameters(&mut v).unwrap()
    };
    assert!(can_receive(&params(100, json!(1)), &recv));
    assert!(!can_receive(&params(96, json!("1")), &recv));
    let mut empty = json!({ "codecs": [] });
    assert!(!can_receive(
        &validate_and_normalize_rtp_parameters(&mut empty).unwrap(),
        &recv
    ));
}

#[test]
fn sending_rtp_parameters() {
    let (mut local, mut remote) = (router(), router());
    let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
    let audio = get_sending_rtp_parameters(MediaKind::Audio, &ext).unwrap();
    let mimes: Vec<_> = audio.codecs.iter().map(|c| c.mime_type.as_str()).collect();
    assert_eq!(mimes, ["audio/opus"]);
    let video = get_sending_rtp_parameters(MediaKind::Video, &ext).unwrap();
    let mimes: Vec<_> = video.codecs.iter().map(|c| c.mime_type.as_str()).collect();
    assert_eq!(mimes, ["video/VP8", "video/rtx", "video/H264", "video/rtx"]);

    let (mut local, mut remote) = (native(), router());
    let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
    let video =
        serde_json::to_value(get_sending_rtp_parameters(MediaKind::Video, &ext).unwrap()).unwrap();
    assert_eq!(video["codecs"][0]["payloadType"], 96, "local payload types");
    assert_eq!(
        video["codecs"][0]["parameters"],
        json!({}),
        "local parameters"
    );
    assert_eq!(
        video["codecs"][1],
        json!({ "mimeType": "video/rtx", "payloadType": 97, "clockRate": 90000,
                "parameters": { "apt": 96 }, "rtcpFeedback": [] })
    );
    assert_eq!(video["encodings"], json!([]));
    assert_eq!(video["rtcp"], json!({}));
    assert!(video.get("mid").is_none());
    // Every send-capable video extension with our ids; recvonly remote ones are sendonly.
    let ids: Vec<_> = video["headerExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [4, 10, 11, 2, 3]);
    assert_eq!(video["headerExtensions"][0]["parameters"], json!({}));
    // Full RTCP feedback here: only the remote parameters get trimmed.
    assert_eq!(
        video["codecs"][0]["rtcpFeedback"].as_array().unwrap().len(),
        5
    );
}

#[test]
fn sending_remote_rtp_parameters_trim_congestion_control_feedback() {
    let (mut local, mut remote) = (native(), router());
    let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
    let fb_types = |params: &RtpParameters, i: usize| -> Vec<String> {
        params.codecs[i]
            .rtcp_feedback
            .iter()
            .map(|f| f.kind.clone())
            .collect()
    };

    // Video has transport-cc: goog-remb goes.
    let video = get_sending_remote_rtp_parameters(MediaKind::Video, &ext).unwrap();
    assert_eq!(
        video.codecs[0].parameters["x-google-start-bitrate"], 1500,
        "remote parameters"
    );
    assert_eq!(video.codecs[0].payload_type, 96, "local payload types");
    assert_eq!(fb_types(&video, 0), ["transport-cc", "ccm", "nack", "nack"]);

    // Audio has abs-send-time only: transport-cc goes.
    let audio = get_sending_remote_rtp_parameters(MediaKind::Audio, &ext).unwrap();
    assert_eq!(fb_types(&audio, 0), Vec::<String>::new());

    // Neither: both go.
    let mut ext_none = ext.clone();
    ext_none
        .header_extensions
        .retain(|h| !h.uri.contains("transport-wide-cc") && !h.uri.contains("abs-send-time"));
    let video = get_sending_remote_rtp_parameters(MediaKind::Video, &ext_none).unwrap();
    assert_eq!(fb_types(&video, 0), ["ccm", "nack", "nack"]);

    // abs-send-time without transport-cc: goog-remb stays, transport-cc goes.
    let mut ext_abs = ext.clone();
    ext_abs
        .header_extensions
        .retain(|h| !h.uri.contains("transport-wide-cc"));
    let video = get_sending_remote_rtp_parameters(MediaKind::Video, &ext_abs).unwrap();
    assert_eq!(fb_types(&video, 0), ["goog-remb", "ccm", "nack", "nack"]);
}

#[test]
fn reduce_codecs_picks_a_codec_and_its_rtx() {
    let (mut local, mut remote) = (native(), router());
    let ext = get_extended_rtp_capabilities_mut(&mut local, &mut remote, false);
    let video = get_sending_rtp_parameters(MediaKind::Video, &ext).unwrap();
    let mimes = |codecs: &[RtpCodecParameters]| -> Vec<(String, u8)> {
        codecs
            .iter()
            .map(|c| (c.mime_type.clone(), c.payload_type))
            .collect()
    };

    let first = reduce_codecs(&video.codecs, None).unwrap();
    assert_eq!(
        mimes(&first),
        [("video/VP8".into(), 96), ("video/rtx".into(), 97)]
    );

    let device_caps = get_recv_rtp_capabilities(&ext);
    let h264_cap = device_caps
        .codecs
        .iter()
        .find(|c| c.mime_type == "video/H264")
        .unwrap();
    let h264 = reduce_codecs(&video.codecs, Some(h264_cap)).unwrap();
    assert_eq!(
        mimes(&h264),
        [("video/H264".into(), 125), ("video/rtx".into(), 107)]
    );

    let mut pm0 = h264_cap.clone();
    pm0.parameters.insert("packetization-mode".into(), json!(0));
    let e = reduce_codecs(&video.codecs, Some(&pm0)).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::TypeError, "no matching codec found")
    );

    let mut main = h264_cap.clone();
    main.parameters
        .insert("profile-level-id".into(), json!("4d001f"));
    assert!(reduce_codecs(&video.codecs, Some(&main)).is_err());

    let mut vp9 = h264_cap.clone();
    vp9.mime_type = "video/VP9".into();
    assert!(reduce_codecs(&video.codecs, Some(&vp9)).is_err());

    // A codec without RTX comes alone.
    let audio = get_sending_rtp_parameters(MediaKind::Audio, &ext).unwrap();
    assert_eq!(
        mimes(&reduce_codecs(&audio.codecs, None).unwrap()),
        [("audio/opus".into(), 111)]
    );
    assert!(reduce_codecs(&[], None).unwrap().is_empty());
}

#[test]
fn probator_parameters() {
    let mut video = json!({
        "mid": "1",
        "codecs": [
            { "mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000 },
            { "mimeType": "video/rtx", "payloadType": 102, "clockRate": 90000, "parameters": { "apt": 101 } }
        ],
        "headerExtensions": [{ "uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 1 }],
        "encodings": [{ "ssrc": 11111111 }],
        "rtcp": { "cname": "abc" }
    });
    let video = validate_and_normalize_rtp_parameters(&mut video).unwrap();
    let probator = generate_probator_rtp_parameters(&video).unwrap();
    assert_eq!(
        serde_json::to_value(probator).unwrap(),
        json!({
            "mid": "probator",
            "codecs": [{ "mimeType": "video/VP8", "payloadType": 127, "clockRate": 90000,
                         "parameters": {}, "rtcpFeedback": [] }],
            "headerExtensions": [{ "uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 1,
                                   "encrypt": false, "parameters": {} }],
            "encodings": [{ "ssrc": 1234 }],
            "rtcp": { "cname": "probator" }
        })
    );
    let e = generate_probator_rtp_parameters(&RtpParameters::default()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TypeError);
}

#[test]
fn immutable_form_leaves_inputs_alone_and_gives_the_same_result() {
    let (local, remote) = (native(), router());
    let ext = get_extended_rtp_capabilities(&local, &remote).unwrap();
    assert_eq!(local, native());
    assert_eq!(remote, router());
    let (mut local_mut, mut remote_mut) = (native(), router());
    assert_eq!(
        ext,
        get_extended_rtp_capabilities_mut(&mut local_mut, &mut remote_mut, false)
    );
    assert_ne!(
        remote_mut,
        router(),
        "the negotiated level was written back"
    );
}

#[test]
fn can_send_and_receive_with_extended_capabilities() {
    let ext = get_extended_rtp_capabilities(&router(), &router()).unwrap();
    assert!(can_send(MediaKind::Audio, &ext));
    assert!(can_send(MediaKind::Video, &ext));
    assert!(!can_send(
        MediaKind::Audio,
        &ExtendedRtpCapabilities::default()
    ));
    let params = |pt: u8| {
        let mut v = json!({ "codecs": [{ "mimeType": "audio/opus", "payloadType": pt, "clockRate": 48000 }] });
        validate_and_normalize_rtp_parameters(&mut v).unwrap()
    };
    assert!(can_receive(&params(100), &ext));
    assert!(!can_receive(&params(96), &ext));
    // Receive capabilities list RTX payload types too; extended ones only media codecs.
    assert!(can_receive(&params(102), &get_recv_rtp_capabilities(&ext)));
    assert!(!can_receive(&params(102), &ext));
}
