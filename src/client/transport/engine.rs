//! What a transport needs of the connection below it: the handler crate's PeerConnection in
//! the product, a fake in tests (`fake_engine.rs`), so that the operation flow can be tested
//! without sockets. One call per step of an operation, never per packet: the producer writes
//! its packets to the handler's writers directly.

use std::future::Future;
use std::pin::Pin;

use msc_handler::{HandlerError, IceServer, SendHandler, SendResult};
use msc_ortc::{MediaKind, RtpCodecCapability};
use serde_json::Value;

/// What every [`Engine`] step returns: a boxed future borrowing the engine, failing with the
/// handler's error.
pub type EngineFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, HandlerError>> + Send + 'a>>;

/// The connection below a transport, one method per step of an operation. Implemented by the
/// handler's [`SendHandler`]; a transport owns one for its life.
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
}
