//! [`RecvHandler`]: the PeerConnection of a receive transport.

use std::sync::Arc;

use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;

use super::inbound_stats::{with_own_inbound, with_transport};
use super::routes::{ReceiveSink, Routes};
use crate::connection::data::DataChannels;
use crate::connection::driver::needs_turn;
use crate::connection::setup::{self, validate_ice_servers};
use crate::connection::transport::Transport;
use crate::error::HandlerError;
use crate::options::{HandlerOptions, IceServer};
use msc_ortc::{DtlsFingerprint, DtlsParameters, DtlsRole, ReceivedStream};

/// One PeerConnection receiving what a server WebRtcTransport sends: the server's consumers
/// are described in a remote offer (built by the SDP layer), this side answers, ICE
/// controlling against mediasoup's ICE-lite, DTLS client. Each consumer's packets go to the
/// [`ReceiveSink`] added for its track id.
///
/// Offer/answer operations are serialized internally; the client should still not interleave
/// an exchange with another.
pub struct RecvHandler {
    pub(crate) transport: Transport,
    fingerprint: DtlsFingerprint,
    routes: Arc<Routes>,
    exchange: tokio::sync::Mutex<()>,
}

impl RecvHandler {
    /// Creates the PeerConnection and binds its UDP sockets (see [`crate::LocalAddresses`]).
    /// Within a tokio runtime. Receiving over TURN is not supported: options with a TURN
    /// server or the relay policy are [`HandlerError::Unsupported`].
    pub async fn new(opts: HandlerOptions) -> Result<Self, HandlerError> {
        if needs_turn(&opts) {
            return Err(HandlerError::Unsupported(
                "receiving over TURN (iceServers with a TURN server, or iceTransportPolicy \
                 'relay') is not supported"
                    .into(),
            ));
        }
        let routes = Arc::new(Routes::default());
        let (certificate, fingerprint) = setup::certificate()?;
        let transport = Transport::new(
            opts,
            super::interceptors(routes.clone()),
            routes.clone(),
            vec![certificate],
        )
        .await?;
        Ok(Self {
            transport,
            fingerprint,
            routes,
            exchange: tokio::sync::Mutex::new(()),
        })
    }

    /// The DTLS parameters of this side, known from creation: role `client` (the answers say
    /// `a=setup:active`) and the fingerprint of the connection's certificate. A receive
    /// transport connects its server with them before the first offer is set: a first offer
    /// starts ICE, and could not be taken back if the application refused to connect.
    pub fn dtls_parameters(&self) -> DtlsParameters {
        DtlsParameters {
            role: Some(DtlsRole::Client),
            fingerprints: vec![self.fingerprint.clone()],
        }
    }

    /// Sets the server's `offer_sdp` as remote description and creates the answer, which is
    /// not set yet: the caller connects the server transport with its DTLS parameters first
    /// (on the first exchange), then calls [`set_local_answer`](Self::set_local_answer).
    pub async fn answer(&self, offer_sdp: String) -> Result<String, HandlerError> {
        let _exchange = self.exchange.lock().await;
        self.transport.check_open()?;
        self.transport.answer(offer_sdp).await
    }

    /// Sets the answer [`answer`](Self::answer) made: the connection starts (first exchange)
    /// and the receivers of the offer take their packets.
    pub async fn set_local_answer(&self, answer_sdp: String) -> Result<(), HandlerError> {
        let _exchange = self.exchange.lock().await;
        self.transport.check_open()?;
        self.transport.set_local_answer(answer_sdp).await
    }

    /// Abandons the offer [`answer`](Self::answer) took, whose answer will not be set (the
    /// application refused to connect): the connection is as before that offer.
    pub async fn rollback(&self) -> Result<(), HandlerError> {
        let _exchange = self.exchange.lock().await;
        self.transport.check_open()?;
        self.transport.rollback_remote_offer().await
    }

    /// `stream` (a consumer's) is received from now on, its packets and sender reports to
    /// `sink`; `track_id` is its receiver's (`a=msid` track id). Before the answer that
    /// receives it is set, so that its first packets are read like the others.
    pub fn add_receiver(
        &self,
        track_id: &str,
        stream: &ReceivedStream,
        sink: Arc<dyn ReceiveSink>,
    ) {
        self.routes.add(track_id, stream, sink);
    }

    /// `stream` is received from now on, for no receiver: the probator's, whose packets
    /// count in the congestion control feedback only.
    pub fn expect_stream(&self, stream: &ReceivedStream) {
        self.routes.expect(stream);
    }

    /// Nothing goes to the sink of `track_id` any more, and its stream is forgotten (its
    /// section waits for another consumer, with other SSRCs).
    pub fn remove_receiver(&self, track_id: &str) {
        self.routes.remove(track_id);
    }

    /// The connection's data channels (data consumers): their SCTP association starts with
    /// the first answer if the first offer has the data channel section.
    pub fn data_channels(&self) -> DataChannels<'_> {
        DataChannels(&self.transport)
    }

    /// Asks the server for a keyframe of the stream `media_ssrc` (an RTCP PLI), now.
    pub fn request_keyframe(&self, media_ssrc: u32) -> Result<(), HandlerError> {
        self.transport
            .write_rtcp(vec![Box::new(PictureLossIndication {
                sender_ssrc: 0,
                media_ssrc,
            })])
    }

    /// The W3C stats of the receiver of `track_id` (`consumer.getStats()`), as JSON.
    pub async fn receiver_stats(&self, track_id: &str) -> Result<serde_json::Value, HandlerError> {
        self.transport.check_open()?;
        let mut report = self
            .transport
            .receiver_stats(track_id)
            .await?
            .ok_or_else(|| HandlerError::InvalidArgument(format!("no receiver {track_id:?}")))?;
        if let Some((ssrc, stats)) = self.routes.stats(track_id) {
            with_own_inbound(&mut report, track_id, ssrc, stats);
        }
        with_transport(&mut report, self.transport.transport_stats().await?);
        Ok(report)
    }

    /// The transport-level W3C stats (`transport.getStats()`), as JSON.
    pub async fn transport_stats(&self) -> Result<serde_json::Value, HandlerError> {
        self.transport.check_open()?;
        self.transport.transport_stats().await
    }

    /// Replaces the STUN servers, used from the next ICE restart on (as for sending).
    pub async fn update_ice_servers(&self, servers: Vec<IceServer>) -> Result<(), HandlerError> {
        validate_ice_servers(&servers)?;
        let _exchange = self.exchange.lock().await;
        self.transport.check_open()?;
        self.transport.update_ice_servers(servers).await
    }

    /// Sets (replaces) the callback of connection state changes: `new`, `connecting`,
    /// `connected`, `disconnected`, `failed`, `closed`. Called on the driver's tasks: it
    /// must return quickly and not call back into this handler synchronously.
    pub fn on_connection_state(&self, f: Box<dyn Fn(&'static str) + Send + Sync>) {
        self.transport.on_connection_state(f);
    }

    /// Closes the connection; nothing is delivered to any sink afterwards. Idempotent.
    pub async fn close(&self) {
        self.routes.clear();
        if self.transport.mark_closed() {
            self.transport.close().await;
        }
    }
}
