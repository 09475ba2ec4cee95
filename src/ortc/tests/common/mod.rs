//! Fixtures shared by the integration tests.
#![allow(dead_code)]

use msc_ortc::{validate_and_normalize_rtp_capabilities, RtpCapabilities};
use serde_json::Value;

/// A mediasoup router's capabilities: opus 100 (48000/2), VP8 101 + RTX 102, H264
/// Constrained Baseline 3.1 packetization-mode 1 103 + RTX 104, eight header extensions.
pub fn router_json() -> Value {
    serde_json::from_str(include_str!("../fixtures/router_rtp_capabilities.json")).unwrap()
}

/// Capabilities a native WebRTC stack offers: opus, PCMU, VP8, VP9, three H264 variants,
/// each video codec with RTX.
pub fn native_json() -> Value {
    serde_json::from_str(include_str!("../fixtures/native_rtp_capabilities.json")).unwrap()
}

pub fn caps(mut value: Value) -> RtpCapabilities {
    validate_and_normalize_rtp_capabilities(&mut value).unwrap()
}

pub fn router() -> RtpCapabilities {
    caps(router_json())
}

pub fn native() -> RtpCapabilities {
    caps(native_json())
}

pub fn mime_types<'a>(mimes: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    mimes.into_iter().map(String::from).collect()
}
