//! VP8 (RFC 7741) with rtc-rtp's payloader, picture id on.
//!
//! rtc-rtp's default (`enable_picture_id: false`) writes a one-byte descriptor with X=0, and
//! mediasoup's VP8 parser returns no descriptor at all when X=0: it then never sees a keyframe
//! and its consumers never start. With the picture id on, every packet carries X=1, I=1 and a
//! 7- or 15-bit picture id (mediasoup widens 7-bit ids to 15 bits itself), S=1 on the first
//! packet, PID=0.

use super::Packetized;
use crate::MediaError;
use bytes::Bytes;
use rtc_rtp::codec::vp8::Vp8Payloader;
use rtc_rtp::packetizer::Payloader;

#[derive(Debug)]
pub(super) struct Vp8 {
    payloader: Vp8Payloader,
}

impl Vp8 {
    pub(super) fn new() -> Self {
        let mut payloader = Vp8Payloader::default();
        payloader.enable_picture_id = true;
        Vp8 { payloader }
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
        let payloads = self
            .payloader
            .payload(mtu, frame)
            .map_err(|e| MediaError::malformed("VP8", e.to_string()))?;
        Ok(Packetized { payloads, keyframe })
    }
}

/// The P bit (bit 0 of the frame tag) is 0 for a keyframe; this is what mediasoup reads too.
fn is_keyframe(frame: &[u8]) -> bool {
    frame.len() >= 10 && frame[0] & 0x01 == 0 && frame[3..6] == [0x9d, 0x01, 0x2a]
}
