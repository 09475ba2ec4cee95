//! The offers `RemoteSdp::receive` writes must be answered by webrtc-rs 0.21's sans-IO
//! PeerConnection (the one the handler drives): set_remote_description(offer), create_answer
//! and set_local_description succeed, and the answer receives each consumer's codec in the
//! section of its mid.
//!
//! The PeerConnection has the handler's codec table (a copy of msc-handler's
//! `setup::media_engine()`, which msc-sdp cannot reach). Consumers are built as mediasoup
//! builds them from the device's receive capabilities: the native capabilities of that table
//! (read from its own offer) against the router capabilities of msc-ortc's fixture (opus 100,
//! VP8 101 + RTX 102, H264 42e01f 103 + RTX 104).

use std::time::Instant;

use msc_ortc::{
    get_extended_rtp_capabilities, get_recv_rtp_capabilities, receivable_codecs,
    validate_and_normalize_rtp_capabilities, DtlsFingerprint, DtlsParameters, DtlsRole,
    IceCandidate, IceParameters, MediaKind, RtcpParameters, RtpCapabilities, RtpCodecParameters,
    RtpEncodingParameters, RtpHeaderExtensionParameters, RtpParameters, RtxParameters,
    SctpParameters,
};
use msc_sdp::{
    answer_dtls_role, extract_rtp_capabilities, media_by_mid, parse_sdp, MediaDescription,
    RecvParams, RemoteSdp, SessionDescription,
};
use rtc::peer_connection::configuration::media_engine::{
    MediaEngine, MIME_TYPE_AV1, MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_RTX, MIME_TYPE_VP8,
    MIME_TYPE_VP9,
};
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::configuration::{
    RTCBundlePolicy, RTCConfigurationBuilder, RTCRtcpMuxPolicy,
};
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::transport::RTCDtlsRole;
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpHeaderExtensionCapability, RtpCodecKind,
};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};

const MID_URI: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
const RID_URI: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
const RRID_URI: &str = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
const AUDIO_LEVEL_URI: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
const TRANSPORT_CC_URI: &str =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

// ---- The handler's PeerConnection ----

fn fb(typ: &str, parameter: &str) -> RTCPFeedback {
    RTCPFeedback {
        typ: typ.to_owned(),
        parameter: parameter.to_owned(),
    }
}

fn codec(mime: &str, pt: u8, rate: u32, channels: u16, fmtp: &str) -> RTCRtpCodecParameters {
    let rtcp_feedback = if mime == MIME_TYPE_RTX {
        vec![]
    } else if mime == MIME_TYPE_OPUS {
        vec![fb("transport-cc", "")]
    } else {
        vec![
            fb("goog-remb", ""),
            fb("transport-cc", ""),
            fb("ccm", "fir"),
            fb("nack", ""),
            fb("nack", "pli"),
        ]
    };
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: mime.to_owned(),
            clock_rate: rate,
            channels,
            sdp_fmtp_line: fmtp.to_owned(),
            rtcp_feedback,
        },
        payload_type: pt,
    }
}

/// msc-handler's codec table and header extensions (`setup::media_engine()`).
fn media_engine() -> MediaEngine {
    let h264 = |pt: u8, mode: u8, plid: &str| {
        codec(
            MIME_TYPE_H264,
            pt,
            90000,
            0,
            &format!("level-asymmetry-allowed=1;packetization-mode={mode};profile-level-id={plid}"),
        )
    };
    let rtx = |pt: u8, apt: u8| codec(MIME_TYPE_RTX, pt, 90000, 0, &format!("apt={apt}"));
    let mut engine = MediaEngine::default();
    let audio = [codec(
        MIME_TYPE_OPUS,
        111,
        48000,
        2,
        "minptime=10;useinbandfec=1",
    )];
    let video = [
        codec(MIME_TYPE_VP8, 96, 90000, 0, ""),
        rtx(97, 96),
        codec(MIME_TYPE_VP9, 98, 90000, 0, "profile-id=0"),
        rtx(99, 98),
        codec(MIME_TYPE_VP9, 100, 90000, 0, "profile-id=2"),
        rtx(101, 100),
        h264(102, 1, "42e01f"),
        rtx(103, 102),
        h264(104, 0, "42e01f"),
        rtx(105, 104),
        h264(106, 1, "4d001f"),
        rtx(107, 106),
        h264(108, 1, "640032"),
        rtx(109, 108),
        codec(MIME_TYPE_AV1, 45, 90000, 0, ""),
        rtx(46, 45),
    ];
    for (kind, codecs, uris) in [
        (
            RtpCodecKind::Audio,
            &audio[..],
            &[MID_URI, AUDIO_LEVEL_URI, TRANSPORT_CC_URI][..],
        ),
        (
            RtpCodecKind::Video,
            &video[..],
            &[MID_URI, RID_URI, RRID_URI, TRANSPORT_CC_URI][..],
        ),
    ] {
        for codec in codecs {
            engine.register_codec(codec.clone(), kind).unwrap();
        }
        for uri in uris {
            engine
                .register_header_extension(
                    RTCRtpHeaderExtensionCapability {
                        uri: (*uri).to_owned(),
                    },
                    kind,
                    None,
                )
                .unwrap();
        }
    }
    engine
}

/// A PeerConnection as the handler configures one (max-bundle, rtcp-mux required), answering
/// with `answering_role` when given.
fn peer_connection(answering_role: Option<RTCDtlsRole>) -> RTCPeerConnection {
    let mut setting_engine = SettingEngineBuilder::new();
    if let Some(role) = answering_role {
        setting_engine = setting_engine.with_answering_dtls_role(role);
    }
    RTCPeerConnectionBuilder::new()
        .with_media_engine(media_engine())
        .with_setting_engine(setting_engine.build())
        .with_configuration(
            RTCConfigurationBuilder::new()
                .with_bundle_policy(RTCBundlePolicy::MaxBundle)
                .with_rtcp_mux_policy(RTCRtcpMuxPolicy::Require)
                .build(),
        )
        .build(Instant::now())
        .unwrap()
}

/// The receiving transport's PeerConnection: DTLS client, as mediasoup-client's first answer.
fn answerer() -> RTCPeerConnection {
    peer_connection(Some(RTCDtlsRole::Client))
}

/// What the handler's PeerConnection can receive, read from its own offer (as the device does).
fn native_capabilities() -> RtpCapabilities {
    let mut pc = peer_connection(None);
    for kind in [RtpCodecKind::Audio, RtpCodecKind::Video] {
        pc.add_transceiver_from_kind(
            kind,
            Some(RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Recvonly,
                streams: vec![],
                send_encodings: vec![],
            }),
        )
        .unwrap();
    }
    let offer = pc.create_offer(None).unwrap();
    extract_rtp_capabilities(&parse_sdp(&offer.sdp).unwrap())
}

// ---- The server side ----

/// The device's receive capabilities and extended capabilities against the fixture router.
struct Device {
    recv: RtpCapabilities,
    extended: msc_ortc::ExtendedRtpCapabilities,
}

fn device() -> Device {
    let mut router: serde_json::Value = serde_json::from_str(include_str!(
        "../../ortc/tests/fixtures/router_rtp_capabilities.json"
    ))
    .unwrap();
    let router = validate_and_normalize_rtp_capabilities(&mut router).unwrap();
    let extended = get_extended_rtp_capabilities(&native_capabilities(), &router).unwrap();
    Device {
        recv: get_recv_rtp_capabilities(&extended),
        extended,
    }
}

impl Device {
    /// A consumer of the router codec `mime` as mediasoup builds it for this device: the codec
    /// and its RTX on the router's payload types with the device's RTCP feedback (transport-cc
    /// in use, so no goog-remb), the device's header extensions of the kind (the router's ids),
    /// one encoding with SSRC and RTX SSRC, a cname.
    fn consumer(&self, mid: &str, kind: MediaKind, mime: &str, ssrc: u32) -> RtpParameters {
        let all = receivable_codecs(kind, &self.extended);
        let media = all
            .iter()
            .find(|c| c.mime_type.eq_ignore_ascii_case(mime))
            .unwrap_or_else(|| panic!("the device cannot receive {mime}"));
        let mut codecs: Vec<RtpCodecParameters> = vec![media.clone()];
        codecs.extend(
            all.iter()
                .filter(|c| {
                    c.mime_type.ends_with("/rtx")
                        && c.parameters["apt"].as_u64() == Some(media.payload_type.into())
                })
                .cloned(),
        );
        for codec in &mut codecs {
            codec.rtcp_feedback.retain(|fb| fb.kind != "goog-remb");
        }
        let rtx = (codecs.len() > 1).then_some(RtxParameters { ssrc: ssrc + 1 });
        RtpParameters {
            mid: Some(mid.to_owned()),
            codecs,
            header_extensions: self
                .recv
                .header_extensions
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| RtpHeaderExtensionParameters {
                    uri: e.uri.clone(),
                    id: e.preferred_id,
                    encrypt: false,
                    parameters: Default::default(),
                })
                .collect(),
            encodings: vec![RtpEncodingParameters {
                ssrc: Some(ssrc),
                rtx,
                ..Default::default()
            }],
            rtcp: RtcpParameters {
                cname: Some(format!("cname-{ssrc}")),
                reduced_size: Some(true),
                mux: None,
            },
        }
    }
}

fn server_remote_sdp() -> RemoteSdp {
    let fingerprint = (0..32)
        .map(|i| format!("{:02X}", i * 7 % 256))
        .collect::<Vec<_>>()
        .join(":");
    RemoteSdp::new(
        IceParameters {
            username_fragment: "srvufrag0123456789".into(),
            password: "srvpassword0123456789abcd".into(),
            ice_lite: Some(true),
        },
        vec![IceCandidate {
            foundation: "udpcandidate".into(),
            priority: 1076302079,
            address: "127.0.0.1".into(),
            protocol: "udp".into(),
            port: 40000,
            kind: "host".into(),
            tcp_type: None,
        }],
        DtlsParameters {
            role: Some(DtlsRole::Auto),
            fingerprints: vec![DtlsFingerprint {
                algorithm: "sha-256".into(),
                value: fingerprint,
            }],
        },
        Some(SctpParameters {
            port: 5000,
            os: 1024,
            mis: 1024,
            max_message_size: 262144,
        }),
    )
    .unwrap()
}

/// `RemoteSdp::receive` for a consumer, with every receivable codec of its kind as extras
/// (what the handler passes) or none.
fn receive(
    remote: &mut RemoteSdp,
    device: &Device,
    params: &RtpParameters,
    kind: MediaKind,
    track_id: &str,
    with_extras: bool,
) {
    let extras = if with_extras {
        receivable_codecs(kind, &device.extended)
    } else {
        vec![]
    };
    remote
        .receive(RecvParams {
            mid: params.mid.as_deref().unwrap(),
            kind,
            offer_rtp_parameters: params,
            stream_id: params.rtcp.cname.as_deref().unwrap(),
            track_id,
            extra_codecs: &extras,
        })
        .unwrap();
}

/// One offer/answer round: the remote SDP as offer, webrtc-rs' answer applied. Returns the
/// answer, parsed.
fn negotiate(pc: &mut RTCPeerConnection, remote: &mut RemoteSdp) -> SessionDescription {
    let offer = remote.get_sdp();
    let desc = RTCSessionDescription::offer(offer.clone()).unwrap();
    if let Err(e) = pc.set_remote_description(Instant::now(), desc) {
        panic!("webrtc-rs rejected the offer: {e}\n{offer}");
    }
    let answer = pc
        .create_answer(None)
        .unwrap_or_else(|e| panic!("create_answer failed: {e}\n{offer}"));
    let text = answer.sdp.clone();
    if let Err(e) = pc.set_local_description(Instant::now(), answer) {
        panic!("set_local_description(answer) failed: {e}\n{offer}\n{text}");
    }
    assert!(pc.pending_remote_description().is_none());
    assert!(pc.current_local_description().is_some());
    parse_sdp(&text).unwrap()
}

fn answer_section<'a>(answer: &'a SessionDescription, mid: &str) -> &'a MediaDescription {
    media_by_mid(answer, mid)
        .unwrap_or_else(|| panic!("no answer section for mid {mid}:\n{}", answer.marshal()))
}

/// The answer section of `mid` is open, recvonly, and receives payload type `pt` (on its m=
/// line with an rtpmap).
fn assert_receives(answer: &SessionDescription, mid: &str, pt: u8) {
    let media = answer_section(answer, mid);
    let text = answer.marshal();
    assert_ne!(
        media.media_name.port.value, 0,
        "mid {mid} rejected:\n{text}"
    );
    assert!(
        media.has_attribute("recvonly"),
        "mid {mid} not recvonly:\n{text}"
    );
    assert!(
        media.media_name.formats.contains(&pt.to_string())
            && media.attributes.iter().any(|a| a.key == "rtpmap"
                && a.value
                    .as_deref()
                    .is_some_and(|v| v.starts_with(&format!("{pt} ")))),
        "mid {mid} does not receive payload type {pt}:\n{text}"
    );
}

/// The mids of the PeerConnection's transceivers.
fn transceiver_mids(pc: &mut RTCPeerConnection) -> Vec<String> {
    let ids: Vec<_> = pc.get_transceivers().collect();
    ids.into_iter()
        .filter_map(|id| pc.rtp_transceiver(id).and_then(|t| t.mid().clone()))
        .collect()
}

#[test]
fn first_offer_with_audio_video_probator_and_data_channel() {
    let device = device();
    let mut pc = answerer();
    let mut remote = server_remote_sdp();
    let audio = device.consumer("0", MediaKind::Audio, "audio/opus", 1111);
    let video = device.consumer("1", MediaKind::Video, "video/VP8", 2222);
    let probator = msc_ortc::generate_probator_rtp_parameters(&video).unwrap();
    receive(
        &mut remote,
        &device,
        &audio,
        MediaKind::Audio,
        "c-audio",
        true,
    );
    receive(
        &mut remote,
        &device,
        &video,
        MediaKind::Video,
        "c-video",
        true,
    );
    receive(
        &mut remote,
        &device,
        &probator,
        MediaKind::Video,
        "probator",
        true,
    );
    remote.receive_sctp_association().unwrap();

    let answer = negotiate(&mut pc, &mut remote);
    assert_receives(&answer, "0", 100);
    assert_receives(&answer, "1", 101);
    assert_receives(&answer, "1", 102);
    let probator_section = answer_section(&answer, "probator");
    assert_ne!(probator_section.media_name.port.value, 0);
    assert!(probator_section.has_attribute("recvonly"));
    let data = answer_section(&answer, "datachannel");
    assert_eq!(data.media_name.protos, ["UDP", "DTLS", "SCTP"]);
    assert!(data.has_attribute("sctp-port"));
    assert!(answer
        .attribute("group")
        .is_some_and(|g| g == "BUNDLE 0 1 probator datachannel"));
    assert_eq!(answer_dtls_role(&answer), Ok(DtlsRole::Client));
    assert_eq!(transceiver_mids(&mut pc), ["0", "1", "probator"]);
}

/// webrtc-rs' default answering role against an ICE-lite offer is the DTLS server
/// (`a=setup:passive`): the handler must set the answering role (or report `server` in
/// `connect`); `answer_dtls_role` reads either.
#[test]
fn default_answer_to_an_ice_lite_offer_is_dtls_server() {
    let device = device();
    let mut pc = peer_connection(None);
    let mut remote = server_remote_sdp();
    let audio = device.consumer("0", MediaKind::Audio, "audio/opus", 1111);
    receive(
        &mut remote,
        &device,
        &audio,
        MediaKind::Audio,
        "c-audio",
        true,
    );
    let answer = negotiate(&mut pc, &mut remote);
    assert_eq!(answer_dtls_role(&answer), Ok(DtlsRole::Server));
}

/// webrtc-rs fixes the codecs of a kind by the first remote section of that kind: an H264
/// consumer after a VP8 one negotiates only because the VP8 section listed H264 too.
#[test]
fn second_consumer_of_another_codec() {
    let device = device();
    for with_extras in [true, false] {
        let mut pc = answerer();
        let mut remote = server_remote_sdp();
        let vp8 = device.consumer("0", MediaKind::Video, "video/VP8", 2222);
        receive(
            &mut remote,
            &device,
            &vp8,
            MediaKind::Video,
            "c-vp8",
            with_extras,
        );
        let answer = negotiate(&mut pc, &mut remote);
        assert_receives(&answer, "0", 101);

        let h264 = device.consumer("1", MediaKind::Video, "video/H264", 3333);
        receive(
            &mut remote,
            &device,
            &h264,
            MediaKind::Video,
            "c-h264",
            with_extras,
        );
        let answer = negotiate(&mut pc, &mut remote);
        assert_receives(&answer, "0", 101);
        if with_extras {
            assert_receives(&answer, "1", 103);
            assert_receives(&answer, "1", 104);
        } else {
            // The trap this guards against: H264 is not receivable on this transport.
            let section = answer_section(&answer, "1");
            assert!(
                !section.media_name.formats.contains(&"103".to_owned()),
                "webrtc-rs took a codec that was not in the first video section:\n{}",
                answer.marshal()
            );
        }
    }
}

#[test]
fn closed_sections_are_reused_across_negotiations() {
    let device = device();
    let mut pc = answerer();
    let mut remote = server_remote_sdp();
    let audio0 = device.consumer("0", MediaKind::Audio, "audio/opus", 1000);
    let video1 = device.consumer("1", MediaKind::Video, "video/VP8", 2000);
    let audio2 = device.consumer("2", MediaKind::Audio, "audio/opus", 3000);
    receive(&mut remote, &device, &audio0, MediaKind::Audio, "c0", true);
    receive(&mut remote, &device, &video1, MediaKind::Video, "c1", true);
    receive(&mut remote, &device, &audio2, MediaKind::Audio, "c2", true);
    negotiate(&mut pc, &mut remote);

    // stopReceiving the video consumer: its section is closed and renegotiated.
    assert!(remote.close_media_section("1").unwrap());
    let answer = negotiate(&mut pc, &mut remote);
    assert_eq!(answer_section(&answer, "1").media_name.port.value, 0);
    assert_receives(&answer, "0", 100);
    assert_receives(&answer, "2", 100);

    // A new consumer (of another codec) takes the closed section's place.
    let h264 = device.consumer("3", MediaKind::Video, "video/H264", 4000);
    receive(&mut remote, &device, &h264, MediaKind::Video, "c3", true);
    let answer = negotiate(&mut pc, &mut remote);
    assert_eq!(answer.media_descriptions.len(), 3);
    assert_receives(&answer, "3", 103);
    assert!(media_by_mid(&answer, "1").is_none());
    assert!(answer
        .attribute("group")
        .is_some_and(|g| g == "BUNDLE 0 3 2"));
    // And one of the other kind takes it again.
    let audio4 = device.consumer("4", MediaKind::Audio, "audio/opus", 5000);
    assert!(remote.close_media_section("3").unwrap());
    negotiate(&mut pc, &mut remote);
    receive(&mut remote, &device, &audio4, MediaKind::Audio, "c4", true);
    let answer = negotiate(&mut pc, &mut remote);
    assert_receives(&answer, "4", 100);
    // webrtc-rs keeps the transceivers of closed sections: every mid ever offered is there.
    assert_eq!(transceiver_mids(&mut pc), ["0", "1", "2", "3", "4"]);

    // The first section is never closed, only made inactive.
    assert!(!remote.close_media_section("0").unwrap());
    let answer = negotiate(&mut pc, &mut remote);
    let first = answer_section(&answer, "0");
    assert_ne!(first.media_name.port.value, 0);
    assert!(first.has_attribute("inactive"), "{}", answer.marshal());
}

/// `restartIce()` on a receiving transport: the server's new ICE credentials go into a new
/// offer, which webrtc-rs answers with new credentials of its own.
#[test]
fn ice_restart_offer() {
    let device = device();
    let mut pc = answerer();
    let mut remote = server_remote_sdp();
    let audio = device.consumer("0", MediaKind::Audio, "audio/opus", 1111);
    receive(
        &mut remote,
        &device,
        &audio,
        MediaKind::Audio,
        "c-audio",
        true,
    );
    let first = negotiate(&mut pc, &mut remote);
    remote.update_ice_parameters(IceParameters {
        username_fragment: "srvufragrestarted0".into(),
        password: "srvpasswordrestarted01234".into(),
        ice_lite: Some(true),
    });
    let second = negotiate(&mut pc, &mut remote);
    let ufrag = |answer: &SessionDescription| {
        answer_section(answer, "0")
            .attribute("ice-ufrag")
            .flatten()
            .map(str::to_owned)
    };
    assert!(ufrag(&first).is_some());
    assert_ne!(ufrag(&first), ufrag(&second), "{}", second.marshal());
    assert_receives(&second, "0", 100);
    assert_eq!(answer_dtls_role(&second), Ok(DtlsRole::Client));
}

/// webrtc-rs takes the codecs of a kind from the first remote section of that kind even when
/// that section is rejected (port 0): a consumer closed before its section was ever negotiated
/// must not leave the kind without codecs for the next one.
#[test]
fn a_section_closed_before_its_first_negotiation_keeps_the_kinds_codecs() {
    let device = device();
    let mut pc = answerer();
    let mut remote = server_remote_sdp();
    let audio = device.consumer("0", MediaKind::Audio, "audio/opus", 1000);
    let gone = device.consumer("1", MediaKind::Video, "video/VP8", 2000);
    let h264 = device.consumer("2", MediaKind::Video, "video/H264", 3000);
    receive(&mut remote, &device, &audio, MediaKind::Audio, "c0", true);
    receive(&mut remote, &device, &gone, MediaKind::Video, "c1", true);
    receive(&mut remote, &device, &h264, MediaKind::Video, "c2", true);
    assert!(remote.close_media_section("1").unwrap());
    let answer = negotiate(&mut pc, &mut remote);
    assert_eq!(answer_section(&answer, "1").media_name.port.value, 0);
    assert_receives(&answer, "2", 103);
    // And the next consumer of the kind, of another codec, in the closed section's place.
    let vp8 = device.consumer("3", MediaKind::Video, "video/VP8", 4000);
    receive(&mut remote, &device, &vp8, MediaKind::Video, "c3", true);
    let answer = negotiate(&mut pc, &mut remote);
    assert_receives(&answer, "3", 101);
    assert_receives(&answer, "2", 103);
}

/// When the probator's section is the first video section webrtc-rs sees (its video consumer
/// closed before the first negotiation, its place taken), the consumers of its codec still
/// receive it on the router's payload type, not on the probator's 127.
#[test]
fn probator_as_the_first_video_section() {
    let device = device();
    let mut pc = answerer();
    let mut remote = server_remote_sdp();
    let audio = device.consumer("0", MediaKind::Audio, "audio/opus", 1000);
    let vp8 = device.consumer("1", MediaKind::Video, "video/VP8", 2000);
    let probator = msc_ortc::generate_probator_rtp_parameters(&vp8).unwrap();
    receive(&mut remote, &device, &audio, MediaKind::Audio, "c0", true);
    receive(
        &mut remote,
        &device,
        &probator,
        MediaKind::Video,
        "probator",
        true,
    );
    receive(&mut remote, &device, &vp8, MediaKind::Video, "c1", true);
    let answer = negotiate(&mut pc, &mut remote);
    assert_receives(&answer, "1", 101);
    assert_receives(&answer, "1", 102);
    assert_receives(&answer, "probator", 101);
}

#[derive(Debug, Clone)]
enum Step {
    /// A consumer of the device's receivable codec `codec` (an index into opus, VP8, H264).
    Consume(proptest::sample::Index),
    /// Close the section of an open consumer (an index into them, in creation order).
    Close(proptest::sample::Index),
    /// The data channel section (once).
    Data,
    /// One offer/answer round.
    Negotiate,
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        3 => any::<proptest::sample::Index>().prop_map(Step::Consume),
        2 => any::<proptest::sample::Index>().prop_map(Step::Close),
        2 => Just(Step::Negotiate),
        1 => Just(Step::Data),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(48),
        failure_persistence: None,
        ..Default::default()
    })]

    /// Any sequence of consumers (audio, VP8, H264 in any order; the probator with the first
    /// video one, as mediasoup-client adds it), closings and the data channel section,
    /// negotiated at any points: webrtc-rs takes every offer, and after each round every open
    /// consumer's section receives its codec, every closed one is rejected or gone.
    #[test]
    fn random_consume_and_close_sequences(steps in proptest::collection::vec(step(), 1..16)) {
        let device = device();
        let mut pc = answerer();
        let mut remote = server_remote_sdp();
        let codecs = [
            (MediaKind::Audio, "audio/opus", 100u8),
            (MediaKind::Video, "video/VP8", 101),
            (MediaKind::Video, "video/H264", 103),
        ];
        // (mid, payload type) of open consumers; mids of closed ones; mids that went through
        // a negotiation while open.
        let mut open: Vec<(String, u8)> = Vec::new();
        let mut closed: Vec<String> = Vec::new();
        let mut negotiated = std::collections::HashSet::new();
        let mut next_mid = 0u32;
        let (mut probator, mut data) = (false, false);
        for step in steps.into_iter().chain([Step::Negotiate]) {
            match step {
                Step::Consume(index) => {
                    let (kind, mime, pt) = codecs[index.index(codecs.len())];
                    let mid = next_mid.to_string();
                    next_mid += 1;
                    let params = device.consumer(&mid, kind, mime, 10_000 + 10 * next_mid);
                    receive(&mut remote, &device, &params, kind, &format!("c{mid}"), true);
                    open.push((mid, pt));
                    if kind == MediaKind::Video && !probator {
                        let params = msc_ortc::generate_probator_rtp_parameters(&params).unwrap();
                        receive(&mut remote, &device, &params, kind, "probator", true);
                        probator = true;
                    }
                }
                Step::Data if !data => {
                    remote.receive_sctp_association().unwrap();
                    data = true;
                }
                Step::Data => {}
                Step::Close(index) if !open.is_empty() => {
                    let (mid, _) = open.remove(index.index(open.len()));
                    // Closed (port 0), or, for the first section, made inactive.
                    remote.close_media_section(&mid).unwrap();
                    closed.push(mid);
                }
                Step::Close(_) => {}
                Step::Negotiate => {
                    if open.is_empty() && closed.is_empty() && !data {
                        continue;
                    }
                    let answer = negotiate(&mut pc, &mut remote);
                    if probator {
                        let section = answer_section(&answer, "probator");
                        proptest::prop_assert!(
                            section.media_name.port.value != 0 && section.has_attribute("recvonly"),
                            "probator:\n{}", answer.marshal()
                        );
                    }
                    if data {
                        proptest::prop_assert_ne!(
                            answer_section(&answer, "datachannel").media_name.port.value, 0
                        );
                    }
                    for (mid, pt) in &open {
                        assert_receives(&answer, mid, *pt);
                        negotiated.insert(mid.clone());
                    }
                    for mid in &closed {
                        let Some(section) = media_by_mid(&answer, mid) else {
                            continue;
                        };
                        // webrtc-rs answers an inactive section it has no transceiver for
                        // with a new recvonly one (not inactive, as RFC 3264 wants): only a
                        // first section disabled before its first negotiation gets there.
                        let quirk = !negotiated.contains(mid) && section.has_attribute("recvonly");
                        proptest::prop_assert!(
                            section.media_name.port.value == 0
                                || section.has_attribute("inactive")
                                || quirk,
                            "mid {} still receives:\n{}", mid, answer.marshal()
                        );
                    }
                }
            }
        }
    }
}
