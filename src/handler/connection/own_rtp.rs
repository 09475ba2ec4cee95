//! A receiving connection's RTP, decrypted outside webrtc-rs' core once the keys are known
//! (`srtp_keys.rs`), so that it skips the core's read pipeline, the largest cost of a
//! received packet (`docs/performance.md`, "RTP read outside webrtc-rs' core"). The
//! direction's [`Inbound`] then does with each packet what the core's interceptors did.
//!
//! Once the keys are known the core sees no RTP: it would keep state for every SSRC it ever
//! decrypted (an SRTP replay window, a statistics entry) and never drop it, and a receive
//! transport sees new SSRCs with each consumer. Here each stream has its own SRTP context,
//! retired when the direction forgets the stream. A retired context still takes its stream's
//! packets (then dropped) while they come, so that a stream received again (a consumer
//! closed here while the server's consumer went on sending, then consumed again) keeps its
//! rollover counter, as a transport-wide SRTP session would: a stream's packets decrypt only
//! with the right counter, which a new context would take as 0. Retired contexts are few
//! ([`RETIRED`]) and go once their stream is quiet ([`RETIRED_QUIET`]), which is what
//! becomes of them when the server's consumer closed too.

use std::collections::hash_map::Entry;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::rtp;
use rtc::shared::marshal::Unmarshal;

use super::inbound::Inbound;
use super::srtp_keys::{self, ClearHeader, Exported, RemoteStream, SessionKeys};
use crate::ssrc_map::SsrcMap;

/// Packets of known streams that found no keys, after which none are looked for any more
/// (the core reads everything then).
const TRIES: u8 = 8;

/// Retired contexts kept at most (the oldest goes first).
const RETIRED: usize = 16;

/// A retired context goes after this long without a packet of its stream.
const RETIRED_QUIET: Duration = Duration::from_secs(10);

/// In this order (`repr(C)`): what each packet read touches first, on one cache line.
#[derive(Default)]
#[repr(C)]
pub(super) struct OwnRtp {
    /// A context per stream of the direction.
    contexts: SsrcMap<RemoteStream>,
    /// Packets decrypted since the last [`take_packets`](Self::take_packets).
    packets: Vec<(Instant, rtp::Packet)>,
    /// The direction's [`Inbound::forgotten`] when `contexts` last followed it.
    forgotten: u64,
    tries: u8,
    /// The contexts of streams the direction forgot, the most recently forgotten last.
    retired: VecDeque<Retired>,
    /// What the DTLS handshake exported, once it ran.
    pub(super) exported: Exported,
    /// The keys that decrypt the server's RTP, once found.
    keys: Option<SessionKeys>,
}

impl OwnRtp {
    /// A datagram received once the DTLS handshake is done, for `direction` (whose streams
    /// are read here, [`Inbound::knows`]): true when it was taken
    /// (decrypted and kept for the direction; refused as the core would, a replay or a wrong
    /// tag; or, the keys known, RTP of a stream the direction does not know, dropped), false
    /// when it is the core's (not RTP, or RTP before the keys are found from a packet of one
    /// of the direction's streams).
    pub(super) fn read(&mut self, direction: &dyn Inbound, now: Instant, data: &[u8]) -> bool {
        if !is_rtp(data) {
            return false;
        }
        // the header is in the clear: what the context needs read from it here, and the whole
        // header parsed once decrypted (its extensions then share the packet's buffer)
        let Some(clear) = ClearHeader::parse(data) else {
            return false;
        };
        let ssrc = clear.ssrc;
        let context = match self.contexts.entry(ssrc) {
            Entry::Occupied(context) => context.into_mut(),
            Entry::Vacant(entry) => {
                let retired = self.retired.iter().position(|r| r.ssrc == ssrc);
                if !direction.knows(ssrc) {
                    if let Some(at) = retired {
                        // only to follow the stream's rollover counter
                        let retired = &mut self.retired[at];
                        retired.last = now;
                        let _ = retired.context.decrypt(data, &clear);
                    }
                    return self.keys.is_some();
                }
                let context = match retired.and_then(|at| self.retired.remove(at)) {
                    Some(retired) => retired.context,
                    None => {
                        let keys = find_keys(&mut self.keys, &mut self.tries, &self.exported, data);
                        let Some(context) = keys.and_then(SessionKeys::remote_stream) else {
                            return false;
                        };
                        context
                    }
                };
                entry.insert(context)
            }
        };
        if let Some(plain) = context.decrypt(data, &clear) {
            match packet(plain.freeze()) {
                Some(packet) => self.packets.push((now, packet)),
                None => {
                    tracing::trace!("RTP packet with a bad header or more padding than payload")
                }
            }
        }
        true
    }

    /// Follows the streams `direction` forgot since the last call (their contexts retired),
    /// before a batch of reads: once per batch rather than per datagram (a call through the
    /// direction, whose state is out of the cache at each batch). A stream forgotten during a
    /// batch is decrypted to its end, and then dropped by the direction, which no longer knows
    /// it.
    pub(super) fn follow(&mut self, direction: &dyn Inbound, now: Instant) {
        let forgotten = direction.forgotten();
        if forgotten != self.forgotten {
            self.forgotten = forgotten;
            self.retire_forgotten(direction, now);
        }
    }

    /// Retires the contexts of the streams `direction` no longer knows, and drops those retired
    /// that are quiet at `now`.
    fn retire_forgotten(&mut self, direction: &dyn Inbound, now: Instant) {
        self.retired
            .retain(|r| now.saturating_duration_since(r.last) < RETIRED_QUIET);
        let gone = self.contexts.extract_if(|ssrc, _| !direction.knows(*ssrc));
        for (ssrc, context) in gone {
            if self.retired.len() == RETIRED {
                self.retired.pop_front();
            }
            self.retired.push_back(Retired {
                ssrc,
                context,
                last: now,
            });
        }
    }

    /// The connection's SRTP keys, once a packet found them.
    pub(super) fn keys(&self) -> Option<&SessionKeys> {
        self.keys.as_ref()
    }

    /// The packets decrypted since the last call, oldest first.
    pub(super) fn take_packets(&mut self) -> Vec<(Instant, rtp::Packet)> {
        std::mem::take(&mut self.packets)
    }
}

/// The keys, found from `first` (a packet of one of the direction's streams) while they are
/// not known yet and fewer than [`TRIES`] packets failed to find them.
fn find_keys<'k>(
    keys: &'k mut Option<SessionKeys>,
    tries: &mut u8,
    exported: &Exported,
    first: &[u8],
) -> Option<&'k SessionKeys> {
    if keys.is_none() && *tries < TRIES {
        *tries += 1;
        let exported = exported.lock().ok().and_then(|e| e.clone());
        if let Some((secret, seed)) = exported {
            *keys = srtp_keys::session_keys(&secret, &seed, first);
            if keys.is_none() {
                tracing::debug!("no SRTP keys found for the RTP read outside the core");
            }
        }
    }
    keys.as_ref()
}

/// A stream's context after the direction forgot it.
struct Retired {
    ssrc: u32,
    context: RemoteStream,
    /// When its stream's last packet came (or it was retired).
    last: Instant,
}

/// The decrypted packet `plain`: its header, and its payload with the padding (RFC 3550: the
/// count in its last byte) cut; None when the header does not parse or that count is more
/// than the payload.
fn packet(plain: Bytes) -> Option<rtp::Packet> {
    // parsed from the buffer itself, not from a slice: each header extension's bytes are then
    // a view of the buffer rather than an allocation of their own, and the payload is what
    // the parse leaves
    let mut payload = plain;
    let header = rtp::Header::unmarshal(&mut payload).ok()?;
    if header.padding {
        let padding = usize::from(*payload.last()?);
        let len = payload.len().checked_sub(padding)?;
        payload.truncate(len);
    }
    Some(rtp::Packet { header, payload })
}

/// Whether a datagram is RTP (RFC 7983: first byte 128-191) and not RTCP (RFC 5761: payload
/// type 64-95 with the marker bit, the RTCP packet types 192-223).
fn is_rtp(data: &[u8]) -> bool {
    data.len() >= 12 && data[0] >> 6 == 2 && !(64..=95).contains(&(data[1] & 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::srtp_keys::tests::{seed, server_context, server_packet, server_rtp};
    use rtc::peer_connection::message::TaggedRTCMessage;
    use rtc::srtp::protection_profile::ProtectionProfile;
    use std::collections::HashSet;
    use std::sync::Mutex;

    /// A direction that knows the SSRCs in `streams`.
    #[derive(Default)]
    struct Streams {
        streams: Mutex<HashSet<u32>>,
        forgotten: Mutex<u64>,
    }

    impl Streams {
        fn forget(&self, ssrc: u32) {
            self.streams.lock().unwrap().remove(&ssrc);
            *self.forgotten.lock().unwrap() += 1;
        }
    }

    impl Inbound for Streams {
        fn deliver(&self, _messages: Vec<TaggedRTCMessage>) {}
        fn knows(&self, ssrc: u32) -> bool {
            self.streams.lock().unwrap().contains(&ssrc)
        }
        fn forgotten(&self) -> u64 {
            *self.forgotten.lock().unwrap()
        }
    }

    const SECRET: [u8; 48] = [7; 48];
    /// Every profile: the AES-GCM ones decrypted by `srtp_gcm.rs`, the others by webrtc-rs'
    /// context.
    const PROFILES: [ProtectionProfile; 4] = [
        ProtectionProfile::AeadAes256Gcm,
        ProtectionProfile::AeadAes128Gcm,
        ProtectionProfile::Aes128CmHmacSha1_80,
        ProtectionProfile::Aes128CmHmacSha1_32,
    ];
    const PROFILE: ProtectionProfile = ProtectionProfile::AeadAes128Gcm;

    fn own(streams: &[u32]) -> (OwnRtp, Streams) {
        let direction = Streams::default();
        direction.streams.lock().unwrap().extend(streams);
        let own = OwnRtp::default();
        *own.exported.lock().unwrap() = Some((SECRET.to_vec(), seed()));
        (own, direction)
    }

    fn sequence_numbers(own: &mut OwnRtp) -> Vec<(u32, u16)> {
        own.take_packets()
            .into_iter()
            .map(|(_, p)| {
                assert_eq!(&p.payload[..], b"a frame");
                (p.header.ssrc, p.header.sequence_number)
            })
            .collect()
    }

    #[test]
    fn the_padding_is_cut_from_the_payload() {
        let fixed = b"\x80\x60\x00\x01\x00\x00\x0b\xb8\x00\x00\x12\x34";
        let padded = b"\xa0\x60\x00\x01\x00\x00\x0b\xb8\x00\x00\x12\x34";
        let with = |header: &[u8], rest: &[u8]| Bytes::from([header, rest].concat());
        let plain = packet(with(fixed, b"a frame\0\0\x03")).unwrap();
        assert_eq!(&plain.payload[..], b"a frame\0\0\x03");
        assert_eq!(plain.header.ssrc, 0x1234);
        let cut = packet(with(padded, b"a frame\0\0\x03")).unwrap();
        assert_eq!(&cut.payload[..], b"a frame");
        assert!(packet(with(padded, b"\x09")).is_none());
        assert!(packet(with(padded, b"")).is_none());
        assert!(packet(Bytes::from_static(b"\x80\x60\x00\x01")).is_none());
    }

    /// A packet of the server's with two CSRCs and a one-byte header extension block.
    fn extended(seq: u16) -> rtp::Packet {
        let mut header = rtp::Header {
            version: 2,
            payload_type: 96,
            sequence_number: seq,
            timestamp: 3000,
            ssrc: 1,
            csrc: vec![5, 6],
            ..Default::default()
        };
        header
            .set_extension(1, Bytes::from_static(&[1, 2, 3]))
            .unwrap();
        header.set_extension(3, Bytes::from_static(&[9])).unwrap();
        rtp::Packet {
            header,
            payload: Bytes::from_static(b"a frame"),
        }
    }

    #[test]
    fn csrcs_and_header_extensions_are_read_whole_with_every_profile() {
        use rtc::shared::marshal::Marshal;
        for profile in PROFILES {
            let (mut own, direction) = own(&[1]);
            let mut server = server_context(&SECRET, profile);
            let sent = extended(7);
            let datagram = server.encrypt_rtp(&sent.marshal().unwrap()).unwrap();
            assert!(own.read(&direction, Instant::now(), &datagram));
            let got = own.take_packets();
            assert_eq!(got.len(), 1, "{profile:?}");
            let (_, packet) = &got[0];
            assert_eq!(packet.header.csrc, [5, 6]);
            assert_eq!(packet.header.get_extension(1).unwrap(), &[1, 2, 3][..]);
            assert_eq!(packet.header.get_extension(3).unwrap(), &[9][..]);
            assert_eq!(&packet.payload[..], b"a frame");
            assert_eq!(packet.marshal().unwrap(), sent.marshal().unwrap());
        }
    }

    #[test]
    fn a_header_longer_than_its_packet_is_not_read() {
        use rtc::shared::marshal::Marshal;
        let whole = extended(7).marshal().unwrap();
        let clear = ClearHeader::parse(&whole).unwrap();
        assert_eq!((clear.ssrc, clear.seq), (1, 7));
        assert_eq!(clear.len, whole.len() - b"a frame".len());
        // cut inside the extension block, and inside its length
        assert!(ClearHeader::parse(&whole[..clear.len - 1]).is_none());
        assert!(ClearHeader::parse(&whole[..22]).is_none());
        assert!(ClearHeader::parse(&whole[..clear.len]).is_some());
    }

    #[test]
    fn the_streams_of_the_direction_are_read_with_a_context_each_dropped_when_forgotten() {
        let (mut own, direction) = own(&[1, 2]);
        let now = Instant::now();
        // another stream's packet before the keys: the core's
        assert!(!own.read(&direction, now, &server_packet(&SECRET, PROFILE, 3, 1)));
        for (ssrc, seq) in [(1, 10), (2, 20), (1, 11)] {
            assert!(own.read(&direction, now, &server_packet(&SECRET, PROFILE, ssrc, seq)));
        }
        assert_eq!(sequence_numbers(&mut own), [(1, 10), (2, 20), (1, 11)]);
        // a replay is taken and refused
        assert!(own.read(&direction, now, &server_packet(&SECRET, PROFILE, 1, 11)));
        assert!(sequence_numbers(&mut own).is_empty());
        // the keys known, another stream's packets are dropped, with nothing kept for them
        assert!(own.read(&direction, now, &server_packet(&SECRET, PROFILE, 3, 2)));
        assert!(sequence_numbers(&mut own).is_empty());
        assert_eq!(own.contexts.len(), 2);
        // a forgotten stream's context goes: its next packets are dropped
        direction.forget(1);
        own.follow(&direction, now);
        assert!(own.read(&direction, now, &server_packet(&SECRET, PROFILE, 1, 12)));
        assert!(own.read(&direction, now, &server_packet(&SECRET, PROFILE, 2, 21)));
        assert_eq!(sequence_numbers(&mut own), [(2, 21)]);
        assert_eq!(own.contexts.keys().collect::<Vec<_>>(), [&2]);
        // RTCP and other datagrams are the core's
        let mut rtcp = server_packet(&SECRET, PROFILE, 2, 22);
        rtcp[1] = 200;
        assert!(!own.read(&direction, now, &rtcp));
    }

    #[test]
    fn every_profile_is_read_here_and_refuses_replays() {
        for profile in PROFILES {
            let (mut own, direction) = own(&[1]);
            let now = Instant::now();
            let mut server = server_context(&SECRET, profile);
            let packets: Vec<_> = [7, 8, 9].map(|seq| server_rtp(&mut server, 1, seq)).into();
            for packet in &packets {
                assert!(own.read(&direction, now, packet), "{profile:?}");
            }
            assert!(own.read(&direction, now, &packets[1]), "{profile:?}");
            assert_eq!(
                sequence_numbers(&mut own),
                [(1, 7), (1, 8), (1, 9)],
                "{profile:?}"
            );
            let gcm = matches!(own.contexts.get(&1), Some(RemoteStream::Gcm(_)));
            assert_eq!(gcm, profile.aead_auth_tag_len() > 0, "{profile:?}");
        }
    }

    // A stream forgotten while the server goes on sending, across its sequence numbers'
    // wrap, then known again: its packets still decrypt (with rollover counter 1, which a new
    // context would not guess).
    #[test]
    fn a_stream_known_again_keeps_its_rollover_counter() {
        let (mut own, direction) = own(&[1, 2]);
        let now = Instant::now();
        let mut server = server_context(&SECRET, PROFILE);
        let mut send = |seq| server_rtp(&mut server, 1, seq);
        assert!(own.read(&direction, now, &send(65534)));
        direction.forget(1);
        own.follow(&direction, now);
        for seq in [65535, 0] {
            assert!(own.read(&direction, now, &send(seq)));
        }
        assert_eq!(sequence_numbers(&mut own), [(1, 65534)]);
        direction.streams.lock().unwrap().insert(1);
        assert!(own.read(&direction, now, &send(1)));
        assert_eq!(sequence_numbers(&mut own), [(1, 1)]);
        assert!(own.retired.is_empty());
    }

    #[test]
    fn the_oldest_retired_contexts_go_first() {
        let ssrcs: Vec<u32> = (1..=RETIRED as u32 + 2).collect();
        let (mut own, direction) = own(&ssrcs);
        let now = Instant::now();
        for &ssrc in &ssrcs {
            own.follow(&direction, now);
            assert!(own.read(&direction, now, &server_packet(&SECRET, PROFILE, ssrc, 1)));
            direction.forget(ssrc);
        }
        // each forget is seen at the next batch: the last stream's context is still in use
        assert_eq!(own.contexts.len(), 1);
        own.follow(&direction, now);
        assert!(own.read(&direction, now, &server_packet(&SECRET, PROFILE, 1, 2)));
        assert!(own.contexts.is_empty());
        let kept: Vec<u32> = own.retired.iter().map(|r| r.ssrc).collect();
        assert_eq!(kept, ssrcs[2..]);
    }

    #[test]
    fn a_quiet_retired_context_goes() {
        let (mut own, direction) = own(&[1, 2, 3]);
        let start = Instant::now();
        let mut server = server_context(&SECRET, PROFILE);
        for ssrc in [1, 2, 3] {
            assert!(own.read(&direction, start, &server_rtp(&mut server, ssrc, 10)));
        }
        direction.forget(1);
        direction.forget(2);
        // retired at the next batch; stream 2 goes on coming, stream 1 is quiet
        let later = start + RETIRED_QUIET / 2;
        own.follow(&direction, later);
        assert!(own.read(&direction, later, &server_rtp(&mut server, 2, 11)));
        let much_later = later + RETIRED_QUIET + Duration::from_secs(1);
        own.follow(&direction, much_later);
        assert!(own.read(&direction, much_later, &server_rtp(&mut server, 2, 12)));
        direction.forget(3);
        own.follow(&direction, much_later);
        assert!(own.read(&direction, much_later, &server_rtp(&mut server, 3, 11)));
        let kept: Vec<u32> = own.retired.iter().map(|r| r.ssrc).collect();
        assert_eq!(kept, [2, 3]);
    }

    #[test]
    fn without_keys_everything_is_the_cores() {
        let (mut own, direction) = own(&[1]);
        let other: Vec<u8> = vec![9; 48];
        for seq in 0..u16::from(TRIES) + 2 {
            assert!(!own.read(
                &direction,
                Instant::now(),
                &server_packet(&other, PROFILE, 1, seq)
            ));
        }
        assert_eq!(own.tries, TRIES);
        assert!(own.contexts.is_empty());
    }
}
