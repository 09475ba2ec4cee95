//! VP9 (draft-ietf-payload-vp9-16), flexible mode, one spatial layer. Ours, not rtc-rtp's.
//!
//! rtc-rtp's `Vp9Payloader` writes F=1 with P=0 on every frame. mediasoup's VP9 parser flags a
//! packet as a keyframe when `B && !P` (spatial layer 0), so every frame would look like a
//! keyframe to the SFU; and a receiver cannot tell what a frame depends on.
//!
//! Descriptor written here, in every packet of a frame:
//!
//! ```text
//!  |I|P|L|F|B|E|V|Z|   I=1, P=!keyframe, L=0, F=1, B first packet, E last packet,
//!  |M| PICTURE ID  |   V on the first packet of a keyframe whose size could be read, Z=0
//!  | EXTENDED PID  |   15-bit picture id, random start, +1 per frame
//!  | P_DIFF=1    |N|   only when P=1: depends on the previous picture, N=0
//!  | SS (V=1)      |   N_S=0, Y=1, G=0, width, height
//! ```
//!
//! libwebrtc receivers resolve references from P_DIFF in flexible mode (non-flexible mode
//! without TL0PICIDX gets dropped by them), and mediasoup reads I, P, B and E.

use super::Packetized;
use crate::MediaError;
use bytes::{BufMut, Bytes, BytesMut};

#[derive(Debug)]
pub(super) struct Vp9 {
    picture_id: u16,
}

impl Vp9 {
    pub(super) fn new() -> Self {
        Vp9 {
            picture_id: rand::random::<u16>() & 0x7fff,
        }
    }

    pub(super) fn packetize(
        &mut self,
        frame: &Bytes,
        keyframe: Option<bool>,
        mtu: usize,
    ) -> Result<Packetized, MediaError> {
        let header = parse_header(frame).ok_or_else(|| {
            MediaError::malformed(
                "VP9",
                "not a VP9 frame (the uncompressed header does not start with frame_marker 2)",
            )
        })?;
        let keyframe = keyframe.unwrap_or(header.keyframe);

        let mut flags = 0x80 | 0x10; // I, F
        if !keyframe {
            flags |= 0x40; // P
        }
        let mut common = Vec::with_capacity(4);
        common.push(0x80 | (self.picture_id >> 8) as u8); // M=1, 15-bit picture id
        common.push(self.picture_id as u8);
        if !keyframe {
            common.push(1 << 1); // P_DIFF=1, N=0
        }
        let ss = match header.size {
            Some((w, h)) if keyframe => {
                let mut ss = vec![0x10]; // N_S=0, Y=1, G=0
                ss.extend_from_slice(&w.to_be_bytes());
                ss.extend_from_slice(&h.to_be_bytes());
                ss
            }
            _ => Vec::new(),
        };

        let mut payloads = Vec::new();
        let mut offset = 0;
        while offset < frame.len() {
            let first = offset == 0;
            let header_len = 1 + common.len() + if first { ss.len() } else { 0 };
            let room = mtu - header_len; // mtu >= MIN_MTU > largest header
            let take = room.min(frame.len() - offset);
            let last = offset + take == frame.len();
            let mut b = flags;
            if first {
                b |= 0x08; // B
                if !ss.is_empty() {
                    b |= 0x02; // V
                }
            }
            if last {
                b |= 0x04; // E
            }
            let mut out = BytesMut::with_capacity(header_len + take);
            out.put_u8(b);
            out.put_slice(&common);
            if first {
                out.put_slice(&ss);
            }
            out.put_slice(&frame[offset..offset + take]);
            payloads.push(out.freeze());
            offset += take;
        }
        self.picture_id = (self.picture_id + 1) & 0x7fff;
        Ok(Packetized { payloads, keyframe })
    }
}

struct Header {
    keyframe: bool,
    /// Width and height, read from a keyframe's header.
    size: Option<(u16, u16)>,
}

/// Reads the start of the uncompressed header (VP9 bitstream spec, 6.2). In a superframe the
/// first frame starts at byte 0, so this reads the first frame.
fn parse_header(frame: &[u8]) -> Option<Header> {
    let mut r = BitReader {
        data: frame,
        pos: 0,
    };
    if r.bits(2)? != 2 {
        return None;
    }
    let profile = r.bit()? | (r.bit()? << 1);
    if profile == 3 {
        r.bit()?;
    }
    if r.bit()? == 1 {
        // show_existing_frame: a repeat of an already decoded frame.
        return Some(Header {
            keyframe: false,
            size: None,
        });
    }
    let keyframe = r.bit()? == 0;
    if !keyframe {
        return Some(Header {
            keyframe,
            size: None,
        });
    }
    let size = keyframe_size(&mut r, profile);
    Some(Header { keyframe, size })
}

fn keyframe_size(r: &mut BitReader<'_>, profile: u32) -> Option<(u16, u16)> {
    r.bits(2)?; // show_frame, error_resilient_mode
    if r.bits(24)? != 0x49_83_42 {
        return None;
    }
    if profile >= 2 {
        r.bit()?; // ten_or_twelve_bit
    }
    let color_space = r.bits(3)?;
    if color_space != 7 {
        r.bit()?; // color_range
        if profile == 1 || profile == 3 {
            r.bits(3)?; // subsampling_x, subsampling_y, reserved_zero
        }
    } else if profile == 1 || profile == 3 {
        r.bit()?; // reserved_zero
    }
    let w = r.bits(16)? + 1;
    let h = r.bits(16)? + 1;
    Some((u16::try_from(w).ok()?, u16::try_from(h).ok()?))
}

struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.pos / 8)?;
        let bit = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(bit as u32)
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Some(v)
    }
}
