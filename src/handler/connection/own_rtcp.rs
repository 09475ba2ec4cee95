//! A receiving connection's RTCP (its direction's NACKs, receiver reports and congestion
//! feedback), encrypted and sent outside webrtc-rs' core once the SRTP keys are known
//! (`srtp_keys.rs`, found by `own_rtp.rs`): the core's write pipeline moves each packet
//! through a queue of every protocol layer, and the core's timers would be run for every
//! feedback, ten times a second per connection (`docs/performance.md`, "The receive side's
//! RTCP outside webrtc-rs' core").
//!
//! The direction sends this RTCP from an SSRC of its own (`recv/feedback.rs`): SRTCP counts its
//! packets per sender SSRC, and this side counts from 0, apart from what the core may have
//! sent before (from another SSRC). With the AES-GCM profiles `srtp_gcm.rs` encrypts, with the
//! others a webrtc-rs context.

use bytes::BytesMut;
use rtc::rtcp;
use rtc::srtp::context::Context;

use super::srtp_gcm::GcmRtcp;
use super::srtp_keys::SessionKeys;

/// The largest compound packet written: RTCP leaves in as many datagrams as needed to keep
/// each within an Ethernet MTU with room for the SRTCP trailer and any tunnel's headers.
const MAX_COMPOUND: usize = 1200;

pub(super) enum OwnRtcp {
    Gcm(Box<GcmRtcp>),
    Context(Box<Context>),
}

impl OwnRtcp {
    /// RTCP encrypted with this side's keys; None when no context can be made from them.
    pub(super) fn new(keys: &SessionKeys) -> Option<Self> {
        Some(match keys.local_gcm_rtcp() {
            Some(gcm) => OwnRtcp::Gcm(Box::new(GcmRtcp::new(gcm))),
            None => OwnRtcp::Context(Box::new(keys.local_context()?)),
        })
    }

    fn encrypt(&mut self, plain: &[u8]) -> Result<BytesMut, String> {
        match self {
            OwnRtcp::Gcm(gcm) => gcm.protect(plain).ok_or_else(|| "too short".to_string()),
            OwnRtcp::Context(context) => context.encrypt_rtcp(plain).map_err(|e| e.to_string()),
        }
    }

    /// `packets` as SRTCP datagrams: compound packets of at most [`MAX_COMPOUND`] bytes (a
    /// larger packet alone), in order. A packet that does not marshal is dropped, with a trace.
    pub(super) fn protect(&mut self, packets: &[Box<dyn rtcp::Packet>]) -> Vec<BytesMut> {
        let mut datagrams = Vec::new();
        let mut start = 0;
        while start < packets.len() {
            let mut size = packets[start].marshal_size();
            let mut end = start + 1;
            while let Some(next) = packets.get(end).map(|p| p.marshal_size()) {
                if size + next > MAX_COMPOUND {
                    break;
                }
                size += next;
                end += 1;
            }
            let protected = rtcp::packet::marshal(&packets[start..end])
                .map_err(|err| err.to_string())
                .and_then(|plain| self.encrypt(&plain));
            match protected {
                Ok(datagram) => datagrams.push(datagram),
                Err(err) => tracing::trace!(%err, "RTCP not written"),
            }
            start = end;
        }
        datagrams
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::srtp_keys::session_keys;
    use crate::connection::srtp_keys::tests::{seed, server_packet};
    use rtc::rtcp::receiver_report::ReceiverReport;
    use rtc::rtcp::reception_report::ReceptionReport;
    use rtc::rtcp::transport_feedbacks::transport_layer_nack::{NackPair, TransportLayerNack};
    use rtc::srtp::protection_profile::ProtectionProfile;

    fn report(ssrc: u32, blocks: usize) -> Box<dyn rtcp::Packet> {
        Box::new(ReceiverReport {
            ssrc,
            reports: (0..blocks)
                .map(|i| ReceptionReport {
                    ssrc: i as u32 + 100,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
    }

    fn nack(sender_ssrc: u32) -> Box<dyn rtcp::Packet> {
        Box::new(TransportLayerNack {
            sender_ssrc,
            media_ssrc: 100,
            nacks: vec![NackPair {
                packet_id: 7,
                lost_packets: 0,
            }],
        })
    }

    #[test]
    fn the_server_reads_the_rtcp_in_compounds_that_fit_a_datagram() {
        let secret: Vec<u8> = (0u8..48).collect();
        let profile = ProtectionProfile::AeadAes256Gcm;
        let first = server_packet(&secret, profile, 0x1234_5678, 1);
        let keys = session_keys(&secret, &seed(), &first).unwrap();
        let mut own = OwnRtcp::new(&keys).unwrap();
        // what the server decrypts with: its remote keys are this side's local ones
        let mut server = crate::connection::srtp_keys::tests::server_receiving(&secret, profile);

        // 31 blocks (752 bytes) and a NACK fit one datagram; a second report does not
        let packets = vec![report(2, 31), nack(2), report(2, 31)];
        let datagrams = own.protect(&packets);
        assert_eq!(datagrams.len(), 2);
        let read: Vec<Vec<Box<dyn rtcp::Packet>>> = datagrams
            .iter()
            .map(|d| {
                let plain = server.decrypt_rtcp(d).unwrap();
                rtcp::packet::unmarshal(&mut plain.freeze()).unwrap()
            })
            .collect();
        assert_eq!(read[0].len(), 2);
        assert!(read[0][0].equal(&*packets[0]));
        assert!(read[0][1].equal(&*packets[1]));
        assert_eq!(read[1].len(), 1);
        // the next datagram is not taken for a replay of the first ones
        let again = own.protect(&[nack(2)]);
        assert!(server.decrypt_rtcp(&again[0]).is_ok());
    }
}
