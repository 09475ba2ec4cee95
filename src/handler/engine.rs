//! What this handler can send: the codec table, the RTP header extensions and the interceptor
//! chain that every PeerConnection of this crate is built with.
//!
//! The payload types here are the *local* ones: they appear in [`crate::native_offer_sdp`], the
//! client computes its native capabilities from that offer, and then hands the same payload types
//! back to [`crate::SendHandler::send`]. They mimic Chrome's numbering so that SDP dumps are
//! familiar, but nothing depends on that.

use rtc::interceptor::{Registry, Slot, StreamInfo};
use rtc::peer_connection::configuration::media_engine::{
    MediaEngine, MIME_TYPE_AV1, MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_RTX, MIME_TYPE_VP8,
    MIME_TYPE_VP9,
};
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpHeaderExtensionCapability, RtpCodecKind,
};

use crate::feedback::Feedback;
use crate::outbound::OutboundInterceptor;
use crate::HandlerError;

/// `urn:ietf:params:rtp-hdrext:sdes:mid`
pub(crate) const MID_URI: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
/// `urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id`
pub(crate) const RID_URI: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
/// `urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id`
pub(crate) const RRID_URI: &str = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
/// `urn:ietf:params:rtp-hdrext:ssrc-audio-level`
pub(crate) const AUDIO_LEVEL_URI: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
/// transport-wide-cc, stamped on every outgoing packet by [`OutboundInterceptor`].
pub(crate) const TRANSPORT_CC_URI: &str =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

/// The id the answer gave the header extension `uri` of a bound stream, if it negotiated it.
pub(crate) fn extension_id(info: &StreamInfo, uri: &str) -> Option<u8> {
    info.rtp_header_extensions
        .iter()
        .find(|e| e.uri == uri)
        .and_then(|e| u8::try_from(e.id).ok())
}

/// Slot of our interceptor in the chain (the only one).
const OUTBOUND_SLOT: usize = 14_000;

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

/// Packets kept per SSRC for retransmission: 2.5 s of a 1 Mbps video stream, 0.6 s at 4 Mbps,
/// more than a NACK round trip to any SFU worth sending to. A quarter of webrtc-rs's default,
/// 1024, for a fraction of the RSS per video producer at the same CPU
/// (`docs/performance.md#nack-history`).
const NACK_HISTORY: u16 = 256;

/// The interceptor chain of a sending PeerConnection: one interceptor of ours
/// ([`OutboundInterceptor`]: NACK answers over RTX, transport-wide sequence numbers, sender
/// reports, feedback to the writers), with a NACK history of [`NACK_HISTORY`] packets per SSRC.
/// No receiver reports: a send transport receives no RTP.
pub(crate) fn registry(feedback: Feedback) -> Registry {
    Registry::new().with(
        Slot::from(OUTBOUND_SLOT),
        OutboundInterceptor::new(feedback, NACK_HISTORY),
    )
}
