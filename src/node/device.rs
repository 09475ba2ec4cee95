//! #[napi] Device: thin glue over msc_client::Device.

use std::sync::Arc;

use msc_client::{Device, Transport, TransportOptions};
use napi_derive::napi;
use serde_json::Value;

use super::convert::{json, kind_from_js, to_js};
use super::transport::NativeTransport;

#[napi]
pub struct NativeDevice {
    inner: Arc<Device>,
}

#[napi]
impl NativeDevice {
    #[napi(constructor)]
    pub fn new() -> Self {
        NativeDevice {
            inner: Arc::new(Device::new()),
        }
    }

    #[napi]
    pub async fn load(&self, router_rtp_capabilities: Value) -> napi::Result<()> {
        self.inner
            .load(router_rtp_capabilities)
            .await
            .map_err(to_js)
    }

    #[napi(getter)]
    pub fn loaded(&self) -> bool {
        self.inner.loaded()
    }

    #[napi(catch_unwind)]
    pub fn rtp_capabilities(&self) -> napi::Result<Value> {
        json(&self.inner.rtp_capabilities().map_err(to_js)?)
    }

    #[napi(catch_unwind)]
    pub fn sctp_capabilities(&self) -> napi::Result<Value> {
        json(&self.inner.sctp_capabilities().map_err(to_js)?)
    }

    #[napi(catch_unwind)]
    pub fn can_produce(&self, kind: String) -> napi::Result<bool> {
        let kind = kind_from_js(&kind)?;
        self.inner.can_produce(kind).map_err(to_js)
    }

    /// Validates send transport options synchronously, so that `createSendTransport` can throw
    /// its TypeError at once; the transport itself is built by `createSendTransport` below.
    #[napi(catch_unwind)]
    pub fn validate_send_transport_options(&self, options: Value) -> napi::Result<()> {
        self.inner.state().map_err(to_js)?;
        TransportOptions::from_json(options)
            .map(|_| ())
            .map_err(to_js)
    }

    #[napi]
    pub async fn create_send_transport(&self, options: Value) -> napi::Result<NativeTransport> {
        let loaded = self.inner.state().map_err(to_js)?;
        let options = TransportOptions::from_json(options).map_err(to_js)?;
        let transport = Transport::new_send(loaded, options).await.map_err(to_js)?;
        Ok(NativeTransport::new(transport))
    }
}

impl Default for NativeDevice {
    fn default() -> Self {
        Self::new()
    }
}
