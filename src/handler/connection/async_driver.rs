//! The async driver: webrtc-rs' async `PeerConnection` and its driver task, used only for a
//! transport given a TURN server or `iceTransportPolicy: 'relay'` (TURN relaying is webrtc-rs'
//! own, and only its driver has it). Packets written to its tracks go to its task through a
//! bounded channel ([`RtpSink::Async`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use rtc::data_channel::RTCDataChannelId;
use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::configuration::{RTCConfiguration, RTCOfferOptions};
use rtc::rtp_transceiver::rtp_sender::RTCRtpCodecParameters;
use rtc::statistics::report::RTCStatsReport;
use rtc::statistics::StatsSelector;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, RTCIceConnectionState, RTCPeerConnectionState,
    RTCSessionDescription, SettingEngine,
};
use webrtc::rtp_transceiver::{RTCRtpTransceiverInit, RtpTransceiver};

use super::data::{DataChannelOptions, OutgoingMessage};
use super::driver::{AddedTransceiver, Driver, DriverKind, RtpSink, Transceiver};
use super::events::Events;
use crate::error::HandlerError;

pub(crate) struct AsyncDriver {
    pc: Arc<dyn PeerConnection>,
}

impl AsyncDriver {
    /// Builds the `PeerConnection`; its driver binds one UDP socket per address of `udp_addrs`.
    pub(crate) async fn new(
        configuration: RTCConfiguration,
        setting_engine: SettingEngine,
        media_engine: MediaEngine,
        interceptors: Registry,
        udp_addrs: Vec<String>,
        events: Arc<Events>,
    ) -> Result<Self, HandlerError> {
        let pc = PeerConnectionBuilder::new()
            .with_media_engine(media_engine)
            .with_interceptor_registry(interceptors)
            .with_setting_engine(setting_engine)
            .with_configuration(configuration)
            .with_handler(Arc::new(AsyncEvents(events)))
            .with_udp_addrs(udp_addrs)
            .build()
            .await
            .map_err(HandlerError::webrtc)?;
        Ok(Self { pc: Arc::new(pc) })
    }
}

#[async_trait::async_trait]
impl Driver for AsyncDriver {
    fn kind(&self) -> DriverKind {
        DriverKind::Async
    }

    async fn add_transceiver(
        &self,
        track: MediaStreamTrack,
        init: RTCRtpTransceiverInit,
        preferences: Vec<RTCRtpCodecParameters>,
    ) -> Result<AddedTransceiver, HandlerError> {
        let track = Arc::new(TrackLocalStaticRTP::new(track));
        let transceiver = self
            .pc
            .add_transceiver_from_track(track.clone() as Arc<dyn TrackLocal>, Some(init))
            .await
            .map_err(HandlerError::webrtc)?;
        let sender = transceiver
            .sender()
            .await
            .map_err(HandlerError::webrtc)?
            .ok_or_else(|| HandlerError::WebRtc("transceiver without sender".into()))?;
        transceiver
            .set_codec_preferences(preferences)
            .await
            .map_err(HandlerError::webrtc)?;
        Ok(AddedTransceiver {
            transceiver: Box::new(AsyncTransceiver(transceiver)),
            sender: sender.id(),
            sink: RtpSink::Async(track),
        })
    }

    async fn set_new_offer(
        &self,
        options: Option<RTCOfferOptions>,
        _stun_servers: &[SocketAddr],
    ) -> Result<String, HandlerError> {
        let offer = self
            .pc
            .create_offer(options)
            .await
            .map_err(HandlerError::webrtc)?;
        self.pc
            .set_local_description(offer)
            .await
            .map_err(HandlerError::webrtc)?;
        let local =
            self.pc.local_description().await.ok_or_else(|| {
                HandlerError::WebRtc("no local description after setting it".into())
            })?;
        Ok(local.sdp)
    }

    fn gathers_next(&self, _ice_restart: bool) -> bool {
        false
    }

    async fn answer(
        &self,
        _offer: RTCSessionDescription,
        _stun_servers: &[SocketAddr],
    ) -> Result<String, HandlerError> {
        Err(no_receiving())
    }

    async fn set_local_answer(&self, _answer: RTCSessionDescription) -> Result<(), HandlerError> {
        Err(no_receiving())
    }

    async fn receiver_stats(
        &self,
        _track_id: &str,
    ) -> Result<Option<RTCStatsReport>, HandlerError> {
        Ok(None)
    }

    fn write_rtcp(&self, _packets: Vec<Box<dyn rtc::rtcp::Packet>>) -> Result<(), HandlerError> {
        Err(no_receiving())
    }

    async fn set_remote_description(
        &self,
        description: RTCSessionDescription,
    ) -> Result<(), HandlerError> {
        self.pc
            .set_remote_description(description)
            .await
            .map_err(HandlerError::webrtc)
    }

    async fn set_configuration(&self, configuration: RTCConfiguration) -> Result<(), HandlerError> {
        self.pc
            .set_configuration(configuration)
            .await
            .map_err(HandlerError::webrtc)
    }

    async fn get_stats(&self, selector: StatsSelector) -> Result<RTCStatsReport, HandlerError> {
        Ok(self.pc.get_stats(Instant::now(), selector).await)
    }

    fn open_data_channel(
        &self,
        _options: &DataChannelOptions,
        _on_created: &mut (dyn FnMut(RTCDataChannelId) + Send),
    ) -> Result<bool, HandlerError> {
        Err(no_data_channels())
    }

    /// Nothing: this driver carries no data channels, so its offers need no data section.
    fn offer_data_section(&self) -> Result<(), HandlerError> {
        Ok(())
    }

    fn send_data(
        &self,
        _id: RTCDataChannelId,
        _message: OutgoingMessage,
    ) -> Result<usize, HandlerError> {
        Err(no_data_channels())
    }

    fn data_buffered_amount(&self, _id: RTCDataChannelId) -> usize {
        0
    }

    fn set_data_low_threshold(&self, _id: RTCDataChannelId, _threshold: u32) {}

    fn close_data_channel(&self, _id: RTCDataChannelId) -> Result<(), HandlerError> {
        Ok(())
    }

    async fn close(&self) {
        if let Err(err) = self.pc.close().await {
            tracing::debug!(%err, "closing the PeerConnection");
        }
    }

    fn close_soon(&self, runtime: &tokio::runtime::Handle) {
        let pc = self.pc.clone();
        runtime.spawn(async move {
            let _ = pc.close().await;
        });
    }
}

/// A transceiver of the async driver (it holds its `PeerConnection`).
struct AsyncTransceiver(Arc<dyn RtpTransceiver>);

#[async_trait::async_trait]
impl Transceiver for AsyncTransceiver {
    async fn mid(&self) -> Result<String, HandlerError> {
        self.0
            .mid()
            .await
            .map_err(HandlerError::webrtc)?
            .ok_or_else(|| HandlerError::WebRtc("no mid after the offer".into()))
    }

    async fn stop(&self) -> Result<(), HandlerError> {
        self.0.stop().await.map_err(HandlerError::webrtc)
    }
}

/// The connection's events as the async driver reports them.
struct AsyncEvents(Arc<Events>);

#[async_trait::async_trait]
impl webrtc::peer_connection::PeerConnectionEventHandler for AsyncEvents {
    async fn on_ice_connection_state_change(&self, state: RTCIceConnectionState) {
        self.0.ice_state(state);
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.0.connection_state(state);
    }
}

/// This driver sends only: a receive handler refuses TURN before making a connection.
fn no_receiving() -> HandlerError {
    HandlerError::Unsupported("receiving over TURN is not supported".into())
}

fn no_data_channels() -> HandlerError {
    HandlerError::Unsupported(
        "data channels over TURN (iceServers with a TURN server, or iceTransportPolicy 'relay') \
         are not supported"
            .into(),
    )
}
