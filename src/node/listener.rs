//! The application's signalling as the client layer asks for it: JS functions, called on the
//! JS thread, each returning a Promise that the client awaits. lib/Transport.js makes them from
//! its events (`connect`, `produce`): the JS side keeps the callback/errback/Promise protocol
//! of those events, the client keeps the order and the rules of the operation.

use std::sync::Arc;

use msc_client::{Answer, DataSendListener, Error, SendListener, TransportListener};
use msc_ortc::{DtlsParameters, MediaKind, RtpParameters};
use napi::bindgen_prelude::Promise;
use napi::threadsafe_function::ThreadsafeFunction;
use serde_json::{json, Value};

/// A JS function `(params) => Promise<answer>`; weak: a pending question does not keep Node
/// alive (as a pending Promise does not).
pub type AskFn = ThreadsafeFunction<Value, Promise<Value>, Value, napi::Status, false, true>;

/// Asks `f` and awaits its answer; the application's refusal keeps its message.
async fn ask(f: Arc<AskFn>, params: Value) -> msc_client::Result<Value> {
    let promise = f
        .call_async_catch(params)
        .await
        .map_err(|e| Error::other(e.reason.clone()))?;
    promise.await.map_err(|e| Error::refused(e.reason.clone()))
}

pub struct JsSendListener {
    connect: Arc<AskFn>,
    produce: Arc<AskFn>,
}

impl JsSendListener {
    pub fn new(connect: AskFn, produce: AskFn) -> Self {
        JsSendListener {
            connect: Arc::new(connect),
            produce: Arc::new(produce),
        }
    }
}

impl TransportListener for JsSendListener {
    fn connect(&self, dtls_parameters: DtlsParameters) -> Answer<()> {
        let f = self.connect.clone();
        Box::pin(async move {
            let params =
                serde_json::to_value(dtls_parameters).map_err(|e| Error::other(e.to_string()))?;
            ask(f, params).await.map(|_| ())
        })
    }
}

impl SendListener for JsSendListener {
    fn produce(&self, kind: MediaKind, rtp_parameters: RtpParameters) -> Answer<Value> {
        let f = self.produce.clone();
        Box::pin(async move {
            let params = json!({ "kind": kind.as_str(), "rtpParameters": rtp_parameters });
            ask(f, params).await
        })
    }
}

/// The signalling of a data producer: `connect` (first time) and `producedata`.
pub struct JsDataSendListener {
    connect: JsConnectListener,
    produce_data: Arc<AskFn>,
}

impl JsDataSendListener {
    pub fn new(connect: AskFn, produce_data: AskFn) -> Self {
        JsDataSendListener {
            connect: JsConnectListener::new(connect),
            produce_data: Arc::new(produce_data),
        }
    }
}

impl TransportListener for JsDataSendListener {
    fn connect(&self, dtls_parameters: DtlsParameters) -> Answer<()> {
        self.connect.connect(dtls_parameters)
    }
}

impl DataSendListener for JsDataSendListener {
    fn produce_data(&self, params: Value) -> Answer<Value> {
        Box::pin(ask(self.produce_data.clone(), params))
    }
}

/// The signalling of a receive transport: `connect` only (consumers are created by the
/// server first, so consume() asks nothing more).
pub struct JsConnectListener {
    connect: Arc<AskFn>,
}

impl JsConnectListener {
    pub fn new(connect: AskFn) -> Self {
        JsConnectListener {
            connect: Arc::new(connect),
        }
    }
}

impl TransportListener for JsConnectListener {
    fn connect(&self, dtls_parameters: DtlsParameters) -> Answer<()> {
        let f = self.connect.clone();
        Box::pin(async move {
            let params =
                serde_json::to_value(dtls_parameters).map_err(|e| Error::other(e.to_string()))?;
            ask(f, params).await.map(|_| ())
        })
    }
}
