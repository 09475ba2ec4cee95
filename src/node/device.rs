//! #[napi] Device: thin glue over msc_client::Device.

use std::sync::Arc;

use msc_client::{Device, Direction, Transport, TransportOptions};
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;

use super::convert::{json, kind_from_js};
use super::errors::{promise, to_js, Code};
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

    #[napi(ts_return_type = "Promise<void>")]
    pub fn load<'env>(
        &self,
        env: &'env Env,
        router_rtp_capabilities: Value,
    ) -> napi::Result<PromiseRaw<'env, ()>, Code> {
        let device = self.inner.clone();
        promise(
            env,
            async move { device.load(router_rtp_capabilities).await },
            |_, ()| Ok(()),
        )
    }

    #[napi(getter)]
    pub fn loaded(&self) -> bool {
        self.inner.loaded()
    }

    #[napi(catch_unwind)]
    pub fn rtp_capabilities(&self) -> napi::Result<Value, Code> {
        json(&self.inner.rtp_capabilities().map_err(to_js)?)
    }

    #[napi(catch_unwind)]
    pub fn sctp_capabilities(&self) -> napi::Result<Value, Code> {
        json(&self.inner.sctp_capabilities().map_err(to_js)?)
    }

    #[napi(catch_unwind)]
    pub fn can_produce(&self, kind: String) -> napi::Result<bool, Code> {
        let kind = kind_from_js(&kind)?;
        self.inner.can_produce(kind).map_err(to_js)
    }

    /// Validates send transport options synchronously, so that `createSendTransport` can throw
    /// its TypeError at once; the transport itself is built by `createSendTransport` below.
    #[napi(catch_unwind)]
    pub fn validate_send_transport_options(&self, options: Value) -> napi::Result<(), Code> {
        self.inner.state().map_err(to_js)?;
        TransportOptions::from_json(options)
            .map(|_| ())
            .map_err(to_js)
    }

    #[napi(ts_return_type = "Promise<NativeTransport>")]
    pub fn create_send_transport<'env>(
        &self,
        env: &'env Env,
        options: Value,
    ) -> napi::Result<PromiseRaw<'env, NativeTransport>, Code> {
        self.create_transport(env, Direction::Send, options)
    }

    #[napi(ts_return_type = "Promise<NativeTransport>")]
    pub fn create_recv_transport<'env>(
        &self,
        env: &'env Env,
        options: Value,
    ) -> napi::Result<PromiseRaw<'env, NativeTransport>, Code> {
        self.create_transport(env, Direction::Recv, options)
    }
}

impl NativeDevice {
    fn create_transport<'env>(
        &self,
        env: &'env Env,
        direction: Direction,
        options: Value,
    ) -> napi::Result<PromiseRaw<'env, NativeTransport>, Code> {
        let device = self.inner.clone();
        let creating = async move {
            let loaded = device.state()?;
            let options = TransportOptions::from_json(options)?;
            match direction {
                Direction::Send => Transport::new_send(loaded, options).await,
                Direction::Recv => Transport::new_recv(loaded, options).await,
            }
        };
        promise(env, creating, |_, transport| {
            Ok(NativeTransport::new(transport))
        })
    }
}

impl Default for NativeDevice {
    fn default() -> Self {
        Self::new()
    }
}
