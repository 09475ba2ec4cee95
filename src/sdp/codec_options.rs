//! Per-producer codec options (mediasoup-client's `ProducerCodecOptions`) and where they land:
//! the answer's fmtp / rtcp-fb, and some of them the sending RTP parameters too.

use msc_ortc::{CodecParameters, RtcpFeedback, RtpCodecParameters, RtpParameters};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Codec options given to `transport.produce({ codecOptions })`.
///
/// In the answer (what the server says it receives): opus gets `stereo`, `useinbandfec`,
/// `usedtx`, `maxplaybackrate`, `maxaveragebitrate`, `ptime` (booleans as 1/0), and loses its
/// plain `nack` feedback unless `opusNack` is true; VP8/VP9/H264/H265/AV1 get
/// `x-google-start-bitrate`, `x-google-max-bitrate`, `x-google-min-bitrate`.
/// See [`CodecOptions::apply_to_offer_parameters`] for the sending side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodecOptions {
    /// Opus stereo: `stereo` in the answer, `sprop-stereo` in the sending parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opus_stereo: Option<bool>,
    /// Opus in-band FEC (`useinbandfec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opus_fec: Option<bool>,
    /// Opus discontinuous transmission (`usedtx`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opus_dtx: Option<bool>,
    /// Opus `maxplaybackrate` (Hz), answer only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opus_max_playback_rate: Option<u32>,
    /// Opus `maxaveragebitrate` (bps), answer only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opus_max_average_bitrate: Option<u32>,
    /// Opus packet time (`ptime`, ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opus_ptime: Option<u32>,
    /// Keep plain `nack` feedback for opus (dropped otherwise when options are given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opus_nack: Option<bool>,
    /// libwebrtc's `x-google-start-bitrate` (kbps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_google_start_bitrate: Option<u32>,
    /// libwebrtc's `x-google-max-bitrate` (kbps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_google_max_bitrate: Option<u32>,
    /// libwebrtc's `x-google-min-bitrate` (kbps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_google_min_bitrate: Option<u32>,
}

fn flag(on: bool) -> Value {
    Value::from(u8::from(on))
}

fn is_opus(codec: &RtpCodecParameters) -> bool {
    matches!(
        codec.mime_type.to_ascii_lowercase().as_str(),
        "audio/opus" | "audio/multiopus"
    )
}

fn takes_google_bitrates(codec: &RtpCodecParameters) -> bool {
    matches!(
        codec.mime_type.to_ascii_lowercase().as_str(),
        "video/vp8" | "video/vp9" | "video/h264" | "video/h265" | "video/av1"
    )
}

/// Drops `nack` feedback that has no parameter (keeps `nack pli`).
fn drop_plain_nack(feedback: &mut Vec<RtcpFeedback>) {
    feedback.retain(|fb| fb.kind != "nack" || !fb.parameter.is_empty());
}

impl CodecOptions {
    /// Applies the options to one codec of the answer: returns its fmtp parameters and
    /// rtcp-fb as the answer must carry them.
    pub(crate) fn answer_codec(
        &self,
        codec: &RtpCodecParameters,
    ) -> (CodecParameters, Vec<RtcpFeedback>) {
        let mut parameters = codec.parameters.clone();
        let mut feedback = codec.rtcp_feedback.clone();
        if is_opus(codec) {
            let mut set = |key: &str, value: Option<Value>| {
                if let Some(value) = value {
                    parameters.insert(key.to_owned(), value);
                }
            };
            set("stereo", self.opus_stereo.map(flag));
            set("useinbandfec", self.opus_fec.map(flag));
            set("usedtx", self.opus_dtx.map(flag));
            set(
                "maxplaybackrate",
                self.opus_max_playback_rate.map(Value::from),
            );
            set(
                "maxaveragebitrate",
                self.opus_max_average_bitrate.map(Value::from),
            );
            set("ptime", self.opus_ptime.map(Value::from));
            if self.opus_nack != Some(true) {
                drop_plain_nack(&mut feedback);
            }
        } else if takes_google_bitrates(codec) {
            let mut set = |key: &str, value: Option<u32>| {
                if let Some(value) = value {
                    parameters.insert(key.to_owned(), Value::from(value));
                }
            };
            set("x-google-start-bitrate", self.video_google_start_bitrate);
            set("x-google-max-bitrate", self.video_google_max_bitrate);
            set("x-google-min-bitrate", self.video_google_min_bitrate);
        }
        (parameters, feedback)
    }

    /// Applies the options to the sending RTP parameters (those sent to the server in
    /// `produce`), as mediasoup-client does while building the answer: opus codecs get
    /// `sprop-stereo`, `useinbandfec`, `usedtx`, `ptime`, and lose plain `nack` unless
    /// `opusNack` is true. Call it on the parameters you pass as `offer_rtp_parameters` to
    /// `RemoteSdp::send` with the same options, before emitting `produce`.
    pub fn apply_to_offer_parameters(&self, rtp_parameters: &mut RtpParameters) {
        for codec in rtp_parameters.codecs.iter_mut().filter(|c| is_opus(c)) {
            let mut set = |key: &str, value: Option<Value>| {
                if let Some(value) = value {
                    codec.parameters.insert(key.to_owned(), value);
                }
            };
            set("sprop-stereo", self.opus_stereo.map(flag));
            set("useinbandfec", self.opus_fec.map(flag));
            set("usedtx", self.opus_dtx.map(flag));
            set("ptime", self.opus_ptime.map(Value::from));
            if self.opus_nack != Some(true) {
                drop_plain_nack(&mut codec.rtcp_feedback);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codec(mime_type: &str, parameters: Value, feedback: &[(&str, &str)]) -> RtpCodecParameters {
        RtpCodecParameters {
            mime_type: mime_type.into(),
            payload_type: 100,
            clock_rate: 48000,
            channels: None,
            parameters: parameters.as_object().unwrap().clone(),
            rtcp_feedback: feedback
                .iter()
                .map(|(k, p)| RtcpFeedback {
                    kind: (*k).into(),
                    parameter: (*p).into(),
                })
                .collect(),
        }
    }

    fn all_options() -> CodecOptions {
        serde_json::from_value(json!({
            "opusStereo": true, "opusFec": false, "opusDtx": true, "opusMaxPlaybackRate": 48000,
            "opusMaxAverageBitrate": 64000, "opusPtime": 20, "opusNack": false,
            "videoGoogleStartBitrate": 1000, "videoGoogleMaxBitrate": 3000, "videoGoogleMinBitrate": 300
        }))
        .unwrap()
    }

    #[test]
    fn serde_uses_mediasoup_names() {
        let options = all_options();
        assert_eq!(options.opus_max_average_bitrate, Some(64000));
        assert_eq!(options.video_google_min_bitrate, Some(300));
        assert_eq!(
            serde_json::to_value(CodecOptions::default()).unwrap(),
            json!({})
        );
        assert_eq!(
            serde_json::to_value(CodecOptions {
                opus_dtx: Some(false),
                ..Default::default()
            })
            .unwrap(),
            json!({ "opusDtx": false })
        );
    }

    #[test]
    fn opus_answer_gets_every_option_and_loses_plain_nack() {
        let opus = codec(
            "audio/opus",
            json!({ "minptime": 10, "useinbandfec": 1 }),
            &[("transport-cc", ""), ("nack", "")],
        );
        let (params, feedback) = all_options().answer_codec(&opus);
        assert_eq!(
            Value::Object(params),
            json!({
                "minptime": 10, "useinbandfec": 0, "stereo": 1, "usedtx": 1,
                "maxplaybackrate": 48000, "maxaveragebitrate": 64000, "ptime": 20
            })
        );
        assert_eq!(
            feedback,
            vec![RtcpFeedback {
                kind: "transport-cc".into(),
                parameter: "".into()
            }]
        );

        // opusNack keeps it; no options at all leaves the codec alone.
        let nack = CodecOptions {
            opus_nack: Some(true),
            ..Default::default()
        };
        assert_eq!(nack.answer_codec(&opus).1.len(), 2);
        let multiopus = codec("audio/multiopus", json!({}), &[("nack", "")]);
        assert!(CodecOptions::default()
            .answer_codec(&multiopus)
            .1
            .is_empty());
    }

    #[test]
    fn video_answer_gets_google_bitrates_for_the_codecs_libwebrtc_reads_them_for() {
        for mime in [
            "video/VP8",
            "video/VP9",
            "video/H264",
            "video/H265",
            "video/AV1",
        ] {
            let (params, _) =
                all_options().answer_codec(&codec(mime, json!({ "profile-id": 0 }), &[]));
            assert_eq!(
                Value::Object(params),
                json!({
                    "profile-id": 0, "x-google-start-bitrate": 1000,
                    "x-google-max-bitrate": 3000, "x-google-min-bitrate": 300
                }),
                "{mime}"
            );
        }
        let (params, fb) =
            all_options().answer_codec(&codec("video/rtx", json!({ "apt": 96 }), &[("nack", "")]));
        assert_eq!(Value::Object(params), json!({ "apt": 96 }));
        assert_eq!(fb.len(), 1);
    }

    #[test]
    fn offer_parameters_get_the_sender_side_opus_options() {
        let mut params = RtpParameters {
            codecs: vec![
                codec(
                    "audio/opus",
                    json!({ "minptime": 10, "useinbandfec": 1 }),
                    &[("nack", ""), ("nack", "pli")],
                ),
                codec("audio/PCMU", json!({}), &[("nack", "")]),
            ],
            ..Default::default()
        };
        all_options().apply_to_offer_parameters(&mut params);
        assert_eq!(
            Value::Object(params.codecs[0].parameters.clone()),
            json!({ "minptime": 10, "useinbandfec": 0, "sprop-stereo": 1, "usedtx": 1, "ptime": 20 })
        );
        assert_eq!(
            params.codecs[0].rtcp_feedback,
            vec![RtcpFeedback {
                kind: "nack".into(),
                parameter: "pli".into()
            }]
        );
        assert_eq!(params.codecs[1].rtcp_feedback.len(), 1);
    }
}
