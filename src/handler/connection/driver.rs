//! One interface over the two drivers a connection can run on:
//!
//! - the direct driver (`direct.rs`), the default: webrtc-rs' sans-IO core with our own I/O,
//!   host and server-reflexive (STUN) candidates;
//! - the async driver (`async_driver.rs`): webrtc-rs' async `PeerConnection` and its driver
//!   task, for a transport created with a TURN server or `iceTransportPolicy: 'relay'` (TURN
//!   relaying is webrtc-rs' own, and only its driver has it).
//!
//! A [`Driver`] is chosen once, by [`connect`]; everything it hands out (a [`Transceiver`], an
//! [`RtpSink`]) holds its own reference to the driver that made it, so a handle of one driver
//! can never reach the other. The trait is for the control path (offers, answers, stats);
//! packets go through [`RtpSink`], an enum: no dynamic dispatch, lock or allocation is added per
//! packet, and the direct sink writes synchronously.

use std::net::SocketAddr;
use std::sync::Arc;

use rtc::data_channel::RTCDataChannelId;
use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::certificate::RTCCertificate;
use rtc::peer_connection::configuration::{RTCConfiguration, RTCOfferOptions};
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::RTCRtpCodecParameters;
use rtc::rtp_transceiver::RTCRtpSenderId;
use rtc::statistics::report::RTCStatsReport;
use rtc::statistics::StatsSelector;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::peer_connection::RTCSessionDescription;
use webrtc::rtp_transceiver::RTCRtpTransceiverInit;

use super::async_driver::AsyncDriver;
use super::data::{DataChannelOptions, OutgoingMessage};
use super::direct::{DirectConnection, DirectDriver};
use super::events::Events;
use super::gather::bind_addrs;
use super::inbound::Inbound;
use super::own_traffic::OwnTraffic;
use super::setup;
use crate::error::HandlerError;
use crate::options::{HandlerOptions, IceServer};

/// Which driver runs a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DriverKind {
    /// Ours (`direct.rs`).
    Direct,
    /// webrtc-rs' async `PeerConnection` (`async_driver.rs`), for TURN.
    Async,
}

/// The control operations of a connection, whichever driver runs it.
#[async_trait::async_trait]
pub(crate) trait Driver: Send + Sync {
    fn kind(&self) -> DriverKind;

    /// Adds a transceiver for `track` offering `preferences`: the transceiver, its sender, and
    /// where the sender's packets are written.
    async fn add_transceiver(
        &self,
        track: MediaStreamTrack,
        init: RTCRtpTransceiverInit,
        preferences: Vec<RTCRtpCodecParameters>,
    ) -> Result<AddedTransceiver, HandlerError>;

    /// Creates an offer and sets it as local description; returns its SDP. The direct driver
    /// gathers on the first offer and on ICE restarts, from `stun_servers` among others.
    async fn set_new_offer(
        &self,
        options: Option<RTCOfferOptions>,
        stun_servers: &[SocketAddr],
    ) -> Result<String, HandlerError>;

    /// Whether the next offer needs the STUN servers resolved (the driver gathers itself).
    fn gathers_next(&self, ice_restart: bool) -> bool;

    async fn set_remote_description(
        &self,
        description: RTCSessionDescription,
    ) -> Result<(), HandlerError>;

    /// Sets `offer` as remote description and creates the answer, not set yet (see
    /// [`Driver::set_local_answer`]): the receiving side, where the server offers. The first
    /// answer gathers, as the first offer does.
    async fn answer(
        &self,
        offer: RTCSessionDescription,
        stun_servers: &[SocketAddr],
    ) -> Result<String, HandlerError>;

    /// Sets the answer made by [`Driver::answer`] as local description.
    async fn set_local_answer(&self, answer: RTCSessionDescription) -> Result<(), HandlerError>;

    /// Stats of the receiver whose track is `track_id` (the W3C inbound-rtp entries and
    /// what they refer to); `None` when no receiver has that track.
    async fn receiver_stats(&self, track_id: &str) -> Result<Option<RTCStatsReport>, HandlerError>;

    /// Sends RTCP packets (keyframe requests of a receiver) now.
    fn write_rtcp(&self, packets: Vec<Box<dyn rtc::rtcp::Packet>>) -> Result<(), HandlerError>;

    async fn set_configuration(&self, configuration: RTCConfiguration) -> Result<(), HandlerError>;

    /// Creates the negotiated data channel `options` describes; `on_created` is given its
    /// handle before any of its events can be delivered. True when it is open already (the
    /// SCTP association is up: no open event will come), false when it opens with the
    /// association.
    fn open_data_channel(
        &self,
        options: &DataChannelOptions,
        on_created: &mut (dyn FnMut(RTCDataChannelId) + Send),
    ) -> Result<bool, HandlerError>;

    /// Makes the next offer carry the data channel section (m=application) even without a
    /// channel: webrtc-rs starts SCTP only if the first negotiation has that section.
    fn offer_data_section(&self) -> Result<(), HandlerError>;

    /// Sends one message on channel `id`; returns the channel's buffered amount after it.
    fn send_data(
        &self,
        id: RTCDataChannelId,
        message: OutgoingMessage,
    ) -> Result<usize, HandlerError>;

    /// Bytes sent on channel `id` that SCTP has not released yet (W3C `bufferedAmount`).
    fn data_buffered_amount(&self, id: RTCDataChannelId) -> usize;

    /// The buffered amount at or below which channel `id` reports `BufferedAmountLow`.
    fn set_data_low_threshold(&self, id: RTCDataChannelId, threshold: u32);

    /// Closes channel `id` (its SCTP stream is reset); closing a closed one does nothing.
    fn close_data_channel(&self, id: RTCDataChannelId) -> Result<(), HandlerError>;

    async fn get_stats(&self, selector: StatsSelector) -> Result<RTCStatsReport, HandlerError>;

    /// The datagrams read and written outside the core, which its stats leave out (none for a
    /// driver that passes everything through the core).
    fn own_traffic(&self) -> OwnTraffic {
        OwnTraffic::default()
    }

    async fn close(&self);

    /// For `Drop`: closes now, or in the background on `runtime` (a driver whose close is
    /// async keeps running, with its sockets, until closed).
    fn close_soon(&self, runtime: &tokio::runtime::Handle);
}

/// A transceiver of a connection, bound to the driver that made it.
#[async_trait::async_trait]
pub(crate) trait Transceiver: Send + Sync {
    /// Its mid, once an offer was made.
    async fn mid(&self) -> Result<String, HandlerError>;

    async fn stop(&self) -> Result<(), HandlerError>;
}

/// What [`Driver::add_transceiver`] made.
pub(crate) struct AddedTransceiver {
    pub(crate) transceiver: Box<dyn Transceiver>,
    pub(crate) sender: RTCRtpSenderId,
    pub(crate) sink: RtpSink,
}

/// Where the RTP packets of one sender go.
pub(crate) enum RtpSink {
    /// Into the direct driver's core, on the caller's thread.
    Direct(Arc<DirectConnection>, RTCRtpSenderId),
    /// webrtc-rs' track, which hands them to its driver task.
    Async(Arc<TrackLocalStaticRTP>),
}

impl RtpSink {
    /// Writes `packets`: through the connection on this thread (direct), or to the async
    /// driver's task through its bounded channel, waiting while it is full.
    pub(crate) async fn write(
        &self,
        packets: impl IntoIterator<Item = rtp::Packet>,
    ) -> Result<(), HandlerError> {
        match self {
            RtpSink::Direct(connection, sender) => connection.write_rtp(*sender, packets),
            RtpSink::Async(track) => {
                for packet in packets {
                    track
                        .write_rtp(packet)
                        .await
                        .map_err(HandlerError::webrtc)?;
                }
                Ok(())
            }
        }
    }
}

/// Whether these options need the async driver: TURN relaying is only there.
pub(crate) fn needs_turn(opts: &HandlerOptions) -> bool {
    opts.ice_transport_policy_relay || has_turn(&opts.ice_servers)
}

pub(crate) fn has_turn(servers: &[IceServer]) -> bool {
    servers
        .iter()
        .flat_map(|s| s.urls.iter())
        .map(|u| u.to_ascii_lowercase())
        .any(|u| u.starts_with("turn:") || u.starts_with("turns:"))
}

/// The connection for `opts`, with `interceptors` (the directions' own): on the direct driver,
/// or on the async one when TURN is asked for. Binds the sockets (see
/// [`crate::LocalAddresses`]); within a tokio runtime.
pub(crate) async fn connect(
    opts: &HandlerOptions,
    interceptors: Registry,
    events: Arc<Events>,
    inbound: Arc<dyn Inbound>,
    certificates: Vec<RTCCertificate>,
) -> Result<Box<dyn Driver>, HandlerError> {
    let have_servers = !opts.ice_servers.is_empty();
    let setting_engine =
        setup::setting_engine(opts.local_addresses.includes_loopback(have_servers));
    if needs_turn(opts) {
        let driver = AsyncDriver::new(
            setup::configuration_with(opts, certificates),
            setting_engine,
            setup::media_engine()?,
            interceptors,
            opts.local_addresses.socket_addrs(have_servers, false),
            events,
        )
        .await?;
        Ok(Box::new(driver))
    } else {
        Ok(Box::new(DirectDriver::new(
            setup::configuration_with(opts, certificates),
            setting_engine,
            setup::media_engine()?,
            interceptors,
            &bind_addrs(&opts.local_addresses, have_servers),
            events,
            inbound,
        )?))
    }
}
