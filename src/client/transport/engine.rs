//! What a transport needs of the connection below it: the handler crate's PeerConnection in
//! the product, a fake in tests (`fake_engine.rs`), so that the operation flow can be tested
//! without sockets. One call per step of an operation, never per packet: the producer writes
//! its packets to the handler's writers directly, and received packets go from the handler to
//! each consumer's sink.

use std::future::Future;
use std::pin::Pin;

use std::sync::Arc;

use msc_handler::{
    DataChannels, HandlerError, IceServer, ReceiveSink, RecvHandler, SendHandler, SendResult,
};
use msc_ortc::{DtlsParameters, MediaKind, ReceivedStream, RtpCodecCapability};
use serde_json::Value;

/// What every [`Engine`] step returns: a boxed future borrowing the engine, failing with the
/// handler's error.
pub type EngineFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, HandlerError>> + Send + 'a>>;

/// The connection below a transport, one method per step of an operation. Implemented by the
/// handler's [`SendHandler`] and [`RecvHandler`] (each refuses the other direction's steps); a
/// transport owns one for its life.
pub trait Engine: Send + Sync + 'static {
    /// Adds a sendonly transceiver (simulcast: one rid per encoding) and makes the offer.
    fn send(
        &self,
        kind: MediaKind,
        codecs: Vec<RtpCodecCapability>,
        rids: Vec<String>,
    ) -> EngineFuture<'_, SendResult>;
    /// Applies the answer built by the SDP layer for the last offer.
    fn set_remote_answer(&self, sdp: String) -> EngineFuture<'_, ()>;
    /// Stops the transceiver of `mid`; gives the new offer.
    fn stop_sending<'a>(&'a self, mid: &'a str) -> EngineFuture<'a, String>;
    /// Starts an ICE restart: new local ICE credentials, and the offer carrying them.
    fn restart_ice_offer(&self) -> EngineFuture<'_, String>;
    /// Replaces the STUN/TURN servers, used from the next ICE restart on.
    fn update_ice_servers(&self, servers: Vec<IceServer>) -> EngineFuture<'_, ()>;
    /// W3C stats of the whole connection (`transport.getStats()`), as JSON.
    fn transport_stats(&self) -> EngineFuture<'_, Value>;
    /// W3C stats of the sender of `mid` (`producer.getStats()`), as JSON.
    fn sender_stats<'a>(&'a self, mid: &'a str) -> EngineFuture<'a, Value>;
    /// Sets (replaces) the callback of connection state changes (`new` ... `closed`).
    fn on_connection_state(&self, f: Box<dyn Fn(&'static str) + Send + Sync>);
    /// Closes the connection: sockets and tasks end; idempotent.
    fn close(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;

    /// The connection's data channels; `None` when it has none (a test's fake).
    fn data_channels(&self) -> Option<DataChannels<'_>> {
        None
    }
    /// Sending: the offer waiting for its first answer (made now if none was made yet).
    fn unanswered_offer(&self) -> EngineFuture<'_, String> {
        Box::pin(async { Err(not_sending()) })
    }

    /// Receiving: sets the server's offer and creates the answer, not set yet.
    fn answer(&self, _offer_sdp: String) -> EngineFuture<'_, String> {
        Box::pin(async { Err(not_receiving()) })
    }
    /// Receiving: this side's DTLS parameters, known before any offer.
    fn dtls_parameters(&self) -> Option<DtlsParameters> {
        None
    }
    /// Receiving: abandons the offer [`Engine::answer`] took (its answer will not be set).
    fn rollback(&self) -> EngineFuture<'_, ()> {
        Box::pin(async { Err(not_receiving()) })
    }
    /// Receiving: sets the answer [`Engine::answer`] made.
    fn set_local_answer(&self, _answer_sdp: String) -> EngineFuture<'_, ()> {
        Box::pin(async { Err(not_receiving()) })
    }
    /// Receiving: `stream` is received from now on, its packets and sender reports to
    /// `sink` (those the core reads: tagged `track_id`).
    fn add_receiver(&self, _track_id: &str, _stream: &ReceivedStream, _sink: Arc<dyn ReceiveSink>) {
    }
    /// Receiving: `stream` is received from now on, for no receiver (the probator's).
    fn expect_stream(&self, _stream: &ReceivedStream) {}
    /// Receiving: nothing goes to the sink of `track_id` any more.
    fn remove_receiver(&self, _track_id: &str) {}
    /// Receiving: asks the server for a keyframe of `ssrc` (RTCP PLI).
    fn request_keyframe(&self, _ssrc: u32) -> Result<(), HandlerError> {
        Err(not_receiving())
    }
    /// Receiving: W3C stats of the receiver of `track_id` (`consumer.getStats()`), as JSON.
    fn receiver_stats<'a>(&'a self, _track_id: &'a str) -> EngineFuture<'a, Value> {
        Box::pin(async { Err(not_receiving()) })
    }
}

fn not_receiving() -> HandlerError {
    HandlerError::InvalidState("not a receiving transport".into())
}

fn not_sending() -> HandlerError {
    HandlerError::InvalidState("not a sending transport".into())
}

impl Engine for RecvHandler {
    fn send(
        &self,
        _kind: MediaKind,
        _codecs: Vec<RtpCodecCapability>,
        _rids: Vec<String>,
    ) -> EngineFuture<'_, SendResult> {
        Box::pin(async { Err(not_sending()) })
    }
    fn set_remote_answer(&self, _sdp: String) -> EngineFuture<'_, ()> {
        Box::pin(async { Err(not_sending()) })
    }
    fn stop_sending<'a>(&'a self, _mid: &'a str) -> EngineFuture<'a, String> {
        Box::pin(async { Err(not_sending()) })
    }
    fn restart_ice_offer(&self) -> EngineFuture<'_, String> {
        Box::pin(async { Err(not_sending()) })
    }
    fn update_ice_servers(&self, servers: Vec<IceServer>) -> EngineFuture<'_, ()> {
        Box::pin(RecvHandler::update_ice_servers(self, servers))
    }
    fn transport_stats(&self) -> EngineFuture<'_, Value> {
        Box::pin(RecvHandler::transport_stats(self))
    }
    fn sender_stats<'a>(&'a self, _mid: &'a str) -> EngineFuture<'a, Value> {
        Box::pin(async { Err(not_sending()) })
    }
    fn on_connection_state(&self, f: Box<dyn Fn(&'static str) + Send + Sync>) {
        RecvHandler::on_connection_state(self, f)
    }
    fn close(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(RecvHandler::close(self))
    }
    fn answer(&self, offer_sdp: String) -> EngineFuture<'_, String> {
        Box::pin(RecvHandler::answer(self, offer_sdp))
    }
    fn set_local_answer(&self, answer_sdp: String) -> EngineFuture<'_, ()> {
        Box::pin(RecvHandler::set_local_answer(self, answer_sdp))
    }
    fn rollback(&self) -> EngineFuture<'_, ()> {
        Box::pin(RecvHandler::rollback(self))
    }
    fn dtls_parameters(&self) -> Option<DtlsParameters> {
        Some(RecvHandler::dtls_parameters(self))
    }
    fn add_receiver(&self, track_id: &str, stream: &ReceivedStream, sink: Arc<dyn ReceiveSink>) {
        RecvHandler::add_receiver(self, track_id, stream, sink)
    }
    fn expect_stream(&self, stream: &ReceivedStream) {
        RecvHandler::expect_stream(self, stream)
    }
    fn remove_receiver(&self, track_id: &str) {
        RecvHandler::remove_receiver(self, track_id)
    }
    fn request_keyframe(&self, ssrc: u32) -> Result<(), HandlerError> {
        RecvHandler::request_keyframe(self, ssrc)
    }
    fn receiver_stats<'a>(&'a self, track_id: &'a str) -> EngineFuture<'a, Value> {
        Box::pin(RecvHandler::receiver_stats(self, track_id))
    }
    fn data_channels(&self) -> Option<DataChannels<'_>> {
        Some(RecvHandler::data_channels(self))
    }
}

impl Engine for SendHandler {
    fn send(
        &self,
        kind: MediaKind,
        codecs: Vec<RtpCodecCapability>,
        rids: Vec<String>,
    ) -> EngineFuture<'_, SendResult> {
        Box::pin(SendHandler::send(self, kind, codecs, rids))
    }
    fn set_remote_answer(&self, sdp: String) -> EngineFuture<'_, ()> {
        Box::pin(SendHandler::set_remote_answer(self, sdp))
    }
    fn stop_sending<'a>(&'a self, mid: &'a str) -> EngineFuture<'a, String> {
        Box::pin(SendHandler::stop_sending(self, mid))
    }
    fn restart_ice_offer(&self) -> EngineFuture<'_, String> {
        Box::pin(SendHandler::restart_ice_offer(self))
    }
    fn update_ice_servers(&self, servers: Vec<IceServer>) -> EngineFuture<'_, ()> {
        Box::pin(SendHandler::update_ice_servers(self, servers))
    }
    fn transport_stats(&self) -> EngineFuture<'_, Value> {
        Box::pin(SendHandler::transport_stats(self))
    }
    fn sender_stats<'a>(&'a self, mid: &'a str) -> EngineFuture<'a, Value> {
        Box::pin(SendHandler::sender_stats(self, mid))
    }
    fn on_connection_state(&self, f: Box<dyn Fn(&'static str) + Send + Sync>) {
        SendHandler::on_connection_state(self, f)
    }
    fn close(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(SendHandler::close(self))
    }
    fn data_channels(&self) -> Option<DataChannels<'_>> {
        Some(SendHandler::data_channels(self))
    }
    fn unanswered_offer(&self) -> EngineFuture<'_, String> {
        Box::pin(SendHandler::unanswered_offer(self))
    }
}
