//! The PeerConnection of a handler, on one of two drivers:
//!
//! - [`Direct`](Pc::Direct), the default: webrtc-rs' sans-IO core with our own I/O
//!   (`direct.rs`), host and server-reflexive (STUN) candidates;
//! - [`Webrtc`](Pc::Webrtc): webrtc-rs' async `PeerConnection` and its driver task, for a
//!   transport created with a TURN server or `iceTransportPolicy: 'relay'` (TURN relaying is
//!   webrtc-rs' own, and only its driver has it).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::{RTCConfiguration, RTCOfferOptions};
use rtc::rtp_transceiver::rtp_sender::RTCRtpCodecParameters;
use rtc::rtp_transceiver::{RTCRtpSenderId, RTCRtpTransceiverId};
use rtc::statistics::report::RTCStatsReport;
use rtc::statistics::StatsSelector;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::peer_connection::{PeerConnection, PeerConnectionBuilder, RTCSessionDescription};
use webrtc::rtp_transceiver::{RTCRtpTransceiverInit, RtpTransceiver};

use super::direct::DirectPc;
use super::events::Events;
use super::gather::bind_addrs;
use super::setup;
use crate::error::HandlerError;
use crate::options::{HandlerOptions, IceServer};

/// Where a writer's packets go.
pub(crate) enum Sink {
    /// Into the direct driver's core, on the caller's thread.
    Direct(Arc<super::direct::Inner>, RTCRtpSenderId),
    /// webrtc-rs' track, which hands them to its driver task.
    Track(Arc<TrackLocalStaticRTP>),
}

/// Whether these options need webrtc-rs' own driver: TURN relaying is only there.
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

pub(crate) enum Pc {
    Direct(DirectPc),
    Webrtc(Arc<dyn PeerConnection>),
}

/// A sending transceiver, as each driver names it.
pub(crate) enum Transceiver {
    Direct(RTCRtpTransceiverId),
    Webrtc(Arc<dyn RtpTransceiver>),
}

impl Pc {
    /// The connection for `opts`, with `interceptors` (the directions' own): on the direct
    /// driver, or on webrtc-rs' when TURN is asked for. Binds the sockets (see
    /// [`crate::LocalAddresses`]); within a tokio runtime.
    pub(crate) async fn new(
        opts: &HandlerOptions,
        interceptors: Registry,
        events: Arc<Events>,
    ) -> Result<Self, HandlerError> {
        let have_servers = !opts.ice_servers.is_empty();
        let setting_engine =
            setup::setting_engine(opts.local_addresses.includes_loopback(have_servers));
        if needs_turn(opts) {
            let pc = PeerConnectionBuilder::new()
                .with_media_engine(setup::media_engine()?)
                .with_interceptor_registry(interceptors)
                .with_setting_engine(setting_engine)
                .with_configuration(setup::configuration(opts))
                .with_handler(events)
                .with_udp_addrs(opts.local_addresses.socket_addrs(have_servers, false))
                .build()
                .await
                .map_err(HandlerError::webrtc)?;
            Ok(Pc::Webrtc(Arc::new(pc)))
        } else {
            Ok(Pc::Direct(DirectPc::new(
                setup::configuration(opts),
                setting_engine,
                setup::media_engine()?,
                interceptors,
                &bind_addrs(&opts.local_addresses, have_servers),
                events,
            )?))
        }
    }

    /// Adds a sendonly transceiver for `track` offering `preferences`; returns it, its sender,
    /// and where its writers send.
    pub(crate) async fn add_transceiver(
        &self,
        track: MediaStreamTrack,
        init: RTCRtpTransceiverInit,
        preferences: Vec<RTCRtpCodecParameters>,
    ) -> Result<(Transceiver, RTCRtpSenderId, Sink), HandlerError> {
        match self {
            Pc::Direct(pc) => {
                let (id, sender) = pc.add_transceiver(track, init, preferences)?;
                let sink = Sink::Direct(pc.inner().clone(), sender);
                Ok((Transceiver::Direct(id), sender, sink))
            }
            Pc::Webrtc(pc) => {
                let track = Arc::new(TrackLocalStaticRTP::new(track));
                let transceiver = pc
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
                Ok((
                    Transceiver::Webrtc(transceiver),
                    sender.id(),
                    Sink::Track(track),
                ))
            }
        }
    }

    pub(crate) async fn mid(&self, transceiver: &Transceiver) -> Result<String, HandlerError> {
        let mid = match (self, transceiver) {
            (Pc::Direct(pc), Transceiver::Direct(id)) => pc.mid(*id)?,
            (_, Transceiver::Webrtc(t)) => t.mid().await.map_err(HandlerError::webrtc)?,
            _ => None,
        };
        mid.ok_or_else(|| HandlerError::WebRtc("no mid after the offer".into()))
    }

    pub(crate) async fn stop(&self, transceiver: &Transceiver) -> Result<(), HandlerError> {
        match (self, transceiver) {
            (Pc::Direct(pc), Transceiver::Direct(id)) => pc.stop_transceiver(*id),
            (_, Transceiver::Webrtc(t)) => t.stop().await.map_err(HandlerError::webrtc),
            _ => Err(HandlerError::WebRtc("transceiver of another driver".into())),
        }
    }

    /// Creates an offer and sets it as local description; returns its SDP. The direct driver
    /// gathers on the first offer and on ICE restarts, from `stun_servers` among others.
    pub(crate) async fn set_new_offer(
        &self,
        options: Option<RTCOfferOptions>,
        stun_servers: &[SocketAddr],
    ) -> Result<String, HandlerError> {
        match self {
            Pc::Direct(pc) => pc.set_new_offer(options, stun_servers),
            Pc::Webrtc(pc) => {
                let offer = pc
                    .create_offer(options)
                    .await
                    .map_err(HandlerError::webrtc)?;
                pc.set_local_description(offer)
                    .await
                    .map_err(HandlerError::webrtc)?;
                let local = pc.local_description().await.ok_or_else(|| {
                    HandlerError::WebRtc("no local description after setting it".into())
                })?;
                Ok(local.sdp)
            }
        }
    }

    /// Whether the next offer needs the STUN servers resolved (the direct driver gathers).
    pub(crate) fn gathers_next(&self, ice_restart: bool) -> bool {
        match self {
            Pc::Direct(pc) => pc.gathers(ice_restart),
            Pc::Webrtc(_) => false,
        }
    }

    pub(crate) async fn set_remote_description(
        &self,
        answer: RTCSessionDescription,
    ) -> Result<(), HandlerError> {
        match self {
            Pc::Direct(pc) => pc.set_remote_description(answer),
            Pc::Webrtc(pc) => pc
                .set_remote_description(answer)
                .await
                .map_err(HandlerError::webrtc),
        }
    }

    pub(crate) async fn set_configuration(
        &self,
        configuration: RTCConfiguration,
    ) -> Result<(), HandlerError> {
        match self {
            Pc::Direct(pc) => pc.set_configuration(configuration),
            Pc::Webrtc(pc) => pc
                .set_configuration(configuration)
                .await
                .map_err(HandlerError::webrtc),
        }
    }

    pub(crate) async fn get_stats(
        &self,
        selector: StatsSelector,
    ) -> Result<RTCStatsReport, HandlerError> {
        match self {
            Pc::Direct(pc) => pc.get_stats(selector),
            Pc::Webrtc(pc) => Ok(pc.get_stats(Instant::now(), selector).await),
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Pc::Direct(pc) => pc.close(),
            Pc::Webrtc(pc) => {
                if let Err(err) = pc.close().await {
                    tracing::debug!(%err, "closing the PeerConnection");
                }
            }
        }
    }

    /// For `Drop`: closes now (direct) or in the background on `runtime` (webrtc-rs' driver
    /// keeps running, with its sockets, until closed).
    pub(crate) fn close_soon(&self, runtime: &tokio::runtime::Handle) {
        match self {
            Pc::Direct(pc) => pc.close(),
            Pc::Webrtc(pc) => {
                let pc = pc.clone();
                runtime.spawn(async move {
                    let _ = pc.close().await;
                });
            }
        }
    }
}
