//! Ogg/Opus reader (RFC 3533 pages, RFC 7845 Opus mapping): Opus packets with their times.
//!
//! The first logical stream must be Opus: its first packet is `OpusHead`, then `OpusTags`
//! (possibly over several pages), then audio packets, which may span pages. Pages of other
//! logical streams are skipped; page CRCs are checked. Each packet's duration is read from its
//! TOC byte (RFC 6716, 3.1), so packets get times even inside a page (Ogg gives a granule
//! position per page only).
//!
//! Not rtc-media's `OggReader`: that one returns pages, not packets (a packet spanning pages
//! comes back in pieces), and its errors say neither the file nor the offset.

use crate::counted::{self, Counted};
use crate::MediaError;
use bytes::Bytes;
use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;

const PAGE_HEADER_SIZE: usize = 27;
const FLAG_CONTINUED: u8 = 0x01;
const FLAG_BOS: u8 = 0x02;
const FLAG_EOS: u8 = 0x04;
/// Larger packets (continued over pages) are taken as a corrupt stream rather than buffered:
/// an Opus packet is at most 120 ms of 48 frames of 1275 bytes, about 60 KiB.
const MAX_PACKET_SIZE: usize = 1 << 20;

/// The `OpusHead` packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusHead {
    /// Output channels (1 or 2 for the mapping family `audio/opus` over RTP carries).
    pub channels: u8,
    /// Samples (48 kHz) to drop at the start when decoding.
    pub pre_skip: u16,
    /// Sample rate of the original input (informational).
    pub input_sample_rate: u32,
    /// Q7.8 dB.
    pub output_gain: i16,
    /// 0: mono/stereo; 1 and 255: multistream (not what `audio/opus` over RTP carries).
    pub mapping_family: u8,
}

/// One Opus packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OggOpusPacket {
    /// The Opus packet (TOC byte first), reassembled across Ogg pages.
    pub data: Bytes,
    /// Start time in 48 kHz samples from the first audio packet (sum of earlier durations).
    pub position_samples: u64,
    /// Duration in 48 kHz samples, from the TOC byte.
    pub duration_samples: u32,
    /// The granule position of the page, on the last packet that ends on that page.
    pub granule_position: Option<u64>,
}

impl OggOpusPacket {
    /// Start time in microseconds.
    pub fn timestamp_us(&self) -> u64 {
        self.position_samples * 1_000_000 / 48_000
    }

    /// Duration in microseconds.
    pub fn duration_us(&self) -> u64 {
        u64::from(self.duration_samples) * 1_000_000 / 48_000
    }
}

/// Reads the Opus packets of an Ogg stream.
pub struct OggOpusReader<R> {
    src: Counted<R>,
    head: OpusHead,
    serial: u32,
    /// Packets completed and not yet returned.
    ready: VecDeque<RawPacket>,
    pending: Pending,
    position: u64,
    eos: bool,
}

/// A packet's bytes and, when it ends its page, the page's granule position.
type RawPacket = (Vec<u8>, Option<u64>);

/// A packet that continues on the next page.
enum Pending {
    None,
    Packet(Vec<u8>),
    /// The rest of a packet whose start is not in the file (a cut stream): skipped.
    Orphan,
}

struct Page {
    offset: u64,
    flags: u8,
    granule: i64,
    serial: u32,
    /// Packets or pieces: (bytes, the packet ends on this page).
    segments: Vec<(Vec<u8>, bool)>,
}

impl OggOpusReader<std::io::BufReader<std::fs::File>> {
    /// Opens an Ogg/Opus file and reads its headers.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MediaError> {
        let path = path.as_ref();
        OggOpusReader::new(path.display().to_string(), counted::open(path)?)
    }
}

impl<R: Read> OggOpusReader<R> {
    /// Reads `OpusHead` and skips `OpusTags`; `name` (usually the path) goes into errors.
    pub fn new(name: impl Into<String>, reader: R) -> Result<Self, MediaError> {
        let mut src = Counted::new(name.into(), reader, "Ogg/Opus");
        let first =
            read_page(&mut src)?.ok_or_else(|| src.malformed_at(0, "empty file: no Ogg page"))?;
        if first.flags & FLAG_BOS == 0 {
            return Err(src.malformed_at(
                first.offset,
                "the first page does not begin a logical stream (BOS flag unset)",
            ));
        }
        let head = match first.segments.as_slice() {
            [(p, true)] => {
                parse_head(p).map_err(|reason| src.malformed_at(first.offset, reason))?
            }
            _ => {
                return Err(src.malformed_at(
                    first.offset,
                    "the first page must hold exactly one complete packet (OpusHead)",
                ))
            }
        };
        let mut reader = OggOpusReader {
            src,
            head,
            serial: first.serial,
            ready: VecDeque::new(),
            pending: Pending::None,
            position: 0,
            eos: false,
        };
        let tags_offset = reader.src.offset;
        match reader.next_raw()? {
            Some((tags, _)) if tags.starts_with(b"OpusTags") => Ok(reader),
            Some(_) => Err(reader
                .src
                .malformed_at(tags_offset, "the second packet is not OpusTags")),
            None => Err(reader
                .src
                .malformed_at(tags_offset, "no OpusTags packet after OpusHead")),
        }
    }

    /// The stream's `OpusHead`, read and checked by the constructor.
    pub fn head(&self) -> &OpusHead {
        &self.head
    }

    /// The next Opus packet, `None` at the end of the stream.
    pub fn next_packet(&mut self) -> Result<Option<OggOpusPacket>, MediaError> {
        loop {
            let offset = self.src.offset;
            let Some((data, granule)) = self.next_raw()? else {
                return Ok(None);
            };
            if data.is_empty() {
                continue; // a zero-length packet carries nothing to send
            }
            let duration = opus_duration(&data).ok_or_else(|| {
                self.src.malformed_at(
                    offset,
                    format!(
                        "invalid Opus packet at position {} (bad TOC or frame count)",
                        self.position
                    ),
                )
            })?;
            let packet = OggOpusPacket {
                data: Bytes::from(data),
                position_samples: self.position,
                duration_samples: duration,
                granule_position: granule,
            };
            self.position += u64::from(duration);
            return Ok(Some(packet));
        }
    }

    /// The next complete packet of our stream, with the page granule if it ends the page.
    fn next_raw(&mut self) -> Result<Option<RawPacket>, MediaError> {
        while self.ready.is_empty() {
            if self.eos {
                return Ok(None);
            }
            let Some(page) = read_page(&mut self.src)? else {
                if let Pending::Packet(_) = self.pending {
                    return Err(self.src.malformed_at(
                        self.src.offset,
                        "the file ends inside a packet (its continuation page is missing)",
                    ));
                }
                return Ok(None);
            };
            if page.serial != self.serial {
                continue;
            }
            let continued = page.flags & FLAG_CONTINUED != 0;
            match (continued, &self.pending) {
                // The rest of a packet whose start we never saw: dropped.
                (true, Pending::None) => self.pending = Pending::Orphan,
                (false, Pending::Packet(_)) => {
                    return Err(self.src.malformed_at(
                        page.offset,
                        "a packet continues on this page, but the page is not marked as a \
                         continuation",
                    ))
                }
                (false, Pending::Orphan) => self.pending = Pending::None,
                _ => {}
            }
            let last_complete = page.segments.iter().rposition(|(_, ends)| *ends);
            for (i, (bytes, ends)) in page.segments.into_iter().enumerate() {
                let packet = match std::mem::replace(&mut self.pending, Pending::None) {
                    Pending::Orphan => {
                        if !ends {
                            self.pending = Pending::Orphan;
                        }
                        continue;
                    }
                    Pending::Packet(mut buf) => {
                        if buf.len() + bytes.len() > MAX_PACKET_SIZE {
                            return Err(self.src.malformed_at(
                                page.offset,
                                format!(
                                    "a packet continued over pages grows past \
                                     {MAX_PACKET_SIZE} bytes: not an Opus packet"
                                ),
                            ));
                        }
                        buf.extend_from_slice(&bytes);
                        buf
                    }
                    Pending::None => bytes,
                };
                if ends {
                    let granule = (Some(i) == last_complete && page.granule >= 0)
                        .then_some(page.granule as u64);
                    self.ready.push_back((packet, granule));
                } else {
                    self.pending = Pending::Packet(packet);
                }
            }
            self.eos = page.flags & FLAG_EOS != 0;
        }
        Ok(self.ready.pop_front())
    }
}

impl<R: Read> Iterator for OggOpusReader<R> {
    type Item = Result<OggOpusPacket, MediaError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_packet().transpose()
    }
}

fn read_page<R: Read>(src: &mut Counted<R>) -> Result<Option<Page>, MediaError> {
    let offset = src.offset;
    let mut h = [0u8; PAGE_HEADER_SIZE];
    let n = src.fill(&mut h)?;
    if n == 0 {
        return Ok(None);
    }
    if n < PAGE_HEADER_SIZE {
        return Err(src.malformed_at(
            offset,
            format!("truncated page header: {PAGE_HEADER_SIZE} bytes expected, {n} found"),
        ));
    }
    if &h[0..4] != b"OggS" {
        return Err(src.malformed_at(offset, "no OggS capture pattern: not an Ogg page"));
    }
    if h[4] != 0 {
        return Err(src.malformed_at(offset + 4, format!("unsupported Ogg version {}", h[4])));
    }
    let flags = h[5];
    let granule = i64::from_le_bytes(h[6..14].try_into().expect("8 bytes"));
    let serial = u32::from_le_bytes(h[14..18].try_into().expect("4 bytes"));
    let crc = u32::from_le_bytes(h[22..26].try_into().expect("4 bytes"));
    let mut lacing = vec![0u8; usize::from(h[26])];
    src.exact(&mut lacing, "segment table")?;
    let body_len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
    let body = src.vec(body_len, "page body")?;

    let mut check = h;
    check[22..26].fill(0);
    let computed = crc32(crc32(crc32(0, &check), &lacing), &body);
    if computed != crc {
        return Err(src.malformed_at(
            offset,
            format!("page checksum mismatch (stored {crc:08x}, computed {computed:08x})"),
        ));
    }

    let mut segments = Vec::new();
    let mut current = Vec::new();
    let mut at = 0;
    for &l in &lacing {
        current.extend_from_slice(&body[at..at + usize::from(l)]);
        at += usize::from(l);
        if l < 255 {
            segments.push((std::mem::take(&mut current), true));
        }
    }
    if lacing.last() == Some(&255) {
        segments.push((current, false));
    }
    Ok(Some(Page {
        offset,
        flags,
        granule,
        serial,
        segments,
    }))
}

fn parse_head(p: &[u8]) -> Result<OpusHead, String> {
    if p.len() < 19 || !p.starts_with(b"OpusHead") {
        return Err("the first packet is not an OpusHead: not an Ogg/Opus file".into());
    }
    let version = p[8];
    if version >> 4 != 0 {
        return Err(format!("unsupported OpusHead version {version}"));
    }
    let channels = p[9];
    if channels == 0 {
        return Err("OpusHead says 0 channels".into());
    }
    Ok(OpusHead {
        channels,
        pre_skip: u16::from_le_bytes([p[10], p[11]]),
        input_sample_rate: u32::from_le_bytes([p[12], p[13], p[14], p[15]]),
        output_gain: i16::from_le_bytes([p[16], p[17]]),
        mapping_family: p[18],
    })
}

/// Duration of an Opus packet in 48 kHz samples, from its TOC byte (RFC 6716, 3.1).
pub(crate) fn opus_duration(packet: &[u8]) -> Option<u32> {
    let toc = *packet.first()?;
    let config = toc >> 3;
    // Frame size in 48 kHz samples.
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config % 4)],
        12..=15 => [480, 960][usize::from(config % 2)],
        _ => [120, 240, 480, 960][usize::from(config % 4)],
    };
    let frames = match toc & 0x03 {
        0 => 1,
        1 | 2 => 2,
        _ => u32::from(*packet.get(1)? & 0x3f),
    };
    let total = frame * frames;
    // At most 120 ms per packet.
    (frames > 0 && total <= 5760).then_some(total)
}

/// Ogg's CRC-32 (RFC 3533, 6): polynomial 0x04c11db7, not reflected, initial value 0; `crc`
/// is the value over what came before `data` (0 to start).
pub(crate) fn crc32(mut crc: u32, data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut r = (i as u32) << 24;
            let mut k = 0;
            while k < 8 {
                r = if r & 0x8000_0000 != 0 {
                    (r << 1) ^ 0x04c1_1db7
                } else {
                    r << 1
                };
                k += 1;
            }
            t[i] = r;
            i += 1;
        }
        t
    };
    for &b in data {
        crc = (crc << 8) ^ TABLE[((crc >> 24) as u8 ^ b) as usize];
    }
    crc
}

#[cfg(test)]
mod tests;
