//! Which codec a track bound to one bitstream (a file, RTP from another tool) can be sent as.
//! Such a track cannot be re-encoded, so the codec must describe its bitstream: the same mime
//! type and the same profile, by the rules device.load matches codecs with
//! ([`crate::codec_match::match_codecs`] in strict mode):
//!
//! - VP9: the same `profile-id` (absent means 0);
//! - AV1: the same `profile` (absent means 0; RFC 9628 AV1 RTP payload's `profile`);
//! - H.264: the same `packetization-mode` (absent means 0 on the codec; on the track it means
//!   1, what this library's packetizer and ffmpeg's RTP muxer send) and the same profile of
//!   `profile-level-id` (absent on a codec means Constrained Baseline, as in device.load).
//!   A codec whose profile's decoders also decode the track's profile is taken when none has
//!   the very same profile: Constrained Baseline is a subset of Baseline, Main, Constrained
//!   High and High; Main and Constrained High are subsets of High. Levels never make a codec
//!   unmatched: as in device.load (and mediasoup), the level is negotiated, not matched (with
//!   level asymmetry each side declares what it receives). A track that does not state a
//!   `profile-level-id` matches any profile.
//!
//! Parameter values compare as numbers (`1` and `"1"` are the same here): a track's
//! parameters may come from a program that wrote them as SDP text.

use crate::codec_match::is_rtx_mime_type;
use crate::error::{OrtcError, Result};
use crate::h264::{self, Profile, ProfileLevelId};
use crate::js;
use crate::types::{CodecParameters, MediaKind, RtpCodecCapability};
use serde_json::Value;

/// What a track knows of its bitstream.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackCodec {
    /// Audio or video.
    pub kind: MediaKind,
    /// e.g. `video/VP9`
    pub mime_type: String,
    /// The profile parameters known: VP9 `profile-id`, AV1 `profile`, H.264
    /// `profile-level-id` and `packetization-mode`. Empty when nothing is known.
    pub parameters: CodecParameters,
}

/// How well a codec fits a track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fit {
    No,
    /// Its decoders decode the track's bitstream (an H.264 profile that includes the track's).
    Compatible,
    Same,
}

/// A number parameter: JSON number or numeric string; `default` when absent or null;
/// `None` for anything else (which then matches nothing).
fn number(params: &CodecParameters, key: &str, default: f64) -> Option<f64> {
    match params.get(key) {
        None | Some(Value::Null) => Some(default),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    }
}

fn same_number(a: Option<f64>, b: Option<f64>) -> Fit {
    match (a, b) {
        (Some(a), Some(b)) if a == b => Fit::Same,
        _ => Fit::No,
    }
}

/// Whether decoders of `codec` profile decode every bitstream of `track` profile.
fn includes(codec: Profile, track: Profile) -> bool {
    use Profile::*;
    codec == track
        || matches!(
            (track, codec),
            (
                ConstrainedBaseline,
                Baseline | Main | ConstrainedHigh | High
            ) | (Main | ConstrainedHigh, High)
        )
}

/// The track's stated H.264 profile: `Ok(None)` when it states none, an error when what it
/// states is not a profile WebRTC sends.
fn track_h264_profile(track: &TrackCodec) -> Result<Option<ProfileLevelId>> {
    let value = track.parameters.get("profile-level-id");
    if !js::truthy(value) {
        return Ok(None);
    }
    h264::parse_sdp_profile_level_id(&track.parameters)
        .map(Some)
        .ok_or_else(|| {
            OrtcError::unsupported(format!(
                "this track's H.264 profile-level-id {} is not a profile and level sent over \
                 WebRTC (Constrained Baseline, Baseline, Main, Constrained High, High, High \
                 4:4:4 Predictive)",
                value.map(js::display).unwrap_or_default()
            ))
        })
}

fn fit(track: &TrackCodec, mime_type: &str, params: &CodecParameters) -> Result<Fit> {
    if !mime_type.eq_ignore_ascii_case(&track.mime_type) {
        return Ok(Fit::No);
    }
    let ours = &track.parameters;
    Ok(match mime_type.to_ascii_lowercase().as_str() {
        "video/vp9" => same_number(
            number(ours, "profile-id", 0.0),
            number(params, "profile-id", 0.0),
        ),
        "video/av1" => same_number(number(ours, "profile", 0.0), number(params, "profile", 0.0)),
        "video/h264" => {
            let mode = same_number(
                number(ours, "packetization-mode", 1.0),
                number(params, "packetization-mode", 0.0),
            );
            if mode == Fit::No {
                return Ok(Fit::No);
            }
            let Some(track_profile) = track_h264_profile(track)? else {
                return Ok(Fit::Same);
            };
            match h264::parse_sdp_profile_level_id(params) {
                Some(codec) if codec.profile == track_profile.profile => Fit::Same,
                Some(codec) if includes(codec.profile, track_profile.profile) => Fit::Compatible,
                _ => Fit::No,
            }
        }
        _ => Fit::Same,
    })
}

fn profile_name(profile: Profile) -> &'static str {
    match profile {
        Profile::ConstrainedBaseline => "Constrained Baseline",
        Profile::Baseline => "Baseline",
        Profile::Main => "Main",
        Profile::ConstrainedHigh => "Constrained High",
        Profile::High => "High",
        Profile::PredictiveHigh444 => "High 4:4:4 Predictive",
    }
}

/// Whose parameters [`describe`] shows: absent ones mean different things on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Track,
    Codec,
}

/// `video/VP9 (profile-id 2)`: a codec or track with the parameters that decide a match.
fn describe(mime_type: &str, params: &CodecParameters, side: Side) -> String {
    let show = |key: &str, default: &str| {
        params
            .get(key)
            .filter(|v| !v.is_null())
            .map(js::display)
            .unwrap_or_else(|| default.to_owned())
    };
    match mime_type.to_ascii_lowercase().as_str() {
        "video/vp9" => format!("{mime_type} (profile-id {})", show("profile-id", "0")),
        "video/av1" => format!("{mime_type} (profile {})", show("profile", "0")),
        "video/h264" => {
            let profile = if js::truthy(params.get("profile-level-id")) {
                let text = show("profile-level-id", "");
                match h264::parse_sdp_profile_level_id(params) {
                    Some(id) => format!("profile-level-id {text}: {}", profile_name(id.profile)),
                    None => format!("profile-level-id {text}"),
                }
            } else if side == Side::Track {
                "any profile".to_owned()
            } else {
                "no profile-level-id: Constrained Baseline".to_owned()
            };
            format!(
                "{mime_type} ({profile}, packetization-mode {})",
                show(
                    "packetization-mode",
                    if side == Side::Track { "1" } else { "0" }
                )
            )
        }
        _ => mime_type.to_owned(),
    }
}

fn describe_track(track: &TrackCodec) -> String {
    describe(&track.mime_type, &track.parameters, Side::Track)
}

/// The parameters the router gave `codec` (a device's codec, which has the router's payload
/// type and the device's parameters): those of the router's codec of the same mime type and
/// payload type in `router_codecs`, else the device's own. A device's parameters may lack what
/// device.load does not match (AV1 `profile`).
fn router_parameters<'a>(
    codec: &'a RtpCodecCapability,
    router_codecs: &'a [RtpCodecCapability],
) -> &'a CodecParameters {
    router_codecs
        .iter()
        .find(|r| {
            r.preferred_payload_type == codec.preferred_payload_type
                && r.mime_type.eq_ignore_ascii_case(&codec.mime_type)
        })
        .map_or(&codec.parameters, |r| &r.parameters)
}

/// The index in `codecs` (a loaded device's RTP capabilities' codecs) of the codec to send
/// `track` as: the first of its kind with the very same profile, else the first whose
/// decoders decode it. Profiles are read from the router's codec of the same payload type in
/// `router_codecs` (the router's RTP capabilities the device was loaded with; may be empty).
/// An `UnsupportedError` naming the track's codec and what the router has otherwise.
pub fn codec_for_track(
    track: &TrackCodec,
    codecs: &[RtpCodecCapability],
    router_codecs: &[RtpCodecCapability],
) -> Result<usize> {
    let mut best: Option<(Fit, usize)> = None;
    for (index, codec) in codecs.iter().enumerate() {
        if codec.kind != track.kind {
            continue;
        }
        let fit = fit(
            track,
            &codec.mime_type,
            router_parameters(codec, router_codecs),
        )?;
        if fit > best.map_or(Fit::No, |(f, _)| f) {
            best = Some((fit, index));
        }
        if fit == Fit::Same {
            break;
        }
    }
    if let Some((_, index)) = best {
        return Ok(index);
    }
    let of_kind = codecs
        .iter()
        .filter(|c| c.kind == track.kind && !is_media_helper(&c.mime_type));
    let same_type: Vec<String> = of_kind
        .clone()
        .filter(|c| c.mime_type.eq_ignore_ascii_case(&track.mime_type))
        .map(|c| {
            describe(
                &c.mime_type,
                router_parameters(c, router_codecs),
                Side::Codec,
            )
        })
        .collect();
    if same_type.is_empty() {
        let mut offered: Vec<&str> = Vec::new();
        for codec in of_kind {
            if !offered.contains(&codec.mime_type.as_str()) {
                offered.push(&codec.mime_type);
            }
        }
        return Err(OrtcError::unsupported(format!(
            "the router does not take {}, the codec of this track; its {} codecs: {}",
            track.mime_type,
            track.kind.as_str(),
            if offered.is_empty() {
                "none".to_owned()
            } else {
                offered.join(", ")
            }
        )));
    }
    Err(OrtcError::unsupported(format!(
        "the router does not take this track's {}; it has {}",
        describe_track(track),
        same_type.join(", ")
    )))
}

/// RTX, RED and ULPFEC: codecs that carry no media of their own.
fn is_media_helper(mime_type: &str) -> bool {
    is_rtx_mime_type(mime_type)
        || mime_type.rsplit('/').next().is_some_and(|sub| {
            sub.eq_ignore_ascii_case("red") || sub.eq_ignore_ascii_case("ulpfec")
        })
}

/// Checks a codec the application asked for (`produce({ codec })`) against the track: a
/// `TypeError` when it is not of the track's mime type or profile.
pub fn check_codec_for_track(
    track: &TrackCodec,
    mime_type: &str,
    parameters: &CodecParameters,
) -> Result<()> {
    if fit(track, mime_type, parameters)? != Fit::No {
        return Ok(());
    }
    let asked = if mime_type.eq_ignore_ascii_case(&track.mime_type) {
        describe(mime_type, parameters, Side::Codec)
    } else {
        mime_type.to_owned()
    };
    let held = if mime_type.eq_ignore_ascii_case(&track.mime_type) {
        describe_track(track)
    } else {
        track.mime_type.clone()
    };
    Err(OrtcError::type_error(format!(
        "codec {asked} does not match the track, which holds {held}"
    )))
}

#[cfg(test)]
mod tests;
