//! #[napi] Producer: thin glue over msc_client::Producer.

use std::sync::Arc;

use msc_client::{Producer, Transport};
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;

use super::convert::json;
use super::errors::{promise, to_js, Code};
use super::track::NativeTrack;

#[napi]
pub struct NativeProducer {
    inner: Arc<Producer>,
    transport: Arc<Transport>,
}

impl NativeProducer {
    pub fn new(inner: Arc<Producer>, transport: Arc<Transport>) -> Self {
        NativeProducer { inner, transport }
    }
}

#[napi]
impl NativeProducer {
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_string()
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
    #[napi(getter)]
    pub fn max_spatial_layer(&self) -> u32 {
        self.inner.max_spatial_layer() as u32
    }
    #[napi(getter)]
    pub fn num_layers(&self) -> u32 {
        self.inner.num_layers() as u32
    }
    #[napi(catch_unwind)]
    pub fn rtp_parameters(&self) -> napi::Result<Value, Code> {
        json(self.inner.rtp_parameters())
    }

    /// Plugs a track (or nothing) in; returns whether a previous track was unplugged.
    #[napi(catch_unwind)]
    pub fn set_track(&self, track: Option<&NativeTrack>) -> napi::Result<bool, Code> {
        let old = self
            .inner
            .set_track(track.map(|t| t.inner()))
            .map_err(to_js)?;
        Ok(old.is_some())
    }

    #[napi(catch_unwind)]
    pub fn pause(&self) -> napi::Result<(), Code> {
        self.inner.pause().map_err(to_js)
    }

    #[napi(catch_unwind)]
    pub fn resume(&self) -> napi::Result<(), Code> {
        self.inner.resume().map_err(to_js)
    }

    #[napi(catch_unwind)]
    pub fn set_max_spatial_layer(&self, layer: i64) -> napi::Result<(), Code> {
        self.inner.set_max_spatial_layer(layer).map_err(to_js)
    }

    /// encodings[i].active for each encoding (null: leave as is).
    #[napi(catch_unwind)]
    pub fn set_encodings_active(&self, active: Vec<Option<bool>>) -> napi::Result<(), Code> {
        self.inner.set_encodings_active(&active).map_err(to_js)
    }

    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.inner.close();
    }

    #[napi(ts_return_type = "Promise<any>")]
    pub fn get_stats<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Value>, Code> {
        let producer = self.inner.clone();
        let transport = self.transport.clone();
        let stats = async move {
            if producer.closed() {
                return Err(msc_client::Error::invalid_state("closed"));
            }
            transport.producer_stats(producer.local_id()).await
        };
        promise(env, stats, |_, stats| Ok(stats))
    }
}
