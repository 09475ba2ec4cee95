//! H.264 `profile-level-id` (RFC 6184 section 8.1): parsing, profile comparison and the
//! level to put in an SDP answer. Behaves like libwebrtc's `h264_profile_level_id` and the
//! `h264-profile-level-id` npm package that mediasoup-client uses, so that codec matching
//! agrees with the reference on every input.

use crate::error::{OrtcError, Result};
use crate::js;
use crate::types::CodecParameters;
use serde_json::Value;

/// H.264 profiles that WebRTC distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// Constrained Baseline (written `42e0..`).
    ConstrainedBaseline,
    /// Baseline (written `4200..`).
    Baseline,
    /// Main (written `4d00..`).
    Main,
    /// Constrained High (written `640c..`).
    ConstrainedHigh,
    /// High (written `6400..`).
    High,
    /// High 4:4:4 Predictive (written `f400..`).
    PredictiveHigh444,
}

/// H.264 levels (ITU-T H.264 Table A-1). `L1b` is level 1b.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Level 1b.
    L1b,
    /// Level 1 (level_idc 10).
    L1,
    /// Level 1.1 (level_idc 11).
    L1_1,
    /// Level 1.2 (level_idc 12).
    L1_2,
    /// Level 1.3 (level_idc 13).
    L1_3,
    /// Level 2 (level_idc 20).
    L2,
    /// Level 2.1 (level_idc 21).
    L2_1,
    /// Level 2.2 (level_idc 22).
    L2_2,
    /// Level 3 (level_idc 30).
    L3,
    /// Level 3.1 (level_idc 31; the level of [`DEFAULT_PROFILE_LEVEL_ID`]).
    L3_1,
    /// Level 3.2 (level_idc 32).
    L3_2,
    /// Level 4 (level_idc 40).
    L4,
    /// Level 4.1 (level_idc 41).
    L4_1,
    /// Level 4.2 (level_idc 42).
    L4_2,
    /// Level 5 (level_idc 50).
    L5,
    /// Level 5.1 (level_idc 51).
    L5_1,
    /// Level 5.2 (level_idc 52).
    L5_2,
}

impl Level {
    const BY_IDC: [(u8, Level); 16] = [
        (10, Level::L1),
        (11, Level::L1_1),
        (12, Level::L1_2),
        (13, Level::L1_3),
        (20, Level::L2),
        (21, Level::L2_1),
        (22, Level::L2_2),
        (30, Level::L3),
        (31, Level::L3_1),
        (32, Level::L3_2),
        (40, Level::L4),
        (41, Level::L4_1),
        (42, Level::L4_2),
        (50, Level::L5),
        (51, Level::L5_1),
        (52, Level::L5_2),
    ];

    /// The `level_idc` byte (level 1b is written as 11 with constraint_set3, so `None`).
    pub fn level_idc(self) -> Option<u8> {
        Self::BY_IDC
            .iter()
            .find(|(_, level)| *level == self)
            .map(|(idc, _)| *idc)
    }

    fn from_level_idc(idc: u8) -> Option<Level> {
        Self::BY_IDC
            .iter()
            .find(|(i, _)| *i == idc)
            .map(|(_, level)| *level)
    }

    /// The ordering libwebrtc uses, level 1b included. It is not a total order: level 1 and
    /// 1b are "not less" than each other, and any level other than 1 counts as less than 1b
    /// when 1b is on the right. Kept as is, since answers must agree with the reference.
    fn is_less_than(self, other: Level) -> bool {
        if self == Level::L1b {
            return other != Level::L1 && other != Level::L1b;
        }
        if other == Level::L1b {
            return self != Level::L1;
        }
        self.level_idc() < other.level_idc()
    }

    fn min(self, other: Level) -> Level {
        if self.is_less_than(other) {
            self
        } else {
            other
        }
    }
}

/// A parsed `profile-level-id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProfileLevelId {
    /// The profile the first two bytes describe.
    pub profile: Profile,
    /// The level the third byte (with constraint_set3 for 1b) describes.
    pub level: Level,
}

/// The constraint_set3 flag of profile_iop: with level_idc 11 it turns level 1.1 into 1b.
const CONSTRAINT_SET3: u8 = 0x10;

/// profile_idc, then which profile_iop bits must have which value, then the profile.
/// Written as (mask of the significant bits, their required value). In RFC 6184's table
/// notation the first row is `x1xx0000`: bit 6 set and the low four bits clear.
const PROFILE_TABLE: [(u8, u8, u8, Profile); 9] = [
    (0x42, 0b0100_1111, 0b0100_0000, Profile::ConstrainedBaseline),
    (0x4d, 0b1000_1111, 0b1000_0000, Profile::ConstrainedBaseline),
    (0x58, 0b1100_1111, 0b1100_0000, Profile::ConstrainedBaseline),
    (0x42, 0b0100_1111, 0b0000_0000, Profile::Baseline),
    (0x58, 0b1100_1111, 0b1000_0000, Profile::Baseline),
    (0x4d, 0b1010_1111, 0b0000_0000, Profile::Main),
    (0x64, 0b1111_1111, 0b0000_0000, Profile::High),
    (0x64, 0b1111_1111, 0b0000_1100, Profile::ConstrainedHigh),
    (0xf4, 0b1111_1111, 0b0000_0000, Profile::PredictiveHigh444),
];

/// The `profile-level-id` assumed when a codec has none. RFC 6184 says Baseline level 1;
/// libwebrtc (and so every browser and mediasoup) uses Constrained Baseline level 3.1.
pub const DEFAULT_PROFILE_LEVEL_ID: ProfileLevelId = ProfileLevelId {
    profile: Profile::ConstrainedBaseline,
    level: Level::L3_1,
};

/// Parses a `profile-level-id`: six hex digits, profile_idc, profile_iop, level_idc.
/// `None` when the string is not a profile and level that WebRTC knows.
///
/// Like the reference, the digits are read as JS `parseInt(text, 16)` reads them, so the
/// text needs only to be six characters long and to start with hex digits.
pub fn parse_profile_level_id(text: &str) -> Option<ProfileLevelId> {
    if js::js_length(text) != 6 {
        return None;
    }
    let number = js::parse_int_hex(text).unwrap_or(0);
    if number == 0 {
        return None;
    }
    // JS bitwise operators work on the 32-bit two's complement of the number.
    let bits = number as i32;
    let level_idc = (bits & 0xff) as u8;
    let profile_iop = ((bits >> 8) & 0xff) as u8;
    let profile_idc = ((bits >> 16) & 0xff) as u8;

    let level = if level_idc == 11 && profile_iop & CONSTRAINT_SET3 != 0 {
        Level::L1b
    } else {
        Level::from_level_idc(level_idc)?
    };
    PROFILE_TABLE
        .iter()
        .find(|(idc, mask, value, _)| *idc == profile_idc && profile_iop & mask == *value)
        .map(|(_, _, _, profile)| ProfileLevelId {
            profile: *profile,
            level,
        })
}

impl ProfileLevelId {
    /// The profile and level a bitstream declares in its sequence parameter set (the three
    /// bytes after the SPS NAL header: profile_idc, constraint_set flags, level_idc), read as
    /// a decoder reads them rather than with [`parse_profile_level_id`]'s exact table: flags
    /// that add constraints a profile does not need are ignored (High with constraint_set4,
    /// Main with constraint_set2). A constraint_set flag that makes the stream conform to a
    /// narrower profile gives that profile (Baseline or Main conforming to both is
    /// Constrained Baseline; High with constraint_set4 and 5 is Constrained High).
    /// `None` for profiles WebRTC does not send (Extended without constraint_set0, High 10,
    /// 4:2:2, ...) and unknown levels.
    pub fn from_sps(profile_idc: u8, constraint_flags: u8, level_idc: u8) -> Option<Self> {
        let set = |n: u8| constraint_flags & (0x80 >> n) != 0;
        let profile = match profile_idc {
            0x42 if set(1) => Profile::ConstrainedBaseline,
            0x42 => Profile::Baseline,
            0x4d if set(0) => Profile::ConstrainedBaseline,
            0x4d => Profile::Main,
            0x58 if set(0) && set(1) => Profile::ConstrainedBaseline,
            0x58 if set(0) => Profile::Baseline,
            0x64 if set(4) && set(5) => Profile::ConstrainedHigh,
            0x64 => Profile::High,
            0xf4 => Profile::PredictiveHigh444,
            _ => return None,
        };
        // Level 1b: level_idc 11 with constraint_set3 in the Baseline family and Main,
        // level_idc 9 in the High profiles.
        let level = match level_idc {
            11 if set(3) && matches!(profile_idc, 0x42 | 0x4d | 0x58) => Level::L1b,
            9 => Level::L1b,
            idc => Level::from_level_idc(idc)?,
        };
        Some(ProfileLevelId { profile, level })
    }

    /// The canonical six hex digits, or `None` for level 1b with a profile that cannot
    /// have it.
    pub fn to_hex_string(&self) -> Option<String> {
        if self.level == Level::L1b {
            return match self.profile {
                Profile::ConstrainedBaseline => Some("42f00b".into()),
                Profile::Baseline => Some("42100b".into()),
                Profile::Main => Some("4d100b".into()),
                _ => None,
            };
        }
        let profile = match self.profile {
            Profile::ConstrainedBaseline => "42e0",
            Profile::Baseline => "4200",
            Profile::Main => "4d00",
            Profile::ConstrainedHigh => "640c",
            Profile::High => "6400",
            Profile::PredictiveHigh444 => "f400",
        };
        Some(format!("{profile}{:02x}", self.level.level_idc()?))
    }
}

/// The `profile-level-id` of codec parameters: the default when the key is absent (or
/// falsy, as in JS), `None` when it is present but not valid.
pub fn parse_sdp_profile_level_id(params: &CodecParameters) -> Option<ProfileLevelId> {
    let value = params.get("profile-level-id");
    if !js::truthy(value) {
        return Some(DEFAULT_PROFILE_LEVEL_ID);
    }
    match value {
        Some(Value::String(text)) => parse_profile_level_id(text),
        _ => None,
    }
}

/// Whether both parameter sets have a valid `profile-level-id` with the same profile
/// (levels may differ).
pub fn is_same_profile(a: &CodecParameters, b: &CodecParameters) -> bool {
    match (parse_sdp_profile_level_id(a), parse_sdp_profile_level_id(b)) {
        (Some(a), Some(b)) => a.profile == b.profile,
        _ => false,
    }
}

/// Whether both parameter sets have the same profile and the same level.
pub fn is_same_profile_and_level(a: &CodecParameters, b: &CodecParameters) -> bool {
    match (parse_sdp_profile_level_id(a), parse_sdp_profile_level_id(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// `level-asymmetry-allowed` is on: `1`, `"1"` or `true`.
pub fn is_level_asymmetry_allowed(params: &CodecParameters) -> bool {
    match params.get("level-asymmetry-allowed") {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64() == Some(1.0),
        Some(Value::String(s)) => s == "1",
        _ => false,
    }
}

/// The `profile-level-id` to answer with, given what we support (`local`) and what the
/// other side offered (`remote`); both must have the same profile. The level is ours when
/// both sides allow level asymmetry, else the lower of the two.
///
/// `Ok(None)` when neither side has a `profile-level-id` (both use the default, so the
/// answer should carry none either); an error when one is invalid or the profiles differ.
pub fn generate_profile_level_id_for_answer(
    local: &CodecParameters,
    remote: &CodecParameters,
) -> Result<Option<String>> {
    if !js::truthy(local.get("profile-level-id")) && !js::truthy(remote.get("profile-level-id")) {
        return Ok(None);
    }
    let local_id = parse_sdp_profile_level_id(local)
        .ok_or_else(|| OrtcError::type_error("invalid local profile-level-id"))?;
    let remote_id = parse_sdp_profile_level_id(remote)
        .ok_or_else(|| OrtcError::type_error("invalid remote profile-level-id"))?;
    if local_id.profile != remote_id.profile {
        return Err(OrtcError::type_error("H264 profile mismatch"));
    }
    let asymmetry = is_level_asymmetry_allowed(local) && is_level_asymmetry_allowed(remote);
    let level = if asymmetry {
        local_id.level
    } else {
        local_id.level.min(remote_id.level)
    };
    Ok(ProfileLevelId {
        profile: local_id.profile,
        level,
    }
    .to_hex_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> CodecParameters {
        v.as_object().unwrap().clone()
    }

    fn pli(profile: Profile, level: Level) -> Option<ProfileLevelId> {
        Some(ProfileLevelId { profile, level })
    }

    #[test]
    fn parses_profiles() {
        use Level::*;
        use Profile::*;
        assert_eq!(
            parse_profile_level_id("42e01f"),
            pli(ConstrainedBaseline, L3_1)
        );
        assert_eq!(
            parse_profile_level_id("42E01F"),
            pli(ConstrainedBaseline, L3_1)
        );
        assert_eq!(parse_profile_level_id("4d001f"), pli(Main, L3_1));
        assert_eq!(parse_profile_level_id("640032"), pli(High, L5));
        assert_eq!(parse_profile_level_id("640c34"), pli(ConstrainedHigh, L5_2));
        assert_eq!(parse_profile_level_id("640c1f"), pli(ConstrainedHigh, L3_1));
        assert_eq!(parse_profile_level_id("42001f"), pli(Baseline, L3_1));
        assert_eq!(parse_profile_level_id("58A01E"), pli(Baseline, L3));
        assert_eq!(
            parse_profile_level_id("58f01e"),
            pli(ConstrainedBaseline, L3)
        );
        assert_eq!(
            parse_profile_level_id("4d801f"),
            pli(ConstrainedBaseline, L3_1)
        );
        assert_eq!(
            parse_profile_level_id("f4001f"),
            pli(PredictiveHigh444, L3_1)
        );
        assert_eq!(
            parse_profile_level_id("42c02a"),
            pli(ConstrainedBaseline, L4_2)
        );
    }

    #[test]
    fn parses_level_1b_and_1_1() {
        use Level::*;
        use Profile::*;
        assert_eq!(
            parse_profile_level_id("42f00b"),
            pli(ConstrainedBaseline, L1b)
        );
        assert_eq!(parse_profile_level_id("42100b"), pli(Baseline, L1b));
        assert_eq!(parse_profile_level_id("4d100b"), pli(Main, L1b));
        assert_eq!(
            parse_profile_level_id("42e00b"),
            pli(ConstrainedBaseline, L1_1)
        );
        assert_eq!(parse_profile_level_id("42000b"), pli(Baseline, L1_1));
        assert_eq!(
            parse_profile_level_id("42e00a"),
            pli(ConstrainedBaseline, L1)
        );
    }

    #[test]
    fn rejects_invalid() {
        for text in [
            "", " 42e01f", "4242e01f", "42e01", "000000", "42e0zz", "42e000", "42e021", "42e0ff",
            "43e01f", "640131", "64101f", "f4011f", "zzzzzz",
        ] {
            assert_eq!(parse_profile_level_id(text), None, "{text:?}");
        }
    }

    #[test]
    fn reads_digits_like_parse_int() {
        // JS parseInt skips a sign and "0x", and stops at the first non-hex character.
        assert_eq!(parse_profile_level_id("0x0b0b"), None, "profile_idc 0");
        assert_eq!(parse_profile_level_id(" 42e01"), None, "level_idc 1");
        assert_eq!(
            parse_profile_level_id("42e0zz"),
            None,
            "0x42e0: level_idc 0xe0"
        );
        // -0xbffe1 is 0xfff4001f in 32-bit two's complement: High 4:4:4, level 3.1.
        assert_eq!(
            parse_profile_level_id("-bffe1"),
            pli(Profile::PredictiveHigh444, Level::L3_1)
        );
    }

    #[test]
    fn prints_canonical_strings() {
        for (text, canonical) in [
            ("42e01f", "42e01f"),
            ("42E01F", "42e01f"),
            ("42c01f", "42e01f"),
            ("4d401f", "4d001f"),
            ("58a01e", "42001e"),
            ("640c34", "640c34"),
            ("f4000a", "f4000a"),
            ("42f00b", "42f00b"),
            ("42100b", "42100b"),
            ("4d100b", "4d100b"),
        ] {
            let parsed = parse_profile_level_id(text).unwrap();
            assert_eq!(parsed.to_hex_string().as_deref(), Some(canonical), "{text}");
        }
        let high_1b = ProfileLevelId {
            profile: Profile::High,
            level: Level::L1b,
        };
        assert_eq!(high_1b.to_hex_string(), None);
    }

    #[test]
    fn reads_sps_bytes() {
        use Level::*;
        use Profile::*;
        let sps = |p, c, l| ProfileLevelId::from_sps(p, c, l);
        // x264 and libwebrtc's usual SPS bytes
        assert_eq!(sps(0x42, 0xc0, 0x1f), pli(ConstrainedBaseline, L3_1));
        assert_eq!(sps(0x42, 0xe0, 0x1f), pli(ConstrainedBaseline, L3_1));
        assert_eq!(sps(0x42, 0x00, 0x1e), pli(Baseline, L3));
        assert_eq!(sps(0x4d, 0x40, 0x28), pli(Main, L4));
        assert_eq!(
            sps(0x4d, 0x20, 0x28),
            pli(Main, L4),
            "constraint_set2 ignored"
        );
        assert_eq!(sps(0x4d, 0x80, 0x1f), pli(ConstrainedBaseline, L3_1));
        assert_eq!(sps(0x64, 0x00, 0x32), pli(High, L5));
        assert_eq!(
            sps(0x64, 0x08, 0x32),
            pli(High, L5),
            "constraint_set4 alone"
        );
        assert_eq!(sps(0x64, 0x0c, 0x2a), pli(ConstrainedHigh, L4_2));
        assert_eq!(sps(0xf4, 0x00, 0x1f), pli(PredictiveHigh444, L3_1));
        assert_eq!(sps(0x58, 0xc0, 0x1e), pli(ConstrainedBaseline, L3));
        assert_eq!(sps(0x58, 0x80, 0x1e), pli(Baseline, L3));
        // level 1b, both ways of writing it
        assert_eq!(sps(0x42, 0x50, 0x0b), pli(ConstrainedBaseline, L1b));
        assert_eq!(sps(0x42, 0x40, 0x0b), pli(ConstrainedBaseline, L1_1));
        assert_eq!(sps(0x64, 0x00, 0x09), pli(High, L1b));
        assert_eq!(sps(0x64, 0x10, 0x0b), pli(High, L1_1));
        // not WebRTC's: Extended, High 10, High 4:2:2; unknown level
        assert_eq!(sps(0x58, 0x00, 0x1e), None);
        assert_eq!(sps(0x6e, 0x00, 0x1f), None);
        assert_eq!(sps(0x7a, 0x00, 0x1f), None);
        assert_eq!(sps(0x42, 0xc0, 0x21), None);
        // the canonical text of what a file declares
        assert_eq!(
            sps(0x42, 0xc0, 0x1f).unwrap().to_hex_string().as_deref(),
            Some("42e01f")
        );
    }

    #[test]
    fn sdp_default_and_same_profile() {
        assert_eq!(
            parse_sdp_profile_level_id(&params(json!({}))),
            Some(DEFAULT_PROFILE_LEVEL_ID)
        );
        assert_eq!(
            parse_sdp_profile_level_id(&params(json!({ "profile-level-id": "" }))),
            Some(DEFAULT_PROFILE_LEVEL_ID)
        );
        assert_eq!(
            parse_sdp_profile_level_id(&params(json!({ "profile-level-id": 42 }))),
            None
        );
        let cb = params(json!({ "profile-level-id": "42e01f" }));
        let cb_other_level = params(json!({ "profile-level-id": "42e034" }));
        let main = params(json!({ "profile-level-id": "4d001f" }));
        let high = params(json!({ "profile-level-id": "640032" }));
        let none = params(json!({}));
        assert!(is_same_profile(&cb, &cb_other_level));
        assert!(is_same_profile(&cb, &none));
        assert!(!is_same_profile(&cb, &main));
        assert!(!is_same_profile(&main, &high));
        assert!(!is_same_profile(
            &cb,
            &params(json!({ "profile-level-id": "zz" }))
        ));
        assert!(is_same_profile_and_level(&cb, &none));
        assert!(!is_same_profile_and_level(&cb, &cb_other_level));
    }

    #[test]
    fn level_asymmetry_values() {
        for v in [json!(1), json!(1.0), json!("1"), json!(true)] {
            assert!(is_level_asymmetry_allowed(&params(
                json!({ "level-asymmetry-allowed": v })
            )));
        }
        for v in [
            json!(0),
            json!("0"),
            json!(false),
            json!(2),
            json!("true"),
            json!(null),
        ] {
            assert!(!is_level_asymmetry_allowed(&params(
                json!({ "level-asymmetry-allowed": v })
            )));
        }
        assert!(!is_level_asymmetry_allowed(&params(json!({}))));
    }

    fn answer(local: Value, remote: Value) -> Result<Option<String>> {
        generate_profile_level_id_for_answer(&params(local), &params(remote))
    }

    #[test]
    fn answer_levels() {
        // Neither side has one: nothing to answer.
        assert_eq!(answer(json!({}), json!({})), Ok(None));
        // Level asymmetry on both sides: our own level.
        assert_eq!(
            answer(
                json!({ "profile-level-id": "42e034", "level-asymmetry-allowed": 1 }),
                json!({ "profile-level-id": "42e01f", "level-asymmetry-allowed": 1 })
            ),
            Ok(Some("42e034".into()))
        );
        // Not on both sides: the lower level.
        assert_eq!(
            answer(
                json!({ "profile-level-id": "42e034", "level-asymmetry-allowed": 1 }),
                json!({ "profile-level-id": "42e01f" })
            ),
            Ok(Some("42e01f".into()))
        );
        assert_eq!(
            answer(
                json!({ "profile-level-id": "42e00a" }),
                json!({ "profile-level-id": "42e01f" })
            ),
            Ok(Some("42e00a".into()))
        );
        // One side without: it stands for Constrained Baseline 3.1.
        assert_eq!(
            answer(json!({}), json!({ "profile-level-id": "42e034" })),
            Ok(Some("42e01f".into()))
        );
        assert_eq!(
            answer(json!({ "profile-level-id": "42e00b" }), json!({})),
            Ok(Some("42e00b".into()))
        );
        // Canonical form.
        assert_eq!(
            answer(
                json!({ "profile-level-id": "4d401f" }),
                json!({ "profile-level-id": "4d0032" })
            ),
            Ok(Some("4d001f".into()))
        );
    }

    #[test]
    fn answer_with_level_1b() {
        let l1b = json!({ "profile-level-id": "42f00b" });
        let l1 = json!({ "profile-level-id": "42e00a" });
        let l1_1 = json!({ "profile-level-id": "42e00b" });
        let l3_1 = json!({ "profile-level-id": "42e01f" });
        // 1 and 1b: neither is less, the minimum is the remote one.
        assert_eq!(answer(l1b.clone(), l1.clone()), Ok(Some("42e00a".into())));
        assert_eq!(answer(l1.clone(), l1b.clone()), Ok(Some("42f00b".into())));
        assert_eq!(answer(l1b.clone(), l1_1.clone()), Ok(Some("42f00b".into())));
        // The reference's quirk: a level above 1 is "less" than 1b when 1b is the remote.
        assert_eq!(answer(l3_1.clone(), l1b.clone()), Ok(Some("42e01f".into())));
        assert_eq!(answer(l1b.clone(), l3_1), Ok(Some("42f00b".into())));
    }

    #[test]
    fn answer_errors() {
        let e = answer(json!({ "profile-level-id": "zzzzzz" }), json!({})).unwrap_err();
        assert_eq!(e.message, "invalid local profile-level-id");
        let e = answer(json!({}), json!({ "profile-level-id": "42e0" })).unwrap_err();
        assert_eq!(e.message, "invalid remote profile-level-id");
        let e = answer(
            json!({ "profile-level-id": "42e01f" }),
            json!({ "profile-level-id": "640032" }),
        )
        .unwrap_err();
        assert_eq!(e.message, "H264 profile mismatch");
    }
}
