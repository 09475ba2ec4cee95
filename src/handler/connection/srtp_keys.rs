//! The SRTP keys of a connection, for reading its RTP and writing its RTCP outside webrtc-rs'
//! core.
//!
//! webrtc-rs 0.21 keeps the SRTP contexts it derives at the end of the DTLS handshake to
//! itself. It derives them through the crypto provider of the setting engine: the DTLS-SRTP
//! exporter (RFC 5764, 5705) is the TLS PRF, P_SHA256, keyed by the master secret over the
//! label `EXTRACTOR-dtls_srtp` and both randoms. [`KeyCapture`] wraps the default provider
//! and keeps the key and seed of that exporter's first HMAC; [`session_keys`] computes the
//! keying material again, for the contexts that decrypt what the server sends and encrypt
//! the RTCP this side writes outside the core. The
//! protection profile and this side's DTLS role are not in view there: they are the ones
//! whose context authenticates the first RTP packet received (its tag decides, so no wrong
//! pair can pass).
//!
//! Nothing else changes for the core: it derives and uses its own contexts as before.

use std::sync::{Arc, Mutex};

use bytes::BytesMut;

use rtc::crypto::{
    ActiveKeyExchange, AeadAlgorithm, AeadCipher, BlockCipherAlgorithm, CbcAlgorithm, CbcCipher,
    CryptoAlgorithm, CryptoError, HashAlgorithm, HmacAlgorithm, KeyExchangeAlgorithm, Mac,
    PublicKey, RTCCrypto, RTCCryptoProvider, RTCRandom, SignatureScheme, SigningKey, StreamCipher,
    StreamCipherAlgorithm,
};
use rtc::shared::marshal::Unmarshal;
use rtc::srtp::config::{Config, LABEL_EXTRACTOR_DTLS_SRTP};
use rtc::srtp::context::Context;
use rtc::srtp::option::{srtcp_replay_protection, srtp_replay_protection};
use rtc::srtp::protection_profile::ProtectionProfile;

use super::srtp_gcm::{GcmKeys, GcmStream};

/// The exporter's input, once the handshake ran it: the master secret and the seed.
pub(crate) type Exported = Arc<Mutex<Option<(Vec<u8>, Vec<u8>)>>>;

/// The profiles this side offers (webrtc-rs' defaults), most likely first.
const PROFILES: [ProtectionProfile; 4] = [
    ProtectionProfile::AeadAes256Gcm,
    ProtectionProfile::AeadAes128Gcm,
    ProtectionProfile::Aes128CmHmacSha1_80,
    ProtectionProfile::Aes128CmHmacSha1_32,
];

/// Replay window of the context, in packets (what webrtc-rs' core uses).
const REPLAY_WINDOW: usize = 64;

/// The default crypto provider, which also keeps the DTLS-SRTP exporter's input.
pub(crate) struct KeyCapture {
    inner: Arc<dyn RTCCryptoProvider>,
    crypto: CaptureCrypto,
}

struct CaptureCrypto {
    inner: Arc<dyn RTCCryptoProvider>,
    exported: Exported,
}

impl KeyCapture {
    /// None when there is no default provider (the core then fails the same way).
    pub(crate) fn new(exported: Exported) -> Option<Self> {
        let inner = rtc::crypto::default_provider().ok()?;
        Some(KeyCapture {
            inner: inner.clone(),
            crypto: CaptureCrypto { inner, exported },
        })
    }
}

impl RTCCryptoProvider for KeyCapture {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn crypto(&self) -> &dyn RTCCrypto {
        &self.crypto
    }
    fn random(&self) -> &dyn RTCRandom {
        self.inner.random()
    }
}

impl RTCCrypto for CaptureCrypto {
    fn supports(&self, algorithm: CryptoAlgorithm) -> bool {
        self.inner.crypto().supports(algorithm)
    }
    fn hash(&self, algorithm: HashAlgorithm, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.inner.crypto().hash(algorithm, data)
    }
    fn block_encrypt(
        &self,
        algorithm: BlockCipherAlgorithm,
        key: &[u8],
        block: &mut [u8],
    ) -> Result<(), CryptoError> {
        self.inner.crypto().block_encrypt(algorithm, key, block)
    }
    fn new_hmac(&self, algorithm: HmacAlgorithm, key: &[u8]) -> Result<Box<dyn Mac>, CryptoError> {
        let inner = self.inner.crypto().new_hmac(algorithm, key)?;
        if algorithm != HmacAlgorithm::Sha256 {
            return Ok(inner);
        }
        Ok(Box::new(CaptureMac {
            inner,
            key: key.to_vec(),
            exported: self.exported.clone(),
        }))
    }
    fn new_stream_cipher(
        &self,
        algorithm: StreamCipherAlgorithm,
        key: &[u8],
    ) -> Result<Box<dyn StreamCipher>, CryptoError> {
        self.inner.crypto().new_stream_cipher(algorithm, key)
    }
    fn new_aead(
        &self,
        algorithm: AeadAlgorithm,
        key: &[u8],
    ) -> Result<Box<dyn AeadCipher>, CryptoError> {
        self.inner.crypto().new_aead(algorithm, key)
    }
    fn new_cbc(
        &self,
        algorithm: CbcAlgorithm,
        key: &[u8],
    ) -> Result<Box<dyn CbcCipher>, CryptoError> {
        self.inner.crypto().new_cbc(algorithm, key)
    }
    fn start_key_exchange(
        &self,
        algorithm: KeyExchangeAlgorithm,
    ) -> Result<Box<dyn ActiveKeyExchange>, CryptoError> {
        self.inner.crypto().start_key_exchange(algorithm)
    }
    fn generate_signing_key(
        &self,
        scheme: SignatureScheme,
    ) -> Result<Arc<dyn SigningKey>, CryptoError> {
        self.inner.crypto().generate_signing_key(scheme)
    }
    fn import_signing_key(
        &self,
        scheme: SignatureScheme,
        pkcs8_der: &[u8],
    ) -> Result<Arc<dyn SigningKey>, CryptoError> {
        self.inner.crypto().import_signing_key(scheme, pkcs8_der)
    }
    fn verify_signature(
        &self,
        scheme: SignatureScheme,
        public_key: PublicKey<'_>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.inner
            .crypto()
            .verify_signature(scheme, public_key, message, signature)
    }
}

/// An HMAC-SHA256 that keeps its key and input when the input is the exporter's seed (the
/// first round of P_SHA256 signs the seed alone).
struct CaptureMac {
    inner: Box<dyn Mac>,
    key: Vec<u8>,
    exported: Exported,
}

impl Mac for CaptureMac {
    fn output_len(&self) -> usize {
        self.inner.output_len()
    }
    fn sign(&mut self, input: &[&[u8]], output: &mut [u8]) -> Result<(), CryptoError> {
        if let [seed] = input {
            if seed.starts_with(LABEL_EXTRACTOR_DTLS_SRTP.as_bytes()) {
                if let Ok(mut exported) = self.exported.lock() {
                    *exported = Some((self.key.clone(), seed.to_vec()));
                }
            }
        }
        self.inner.sign(input, output)
    }
    fn verify(&mut self, input: &[&[u8]], expected: &[u8]) -> Result<(), CryptoError> {
        self.inner.verify(input, expected)
    }
}

/// P_SHA256(`secret`, `seed`), `len` bytes (RFC 5246 section 5).
fn p_sha256(secret: &[u8], seed: &[u8], len: usize) -> Option<Vec<u8>> {
    let provider = rtc::crypto::default_provider().ok()?;
    let hmac = |parts: &[&[u8]]| -> Option<Vec<u8>> {
        let mut out = vec![0u8; 32];
        provider
            .crypto()
            .new_hmac(HmacAlgorithm::Sha256, secret)
            .and_then(|mut mac| mac.sign(parts, &mut out))
            .ok()?;
        Some(out)
    };
    let mut a = seed.to_vec();
    let mut out = Vec::with_capacity(len + 32);
    while out.len() < len {
        a = hmac(&[&a])?;
        out.extend_from_slice(&hmac(&[&a, seed])?);
    }
    out.truncate(len);
    Some(out)
}

/// A connection's SRTP keys: the server's, a context from them per stream it sends (so that
/// what a context keeps for a stream goes with it), and this side's, for the RTCP written
/// outside the core.
pub(crate) struct SessionKeys {
    remote: MasterKey,
    local: MasterKey,
    profile: ProtectionProfile,
    provider: Arc<dyn RTCCryptoProvider>,
    /// The server's session keys of an AES-GCM profile, whose streams are decrypted here.
    remote_gcm: Option<Arc<GcmKeys>>,
}

struct MasterKey {
    key: Vec<u8>,
    salt: Vec<u8>,
}

/// What SRTP needs of an RTP header, read in the clear before decryption.
pub(crate) struct ClearHeader {
    pub(crate) ssrc: u32,
    pub(crate) seq: u16,
    /// The header's length: the fixed part, the CSRCs and the extension block.
    pub(crate) len: usize,
}

impl ClearHeader {
    /// The header of the RTP packet `data`; None when `data` is shorter than it says.
    pub(crate) fn parse(data: &[u8]) -> Option<Self> {
        let fixed = data.get(..12)?;
        let mut len = 12 + 4 * usize::from(fixed[0] & 0x0f);
        if fixed[0] & 0x10 != 0 {
            let words = data.get(len + 2..len + 4)?;
            len += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
        }
        (len <= data.len()).then(|| ClearHeader {
            ssrc: u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]),
            seq: u16::from_be_bytes([fixed[2], fixed[3]]),
            len,
        })
    }
}

/// What decrypts one of the server's streams.
pub(crate) enum RemoteStream {
    Gcm(GcmStream),
    /// Boxed: a context is large, and the streams sit in a map looked up per packet (small
    /// entries share the map's cache lines).
    Context(Box<Context>),
}

impl RemoteStream {
    /// The packet `data` of the stream (its `header` read in the clear) decrypted, header
    /// included; None when it is refused (a replay, a wrong tag).
    pub(crate) fn decrypt(&mut self, data: &[u8], header: &ClearHeader) -> Option<BytesMut> {
        let refused = match self {
            RemoteStream::Gcm(stream) => match stream.decrypt(data, header) {
                Ok(plain) => return Some(plain),
                Err(err) => err.to_string(),
            },
            RemoteStream::Context(context) => {
                let header = rtc::rtp::Header::unmarshal(&mut &data[..]);
                match header.and_then(|header| context.decrypt_rtp_with_header(data, &header)) {
                    Ok(plain) => return Some(plain),
                    Err(err) => err.to_string(),
                }
            }
        };
        tracing::trace!(%refused, "SRTP packet refused");
        None
    }
}

impl SessionKeys {
    /// What decrypts a stream the server sends, new: with the AES-GCM profiles
    /// `srtp_gcm.rs`, with the others a webrtc-rs context (replay protection as the core's).
    pub(crate) fn remote_stream(&self) -> Option<RemoteStream> {
        match &self.remote_gcm {
            Some(keys) => Some(RemoteStream::Gcm(GcmStream::new(keys.clone()))),
            None => self
                .remote_context()
                .map(|c| RemoteStream::Context(Box::new(c))),
        }
    }

    /// A fresh context that decrypts what the server sends (replay protection as the core's).
    fn remote_context(&self) -> Option<Context> {
        self.context(&self.remote)
    }

    /// This side's SRTCP session keys, with an AES-GCM profile (`srtp_gcm.rs` encrypts).
    pub(crate) fn local_gcm_rtcp(&self) -> Option<GcmKeys> {
        GcmKeys::rtcp(self.profile, &self.local.key, &self.local.salt)
    }

    /// A fresh context that encrypts what this side sends. Its SRTCP index starts at 0 for
    /// each SSRC: the core, with its own context, must not send RTCP from an SSRC this one does.
    pub(crate) fn local_context(&self) -> Option<Context> {
        self.context(&self.local)
    }

    fn context(&self, master: &MasterKey) -> Option<Context> {
        Context::new(
            &master.key,
            &master.salt,
            self.profile,
            Some(srtp_replay_protection(REPLAY_WINDOW)),
            Some(srtcp_replay_protection(REPLAY_WINDOW)),
            self.provider.crypto(),
        )
        .ok()
    }
}

/// The session keys from the exporter's input (`secret`, `seed`): those of the profile and
/// role whose server context authenticates `first`, an SRTP packet from the server. None when
/// no pair does.
pub(crate) fn session_keys(secret: &[u8], seed: &[u8], first: &[u8]) -> Option<SessionKeys> {
    let provider = rtc::crypto::default_provider().ok()?;
    for profile in PROFILES {
        let mut config = Config {
            profile,
            ..Default::default()
        };
        let Some(material) = p_sha256(secret, seed, config.keying_material_len()) else {
            continue;
        };
        for is_client in [true, false] {
            if config
                .set_session_keys_from_keying_material(&material, is_client)
                .is_err()
            {
                continue;
            }
            let keys = SessionKeys {
                remote: MasterKey {
                    key: config.keys.remote_master_key.clone(),
                    salt: config.keys.remote_master_salt.clone(),
                },
                local: MasterKey {
                    key: config.keys.local_master_key.clone(),
                    salt: config.keys.local_master_salt.clone(),
                },
                profile,
                provider: provider.clone(),
                remote_gcm: None,
            };
            if keys
                .remote_context()
                .is_some_and(|mut trial| trial.decrypt_rtp(first).is_ok())
            {
                let remote_gcm = GcmKeys::new(profile, &keys.remote.key, &keys.remote.salt);
                return Some(SessionKeys {
                    remote_gcm: remote_gcm.map(Arc::new),
                    ..keys
                });
            }
        }
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rtc::shared::marshal::Marshal;

    /// An exporter's seed: the label, then 64 bytes standing for both randoms.
    pub(crate) fn seed() -> Vec<u8> {
        let mut seed = LABEL_EXTRACTOR_DTLS_SRTP.as_bytes().to_vec();
        seed.extend(100u8..164);
        seed
    }

    #[test]
    fn the_exporters_input_is_kept_and_nothing_else() {
        let exported = Exported::default();
        let capture = KeyCapture::new(exported.clone()).unwrap();
        let mut out = [0u8; 32];
        let mut mac = capture
            .crypto()
            .new_hmac(HmacAlgorithm::Sha256, b"secret")
            .unwrap();
        mac.sign(&[b"master secret and more"], &mut out).unwrap();
        assert!(exported.lock().unwrap().is_none(), "another label");
        mac.sign(&[&seed()], &mut out).unwrap();
        assert_eq!(
            exported.lock().unwrap().clone(),
            Some((b"secret".to_vec(), seed()))
        );
        // the HMAC itself is the default provider's
        let mut expected = [0u8; 32];
        rtc::crypto::default_provider()
            .unwrap()
            .crypto()
            .new_hmac(HmacAlgorithm::Sha256, b"secret")
            .unwrap()
            .sign(&[&seed()], &mut expected)
            .unwrap();
        assert_eq!(out, expected);
    }

    #[test]
    fn p_sha256_is_the_tls_prf() {
        // computed apart (Python's hmac and hashlib)
        let secret: Vec<u8> = (0u8..48).collect();
        let expected = "63ce9e635133e2b36ccc940aba24c3b19b4bd6baeee12a853b8b75898f105c4d\
                        165d5e9ae901d7dc4a96b3a06f8122f45f1e55435dc27a2a05fcfe63e5537129\
                        1a9855236fb9f3b6c90d6c6ce8f752fea964bd03df29ba27";
        let got = p_sha256(&secret, &seed(), 88).unwrap();
        let hex: String = got.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
    }

    /// An SRTP packet from the server (the DTLS server here: this side answers as client).
    fn from_server(secret: &[u8], profile: ProtectionProfile, seq: u16) -> Vec<u8> {
        server_packet(secret, profile, 0x1234_5678, seq)
    }

    /// The server's SRTP packet `seq` of stream `ssrc`, keyed by `secret` and [`seed`], whose
    /// payload is `b"a frame"` (the first of its stream: rollover counter 0).
    pub(crate) fn server_packet(
        secret: &[u8],
        profile: ProtectionProfile,
        ssrc: u32,
        seq: u16,
    ) -> Vec<u8> {
        server_rtp(&mut server_context(secret, profile), ssrc, seq)
    }

    /// The server's session keys (the DTLS server's), from `secret` and [`seed`].
    fn server_config(secret: &[u8], profile: ProtectionProfile) -> Config {
        let mut config = Config {
            profile,
            ..Default::default()
        };
        let material = p_sha256(secret, &seed(), config.keying_material_len()).unwrap();
        config
            .set_session_keys_from_keying_material(&material, false)
            .unwrap();
        config
    }

    /// This side's master key and salt (the DTLS client's), from `secret` and [`seed`].
    pub(crate) fn client_keys(secret: &[u8], profile: ProtectionProfile) -> (Vec<u8>, Vec<u8>) {
        let config = server_config(secret, profile);
        (
            config.keys.remote_master_key,
            config.keys.remote_master_salt,
        )
    }

    /// webrtc-rs' context for what this side sends, from `secret` and [`seed`].
    pub(crate) fn client_context(secret: &[u8], profile: ProtectionProfile) -> Context {
        let (key, salt) = client_keys(secret, profile);
        let provider = rtc::crypto::default_provider().unwrap();
        Context::new(&key, &salt, profile, None, None, provider.crypto()).unwrap()
    }

    /// The server's master key and salt for what it sends, from `secret` and [`seed`].
    pub(crate) fn server_keys(secret: &[u8], profile: ProtectionProfile) -> (Vec<u8>, Vec<u8>) {
        let config = server_config(secret, profile);
        (config.keys.local_master_key, config.keys.local_master_salt)
    }

    /// The server's SRTP context, keyed by `secret` and [`seed`].
    pub(crate) fn server_context(secret: &[u8], profile: ProtectionProfile) -> Context {
        let config = server_config(secret, profile);
        let provider = rtc::crypto::default_provider().unwrap();
        Context::new(
            &config.keys.local_master_key,
            &config.keys.local_master_salt,
            profile,
            None,
            None,
            provider.crypto(),
        )
        .unwrap()
    }

    /// The server's SRTP context for what this side sends, keyed by `secret` and [`seed`],
    /// refusing replayed SRTCP.
    pub(crate) fn server_receiving(secret: &[u8], profile: ProtectionProfile) -> Context {
        let config = server_config(secret, profile);
        let provider = rtc::crypto::default_provider().unwrap();
        Context::new(
            &config.keys.remote_master_key,
            &config.keys.remote_master_salt,
            profile,
            None,
            Some(srtcp_replay_protection(REPLAY_WINDOW)),
            provider.crypto(),
        )
        .unwrap()
    }

    /// Packet `seq` of stream `ssrc` protected by `server` (which counts the stream's
    /// rollovers), whose payload is `b"a frame"`.
    pub(crate) fn server_rtp(server: &mut Context, ssrc: u32, seq: u16) -> Vec<u8> {
        let packet = rtc::rtp::Packet {
            header: rtc::rtp::Header {
                version: 2,
                payload_type: 96,
                sequence_number: seq,
                timestamp: 3000,
                ssrc,
                ..Default::default()
            },
            payload: bytes::Bytes::from_static(b"a frame"),
        };
        server
            .encrypt_rtp(&packet.marshal().unwrap())
            .unwrap()
            .to_vec()
    }

    #[test]
    fn the_servers_packets_decrypt_with_the_context_found_by_the_first() {
        let secret: Vec<u8> = (0u8..48).collect();
        for profile in [
            ProtectionProfile::AeadAes256Gcm,
            ProtectionProfile::Aes128CmHmacSha1_80,
        ] {
            let first = from_server(&secret, profile, 1);
            let mut context = session_keys(&secret, &seed(), &first)
                .unwrap()
                .remote_context()
                .unwrap();
            for (seq, packet) in [(1, first), (2, from_server(&secret, profile, 2))] {
                let plain = context.decrypt_rtp(&packet).unwrap();
                assert_eq!(&plain[12..], b"a frame", "{profile:?}, packet {seq}");
            }
        }
        // another secret: no context authenticates it
        let other: Vec<u8> = (1u8..49).collect();
        let first = from_server(&other, ProtectionProfile::AeadAes256Gcm, 1);
        assert!(session_keys(&secret, &seed(), &first).is_none());
    }
}
