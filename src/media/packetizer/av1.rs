//! AV1 (AV1 RTP payload spec v1.0): rtc-rtp's payloader (a port of libwebrtc's), guarded.
//!
//! What rtc-rtp gets right: the aggregation header (Z, Y, W), OBU elements without their size
//! field, temporal delimiters / tile lists / padding dropped, fragments spread over packets.
//! What it does not, and is handled here:
//! - its OBU parser slices by the declared `obu_size` without checking it against the data
//!   left, so a truncated temporal unit panics: the OBU stream is validated first;
//! - it sets N (new coded video sequence) whenever the first OBU is a sequence header, keyframe
//!   or not: N is set here only on the first packet of a keyframe that starts with one, as
//!   libwebrtc does;
//! - the last sequence header seen is kept and put in front of a keyframe that lacks one, so
//!   that a receiver joining later can decode.

use super::Packetized;
use crate::MediaError;
use bytes::{BufMut, Bytes, BytesMut};
use rtc_rtp::codec::av1::Av1Payloader;
use rtc_rtp::packetizer::Payloader;

const OBU_SEQUENCE_HEADER: u8 = 1;
const OBU_TEMPORAL_DELIMITER: u8 = 2;
const OBU_FRAME_HEADER: u8 = 3;
const OBU_FRAME: u8 = 6;
const OBU_TILE_LIST: u8 = 8;
const OBU_PADDING: u8 = 15;

/// N: the packet is the first of a coded video sequence.
const AGGREGATION_N: u8 = 0x08;

#[derive(Debug, Default)]
pub(super) struct Av1 {
    payloader: Av1Payloader,
    /// The last sequence header OBU, with its size field.
    sequence_header: Option<Bytes>,
    reduced_still_picture_header: bool,
}

struct Obu {
    kind: u8,
    /// Header (and extension) bytes, then the payload.
    header: Bytes,
    payload: Bytes,
}

impl Av1 {
    pub(super) fn packetize(
        &mut self,
        frame: &Bytes,
        keyframe: Option<bool>,
        mtu: usize,
    ) -> Result<Packetized, MediaError> {
        let obus = parse_obus(frame)?;
        let sent: Vec<&Obu> = obus
            .iter()
            .filter(|o| !matches!(o.kind, OBU_TEMPORAL_DELIMITER | OBU_TILE_LIST | OBU_PADDING))
            .collect();
        if sent.is_empty() {
            return Err(MediaError::malformed(
                "AV1",
                "the temporal unit holds no OBU to send (only delimiters, tile lists or padding)",
            ));
        }
        if let Some(seq) = sent.iter().find(|o| o.kind == OBU_SEQUENCE_HEADER) {
            self.sequence_header = Some(with_size_field(seq));
            // seq_profile (3 bits), still_picture (1), reduced_still_picture_header (1)
            self.reduced_still_picture_header = seq.payload.first().is_some_and(|b| b & 0x08 != 0);
        }
        let keyframe = keyframe.unwrap_or_else(|| self.detect_keyframe(&sent));
        let starts_with_sequence_header = sent[0].kind == OBU_SEQUENCE_HEADER;

        let input = match &self.sequence_header {
            Some(seq) if keyframe && !sent.iter().any(|o| o.kind == OBU_SEQUENCE_HEADER) => {
                let mut input = BytesMut::with_capacity(seq.len() + frame.len());
                input.put_slice(seq);
                input.put_slice(frame);
                input.freeze()
            }
            _ => frame.clone(),
        };
        let sequence_header_first = starts_with_sequence_header || input.len() != frame.len();

        let mut payloads = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.payloader.payload(mtu, &input)
        }))
        .map_err(|_| MediaError::malformed("AV1", "rtc-rtp's AV1 payloader panicked"))?
        .map_err(|e| MediaError::malformed("AV1", e.to_string()))?;
        if payloads.is_empty() {
            return Err(MediaError::malformed("AV1", "no RTP payload produced"));
        }

        let header = payloads[0][0];
        let wanted = if keyframe && sequence_header_first {
            header | AGGREGATION_N
        } else {
            header & !AGGREGATION_N
        };
        if wanted != header {
            let mut first = BytesMut::from(&payloads[0][..]);
            first[0] = wanted;
            payloads[0] = first.freeze();
        }
        Ok(Packetized { payloads, keyframe })
    }

    /// A keyframe: the first frame header says KEY_FRAME and shows a new frame.
    fn detect_keyframe(&self, obus: &[&Obu]) -> bool {
        let Some(frame) = obus
            .iter()
            .find(|o| matches!(o.kind, OBU_FRAME | OBU_FRAME_HEADER))
        else {
            return false;
        };
        if self.reduced_still_picture_header {
            return true;
        }
        // show_existing_frame (1 bit) = 0, frame_type (2 bits) = KEY_FRAME (0)
        frame.payload.first().is_some_and(|b| b & 0xe0 == 0)
    }
}

fn with_size_field(obu: &Obu) -> Bytes {
    let mut out = BytesMut::with_capacity(obu.header.len() + 8 + obu.payload.len());
    out.put_u8(obu.header[0] | 0x02);
    out.put_slice(&obu.header[1..]);
    put_leb128(&mut out, obu.payload.len() as u64);
    out.put_slice(&obu.payload);
    out.freeze()
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

/// Parses a temporal unit in low-overhead bitstream format (every OBU but the last must have
/// its size field), checking every size against the bytes left.
fn parse_obus(tu: &Bytes) -> Result<Vec<Obu>, MediaError> {
    let mut obus = Vec::new();
    let mut at = 0;
    while at < tu.len() {
        let bad =
            |reason: String| MediaError::malformed("AV1", format!("OBU at byte {at}: {reason}"));
        let h = tu[at];
        if h & 0x80 != 0 {
            return Err(bad("forbidden bit set (not an OBU stream?)".into()));
        }
        let kind = (h >> 3) & 0x0f;
        let header_len = if h & 0x04 != 0 { 2 } else { 1 };
        if at + header_len > tu.len() {
            return Err(bad("truncated extension header".into()));
        }
        let header = tu.slice(at..at + header_len);
        let mut pos = at + header_len;
        let size = if h & 0x02 != 0 {
            let (size, n) = read_leb128(&tu[pos..])
                .ok_or_else(|| bad("truncated or oversized obu_size".into()))?;
            pos += n;
            let left = tu.len() - pos;
            if size > left as u64 {
                return Err(bad(format!(
                    "obu_size {size} is larger than the {left} bytes left"
                )));
            }
            size as usize
        } else {
            tu.len() - pos
        };
        obus.push(Obu {
            kind,
            header,
            payload: tu.slice(pos..pos + size),
        });
        at = pos + size;
    }
    Ok(obus)
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
