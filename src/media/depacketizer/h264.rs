//! H.264 (RFC 6184), packetization-mode 0 and 1: single NAL unit packets, STAP-A, FU-A -> one
//! Annex B access unit, each NAL unit after a 4-byte start code.
//!
//! The payload format has no "first packet of an access unit" flag. A packet is known to begin
//! one when its first NAL unit is an access unit delimiter or a sequence parameter set (both
//! only come first), or the start of a non-IDR slice with first_mb_in_slice = 0 (the first
//! slice of a picture). An IDR slice is not enough: the SPS and PPS that WebRTC senders put
//! before every IDR picture may be in a packet lost just before it.

use super::Parts;
use bytes::{BufMut, Bytes, BytesMut};

const IDR: u8 = 5;
const SPS: u8 = 7;
const AUD: u8 = 9;
const STAP_A: u8 = 24;
const FU_A: u8 = 28;
const START_CODE: [u8; 4] = [0, 0, 0, 1];

pub(super) fn starts_frame(p: &[u8]) -> bool {
    let Some(&b0) = p.first() else {
        return false;
    };
    let (kind, body) = match b0 & 0x1f {
        1..=23 => (b0 & 0x1f, p.get(1)),
        STAP_A => match p.get(3) {
            Some(h) => (h & 0x1f, p.get(4)),
            None => return false,
        },
        FU_A => match p.get(1) {
            Some(h) if h & 0x80 != 0 => (h & 0x1f, p.get(2)),
            _ => return false,
        },
        _ => return false,
    };
    match kind {
        AUD | SPS => true,
        // first_mb_in_slice is ue(v): 0 is coded as a single 1 bit.
        1 => body.is_some_and(|b| b & 0x80 != 0),
        _ => false,
    }
}

pub(super) fn assemble(payloads: &[&Bytes]) -> Option<Parts> {
    let mut nalus: Vec<Bytes> = Vec::new();
    let mut fragment: Option<BytesMut> = None;
    for p in payloads {
        let b0 = *p.first()?;
        match b0 & 0x1f {
            1..=23 => {
                if fragment.is_some() {
                    return None;
                }
                nalus.push(Bytes::clone(p));
            }
            STAP_A => {
                if fragment.is_some() || p.len() < 2 {
                    return None;
                }
                let mut at = 1;
                while at < p.len() {
                    let size = usize::from(u16::from_be_bytes([*p.get(at)?, *p.get(at + 1)?]));
                    at += 2;
                    if size == 0 || at + size > p.len() {
                        return None;
                    }
                    nalus.push(p.slice(at..at + size));
                    at += size;
                }
            }
            FU_A => {
                let header = *p.get(1)?;
                let body = &p[2..];
                if header & 0x80 != 0 {
                    if fragment.is_some() {
                        return None;
                    }
                    let mut nalu = BytesMut::with_capacity(1 + body.len());
                    nalu.put_u8((b0 & 0xe0) | (header & 0x1f));
                    fragment = Some(nalu);
                }
                fragment.as_mut()?.put_slice(body);
                if header & 0x40 != 0 {
                    nalus.push(fragment.take()?.freeze());
                }
            }
            _ => return None,
        }
    }
    if fragment.is_some() || nalus.is_empty() {
        return None;
    }
    let size = nalus.iter().map(|n| START_CODE.len() + n.len()).sum();
    let mut data = BytesMut::with_capacity(size);
    let mut keyframe = false;
    for n in &nalus {
        keyframe |= n[0] & 0x1f == IDR;
        data.put_slice(&START_CODE);
        data.put_slice(n);
    }
    Some(Parts {
        data: data.freeze(),
        keyframe,
        spatial_layer: None,
        temporal_layer: None,
    })
}
