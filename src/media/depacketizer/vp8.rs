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
use bytes::Bytes;

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

pub(super) fn assemble(payloads: &[&Bytes]) -> Option<Parts> {
    let (head, rest) = payloads.split_first()?;
    let first = descriptor(head).filter(|d| d.start)?;
    let data = if rest.is_empty() {
        // a frame of one packet is its payload: no copy
        head.slice(first.len..)
    } else {
        // the exact size: a Vec filled to its capacity becomes Bytes with no allocation more
        let mut size = head.len() - first.len;
        for p in rest {
            size += p.len() - descriptor(p)?.len;
        }
        let mut data = Vec::with_capacity(size);
        data.extend_from_slice(&head[first.len..]);
        for p in rest {
            data.extend_from_slice(&p[descriptor(p)?.len..]);
        }
        Bytes::from(data)
    };
    // The frame tag is 3 bytes.
    if data.len() < 3 {
        return None;
    }
    Some(Parts {
        keyframe: data[0] & 0x01 == 0,
        spatial_layer: None,
        temporal_layer: first.temporal_layer,
        data,
    })
}
