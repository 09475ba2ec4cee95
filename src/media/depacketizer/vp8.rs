//! VP8 (RFC 7741): payload descriptor stripped, partitions concatenated.
//!
//! ```text
//!  |X|R|N|S|R| PID |   S: start of a partition, PID: partition index
//!  |I|L|T|K| RSV   |   (X=1)
//!  |M| PictureID   |   (I=1; M=1: 15 bits)
//!  |   TL0PICIDX   |   (L=1)
//!  |TID|Y| KEYIDX  |   (T=1 or K=1)
//! ```
//!
//! A frame begins with S=1 and PID=0. The first byte of the frame (the frame tag) has the P
//! bit clear on a keyframe.

use super::Parts;
use bytes::{Bytes, BytesMut};

struct Descriptor {
    start: bool,
    temporal_layer: Option<u8>,
    len: usize,
}

/// Parses the descriptor; `None` when it is truncated or leaves no data.
fn descriptor(p: &[u8]) -> Option<Descriptor> {
    let b0 = *p.first()?;
    let mut at = 1;
    let mut temporal_layer = None;
    if b0 & 0x80 != 0 {
        let ext = *p.get(at)?;
        at += 1;
        if ext & 0x80 != 0 {
            at += if *p.get(at)? & 0x80 != 0 { 2 } else { 1 };
        }
        if ext & 0x40 != 0 {
            at += 1;
        }
        if ext & 0x30 != 0 {
            let b = *p.get(at)?;
            if ext & 0x20 != 0 {
                temporal_layer = Some(b >> 6);
            }
            at += 1;
        }
    }
    (at < p.len()).then_some(Descriptor {
        start: b0 & 0x10 != 0 && b0 & 0x07 == 0,
        temporal_layer,
        len: at,
    })
}

pub(super) fn starts_frame(payload: &[u8]) -> bool {
    descriptor(payload).is_some_and(|d| d.start)
}

pub(super) fn assemble(payloads: &[Bytes]) -> Option<Parts> {
    let (data, temporal_layer) = match payloads {
        // a frame of one packet is its payload: no copy
        [only] => {
            let d = descriptor(only).filter(|d| d.start)?;
            (only.slice(d.len..), d.temporal_layer)
        }
        _ => {
            let mut data = BytesMut::with_capacity(payloads.iter().map(Bytes::len).sum());
            let mut first = None;
            for p in payloads {
                let d = descriptor(p)?;
                if first.is_none() {
                    if !d.start {
                        return None;
                    }
                    first = Some(d.temporal_layer);
                }
                data.extend_from_slice(&p[d.len..]);
            }
            (data.freeze(), first?)
        }
    };
    // The frame tag is 3 bytes.
    if data.len() < 3 {
        return None;
    }
    Some(Parts {
        keyframe: data[0] & 0x01 == 0,
        spatial_layer: None,
        temporal_layer,
        data,
    })
}
