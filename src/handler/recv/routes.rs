//! Where the packets of each receiver go: a [`ReceiveSink`] per consumer, found by SSRC for
//! the packets the connection reads and the server's sender reports, and by the track id the
//! core tags its packets with (the `a=msid` track id of the consumer's offer section, the
//! consumer id) for those the core reads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Instant;

use msc_ortc::ReceivedStream;
use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};
use rtc::rtcp::sender_report::SenderReport;
use rtc::rtp;

use super::feedback::Feedback;
use super::reception::ReceptionStats;
use crate::connection::inbound::Inbound;
use crate::ssrc_map::SsrcMap;

/// What a consumer does with the packets of its stream. Called on the connection's tasks, one
/// call at a time per connection, in arrival order; it must not block or call back into the
/// handler synchronously.
pub trait ReceiveSink: Send + Sync {
    /// One RTP packet of the stream, decrypted, a retransmission already unwrapped to the
    /// packet it repairs (so sequence numbers may repeat or go back).
    fn rtp(&self, now: Instant, packet: rtp::Packet);
    /// A sender report of the stream: the server's NTP time (64-bit, RFC 3550) at RTP time
    /// `rtp_time`.
    fn sender_report(&self, now: Instant, ntp_time: u64, rtp_time: u32);
}

struct Route {
    stream: ReceivedStream,
    sink: Arc<dyn ReceiveSink>,
}

/// The routes of one connection, and its receive feedback (which every packet goes through
/// first, whoever read it). In this order (`repr(C)`): what a read touches first, together;
/// the routes by track, which it does not touch, last.
#[derive(Default)]
#[repr(C)]
pub(crate) struct Routes {
    /// Streams forgotten so far ([`Inbound::forgotten`]).
    forgotten: AtomicU64,
    by_ssrc: RwLock<SsrcMap<Arc<dyn ReceiveSink>>>,
    feedback: Mutex<Feedback>,
    by_track: RwLock<HashMap<String, Route>>,
}

impl Routes {
    /// The connection's receive feedback (its interceptor's, and the read path's).
    pub(crate) fn feedback(&self) -> MutexGuard<'_, Feedback> {
        self.feedback.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The inbound statistics of the stream of `track_id`, once a packet of it came.
    pub(crate) fn stats(&self, track_id: &str) -> Option<(u32, ReceptionStats)> {
        let ssrc = self.by_track.read().ok()?.get(track_id)?.stream.ssrc;
        Some((ssrc, self.feedback().stats(ssrc)?))
    }

    /// `stream` is received from now on, and its packets and sender reports go to `sink`
    /// (packets the core reads: those it tags `track_id`).
    pub(crate) fn add(&self, track_id: &str, stream: &ReceivedStream, sink: Arc<dyn ReceiveSink>) {
        self.expect(stream);
        if let Ok(mut by_ssrc) = self.by_ssrc.write() {
            by_ssrc.insert(stream.ssrc, sink.clone());
        }
        if let Ok(mut by_track) = self.by_track.write() {
            let stream = stream.clone();
            by_track.insert(track_id.to_owned(), Route { stream, sink });
        }
    }

    /// `stream` is received from now on, for no sink (the probator's: its packets count in
    /// the feedback only).
    pub(crate) fn expect(&self, stream: &ReceivedStream) {
        self.feedback().bind(stream);
    }

    /// Nothing goes to the sink of `track_id` any more, and its stream is forgotten.
    pub(crate) fn remove(&self, track_id: &str) {
        let Some(route) = self
            .by_track
            .write()
            .ok()
            .and_then(|mut m| m.remove(track_id))
        else {
            return;
        };
        let ssrc = route.stream.ssrc;
        let Ok(mut by_ssrc) = self.by_ssrc.write() else {
            return;
        };
        // the SSRC taken since by another receiver stays its
        if by_ssrc
            .get(&ssrc)
            .is_some_and(|s| Arc::ptr_eq(s, &route.sink))
        {
            by_ssrc.remove(&ssrc);
            self.feedback().unbind(&route.stream);
            self.forgotten.fetch_add(1, Ordering::Release);
        }
    }

    /// A sender report: to the sink of its stream if it has one, and to the feedback (whose
    /// receiver reports echo it, and whose stats give its counts).
    pub(crate) fn sender_report(&self, now: Instant, report: &SenderReport) {
        let sink = self
            .by_ssrc
            .read()
            .ok()
            .and_then(|m| m.get(&report.ssrc).cloned());
        if let Some(sink) = sink {
            sink.sender_report(now, report.ntp_time, report.rtp_time);
        }
        self.feedback().sender_report(now, report);
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut m) = self.by_track.write() {
            m.clear();
        }
        if let Ok(mut m) = self.by_ssrc.write() {
            m.clear();
        }
    }
}

impl Inbound for Routes {
    fn deliver(&self, messages: Vec<TaggedRTCMessage>) {
        let Ok(by_track) = self.by_track.read() else {
            return;
        };
        // Sender reports reach the sinks from the interceptor chain (`interceptor.rs`):
        // webrtc-rs delivers no inbound RTCP here.
        for message in messages {
            if let RTCMessage::RtpPacket(track_id, packet) = message.message {
                if let Some(route) = by_track.get(&track_id) {
                    route.sink.rtp(message.now, packet);
                }
            }
        }
    }

    fn knows(&self, ssrc: u32) -> bool {
        self.feedback().knows(ssrc)
    }

    fn forgotten(&self) -> u64 {
        self.forgotten.load(Ordering::Acquire)
    }

    fn reads_in_rounds(&self) -> bool {
        true
    }

    fn note_rtp(&self, packets: &mut [(Instant, rtp::Packet)]) -> Option<Instant> {
        let mut feedback = self.feedback();
        for (now, packet) in packets {
            feedback.packet(*now, packet);
        }
        feedback.next_timeout()
    }

    fn take_over_rtcp(&self) -> bool {
        self.feedback().written_by_connection();
        true
    }

    fn rtcp(&self, now: Instant) -> Vec<Box<dyn rtc::rtcp::Packet>> {
        self.feedback().timeout(now)
    }

    fn rtcp_due(&self) -> Option<Instant> {
        self.feedback().next_timeout()
    }

    fn deliver_rtp(&self, packets: Vec<(Instant, rtp::Packet)>) {
        let Ok(by_ssrc) = self.by_ssrc.read() else {
            return;
        };
        // by SSRC: the probator's stream has no sink
        for (now, packet) in packets {
            if let Some(sink) = by_ssrc.get(&packet.header.ssrc) {
                sink.rtp(now, packet);
            }
        }
    }
}

/// The packet as it came on the wire (header included, decrypted; a retransmission as the
/// packet it repairs), for programs that want raw RTP; the zero bytes that pad its header
/// extension block are cut to the fewest that end it on a 32-bit word. webrtc-rs counts every
/// padding byte of the block it parsed in `extensions_padding` and sizes the packet with them,
/// but writes only that rounding: a block padded further (mediasoup sends such blocks) would
/// not marshal at all.
pub fn marshal_rtp(header: &rtp::Header, payload: &bytes::Bytes) -> bytes::Bytes {
    use rtc::shared::marshal::Marshal;
    let packet = rtp::Packet {
        header: rtp::Header {
            extensions_padding: 0,
            ..header.clone()
        },
        payload: payload.clone(),
    };
    match packet.marshal() {
        Ok(b) => b.freeze(),
        Err(e) => {
            tracing::debug!(%e, "an RTP packet could not be written back");
            bytes::Bytes::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::shared::marshal::Unmarshal;

    /// An Opus packet of mediasoup's shape: a one-byte extension block of three words holding
    /// only the mid ("0") and ten zero bytes of padding.
    fn padded_packet() -> Vec<u8> {
        let mut wire = vec![
            0x90, 100, 0x12, 0x34, 0, 0, 0x10, 0, 0xde, 0xad, 0xbe, 0xef, 0xbe, 0xde, 0, 3, 0x10,
            b'0',
        ];
        wire.extend([0; 10]);
        wire.extend(b"opus frame");
        wire
    }

    struct Nowhere;

    impl ReceiveSink for Nowhere {
        fn rtp(&self, _now: Instant, _packet: rtp::Packet) {}
        fn sender_report(&self, _now: Instant, _ntp_time: u64, _rtp_time: u32) {}
    }

    #[test]
    fn a_receivers_stream_is_known_from_its_addition_to_its_removal() {
        let routes = Routes::default();
        let stream = super::super::rtx_unwrap::tests::stream();
        assert!(!routes.knows(1000));
        routes.add("consumer", &stream, Arc::new(Nowhere));
        assert!(routes.knows(1000) && routes.knows(2000));
        assert_eq!(routes.forgotten(), 0);
        routes.remove("consumer");
        assert!(!routes.knows(1000) && !routes.knows(2000));
        assert_eq!(routes.forgotten(), 1);
        // a stream without a receiver (the probator's)
        routes.expect(&ReceivedStream {
            ssrc: 1234,
            rtx: None,
            ..stream
        });
        assert!(routes.knows(1234));
    }

    #[test]
    fn a_packet_with_a_long_padded_extension_block_marshals_whole() {
        let wire = padded_packet();
        let parsed = rtp::Packet::unmarshal(&mut &wire[..]).unwrap();
        let raw = marshal_rtp(&parsed.header, &parsed.payload);
        // the same fixed header, the block cut to one word, the same payload
        assert_eq!(raw.len(), wire.len() - 8);
        assert_eq!(&raw[..12], &wire[..12]);
        assert_eq!(&raw[12..20], &[0xbe, 0xde, 0, 1, 0x10, b'0', 0, 0]);
        assert_eq!(&raw[20..], b"opus frame");
        let again = rtp::Packet::unmarshal(&mut &raw[..]).unwrap();
        assert_eq!(again.header.extensions, parsed.header.extensions);
        assert_eq!(again.payload, parsed.payload);
    }

    #[test]
    fn a_received_packet_is_written_back_as_it_came() {
        // one-byte header extensions (ids 1, 4, 5: 9 bytes, padded to 12), as mediasoup sends
        let wire: Vec<u8> = [
            &[
                0x90, 0x65, 0x75, 0xc8, 0x18, 0xdf, 0xa4, 0x22, 0x29, 0xfd, 0x3b, 0xe3,
            ][..],
            &[0xbe, 0xde, 0x00, 0x03],
            &[
                0x10, b'0', 0x42, 0xc9, 0xbe, 0x77, 0x51, 0x00, 0x12, 0x00, 0x00, 0x00,
            ],
            &[0xde, 0xad, 0xbe, 0xef, 0x01],
        ]
        .concat();
        let mut buf = &wire[..];
        let packet = rtp::Packet::unmarshal(&mut buf).unwrap();
        assert_eq!(packet.header.extensions.len(), 3);
        assert_eq!(&marshal_rtp(&packet.header, &packet.payload)[..], &wire[..]);
    }
}
