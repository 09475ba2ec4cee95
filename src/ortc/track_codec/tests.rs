use super::*;
use crate::error::ErrorKind;
use serde_json::json;

fn params(v: Value) -> CodecParameters {
    v.as_object().unwrap().clone()
}

fn track(mime_type: &str, p: Value) -> TrackCodec {
    TrackCodec {
        kind: if mime_type.starts_with("audio") {
            MediaKind::Audio
        } else {
            MediaKind::Video
        },
        mime_type: mime_type.into(),
        parameters: params(p),
    }
}

fn codec(mime_type: &str, p: Value) -> RtpCodecCapability {
    let audio = mime_type.starts_with("audio");
    RtpCodecCapability {
        kind: if audio {
            MediaKind::Audio
        } else {
            MediaKind::Video
        },
        mime_type: mime_type.into(),
        preferred_payload_type: Some(100),
        clock_rate: if audio { 48000 } else { 90000 },
        channels: audio.then_some(2),
        parameters: params(p),
        rtcp_feedback: vec![],
    }
}

fn h264(plid: &str, mode: u8) -> RtpCodecCapability {
    codec(
        "video/H264",
        json!({ "packetization-mode": mode, "profile-level-id": plid, "level-asymmetry-allowed": 1 }),
    )
}

fn pick(t: &TrackCodec, codecs: &[RtpCodecCapability]) -> Result<usize> {
    codec_for_track(t, codecs, &[])
}

#[test]
fn vp9_profile_id() {
    let p0 = codec("video/VP9", json!({ "profile-id": 0 }));
    let p2 = codec("video/VP9", json!({ "profile-id": 2 }));
    let rtx = codec("video/rtx", json!({ "apt": 101 }));
    let vp8 = codec("video/VP8", json!({}));
    let file_p0 = track("video/VP9", json!({ "profile-id": 0 }));
    assert_eq!(
        pick(
            &file_p0,
            &[vp8.clone(), p2.clone(), rtx.clone(), p0.clone()]
        ),
        Ok(3)
    );
    assert_eq!(
        pick(
            &track("video/VP9", json!({ "profile-id": 2 })),
            &[p0.clone(), p2.clone()]
        ),
        Ok(1)
    );
    // absent means 0 on both sides; numbers and numeric strings are the same
    assert_eq!(
        pick(&track("video/VP9", json!({})), &[p2.clone(), p0.clone()]),
        Ok(1)
    );
    assert_eq!(
        pick(&file_p0, &[p2.clone(), codec("video/vp9", json!({}))]),
        Ok(1)
    );
    assert_eq!(
        pick(
            &track("video/VP9", json!({ "profile-id": "2" })),
            &[p0.clone(), p2.clone()]
        ),
        Ok(1)
    );

    let e = pick(&file_p0, &[vp8, p2.clone(), rtx]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsupportedError);
    assert_eq!(
        e.message,
        "the router does not take this track's video/VP9 (profile-id 0); it has video/VP9 (profile-id 2)"
    );
}

#[test]
fn av1_profile() {
    let main = codec("video/AV1", json!({}));
    let high = codec("video/AV1", json!({ "profile": 1 }));
    assert_eq!(
        pick(
            &track("video/AV1", json!({ "profile": 1 })),
            &[main.clone(), high.clone()]
        ),
        Ok(1)
    );
    assert_eq!(
        pick(
            &track("video/AV1", json!({ "profile": 0 })),
            &[high.clone(), main]
        ),
        Ok(1)
    );
    let e = pick(&track("video/AV1", json!({ "profile": 0 })), &[high]).unwrap_err();
    assert_eq!(
        e.message,
        "the router does not take this track's video/AV1 (profile 0); it has video/AV1 (profile 1)"
    );
}

#[test]
fn other_codecs_by_mime_type_and_kind() {
    let opus = codec("audio/opus", json!({ "useinbandfec": 1 }));
    let vp8 = codec("video/VP8", json!({}));
    assert_eq!(
        pick(
            &track("audio/OPUS", json!({})),
            &[vp8.clone(), opus.clone()]
        ),
        Ok(1)
    );
    assert_eq!(
        pick(&track("video/vp8", json!({})), &[opus.clone(), vp8.clone()]),
        Ok(1)
    );
    let e = pick(
        &track("video/VP9", json!({ "profile-id": 0 })),
        &[
            opus,
            vp8.clone(),
            codec("video/rtx", json!({})),
            vp8,
            codec("video/H264", json!({})),
        ],
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsupportedError);
    assert_eq!(
        e.message,
        "the router does not take video/VP9, the codec of this track; its video codecs: video/VP8, video/H264"
    );
    let e = pick(&track("audio/opus", json!({})), &[]).unwrap_err();
    assert!(
        e.message.ends_with("its audio codecs: none"),
        "{}",
        e.message
    );
}

#[test]
fn h264_packetization_mode() {
    let cb0 = h264("42e01f", 0);
    let cb1 = h264("42e01f", 1);
    let no_mode = codec("video/H264", json!({ "profile-level-id": "42e01f" }));
    // a track that says nothing is packetization-mode 1; a codec that says nothing is 0
    let file = track("video/H264", json!({ "profile-level-id": "42e01f" }));
    assert_eq!(
        pick(&file, &[cb0.clone(), no_mode.clone(), cb1.clone()]),
        Ok(2)
    );
    let mode0 = track("video/H264", json!({ "packetization-mode": "0" }));
    assert_eq!(pick(&mode0, &[cb1.clone(), no_mode.clone()]), Ok(1));
    let e = pick(&file, &[cb0, no_mode]).unwrap_err();
    assert_eq!(
        e.message,
        "the router does not take this track's video/H264 (profile-level-id 42e01f: Constrained \
         Baseline, packetization-mode 1); it has video/H264 (profile-level-id 42e01f: \
         Constrained Baseline, packetization-mode 0), video/H264 (profile-level-id 42e01f: \
         Constrained Baseline, packetization-mode 0)"
    );
}

#[test]
fn h264_same_profile_first_then_one_that_includes_it() {
    let cb = h264("42e01f", 1);
    let baseline = h264("42001f", 1);
    let main = h264("4d001f", 1);
    let high = h264("640032", 1);
    let chigh = h264("640c1f", 1);
    let t = |plid: &str| {
        track(
            "video/H264",
            json!({ "packetization-mode": 1, "profile-level-id": plid }),
        )
    };
    // the same profile wins over an earlier codec that only includes it
    assert_eq!(
        pick(&t("42e01f"), &[high.clone(), main.clone(), cb.clone()]),
        Ok(2)
    );
    assert_eq!(
        pick(&t("640032"), &[cb.clone(), main.clone(), high.clone()]),
        Ok(2)
    );
    // levels never count, whatever the asymmetry
    assert_eq!(
        pick(
            &t("640034"),
            &[
                cb.clone(),
                codec(
                    "video/H264",
                    json!({ "packetization-mode": 1, "profile-level-id": "64000a" })
                )
            ]
        ),
        Ok(1)
    );
    // Constrained Baseline is a subset of Baseline, Main, Constrained High and High
    for (others, expected) in [
        (vec![baseline.clone()], 0),
        (vec![high.clone(), main.clone()], 0),
        (vec![main.clone(), high.clone()], 0),
        (vec![chigh.clone()], 0),
    ] {
        assert_eq!(pick(&t("42e01f"), &others), Ok(expected));
    }
    // a Baseline stream may use what Constrained Baseline leaves out; Main has B frames
    assert!(pick(&t("42001f"), &[cb.clone(), main.clone()]).is_err());
    assert_eq!(pick(&t("42001f"), &[cb.clone(), baseline.clone()]), Ok(1));
    assert!(pick(&t("4d001f"), &[cb.clone(), baseline.clone(), chigh.clone()]).is_err());
    assert_eq!(pick(&t("4d001f"), &[cb.clone(), high.clone()]), Ok(1));
    assert_eq!(pick(&t("640c1f"), &[main.clone(), high.clone()]), Ok(1));
    let e = pick(&t("640032"), &[cb.clone(), main.clone()]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsupportedError);
    assert!(
        e.message.starts_with(
            "the router does not take this track's video/H264 (profile-level-id 640032: High, \
             packetization-mode 1); it has video/H264 (profile-level-id 42e01f: Constrained Baseline"
        ),
        "{}",
        e.message
    );
    // a codec without profile-level-id is Constrained Baseline, as in device.load
    let none = codec("video/H264", json!({ "packetization-mode": 1 }));
    assert_eq!(pick(&t("42e01f"), &[high.clone(), none.clone()]), Ok(1));
    assert!(pick(&t("640032"), &[none]).is_err());
}

#[test]
fn h264_track_without_profile_takes_any() {
    let high = h264("640032", 1);
    let cb = h264("42e01f", 1);
    assert_eq!(
        pick(&track("video/H264", json!({})), &[high.clone(), cb.clone()]),
        Ok(0)
    );
    assert_eq!(
        pick(
            &track("video/H264", json!({ "profile-level-id": "" })),
            &[cb, high]
        ),
        Ok(0)
    );
}

#[test]
fn h264_track_profile_not_sent_over_webrtc() {
    // High 10 (profile_idc 110), as a file would state it
    let t = track(
        "video/H264",
        json!({ "packetization-mode": 1, "profile-level-id": "6e001f" }),
    );
    let e = pick(&t, &[h264("640032", 1)]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsupportedError);
    assert!(
        e.message
            .starts_with("this track's H.264 profile-level-id 6e001f is not"),
        "{}",
        e.message
    );
    let e = check_codec_for_track(&t, "video/H264", &h264("640032", 1).parameters).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsupportedError);
}

#[test]
fn requested_codec_must_fit() {
    let file_p0 = track("video/VP9", json!({ "profile-id": 0 }));
    assert_eq!(
        check_codec_for_track(&file_p0, "video/vp9", &params(json!({}))),
        Ok(())
    );
    let e = check_codec_for_track(&file_p0, "video/VP9", &params(json!({ "profile-id": 2 })))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::TypeError);
    assert_eq!(
        e.message,
        "codec video/VP9 (profile-id 2) does not match the track, which holds video/VP9 (profile-id 0)"
    );
    let e = check_codec_for_track(&file_p0, "video/VP8", &params(json!({}))).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TypeError);
    assert_eq!(
        e.message,
        "codec video/VP8 does not match the track, which holds video/VP9"
    );
    // an H.264 codec whose profile includes the track's is fine; one that does not is not
    let cb = track(
        "video/H264",
        json!({ "packetization-mode": 1, "profile-level-id": "42e01f" }),
    );
    assert_eq!(
        check_codec_for_track(&cb, "video/H264", &h264("640032", 1).parameters),
        Ok(())
    );
    let high = track(
        "video/H264",
        json!({ "packetization-mode": 1, "profile-level-id": "640032" }),
    );
    let e = check_codec_for_track(&high, "video/H264", &h264("42e01f", 1).parameters).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TypeError);
    let e = check_codec_for_track(&cb, "video/H264", &h264("42e01f", 0).parameters).unwrap_err();
    assert!(
        e.message.contains("packetization-mode 0) does not match"),
        "{}",
        e.message
    );
}

#[test]
fn profiles_are_the_routers() {
    // device.load does not match AV1 profiles: the device's AV1 codec has none; the router's
    // codec of the same payload type says profile 1
    let mut device = codec("video/AV1", json!({}));
    device.preferred_payload_type = Some(45);
    let mut router = codec("video/av1", json!({ "profile": 1 }));
    router.preferred_payload_type = Some(45);
    let mut other = codec("video/AV1", json!({}));
    other.preferred_payload_type = Some(46);
    let routers = [other, router];
    let p0 = track("video/AV1", json!({ "profile": 0 }));
    let p1 = track("video/AV1", json!({ "profile": 1 }));
    assert_eq!(
        codec_for_track(&p1, std::slice::from_ref(&device), &routers),
        Ok(0)
    );
    let e = codec_for_track(&p0, std::slice::from_ref(&device), &routers).unwrap_err();
    assert_eq!(
        e.message,
        "the router does not take this track's video/AV1 (profile 0); it has video/AV1 (profile 1)"
    );
    // without the router's codecs, the device's own parameters
    assert_eq!(
        codec_for_track(&p0, std::slice::from_ref(&device), &[]),
        Ok(0)
    );
}
