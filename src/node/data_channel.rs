//! #[napi] DataProducer and DataConsumer: thin glue over msc_client's. What their channel
//! reports reaches JS in batches: the connection's tasks queue messages and events, and one
//! call of the JS listener takes everything queued since the last one, in order, so a burst of
//! messages costs one crossing into JS, not one per message.

use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use msc_client::{
    DataChannel, DataChannelListener, DataConsumer, DataEvent, DataProducer, OutgoingMessage,
    Transport,
};
use napi::bindgen_prelude::{Buffer, Either, Either3, ToNapiValue};
use napi::sys;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;
use serde_json::Value;

use super::convert::{json, JsCallback};
use super::errors::{to_js, Code};

/// What happened to a channel, for JS: `{ event: 'open' | 'bufferedamountlow' | 'close' |
/// 'error' }`.
#[napi(object)]
pub struct NativeDataEvent {
    pub event: String,
}

enum Item {
    Message(bool, BytesMut),
    Event(DataEvent),
}

#[derive(Default)]
struct Queue {
    items: Vec<Item>,
    /// A call of the JS listener is on its way: it will take what is queued.
    scheduled: bool,
}

/// Everything queued, taken when the JS listener is called: an array of text messages
/// (strings), binary ones (Buffers) and events ([`NativeDataEvent`]), oldest first.
pub struct Batch(Arc<Mutex<Queue>>);

impl ToNapiValue for Batch {
    unsafe fn to_napi_value(env: sys::napi_env, batch: Self) -> napi::Result<sys::napi_value> {
        let items = match batch.0.lock() {
            Ok(mut q) => {
                q.scheduled = false;
                std::mem::take(&mut q.items)
            }
            Err(_) => Vec::new(),
        };
        let values: Vec<Either3<String, Buffer, NativeDataEvent>> = items
            .into_iter()
            .map(|item| match item {
                Item::Message(true, data) => Either3::A(match String::from_utf8(data.to_vec()) {
                    Ok(s) => s,
                    Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                }),
                Item::Message(false, data) => Either3::B(Buffer::from(Vec::from(data))),
                Item::Event(event) => Either3::C(NativeDataEvent {
                    event: event_name(event).to_owned(),
                }),
            })
            .collect();
        Vec::to_napi_value(env, values)
    }
}

fn event_name(event: DataEvent) -> &'static str {
    match event {
        DataEvent::Open => "open",
        DataEvent::BufferedAmountLow => "bufferedamountlow",
        DataEvent::Closed => "close",
        DataEvent::Error => "error",
    }
}

/// The channel's listener: queues, and calls JS when the queue was empty.
struct JsListener {
    queue: Arc<Mutex<Queue>>,
    callback: JsCallback<Batch>,
}

impl JsListener {
    fn push(&self, item: Item) {
        let call = match self.queue.lock() {
            Ok(mut q) => {
                q.items.push(item);
                !std::mem::replace(&mut q.scheduled, true)
            }
            Err(_) => false,
        };
        if call {
            self.callback.call(
                Batch(self.queue.clone()),
                ThreadsafeFunctionCallMode::NonBlocking,
            );
        }
    }
}

impl DataChannelListener for JsListener {
    fn message(&self, text: bool, data: BytesMut) {
        self.push(Item::Message(text, data));
    }
    fn event(&self, event: DataEvent) {
        self.push(Item::Event(event));
    }
}

enum Owner {
    Producer(Arc<DataProducer>),
    Consumer(Arc<DataConsumer>),
}

/// A DataProducer or DataConsumer (lib/DataProducer.js, lib/DataConsumer.js).
#[napi]
pub struct NativeDataChannel {
    owner: Owner,
    /// Kept alive as long as JS holds the channel, as a consumer keeps its transport.
    _transport: Arc<Transport>,
}

impl NativeDataChannel {
    pub fn producer(inner: Arc<DataProducer>, transport: Arc<Transport>) -> Self {
        NativeDataChannel {
            owner: Owner::Producer(inner),
            _transport: transport,
        }
    }

    pub fn consumer(inner: Arc<DataConsumer>, transport: Arc<Transport>) -> Self {
        NativeDataChannel {
            owner: Owner::Consumer(inner),
            _transport: transport,
        }
    }

    fn channel(&self) -> &DataChannel {
        match &self.owner {
            Owner::Producer(p) => p.channel(),
            Owner::Consumer(c) => c.channel(),
        }
    }
}

#[napi]
impl NativeDataChannel {
    /// The server DataProducer's or DataConsumer's id.
    #[napi(getter)]
    pub fn id(&self) -> String {
        match &self.owner {
            Owner::Producer(p) => p.id().to_owned(),
            Owner::Consumer(c) => c.id().to_owned(),
        }
    }

    /// The server DataProducer's id (a DataConsumer's); empty for a DataProducer.
    #[napi(getter)]
    pub fn data_producer_id(&self) -> String {
        match &self.owner {
            Owner::Producer(_) => String::new(),
            Owner::Consumer(c) => c.data_producer_id().to_owned(),
        }
    }

    #[napi(getter)]
    pub fn label(&self) -> String {
        match &self.owner {
            Owner::Producer(p) => p.label().to_owned(),
            Owner::Consumer(c) => c.label().to_owned(),
        }
    }

    #[napi(getter)]
    pub fn protocol(&self) -> String {
        match &self.owner {
            Owner::Producer(p) => p.protocol().to_owned(),
            Owner::Consumer(c) => c.protocol().to_owned(),
        }
    }

    #[napi(catch_unwind)]
    pub fn sctp_stream_parameters(&self) -> napi::Result<Value, Code> {
        match &self.owner {
            Owner::Producer(p) => json(p.sctp_stream_parameters()),
            Owner::Consumer(c) => json(c.sctp_stream_parameters()),
        }
    }

    /// `connecting`, `open` or `closed`.
    #[napi(getter)]
    pub fn ready_state(&self) -> &'static str {
        self.channel().ready_state().as_str()
    }

    #[napi(getter)]
    pub fn buffered_amount(&self) -> u32 {
        self.channel().buffered_amount().min(u32::MAX as usize) as u32
    }

    #[napi(catch_unwind)]
    pub fn set_buffered_amount_low_threshold(&self, threshold: u32) {
        self.channel().set_buffered_amount_low_threshold(threshold);
    }

    /// `callback(batch)` with what the channel reports from now on (and the messages received
    /// before); returns the ready state at that instant.
    #[napi(
        catch_unwind,
        ts_args_type = "callback: (batch: Array<string | Buffer | NativeDataEvent>) => void"
    )]
    pub fn listen(&self, callback: JsCallback<Batch>) -> &'static str {
        let listener = Arc::new(JsListener {
            queue: Arc::default(),
            callback,
        });
        self.channel().set_listener(listener).as_str()
    }

    /// Sends a text (string) or binary (Buffer) message; returns the buffered amount after it.
    #[napi(catch_unwind)]
    pub fn send(&self, data: Either<String, Buffer>) -> napi::Result<u32, Code> {
        let message = match data {
            Either::A(s) => OutgoingMessage::Text(s),
            Either::B(b) => OutgoingMessage::Binary(BytesMut::from(&b[..])),
        };
        self.channel()
            .send(message)
            .map(|n| n.min(u32::MAX as usize) as u32)
            .map_err(to_js)
    }

    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.channel().close();
    }
}
