//! The only code that touches webrtc-rs: one PeerConnection per transport.
//!
//! webrtc-rs here is 0.21: the sans-IO core `rtc` (ICE, DTLS, SRTP, RTP/RTCP, interceptors,
//! SDP) and `webrtc`, its async layer. A connection runs on one of two drivers (`pc.rs`):
//! the direct driver of this crate (`direct.rs`: the core with our own sockets and tasks, a
//! packet written and sent on the writer's thread), or webrtc-rs' async `PeerConnection` when
//! the transport is given a TURN server (only its driver relays over TURN). Everything the
//! client layer needs goes through this small API:
//!
//! - [`native_offer_sdp`]: the SDP offer listing every codec and header extension this handler
//!   can send; `Device.load` computes the native capabilities from it.
//! - [`SendHandler`]: one PeerConnection of a send transport, ICE *controlling* against
//!   mediasoup's ICE-lite server, DTLS role taken from the answer's `a=setup`. It adds one
//!   sendonly transceiver per producer ([`SendHandler::send`]), applies the answers built by the
//!   SDP layer, stops transceivers, restarts ICE, and reports W3C-shaped stats.
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

mod direct;
mod dtls_failure;
mod engine;
mod events;
mod feedback;
mod first_sequence;
mod gather;
mod nack_history;
mod outbound;
mod pacer;
mod pc;
mod retransmission_budget;
mod send;
mod sender_report;
mod stats;
mod udp;
mod writer;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_mediasoup;

use std::fmt;
use std::net::IpAddr;

use rtc::peer_connection::RTCPeerConnectionBuilder;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use webrtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};

pub use first_sequence::first_sequence_number;
pub use msc_ortc::types::{MediaKind, RtpCodecCapability};
pub use send::{validate_ice_servers, SendHandler, SendResult};
pub use writer::RtpWriter;

/// Errors of this crate, by the class the client layer maps them to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandlerError {
    /// Bad input from the caller (unknown codec, duplicated RID, unknown mid...): `TypeError`.
    InvalidArgument(String),
    /// The operation is not possible in the current state (closed handler or writer, writer not
    /// negotiated yet): `InvalidStateError`.
    InvalidState(String),
    /// webrtc-rs failed; the message is webrtc-rs' own.
    WebRtc(String),
}

impl HandlerError {
    pub(crate) fn webrtc(err: impl fmt::Display) -> Self {
        HandlerError::WebRtc(err.to_string())
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandlerError::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            HandlerError::InvalidState(m) => write!(f, "invalid state: {m}"),
            HandlerError::WebRtc(m) => write!(f, "webrtc: {m}"),
        }
    }
}

impl std::error::Error for HandlerError {}

/// A STUN or TURN server (W3C `RTCIceServer`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IceServer {
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub credential: Option<String>,
}

/// Which local addresses the PeerConnection binds its UDP sockets to (one host candidate each).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum LocalAddresses {
    /// [`AllInterfaces`](Self::AllInterfaces) when ICE servers are given (STUN/TURN cannot be
    /// reached from loopback), else [`Loopback`](Self::Loopback). Safe by default: nothing
    /// listens beyond this machine unless asked. A client talking to a remote server without
    /// STUN/TURN must say so, e.g. with [`LocalAddresses::for_remote`].
    #[default]
    Auto,
    /// Loopback only: a mediasoup on the same machine, tests. 127.0.0.1, and ::1 too on the
    /// direct driver when the host has IPv6 (a server listening on ::1 is then reached).
    Loopback,
    /// Every non-loopback interface address present at bind time (and again at each ICE
    /// restart), as webrtc-rs expands the `0.0.0.0` wildcard.
    AllInterfaces,
    /// Exactly these addresses.
    Ips(Vec<IpAddr>),
}

impl LocalAddresses {
    /// The natural choice for a server announcing these ICE candidate addresses: loopback when
    /// all of them are loopback, every interface otherwise.
    pub fn for_remote(remote: impl IntoIterator<Item = IpAddr>) -> Self {
        let mut any = false;
        for ip in remote {
            any = true;
            if !ip.is_loopback() {
                return LocalAddresses::AllInterfaces;
            }
        }
        if any {
            LocalAddresses::Loopback
        } else {
            LocalAddresses::AllInterfaces
        }
    }

    /// The socket addresses to bind (port 0: ephemeral). Loopback is 127.0.0.1, and ::1 too
    /// when `ipv6_loopback` (the direct driver, which skips an address that does not bind;
    /// webrtc-rs' driver fails on one).
    pub(crate) fn socket_addrs(&self, have_ice_servers: bool, ipv6_loopback: bool) -> Vec<String> {
        match self {
            LocalAddresses::Auto if have_ice_servers => vec!["0.0.0.0:0".into()],
            LocalAddresses::Auto | LocalAddresses::Loopback if ipv6_loopback => {
                vec!["127.0.0.1:0".into(), "[::1]:0".into()]
            }
            LocalAddresses::Auto | LocalAddresses::Loopback => vec!["127.0.0.1:0".into()],
            LocalAddresses::AllInterfaces => vec!["0.0.0.0:0".into()],
            LocalAddresses::Ips(ips) => ips
                .iter()
                .map(|ip| std::net::SocketAddr::new(*ip, 0).to_string())
                .collect(),
        }
    }

    pub(crate) fn includes_loopback(&self, have_ice_servers: bool) -> bool {
        match self {
            LocalAddresses::Auto => !have_ice_servers,
            LocalAddresses::Loopback => true,
            LocalAddresses::AllInterfaces => false,
            LocalAddresses::Ips(ips) => ips.iter().any(|ip| ip.is_loopback()),
        }
    }
}

/// Options of a [`SendHandler`] (the transport options that reach webrtc-rs).
#[derive(Debug, Clone, Default)]
pub struct HandlerOptions {
    /// STUN/TURN servers; none by default (mediasoup is ICE-lite with public candidates).
    pub ice_servers: Vec<IceServer>,
    /// `iceTransportPolicy: 'relay'`: only TURN relay candidates.
    pub ice_transport_policy_relay: bool,
    /// Local addresses to bind; see [`LocalAddresses`].
    pub local_addresses: LocalAddresses,
}

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
    let (feedback, _keyframes) = feedback::Feedback::new(Default::default());
    let mut pc = RTCPeerConnectionBuilder::new()
        .with_media_engine(engine::media_engine()?)
        .with_interceptor_registry(engine::registry(feedback))
        .with_setting_engine(send::setting_engine(false))
        .with_configuration(send::configuration(&HandlerOptions::default()))
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
