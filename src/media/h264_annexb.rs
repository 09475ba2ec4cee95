//! H.264 Annex B reader (`.h264`, `.264`): access units at a fixed frame rate.
//!
//! An Annex B stream is NAL units behind start codes (`00 00 01` or `00 00 00 01`) and has no
//! timestamps, so the caller gives the frame rate. Access units are delimited as H.264 7.4.1.2.3
//! says, for the streams encoders write: an access unit delimiter, SPS, PPS, SEI or NAL types
//! 14..=18 after a slice start a new one, and so does a slice whose `first_mb_in_slice` is 0.
//! Each access unit comes back in Annex B form (4-byte start codes), as the H.264 packetizer
//! takes it.

use crate::counted::{self, Counted};
use crate::MediaError;
use bytes::{BufMut, Bytes, BytesMut};
use std::io::Read;
use std::path::Path;

const READ_CHUNK: usize = 64 << 10;
/// Larger NAL units are taken as a corrupt stream rather than buffered.
const MAX_NAL_SIZE: usize = 16 << 20;

/// One access unit (one frame).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct H264AccessUnit {
    /// The NAL units, each behind a 4-byte start code.
    pub data: Bytes,
    /// Index of the frame in the stream (0 for the first).
    pub index: u64,
    /// `index / frame_rate`, in microseconds.
    pub timestamp_us: u64,
    /// Holds an IDR slice.
    pub keyframe: bool,
    /// Offset of its first NAL unit's start code in the file.
    pub offset: u64,
}

struct Nal {
    /// Offset of the start code.
    offset: u64,
    data: Bytes,
}

/// Reads an H.264 Annex B stream access unit by access unit.
pub struct H264Reader<R> {
    src: Counted<R>,
    /// Bytes read and not yet split off, starting at file offset `buf_offset`.
    buf: Vec<u8>,
    buf_offset: u64,
    eof: bool,
    peeked: Option<Nal>,
    frame_rate: f64,
    next_index: u64,
}

impl H264Reader<std::io::BufReader<std::fs::File>> {
    /// Opens an H.264 Annex B file played at `frame_rate` frames per second.
    pub fn open(path: impl AsRef<Path>, frame_rate: f64) -> Result<Self, MediaError> {
        let path = path.as_ref();
        H264Reader::new(path.display().to_string(), counted::open(path)?, frame_rate)
    }
}

fn nal_type(nal: &[u8]) -> u8 {
    nal[0] & 0x1f
}

fn is_vcl(t: u8) -> bool {
    (1..=5).contains(&t)
}

impl<R: Read> H264Reader<R> {
    /// Checks that the stream begins with a start code; `name` (usually the path) goes into
    /// errors.
    pub fn new(name: impl Into<String>, reader: R, frame_rate: f64) -> Result<Self, MediaError> {
        let src = Counted::new(name.into(), reader, "H.264 Annex B");
        if !(frame_rate.is_finite() && frame_rate > 0.0 && frame_rate <= 1000.0) {
            return Err(MediaError::InvalidArgument(format!(
                "invalid frame rate {frame_rate}: a number of frames per second in (0, 1000]"
            )));
        }
        let mut r = H264Reader {
            src,
            buf: Vec::new(),
            buf_offset: 0,
            eof: false,
            peeked: None,
            frame_rate,
            next_index: 0,
        };
        r.fill_to(4)?;
        let zeros = r.buf.iter().take_while(|&&b| b == 0).count();
        if r.buf.is_empty() {
            return Err(r.src.malformed_at(0, "empty file"));
        }
        if zeros < 2 || r.buf.get(zeros) != Some(&1) {
            return Err(r.src.malformed_at(
                0,
                "not an H.264 Annex B stream (it does not begin with a 00 00 01 start code)",
            ));
        }
        Ok(r)
    }

    /// Frames per second given to [`H264Reader::new`]; access units are timed by it, as the
    /// stream carries no times.
    pub fn frame_rate(&self) -> f64 {
        self.frame_rate
    }

    /// Reads until `buf` holds at least `len` bytes or the data ends.
    fn fill_to(&mut self, len: usize) -> Result<(), MediaError> {
        while self.buf.len() < len && !self.eof {
            let start = self.buf.len();
            self.buf.resize(start + READ_CHUNK, 0);
            let n = self.src.fill(&mut self.buf[start..])?;
            self.buf.truncate(start + n);
            if n < READ_CHUNK {
                self.eof = true;
            }
        }
        Ok(())
    }

    /// Position of the first start code (`00 00 01`) at or after `from` in `buf`, reading more
    /// as needed; `None` at the end of the data.
    fn find_start_code(&mut self, from: usize) -> Result<Option<usize>, MediaError> {
        let mut i = from;
        loop {
            while i + 3 <= self.buf.len() {
                // skip fast: a start code has 1 as its third byte
                let b2 = self.buf[i + 2];
                if b2 > 1 {
                    i += 3;
                } else if b2 == 1 && self.buf[i] == 0 && self.buf[i + 1] == 0 {
                    return Ok(Some(i));
                } else {
                    i += 1;
                }
            }
            if self.eof {
                return Ok(None);
            }
            if self.buf.len() > MAX_NAL_SIZE + 4 {
                return Err(self.src.malformed_at(
                    self.buf_offset,
                    format!("a NAL unit larger than {MAX_NAL_SIZE} bytes: not H.264 Annex B?"),
                ));
            }
            let want = self.buf.len() + READ_CHUNK;
            self.fill_to(want)?;
        }
    }

    /// The next NAL unit (without its start code), `None` at the end.
    fn next_nal(&mut self) -> Result<Option<Nal>, MediaError> {
        loop {
            let Some(sc) = self.find_start_code(0)? else {
                return Ok(None);
            };
            let start = sc + 3;
            let end = self.find_start_code(start)?.unwrap_or(self.buf.len());
            // zeros before the next start code are its leading byte or trailing_zero_8bits
            let mut nal_end = end;
            while nal_end > start && self.buf[nal_end - 1] == 0 {
                nal_end -= 1;
            }
            // the start code's offset includes its leading zero byte(s)
            let mut first = sc;
            while first > 0 && self.buf[first - 1] == 0 {
                first -= 1;
            }
            let offset = self.buf_offset + first as u64;
            let data = Bytes::copy_from_slice(&self.buf[start..nal_end]);
            // keep the zeros before the next start code: they belong to its offset
            let consumed = if end == self.buf.len() { end } else { nal_end };
            self.buf.drain(..consumed);
            self.buf_offset += consumed as u64;
            if data.is_empty() {
                continue;
            }
            if data[0] & 0x80 != 0 {
                return Err(self.src.malformed_at(
                    offset,
                    "NAL unit with forbidden_zero_bit set: not H.264, or a corrupt stream",
                ));
            }
            let t = nal_type(&data);
            if t == 0 || t >= 24 {
                return Err(self.src.malformed_at(
                    offset,
                    format!("NAL unit type {t} is not H.264 (an H.265 stream?)"),
                ));
            }
            return Ok(Some(Nal { offset, data }));
        }
    }

    /// The next access unit, `None` at the end of the stream.
    pub fn next_access_unit(&mut self) -> Result<Option<H264AccessUnit>, MediaError> {
        let mut nals: Vec<Nal> = Vec::new();
        let mut has_vcl = false;
        loop {
            let nal = match self.peeked.take() {
                Some(n) => Some(n),
                None => self.next_nal()?,
            };
            let Some(nal) = nal else { break };
            let t = nal_type(&nal.data);
            let starts_new = match t {
                6..=9 | 14..=18 => true,
                1 | 5 => nal.data.get(1).is_some_and(|b| b & 0x80 != 0), // first_mb_in_slice == 0
                _ => false,
            };
            if has_vcl && starts_new {
                self.peeked = Some(nal);
                break;
            }
            has_vcl |= is_vcl(t);
            nals.push(nal);
        }
        if nals.is_empty() {
            return Ok(None);
        }
        if !has_vcl {
            // parameter sets or SEI at the end of the stream, with no picture after them
            return Ok(None);
        }
        let mut data = BytesMut::with_capacity(nals.iter().map(|n| n.data.len() + 4).sum());
        for n in &nals {
            data.put_slice(&[0, 0, 0, 1]);
            data.put_slice(&n.data);
        }
        let index = self.next_index;
        self.next_index += 1;
        Ok(Some(H264AccessUnit {
            data: data.freeze(),
            index,
            timestamp_us: (index as f64 * 1_000_000.0 / self.frame_rate).round() as u64,
            keyframe: nals.iter().any(|n| nal_type(&n.data) == 5),
            offset: nals[0].offset,
        }))
    }
}

impl<R: Read> Iterator for H264Reader<R> {
    type Item = Result<H264AccessUnit, MediaError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_access_unit().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn nal(header: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![header];
        v.extend_from_slice(body);
        v
    }

    fn stream(nals: &[Vec<u8>], long_start_code: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for n in nals {
            if long_start_code {
                out.push(0);
            }
            out.extend_from_slice(&[0, 0, 1]);
            out.extend_from_slice(n);
        }
        out
    }

    const SPS: u8 = 0x67;
    const PPS: u8 = 0x68;
    const SEI: u8 = 0x06;
    const AUD: u8 = 0x09;
    const IDR: u8 = 0x65;
    const SLICE: u8 = 0x41;

    fn reader(bytes: Vec<u8>) -> H264Reader<Cursor<Vec<u8>>> {
        H264Reader::new("clip.h264", Cursor::new(bytes), 25.0).unwrap()
    }

    #[test]
    fn splits_access_units_by_first_mb_in_slice_and_parameter_sets() {
        let nals = [
            nal(SPS, &[0x42, 0xe0, 0x1f]),
            nal(PPS, &[0xce]),
            nal(SEI, &[0x05, 0x01, 0x80]),
            nal(IDR, &[0x88, 1, 2]),       // first_mb 0: a new picture
            nal(IDR, &[0x40, 3, 4]),       // second slice of the same picture
            nal(SLICE, &[0x9a, 5]),        // next picture
            nal(SLICE, &[0x9a, 6]),        // next picture
            nal(SLICE, &[0x2a, 7]),        // its second slice
            nal(SPS, &[0x42, 0xe0, 0x1f]), // a new access unit with SPS
            nal(IDR, &[0x88, 8]),
        ];
        for long in [false, true] {
            let aus: Vec<_> = reader(stream(&nals, long))
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(aus.len(), 4);
            assert_eq!(
                aus.iter().map(|a| a.keyframe).collect::<Vec<_>>(),
                [true, false, false, true]
            );
            assert_eq!(
                aus.iter().map(|a| a.timestamp_us).collect::<Vec<_>>(),
                [0, 40_000, 80_000, 120_000]
            );
            assert_eq!(aus[0].offset, 0);
            let sc = if long { 4 } else { 3 };
            assert_eq!(aus[1].offset, (5 * sc + 4 + 2 + 4 + 4 + 4) as u64);
            let mut expected = Vec::new();
            for n in &nals[..5] {
                expected.extend_from_slice(&[0, 0, 0, 1]);
                expected.extend_from_slice(n);
            }
            assert_eq!(&aus[0].data[..], &expected[..]);
            assert_eq!(aus[2].data.len(), 2 * 4 + 3 + 3);
        }
    }

    #[test]
    fn an_access_unit_delimiter_starts_a_new_access_unit() {
        let nals = [
            nal(AUD, &[0xf0]),
            nal(SLICE, &[0x9a]),
            nal(AUD, &[0xf0]),
            nal(SLICE, &[0x9a]),
            nal(SPS, &[0x42]), // trailing parameter set with no picture: dropped
        ];
        let aus: Vec<_> = reader(stream(&nals, true))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(aus.len(), 2);
        assert_eq!(
            &aus[1].data[..],
            &[0, 0, 0, 1, AUD, 0xf0, 0, 0, 0, 1, SLICE, 0x9a]
        );
    }

    #[test]
    fn large_streams_are_read_in_chunks() {
        // three pictures of 150 KB each: start codes cross the read-chunk boundaries
        let mut nals = vec![nal(SPS, &[0x42]), nal(PPS, &[0xce])];
        for i in 0..3u8 {
            let mut body = vec![0x88];
            body.extend((0..150_000u32).map(|j| (j % 251) as u8 | 0x04));
            body.push(i);
            nals.push(nal(if i == 0 { IDR } else { SLICE }, &body));
        }
        let aus: Vec<_> = reader(stream(&nals, true))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(aus.len(), 3);
        assert_eq!(aus[2].data.len(), 4 + 1 + 150_002);
        assert_eq!(*aus[2].data.last().unwrap(), 2);
    }

    fn err(bytes: Vec<u8>) -> String {
        match H264Reader::new("clip.h264", Cursor::new(bytes), 30.0) {
            Err(e) => e.to_string(),
            Ok(r) => r.collect::<Result<Vec<_>, _>>().unwrap_err().to_string(),
        }
    }

    #[test]
    fn bad_streams_name_the_file_and_the_offset() {
        assert_eq!(
            err(b"DKIF....".to_vec()),
            "clip.h264: malformed H.264 Annex B at byte offset 0: not an H.264 Annex B stream \
             (it does not begin with a 00 00 01 start code)"
        );
        assert!(err(vec![]).contains("offset 0: empty file"));
        // an H.265 VPS (type 32 in a two-byte header)
        let hevc = stream(&[vec![0x40, 0x01, 0x0c]], true);
        let e = err(hevc);
        assert!(e.contains("offset 0: NAL unit type 0 is not H.264"), "{e}");
        let mut s = stream(&[nal(SPS, &[0x42]), nal(IDR, &[0x88])], true);
        let second = 4 + 2;
        s[second + 4] = 0xe5; // forbidden bit
        assert!(err(s).contains(&format!(
            "offset {second}: NAL unit with forbidden_zero_bit"
        )));
        assert!(H264Reader::new("x", Cursor::new(vec![0, 0, 1, 0x65]), 0.0).is_err());
    }

    #[test]
    fn the_bundled_sample_has_60_frames_with_a_keyframe_every_30() {
        // the directory at run time (see file_player::tests::sample)
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test");
        let path = format!("{dir}/../../samples/h264.h264");
        let aus: Vec<_> = H264Reader::open(path, 30.0)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(aus.len(), 60);
        let keys: Vec<u64> = aus.iter().filter(|a| a.keyframe).map(|a| a.index).collect();
        assert_eq!(keys, [0, 30]);
        assert_eq!(aus[59].timestamp_us, 1_966_667);
    }
}
