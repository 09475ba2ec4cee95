//! How every PeerConnection of this crate is set up, whatever its direction: the codec table and
//! RTP header extensions of its media engine, its setting engine (ICE timing, mDNS off) and its
//! configuration (ICE servers, bundle, rtcp-mux). The interceptor chain is the directions' own
//! (see `send::interceptors`).
//!
//! The payload types here are the *local* ones: they appear in [`crate::native_offer_sdp`], the
//! client computes its native capabilities from that offer, and then hands the same payload types
//! back to [`crate::SendHandler::send`]. They mimic Chrome's numbering so that SDP dumps are
//! familiar, but nothing depends on that.

use rtc::ice::mdns::MulticastDnsMode;
use rtc::peer_connection::configuration::media_engine::{
    MediaEngine, MIME_TYPE_AV1, MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_RTX, MIME_TYPE_VP8,
    MIME_TYPE_VP9,
};
use rtc::peer_connection::configuration::setting_engine::SctpMaxMessageSize;
use rtc::peer_connection::configuration::RTCRtcpMuxPolicy;
use rtc::peer_connection::transport::RTCDtlsRole;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpHeaderExtensionCapability, RtpCodecKind,
};
use webrtc::peer_connection::{
    RTCBundlePolicy, RTCConfiguration, RTCConfigurationBuilder, RTCIceServer,
    RTCIceTransportPolicy, SettingEngine, SettingEngineBuilder,
};

use super::data::MAX_MESSAGE_SIZE;
use crate::error::HandlerError;
use crate::extensions::{AUDIO_LEVEL_URI, MID_URI, RID_URI, RRID_URI, TRANSPORT_CC_URI};
use crate::options::{HandlerOptions, IceServer};
use msc_ortc::DtlsFingerprint;
use rtc::peer_connection::certificate::{CertificateParams, RTCCertificate};

fn fb(typ: &str, parameter: &str) -> RTCPFeedback {
    RTCPFeedback {
        typ: typ.to_owned(),
        parameter: parameter.to_owned(),
    }
}

fn codec(
    mime_type: &str,
    payload_type: u8,
    clock_rate: u32,
    channels: u16,
    fmtp: &str,
    rtcp_feedback: Vec<RTCPFeedback>,
) -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: mime_type.to_owned(),
            clock_rate,
            channels,
            sdp_fmtp_line: fmtp.to_owned(),
            rtcp_feedback,
        },
        payload_type,
    }
}

/// Every codec this handler offers, per kind, in offer order.
///
/// Audio: opus only (the media layer has no other audio packetizer, and a PCMU that nobody feeds
/// would only confuse codec selection). Video: VP8, VP9 profile 0 and 2, H264 constrained
/// baseline (packetization-mode 1 and 0), main and high, AV1; each with an RTX codec.
pub(crate) fn codecs(kind: RtpCodecKind) -> Vec<RTCRtpCodecParameters> {
    match kind {
        RtpCodecKind::Audio => vec![codec(
            MIME_TYPE_OPUS,
            111,
            48000,
            2,
            "minptime=10;useinbandfec=1",
            vec![fb("transport-cc", "")],
        )],
        RtpCodecKind::Video => {
            let feedback = || {
                vec![
                    fb("goog-remb", ""),
                    fb("transport-cc", ""),
                    fb("ccm", "fir"),
                    fb("nack", ""),
                    fb("nack", "pli"),
                ]
            };
            let rtx =
                |pt: u8, apt: u8| codec(MIME_TYPE_RTX, pt, 90000, 0, &format!("apt={apt}"), vec![]);
            let h264 = |pt: u8, mode: u8, plid: &str| {
                codec(
                    MIME_TYPE_H264,
                    pt,
                    90000,
                    0,
                    &format!(
                        "level-asymmetry-allowed=1;packetization-mode={mode};profile-level-id={plid}"
                    ),
                    feedback(),
                )
            };
            vec![
                codec(MIME_TYPE_VP8, 96, 90000, 0, "", feedback()),
                rtx(97, 96),
                codec(MIME_TYPE_VP9, 98, 90000, 0, "profile-id=0", feedback()),
                rtx(99, 98),
                codec(MIME_TYPE_VP9, 100, 90000, 0, "profile-id=2", feedback()),
                rtx(101, 100),
                h264(102, 1, "42e01f"),
                rtx(103, 102),
                h264(104, 0, "42e01f"),
                rtx(105, 104),
                h264(106, 1, "4d001f"),
                rtx(107, 106),
                h264(108, 1, "640032"),
                rtx(109, 108),
                codec(MIME_TYPE_AV1, 45, 90000, 0, "", feedback()),
                rtx(46, 45),
            ]
        }
        _ => vec![],
    }
}

/// Header extensions offered per kind (ids are assigned by webrtc-rs in this order).
fn header_extensions(kind: RtpCodecKind) -> &'static [&'static str] {
    match kind {
        RtpCodecKind::Audio => &[MID_URI, AUDIO_LEVEL_URI, TRANSPORT_CC_URI],
        RtpCodecKind::Video => &[MID_URI, RID_URI, RRID_URI, TRANSPORT_CC_URI],
        _ => &[],
    }
}

/// A media engine holding exactly [`codecs`] and [`header_extensions`].
pub(crate) fn media_engine() -> Result<MediaEngine, HandlerError> {
    let mut engine = MediaEngine::default();
    for kind in [RtpCodecKind::Audio, RtpCodecKind::Video] {
        for codec in codecs(kind) {
            engine
                .register_codec(codec, kind)
                .map_err(HandlerError::webrtc)?;
        }
        for uri in header_extensions(kind) {
            engine
                .register_header_extension(
                    RTCRtpHeaderExtensionCapability {
                        uri: (*uri).to_owned(),
                    },
                    kind,
                    None,
                )
                .map_err(HandlerError::webrtc)?;
        }
    }
    Ok(engine)
}

/// ICE connectivity check interval, 10 ms instead of webrtc-rs' 200 ms (with 140 attempts per
/// pair instead of 7, so a pair is still given 1.4 s).
///
/// Why: when ICE selects a pair, webrtc-rs 0.21.1 creates the DTLS ClientHello
/// (`DtlsHandler::handle_event` -> `dtls_endpoint.connect`) but does not flush it; it leaves on
/// the next `handle_timeout`, i.e. the ICE agent's next check tick, so the check interval is a
/// floor under the time from "ICE connected" to "connected"
/// (`docs/performance.md#time-to-first-packet`). Only the checking phase ticks at this rate, a
/// few ms on loopback; once connected the agent ticks at the keepalive interval.
const ICE_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_millis(10);
const ICE_MAX_BINDING_REQUESTS: u16 = 140;

/// Consent freshness (RFC 7675) as browsers do it, instead of webrtc-rs' 2 s keepalive, 5 s to
/// `disconnected` and 30 s to `failed`: a binding request every second on the selected pair;
/// `disconnected` after 4 s without anything from the server (three or four unanswered
/// requests), `failed` 8 s after that (12 s of silence), which is when an application calls
/// `restartIce()`. The agent ticks at the smallest of these, so states change within 1 s of
/// their deadline (`docs/performance.md#ice-consent-timeouts`).
const ICE_KEEPALIVE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);
const ICE_DISCONNECTED_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(4);
const ICE_FAILED_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(8);

/// Settings common to every PeerConnection of this crate: mDNS off (host candidates are plain
/// IPs and remote `.local` candidates are ignored), loopback candidates allowed when asked, and
/// `a=ssrc` lines (with `ssrc-group:FID` for RTX) written even for simulcast sections, so the
/// offer names every SSRC the handler will send. When answering (a receive transport, where the server
/// offers with `a=setup:actpass`), the client is the DTLS client, as mediasoup-client is.
pub(crate) fn setting_engine(include_loopback: bool) -> SettingEngine {
    SettingEngineBuilder::new()
        .with_multicast_dns_mode(MulticastDnsMode::Disabled)
        .with_include_loopback_candidate(include_loopback)
        .with_write_ssrc_attributes_for_simulcast(true)
        .with_answering_dtls_role(RTCDtlsRole::Client)
        .with_sctp_max_message_size(SctpMaxMessageSize::Bounded(MAX_MESSAGE_SIZE as u32))
        .with_ice_connection_attempts(Some(ICE_CHECK_INTERVAL), Some(ICE_MAX_BINDING_REQUESTS))
        .with_ice_timeouts(
            Some(ICE_DISCONNECTED_TIMEOUT),
            Some(ICE_FAILED_TIMEOUT),
            Some(ICE_KEEPALIVE_INTERVAL),
        )
        .build()
}

fn ice_servers(servers: &[IceServer]) -> Vec<RTCIceServer> {
    servers
        .iter()
        .map(|s| RTCIceServer {
            urls: s.urls.clone(),
            username: s.username.clone().unwrap_or_default(),
            credential: s.credential.clone().unwrap_or_default(),
        })
        .collect()
}

/// Checks STUN/TURN servers as `RTCPeerConnection.setConfiguration()` does: each URL parses as
/// `stun:`, `stuns:`, `turn:` or `turns:` (host, optional port, `?transport=`), and a TURN URL
/// comes with a username and a credential. `InvalidArgument` names the bad server.
pub fn validate_ice_servers(servers: &[IceServer]) -> Result<(), HandlerError> {
    for (i, server) in ice_servers(servers).iter().enumerate() {
        if server.urls.is_empty() {
            return Err(HandlerError::InvalidArgument(format!(
                "iceServers[{i}] has no urls"
            )));
        }
        server.urls().map_err(|e| {
            HandlerError::InvalidArgument(format!(
                "iceServers[{i}] ({}): {e}",
                server.urls.join(", ")
            ))
        })?;
    }
    Ok(())
}

/// A DTLS certificate for a connection (ECDSA P-256, as webrtc-rs makes by default) and its
/// SHA-256 fingerprint: a connection given it can say its DTLS parameters before any
/// description is set (a receive transport connects the server before the first offer).
pub(crate) fn certificate() -> Result<(RTCCertificate, DtlsFingerprint), HandlerError> {
    let provider = rtc::crypto::default_provider().map_err(HandlerError::webrtc)?;
    let params = CertificateParams::new(vec!["mediasoup-client-native".to_owned()])
        .map_err(HandlerError::webrtc)?;
    let certificate = RTCCertificate::generate(
        provider.crypto(),
        rtc::crypto::SignatureScheme::EcdsaP256Sha256,
        params,
    )
    .map_err(HandlerError::webrtc)?;
    let fingerprint = certificate
        .get_fingerprints(provider.crypto())
        .map_err(HandlerError::webrtc)?
        .into_iter()
        .next()
        .ok_or_else(|| HandlerError::WebRtc("a certificate without a fingerprint".into()))?;
    Ok((
        certificate,
        DtlsFingerprint {
            algorithm: fingerprint.algorithm,
            // as SDP writes it (and mediasoup compares it, case included)
            value: fingerprint.value.to_ascii_uppercase(),
        },
    ))
}

/// max-bundle and rtcp-mux required, as mediasoup needs (and mediasoup-client configures).
pub(crate) fn configuration(opts: &HandlerOptions) -> RTCConfiguration {
    configuration_with(opts, vec![])
}

/// [`configuration`] with these DTLS certificates (none: webrtc-rs makes one).
pub(crate) fn configuration_with(
    opts: &HandlerOptions,
    certificates: Vec<RTCCertificate>,
) -> RTCConfiguration {
    RTCConfigurationBuilder::new()
        .with_certificates(certificates)
        .with_ice_servers(ice_servers(&opts.ice_servers))
        .with_ice_transport_policy(if opts.ice_transport_policy_relay {
            RTCIceTransportPolicy::Relay
        } else {
            RTCIceTransportPolicy::All
        })
        .with_bundle_policy(RTCBundlePolicy::MaxBundle)
        .with_rtcp_mux_policy(RTCRtcpMuxPolicy::Require)
        .build()
}
