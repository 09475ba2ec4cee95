//! IVF writer (VP8, VP9, AV1): the layout [`crate::IvfReader`] reads.
//!
//! The time base is `1/clock_rate` (1/90000 for RTP video), so a frame's pts is its RTP time
//! from the first frame, gaps included. Bytes 24..32 of the file header hold, once
//! [`IvfWriter::finish`] ran, the stream length in time-base units as a 64-bit number: that is
//! what ffmpeg's IVF muxer writes there and what its demuxer reads as the stream duration.
//! libvpx names the first 4 of those bytes the frame count; its decoder does not read them, and
//! with a 1/90000 time base a frame count would make ffmpeg report a duration of a few
//! milliseconds. The length is the span of the pts plus the interval before the last frame
//! (how long the last frame shows).

use std::io::{self, Seek, SeekFrom, Write};

/// Size of the file header.
const FILE_HEADER_SIZE: u16 = 32;

pub(crate) struct IvfWriter<W: Write + Seek> {
    out: W,
    width: u16,
    height: u16,
}

impl<W: Write + Seek> IvfWriter<W> {
    /// Writes the file header (size and length 0 until [`IvfWriter::finish`]).
    pub(crate) fn new(mut out: W, fourcc: &[u8; 4], clock_rate: u32) -> io::Result<Self> {
        let mut h = Vec::with_capacity(usize::from(FILE_HEADER_SIZE));
        h.extend_from_slice(b"DKIF");
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&FILE_HEADER_SIZE.to_le_bytes());
        h.extend_from_slice(fourcc);
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&clock_rate.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        h.extend_from_slice(&0u64.to_le_bytes());
        out.write_all(&h)?;
        Ok(IvfWriter {
            out,
            width: 0,
            height: 0,
        })
    }

    /// The picture size the header declares (kept 0 when no keyframe told it).
    pub(crate) fn set_size(&mut self, width: u16, height: u16) {
        self.width = width;
        self.height = height;
    }

    pub(crate) fn write_frame(&mut self, data: &[u8], pts: u64) -> io::Result<()> {
        let size = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame larger than 4 GiB"))?;
        let mut h = [0u8; 12];
        h[0..4].copy_from_slice(&size.to_le_bytes());
        h[4..12].copy_from_slice(&pts.to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(data)
    }

    /// Writes the picture size and `length` (time-base units) into the header, flushes.
    pub(crate) fn finish(mut self, length: u64) -> io::Result<W> {
        let end = self.out.stream_position()?;
        self.out.seek(SeekFrom::Start(12))?;
        self.out.write_all(&self.width.to_le_bytes())?;
        self.out.write_all(&self.height.to_le_bytes())?;
        self.out.seek(SeekFrom::Start(24))?;
        self.out.write_all(&length.to_le_bytes())?;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reads bits most significant first; `None` past the end.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Option<u32> {
        let byte = self.data.get(self.pos / 8)?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(b))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0u32, |v, _| Some((v << 1) | self.bit()?))
    }
}

/// Width and height of a VP8 keyframe (RFC 6386, 9.1): 3-byte frame tag, start code
/// `9d 01 2a`, then 14-bit width and height (the top 2 bits of each are scaling).
pub(crate) fn vp8_size(frame: &[u8]) -> Option<(u16, u16)> {
    if frame.len() < 10 || frame[0] & 1 != 0 || frame[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let w = u16::from_le_bytes([frame[6], frame[7]]) & 0x3fff;
    let h = u16::from_le_bytes([frame[8], frame[9]]) & 0x3fff;
    Some((w, h))
}

/// Width and height of a VP9 keyframe, from its uncompressed header (VP9 bitstream spec,
/// 6.2): frame marker, profile, frame type, sync code, color config, then the frame size.
pub(crate) fn vp9_size(frame: &[u8]) -> Option<(u16, u16)> {
    let mut r = Bits {
        data: frame,
        pos: 0,
    };
    if r.bits(2)? != 2 {
        return None;
    }
    let low = r.bit()?;
    let profile = (r.bit()? << 1) | low;
    if profile == 3 {
        r.bit()?;
    }
    if r.bit()? == 1 {
        return None; // show_existing_frame
    }
    if r.bit()? != 0 {
        return None; // not a keyframe
    }
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
            r.bits(3)?; // subsampling_x, subsampling_y, reserved
        }
    } else if profile == 1 || profile == 3 {
        r.bit()?;
    }
    let w = r.bits(16)? + 1;
    let h = r.bits(16)? + 1;
    Some((u16::try_from(w).ok()?, u16::try_from(h).ok()?))
}

/// The largest picture size of an AV1 temporal unit's sequence header OBU (AV1 spec, 5.5):
/// `max_frame_width_minus_1` and `max_frame_height_minus_1`.
pub(crate) fn av1_size(tu: &[u8]) -> Option<(u16, u16)> {
    let mut at = 0;
    while at < tu.len() {
        let header = tu[at];
        let obu_type = (header >> 3) & 0x0f;
        let extension = header & 0x04 != 0;
        let has_size = header & 0x02 != 0;
        let mut p = at + 1 + usize::from(extension);
        let size = if has_size {
            let (v, n) = leb128(tu.get(p..)?)?;
            p += n;
            usize::try_from(v).ok()?
        } else {
            tu.len().checked_sub(p)?
        };
        let body = tu.get(p..p.checked_add(size)?)?;
        if obu_type == 1 {
            return av1_sequence_header_size(body);
        }
        at = p + size;
    }
    None
}

fn leb128(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().take(8).enumerate() {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

fn av1_sequence_header_size(body: &[u8]) -> Option<(u16, u16)> {
    let mut r = Bits { data: body, pos: 0 };
    r.bits(3)?; // seq_profile
    r.bit()?; // still_picture
    let reduced = r.bit()? == 1;
    if reduced {
        r.bits(5)?; // seq_level_idx[0]
    } else {
        let timing_info = r.bit()? == 1;
        let mut decoder_model_info = false;
        let mut buffer_delay_length = 0;
        if timing_info {
            r.bits(32)?; // num_units_in_display_tick
            r.bits(32)?; // time_scale
            if r.bit()? == 1 {
                // num_ticks_per_picture_minus_1, uvlc
                let mut zeros = 0;
                while r.bit()? == 0 {
                    zeros += 1;
                    if zeros >= 32 {
                        return None;
                    }
                }
                r.bits(zeros)?;
            }
            decoder_model_info = r.bit()? == 1;
            if decoder_model_info {
                buffer_delay_length = r.bits(5)? + 1;
                r.bits(32)?; // num_units_in_decoding_tick
                r.bits(10)?; // buffer_removal_time_length_minus_1, frame_presentation_...
            }
        }
        let initial_display_delay = r.bit()? == 1;
        let operating_points = r.bits(5)? + 1;
        for _ in 0..operating_points {
            r.bits(12)?; // operating_point_idc
            if r.bits(5)? > 7 {
                r.bit()?; // seq_tier
            }
            if decoder_model_info && r.bit()? == 1 {
                r.bits(buffer_delay_length)?;
                r.bits(buffer_delay_length)?;
                r.bit()?; // low_delay_mode_flag
            }
            if initial_display_delay && r.bit()? == 1 {
                r.bits(4)?;
            }
        }
    }
    let width_bits = r.bits(4)? + 1;
    let height_bits = r.bits(4)? + 1;
    let w = r.bits(width_bits)? + 1;
    let h = r.bits(height_bits)? + 1;
    Some((u16::try_from(w).ok()?, u16::try_from(h).ok()?))
}
