//! The codec profile a bitstream declares, as the codec parameters that a router's codec must
//! match to carry it (msc_ortc::track_codec): VP9 `profile-id`, AV1 `profile`, H.264
//! `profile-level-id` and `packetization-mode`.
//!
//! Read from one frame, the first of a file:
//! - VP9: the profile bits of the frame's uncompressed header (VP9 bitstream spec 6.2), in
//!   every frame, so any first frame tells;
//! - AV1: `seq_profile` of the sequence header OBU (AV1 spec 5.5.1), which a stream's first
//!   temporal unit carries;
//! - H.264: the three bytes after the SPS NAL header (profile_idc, constraint_set flags,
//!   level_idc: what RFC 6184's `profile-level-id` is made of), when the first access unit
//!   has an SPS. Files are sent with packetization-mode 1 (this library's packetizer).
//!
//! What cannot be read is left out: the track then states nothing of its profile.

use msc_ortc::h264::ProfileLevelId;
use msc_ortc::CodecParameters;
use serde_json::Value;

/// The codec parameters `frame` (of `mime_type`) declares.
pub fn codec_parameters(mime_type: &str, frame: &[u8]) -> CodecParameters {
    let mut params = CodecParameters::new();
    match mime_type.to_ascii_lowercase().as_str() {
        "video/vp9" => {
            if let Some(profile) = vp9_profile(frame) {
                params.insert("profile-id".into(), Value::from(profile));
            }
        }
        "video/av1" => {
            if let Some(profile) = av1_seq_profile(frame) {
                params.insert("profile".into(), Value::from(profile));
            }
        }
        "video/h264" => {
            params.insert("packetization-mode".into(), Value::from(1));
            if let Some(id) = h264_profile_level_id(frame) {
                params.insert("profile-level-id".into(), Value::from(id));
            }
        }
        _ => {}
    }
    params
}

/// The profile (0..=3) of a VP9 frame: frame_marker (2 bits, `10`), profile_low_bit,
/// profile_high_bit.
fn vp9_profile(frame: &[u8]) -> Option<u8> {
    let first = *frame.first()?;
    if first >> 6 != 0b10 {
        return None;
    }
    let low = (first >> 5) & 1;
    let high = (first >> 4) & 1;
    Some(high << 1 | low)
}

/// LEB128 (AV1 spec 4.10.5): the value and the bytes it took.
fn leb128(data: &[u8]) -> Option<(usize, usize)> {
    let mut value: u64 = 0;
    for (i, byte) in data.iter().take(8).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((usize::try_from(value).ok()?, i + 1));
        }
    }
    None
}

const OBU_SEQUENCE_HEADER: u8 = 1;

/// `seq_profile` of the first sequence header OBU in a temporal unit (low overhead
/// bitstream format: OBUs one after another, the last one possibly without a size field).
fn av1_seq_profile(mut data: &[u8]) -> Option<u8> {
    while let Some(&header) = data.first() {
        if header & 0x80 != 0 {
            return None; // obu_forbidden_bit
        }
        let obu_type = (header >> 3) & 0x0f;
        let has_extension = header & 0x04 != 0;
        let has_size = header & 0x02 != 0;
        let mut at = 1 + usize::from(has_extension);
        let size = if has_size {
            let (size, n) = leb128(data.get(at..)?)?;
            at += n;
            size
        } else {
            data.len().checked_sub(at)?
        };
        let payload = data.get(at..at.checked_add(size)?)?;
        if obu_type == OBU_SEQUENCE_HEADER {
            return payload.first().map(|b| b >> 5);
        }
        data = &data[at + size..];
    }
    None
}

const NAL_SPS: u8 = 7;

/// The `profile-level-id` of the first SPS in an Annex B access unit: canonical when it is a
/// profile WebRTC sends, else the SPS's own three bytes (which then match no codec).
fn h264_profile_level_id(data: &[u8]) -> Option<String> {
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i..i + 3] != [0, 0, 1] {
            i += 1;
            continue;
        }
        let nal = &data[i + 3..];
        if nal.first().is_some_and(|h| h & 0x1f == NAL_SPS) {
            let sps = nal.get(1..4)?;
            let (profile_idc, flags, level_idc) = (sps[0], sps[1], sps[2]);
            return Some(
                ProfileLevelId::from_sps(profile_idc, flags, level_idc)
                    .and_then(|id| id.to_hex_string())
                    .unwrap_or_else(|| format!("{profile_idc:02x}{flags:02x}{level_idc:02x}")),
            );
        }
        i += 3;
    }
    None
}

#[cfg(test)]
mod tests;
