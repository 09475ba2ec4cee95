//! Retransmissions back into their stream, for the receive interceptor (`interceptor.rs`).
//!
//! webrtc-rs unwraps RTX (RFC 4588) only after its interceptor chain: its NACK generator would
//! see a repaired packet under the RTX SSRC, never learn that the hole was filled, and ask for
//! it again and again. [`RtxStreams::unwrap`] gives an RTX packet back its stream's SSRC,
//! payload type and original sequence number (the timestamp, marker and header extensions
//! stay, as RFC 4588 keeps them), so that every interceptor above and the application see the
//! repaired packet itself. An RTX packet too short to hold an original sequence number (a
//! padding-only bandwidth probe) is left as it is, and webrtc-rs drops it.

use msc_ortc::ReceivedStream;

use crate::ssrc_map::SsrcMap;

/// The stream an RTX SSRC repairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Repairs {
    ssrc: u32,
    payload_type: u8,
    rtx_payload_type: u8,
}

/// The RTX streams of the connection's receivers, by RTX SSRC.
#[derive(Default)]
pub(crate) struct RtxStreams {
    /// RTX SSRC -> the stream it repairs.
    streams: SsrcMap<Repairs>,
}

impl RtxStreams {
    /// Rewrites `packet` in place when it is a retransmission of a bound stream; true then.
    pub(crate) fn unwrap(&self, packet: &mut rtc::rtp::Packet) -> bool {
        let Some(repairs) = self.streams.get(&packet.header.ssrc) else {
            return false;
        };
        if packet.header.payload_type != repairs.rtx_payload_type || packet.payload.len() < 2 {
            return false;
        }
        let original = u16::from_be_bytes([packet.payload[0], packet.payload[1]]);
        packet.header.ssrc = repairs.ssrc;
        packet.header.payload_type = repairs.payload_type;
        packet.header.sequence_number = original;
        packet.payload = packet.payload.slice(2..);
        true
    }
}

impl RtxStreams {
    /// Whether `ssrc` is the RTX stream of a bound stream.
    pub(crate) fn repairs(&self, ssrc: u32) -> bool {
        self.streams.contains_key(&ssrc)
    }

    /// A receiver's stream was bound: its RTX SSRC, if it has one, now repairs it.
    pub(crate) fn bind(&mut self, stream: &ReceivedStream) {
        if let Some((rtx, rtx_payload_type)) = stream.rtx {
            self.streams.insert(
                rtx,
                Repairs {
                    ssrc: stream.ssrc,
                    payload_type: stream.payload_type,
                    rtx_payload_type,
                },
            );
        }
    }

    /// A receiver's stream was unbound.
    pub(crate) fn unbind(&mut self, stream: &ReceivedStream) {
        if let Some((rtx, _)) = stream.rtx {
            if self
                .streams
                .get(&rtx)
                .is_some_and(|r| r.ssrc == stream.ssrc)
            {
                self.streams.remove(&rtx);
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use bytes::Bytes;

    /// A video stream (SSRC 1000, payload type 101) and its RTX (SSRC 2000, payload type 102).
    pub(crate) fn stream() -> ReceivedStream {
        ReceivedStream {
            ssrc: 1000,
            kind: msc_ortc::MediaKind::Video,
            payload_type: 101,
            clock_rate: 90000,
            rtx: Some((2000, 102)),
            nack: true,
            transport_wide_id: None,
        }
    }

    fn rtx_stream() -> RtxStreams {
        let mut unwrap = RtxStreams::default();
        unwrap.bind(&stream());
        unwrap
    }

    fn packet(
        ssrc: u32,
        payload_type: u8,
        sequence_number: u16,
        payload: &[u8],
    ) -> rtc::rtp::Packet {
        let mut p = rtc::rtp::Packet::default();
        p.header.ssrc = ssrc;
        p.header.payload_type = payload_type;
        p.header.sequence_number = sequence_number;
        p.header.timestamp = 9000;
        p.header.marker = true;
        p.payload = Bytes::copy_from_slice(payload);
        p
    }

    #[test]
    fn a_retransmission_becomes_the_packet_it_repairs() {
        let unwrap = rtx_stream();
        let mut p = packet(2000, 102, 7, &[0x30, 0x39, 0xaa, 0xbb]);
        unwrap.unwrap(&mut p);
        assert_eq!(p.header.ssrc, 1000);
        assert_eq!(p.header.payload_type, 101);
        assert_eq!(p.header.sequence_number, 0x3039);
        assert_eq!(p.header.timestamp, 9000);
        assert!(p.header.marker);
        assert_eq!(&p.payload[..], &[0xaa, 0xbb]);
    }

    #[test]
    fn other_packets_pass_as_they_are() {
        let mut unwrap = rtx_stream();
        for original in [
            packet(1000, 101, 5, &[1, 2, 3]), // the stream itself
            packet(2000, 102, 8, &[]),        // a padding-only probe
            packet(2000, 101, 9, &[1, 2, 3]), // not the RTX payload type
            packet(3000, 102, 9, &[1, 2, 3]), // an unknown SSRC
        ] {
            let mut p = original.clone();
            unwrap.unwrap(&mut p);
            assert_eq!(p, original);
        }
        unwrap.unbind(&stream());
        let original = packet(2000, 102, 7, &[0, 1, 2]);
        let mut p = original.clone();
        unwrap.unwrap(&mut p);
        assert_eq!(p, original, "unbound");
    }
}
