//! The server's SRTP of the AEAD AES-GCM profiles (RFC 7714) decrypted here rather than by a
//! webrtc-rs context, which spends more per packet around the decryption than on it (a map of
//! streams hashed with SipHash looked up twice, a replay window shifted as a big integer, the
//! cipher behind two boxed traits: `docs/performance.md`, "SRTP decrypted without webrtc-rs'
//! context"); and the RTCP this side writes outside the core, encrypted here likewise.
//!
//! - The session key and salt come from the master key and salt DTLS-SRTP exported, through
//!   the AES-CM PRF (RFC 3711, section 4.3.3), with AES-256 for AEAD_AES_256_GCM (RFC 7714,
//!   section 11).
//! - A packet's nonce is the session salt XOR (two zero bytes, SSRC, rollover counter,
//!   sequence number) (RFC 7714, section 8.1); its header is the additional data; its last
//!   16 bytes are the tag.
//! - A stream's index and replay window are `srtp_index.rs`'s.
//! - SRTCP (RFC 7714, section 9): the nonce is the SRTCP salt XOR (two zero bytes, sender
//!   SSRC, two zero bytes, SRTCP index); the additional data is the first 8 bytes (header and
//!   sender SSRC) and the 4-byte word of the encryption flag and the index, which follows the
//!   tag. The index counts each sender SSRC's packets from 1, as webrtc-rs' contexts do.

use std::fmt;
use std::sync::Arc;

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockEncrypt, KeyInit};
use bytes::BytesMut;
use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_128_GCM, AES_256_GCM};
use rtc::srtp::protection_profile::ProtectionProfile;

use super::srtp_index::StreamIndex;
use super::srtp_keys::ClearHeader;

/// The PRF's label of the SRTP encryption key (RFC 3711, section 4.3.2).
const LABEL_ENCRYPTION: u8 = 0x00;
/// The PRF's label of the SRTP salt.
const LABEL_SALT: u8 = 0x02;
/// The PRF's labels of the SRTCP encryption key and salt.
const LABEL_RTCP_ENCRYPTION: u8 = 0x03;
const LABEL_RTCP_SALT: u8 = 0x05;
/// The largest SRTCP index (31 bits); the next one is 0.
const MAX_RTCP_INDEX: u32 = (1 << 31) - 1;
/// The SRTCP word's encryption flag.
const ENCRYPTED: u32 = 1 << 31;
/// The salt's length in the AEAD profiles, master and session (RFC 7714, section 12).
const SALT_LEN: usize = 12;
/// The tag's length (RFC 7714, section 12).
const TAG_LEN: usize = 16;

/// The session key and salt of SRTP or of SRTCP (the server's SRTP is shared by the streams
/// of a connection).
pub(crate) struct GcmKeys {
    key: LessSafeKey,
    salt: [u8; SALT_LEN],
}

impl GcmKeys {
    /// The SRTP session keys of `profile` from the master key and salt; None for a profile
    /// that is not AES-GCM, or keys of the wrong length.
    pub(crate) fn new(
        profile: ProtectionProfile,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Option<Self> {
        Self::derive(
            profile,
            master_key,
            master_salt,
            LABEL_ENCRYPTION,
            LABEL_SALT,
        )
    }

    /// The SRTCP session keys, likewise.
    pub(crate) fn rtcp(
        profile: ProtectionProfile,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Option<Self> {
        let (key, salt) = (LABEL_RTCP_ENCRYPTION, LABEL_RTCP_SALT);
        Self::derive(profile, master_key, master_salt, key, salt)
    }

    fn derive(
        profile: ProtectionProfile,
        master_key: &[u8],
        master_salt: &[u8],
        key_label: u8,
        salt_label: u8,
    ) -> Option<Self> {
        let algorithm = match profile {
            ProtectionProfile::AeadAes128Gcm => &AES_128_GCM,
            ProtectionProfile::AeadAes256Gcm => &AES_256_GCM,
            _ => return None,
        };
        if master_key.len() != algorithm.key_len() || master_salt.len() != SALT_LEN {
            return None;
        }
        let key = prf(master_key, master_salt, key_label, master_key.len())?;
        let salt = prf(master_key, master_salt, salt_label, SALT_LEN)?;
        Some(Self {
            key: LessSafeKey::new(UnboundKey::new(algorithm, &key).ok()?),
            salt: salt.try_into().ok()?,
        })
    }

    /// The nonce of packet `index` of `ssrc`: the salt XOR (two zero bytes, the SSRC, the index
    /// in 48 bits). SRTP's packet index is its rollover counter then its sequence number
    /// (RFC 7714, 8.1); SRTCP's 31-bit index follows two zero bytes (9.1): both are that.
    fn nonce(&self, ssrc: u32, index: u64) -> Nonce {
        let mut nonce = [0u8; SALT_LEN];
        nonce[2..6].copy_from_slice(&ssrc.to_be_bytes());
        nonce[6..].copy_from_slice(&index.to_be_bytes()[2..]);
        for (n, s) in nonce.iter_mut().zip(&self.salt) {
            *n ^= s;
        }
        Nonce::assume_unique_for_key(nonce)
    }
}

/// `len` bytes of the AES-CM PRF for `label`: the blocks of the master key's AES over the
/// master salt (at the block's start) XOR the label (its eighth byte), counted in the last
/// two bytes. The key derivation rate is 0 (DTLS-SRTP), so no index enters the input.
fn prf(master_key: &[u8], master_salt: &[u8], label: u8, len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(len.div_ceil(16) * 16);
    for counter in 0..u16::try_from(len.div_ceil(16)).ok()? {
        let mut block = [0u8; 16];
        block[..master_salt.len()].copy_from_slice(master_salt);
        block[7] ^= label;
        block[14..].copy_from_slice(&counter.to_be_bytes());
        let into = GenericArray::from_mut_slice(&mut block);
        match master_key.len() {
            16 => aes::Aes128::new_from_slice(master_key)
                .ok()?
                .encrypt_block(into),
            32 => aes::Aes256::new_from_slice(master_key)
                .ok()?
                .encrypt_block(into),
            _ => return None,
        }
        out.extend_from_slice(&block);
    }
    out.truncate(len);
    Some(out)
}

/// Why a packet was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Shorter than its header and a tag.
    TooShort,
    /// Taken already, or behind the replay window.
    Replayed,
    /// Its tag does not authenticate it.
    Unauthenticated,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refused::TooShort => "shorter than its header and tag",
            Refused::Replayed => "a replay, or too old",
            Refused::Unauthenticated => "its tag does not authenticate it",
        })
    }
}

/// One of the server's streams.
pub(crate) struct GcmStream {
    keys: Arc<GcmKeys>,
    index: StreamIndex,
}

impl GcmStream {
    pub(crate) fn new(keys: Arc<GcmKeys>) -> Self {
        Self {
            keys,
            index: StreamIndex::default(),
        }
    }

    /// The packet `data` of this stream (its `header` read in the clear) decrypted: header
    /// and payload, the tag cut.
    pub(crate) fn decrypt(
        &mut self,
        data: &[u8],
        header: &ClearHeader,
    ) -> Result<BytesMut, Refused> {
        let end = data
            .len()
            .checked_sub(TAG_LEN)
            .filter(|&end| end >= header.len)
            .ok_or(Refused::TooShort)?;
        let index = self.index.index(header.seq).ok_or(Refused::Replayed)?;
        let tag = Tag::try_from(&data[end..]).map_err(|_| Refused::TooShort)?;
        let mut plain = BytesMut::with_capacity(end);
        plain.extend_from_slice(&data[..end]);
        let (aad, payload) = plain.split_at_mut(header.len);
        self.keys
            .key
            .open_in_place_separate_tag(
                self.keys.nonce(header.ssrc, index),
                Aad::from(&*aad),
                tag,
                payload,
                0..,
            )
            .map_err(|_| Refused::Unauthenticated)?;
        self.index.accept(index);
        Ok(plain)
    }
}

/// The RTCP this side writes, encrypted: each sender SSRC's packets counted.
pub(crate) struct GcmRtcp {
    keys: GcmKeys,
    /// The last index used, by sender SSRC (one or two: this side's reporters).
    indexes: Vec<(u32, u32)>,
}

impl GcmRtcp {
    pub(crate) fn new(keys: GcmKeys) -> Self {
        Self {
            keys,
            indexes: Vec::new(),
        }
    }

    /// `plain` (a compound RTCP packet) as an SRTCP datagram; None when it is shorter than a
    /// header and sender SSRC.
    pub(crate) fn protect(&mut self, plain: &[u8]) -> Option<BytesMut> {
        let ssrc = u32::from_be_bytes(plain.get(4..8)?.try_into().ok()?);
        let index = match self.indexes.iter_mut().find(|(s, _)| *s == ssrc) {
            Some((_, last)) => {
                *last = if *last >= MAX_RTCP_INDEX {
                    0
                } else {
                    *last + 1
                };
                *last
            }
            None => {
                self.indexes.push((ssrc, 1));
                1
            }
        };
        let word = (index | ENCRYPTED).to_be_bytes();
        let mut aad = [0u8; 12];
        aad[..8].copy_from_slice(&plain[..8]);
        aad[8..].copy_from_slice(&word);
        let mut out = BytesMut::with_capacity(plain.len() + TAG_LEN + word.len());
        out.extend_from_slice(plain);
        let nonce = self.keys.nonce(ssrc, u64::from(index));
        let tag = self
            .keys
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(aad), &mut out[8..])
            .ok()?;
        out.extend_from_slice(tag.as_ref());
        out.extend_from_slice(&word);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::srtp_keys::tests::{server_context, server_keys, server_rtp};

    const SECRET: [u8; 48] = [9; 48];
    const SSRC: u32 = 0x1234_5678;

    fn stream(profile: ProtectionProfile) -> GcmStream {
        let (key, salt) = server_keys(&SECRET, profile);
        GcmStream::new(Arc::new(GcmKeys::new(profile, &key, &salt).unwrap()))
    }

    fn decrypt(stream: &mut GcmStream, packet: &[u8]) -> Result<BytesMut, Refused> {
        let header = ClearHeader::parse(packet).ok_or(Refused::TooShort)?;
        stream.decrypt(packet, &header)
    }

    #[test]
    fn the_servers_packets_decrypt_through_rollovers_for_both_profiles() {
        for profile in [
            ProtectionProfile::AeadAes128Gcm,
            ProtectionProfile::AeadAes256Gcm,
        ] {
            let mut server = server_context(&SECRET, profile);
            let mut ours = stream(profile);
            // two wraps of the sequence number: the nonce carries the rollover counter
            let seqs = (65_000..=65_535).chain(0..=65_535).chain(0..600);
            for (n, seq) in seqs.enumerate() {
                let packet = server_rtp(&mut server, SSRC, seq as u16);
                // every packet of the first wrap, then some: gaps well within half the space
                if n >= 1000 && n % 97 != 0 {
                    continue;
                }
                let plain = decrypt(&mut ours, &packet)
                    .unwrap_or_else(|e| panic!("{profile:?}, packet {n} (seq {seq}): {e}"));
                assert_eq!(&plain[12..], b"a frame");
                assert_eq!(&plain[..12], &packet[..12]);
            }
        }
    }

    #[test]
    fn a_forged_or_replayed_packet_is_refused_and_moves_nothing() {
        let profile = ProtectionProfile::AeadAes128Gcm;
        let mut server = server_context(&SECRET, profile);
        let mut ours = stream(profile);
        let first = server_rtp(&mut server, SSRC, 10);
        assert!(decrypt(&mut ours, &first).is_ok());
        assert_eq!(decrypt(&mut ours, &first).unwrap_err(), Refused::Replayed);
        // a forged packet far ahead: refused, and the stream is not moved past the genuine ones
        let mut forged = server_rtp(&mut server, SSRC, 11);
        forged[2..4].copy_from_slice(&20_000u16.to_be_bytes());
        assert_eq!(
            decrypt(&mut ours, &forged).unwrap_err(),
            Refused::Unauthenticated
        );
        let mut tampered = server_rtp(&mut server, SSRC, 12);
        let last = tampered.len() - 20;
        tampered[last] ^= 1;
        assert_eq!(
            decrypt(&mut ours, &tampered).unwrap_err(),
            Refused::Unauthenticated
        );
        let genuine = server_rtp(&mut server, SSRC, 13);
        assert_eq!(&decrypt(&mut ours, &genuine).unwrap()[12..], b"a frame");
        assert_eq!(
            decrypt(&mut ours, &genuine[..27]).unwrap_err(),
            Refused::TooShort
        );
    }

    #[test]
    fn rtcp_is_sealed_as_webrtc_rs_seals_it_and_the_server_reads_it() {
        use crate::connection::srtp_keys::tests::{client_context, client_keys, server_receiving};
        for profile in [
            ProtectionProfile::AeadAes128Gcm,
            ProtectionProfile::AeadAes256Gcm,
        ] {
            let (key, salt) = client_keys(&SECRET, profile);
            let mut ours = GcmRtcp::new(GcmKeys::rtcp(profile, &key, &salt).unwrap());
            let mut theirs = client_context(&SECRET, profile);
            let mut server = server_receiving(&SECRET, profile);
            for (n, ssrc) in [2u32, 2, 1, 2, 1].into_iter().enumerate() {
                // a receiver report with one block, from `ssrc`
                let mut plain = vec![0x81, 201, 0, 7];
                plain.extend(ssrc.to_be_bytes());
                plain.extend((0..24).map(|i| i as u8 + n as u8));
                let sealed = ours.protect(&plain).unwrap();
                assert_eq!(
                    sealed,
                    theirs.encrypt_rtcp(&plain).unwrap(),
                    "{profile:?}, {n}"
                );
                assert_eq!(&server.decrypt_rtcp(&sealed).unwrap()[..], &plain[..]);
            }
            assert!(ours.protect(&[0x81, 201, 0, 1, 0, 0, 0]).is_none());
        }
    }

    #[test]
    fn other_profiles_and_wrong_lengths_have_no_gcm_keys() {
        let (key, salt) = server_keys(&SECRET, ProtectionProfile::AeadAes128Gcm);
        assert!(GcmKeys::new(ProtectionProfile::Aes128CmHmacSha1_80, &key, &salt).is_none());
        assert!(GcmKeys::new(ProtectionProfile::AeadAes256Gcm, &key, &salt).is_none());
        assert!(GcmKeys::new(ProtectionProfile::AeadAes128Gcm, &key, &salt[..10]).is_none());
    }
}
