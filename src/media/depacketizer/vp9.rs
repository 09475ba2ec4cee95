//! VP9 (draft-ietf-payload-vp9-16), flexible and non-flexible mode: descriptor stripped; the
//! layer frames of one picture joined into a superframe (VP9 bitstream spec, Annex B) when
//! there are several.
//!
//! ```text
//!  |I|P|L|F|B|E|V|Z|   B: first packet of a layer frame, P: inter-picture predicted
//!  |M| PICTURE ID  |   (I=1; M=1: 15 bits)
//!  |TID|U| SID |D  |   (L=1)
//!  |   TL0PICIDX   |   (L=1, F=0)
//!  | P_DIFF      |N|   (F=1, P=1; up to 3, N: another follows)
//!  | SS            |   (V=1)
//! ```
//!
//! A picture begins with B=1 on spatial layer 0. It is a keyframe when its base layer frame's
//! uncompressed header says KEY_FRAME (P clear when the header cannot be read).

use super::Parts;
use bytes::{BufMut, Bytes, BytesMut};

struct Descriptor {
    inter: bool,
    begin: bool,
    layered: bool,
    spatial_layer: u8,
    temporal_layer: u8,
    len: usize,
}

fn descriptor(p: &[u8]) -> Option<Descriptor> {
    let b0 = *p.first()?;
    let flag = |mask: u8| b0 & mask != 0;
    let (i, inter, layered, flexible, begin, ss) = (
        flag(0x80),
        flag(0x40),
        flag(0x20),
        flag(0x10),
        flag(0x08),
        flag(0x02),
    );
    let mut at = 1;
    if i {
        at += if *p.get(at)? & 0x80 != 0 { 2 } else { 1 };
    }
    let (mut spatial_layer, mut temporal_layer) = (0, 0);
    if layered {
        let b = *p.get(at)?;
        temporal_layer = b >> 5;
        spatial_layer = (b >> 1) & 0x07;
        at += if flexible { 1 } else { 2 };
    }
    if flexible && inter {
        let mut diffs = 0;
        loop {
            let b = *p.get(at)?;
            at += 1;
            diffs += 1;
            if b & 0x01 == 0 {
                break;
            }
            if diffs == 3 {
                return None;
            }
        }
    }
    if ss {
        let b = *p.get(at)?;
        at += 1;
        if b & 0x10 != 0 {
            at += 4 * ((b >> 5) as usize + 1);
        }
        if b & 0x08 != 0 {
            let groups = *p.get(at)?;
            at += 1;
            for _ in 0..groups {
                let g = *p.get(at)?;
                at += 1 + ((g >> 2) & 0x03) as usize;
            }
        }
    }
    (at < p.len()).then_some(Descriptor {
        inter,
        begin,
        layered,
        spatial_layer,
        temporal_layer,
        len: at,
    })
}

pub(super) fn starts_frame(payload: &[u8]) -> bool {
    descriptor(payload).is_some_and(|d| d.begin && d.spatial_layer == 0)
}

/// frame_type of an uncompressed header (its first byte is enough): `Some(true)` for
/// KEY_FRAME, `Some(false)` for a non-key or shown-existing frame, `None` if not a VP9 header.
fn header_says_keyframe(frame: &[u8]) -> Option<bool> {
    let b = *frame.first()?;
    if b >> 6 != 2 {
        return None;
    }
    let profile = ((b >> 5) & 1) | (((b >> 4) & 1) << 1);
    let mut bit = 4;
    if profile == 3 {
        bit += 1;
    }
    let show_existing_frame = (b >> (7 - bit)) & 1;
    if show_existing_frame == 1 {
        return Some(false);
    }
    bit += 1;
    Some((b >> (7 - bit)) & 1 == 0)
}

pub(super) fn assemble(payloads: &[&Bytes]) -> Option<Parts> {
    let mut layers: Vec<BytesMut> = Vec::new();
    let mut keyframe = false;
    let mut layered = false;
    let mut highest_spatial = 0;
    let mut temporal_layer = 0;
    for (i, p) in payloads.iter().enumerate() {
        let d = descriptor(p)?;
        if i == 0 {
            if !d.begin {
                return None;
            }
            layered = d.layered;
            temporal_layer = d.temporal_layer;
            keyframe =
                d.spatial_layer == 0 && header_says_keyframe(&p[d.len..]).unwrap_or(!d.inter);
        }
        if d.begin {
            layers.push(BytesMut::new());
        }
        highest_spatial = highest_spatial.max(d.spatial_layer);
        layers.last_mut()?.extend_from_slice(&p[d.len..]);
    }
    let data = match layers.len() {
        1 => layers.pop()?.freeze(),
        _ => {
            // Superframes do not nest: a layer frame that is one gives its frames.
            let frames: Vec<&[u8]> = layers.iter().flat_map(|l| split_superframe(l)).collect();
            superframe(&frames)?
        }
    };
    Some(Parts {
        data,
        keyframe,
        spatial_layer: layered.then_some(highest_spatial),
        temporal_layer: layered.then_some(temporal_layer),
    })
}

/// The frames one after the other, then the superframe index: a marker byte
/// `0b110 bytes_per_framesize_minus_1(2) frames_in_superframe_minus_1(3)`, each frame's size
/// little-endian on that many bytes, the marker byte again. At most 8 frames.
fn superframe(frames: &[&[u8]]) -> Option<Bytes> {
    if frames.is_empty() || frames.len() > 8 {
        return None;
    }
    let largest = frames.iter().map(|f| f.len()).max()?;
    let size_bytes = match largest {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xff_ffff => 3,
        _ if largest <= u32::MAX as usize => 4,
        _ => return None,
    };
    let marker = 0xc0 | ((size_bytes - 1) << 3) as u8 | (frames.len() - 1) as u8;
    let total: usize = frames.iter().map(|f| f.len()).sum();
    let mut out = BytesMut::with_capacity(total + 2 + size_bytes * frames.len());
    for f in frames {
        out.put_slice(f);
    }
    out.put_u8(marker);
    for f in frames {
        out.put_uint_le(f.len() as u64, size_bytes);
    }
    out.put_u8(marker);
    Some(out.freeze())
}

/// The frames of `data` when it ends with a superframe index whose sizes add up to the bytes
/// before it; else `data` as one frame.
fn split_superframe(data: &[u8]) -> Vec<&[u8]> {
    let whole = vec![data];
    let Some(&marker) = data.last() else {
        return whole;
    };
    if marker & 0xe0 != 0xc0 {
        return whole;
    }
    let count = usize::from(marker & 0x07) + 1;
    let size_bytes = usize::from((marker >> 3) & 0x03) + 1;
    let index_len = 2 + size_bytes * count;
    if data.len() < index_len || data[data.len() - index_len] != marker {
        return whole;
    }
    let body = data.len() - index_len;
    let sizes = data[body + 1..data.len() - 1].chunks(size_bytes).map(|b| {
        b.iter()
            .rev()
            .fold(0usize, |v, &x| (v << 8) | usize::from(x))
    });
    let mut frames = Vec::with_capacity(count);
    let mut at = 0;
    for size in sizes {
        if size == 0 || size > body - at {
            return whole;
        }
        frames.push(&data[at..at + size]);
        at += size;
    }
    if at != body {
        return whole;
    }
    frames
}
