//! The answers RemoteSdp writes must be taken by webrtc-rs 0.21 as a remote description.
//!
//! A real PeerConnection (loopback only, no STUN, nothing sent) makes the offers; the answers
//! come from fake ICE-lite server parameters on 127.0.0.1, as the client layer will build them.

use std::sync::Arc;

use msc_ortc::{
    DtlsFingerprint, DtlsParameters, DtlsRole, IceCandidate, IceParameters, MediaKind,
    RtpCodecParameters, RtpHeaderExtensionParameters, RtpParameters, SctpParameters,
};
use msc_sdp::{
    extract_dtls_parameters, extract_rtp_capabilities, get_cname, get_rtp_encodings, parse_sdp,
    CodecOptions, RemoteSdp, SendParams,
};
use rtc::peer_connection::configuration::RTCOfferOptions;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCSdpType,
    RTCSessionDescription,
};
use webrtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};

struct NoEvents;
#[async_trait::async_trait]
impl PeerConnectionEventHandler for NoEvents {}

async fn peer_connection() -> impl PeerConnection {
    let mut media_engine = MediaEngine::default();
    media_engine.register_default_codecs().unwrap();
    PeerConnectionBuilder::new()
        .with_media_engine(media_engine)
        .with_handler(Arc::new(NoEvents))
        .with_udp_addrs(vec!["127.0.0.1:0"])
        .build()
        .await
        .unwrap()
}

fn server_remote_sdp() -> RemoteSdp {
    let fingerprint = (0..32)
        .map(|i| format!("{:02X}", i * 7 % 256))
        .collect::<Vec<_>>()
        .join(":");
    let mut remote = RemoteSdp::new(
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
    .unwrap();
    // We are the DTLS client, so the server is the DTLS server: a=setup:passive.
    remote.update_dtls_role(DtlsRole::Server);
    remote
}

fn send_init(encodings: Vec<RTCRtpEncodingParameters>) -> RTCRtpTransceiverInit {
    RTCRtpTransceiverInit {
        direction: RTCRtpTransceiverDirection::Sendonly,
        streams: vec![],
        send_encodings: encodings,
    }
}

fn encoding(
    mime_type: &str,
    clock_rate: u32,
    channels: u16,
    rid: &str,
) -> RTCRtpEncodingParameters {
    RTCRtpEncodingParameters {
        rtp_coding_parameters: RTCRtpCodingParameters {
            rid: rid.to_owned(),
            ssrc: if rid.is_empty() {
                Some(rand_ssrc())
            } else {
                None
            },
            ..Default::default()
        },
        active: true,
        codec: RTCRtpCodec {
            mime_type: mime_type.to_owned(),
            clock_rate,
            channels,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn rand_ssrc() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        | 1
}

/// The sending parameters for one codec (and its RTX) of the offer, ids as the offer has them,
/// standing in for what the ortc layer computes.
fn sending_parameters(
    offer: &msc_sdp::SessionDescription,
    kind: MediaKind,
    mime_type: &str,
) -> RtpParameters {
    let caps = extract_rtp_capabilities(offer);
    let codec = caps
        .codecs
        .iter()
        .find(|c| c.mime_type.eq_ignore_ascii_case(mime_type))
        .unwrap_or_else(|| panic!("offer has no {mime_type}"));
    let pt = codec.preferred_payload_type.unwrap();
    let mut codecs = vec![RtpCodecParameters {
        mime_type: codec.mime_type.clone(),
        payload_type: pt,
        clock_rate: codec.clock_rate,
        channels: codec.channels,
        parameters: codec.parameters.clone(),
        rtcp_feedback: codec.rtcp_feedback.clone(),
    }];
    if let Some(rtx) = caps.codecs.iter().find(|c| {
        c.mime_type.ends_with("/rtx")
            && c.parameters.get("apt").and_then(|v| v.as_u64()) == Some(pt.into())
    }) {
        codecs.push(RtpCodecParameters {
            mime_type: rtx.mime_type.clone(),
            payload_type: rtx.preferred_payload_type.unwrap(),
            clock_rate: rtx.clock_rate,
            channels: None,
            parameters: rtx.parameters.clone(),
            rtcp_feedback: vec![],
        });
    }
    RtpParameters {
        mid: None,
        codecs,
        header_extensions: caps
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
        encodings: vec![],
        rtcp: Default::default(),
    }
}

/// create_offer + set_local_description; returns the local SDP as webrtc-rs wrote it.
async fn local_offer(pc: &impl PeerConnection) -> String {
    let offer = pc.create_offer(None).await.unwrap();
    pc.set_local_description(offer).await.unwrap();
    pc.local_description().await.unwrap().sdp
}

async fn set_answer(pc: &impl PeerConnection, answer: String) {
    let desc = RTCSessionDescription::answer(answer.clone()).unwrap();
    assert_eq!(desc.sdp_type, RTCSdpType::Answer);
    if let Err(e) = pc.set_remote_description(desc).await {
        panic!("webrtc-rs rejected the answer: {e}\n{answer}");
    }
    // Back to stable: the answer is current and no offer is pending.
    assert!(pc.current_remote_description().await.is_some());
    assert!(pc.pending_local_description().await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sendonly_video_section() {
    let pc = peer_connection().await;
    pc.add_transceiver_from_kind(
        RtpCodecKind::Video,
        Some(send_init(vec![encoding("video/VP8", 90000, 0, "")])),
    )
    .await
    .unwrap();
    let local = local_offer(&pc).await;
    let offer = parse_sdp(&local).unwrap();

    let dtls = extract_dtls_parameters(&offer).unwrap();
    assert_eq!(dtls.role, Some(DtlsRole::Auto));
    assert_eq!(dtls.fingerprints.len(), 1);
    let media = &offer.media_descriptions[0];
    assert!(
        get_cname(media).is_some(),
        "webrtc-rs writes a cname:\n{local}"
    );
    assert!(!get_rtp_encodings(media).unwrap().is_empty());

    let mut remote = server_remote_sdp();
    let idx = remote.next_media_section_idx();
    let params = sending_parameters(&offer, MediaKind::Video, "video/VP8");
    remote
        .send(SendParams {
            offer_media: &offer.media_descriptions[idx.idx],
            reuse_mid: idx.reuse_mid,
            offer_rtp_parameters: &params,
            answer_rtp_parameters: &params,
            codec_options: Some(&CodecOptions {
                video_google_start_bitrate: Some(1000),
                ..Default::default()
            }),
        })
        .unwrap();
    set_answer(&pc, remote.get_sdp()).await;

    // ICE restart: a new offer with new credentials, answered with the server's new ones.
    let restart = pc
        .create_offer(Some(RTCOfferOptions { ice_restart: true }))
        .await
        .unwrap();
    pc.set_local_description(restart).await.unwrap();
    remote.update_ice_parameters(IceParameters {
        username_fragment: "srvufragrestarted0".into(),
        password: "srvpasswordrestarted01234".into(),
        ice_lite: Some(true),
    });
    let answer = remote.get_sdp();
    assert!(answer.contains("a=ice-ufrag:srvufragrestarted0\r\n"));
    set_answer(&pc, answer).await;
    pc.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_video_and_data_then_close_a_section() {
    let pc = peer_connection().await;
    let mut remote = server_remote_sdp();

    pc.add_transceiver_from_kind(
        RtpCodecKind::Audio,
        Some(send_init(vec![encoding("audio/opus", 48000, 2, "")])),
    )
    .await
    .unwrap();
    let video = pc
        .add_transceiver_from_kind(
            RtpCodecKind::Video,
            Some(send_init(vec![encoding("video/VP8", 90000, 0, "")])),
        )
        .await
        .unwrap();
    pc.create_data_channel("chat", None).await.unwrap();
    let local = local_offer(&pc).await;
    let offer = parse_sdp(&local).unwrap();
    assert_eq!(offer.media_descriptions.len(), 3, "{local}");

    let audio = sending_parameters(&offer, MediaKind::Audio, "audio/opus");
    let mut audio_sent = audio.clone();
    let options = CodecOptions {
        opus_stereo: Some(true),
        opus_dtx: Some(true),
        ..Default::default()
    };
    options.apply_to_offer_parameters(&mut audio_sent);
    remote
        .send(SendParams {
            offer_media: &offer.media_descriptions[0],
            reuse_mid: None,
            offer_rtp_parameters: &audio_sent,
            answer_rtp_parameters: &audio,
            codec_options: Some(&options),
        })
        .unwrap();
    let video_params = sending_parameters(&offer, MediaKind::Video, "video/VP8");
    remote
        .send(SendParams {
            offer_media: &offer.media_descriptions[1],
            reuse_mid: None,
            offer_rtp_parameters: &video_params,
            answer_rtp_parameters: &video_params,
            codec_options: None,
        })
        .unwrap();
    remote
        .send_sctp_association(&offer.media_descriptions[2])
        .unwrap();
    set_answer(&pc, remote.get_sdp()).await;

    // stopSending on the video producer: close its section, stop the transceiver, renegotiate.
    let mid = video.mid().await.unwrap().expect("negotiated mid");
    assert!(remote.close_media_section(&mid).unwrap());
    video.stop().await.unwrap();
    local_offer(&pc).await;
    set_answer(&pc, remote.get_sdp()).await;

    // A new producer. webrtc-rs 0.21 does not recycle the stopped transceiver's m= section (it
    // stays in the offer, inactive): the new one is appended, so the answer must append too
    // (no reuse_mid) and the offer section is found by its mid, not by next_media_section_idx.
    let second = pc
        .add_transceiver_from_kind(
            RtpCodecKind::Video,
            Some(send_init(vec![encoding("video/VP8", 90000, 0, "")])),
        )
        .await
        .unwrap();
    let local = local_offer(&pc).await;
    let offer = parse_sdp(&local).unwrap();
    assert_eq!(offer.media_descriptions.len(), 4, "{local}");
    let second_mid = second.mid().await.unwrap().expect("mid");
    let offer_media = offer
        .media_descriptions
        .iter()
        .find(|m| m.attribute("mid").flatten() == Some(second_mid.as_str()))
        .unwrap();
    remote
        .send(SendParams {
            offer_media,
            reuse_mid: None,
            offer_rtp_parameters: &video_params,
            answer_rtp_parameters: &video_params,
            codec_options: None,
        })
        .unwrap();
    let answer = remote.get_sdp();
    assert!(answer.contains("a=group:BUNDLE 0 2 3\r\n"), "{answer}");
    set_answer(&pc, answer).await;
    pc.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulcast_answer_with_recv_rids() {
    let pc = peer_connection().await;
    let encodings = ["r0", "r1", "r2"]
        .iter()
        .map(|rid| encoding("video/VP8", 90000, 0, rid))
        .collect();
    pc.add_transceiver_from_kind(RtpCodecKind::Video, Some(send_init(encodings)))
        .await
        .unwrap();
    let local = local_offer(&pc).await;
    let offer = parse_sdp(&local).unwrap();
    assert!(local.contains("a=simulcast:send r0;r1;r2"), "{local}");

    let mut remote = server_remote_sdp();
    let params = sending_parameters(&offer, MediaKind::Video, "video/VP8");
    remote
        .send(SendParams {
            offer_media: &offer.media_descriptions[0],
            reuse_mid: None,
            offer_rtp_parameters: &params,
            answer_rtp_parameters: &params,
            codec_options: None,
        })
        .unwrap();
    let answer = remote.get_sdp();
    assert!(answer.contains("a=simulcast:recv r0;r1;r2\r\n"), "{answer}");
    set_answer(&pc, answer).await;
    pc.close().await.unwrap();
}
