//! Ogg/Opus writer (RFC 3533 pages, RFC 7845 mapping): the layout [`crate::OggOpusReader`]
//! reads.
//!
//! `OpusHead` (pre-skip 0, 48 kHz, mapping family 0) and `OpusTags` on their own pages, then
//! one Opus packet per page, so that every packet's end time is its page's granule position:
//! a gap in the RTP timestamps is a jump of the granule position, which players take as time
//! (silence or concealment), not as lost duration. A page is written when the next one is
//! ready, so that [`OggWriter::finish`] can set end-of-stream on the last page.

use std::io::{self, Write};

const FLAG_BOS: u8 = 0x02;
const FLAG_EOS: u8 = 0x04;
/// A packet on one page: 255 lacing values of at most 255 bytes, the last one below 255.
pub(crate) const MAX_PACKET_SIZE: usize = 255 * 255 - 1;

pub(crate) struct OggWriter<W: Write> {
    out: W,
    serial: u32,
    sequence: u32,
    /// The page not yet written: (flags, granule position, packet).
    held: Option<(u8, u64, Vec<u8>)>,
}

impl<W: Write> OggWriter<W> {
    /// Writes the `OpusHead` page and holds the `OpusTags` one.
    pub(crate) fn new(out: W, channels: u8, serial: u32) -> io::Result<Self> {
        let mut head = b"OpusHead".to_vec();
        head.push(1); // version
        head.push(channels);
        head.extend_from_slice(&0u16.to_le_bytes()); // pre-skip
        head.extend_from_slice(&48_000u32.to_le_bytes()); // input sample rate
        head.extend_from_slice(&0i16.to_le_bytes()); // output gain
        head.push(0); // mapping family: mono or stereo
        let vendor = b"msc-media";
        let mut tags = b"OpusTags".to_vec();
        tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
        tags.extend_from_slice(vendor);
        tags.extend_from_slice(&0u32.to_le_bytes()); // no user comments
        let mut w = OggWriter {
            out,
            serial,
            sequence: 0,
            held: Some((0, 0, tags)),
        };
        w.write_page(FLAG_BOS, 0, &head)?;
        Ok(w)
    }

    /// Adds one packet on its own page; `granule` is the stream time in 48 kHz samples at the
    /// packet's end. The packet must be at most [`MAX_PACKET_SIZE`] bytes.
    pub(crate) fn write_packet(&mut self, packet: &[u8], granule: u64) -> io::Result<()> {
        debug_assert!(packet.len() <= MAX_PACKET_SIZE);
        if let Some((flags, granule, packet)) = self.held.replace((0, granule, packet.to_vec())) {
            self.write_page(flags, granule, &packet)?;
        }
        Ok(())
    }

    /// Writes the held page as the last one (end of stream) and flushes.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        if let Some((flags, granule, packet)) = self.held.take() {
            self.write_page(flags | FLAG_EOS, granule, &packet)?;
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn write_page(&mut self, flags: u8, granule: u64, packet: &[u8]) -> io::Result<()> {
        let mut lacing = vec![255u8; packet.len() / 255];
        lacing.push((packet.len() % 255) as u8);
        let mut page = Vec::with_capacity(27 + lacing.len() + packet.len());
        page.extend_from_slice(b"OggS");
        page.push(0); // version
        page.push(flags);
        page.extend_from_slice(&granule.to_le_bytes());
        page.extend_from_slice(&self.serial.to_le_bytes());
        page.extend_from_slice(&self.sequence.to_le_bytes());
        page.extend_from_slice(&0u32.to_le_bytes()); // CRC, computed below
        page.push(lacing.len() as u8);
        page.extend_from_slice(&lacing);
        page.extend_from_slice(packet);
        let crc = crc32(&page);
        page[22..26].copy_from_slice(&crc.to_le_bytes());
        self.sequence += 1;
        self.out.write_all(&page)
    }
}

/// Ogg's CRC-32 of a whole page (its CRC field zeroed).
pub(crate) fn crc32(page: &[u8]) -> u32 {
    crate::ogg_opus::crc32(0, page)
}
