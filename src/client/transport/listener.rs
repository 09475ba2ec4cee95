//! What a transport asks of the application during an operation: its signalling with the
//! server. The client calls these and awaits the answers; an `Err` is the application's refusal
//! (its message is kept, and the operation fails with it).

use std::future::Future;
use std::pin::Pin;

use msc_ortc::{DtlsParameters, MediaKind, RtpParameters};
use serde_json::Value;

use crate::error::Result;

/// The application's answer to a request: `Err` is its refusal, kept as the operation's error.
pub type Answer<T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'static>>;

/// The server object's id in an application's answer (`{ id }`, a non-empty string), or a
/// TypeError naming the `event` that gave something else.
pub(super) fn answered_id(answer: &Value, event: &str, what: &str) -> Result<String> {
    match answer.get("id") {
        Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
        _ => Err(crate::error::Error::type_error(format!(
            "the \"{event}\" callback must be given {{ id }} (the server {what} id)"
        ))),
    }
}

/// Asked by every direction: `connect` once, before the first media of the transport.
pub trait TransportListener: Send + Sync {
    /// The server transport must be connected with these (the client's) DTLS parameters.
    fn connect(&self, dtls_parameters: DtlsParameters) -> Answer<()>;
}

/// Asked by a send transport for each data producer.
pub trait DataSendListener: TransportListener {
    /// The server must create a data producer with `{ sctpStreamParameters, label, protocol }`;
    /// the answer is what the application's `producedata` callback gave (`{ id }`).
    fn produce_data(&self, params: Value) -> Answer<Value>;
}

/// Asked by a send transport for each producer.
pub trait SendListener: TransportListener {
    /// The server must create a producer with these RTP parameters; the answer is what the
    /// application's `produce` callback gave (`{ id }`, the server producer id).
    fn produce(&self, kind: MediaKind, rtp_parameters: RtpParameters) -> Answer<Value>;
}
