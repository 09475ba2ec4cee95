//! [`OpusLevelMeter`]: the RFC 6464 level of each packet of one Opus stream, measured by
//! decoding it (libopus, through the `opus` crate).
//!
//! The stream is decoded to mono at 48 kHz (a stereo stream is down-mixed by libopus), so the
//! level is that of the whole band and of both channels together. One meter follows one
//! stream: Opus decoding carries state from packet to packet, so packets must come in order;
//! a packet that libopus rejects gets no level and leaves the stream's state as it was.

use crate::AudioLevel;

/// Samples of the longest Opus packet (120 ms) at 48 kHz, one channel.
const MAX_SAMPLES: usize = 5760;

/// Decodes one Opus stream to measure the level of its packets.
pub(crate) struct OpusLevelMeter {
    decoder: opus::Decoder,
    pcm: Box<[f32; MAX_SAMPLES]>,
}

impl std::fmt::Debug for OpusLevelMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusLevelMeter").finish_non_exhaustive()
    }
}

impl OpusLevelMeter {
    /// A meter for a new stream; `None` if libopus cannot make a decoder (out of memory).
    pub(crate) fn new() -> Option<Self> {
        match opus::Decoder::new(48_000, opus::Channels::Mono) {
            Ok(decoder) => Some(OpusLevelMeter {
                decoder,
                pcm: Box::new([0.0; MAX_SAMPLES]),
            }),
            Err(e) => {
                tracing::warn!("no Opus decoder, audio levels are not measured: {e}");
                None
            }
        }
    }

    /// The level of `packet` (one Opus packet, RFC 6716), or `None` if it does not decode.
    pub(crate) fn measure(&mut self, packet: &[u8]) -> Option<AudioLevel> {
        if packet.is_empty() {
            // libopus reads an empty packet as a lost one: not this packet's level
            return None;
        }
        match self.decoder.decode_float(packet, &mut self.pcm[..], false) {
            Ok(samples) => Some(AudioLevel::measure(&self.pcm[..samples])),
            Err(e) => {
                tracing::trace!("Opus packet not decodable, no audio level: {e}");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::PI;

    /// `frames` 20 ms packets of a sine of `amplitude` (of full scale) at 440 Hz.
    fn encode_sine(amplitude: f32, channels: opus::Channels, frames: usize) -> Vec<Vec<u8>> {
        let count = if channels == opus::Channels::Mono {
            1
        } else {
            2
        };
        let mut encoder =
            opus::Encoder::new(48_000, channels, opus::Application::Audio).expect("encoder");
        (0..frames)
            .map(|f| {
                let pcm: Vec<f32> = (0..960 * count)
                    .map(|i| {
                        let n = (f * 960 + i / count) as f32;
                        amplitude * (2.0 * PI * 440.0 * n / 48_000.0).sin()
                    })
                    .collect();
                encoder.encode_vec_float(&pcm, 4000).expect("encode")
            })
            .collect()
    }

    fn levels(packets: &[Vec<u8>]) -> Vec<u8> {
        let mut meter = OpusLevelMeter::new().unwrap();
        packets
            .iter()
            .map(|p| meter.measure(p).expect("decodable").level())
            .collect()
    }

    #[test]
    fn a_sine_measures_at_its_level_once_the_decoder_has_settled() {
        // -10 dB of amplitude below a full-scale sine: 13 -dBov
        for channels in [opus::Channels::Mono, opus::Channels::Stereo] {
            let measured = levels(&encode_sine(0.316, channels, 25));
            for level in &measured[5..] {
                assert!((12..=14).contains(level), "{channels:?}: {measured:?}");
            }
        }
        let quiet = levels(&encode_sine(0.01, opus::Channels::Mono, 25));
        for level in &quiet[5..] {
            assert!((42..=44).contains(level), "{quiet:?}");
        }
    }

    #[test]
    fn digital_silence_is_127() {
        let measured = levels(&encode_sine(0.0, opus::Channels::Mono, 10));
        assert!(measured.iter().all(|&l| l == 127), "{measured:?}");
        // the smallest Opus packet: one TOC byte (20 ms CELT), no frame data: silence
        let mut meter = OpusLevelMeter::new().unwrap();
        assert_eq!(meter.measure(&[0xf8]), Some(AudioLevel::SILENCE));
        // libopus' encoding of 20 ms of digital silence, after a loud tone: the first one still
        // holds the tone's decaying tail (overlapping windows), then silence
        for packet in encode_sine(0.5, opus::Channels::Mono, 10) {
            meter.measure(&packet).unwrap();
        }
        let after: Vec<u8> = (0..4)
            .map(|_| meter.measure(&[0xf8, 0xff, 0xfe]).unwrap().level())
            .collect();
        assert!(after[0] > 10 && after[0] < 127, "{after:?}");
        assert_eq!(after[2..], [127, 127], "{after:?}");
    }

    #[test]
    fn undecodable_packets_have_no_level() {
        let mut meter = OpusLevelMeter::new().unwrap();
        assert_eq!(meter.measure(&[]), None);
        // code 3 (several frames) with a frame count of 0 is invalid (RFC 6716, 3.2.5)
        assert_eq!(meter.measure(&[0xfb, 0x00]), None);
        // the meter still measures the packets after
        let packets = encode_sine(0.316, opus::Channels::Mono, 10);
        assert!(meter.measure(&packets[0]).is_some());
    }
}
