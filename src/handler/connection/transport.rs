//! [`Transport`]: what a transport's handler does with its connection, whatever the directions
//! it carries: create it on the right driver, make offers (gathering from the ICE servers now
//! configured), apply answers, restart ICE, replace the ICE servers, report the connection's
//! state and stats, close. A direction (the send side today) adds its transceivers and keeps
//! its own state; it serializes the operations (one at a time, as mediasoup-client's transport
//! queue does), so nothing here waits on another operation.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::certificate::RTCCertificate;
use rtc::peer_connection::configuration::RTCOfferOptions;
use rtc::rtp_transceiver::rtp_sender::RTCRtpCodecParameters;
use rtc::statistics::report::RTCStatsReport;
use tokio::sync::watch;
use webrtc::peer_connection::{RTCSessionDescription, StatsSelector};
use webrtc::rtp_transceiver::RTCRtpTransceiverInit;

use super::data::{
    DataChannelId, DataChannelOptions, DataRoutes, DataSink, OutgoingMessage, WithData,
};
use super::driver::{self, has_turn, AddedTransceiver, Driver, DriverKind};
use super::events::Events;
use super::gather::stun_server_addrs;
use super::inbound::Inbound;
use super::own_traffic;
use super::remote_candidates::RemoteCandidates;
use super::setup::{configuration, validate_ice_servers};
use super::stats;
use crate::error::HandlerError;
use crate::options::{HandlerOptions, IceServer};

pub(crate) struct Transport {
    driver: Box<dyn Driver>,
    /// The sinks of the connection's data channels.
    data: Arc<DataRoutes>,
    opts: HandlerOptions,
    /// The STUN/TURN servers now configured (`update_ice_servers` replaces them).
    ice_servers: Mutex<Vec<IceServer>>,
    events: Arc<Events>,
    /// The server's candidates, from the last remote description set (for the stats).
    remote_candidates: Mutex<RemoteCandidates>,
    closed: AtomicBool,
    /// Where `Drop` closes the connection (it may run outside the runtime).
    runtime: tokio::runtime::Handle,
}

impl Transport {
    /// Creates the connection with the directions' `interceptors` and binds its UDP sockets
    /// (see [`crate::LocalAddresses`]): on the direct driver, or on webrtc-rs' async one when
    /// a TURN server or the relay policy is given. Within a tokio runtime.
    pub(crate) async fn new(
        opts: HandlerOptions,
        interceptors: Registry,
        inbound: Arc<dyn Inbound>,
        certificates: Vec<RTCCertificate>,
    ) -> Result<Self, HandlerError> {
        validate_ice_servers(&opts.ice_servers)?;
        let events = Arc::new(Events::new());
        let data = Arc::new(DataRoutes::default());
        let inbound = Arc::new(WithData {
            media: inbound,
            data: data.clone(),
        });
        let driver =
            driver::connect(&opts, interceptors, events.clone(), inbound, certificates).await?;
        Ok(Self {
            driver,
            data,
            ice_servers: Mutex::new(opts.ice_servers.clone()),
            opts,
            events,
            remote_candidates: Mutex::default(),
            closed: AtomicBool::new(false),
            runtime: tokio::runtime::Handle::current(),
        })
    }

    pub(crate) fn check_open(&self) -> Result<(), HandlerError> {
        if self.closed.load(Ordering::Acquire) {
            Err(HandlerError::InvalidState("the handler is closed".into()))
        } else {
            Ok(())
        }
    }

    /// Which driver runs the connection: `direct` or `webrtc-rs`.
    #[cfg(test)]
    pub(crate) fn driver_name(&self) -> &'static str {
        match self.driver.kind() {
            DriverKind::Direct => "direct",
            DriverKind::Async => "webrtc-rs",
        }
    }

    pub(crate) async fn add_transceiver(
        &self,
        track: MediaStreamTrack,
        init: RTCRtpTransceiverInit,
        preferences: Vec<RTCRtpCodecParameters>,
    ) -> Result<AddedTransceiver, HandlerError> {
        self.driver.add_transceiver(track, init, preferences).await
    }

    /// Creates an offer and sets it as local description; returns its SDP. An offer that
    /// gathers (see [`Driver::gathers_next`]) asks the STUN servers now configured.
    pub(crate) async fn set_new_offer(
        &self,
        options: Option<RTCOfferOptions>,
    ) -> Result<String, HandlerError> {
        let ice_restart = options.as_ref().is_some_and(|o| o.ice_restart);
        let stun_servers = self.stun_servers_to_gather(ice_restart).await;
        self.driver.set_new_offer(options, &stun_servers).await
    }

    /// The STUN servers now configured, resolved, when the next description gathers (see
    /// [`Driver::gathers_next`]); none otherwise.
    async fn stun_servers_to_gather(&self, ice_restart: bool) -> Vec<std::net::SocketAddr> {
        if !self.driver.gathers_next(ice_restart) {
            return vec![];
        }
        let servers = self
            .ice_servers
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        stun_server_addrs(&servers).await
    }

    /// Sets the server's offer (built by the SDP layer) as remote description and creates the
    /// answer, not set yet: [`Transport::set_local_answer`] sets it. The first answer gathers
    /// from the STUN servers now configured.
    pub(crate) async fn answer(&self, offer_sdp: String) -> Result<String, HandlerError> {
        let offer = RTCSessionDescription::offer(offer_sdp)
            .map_err(|e| HandlerError::InvalidArgument(format!("bad offer SDP: {e}")))?;
        let candidates = RemoteCandidates::from_sdp(&offer.sdp);
        let stun_servers = self.stun_servers_to_gather(false).await;
        let answer = self.driver.answer(offer, &stun_servers).await?;
        self.set_remote_candidates(candidates);
        Ok(answer)
    }

    fn set_remote_candidates(&self, candidates: RemoteCandidates) {
        if let Ok(mut slot) = self.remote_candidates.lock() {
            *slot = candidates;
        }
    }

    /// Abandons the remote offer set by [`Transport::answer`] (its answer never set): back to
    /// the last stable state, the transceivers that offer made removed.
    pub(crate) async fn rollback_remote_offer(&self) -> Result<(), HandlerError> {
        let rollback = RTCSessionDescription::rollback(None).map_err(HandlerError::webrtc)?;
        self.driver.set_remote_description(rollback).await
    }

    /// Sets the answer made by [`Transport::answer`] as local description.
    pub(crate) async fn set_local_answer(&self, sdp: String) -> Result<(), HandlerError> {
        let answer = RTCSessionDescription::answer(sdp)
            .map_err(|e| HandlerError::InvalidArgument(format!("bad answer SDP: {e}")))?;
        self.driver.set_local_answer(answer).await
    }

    /// The W3C stats of the receiver of `track_id`, as JSON (`None`: no such receiver).
    pub(crate) async fn receiver_stats(
        &self,
        track_id: &str,
    ) -> Result<Option<serde_json::Value>, HandlerError> {
        let report = self.driver.receiver_stats(track_id).await?;
        Ok(report.map(|r| stats::report_to_json(&r, |_| true)))
    }

    /// Sends RTCP packets now (a receiver's keyframe requests).
    pub(crate) fn write_rtcp(
        &self,
        packets: Vec<Box<dyn rtc::rtcp::Packet>>,
    ) -> Result<(), HandlerError> {
        self.check_open()?;
        self.driver.write_rtcp(packets)
    }

    /// Applies the answer to the last offer (see `SendHandler::set_remote_answer`).
    pub(crate) async fn set_remote_answer(&self, sdp: String) -> Result<(), HandlerError> {
        let answer = RTCSessionDescription::answer(sdp)
            .map_err(|e| HandlerError::InvalidArgument(format!("bad answer SDP: {e}")))?;
        let candidates = RemoteCandidates::from_sdp(&answer.sdp);
        self.driver.set_remote_description(answer).await?;
        self.set_remote_candidates(candidates);
        Ok(())
    }

    /// Replaces the STUN/TURN servers (see `SendHandler::update_ice_servers` for the rules).
    /// The caller serializes updates: the list cannot change between the check and the end.
    pub(crate) async fn update_ice_servers(
        &self,
        servers: Vec<IceServer>,
    ) -> Result<(), HandlerError> {
        let have_servers = self
            .ice_servers
            .lock()
            .map(|c| !c.is_empty())
            .unwrap_or(true);
        if servers.is_empty() && self.driver.kind() == DriverKind::Async {
            if !have_servers {
                return Ok(());
            }
            return Err(HandlerError::InvalidArgument(
                "cannot remove the ICE servers of a transport (webrtc-rs keeps them on an empty \
                 list): give the servers to use instead"
                    .into(),
            ));
        }
        if self.driver.kind() == DriverKind::Direct && has_turn(&servers) {
            return Err(HandlerError::InvalidArgument(
                "TURN servers must be given when the transport is created (iceServers of \
                 createSendTransport): this transport was created without and relays nothing"
                    .into(),
            ));
        }
        let opts = HandlerOptions {
            ice_servers: servers.clone(),
            ..self.opts.clone()
        };
        self.driver.set_configuration(configuration(&opts)).await?;
        if let Ok(mut current) = self.ice_servers.lock() {
            *current = servers;
        }
        Ok(())
    }

    /// Creates the negotiated channel `options` describes, its messages and events going to
    /// `sink`; returns its handle and whether it is open already (see
    /// [`Driver::open_data_channel`]).
    pub(crate) fn open_data_channel(
        &self,
        options: &DataChannelOptions,
        sink: Arc<dyn DataSink>,
    ) -> Result<(DataChannelId, bool), HandlerError> {
        self.check_open()?;
        let mut created = None;
        let open = self.driver.open_data_channel(options, &mut |id| {
            self.data.add(id, sink.clone());
            created = Some(id);
        })?;
        let id = created.ok_or_else(|| HandlerError::WebRtc("no data channel created".into()))?;
        Ok((DataChannelId(id), open))
    }

    /// Makes the next offer carry the data channel section (see
    /// [`Driver::offer_data_section`]).
    pub(crate) fn offer_data_section(&self) -> Result<(), HandlerError> {
        self.driver.offer_data_section()
    }

    /// Sends one message on `channel`; returns its buffered amount after it.
    pub(crate) fn send_data(
        &self,
        channel: DataChannelId,
        message: OutgoingMessage,
    ) -> Result<usize, HandlerError> {
        self.check_open()?;
        self.driver.send_data(channel.0, message)
    }

    /// W3C `bufferedAmount` of `channel`.
    pub(crate) fn data_buffered_amount(&self, channel: DataChannelId) -> usize {
        self.driver.data_buffered_amount(channel.0)
    }

    /// W3C `bufferedAmountLowThreshold` of `channel`.
    pub(crate) fn set_data_low_threshold(&self, channel: DataChannelId, threshold: u32) {
        self.driver.set_data_low_threshold(channel.0, threshold);
    }

    /// Closes `channel`; nothing of it reaches its sink any more.
    pub(crate) fn close_data_channel(&self, channel: DataChannelId) -> Result<(), HandlerError> {
        self.data.remove(channel.0);
        if self.closed.load(Ordering::Acquire) {
            return Ok(());
        }
        self.driver.close_data_channel(channel.0)
    }

    pub(crate) async fn stats(
        &self,
        selector: StatsSelector,
    ) -> Result<RTCStatsReport, HandlerError> {
        self.driver.get_stats(selector).await
    }

    /// The transport-level entries of the stats as JSON: `transport`, `candidate-pair`,
    /// `local-candidate`, `remote-candidate` and `certificate`.
    pub(crate) async fn transport_stats(&self) -> Result<serde_json::Value, HandlerError> {
        let report = self.stats(StatsSelector::None).await?;
        let mut json = stats::report_to_json(&report, |t| {
            matches!(
                t,
                "transport"
                    | "candidate-pair"
                    | "local-candidate"
                    | "remote-candidate"
                    | "certificate"
            )
        });
        self.complete_transport_entries(&mut json);
        Ok(json)
    }

    /// Adds to the transport entries of `report` (stats as JSON) what the core's leave out:
    /// the datagrams read and written outside it, and the server's candidates.
    pub(crate) fn complete_transport_entries(&self, report: &mut serde_json::Value) {
        let Some(entries) = report.as_array_mut() else {
            return;
        };
        let own = self.driver.own_traffic();
        let now_ms = own_traffic::epoch_ms_now();
        own.add_to(entries, Instant::now(), now_ms);
        if let Ok(remote) = self.remote_candidates.lock() {
            remote.add_to(entries, now_ms, own.peer());
        }
    }

    pub(crate) fn on_connection_state(&self, f: Box<dyn Fn(&'static str) + Send + Sync>) {
        if let Ok(mut slot) = self.events.callback.lock() {
            *slot = Some(Arc::from(f));
        }
    }

    pub(crate) fn connection_state(&self) -> &'static str {
        *self.events.state.borrow()
    }

    pub(crate) fn subscribe_connection_state(&self) -> watch::Receiver<&'static str> {
        self.events.state.subscribe()
    }

    /// A watch of how many times ICE reached `connected`.
    #[cfg(test)]
    pub(crate) fn ice_connected(&self) -> watch::Receiver<u32> {
        self.events.ice_connected.subscribe()
    }

    /// Marks the transport closed; true the first time only. The caller closes its direction's
    /// state, then [`close`](Self::close).
    pub(crate) fn mark_closed(&self) -> bool {
        !self.closed.swap(true, Ordering::AcqRel)
    }

    /// Closes the connection: its state becomes `closed` (without a callback: the client
    /// closed it) and the driver stops.
    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.data.clear();
        self.events.closed();
        self.driver.close().await;
    }
}

impl Drop for Transport {
    /// A transport dropped without [`Transport::close`] closes its connection (the async
    /// driver in the background: it keeps its sockets until then).
    fn drop(&mut self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            self.driver.close_soon(&self.runtime);
        }
    }
}
