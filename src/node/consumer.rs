//! #[napi] Consumer: thin glue over msc_client::Consumer.

use std::sync::Arc;

use msc_client::{Consumer, Transport};
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;

use super::convert::json;
use super::errors::{promise, Code};
use super::remote_track::NativeRemoteTrack;

#[napi]
pub struct NativeConsumer {
    inner: Arc<Consumer>,
    transport: Arc<Transport>,
}

impl NativeConsumer {
    pub fn new(inner: Arc<Consumer>, transport: Arc<Transport>) -> Self {
        NativeConsumer { inner, transport }
    }
}

#[napi]
impl NativeConsumer {
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_string()
    }
    #[napi(getter)]
    pub fn producer_id(&self) -> String {
        self.inner.producer_id().to_string()
    }
    #[napi(getter)]
    pub fn local_id(&self) -> String {
        self.inner.local_id().to_string()
    }
    #[napi(getter)]
    pub fn kind(&self) -> String {
        self.inner.kind().as_str().to_string()
    }
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.closed()
    }
    #[napi(getter)]
    pub fn paused(&self) -> bool {
        self.inner.paused()
    }
    #[napi(catch_unwind)]
    pub fn rtp_parameters(&self) -> napi::Result<Value, Code> {
        json(self.inner.rtp_parameters())
    }

    /// Its track (a new handle on the same track each call: lib/ keeps one).
    #[napi]
    pub fn track(&self) -> NativeRemoteTrack {
        NativeRemoteTrack::new(self.inner.track().clone())
    }

    #[napi(catch_unwind)]
    pub fn pause(&self) {
        self.inner.pause();
    }

    #[napi(catch_unwind)]
    pub fn resume(&self) {
        self.inner.resume();
    }

    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.inner.close();
    }

    #[napi(ts_return_type = "Promise<any>")]
    pub fn get_stats<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Value>, Code> {
        let consumer = self.inner.clone();
        let transport = self.transport.clone();
        let stats = async move {
            if consumer.closed() {
                return Err(msc_client::Error::invalid_state("closed"));
            }
            transport.consumer_stats(consumer.local_id()).await
        };
        promise(env, stats, |_, stats| Ok(stats))
    }
}
