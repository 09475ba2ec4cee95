//! #[napi] SendTransport: thin glue over msc_client::SendTransport. The JS class in
//! lib/SendTransport.js drives the produce steps and the application's events.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use msc_client::{ProduceOptions, SendTransport};
use msc_ortc::RtpEncodingParameters;
use msc_sdp::CodecOptions;
use napi::bindgen_prelude::ObjectFinalize;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;

use super::convert::{json, kind_from_js, to_js, JsCallback};
use super::errors::js_error;
use super::producer::NativeProducer;

/// About what a transport holds natively (its PeerConnection, sockets, buffers;
/// `docs/performance.md#native-memory`). V8 cannot see it: told of it, V8 collects closed
/// transports sooner instead of letting them pile up between collections.
const NATIVE_TRANSPORT_BYTES: i64 = 1536 * 1024;

#[napi(custom_finalize)]
pub struct NativeSendTransport {
    inner: Arc<SendTransport>,
    accounted: AtomicBool,
}

impl NativeSendTransport {
    pub fn new(inner: Arc<SendTransport>) -> Self {
        NativeSendTransport {
            inner,
            accounted: AtomicBool::new(false),
        }
    }
}

impl ObjectFinalize for NativeSendTransport {
    fn finalize(self, env: Env) -> napi::Result<()> {
        if self.accounted.load(Ordering::Relaxed) {
            env.adjust_external_memory(-NATIVE_TRANSPORT_BYTES)?;
        }
        Ok(())
    }
}

#[napi(object)]
pub struct NativePrepared {
    pub local_id: String,
    /// DTLS parameters for the `connect` event, on the first produce only
    pub connect: Option<Value>,
}

#[napi(object)]
pub struct NativeFinished {
    pub kind: String,
    pub rtp_parameters: Value,
}

#[napi]
impl NativeSendTransport {
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_string()
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.closed()
    }

    /// Tells V8 of the native memory this transport holds (once; given back when the JS
    /// object is collected).
    #[napi]
    pub fn account_memory(&self, env: Env) -> napi::Result<()> {
        if !self.accounted.swap(true, Ordering::Relaxed) {
            env.adjust_external_memory(NATIVE_TRANSPORT_BYTES)?;
        }
        Ok(())
    }

    /// `callback(state)` on every connection state change.
    #[napi(catch_unwind)]
    pub fn on_connection_state_change(&self, callback: JsCallback<String>) {
        self.inner.on_connection_state(Box::new(move |state| {
            callback.call(state.to_string(), ThreadsafeFunctionCallMode::NonBlocking);
        }));
    }

    /// kind: 'audio' | 'video'; encodings, codecOptions, codec: as in mediasoup-client.
    #[napi]
    pub async fn prepare_produce(
        &self,
        kind: String,
        encodings: Option<Value>,
        codec_options: Option<Value>,
        codec: Option<Value>,
    ) -> napi::Result<NativePrepared> {
        let options = ProduceOptions {
            kind: Some(kind_from_js(&kind)?),
            encodings: parse_opt::<Vec<RtpEncodingParameters>>(encodings, "encodings")?
                .unwrap_or_default(),
            codec_options: parse_opt::<CodecOptions>(codec_options, "codecOptions")?,
            codec: parse_opt(codec, "codec")?,
        };
        let prepared = self.inner.prepare_produce(options).await.map_err(to_js)?;
        Ok(NativePrepared {
            local_id: prepared.local_id,
            connect: prepared.connect.as_ref().map(json).transpose()?,
        })
    }

    #[napi]
    pub async fn connected(&self, ok: bool) {
        self.inner.connected(ok).await
    }

    #[napi]
    pub async fn finish_produce(&self, local_id: String) -> napi::Result<NativeFinished> {
        let (kind, rtp_parameters) = self.inner.finish_produce(&local_id).await.map_err(to_js)?;
        Ok(NativeFinished {
            kind: kind.as_str().to_string(),
            rtp_parameters: json(&rtp_parameters)?,
        })
    }

    #[napi]
    pub async fn complete_produce(
        &self,
        local_id: String,
        id: String,
    ) -> napi::Result<NativeProducer> {
        let producer = self
            .inner
            .complete_produce(&local_id, id)
            .await
            .map_err(to_js)?;
        Ok(NativeProducer::new(producer, self.inner.clone()))
    }

    #[napi]
    pub async fn abort_produce(&self, local_id: String) {
        self.inner.abort_produce(&local_id).await
    }

    #[napi]
    pub async fn get_stats(&self) -> napi::Result<Value> {
        self.inner.get_stats().await.map_err(to_js)
    }

    #[napi]
    pub async fn restart_ice(&self, ice_parameters: Value) -> napi::Result<()> {
        self.inner.restart_ice(ice_parameters).await.map_err(to_js)
    }

    /// iceServers: an array of RTCIceServer (TypeError otherwise); used from the next ICE restart.
    #[napi]
    pub async fn update_ice_servers(&self, ice_servers: Value) -> napi::Result<()> {
        self.inner
            .update_ice_servers(ice_servers)
            .await
            .map_err(to_js)
    }

    /// Closes the transport; resolves with the local ids of the producers that were live.
    #[napi]
    pub async fn close(&self) -> Vec<String> {
        self.inner
            .close()
            .await
            .iter()
            .map(|p| p.local_id().to_string())
            .collect()
    }
}

fn parse_opt<T: serde::de::DeserializeOwned>(
    value: Option<Value>,
    what: &str,
) -> napi::Result<Option<T>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v)
            .map(Some)
            .map_err(|e| js_error("TypeError", format!("invalid {what}: {e}"))),
    }
}
