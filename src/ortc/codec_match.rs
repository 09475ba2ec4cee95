//! When two codecs are "the same": mimeType (any case), clock rate and channels, plus
//! H.264 packetization-mode and profile and VP9 profile-id in strict mode. Also RTX
//! detection and the RTCP feedback two codecs have in common.

use crate::h264;
use crate::js;
use crate::types::{CodecParameters, RtcpFeedback, RtpCodecCapability, RtpCodecParameters};
use serde_json::Value;

/// What codec matching reads from a codec capability or a codec of RTP parameters.
pub trait Codec {
    /// `type/subtype`, in any case.
    fn mime_type(&self) -> &str;
    /// RTP clock rate in Hz.
    fn clock_rate(&self) -> u32;
    /// Number of audio channels, when given.
    fn channels(&self) -> Option<u8>;
    /// Codec-specific parameters.
    fn parameters(&self) -> &CodecParameters;
    /// Codec-specific parameters, writable: matching stores the negotiated H.264
    /// `profile-level-id` here.
    fn parameters_mut(&mut self) -> &mut CodecParameters;
    /// The RTCP feedback the codec supports.
    fn rtcp_feedback(&self) -> &[RtcpFeedback];
}

macro_rules! impl_codec {
    ($t:ty) => {
        impl Codec for $t {
            fn mime_type(&self) -> &str {
                &self.mime_type
            }
            fn clock_rate(&self) -> u32 {
                self.clock_rate
            }
            fn channels(&self) -> Option<u8> {
                self.channels
            }
            fn parameters(&self) -> &CodecParameters {
                &self.parameters
            }
            fn parameters_mut(&mut self) -> &mut CodecParameters {
                &mut self.parameters
            }
            fn rtcp_feedback(&self) -> &[RtcpFeedback] {
                &self.rtcp_feedback
            }
        }
    };
}

impl_codec!(RtpCodecCapability);
impl_codec!(RtpCodecParameters);

/// Whether a mimeType is RTX (`<anything>/rtx`, any case).
pub fn is_rtx_mime_type(mime_type: &str) -> bool {
    // `/.+\/rtx$/i`: ends with "/rtx", after a character that is not a line terminator.
    let Some(slash) = mime_type.rfind('/') else {
        return false;
    };
    let before = mime_type[..slash].chars().next_back();
    before.is_some_and(|c| !matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}'))
        && mime_type[slash + 1..].eq_ignore_ascii_case("rtx")
}

/// Whether a codec is RTX.
pub fn is_rtx<C: Codec>(codec: &C) -> bool {
    is_rtx_mime_type(codec.mime_type())
}

/// The outcome of a codec match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodecMatch {
    /// They are different codecs.
    No,
    /// They match. For H.264 in strict mode, `profile_level_id` is what both codecs should
    /// carry once negotiated: `Some(None)` means neither should carry one.
    Yes {
        /// `None` when nothing is to be written (not H.264, or not strict); `Some(id)` is
        /// the value to write, `Some(None)` meaning to remove it.
        profile_level_id: Option<Option<String>>,
    },
}

impl CodecMatch {
    /// Whether the codecs match, whatever the negotiated profile.
    pub fn matched(&self) -> bool {
        matches!(self, CodecMatch::Yes { .. })
    }
}

fn param_or_zero<'a>(params: &'a CodecParameters, key: &str, zero: &'a Value) -> &'a Value {
    js::nullish_or(params.get(key), zero)
}

/// Matches codec `a` against codec `b`. In strict mode H.264 needs the same
/// packetization-mode and profile (and a level that can be answered, `a` taken as the local
/// side), and VP9 the same profile-id. Parameter values compare as JS `===` does: `1` and
/// `"1"` differ.
pub fn match_codecs<A: Codec, B: Codec>(a: &A, b: &B, strict: bool) -> CodecMatch {
    let mime_type = a.mime_type().to_lowercase();
    if mime_type != b.mime_type().to_lowercase()
        || a.clock_rate() != b.clock_rate()
        || a.channels() != b.channels()
    {
        return CodecMatch::No;
    }
    let zero = Value::from(0);
    let mut profile_level_id = None;
    if strict {
        match mime_type.as_str() {
            "video/h264" => {
                let key = "packetization-mode";
                if !js::strict_eq(
                    Some(param_or_zero(a.parameters(), key, &zero)),
                    Some(param_or_zero(b.parameters(), key, &zero)),
                ) {
                    return CodecMatch::No;
                }
                if !h264::is_same_profile(a.parameters(), b.parameters()) {
                    return CodecMatch::No;
                }
                match h264::generate_profile_level_id_for_answer(a.parameters(), b.parameters()) {
                    Ok(answer) => profile_level_id = Some(answer),
                    Err(_) => return CodecMatch::No,
                }
            }
            "video/vp9" => {
                let key = "profile-id";
                if !js::strict_eq(
                    Some(param_or_zero(a.parameters(), key, &zero)),
                    Some(param_or_zero(b.parameters(), key, &zero)),
                ) {
                    return CodecMatch::No;
                }
            }
            _ => {}
        }
    }
    CodecMatch::Yes { profile_level_id }
}

/// Writes a negotiated H.264 `profile-level-id` into a codec (or removes it).
pub fn apply_profile_level_id(params: &mut CodecParameters, profile_level_id: &Option<String>) {
    match profile_level_id {
        Some(id) => {
            params.insert("profile-level-id".into(), Value::String(id.clone()));
        }
        None => {
            params.shift_remove("profile-level-id");
        }
    }
}

/// The RTCP feedback of `b` that `a` also has (same type, and same parameter or both
/// empty), in `a`'s order.
pub fn reduce_rtcp_feedback<A: Codec, B: Codec>(a: &A, b: &B) -> Vec<RtcpFeedback> {
    a.rtcp_feedback()
        .iter()
        .filter_map(|a_fb| {
            b.rtcp_feedback()
                .iter()
                .find(|b_fb| b_fb.kind == a_fb.kind && b_fb.parameter == a_fb.parameter)
                .cloned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::MediaKind;
    use serde_json::json;

    fn cap(
        mime_type: &str,
        clock_rate: u32,
        channels: Option<u8>,
        params: Value,
    ) -> RtpCodecCapability {
        RtpCodecCapability {
            kind: if mime_type.starts_with("audio") {
                MediaKind::Audio
            } else {
                MediaKind::Video
            },
            mime_type: mime_type.into(),
            preferred_payload_type: Some(100),
            clock_rate,
            channels,
            parameters: params.as_object().unwrap().clone(),
            rtcp_feedback: vec![],
        }
    }

    fn h264(params: Value) -> RtpCodecCapability {
        cap("video/H264", 90000, None, params)
    }

    #[test]
    fn rtx_mime_types() {
        assert!(is_rtx_mime_type("video/rtx"));
        assert!(is_rtx_mime_type("audio/RTX"));
        assert!(is_rtx_mime_type("a/b/rtx"));
        assert!(!is_rtx_mime_type("/rtx"));
        assert!(!is_rtx_mime_type("video/rtx2"));
        assert!(!is_rtx_mime_type("rtx"));
        assert!(!is_rtx_mime_type("\n/rtx"));
    }

    #[test]
    fn basic_fields() {
        let opus = cap("audio/opus", 48000, Some(2), json!({}));
        assert!(match_codecs(&opus, &cap("audio/OPUS", 48000, Some(2), json!({})), true).matched());
        assert!(
            !match_codecs(&opus, &cap("audio/opus", 48000, Some(1), json!({})), true).matched()
        );
        assert!(
            !match_codecs(&opus, &cap("audio/opus", 44100, Some(2), json!({})), true).matched()
        );
        assert!(
            !match_codecs(&opus, &cap("audio/PCMU", 48000, Some(2), json!({})), true).matched()
        );
        let vp8 = cap("video/VP8", 90000, None, json!({ "x": 1 }));
        assert_eq!(
            match_codecs(&vp8, &cap("video/vp8", 90000, None, json!({})), true),
            CodecMatch::Yes {
                profile_level_id: None
            }
        );
    }

    #[test]
    fn h264_packetization_mode() {
        let pm1 = h264(json!({ "packetization-mode": 1, "profile-level-id": "42e01f" }));
        let pm0 = h264(json!({ "packetization-mode": 0, "profile-level-id": "42e01f" }));
        let pm_absent = h264(json!({ "profile-level-id": "42e01f" }));
        let pm1_string = h264(json!({ "packetization-mode": "1", "profile-level-id": "42e01f" }));
        assert!(!match_codecs(&pm1, &pm0, true).matched());
        assert!(match_codecs(&pm0, &pm_absent, true).matched());
        assert!(!match_codecs(&pm1, &pm1_string, true).matched());
        // Not strict: only mimeType, clock rate and channels count.
        assert!(match_codecs(&pm1, &pm0, false).matched());
    }

    #[test]
    fn h264_profiles() {
        let cb = h264(json!({ "packetization-mode": 1, "profile-level-id": "42e01f" }));
        let main = h264(json!({ "packetization-mode": 1, "profile-level-id": "4d001f" }));
        let high = h264(json!({ "packetization-mode": 1, "profile-level-id": "640032" }));
        assert!(!match_codecs(&cb, &main, true).matched());
        assert!(!match_codecs(&cb, &high, true).matched());
        assert!(!match_codecs(&main, &high, true).matched());
        assert_eq!(
            match_codecs(&high, &high.clone(), true),
            CodecMatch::Yes {
                profile_level_id: Some(Some("640032".into()))
            }
        );
        let invalid = h264(json!({ "packetization-mode": 1, "profile-level-id": "xx" }));
        assert!(!match_codecs(&invalid, &invalid.clone(), true).matched());
        let none = h264(json!({ "packetization-mode": 1 }));
        assert_eq!(
            match_codecs(&none, &none.clone(), true),
            CodecMatch::Yes {
                profile_level_id: Some(None)
            }
        );
    }

    #[test]
    fn h264_answer_level_uses_a_as_local() {
        let a = h264(json!({ "profile-level-id": "42e034", "level-asymmetry-allowed": 1 }));
        let b = h264(json!({ "profile-level-id": "42e01f", "level-asymmetry-allowed": 1 }));
        assert_eq!(
            match_codecs(&a, &b, true),
            CodecMatch::Yes {
                profile_level_id: Some(Some("42e034".into()))
            }
        );
        assert_eq!(
            match_codecs(&b, &a, true),
            CodecMatch::Yes {
                profile_level_id: Some(Some("42e01f".into()))
            }
        );
    }

    #[test]
    fn vp9_profile_id() {
        let p0 = cap("video/VP9", 90000, None, json!({ "profile-id": 0 }));
        let p2 = cap("video/VP9", 90000, None, json!({ "profile-id": 2 }));
        let absent = cap("video/VP9", 90000, None, json!({}));
        let p0_string = cap("video/VP9", 90000, None, json!({ "profile-id": "0" }));
        assert!(!match_codecs(&p0, &p2, true).matched());
        assert!(match_codecs(&p0, &absent, true).matched());
        assert!(!match_codecs(&p0, &p0_string, true).matched());
        assert!(match_codecs(&p0, &p2, false).matched());
    }

    #[test]
    fn rtcp_feedback_intersection() {
        let mut a = cap("video/VP8", 90000, None, json!({}));
        let mut b = a.clone();
        let fb = |t: &str, p: &str| RtcpFeedback {
            kind: t.into(),
            parameter: p.into(),
        };
        a.rtcp_feedback = vec![
            fb("nack", ""),
            fb("nack", "pli"),
            fb("goog-remb", ""),
            fb("ccm", "fir"),
        ];
        b.rtcp_feedback = vec![fb("ccm", "fir"), fb("nack", "pli"), fb("transport-cc", "")];
        assert_eq!(
            reduce_rtcp_feedback(&a, &b),
            vec![fb("nack", "pli"), fb("ccm", "fir")]
        );
    }
}
