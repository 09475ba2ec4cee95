//! A byte reader that knows its offset and the file's name, for file readers' errors.

use crate::MediaError;
use std::io::{ErrorKind, Read};

pub(crate) struct Counted<R> {
    pub(crate) name: String,
    reader: R,
    pub(crate) offset: u64,
    format: &'static str,
}

impl<R: Read> Counted<R> {
    pub(crate) fn new(name: String, reader: R, format: &'static str) -> Self {
        Counted {
            name,
            reader,
            offset: 0,
            format,
        }
    }

    /// A malformed-file error at `offset`.
    pub(crate) fn malformed_at(&self, offset: u64, reason: impl Into<String>) -> MediaError {
        MediaError::MalformedFile {
            file: self.name.clone(),
            format: self.format,
            offset,
            reason: reason.into(),
        }
    }

    /// Fills `buf` as far as the data goes; returns how many bytes were read (less than
    /// `buf.len()` only at the end of the data).
    pub(crate) fn fill(&mut self, buf: &mut [u8]) -> Result<usize, MediaError> {
        let mut n = 0;
        while n < buf.len() {
            match self.reader.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(MediaError::Io {
                        file: self.name.clone(),
                        reason: format!(
                            "read error at byte offset {}: {e}",
                            self.offset + n as u64
                        ),
                    })
                }
            }
        }
        self.offset += n as u64;
        Ok(n)
    }

    /// Reads exactly `buf.len()` bytes; a short read is a truncated `what`.
    pub(crate) fn exact(&mut self, buf: &mut [u8], what: &str) -> Result<(), MediaError> {
        let start = self.offset;
        let n = self.fill(buf)?;
        if n < buf.len() {
            return Err(self.malformed_at(
                start,
                format!(
                    "truncated {what}: {} bytes expected, {n} found before the end of the file",
                    buf.len()
                ),
            ));
        }
        Ok(())
    }

    /// Reads `len` bytes into a new buffer without trusting `len` for the allocation: at most
    /// 16 KiB is reserved up front, then the buffer grows with the bytes actually read.
    pub(crate) fn vec(&mut self, len: usize, what: &str) -> Result<Vec<u8>, MediaError> {
        let start = self.offset;
        let mut out = Vec::with_capacity(len.min(16 << 10));
        let mut chunk = [0u8; 8192];
        while out.len() < len {
            let want = chunk.len().min(len - out.len());
            let n = self.fill(&mut chunk[..want])?;
            out.extend_from_slice(&chunk[..n]);
            if n < want {
                return Err(self.malformed_at(
                    start,
                    format!(
                        "truncated {what}: {len} bytes expected, {} found before the end of \
                         the file",
                        out.len()
                    ),
                ));
            }
        }
        Ok(out)
    }
}

/// Opens `path` for a reader, with the path in the error.
pub(crate) fn open(
    path: &std::path::Path,
) -> Result<std::io::BufReader<std::fs::File>, MediaError> {
    std::fs::File::open(path)
        .map(std::io::BufReader::new)
        .map_err(|e| MediaError::Io {
            file: path.display().to_string(),
            reason: format!("cannot open: {e}"),
        })
}
