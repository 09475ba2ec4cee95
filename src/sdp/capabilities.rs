//! Local offer -> the RTP capabilities of this endpoint.

use msc_ortc::{
    Direction, MediaKind, RtcpFeedback, RtpCapabilities, RtpCodecCapability, RtpHeaderExtension,
};
use rtc_sdp::{MediaDescription, SessionDescription};
use serde_json::Value;

use crate::fmtp::parse_params;
use crate::lines;

/// The RTP capabilities an offer announces, read from its first audio and first video sections.
///
/// - codecs in `a=rtpmap` order, with `kind`, `mimeType` (`<kind>/<name>`),
///   `preferredPayloadType`, `clockRate`, `channels` (audio only; 1 when the rtpmap has none),
///   `parameters` from `a=fmtp` (numbers where sdp-transform would make numbers;
///   `profile-level-id` always a string) and `rtcpFeedback` from `a=rtcp-fb` (a `*` line
///   applies to every codec of the section except RTX);
/// - header extensions from `a=extmap` (`preferredId` = the id; encrypted ones skipped), one
///   entry per kind: an extension both sections declare is listed for audio and for video, as
///   libmediasoupclient does. (mediasoup-client 3.18 keys them by id alone, so the video entry
///   replaces the audio one and audio loses mid / transport-cc; we do not copy that.)
pub fn extract_rtp_capabilities(sdp: &SessionDescription) -> RtpCapabilities {
    let mut caps = RtpCapabilities::default();
    for kind in [MediaKind::Audio, MediaKind::Video] {
        if let Some(media) = sdp
            .media_descriptions
            .iter()
            .find(|m| m.media_name.media == kind.as_str())
        {
            caps.codecs.extend(section_codecs(media, kind));
            for ext in section_header_extensions(media, kind) {
                match caps
                    .header_extensions
                    .iter_mut()
                    .find(|e| e.kind == ext.kind && e.preferred_id == ext.preferred_id)
                {
                    Some(existing) => *existing = ext,
                    None => caps.header_extensions.push(ext),
                }
            }
        }
    }
    caps
}

fn section_codecs(media: &MediaDescription, kind: MediaKind) -> Vec<RtpCodecCapability> {
    let mut codecs: Vec<RtpCodecCapability> = Vec::new();
    for rtpmap in lines::rtpmaps(media) {
        let codec = RtpCodecCapability {
            kind,
            mime_type: format!("{}/{}", kind.as_str(), rtpmap.name),
            preferred_payload_type: Some(rtpmap.payload_type),
            clock_rate: rtpmap.clock_rate,
            channels: match kind {
                MediaKind::Audio => Some(rtpmap.channels.unwrap_or(1)),
                MediaKind::Video => None,
            },
            parameters: Default::default(),
            rtcp_feedback: Vec::new(),
        };
        // A repeated payload type replaces the earlier codec in place.
        match codecs
            .iter_mut()
            .find(|c| c.preferred_payload_type == codec.preferred_payload_type)
        {
            Some(existing) => *existing = codec,
            None => codecs.push(codec),
        }
    }

    for (payload_type, config) in lines::fmtps(media) {
        if let Some(codec) = codecs
            .iter_mut()
            .find(|c| c.preferred_payload_type == Some(payload_type))
        {
            let mut parameters = parse_params(config);
            if let Some(plid) = parameters.get_mut("profile-level-id") {
                if let Value::Number(n) = plid {
                    *plid = Value::String(n.to_string());
                }
            }
            codec.parameters = parameters;
        }
    }

    for fb in lines::rtcp_fbs(media) {
        let feedback = RtcpFeedback {
            kind: fb.kind,
            parameter: fb.parameter,
        };
        match fb.payload_type {
            Some(pt) => {
                if let Some(codec) = codecs
                    .iter_mut()
                    .find(|c| c.preferred_payload_type == Some(pt))
                {
                    codec.rtcp_feedback.push(feedback);
                }
            }
            None => {
                for codec in codecs.iter_mut().filter(|c| !is_rtx(&c.mime_type)) {
                    codec.rtcp_feedback.push(feedback.clone());
                }
            }
        }
    }
    codecs
}

fn section_header_extensions(media: &MediaDescription, kind: MediaKind) -> Vec<RtpHeaderExtension> {
    lines::extmaps(media)
        .into_iter()
        .filter(|ext| !ext.encrypted)
        .map(|ext| RtpHeaderExtension {
            kind,
            uri: ext.uri,
            preferred_id: ext.id,
            preferred_encrypt: false,
            direction: Direction::Sendrecv,
        })
        .collect()
}

fn is_rtx(mime_type: &str) -> bool {
    mime_type
        .rsplit_once('/')
        .is_some_and(|(_, name)| name.eq_ignore_ascii_case("rtx"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_sdp;
    use serde_json::json;

    fn chrome() -> RtpCapabilities {
        extract_rtp_capabilities(
            &parse_sdp(include_str!("testdata/chrome_audio_video_offer.sdp")).unwrap(),
        )
    }

    fn codec(caps: &RtpCapabilities, pt: u8) -> &RtpCodecCapability {
        caps.codecs
            .iter()
            .find(|c| c.preferred_payload_type == Some(pt))
            .unwrap()
    }

    #[test]
    fn codecs_of_a_chrome_offer_in_rtpmap_order() {
        let caps = chrome();
        let mimes: Vec<&str> = caps.codecs.iter().map(|c| c.mime_type.as_str()).collect();
        assert_eq!(caps.codecs.len(), 27);
        assert_eq!(&mimes[..3], ["audio/opus", "audio/red", "audio/G722"]);
        assert_eq!(
            &mimes[8..12],
            ["video/VP8", "video/rtx", "video/VP9", "video/rtx"]
        );
        assert_eq!(mimes[26], "video/H265");

        let opus = codec(&caps, 111);
        assert_eq!(opus.kind, MediaKind::Audio);
        assert_eq!((opus.clock_rate, opus.channels), (48000, Some(2)));
        assert_eq!(
            Value::Object(opus.parameters.clone()),
            json!({ "minptime": 10, "useinbandfec": 1 })
        );
        assert_eq!(
            opus.rtcp_feedback,
            vec![RtcpFeedback {
                kind: "transport-cc".into(),
                parameter: "".into()
            }]
        );

        // Audio without a channel count gets 1; video has none.
        assert_eq!(codec(&caps, 9).channels, Some(1));
        assert_eq!(codec(&caps, 96).channels, None);

        let vp8 = codec(&caps, 96);
        let fb: Vec<(&str, &str)> = vp8
            .rtcp_feedback
            .iter()
            .map(|f| (f.kind.as_str(), f.parameter.as_str()))
            .collect();
        assert_eq!(
            fb,
            [
                ("goog-remb", ""),
                ("transport-cc", ""),
                ("ccm", "fir"),
                ("nack", ""),
                ("nack", "pli")
            ]
        );
        assert_eq!(
            Value::Object(codec(&caps, 97).parameters.clone()),
            json!({ "apt": 96 })
        );
    }

    #[test]
    fn fmtp_numbers_and_strings_as_sdp_transform_types_them() {
        let caps = chrome();
        // libmediasoupclient's expectation: profile-id is a number.
        assert_eq!(codec(&caps, 98).parameters["profile-id"], json!(0));
        assert_eq!(codec(&caps, 100).parameters["profile-id"], json!(2));
        // profile-level-id is always a string, even when it looks like a number.
        assert_eq!(
            codec(&caps, 102).parameters["profile-level-id"],
            json!("42001f")
        );
        assert_eq!(
            codec(&caps, 45).parameters["profile-level-id"],
            json!("640032")
        );
        assert_eq!(codec(&caps, 102).parameters["packetization-mode"], json!(1));
        assert_eq!(
            Value::Object(codec(&caps, 117).parameters.clone()),
            json!({ "level-id": 93, "profile-id": 1, "tier-flag": 0, "tx-mode": "SRST" })
        );
    }

    #[test]
    fn header_extensions_per_kind() {
        let caps = chrome();
        let of = |kind: MediaKind| -> Vec<(u8, &str)> {
            caps.header_extensions
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| (e.preferred_id, e.uri.as_str()))
                .collect()
        };
        assert_eq!(
            of(MediaKind::Audio),
            [
                (1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
                (
                    2,
                    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
                ),
                (
                    3,
                    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
                ),
                (4, "urn:ietf:params:rtp-hdrext:sdes:mid"),
            ]
        );
        let video = of(MediaKind::Video);
        assert_eq!(video.len(), 11);
        assert_eq!(video[0], (14, "urn:ietf:params:rtp-hdrext:toffset"));
        assert!(video.contains(&(4, "urn:ietf:params:rtp-hdrext:sdes:mid")));
        assert!(caps
            .header_extensions
            .iter()
            .all(|e| e.direction == Direction::Sendrecv && !e.preferred_encrypt));
    }

    #[test]
    fn wildcard_feedback_skips_rtx_and_encrypted_extensions_are_ignored() {
        let sdp = parse_sdp(
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
             m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n\
             a=mid:0\r\n\
             a=extmap:1 urn:ietf:params:rtp-hdrext:encrypt urn:ietf:params:rtp-hdrext:toffset\r\n\
             a=extmap:2/sendonly urn:ietf:params:rtp-hdrext:sdes:mid\r\n\
             a=rtpmap:96 VP8/90000\r\n\
             a=rtpmap:97 rtx/90000\r\n\
             a=fmtp:97 apt=96\r\n\
             a=rtcp-fb:* nack\r\n\
             a=rtcp-fb:98 nack pli\r\n",
        )
        .unwrap();
        let caps = extract_rtp_capabilities(&sdp);
        assert_eq!(caps.codecs[0].rtcp_feedback.len(), 1);
        assert!(caps.codecs[1].rtcp_feedback.is_empty());
        assert_eq!(caps.header_extensions.len(), 1);
        assert_eq!(caps.header_extensions[0].preferred_id, 2);
    }

    #[test]
    fn only_the_first_section_of_each_kind_counts() {
        let sdp = parse_sdp(
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
             m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n\
             m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\na=rtpmap:111 opus/48000/2\r\n\
             m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:2\r\na=rtpmap:0 PCMU/8000\r\n",
        )
        .unwrap();
        let caps = extract_rtp_capabilities(&sdp);
        assert_eq!(caps.codecs.len(), 1);
        assert_eq!(caps.codecs[0].mime_type, "audio/opus");
    }

    #[test]
    fn a_webrtc_rs_offer() {
        let caps = extract_rtp_capabilities(
            &parse_sdp(include_str!("testdata/webrtc_rs_offer.sdp")).unwrap(),
        );
        let mimes: Vec<&str> = caps.codecs.iter().map(|c| c.mime_type.as_str()).collect();
        assert_eq!(mimes, ["audio/opus", "video/VP8", "video/rtx"]);
        assert!(caps.header_extensions.is_empty());
    }
}
