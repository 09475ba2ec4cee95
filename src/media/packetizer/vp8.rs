//! VP8 (RFC 7741): a 4-byte payload descriptor on every packet, X=1, I=1 and a 15-bit picture
//! id (M=1), S=1 on the first packet of a frame, PID=0.
//!
//! mediasoup's VP8 parser returns no descriptor when X=0 (then it never sees a keyframe and its
//! consumers never start), and it rewrites 7-bit picture ids to 15 bits, one byte longer, in
//! every packet it forwards. So the descriptor always carries a 15-bit picture id, starting at
//! a random value as libwebrtc's does.

use super::Packetized;
use crate::MediaError;
use bytes::{BufMut, Bytes, BytesMut};

/// X (extended control bits present); S (start of a partition) is added on first packets.
const X: u8 = 0x80;
const S: u8 = 0x10;
/// I (picture id present), in the extension byte.
const I: u8 = 0x80;
/// M (15-bit picture id), in the first picture id byte.
const M: u16 = 0x8000;
const DESCRIPTOR_LEN: usize = 4;

#[derive(Debug)]
pub(super) struct Vp8 {
    picture_id: u16,
}

impl Vp8 {
    pub(super) fn new() -> Self {
        Vp8 {
            picture_id: rand::random::<u16>() & 0x7fff,
        }
    }

    pub(super) fn packetize(
        &mut self,
        frame: &Bytes,
        keyframe: Option<bool>,
        mtu: usize,
    ) -> Result<Packetized, MediaError> {
        // Frame tag: 3 bytes; a keyframe adds the start code 9d 01 2a and the dimensions.
        if frame.len() < 3 {
            return Err(MediaError::malformed(
                "VP8",
                format!("{} bytes is shorter than the 3-byte frame tag", frame.len()),
            ));
        }
        let keyframe = keyframe.unwrap_or_else(|| is_keyframe(frame));
        let room = mtu - DESCRIPTOR_LEN;
        let picture_id = M | self.picture_id;
        self.picture_id = (self.picture_id + 1) & 0x7fff;
        let payloads = frame
            .chunks(room)
            .enumerate()
            .map(|(i, chunk)| {
                let mut p = BytesMut::with_capacity(DESCRIPTOR_LEN + chunk.len());
                p.put_u8(if i == 0 { X | S } else { X });
                p.put_u8(I);
                p.put_u16(picture_id);
                p.put_slice(chunk);
                p.freeze()
            })
            .collect();
        Ok(Packetized { payloads, keyframe })
    }
}

/// The P bit (bit 0 of the frame tag) is 0 for a keyframe; this is what mediasoup reads too.
fn is_keyframe(frame: &[u8]) -> bool {
    frame.len() >= 10 && frame[0] & 0x01 == 0 && frame[3..6] == [0x9d, 0x01, 0x2a]
}
