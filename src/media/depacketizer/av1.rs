//! AV1 (AV1 RTP payload spec v1.0): aggregation header and OBU elements -> a temporal unit in
//! low-overhead bitstream format, as IVF files carry it: a temporal delimiter first, then
//! every OBU with obu_has_size_field = 1.
//!
//! ```text
//!  |Z|Y| W |N|-|-|-|   Z: the first element continues the previous packet's last OBU
//!                      Y: the last element goes on in the next packet
//!                      W: number of elements (0: each has a leb128 length; else all but the last)
//!                      N: first packet of a coded video sequence
//! ```
//!
//! A temporal unit is known to begin at a packet with N set, or whose first element is a whole
//! sequence header or temporal delimiter OBU. It is a keyframe when N is set on its first
//! packet, or it holds a sequence header and its first frame header says KEY_FRAME.

use super::Parts;
use bytes::{BufMut, Bytes, BytesMut};

const OBU_SEQUENCE_HEADER: u8 = 1;
const OBU_TEMPORAL_DELIMITER: u8 = 2;
const OBU_FRAME_HEADER: u8 = 3;
const OBU_FRAME: u8 = 6;
const OBU_TILE_LIST: u8 = 8;
const OBU_PADDING: u8 = 15;

const Z: u8 = 0x80;
const Y: u8 = 0x40;
const N: u8 = 0x08;

/// The aggregation header and the OBU elements of one packet.
fn elements(p: &Bytes) -> Option<(u8, Vec<Bytes>)> {
    let header = *p.first()?;
    let w = usize::from((header >> 4) & 0x03);
    let mut elements = Vec::new();
    let mut at = 1;
    while at < p.len() {
        let size = if w == 0 || elements.len() + 1 < w {
            let (size, n) = read_leb128(&p[at..])?;
            at += n;
            usize::try_from(size).ok()?
        } else {
            p.len() - at
        };
        if size > p.len() - at {
            return None;
        }
        elements.push(p.slice(at..at + size));
        at += size;
    }
    if elements.is_empty() || (w != 0 && elements.len() != w) {
        return None;
    }
    Some((header, elements))
}

pub(super) fn starts_frame(p: &[u8]) -> bool {
    let Some(&header) = p.first() else {
        return false;
    };
    if header & Z != 0 {
        return false;
    }
    if header & N != 0 {
        return true;
    }
    let first = if (header >> 4) & 0x03 == 1 {
        p.get(1)
    } else {
        read_leb128(&p[1..]).and_then(|(_, n)| p.get(1 + n))
    };
    first.is_some_and(|h| {
        matches!(
            (h >> 3) & 0x0f,
            OBU_SEQUENCE_HEADER | OBU_TEMPORAL_DELIMITER
        )
    })
}

pub(super) fn assemble(payloads: &[&Bytes]) -> Option<Parts> {
    let mut obus: Vec<BytesMut> = Vec::new();
    let mut open = false;
    let mut new_sequence = false;
    for (i, p) in payloads.iter().enumerate() {
        let (header, elements) = elements(p)?;
        let continues = header & Z != 0;
        if continues != open {
            return None;
        }
        if i == 0 {
            new_sequence = header & N != 0;
        }
        for (j, element) in elements.iter().enumerate() {
            if j == 0 && continues {
                obus.last_mut()?.put_slice(element);
            } else {
                obus.push(BytesMut::from(&element[..]));
            }
        }
        open = header & Y != 0;
    }
    if open {
        return None;
    }

    // The temporal delimiter: type 2, obu_has_size_field = 1, size 0.
    let mut data = BytesMut::with_capacity(2 + obus.iter().map(|o| o.len() + 8).sum::<usize>());
    data.put_slice(&[OBU_TEMPORAL_DELIMITER << 3 | 0x02, 0]);
    let mut sequence_header = false;
    let mut reduced_still_picture_header = false;
    let mut first_frame_is_key = None;
    let mut written = 0;
    for obu in &obus {
        let h = *obu.first()?;
        if h & 0x80 != 0 {
            return None;
        }
        let kind = (h >> 3) & 0x0f;
        let header_len = if h & 0x04 != 0 { 2 } else { 1 };
        if obu.len() < header_len {
            return None;
        }
        let payload = if h & 0x02 != 0 {
            let (size, n) = read_leb128(&obu[header_len..])?;
            let start = header_len + n;
            let size = usize::try_from(size).ok()?;
            if size > obu.len() - start {
                return None;
            }
            &obu[start..start + size]
        } else {
            &obu[header_len..]
        };
        match kind {
            OBU_TEMPORAL_DELIMITER | OBU_TILE_LIST | OBU_PADDING => continue,
            OBU_SEQUENCE_HEADER => {
                sequence_header = true;
                // seq_profile (3 bits), still_picture (1), reduced_still_picture_header (1)
                reduced_still_picture_header = payload.first().is_some_and(|b| b & 0x08 != 0);
            }
            OBU_FRAME | OBU_FRAME_HEADER if first_frame_is_key.is_none() => {
                // show_existing_frame (1 bit) = 0, frame_type (2 bits) = KEY_FRAME (0)
                first_frame_is_key = Some(
                    reduced_still_picture_header || payload.first().is_some_and(|b| b & 0xe0 == 0),
                );
            }
            _ => {}
        }
        data.put_u8(h | 0x02);
        data.put_slice(&obu[1..header_len]);
        put_leb128(&mut data, payload.len() as u64);
        data.put_slice(payload);
        written += 1;
    }
    if written == 0 {
        return None;
    }
    Some(Parts {
        data: data.freeze(),
        keyframe: new_sequence || (sequence_header && first_frame_is_key == Some(true)),
        spatial_layer: None,
        temporal_layer: None,
    })
}

fn read_leb128(data: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in data.iter().take(8).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return (value <= u64::from(u32::MAX)).then_some((value, i + 1));
        }
    }
    None
}

fn put_leb128(out: &mut BytesMut, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.put_u8(byte);
            return;
        }
        out.put_u8(byte | 0x80);
    }
}
