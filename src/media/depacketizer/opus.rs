//! Opus (RFC 7587): the payload is the Opus packet; every packet is a frame.

use super::Parts;
use bytes::Bytes;

pub(super) fn assemble(payloads: &[&Bytes]) -> Option<Parts> {
    match payloads {
        [payload] => Some(Parts {
            data: Bytes::clone(payload),
            keyframe: true,
            spatial_layer: None,
            temporal_layer: None,
        }),
        _ => None,
    }
}
