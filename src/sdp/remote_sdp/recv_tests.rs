//! `RemoteSdp::receive` and `receive_sctp_association`: the offers of a receiving transport.

use super::tests::{codec, exts, remote, sdp_of, section};
use super::*;
use msc_ortc::{RtcpParameters, RtpEncodingParameters, RtxParameters};
use serde_json::json;

const MID_URI: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
const AUDIO_LEVEL_URI: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
const ABS_SEND_TIME_URI: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";

const CANDIDATES: [&str; 4] = [
    "a=candidate:udpcandidate 1 udp 1076302079 127.0.0.1 40000 typ host",
    "a=candidate:tcpcandidate 1 tcp 1076276479 127.0.0.1 40001 typ host tcptype passive",
    "a=end-of-candidates",
    "a=ice-options:renomination",
];

fn video_feedback() -> [(&'static str, &'static str); 4] {
    [
        ("transport-cc", ""),
        ("ccm", "fir"),
        ("nack", ""),
        ("nack", "pli"),
    ]
}

/// An audio consumer as mediasoup gives it: opus on the router's payload type, one encoding
/// without RTX.
fn audio_consumer(mid: &str) -> RtpParameters {
    RtpParameters {
        mid: Some(mid.into()),
        codecs: vec![codec(
            "audio/opus",
            100,
            48000,
            Some(2),
            json!({ "minptime": 10, "useinbandfec": 1 }),
            &[("transport-cc", "")],
        )],
        header_extensions: exts(&[(1, MID_URI), (10, AUDIO_LEVEL_URI)]),
        encodings: vec![RtpEncodingParameters {
            ssrc: Some(11111111),
            ..Default::default()
        }],
        rtcp: RtcpParameters {
            cname: Some("audiocname".into()),
            reduced_size: Some(true),
            mux: None,
        },
    }
}

/// A video consumer of `mime` on payload type `pt`, its RTX on `pt + 1`.
fn video_consumer(mid: &str, mime: &str, pt: u8, params: serde_json::Value) -> RtpParameters {
    RtpParameters {
        mid: Some(mid.into()),
        codecs: vec![
            codec(mime, pt, 90000, None, params, &video_feedback()),
            codec("video/rtx", pt + 1, 90000, None, json!({ "apt": pt }), &[]),
        ],
        header_extensions: exts(&[(1, MID_URI), (4, ABS_SEND_TIME_URI)]),
        encodings: vec![RtpEncodingParameters {
            ssrc: Some(22222222),
            rtx: Some(RtxParameters { ssrc: 22222223 }),
            ..Default::default()
        }],
        rtcp: RtcpParameters {
            cname: Some("videocname".into()),
            reduced_size: Some(true),
            mux: None,
        },
    }
}

/// The video codecs the device can receive, as `msc_ortc::receivable_codecs` gives them: VP8
/// 101 + RTX 102, H264 103 + RTX 104.
fn video_extras() -> Vec<RtpCodecParameters> {
    vec![
        codec("video/VP8", 101, 90000, None, json!({}), &video_feedback()),
        codec("video/rtx", 102, 90000, None, json!({ "apt": 101 }), &[]),
        codec(
            "video/H264",
            103,
            90000,
            None,
            json!({ "level-asymmetry-allowed": 1, "packetization-mode": 1, "profile-level-id": "42e01f" }),
            &video_feedback(),
        ),
        codec("video/rtx", 104, 90000, None, json!({ "apt": 103 }), &[]),
    ]
}

fn receive(
    remote: &mut RemoteSdp,
    params: &RtpParameters,
    kind: MediaKind,
    track_id: &str,
    extra_codecs: &[RtpCodecParameters],
) -> Result<(), SdpError> {
    remote.receive(RecvParams {
        mid: params.mid.as_deref().unwrap(),
        kind,
        offer_rtp_parameters: params,
        stream_id: params.rtcp.cname.as_deref().unwrap_or("-"),
        track_id,
        extra_codecs,
    })
}

/// The payload types on the m= line of a section.
fn formats(lines: &[String]) -> Vec<&str> {
    lines[0].split(' ').skip(3).collect()
}

#[test]
fn audio_offer_section() {
    let mut remote = remote(true);
    receive(
        &mut remote,
        &audio_consumer("0"),
        MediaKind::Audio,
        "consumer-a",
        &[],
    )
    .unwrap();
    let text = sdp_of(&mut remote);
    assert!(
        text.contains("t=0 0\r\na=extmap-allow-mixed\r\na=ice-lite\r\n"),
        "session-level extmap-allow-mixed:\n{text}"
    );
    assert!(text.contains("a=group:BUNDLE 0\r\nm=audio"));
    let mut expected = vec![
        "m=audio 7 UDP/TLS/RTP/SAVPF 100",
        "c=IN IP4 127.0.0.1",
        "a=rtpmap:100 opus/48000/2",
        "a=fmtp:100 minptime=10;useinbandfec=1",
        "a=rtcp-fb:100 transport-cc",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=extmap:10 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "a=extmap-allow-mixed",
        "a=setup:actpass",
        "a=mid:0",
        "a=msid:audiocname consumer-a",
        "a=sendonly",
        "a=ice-ufrag:ufrag1",
        "a=ice-pwd:pwd1",
    ];
    expected.extend(CANDIDATES);
    expected.extend([
        "a=ssrc:11111111 cname:audiocname",
        "a=rtcp-mux",
        "a=rtcp-rsize",
    ]);
    assert_eq!(section(&text, 0), expected);
}

#[test]
fn video_offer_section_with_rtx_then_the_extra_codecs() {
    let mut remote = remote(true);
    let extras = video_extras();
    let h264 = video_consumer(
        "1",
        "video/H264",
        103,
        json!({ "level-asymmetry-allowed": 1, "packetization-mode": 1, "profile-level-id": "42e01f" }),
    );
    receive(&mut remote, &h264, MediaKind::Video, "consumer-v", &extras).unwrap();
    let text = sdp_of(&mut remote);
    let lines = section(&text, 0);
    // The consumer's codec and RTX first; the extras' H264 and its RTX are already there.
    assert_eq!(formats(&lines), ["103", "104", "101", "102"]);
    for line in [
        "a=rtpmap:103 H264/90000",
        "a=fmtp:103 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
        "a=rtpmap:104 rtx/90000",
        "a=fmtp:104 apt=103",
        "a=rtpmap:101 VP8/90000",
        "a=fmtp:102 apt=101",
        "a=rtcp-fb:101 nack pli",
    ] {
        assert!(lines.contains(&line.to_owned()), "{line}\n{text}");
    }
    assert_eq!(text.matches("a=rtpmap:").count(), 4, "{text}");
    assert_eq!(
        &lines[lines.len() - 5..],
        [
            "a=ssrc:22222222 cname:videocname",
            "a=ssrc:22222223 cname:videocname",
            "a=ssrc-group:FID 22222222 22222223",
            "a=rtcp-mux",
            "a=rtcp-rsize",
        ]
    );
    assert!(lines.contains(&"a=msid:videocname consumer-v".to_owned()));
    assert!(lines.contains(
        &"a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time".to_owned()
    ));
}

/// The probator as mediasoup-client adds it: the first video consumer's codec on payload type
/// 127, SSRC 1234, no RTX. An extra codec on 127 gives way, and so does its RTX; the other
/// extras come before the probator's codec.
#[test]
fn probator_section_and_payload_type_collisions() {
    let video = video_consumer("1", "video/VP8", 101, json!({}));
    let probator = msc_ortc::generate_probator_rtp_parameters(&video).unwrap();
    let mut extras = video_extras();
    extras.push(codec("video/VP9", 127, 90000, None, json!({}), &[]));
    extras.push(codec(
        "video/rtx",
        105,
        90000,
        None,
        json!({ "apt": 127 }),
        &[],
    ));
    let mut remote = remote(true);
    receive(
        &mut remote,
        &probator,
        MediaKind::Video,
        "probator",
        &extras,
    )
    .unwrap();
    let text = sdp_of(&mut remote);
    let lines = section(&text, 0);
    // The extras first (see `MediaSection::rtp_offer`), the probator's codec last.
    assert_eq!(formats(&lines), ["101", "102", "103", "104", "127"]);
    assert!(lines.contains(&"a=rtpmap:127 VP8/90000".to_owned()));
    assert!(!text.contains("VP9") && !text.contains("apt=127"), "{text}");
    assert!(lines.contains(&"a=mid:probator".to_owned()));
    assert!(lines.contains(&"a=msid:probator probator".to_owned()));
    assert!(lines.contains(&"a=ssrc:1234 cname:probator".to_owned()));
    assert!(!text.contains("ssrc-group"));
}

#[test]
fn offer_sections_stay_actpass_whatever_the_dtls_role() {
    let mut remote = remote(true);
    receive(
        &mut remote,
        &audio_consumer("0"),
        MediaKind::Audio,
        "a",
        &[],
    )
    .unwrap();
    remote.update_dtls_role(DtlsRole::Server);
    receive(
        &mut remote,
        &video_consumer("1", "video/VP8", 101, json!({})),
        MediaKind::Video,
        "v",
        &[],
    )
    .unwrap();
    remote.update_dtls_role(DtlsRole::Client);
    remote.receive_sctp_association().unwrap();
    let text = sdp_of(&mut remote);
    assert_eq!(text.matches("a=setup:actpass\r\n").count(), 3, "{text}");
    assert!(!text.contains("a=setup:passive") && !text.contains("a=setup:active"));
}

#[test]
fn closed_sections_are_reused_by_either_kind() {
    let mut remote = remote(true);
    let extras = video_extras();
    receive(
        &mut remote,
        &audio_consumer("0"),
        MediaKind::Audio,
        "a0",
        &[],
    )
    .unwrap();
    let vp8 = video_consumer("1", "video/VP8", 101, json!({}));
    receive(&mut remote, &vp8, MediaKind::Video, "v1", &extras).unwrap();
    receive(
        &mut remote,
        &audio_consumer("2"),
        MediaKind::Audio,
        "a2",
        &[],
    )
    .unwrap();
    assert!(sdp_of(&mut remote).contains("a=group:BUNDLE 0 1 2\r\n"));

    // The first section is only disabled; another one is closed: port 0, out of BUNDLE, no
    // transport, msid or SSRCs, but its codecs (webrtc-rs reads them even there).
    assert!(!remote.close_media_section("0").unwrap());
    assert!(remote.close_media_section("1").unwrap());
    let text = sdp_of(&mut remote);
    assert!(text.contains("a=group:BUNDLE 0 2\r\n"), "{text}");
    assert!(section(&text, 0).contains(&"a=inactive".to_owned()));
    let closed = section(&text, 1);
    let codec_lines = closed
        .iter()
        .filter(|l| {
            l.starts_with("a=rtpmap") || l.starts_with("a=fmtp") || l.starts_with("a=rtcp-fb")
        })
        .count();
    assert_eq!(codec_lines, 15, "{text}");
    assert_eq!(
        closed
            .iter()
            .filter(|l| !(l.starts_with("a=rtpmap")
                || l.starts_with("a=fmtp")
                || l.starts_with("a=rtcp-fb")))
            .collect::<Vec<_>>(),
        [
            "m=video 0 UDP/TLS/RTP/SAVPF 101 102 103 104",
            "c=IN IP4 127.0.0.1",
            "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
            "a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
            "a=setup:actpass",
            "a=mid:1",
            "a=inactive",
            "a=rtcp-mux",
            "a=rtcp-rsize",
        ]
    );

    // An audio consumer takes the closed video section's place, with its own mid.
    receive(
        &mut remote,
        &audio_consumer("3"),
        MediaKind::Audio,
        "a3",
        &[],
    )
    .unwrap();
    let text = sdp_of(&mut remote);
    assert!(text.contains("a=group:BUNDLE 0 3 2\r\n"), "{text}");
    assert_eq!(text.matches("\r\nm=").count(), 3);
    let reused = section(&text, 1);
    assert!(reused[0].starts_with("m=audio 7 "));
    assert!(reused.contains(&"a=mid:3".to_owned()));
    assert!(reused.contains(&"a=msid:audiocname a3".to_owned()));
    // The old mid is gone; the next consumer is appended.
    assert!(matches!(
        remote.close_media_section("1"),
        Err(SdpError::UnknownMid(_))
    ));
    receive(
        &mut remote,
        &audio_consumer("4"),
        MediaKind::Audio,
        "a4",
        &[],
    )
    .unwrap();
    assert!(sdp_of(&mut remote).contains("a=group:BUNDLE 0 3 2 4\r\n"));
}

#[test]
fn a_closed_section_with_the_same_mid_is_taken_first() {
    let mut remote = remote(true);
    for mid in ["0", "1", "2"] {
        receive(
            &mut remote,
            &audio_consumer(mid),
            MediaKind::Audio,
            mid,
            &[],
        )
        .unwrap();
    }
    remote.close_media_section("1").unwrap();
    remote.close_media_section("2").unwrap();
    receive(
        &mut remote,
        &audio_consumer("2"),
        MediaKind::Audio,
        "again",
        &[],
    )
    .unwrap();
    let text = sdp_of(&mut remote);
    assert!(text.contains("a=group:BUNDLE 0 2\r\n"), "{text}");
    assert!(section(&text, 1)[0].starts_with("m=audio 0 "));
    assert!(section(&text, 2).contains(&"a=msid:audiocname again".to_owned()));
}

#[test]
fn data_channel_offer_section() {
    let mut remote = remote(true);
    remote.receive_sctp_association().unwrap();
    let text = sdp_of(&mut remote);
    assert!(text.contains("a=group:BUNDLE datachannel\r\n"));
    let mut expected = vec![
        "m=application 7 UDP/DTLS/SCTP webrtc-datachannel",
        "c=IN IP4 127.0.0.1",
        "a=setup:actpass",
        "a=mid:datachannel",
        "a=ice-ufrag:ufrag1",
        "a=ice-pwd:pwd1",
    ];
    expected.extend(CANDIDATES);
    expected.extend(["a=sctp-port:5000", "a=max-message-size:262144"]);
    assert_eq!(section(&text, 0), expected);

    assert_eq!(
        remote.receive_sctp_association().unwrap_err().to_string(),
        "the data channel section is there already"
    );
    let mut no_sctp = RemoteSdp::new(
        remote.ice_parameters.clone(),
        vec![],
        remote.dtls_parameters.clone(),
        None,
    )
    .unwrap();
    assert_eq!(
        no_sctp.receive_sctp_association().unwrap_err().to_string(),
        "no SCTP parameters for this transport"
    );
}

#[test]
fn ssrc_lines_follow_what_the_parameters_have() {
    // No cname: no a=ssrc lines, but the FID group still pairs the SSRCs.
    let mut video = video_consumer("0", "video/VP8", 101, json!({}));
    video.rtcp.cname = None;
    let mut remote = remote(true);
    receive(&mut remote, &video, MediaKind::Video, "v", &[]).unwrap();
    let text = sdp_of(&mut remote);
    assert!(!text.contains("a=ssrc:"));
    assert!(text.contains("a=ssrc-group:FID 22222222 22222223\r\n"));
    assert!(text.contains("a=msid:- v\r\n"));

    // An empty cname is none.
    let mut video = video_consumer("2", "video/VP8", 101, json!({}));
    video.rtcp.cname = Some(String::new());
    remote
        .receive(RecvParams {
            mid: "2",
            kind: MediaKind::Video,
            offer_rtp_parameters: &video,
            stream_id: "s",
            track_id: "v2",
            extra_codecs: &[],
        })
        .unwrap();
    assert!(!sdp_of(&mut remote).contains("a=ssrc:"));

    // No RTX SSRC: one a=ssrc line, no group.
    let mut video = video_consumer("1", "video/VP8", 101, json!({}));
    video.encodings[0].rtx = None;
    receive(&mut remote, &video, MediaKind::Video, "v1", &[]).unwrap();
    let lines = section(&sdp_of(&mut remote), 2);
    assert!(lines.contains(&"a=ssrc:22222222 cname:videocname".to_owned()));
    assert!(!lines.iter().any(|l| l.starts_with("a=ssrc-group")));
}

#[test]
fn bad_consumers_are_errors_and_change_nothing() {
    let mut remote = remote(true);
    receive(
        &mut remote,
        &audio_consumer("0"),
        MediaKind::Audio,
        "a",
        &[],
    )
    .unwrap();
    let before = remote.sections.len();
    let err = |remote: &mut RemoteSdp, params: &RtpParameters, kind, track, extras: &[_]| {
        receive(remote, params, kind, track, extras)
            .unwrap_err()
            .to_string()
    };

    assert_eq!(
        err(
            &mut remote,
            &audio_consumer("0"),
            MediaKind::Audio,
            "b",
            &[]
        ),
        "a media section with mid '0' is open already"
    );
    assert_eq!(
        err(
            &mut remote,
            &audio_consumer("1"),
            MediaKind::Video,
            "b",
            &[]
        ),
        "codec.mimeType 'audio/opus' is not of kind 'video'"
    );
    let vp8 = video_consumer("1", "video/VP8", 101, json!({}));
    assert_eq!(
        err(
            &mut remote,
            &vp8,
            MediaKind::Video,
            "b",
            &[codec("audio/opus", 100, 48000, Some(2), json!({}), &[])]
        ),
        "codec.mimeType 'audio/opus' is not of kind 'video'"
    );
    let mut no_codec = audio_consumer("1");
    no_codec.codecs.clear();
    assert_eq!(
        err(&mut remote, &no_codec, MediaKind::Audio, "b", &[]),
        "offerRtpParameters.codecs is empty"
    );
    let mut no_encoding = audio_consumer("1");
    no_encoding.encodings.clear();
    assert_eq!(
        err(&mut remote, &no_encoding, MediaKind::Audio, "b", &[]),
        "offerRtpParameters.encodings is empty"
    );
    let mut twice = vp8.clone();
    twice.codecs[1].payload_type = 101;
    assert_eq!(
        err(&mut remote, &twice, MediaKind::Video, "b", &[]),
        "payload type 101 appears twice in offerRtpParameters.codecs"
    );
    let mut bad_mime = audio_consumer("1");
    bad_mime.codecs[0].mime_type = "opus".into();
    assert_eq!(
        err(&mut remote, &bad_mime, MediaKind::Audio, "b", &[]),
        "invalid codec.mimeType 'opus'"
    );
    for track in ["", "two words", "line\nbreak"] {
        assert!(
            err(
                &mut remote,
                &audio_consumer("1"),
                MediaKind::Audio,
                track,
                &[]
            )
            .starts_with("invalid msid track id"),
            "{track:?}"
        );
    }
    let mut spaced_stream = audio_consumer("1");
    spaced_stream.rtcp.cname = Some("a b".into());
    assert_eq!(
        err(&mut remote, &spaced_stream, MediaKind::Audio, "b", &[]),
        "invalid msid stream id 'a b': empty or holds whitespace"
    );
    let mut spaced_mid = audio_consumer("1 2");
    spaced_mid.rtcp.cname = Some("c".into());
    assert_eq!(
        err(&mut remote, &spaced_mid, MediaKind::Audio, "b", &[]),
        "invalid mid '1 2': empty or holds whitespace"
    );
    assert_eq!(remote.sections.len(), before);
}

/// A consumer without RTX (mediasoup's `enableRtx: false`): the extras' RTX of its codec is
/// listed all the same, since it repairs the very codec on that payload type.
#[test]
fn extra_rtx_of_the_consumers_own_codec() {
    let mut vp8 = video_consumer("0", "video/VP8", 101, json!({}));
    vp8.codecs.truncate(1);
    vp8.encodings[0].rtx = None;
    let mut remote = remote(true);
    receive(&mut remote, &vp8, MediaKind::Video, "v", &video_extras()).unwrap();
    let lines = section(&sdp_of(&mut remote), 0);
    assert_eq!(formats(&lines), ["101", "102", "103", "104"]);
    assert!(lines.contains(&"a=fmtp:102 apt=101".to_owned()));
}
