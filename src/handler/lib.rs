//! The only code that touches webrtc-rs: one PeerConnection per transport.
//!
//! webrtc-rs here is 0.21: the sans-IO core `rtc` (ICE, DTLS, SRTP, RTP/RTCP, interceptors,
//! SDP) and `webrtc`, its async layer. A connection runs on one of two drivers
//! (`connection/driver.rs`): the direct driver of this crate (`connection/direct.rs`: the core
//! with our own sockets and tasks, a packet written and sent on the writer's thread), or
//! webrtc-rs' async `PeerConnection` when the transport is given a TURN server (only its driver
//! relays over TURN).
//!
//! Layout, one direction of dependency (checked by `layers.rs`):
//! - leaves: `error.rs`, `options.rs`, `extensions.rs` (header extension URIs and ids),
//!   `ssrc_map.rs` (maps keyed by SSRC);
//! - `connection/`: the PeerConnection whatever the direction: `Transport` (what a handler
//!   holds: offers, answers, ICE, state, stats), drivers, sockets, pacing, gathering, events,
//!   stats, engine setup;
//! - `send/`: the send direction, on `connection/`: [`SendHandler`], [`RtpWriter`], the
//!   outbound interceptor and its parts (NACK history, sender reports, retransmission budget,
//!   feedback to the writers);
//! - `recv/`: the receive direction, on `connection/` as well, never on `send/`:
//!   [`RecvHandler`] (the server offers, this side answers) and the routes of received
//!   packets to each consumer's [`ReceiveSink`].
//!
//! Everything the client layer needs goes through this small API:
//!
//! - [`native_offer_sdp`]: the SDP offer listing every codec and header extension this handler
//!   can send; `Device.load` computes the native capabilities from it.
//! - [`SendHandler`]: one PeerConnection of a send transport, ICE *controlling* against
//!   mediasoup's ICE-lite server, DTLS role taken from the answer's `a=setup`. It adds one
//!   sendonly transceiver per producer ([`SendHandler::send`]), applies the answers built by the
//!   SDP layer, stops transceivers, restarts ICE, and reports W3C-shaped stats.
//! - [`RecvHandler`]: one PeerConnection of a receive transport: the server's consumers come
//!   as a remote offer built by the SDP layer, this side answers (DTLS client, with a
//!   certificate whose fingerprint it knows before any description, so the server is connected
//!   first). Each consumer's packets, retransmissions unwrapped, go to its [`ReceiveSink`],
//!   outside the connection's lock; NACKs, receiver reports and transport-wide congestion
//!   control feedback go out by themselves; [`RecvHandler::request_keyframe`] sends a PLI.
//! - [`RtpWriter`]: one per encoding (simulcast: one per RID). The media layer writes RTP
//!   payloads with its own sequence numbers and timestamps; SSRC, payload type, MID/RID header
//!   extensions, transport-wide-cc, NACK/RTX, SRTP and RTCP sender reports are handled here.
//!   Keyframe requests (PLI/FIR) come back through [`RtpWriter::on_keyframe_request`].
//!
//! What is deliberately *not* used from webrtc-rs: `RtpSender::set_parameters` (to deactivate an
//! encoding) and `RtpSender::replace_track`, both unreliable in 0.21 (see DESIGN.md). A producer
//! keeps its writers for life; pausing, switching sources and dropping a layer happen above, by
//! not writing.
//!
//! Sockets: see [`LocalAddresses`]. mDNS is always off; STUN/TURN are used only when ICE servers
//! are given.

#![warn(missing_docs)]

mod connection;
mod error;
mod extensions;
mod options;
mod recv;
mod send;
mod ssrc_map;

#[cfg(test)]
mod layers;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_datachannel;
#[cfg(test)]
mod tests_mediasoup;

use rtc::peer_connection::RTCPeerConnectionBuilder;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use webrtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};

pub use connection::data::{
    DataChannelId, DataChannelOptions, DataChannels, DataEvent, DataSink, OutgoingMessage,
    MAX_MESSAGE_SIZE,
};
#[cfg(target_os = "linux")]
pub use connection::rounds::{set_round_scope, RoundScope};
use connection::setup;
pub use connection::setup::validate_ice_servers;
/// Receive rounds are Linux's: elsewhere there is nothing to run inside a scope.
#[cfg(not(target_os = "linux"))]
pub fn set_round_scope(_scope: fn(&mut dyn FnMut())) {}
pub use error::HandlerError;
pub use msc_ortc::types::{MediaKind, RtpCodecCapability};
pub use options::{HandlerOptions, IceServer, LocalAddresses};
pub use recv::handler::RecvHandler;
pub use recv::routes::{marshal_rtp, ReceiveSink};
/// An RTP packet, as a [`ReceiveSink`] receives it.
pub use rtc::rtp::Packet as RtpPacket;
pub use send::first_sequence::first_sequence_number;
pub use send::handler::{SendHandler, SendResult};
pub use send::writer::RtpWriter;

/// SDP offer of a throwaway PeerConnection with one audio and one video transceiver, listing
/// every codec and header extension this handler can send:
///
/// - audio: opus/48000/2 (`minptime=10;useinbandfec=1`, transport-cc);
/// - video: VP8, VP9 profile-id 0 and 2, H264 42e01f (packetization-mode 1 and 0), 4d001f and
///   640032 (packetization-mode 1), AV1; each with an `rtx` codec (`apt`) and rtcp-fb
///   goog-remb, transport-cc, ccm fir, nack, nack pli;
/// - header extensions: mid, ssrc-audio-level and transport-wide-cc (audio); mid, rid,
///   repaired-rid and transport-wide-cc (video).
///
/// Payload types and extension ids are the local ones [`SendHandler::send`] expects back.
/// The offer has no candidates (it is made on webrtc-rs' sans-IO core: no socket).
pub async fn native_offer_sdp() -> Result<String, HandlerError> {
    let (feedback, _keyframes) = send::feedback::Feedback::new(Default::default());
    let mut pc = RTCPeerConnectionBuilder::new()
        .with_media_engine(setup::media_engine()?)
        .with_interceptor_registry(send::interceptors(feedback))
        .with_setting_engine(setup::setting_engine(false))
        .with_configuration(setup::configuration(&HandlerOptions::default()))
        .build(std::time::Instant::now())
        .map_err(HandlerError::webrtc)?;
    for kind in [RtpCodecKind::Audio, RtpCodecKind::Video] {
        pc.add_transceiver_from_kind(
            kind,
            Some(RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Recvonly,
                streams: vec![],
                send_encodings: vec![],
            }),
        )
        .map_err(HandlerError::webrtc)?;
    }
    let offer = pc.create_offer(None).map_err(HandlerError::webrtc)?;
    Ok(offer.sdp)
}

/// The DTLS fingerprint algorithms webrtc-rs 0.21 can verify a remote certificate with: it
/// refuses the handshake when the remote SDP names any other (mediasoup offers sha-1 to
/// sha-512; its last, sha-512, would fail).
pub const VERIFIABLE_FINGERPRINT_ALGORITHMS: &[&str] = &["sha-256"];
