//! IVF reader: VP8, VP9 and AV1 frames with their presentation times.
//!
//! Layout (little endian): a file header of `header_size` (normally 32) bytes
//!
//! ```text
//!  0 "DKIF"  4 version (0)  6 header_size  8 fourcc (VP80, VP90, AV01)
//! 12 width  14 height  16 timebase denominator  20 timebase numerator  24 frame count
//! ```
//!
//! then for each frame a 12-byte header (frame size u32, pts u64 in timebase units) and the
//! frame. Not rtc-media's `IVFReader`: that one allocates whatever size a frame header claims
//! (a corrupt header can ask for 4 GiB), ignores a header_size other than 32, and its errors
//! say neither the file nor the offset.

use crate::counted::{self, Counted};
use crate::MediaError;
use bytes::Bytes;
use std::io::Read;
use std::path::Path;

const FILE_HEADER_SIZE: usize = 32;
const FRAME_HEADER_SIZE: usize = 12;
/// Larger frames are taken as a corrupt header rather than allocated.
const MAX_FRAME_SIZE: u32 = 64 << 20;

/// The IVF file header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IvfHeader {
    /// The codec's fourcc as in the file: `VP80`, `VP90` or `AV01`.
    pub fourcc: [u8; 4],
    /// The mime type it maps to: video/VP8, video/VP9 or video/AV1.
    pub mime_type: &'static str,
    /// Width in pixels as the header declares it (frames may differ).
    pub width: u16,
    /// Height in pixels as the header declares it (frames may differ).
    pub height: u16,
    /// A pts unit is `timebase_numerator / timebase_denominator` seconds.
    pub timebase_numerator: u32,
    /// Denominator of the pts unit; never 0 (the reader rejects such a header).
    pub timebase_denominator: u32,
    /// As written by the muxer (0 or wrong in some files).
    pub frame_count: u32,
}

/// One frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IvfFrame {
    /// The encoded frame, without the 12-byte IVF frame header.
    pub data: Bytes,
    /// Presentation time in timebase units.
    pub pts: u64,
    /// Presentation time in microseconds.
    pub timestamp_us: u64,
    /// Offset of the frame header in the file.
    pub offset: u64,
}

/// Reads an IVF stream frame by frame.
pub struct IvfReader<R> {
    src: Counted<R>,
    header: IvfHeader,
}

impl IvfReader<std::io::BufReader<std::fs::File>> {
    /// Opens an IVF file and reads its header.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MediaError> {
        let path = path.as_ref();
        IvfReader::new(path.display().to_string(), counted::open(path)?)
    }
}

impl<R: Read> IvfReader<R> {
    /// Reads the file header from `reader`; `name` (usually the path) goes into errors.
    pub fn new(name: impl Into<String>, reader: R) -> Result<Self, MediaError> {
        let mut src = Counted::new(name.into(), reader, "IVF");
        let mut h = [0u8; FILE_HEADER_SIZE];
        src.exact(&mut h, "file header")?;
        if &h[0..4] != b"DKIF" {
            return Err(src.malformed_at(0, "not an IVF file (no DKIF signature)"));
        }
        let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let version = u16_at(4);
        if version != 0 {
            return Err(src.malformed_at(4, format!("unsupported IVF version {version}")));
        }
        let header_size = usize::from(u16_at(6));
        if header_size < FILE_HEADER_SIZE {
            return Err(src.malformed_at(
                6,
                format!("header size {header_size} is smaller than {FILE_HEADER_SIZE}"),
            ));
        }
        let fourcc = [h[8], h[9], h[10], h[11]];
        let mime_type = match &fourcc {
            b"VP80" => "video/VP8",
            b"VP90" => "video/VP9",
            b"AV01" => "video/AV1",
            _ => {
                return Err(src.malformed_at(
                    8,
                    format!(
                        "unsupported fourcc {:?}: VP80, VP90 or AV01 expected",
                        String::from_utf8_lossy(&fourcc)
                    ),
                ))
            }
        };
        let timebase_denominator = u32_at(16);
        let timebase_numerator = u32_at(20);
        if timebase_denominator == 0 || timebase_numerator == 0 {
            return Err(src.malformed_at(
                16,
                format!("invalid timebase {timebase_numerator}/{timebase_denominator}"),
            ));
        }
        src.vec(header_size - FILE_HEADER_SIZE, "file header")?;
        let header = IvfHeader {
            fourcc,
            mime_type,
            width: u16_at(12),
            height: u16_at(14),
            timebase_numerator,
            timebase_denominator,
            frame_count: u32_at(24),
        };
        Ok(IvfReader { src, header })
    }

    /// The file header, read and checked by the constructor.
    pub fn header(&self) -> &IvfHeader {
        &self.header
    }

    /// The next frame, `None` at the end of the file.
    pub fn next_frame(&mut self) -> Result<Option<IvfFrame>, MediaError> {
        let offset = self.src.offset;
        let mut h = [0u8; FRAME_HEADER_SIZE];
        let n = self.src.fill(&mut h)?;
        if n == 0 {
            return Ok(None);
        }
        if n < FRAME_HEADER_SIZE {
            return Err(self.src.malformed_at(
                offset,
                format!("truncated frame header: {FRAME_HEADER_SIZE} bytes expected, {n} found"),
            ));
        }
        let size = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let pts = u64::from_le_bytes([h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11]]);
        if size == 0 || size > MAX_FRAME_SIZE {
            return Err(self.src.malformed_at(
                offset,
                format!("frame size {size} out of range 1..={MAX_FRAME_SIZE}"),
            ));
        }
        let data = self.src.vec(size as usize, "frame")?;
        let us = u128::from(pts) * 1_000_000 * u128::from(self.header.timebase_numerator)
            / u128::from(self.header.timebase_denominator);
        Ok(Some(IvfFrame {
            data: Bytes::from(data),
            pts,
            timestamp_us: u64::try_from(us).unwrap_or(u64::MAX),
            offset,
        }))
    }
}

impl<R: Read> Iterator for IvfReader<R> {
    type Item = Result<IvfFrame, MediaError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_frame().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn file(fourcc: &[u8; 4], num: u32, den: u32, frames: &[(&[u8], u64)]) -> Vec<u8> {
        let mut f = b"DKIF".to_vec();
        f.extend(0u16.to_le_bytes());
        f.extend(32u16.to_le_bytes());
        f.extend(fourcc);
        f.extend(640u16.to_le_bytes());
        f.extend(480u16.to_le_bytes());
        f.extend(den.to_le_bytes());
        f.extend(num.to_le_bytes());
        f.extend((frames.len() as u32).to_le_bytes());
        f.extend(0u32.to_le_bytes());
        for (data, pts) in frames {
            f.extend((data.len() as u32).to_le_bytes());
            f.extend(pts.to_le_bytes());
            f.extend_from_slice(data);
        }
        f
    }

    #[test]
    fn reads_header_and_frames_with_times() {
        let bytes = file(b"VP80", 1, 30, &[(b"abc", 0), (b"defgh", 1), (b"i", 45)]);
        let mut r = IvfReader::new("a.ivf", Cursor::new(bytes)).unwrap();
        let h = r.header().clone();
        assert_eq!(h.mime_type, "video/VP8");
        assert_eq!(&h.fourcc, b"VP80");
        assert_eq!((h.width, h.height), (640, 480));
        assert_eq!((h.timebase_numerator, h.timebase_denominator), (1, 30));
        assert_eq!(h.frame_count, 3);
        let frames: Vec<IvfFrame> = r.by_ref().collect::<Result<_, _>>().unwrap();
        assert_eq!(frames.len(), 3);
        assert_eq!(&frames[1].data[..], b"defgh");
        assert_eq!(frames[1].offset, 32 + 12 + 3);
        assert_eq!(
            frames.iter().map(|f| f.timestamp_us).collect::<Vec<_>>(),
            [0, 33_333, 1_500_000]
        );
        assert!(r.next_frame().unwrap().is_none());
    }

    #[test]
    fn vp9_and_av1_fourccs_and_a_longer_header() {
        let mut bytes = file(b"VP90", 1, 90_000, &[]);
        assert_eq!(
            IvfReader::new("x", Cursor::new(bytes.clone()))
                .unwrap()
                .header()
                .mime_type,
            "video/VP9"
        );
        bytes[8..12].copy_from_slice(b"AV01");
        // 36-byte header: 4 extra bytes are skipped.
        bytes[6] = 36;
        bytes.extend([9, 9, 9, 9]);
        bytes.extend(2u32.to_le_bytes());
        bytes.extend(90_000u64.to_le_bytes());
        bytes.extend([0x12, 0x00]);
        let mut r = IvfReader::new("x", Cursor::new(bytes)).unwrap();
        assert_eq!(r.header().mime_type, "video/AV1");
        let f = r.next_frame().unwrap().unwrap();
        assert_eq!(&f.data[..], &[0x12, 0x00]);
        assert_eq!(f.timestamp_us, 1_000_000);
    }

    fn err(bytes: Vec<u8>) -> String {
        match IvfReader::new("clip.ivf", Cursor::new(bytes)) {
            Err(e) => e.to_string(),
            Ok(r) => r.collect::<Result<Vec<_>, _>>().unwrap_err().to_string(),
        }
    }

    #[test]
    fn malformed_files_name_the_file_and_the_offset() {
        let good = file(b"VP80", 1, 30, &[(b"abcdef", 0), (b"ghijkl", 1)]);
        assert_eq!(
            err(good[..20].to_vec()),
            "clip.ivf: malformed IVF at byte offset 0: truncated file header: 32 bytes \
             expected, 20 found before the end of the file"
        );
        let mut bad = good.clone();
        bad[0] = b'X';
        assert!(err(bad).contains("offset 0: not an IVF file"));
        let mut bad = good.clone();
        bad[8..12].copy_from_slice(b"H264");
        assert!(err(bad).contains("offset 8: unsupported fourcc \"H264\""));
        let mut bad = good.clone();
        bad[16..20].copy_from_slice(&0u32.to_le_bytes());
        assert!(err(bad).contains("offset 16: invalid timebase 1/0"));
        // Truncated in the second frame's header, then in its data.
        let second = 32 + 12 + 6;
        assert_eq!(
            err(good[..second + 5].to_vec()),
            format!(
                "clip.ivf: malformed IVF at byte offset {second}: truncated frame header: 12 \
                 bytes expected, 5 found"
            )
        );
        assert_eq!(
            err(good[..good.len() - 2].to_vec()),
            format!(
                "clip.ivf: malformed IVF at byte offset {}: truncated frame: 6 bytes expected, \
                 4 found before the end of the file",
                second + 12
            )
        );
        // A corrupt size is not allocated.
        let mut bad = good;
        bad[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(err(bad).contains("offset 32: frame size 4294967295 out of range"));
    }

    #[test]
    fn open_reports_the_path() {
        let e = IvfReader::open("/nonexistent/clip.ivf").err().unwrap();
        assert!(e
            .to_string()
            .starts_with("/nonexistent/clip.ivf: cannot open"));
    }
}
