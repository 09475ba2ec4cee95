//! H.264 Annex B writer: access units behind 4-byte start codes, with the frame rate in the
//! SPS.
//!
//! A raw Annex B stream has no timestamps: players time it by the SPS VUI `timing_info`
//! (frame rate = `time_scale / (2 * num_units_in_tick)`), and without it by a default (25 fps
//! in ffmpeg). So every SPS is written with `timing_info` (added, or replacing the encoder's)
//! holding a placeholder rate, and [`AnnexBWriter::finish`] overwrites it in every SPS with the
//! measured mean rate of the recording, `(frames - 1) / (last - first timestamp)`: the file then
//! lasts as long as the recording (the span plus one mean frame interval), gaps included, but
//! frames are evenly spaced in it (a gap is spread over the whole file). ffmpeg reports
//! that rate and, when remuxing (`ffmpeg -i x.h264 -c copy x.mkv`), the duration; `ffprobe`
//! gives no format duration for raw H.264 at all.
//!
//! An SPS is written with a few zero bytes after it (`trailing_zero_8bits`, H.264 B.1), room
//! for the emulation prevention bytes that the final numbers may need. An SPS this writer
//! cannot parse is written as it came, untimed.

use std::io::{self, Seek, SeekFrom, Write};

const NAL_SPS: u8 = 7;
/// Zero bytes after each SPS: more than the emulation prevention bytes that 65 bits of timing
/// fields can add (one per two zero bytes).
const SPS_SLACK: usize = 6;
/// The rate an SPS says until `finish` writes the measured one: 30 fps.
const PLACEHOLDER: (u32, u32) = (1, 60);
const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// An SPS as rewritten: its RBSP (NAL header included) and where the 64 bits of
/// `num_units_in_tick` and `time_scale` are in it.
#[derive(PartialEq, Eq)]
struct Template {
    rbsp: Vec<u8>,
    field_bit: usize,
}

pub(crate) struct AnnexBWriter<W: Write + Seek> {
    out: W,
    position: u64,
    templates: Vec<Template>,
    /// Every SPS written: (file offset of its NAL header, bytes reserved, template).
    written: Vec<(u64, usize, usize)>,
}

impl<W: Write + Seek> AnnexBWriter<W> {
    pub(crate) fn new(mut out: W) -> io::Result<Self> {
        let position = out.stream_position()?;
        Ok(AnnexBWriter {
            out,
            position,
            templates: Vec::new(),
            written: Vec::new(),
        })
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.position += bytes.len() as u64;
        Ok(())
    }

    /// Writes the NAL units of one access unit. `units` are NAL units without start codes.
    pub(crate) fn write_access_unit(&mut self, units: &[&[u8]]) -> io::Result<()> {
        for nal in units {
            self.put(&START_CODE)?;
            let timed = (nal[0] & 0x1f == NAL_SPS)
                .then(|| with_timing(nal))
                .flatten();
            let Some(template) = timed else {
                self.put(nal)?;
                continue;
            };
            let index = match self.templates.iter().position(|t| *t == template) {
                Some(i) => i,
                None => {
                    self.templates.push(template);
                    self.templates.len() - 1
                }
            };
            let mut bytes = escape(&set_fields(&self.templates[index], PLACEHOLDER));
            let reserved = bytes.len() + SPS_SLACK;
            bytes.resize(reserved, 0);
            self.written.push((self.position, reserved, index));
            self.put(&bytes)?;
        }
        Ok(())
    }

    /// Writes `timing` (`num_units_in_tick`, `time_scale`) into every SPS when given, flushes.
    pub(crate) fn finish(mut self, timing: Option<(u32, u32)>) -> io::Result<W> {
        if let Some(timing) = timing {
            let nals: Vec<Vec<u8>> = self
                .templates
                .iter()
                .map(|t| escape(&set_fields(t, timing)))
                .collect();
            for &(offset, reserved, index) in &self.written {
                let nal = &nals[index];
                if nal.len() > reserved {
                    continue; // cannot happen (see SPS_SLACK); the placeholder stays
                }
                self.out.seek(SeekFrom::Start(offset))?;
                self.out.write_all(nal)?;
                self.out.write_all(&vec![0; reserved - nal.len()])?;
            }
            self.out.seek(SeekFrom::Start(self.position))?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The NAL units of an Annex B access unit, without start codes and trailing zero bytes;
/// `None` if it does not begin with a start code.
pub(crate) fn split_nal_units(data: &[u8]) -> Option<Vec<&[u8]>> {
    let mut starts = Vec::new(); // index of the first byte after each start code
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let first = *starts.first()?;
    if data[..first - 3].iter().any(|&b| b != 0) {
        return None;
    }
    let mut units = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(data.len(), |&next| next - 3);
        let mut unit = &data[s..end];
        while let [rest @ .., 0] = unit {
            unit = rest;
        }
        if !unit.is_empty() {
            units.push(unit);
        }
    }
    Some(units)
}

/// The value to give [`AnnexBWriter::finish`] for `frames` frames over `span` ticks of a
/// `clock_rate` clock: the mean frame interval, in units of 1/1000 tick when that fits.
pub(crate) fn mean_rate_timing(span: u64, frames: u64, clock_rate: u32) -> Option<(u32, u32)> {
    if frames < 2 || span == 0 {
        return None;
    }
    let scale: u64 = if u64::from(clock_rate) * 2 * 1000 <= u64::from(u32::MAX) {
        1000
    } else {
        1
    };
    let time_scale = u32::try_from(u64::from(clock_rate) * 2 * scale).ok()?;
    let intervals = frames - 1;
    let num_units =
        (u128::from(span) * u128::from(scale) + u128::from(intervals) / 2) / u128::from(intervals);
    let num_units = u32::try_from(num_units.max(1)).ok()?;
    Some((num_units, time_scale))
}

fn unescape(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

fn escape(rbsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rbsp.len() + 4);
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}

fn set_fields(t: &Template, (num_units, time_scale): (u32, u32)) -> Vec<u8> {
    let mut rbsp = t.rbsp.clone();
    let value = (u64::from(num_units) << 32) | u64::from(time_scale);
    for k in 0..64 {
        let bit = t.field_bit + k;
        let mask = 0x80 >> (bit % 8);
        if value >> (63 - k) & 1 == 1 {
            rbsp[bit / 8] |= mask;
        } else {
            rbsp[bit / 8] &= !mask;
        }
    }
    rbsp
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn bit(&mut self) -> Option<bool> {
        let byte = self.data.get(self.pos / 8)?;
        let b = (byte >> (7 - self.pos % 8)) & 1 == 1;
        self.pos += 1;
        Some(b)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.pos += n;
        (self.pos <= self.data.len() * 8).then_some(())
    }

    fn bits(&mut self, n: usize) -> Option<u32> {
        (0..n).try_fold(0u32, |v, _| Some((v << 1) | u32::from(self.bit()?)))
    }

    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while !self.bit()? {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        Some(((1u64 << zeros) - 1 + u64::from(self.bits(zeros)?)) as u32)
    }

    fn se(&mut self) -> Option<i32> {
        let k = i64::from(self.ue()?);
        Some(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) } as i32)
    }
}

#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    len: usize,
}

impl BitWriter {
    fn bit(&mut self, b: bool) {
        if self.len.is_multiple_of(8) {
            self.bytes.push(0);
        }
        if b {
            *self.bytes.last_mut().expect("pushed") |= 0x80 >> (self.len % 8);
        }
        self.len += 1;
    }

    fn bits(&mut self, v: u32, n: usize) {
        for k in (0..n).rev() {
            self.bit(v >> k & 1 == 1);
        }
    }

    fn copy(&mut self, data: &[u8], from: usize, to: usize) {
        for p in from..to {
            self.bit(data[p / 8] >> (7 - p % 8) & 1 == 1);
        }
    }
}

/// The SPS NAL unit `nal` (escaped, header included) as an RBSP whose VUI has `timing_info`
/// (fixed frame rate), and the bit position of its two 32-bit fields; `None` when the SPS does
/// not parse up to there.
fn with_timing(nal: &[u8]) -> Option<Template> {
    let rbsp = unescape(nal);
    let mut r = Reader {
        data: &rbsp,
        pos: 8,
    };
    let profile_idc = r.bits(8)?;
    r.skip(16)?; // constraint flags, level_idc
    r.ue()?; // seq_parameter_set_id
    if [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].contains(&profile_idc) {
        let chroma_format_idc = r.ue()?;
        if chroma_format_idc == 3 {
            r.skip(1)?; // separate_colour_plane_flag
        }
        r.ue()?; // bit_depth_luma_minus8
        r.ue()?; // bit_depth_chroma_minus8
        r.skip(1)?; // qpprime_y_zero_transform_bypass_flag
        if r.bit()? {
            let lists = if chroma_format_idc == 3 { 12 } else { 8 };
            for i in 0..lists {
                if r.bit()? {
                    let size = if i < 6 { 16 } else { 64 };
                    let (mut last, mut next) = (8i32, 8i32);
                    for _ in 0..size {
                        if next != 0 {
                            next = (last + r.se()? + 256) % 256;
                        }
                        if next != 0 {
                            last = next;
                        }
                    }
                }
            }
        }
    }
    r.ue()?; // log2_max_frame_num_minus4
    match r.ue()? {
        0 => {
            r.ue()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            r.skip(1)?;
            r.se()?;
            r.se()?;
            let cycle = r.ue()?;
            if cycle > 255 {
                return None;
            }
            for _ in 0..cycle {
                r.se()?;
            }
        }
        _ => {}
    }
    r.ue()?; // max_num_ref_frames
    r.skip(1)?; // gaps_in_frame_num_value_allowed_flag
    r.ue()?; // pic_width_in_mbs_minus1
    r.ue()?; // pic_height_in_map_units_minus1
    if !r.bit()? {
        r.skip(1)?; // mb_adaptive_frame_field_flag
    }
    r.skip(1)?; // direct_8x8_inference_flag
    if r.bit()? {
        for _ in 0..4 {
            r.ue()?; // frame_crop_*_offset
        }
    }
    let vui_flag_at = r.pos;
    let mut w = BitWriter::default();
    let field_bit;
    if r.bit()? {
        if r.bit()? && r.bits(8)? == 255 {
            r.skip(32)?; // sar_width, sar_height
        }
        if r.bit()? {
            r.skip(1)?; // overscan_appropriate_flag
        }
        if r.bit()? {
            r.skip(4)?; // video_format, video_full_range_flag
            if r.bit()? {
                r.skip(24)?; // colour description
            }
        }
        if r.bit()? {
            r.ue()?;
            r.ue()?; // chroma_sample_loc_type_*
        }
        let timing_at = r.pos;
        if r.bit()? {
            r.skip(65)?;
        }
        let after = r.pos;
        // the last 1 bit is rbsp_stop_one_bit: what lies between is kept as it is
        let last = rbsp.iter().rposition(|&b| b != 0)?;
        let stop = last * 8 + 7 - rbsp[last].trailing_zeros() as usize;
        if stop < after {
            return None;
        }
        w.copy(&rbsp, 0, timing_at);
        w.bit(true);
        field_bit = w.len;
        w.bits(0, 32);
        w.bits(0, 32);
        w.bit(true); // fixed_frame_rate_flag
        w.copy(&rbsp, after, stop);
    } else {
        w.copy(&rbsp, 0, vui_flag_at);
        w.bit(true); // vui_parameters_present_flag
        w.bits(0, 4); // aspect ratio, overscan, video signal, chroma location: absent
        w.bit(true); // timing_info_present_flag
        field_bit = w.len;
        w.bits(0, 32);
        w.bits(0, 32);
        w.bit(true); // fixed_frame_rate_flag
        w.bits(0, 4); // no HRD, no pic_struct, no bitstream restriction
    }
    w.bit(true); // rbsp_stop_one_bit
    while !w.len.is_multiple_of(8) {
        w.bit(false);
    }
    Some(Template {
        rbsp: w.bytes,
        field_bit,
    })
}

#[cfg(test)]
pub(crate) fn timing_of(nal: &[u8]) -> Option<(u32, u32)> {
    // re-parse the written SPS: the fields sit where with_timing put them in its own output
    let t = with_timing(nal)?;
    let rbsp = unescape(nal);
    if t.field_bit + 64 > rbsp.len() * 8 || t.rbsp.len() != rbsp.len() {
        return None; // the SPS had no timing_info
    }
    let field = |at: usize| -> u32 {
        (0..32).fold(0, |v, k| {
            let p = at + k;
            (v << 1) | u32::from(rbsp[p / 8] >> (7 - p % 8) & 1)
        })
    };
    Some((field(t.field_bit), field(t.field_bit + 32)))
}
