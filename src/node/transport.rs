//! #[napi] Transport: thin glue over msc_client::Transport. Each operation is the client's,
//! end to end; lib/Transport.js gives it the application's signalling as functions that
//! return Promises (src/node/listener.rs).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use msc_client::{
    ConsumeDataOptions, ConsumeOptions, ProduceDataOptions, ProduceOptions, Transport,
};
use msc_ortc::RtpEncodingParameters;
use msc_sdp::CodecOptions;
use napi::bindgen_prelude::ObjectFinalize;
use napi::bindgen_prelude::{Array, PromiseRaw};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::{Env, JsError};
use napi_derive::napi;
use serde_json::Value;

use super::consumer::NativeConsumer;
use super::convert::JsCallback;
use super::data_channel::NativeDataChannel;
use super::errors::{from_napi, invalid_argument, promise, to_js, Code};
use super::listener::{AskFn, JsConnectListener, JsDataSendListener, JsSendListener};
use super::producer::NativeProducer;
use super::track::NativeTrack;

/// About what a transport holds natively (its PeerConnection, sockets, buffers;
/// `docs/performance.md#native-memory`). V8 cannot see it: told of it, V8 collects closed
/// transports sooner instead of letting them pile up between collections.
const NATIVE_TRANSPORT_BYTES: i64 = 1536 * 1024;

#[napi(custom_finalize)]
pub struct NativeTransport {
    inner: Arc<Transport>,
    accounted: AtomicBool,
}

impl NativeTransport {
    pub fn new(inner: Arc<Transport>) -> Self {
        NativeTransport {
            inner,
            accounted: AtomicBool::new(false),
        }
    }
}

impl ObjectFinalize for NativeTransport {
    fn finalize(self, env: Env) -> napi::Result<()> {
        if self.accounted.load(Ordering::Relaxed) {
            env.adjust_external_memory(-NATIVE_TRANSPORT_BYTES)?;
        }
        Ok(())
    }
}

/// What consume() takes, as in mediasoup-client (checked by the client layer; `appData` stays
/// in lib/).
#[napi(object)]
pub struct NativeConsumeOptions {
    pub id: String,
    pub producer_id: String,
    pub kind: String,
    pub rtp_parameters: Value,
    pub stream_id: Option<String>,
}

/// What produceData() takes, as in mediasoup-client (checked by lib/; `appData` stays there).
#[napi(object)]
pub struct NativeProduceDataOptions {
    pub ordered: bool,
    pub max_packet_life_time: Option<u32>,
    pub max_retransmits: Option<u32>,
    pub label: String,
    pub protocol: String,
}

/// What consumeData() takes, as in mediasoup-client (checked by the client layer).
#[napi(object)]
pub struct NativeConsumeDataOptions {
    pub id: String,
    pub data_producer_id: String,
    pub sctp_stream_parameters: Value,
    pub label: String,
    pub protocol: String,
}

/// What produce() takes besides the track, as in mediasoup-client (checked by lib/).
#[napi(object)]
pub struct NativeProduceOptions {
    pub encodings: Option<Value>,
    pub codec_options: Option<Value>,
    pub codec: Option<Value>,
}

#[napi]
impl NativeTransport {
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
    pub fn account_memory(&self, env: Env) -> napi::Result<(), Code> {
        if !self.accounted.swap(true, Ordering::Relaxed) {
            env.adjust_external_memory(NATIVE_TRANSPORT_BYTES)
                .map_err(from_napi)?;
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

    /// 'send' or 'recv'.
    #[napi(getter)]
    pub fn direction(&self) -> &'static str {
        self.inner.direction().as_str()
    }

    /// transport.produce(): resolves with the producer, fed by `track`. `connect(dtlsParameters)`
    /// and `produce({ kind, rtpParameters })` are the application's signalling: each returns a
    /// Promise of its answer. The operation takes its place in the transport's queue now.
    #[napi(ts_return_type = "Promise<NativeProducer>")]
    pub fn produce<'env>(
        &self,
        env: &'env Env,
        track: &NativeTrack,
        options: NativeProduceOptions,
        #[napi(ts_arg_type = "(dtlsParameters: any) => Promise<any>")] connect: AskFn,
        #[napi(ts_arg_type = "(params: { kind: string, rtpParameters: any }) => Promise<any>")]
        produce: AskFn,
    ) -> napi::Result<PromiseRaw<'env, NativeProducer>, Code> {
        let options = ProduceOptions {
            track: Some(track.inner()),
            kind: None,
            encodings: parse_opt::<Vec<RtpEncodingParameters>>(options.encodings, "encodings")?
                .unwrap_or_default(),
            codec_options: parse_opt::<CodecOptions>(options.codec_options, "codecOptions")?,
            codec: parse_opt(options.codec, "codec")?,
        };
        let listener = Arc::new(JsSendListener::new(connect, produce));
        let producing = self.inner.produce(options, listener);
        let transport = self.inner.clone();
        promise(env, producing, move |_, producer| {
            Ok(NativeProducer::new(producer, transport))
        })
    }

    /// transport.consume() for the consumers created in one tick: resolves with one entry
    /// per option, in order: the consumer, or the Error that option got. `connect` is the
    /// application's signalling, as for produce().
    #[napi(ts_return_type = "Promise<Array<NativeConsumer | Error>>")]
    pub fn consume<'env>(
        &self,
        env: &'env Env,
        batch: Vec<NativeConsumeOptions>,
        #[napi(ts_arg_type = "(dtlsParameters: any) => Promise<any>")] connect: AskFn,
    ) -> napi::Result<PromiseRaw<'env, Array<'env>>, Code> {
        let batch = batch
            .into_iter()
            .map(|o| ConsumeOptions {
                id: o.id,
                producer_id: o.producer_id,
                kind: Value::String(o.kind),
                rtp_parameters: o.rtp_parameters,
                stream_id: o.stream_id,
            })
            .collect();
        let listener = Arc::new(JsConnectListener::new(connect));
        let consuming = self.inner.consume(batch, listener);
        let transport = self.inner.clone();
        promise(env, consuming, move |env, results| {
            let mut array = env.create_array(results.len() as u32)?;
            for (i, result) in results.into_iter().enumerate() {
                match result {
                    Ok(consumer) => {
                        array.set(i as u32, NativeConsumer::new(consumer, transport.clone()))?
                    }
                    Err(e) => array.set(i as u32, JsError::from(to_js(e)).into_unknown(*env))?,
                }
            }
            Ok(array)
        })
    }

    /// transport.produceData(): resolves with the data producer. `connect` and
    /// `produceData({ sctpStreamParameters, label, protocol })` are the application's
    /// signalling, as for produce().
    #[napi(ts_return_type = "Promise<NativeDataChannel>")]
    pub fn produce_data<'env>(
        &self,
        env: &'env Env,
        options: NativeProduceDataOptions,
        #[napi(ts_arg_type = "(dtlsParameters: any) => Promise<any>")] connect: AskFn,
        #[napi(
            ts_arg_type = "(params: { sctpStreamParameters: any, label: string, protocol: string }) => Promise<any>"
        )]
        produce_data: AskFn,
    ) -> napi::Result<PromiseRaw<'env, NativeDataChannel>, Code> {
        let options = ProduceDataOptions {
            ordered: options.ordered,
            max_packet_life_time: options.max_packet_life_time,
            max_retransmits: options.max_retransmits,
            label: options.label,
            protocol: options.protocol,
        };
        let listener = Arc::new(JsDataSendListener::new(connect, produce_data));
        let producing = self.inner.produce_data(options, listener);
        let transport = self.inner.clone();
        promise(env, producing, move |_, producer| {
            Ok(NativeDataChannel::producer(producer, transport))
        })
    }

    /// transport.consumeData(): resolves with the data consumer; `connect` as for consume().
    #[napi(ts_return_type = "Promise<NativeDataChannel>")]
    pub fn consume_data<'env>(
        &self,
        env: &'env Env,
        options: NativeConsumeDataOptions,
        #[napi(ts_arg_type = "(dtlsParameters: any) => Promise<any>")] connect: AskFn,
    ) -> napi::Result<PromiseRaw<'env, NativeDataChannel>, Code> {
        let options = ConsumeDataOptions {
            id: options.id,
            data_producer_id: options.data_producer_id,
            sctp_stream_parameters: options.sctp_stream_parameters,
            label: options.label,
            protocol: options.protocol,
        };
        let listener = Arc::new(JsConnectListener::new(connect));
        let consuming = self.inner.consume_data(options, listener);
        let transport = self.inner.clone();
        promise(env, consuming, move |_, consumer| {
            Ok(NativeDataChannel::consumer(consumer, transport))
        })
    }

    #[napi(ts_return_type = "Promise<any>")]
    pub fn get_stats<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Value>, Code> {
        let stats = self.inner.get_stats();
        promise(env, stats, |_, stats| Ok(stats))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn restart_ice<'env>(
        &self,
        env: &'env Env,
        ice_parameters: Value,
    ) -> napi::Result<PromiseRaw<'env, ()>, Code> {
        let restart = self.inner.restart_ice(ice_parameters);
        promise(env, restart, |_, ()| Ok(()))
    }

    /// iceServers: an array of RTCIceServer (TypeError otherwise); used from the next ICE restart.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn update_ice_servers<'env>(
        &self,
        env: &'env Env,
        ice_servers: Value,
    ) -> napi::Result<PromiseRaw<'env, ()>, Code> {
        let update = self.inner.update_ice_servers(ice_servers);
        promise(env, update, |_, ()| Ok(()))
    }

    /// Closes the transport; resolves with the local ids of the producers and consumers that
    /// were live.
    #[napi]
    pub async fn close(&self) -> Vec<String> {
        self.inner.close().await
    }
}

fn parse_opt<T: serde::de::DeserializeOwned>(
    value: Option<Value>,
    what: &str,
) -> napi::Result<Option<T>, Code> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v)
            .map(Some)
            .map_err(|e| invalid_argument(format!("invalid {what}: {e}"))),
    }
}
