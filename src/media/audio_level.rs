//! [`AudioLevel`]: the level of one audio packet as the `ssrc-audio-level` RTP header extension
//! carries it (RFC 6464), and its measurement from decoded samples.
//!
//! The level is in -dBov: 0 is the loudest a payload can encode, 127 is silence (or anything
//! quieter than -127 dBov). "dBov" is relative to the overload point, the largest sample value:
//! a full-scale square wave is 0 dBov, a full-scale sine wave about -3 dBov (RFC 6464,
//! section 3). mediasoup's AudioLevelObserver and ActiveSpeakerObserver read the level; the
//! voice activity bit (V) is carried as given.

use crate::MediaError;

/// The level of one audio packet: -dBov in 0..=127 and the voice activity flag (RFC 6464).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioLevel {
    level: u8,
    voice: bool,
}

impl AudioLevel {
    /// The quietest level, 127 (-127 dBov or less), with no voice activity.
    pub const SILENCE: AudioLevel = AudioLevel {
        level: 127,
        voice: false,
    };

    /// A level of `level` -dBov (0 = loudest, 127 = silence) with voice activity `voice`.
    /// Fails when `level` is above 127.
    pub fn new(level: u8, voice: bool) -> Result<Self, MediaError> {
        if level > 127 {
            return Err(MediaError::InvalidArgument(format!(
                "audioLevel {level} out of range: it is -dBov as in RFC 6464, an integer from 0 \
                 (loudest) to 127 (silence)"
            )));
        }
        Ok(AudioLevel { level, voice })
    }

    /// The level of `samples` (any channel layout, each in -1.0..=1.0 at full scale): their
    /// RMS power relative to full scale, in -dBov rounded to the nearest integer and clamped to
    /// 0..=127. An empty slice is silence. No voice activity is claimed (nothing here detects
    /// voice).
    pub fn measure(samples: &[f32]) -> Self {
        if samples.is_empty() {
            return AudioLevel::SILENCE;
        }
        let energy: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        let mean_square = energy / samples.len() as f64;
        // 10·log10 of a power ratio; below 10^-12.7 (and for exact zeros) the level is 127
        let level = if mean_square > 0.0 {
            (-10.0 * mean_square.log10()).round().clamp(0.0, 127.0) as u8
        } else {
            127
        };
        AudioLevel {
            level,
            voice: false,
        }
    }

    /// -dBov: 0 (loudest) to 127 (silence).
    pub fn level(self) -> u8 {
        self.level
    }

    /// The V bit: the sender believes the packet holds voice.
    pub fn voice(self) -> bool {
        self.voice
    }

    /// The same level with the V bit set to `voice`.
    pub fn with_voice(self, voice: bool) -> Self {
        AudioLevel { voice, ..self }
    }

    /// The extension's one byte of data: the V bit, then the level in the low 7 bits.
    pub fn to_byte(self) -> u8 {
        self.level | if self.voice { 0x80 } else { 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn sine(amplitude: f64, frequency: f64, count: usize) -> Vec<f32> {
        (0..count)
            .map(|n| (amplitude * (2.0 * PI * frequency * n as f64 / 48_000.0).sin()) as f32)
            .collect()
    }

    #[test]
    fn full_scale_sine_is_3_dbov() {
        // 20 ms at 48 kHz: exactly 20 periods of 1 kHz
        assert_eq!(AudioLevel::measure(&sine(1.0, 1000.0, 960)).level(), 3);
    }

    #[test]
    fn full_scale_square_is_0_dbov() {
        let square: Vec<f32> = (0..960)
            .map(|n| if n % 48 < 24 { 1.0 } else { -1.0 })
            .collect();
        assert_eq!(AudioLevel::measure(&square).level(), 0);
    }

    #[test]
    fn level_follows_amplitude_in_db() {
        // -20 dB of amplitude below a full-scale sine: 23 -dBov; -40 dB: 43
        assert_eq!(AudioLevel::measure(&sine(0.1, 1000.0, 960)).level(), 23);
        assert_eq!(AudioLevel::measure(&sine(0.01, 440.0, 960 * 5)).level(), 43);
    }

    #[test]
    fn silence_and_near_silence_are_127() {
        assert_eq!(AudioLevel::measure(&[0.0; 960]), AudioLevel::SILENCE);
        assert_eq!(AudioLevel::measure(&[]), AudioLevel::SILENCE);
        // one LSB of 16-bit audio, constant: about -90 dBov
        assert_eq!(AudioLevel::measure(&[1.0 / 32768.0; 960]).level(), 90);
        assert_eq!(AudioLevel::measure(&[1e-8; 960]).level(), 127);
    }

    #[test]
    fn clipped_samples_stay_at_0() {
        assert_eq!(AudioLevel::measure(&[2.0; 10]).level(), 0);
    }

    #[test]
    fn byte_form_and_range() {
        assert_eq!(AudioLevel::new(0, true).unwrap().to_byte(), 0x80);
        assert_eq!(AudioLevel::new(127, false).unwrap().to_byte(), 127);
        assert_eq!(AudioLevel::new(30, true).unwrap().to_byte(), 0x80 | 30);
        assert_eq!(AudioLevel::SILENCE.with_voice(true).to_byte(), 0xff);
        let err = AudioLevel::new(128, false).unwrap_err();
        assert!(err.to_string().contains("audioLevel 128"), "{err}");
    }
}
