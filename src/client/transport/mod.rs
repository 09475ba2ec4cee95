//! Transport: one PeerConnection to one server WebRtcTransport, as mediasoup-client's
//! Transport. What every direction shares lives here: the options, ICE servers, connecting
//! once, restartIce, updateIceServers, stats, close, and the operation queue. What a direction
//! adds lives beside it: `send.rs` (produce).
//!
//! Each operation is owned here end to end: it takes its place in the queue when called, runs
//! alone, asks the application through a listener ([`TransportListener`], [`SendListener`])
//! and awaits its answers. close() settles every running and queued operation at once with an
//! InvalidStateError.

mod data;
mod engine;
#[cfg(any(test, feature = "test-hooks"))]
pub mod fake_engine;
mod listener;
mod queue;
mod recv;
mod send;
#[cfg(test)]
mod tests_flow;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use msc_handler::{HandlerOptions, IceServer, LocalAddresses, RecvHandler, SendHandler};
use msc_ortc::{validate, DtlsParameters, DtlsRole, IceCandidate, IceParameters, SctpParameters};
use msc_sdp::RemoteSdp;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::{watch, Mutex};

use crate::consumer::Consumer;
use crate::device::Loaded;
use crate::error::{Error, Result};
use crate::producer::Producer;
use data::DataEndpoint;
use msc_handler::DataChannelId;

pub use data::{ConsumeDataOptions, ProduceDataOptions, SCTP_STREAMS};
pub use engine::{Engine, EngineFuture};
pub use listener::{Answer, DataSendListener, SendListener, TransportListener};
use queue::OperationQueue;
pub use recv::ConsumeOptions;
pub use send::ProduceOptions;

/// Which way media flows on a transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The client sends media to the server (producers).
    Send,
    /// The server sends media to the client (consumers).
    Recv,
}

impl Direction {
    /// `send` or `recv`, as mediasoup-client's `transport.direction`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Send => "send",
            Direction::Recv => "recv",
        }
    }
}

/// What `device.createSendTransport()` and `createRecvTransport()` take, after validation.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransportOptions {
    /// The server transport's id (never empty).
    pub id: String,
    /// The server's ICE username fragment and password (mediasoup is ICE-lite).
    pub ice_parameters: IceParameters,
    /// The server's ICE candidates; their addresses also choose the local addresses bound
    /// (see [`LocalAddresses::for_remote`]).
    pub ice_candidates: Vec<IceCandidate>,
    /// The server's DTLS role and certificate fingerprints; at least one fingerprint must use
    /// an algorithm this client verifies.
    pub dtls_parameters: DtlsParameters,
    /// The server's SCTP parameters when it enabled data channels.
    #[serde(default)]
    pub sctp_parameters: Option<SctpParameters>,
    /// STUN/TURN servers; none by default (mediasoup needs none).
    #[serde(default)]
    pub ice_servers: Vec<IceServerOption>,
    /// `all` (the default, also when absent) or `relay` (TURN relay candidates only).
    #[serde(default)]
    pub ice_transport_policy: Option<String>,
}

impl TransportOptions {
    /// Validates the options a server handed over (a TypeError names the bad field).
    pub fn from_json(mut value: Value) -> Result<Self> {
        let obj = value
            .as_object_mut()
            .ok_or_else(|| Error::type_error("missing transport options"))?;
        match obj.get("id") {
            Some(Value::String(s)) if !s.is_empty() => {}
            _ => return Err(Error::type_error("missing id")),
        }
        validate::validate_ice_parameters(
            obj.get_mut("iceParameters").unwrap_or(&mut Value::Null),
        )?;
        validate::validate_ice_candidates(
            obj.get_mut("iceCandidates").unwrap_or(&mut Value::Null),
        )?;
        check_udp_candidate(&obj["iceCandidates"])?;
        validate::validate_dtls_parameters(
            obj.get_mut("dtlsParameters").unwrap_or(&mut Value::Null),
        )?;
        if let Some(sctp) = obj.get_mut("sctpParameters") {
            if !sctp.is_null() {
                validate::validate_sctp_parameters(sctp)?;
            }
        }
        if let Some(servers) = obj.get("iceServers") {
            if !servers.is_null() {
                parse_ice_servers(servers.clone())?;
            }
        }
        if let Some(policy) = obj.get("iceTransportPolicy") {
            if !matches!(policy.as_str(), Some("all") | Some("relay")) && !policy.is_null() {
                return Err(Error::type_error(
                    "invalid iceTransportPolicy (expected 'all' or 'relay')",
                ));
            }
        }
        serde_json::from_value(value)
            .map_err(|e| Error::type_error(format!("invalid transport options: {e}")))
    }
}

/// The connection reaches the server over UDP only (ICE-TCP is not implemented): a server
/// transport that offers candidates, none of them UDP, cannot be reached, and is an
/// `UnsupportedError` at once rather than a transport that fails after its ICE timeout.
fn check_udp_candidate(candidates: &Value) -> Result<()> {
    let Some(candidates) = candidates.as_array() else {
        return Ok(());
    };
    let udp = candidates.iter().any(|c| {
        c["protocol"]
            .as_str()
            .is_some_and(|p| p.eq_ignore_ascii_case("udp"))
    });
    if candidates.is_empty() || udp {
        return Ok(());
    }
    Err(Error::unsupported(
        "the server's transport offers no UDP candidate (only TCP): this client reaches \
         mediasoup over UDP only; enable UDP on the server's WebRtcTransport",
    ))
}

/// An RTCIceServer as JS gives it: `urls` is a string or an array of strings.
#[derive(Debug, Clone, Deserialize)]
pub struct IceServerOption {
    urls: Urls,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    credential: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Urls {
    One(String),
    Many(Vec<String>),
}

impl From<IceServerOption> for IceServer {
    fn from(o: IceServerOption) -> Self {
        let urls = match o.urls {
            Urls::One(u) => vec![u],
            Urls::Many(v) => v,
        };
        IceServer {
            urls,
            username: o.username,
            credential: o.credential,
        }
    }
}

/// `iceServers` as JS gives them (an array of RTCIceServer), checked as
/// `RTCPeerConnection.setConfiguration()` does; every problem is a TypeError naming the entry.
pub fn parse_ice_servers(value: Value) -> Result<Vec<IceServer>> {
    let Value::Array(list) = value else {
        return Err(Error::type_error("iceServers must be an array"));
    };
    let mut servers = Vec::with_capacity(list.len());
    for (i, entry) in list.into_iter().enumerate() {
        let Some(obj) = entry.as_object() else {
            return Err(Error::type_error(format!(
                "iceServers[{i}] must be an object"
            )));
        };
        let urls_ok = match obj.get("urls") {
            Some(Value::String(_)) => true,
            Some(Value::Array(urls)) => !urls.is_empty() && urls.iter().all(Value::is_string),
            _ => false,
        };
        if !urls_ok {
            return Err(Error::type_error(format!(
                "iceServers[{i}].urls must be a string or a non-empty array of strings"
            )));
        }
        for field in ["username", "credential"] {
            if !matches!(
                obj.get(field),
                None | Some(Value::Null) | Some(Value::String(_))
            ) {
                return Err(Error::type_error(format!(
                    "iceServers[{i}].{field} must be a string"
                )));
            }
        }
        let option: IceServerOption = serde_json::from_value(entry)
            .map_err(|e| Error::type_error(format!("iceServers[{i}]: {e}")))?;
        servers.push(IceServer::from(option));
    }
    msc_handler::validate_ice_servers(&servers).map_err(|e| match e {
        msc_handler::HandlerError::InvalidArgument(m) => Error::type_error(m),
        other => Error::type_error(other.to_string()),
    })?;
    Ok(servers)
}

struct State {
    remote_sdp: RemoteSdp,
    /// A remote answer was set (the PeerConnection has a remote description).
    answered: bool,
    /// The application's `connect` succeeded.
    connected: bool,
    /// local id (the transceiver's mid) -> producer
    producers: HashMap<String, Arc<Producer>>,
    /// local id (the offer section's mid) -> consumer
    consumers: HashMap<String, Arc<Consumer>>,
    /// The probator's section is in the remote offer.
    probator: bool,
    /// Sections of closed consumers, still open, for the next consumers of their kind (see
    /// `recv.rs`).
    free_sections: Vec<(String, msc_ortc::MediaKind)>,
    /// For consumers whose RTP parameters have no mid.
    next_local_id: u64,
    /// The data producers and consumers, by their channel.
    data: HashMap<DataChannelId, DataEndpoint>,
    /// Where the next data producer's stream id search starts.
    next_stream_id: u16,
    /// The remote offer has the data section (receiving).
    data_section: bool,
}

/// One PeerConnection to one server WebRtcTransport (mediasoup-client's `Transport`). Shared as
/// an `Arc`; its operations run one at a time in call order, and all of them fail with
/// InvalidStateError once it is closed.
pub struct Transport {
    id: String,
    direction: Direction,
    loaded: Arc<Loaded>,
    /// The server's SCTP parameters: data channels are possible.
    sctp: Option<SctpParameters>,
    handler: Box<dyn Engine>,
    state: Mutex<State>,
    queue: OperationQueue,
    /// true once close() was called; operations waiting on it settle at once
    closed: watch::Sender<bool>,
    closed_flag: AtomicBool,
    runtime: tokio::runtime::Handle,
    me: Weak<Transport>,
}

impl Transport {
    /// A send transport.
    pub async fn new_send(loaded: Arc<Loaded>, options: TransportOptions) -> Result<Arc<Self>> {
        Self::new(Direction::Send, loaded, options).await
    }

    /// A receive transport.
    pub async fn new_recv(loaded: Arc<Loaded>, options: TransportOptions) -> Result<Arc<Self>> {
        Self::new(Direction::Recv, loaded, options).await
    }

    async fn new(
        direction: Direction,
        loaded: Arc<Loaded>,
        options: TransportOptions,
    ) -> Result<Arc<Self>> {
        let handler_options = HandlerOptions {
            ice_servers: options
                .ice_servers
                .iter()
                .cloned()
                .map(IceServer::from)
                .collect(),
            ice_transport_policy_relay: options.ice_transport_policy.as_deref() == Some("relay"),
            local_addresses: local_addresses(&options),
            data_channels: options.sctp_parameters.is_some(),
        };
        let failed = |e| match e {
            msc_handler::HandlerError::Unsupported(m) => Error::Unsupported(m),
            e => Error::other(format!("cannot create the PeerConnection: {e}")),
        };
        let handler: Box<dyn Engine> = match direction {
            Direction::Send => Box::new(SendHandler::new(handler_options).await.map_err(failed)?),
            Direction::Recv => {
                // a round's frames reach the program with one wake-up of its thread
                msc_handler::set_round_scope(msc_media::defer_wakes);
                Box::new(RecvHandler::new(handler_options).await.map_err(failed)?)
            }
        };
        Self::with_engine(direction, loaded, options, handler)
    }

    /// A transport over `engine` (the product's is a PeerConnection; tests give a fake).
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn new_with_engine(
        direction: Direction,
        loaded: Arc<Loaded>,
        options: TransportOptions,
        engine: Box<dyn Engine>,
    ) -> Result<Arc<Self>> {
        Self::with_engine(direction, loaded, options, engine)
    }

    fn with_engine(
        direction: Direction,
        loaded: Arc<Loaded>,
        options: TransportOptions,
        handler: Box<dyn Engine>,
    ) -> Result<Arc<Self>> {
        let mut server_dtls = options.dtls_parameters.clone();
        server_dtls.fingerprints.retain(|f| {
            msc_handler::VERIFIABLE_FINGERPRINT_ALGORITHMS
                .contains(&f.algorithm.to_ascii_lowercase().as_str())
        });
        if server_dtls.fingerprints.is_empty() {
            return Err(Error::unsupported(format!(
                "dtlsParameters has no fingerprint with an algorithm this client verifies ({})",
                msc_handler::VERIFIABLE_FINGERPRINT_ALGORITHMS.join(", ")
            )));
        }
        let mut remote_sdp = RemoteSdp::new(
            options.ice_parameters.clone(),
            options.ice_candidates.clone(),
            server_dtls,
            options.sctp_parameters,
        )
        .map_err(|e| Error::type_error(e.to_string()))?;
        // We are the DTLS client. Sending, the server answers: its sections say setup:passive.
        // Receiving, the server offers: setup:actpass (its role `auto`), and the answer makes
        // us the client.
        if direction == Direction::Send {
            remote_sdp.update_dtls_role(DtlsRole::Server);
        }
        Ok(Arc::new_cyclic(|me| Transport {
            id: options.id,
            sctp: options.sctp_parameters,
            direction,
            loaded,
            handler,
            state: Mutex::new(State {
                remote_sdp,
                answered: false,
                connected: false,
                producers: HashMap::new(),
                consumers: HashMap::new(),
                probator: false,
                free_sections: Vec::new(),
                next_local_id: 0,
                data: HashMap::new(),
                next_stream_id: 0,
                data_section: false,
            }),
            queue: OperationQueue::default(),
            closed: watch::channel(false).0,
            closed_flag: AtomicBool::new(false),
            runtime: tokio::runtime::Handle::current(),
            me: me.clone(),
        }))
    }

    /// The server transport's id, from [`TransportOptions::id`].
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Which way media flows, fixed at creation.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Whether [`Transport::close`] was called; a transport never reopens.
    pub fn closed(&self) -> bool {
        self.closed_flag.load(Ordering::Relaxed)
    }

    fn check_open(&self) -> Result<()> {
        if self.closed() {
            Err(Error::invalid_state("closed"))
        } else {
            Ok(())
        }
    }

    /// Sets (replaces) the callback of the PeerConnection's state changes (`new`,
    /// `connecting`, `connected`, `disconnected`, `failed`, `closed`: mediasoup-client's
    /// `connectionstatechange`). Called on the connection's tasks: it must return quickly.
    pub fn on_connection_state(&self, f: Box<dyn Fn(&'static str) + Send + Sync>) {
        self.handler.on_connection_state(f);
    }

    /// Runs `op` as an operation of this transport: after every operation called before it,
    /// alone. The place in the queue is taken now; the returned future does the rest. It
    /// settles with InvalidStateError as soon as the transport closes (`op` is then dropped
    /// where it stands: close() has released what it held).
    fn operation<T, F>(&self, op: F) -> impl Future<Output = Result<T>> + Send + 'static
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        let mut turn = self.queue.reserve();
        let mut closed = self.closed.subscribe();
        let me = self.me.clone();
        async move {
            let run = async move {
                turn.wait().await;
                if me.upgrade().is_none_or(|t| t.closed()) {
                    return Err(Error::invalid_state("closed"));
                }
                let result = op.await;
                drop(turn);
                result
            };
            tokio::select! {
                biased;
                _ = closed.wait_for(|closed| *closed) => Err(Error::invalid_state("closed")),
                result = run => result,
            }
        }
    }

    /// Connects the server transport once, before the first media: asks the application's
    /// `connect` with the DTLS parameters of `local_sdp` (our offer, or our answer when
    /// receiving; the client is the DTLS client). A refusal leaves the transport unconnected:
    /// the next operation asks again.
    async fn connect_once(&self, local_sdp: &str, listener: &dyn TransportListener) -> Result<()> {
        if self.state.lock().await.connected {
            return Ok(());
        }
        let local = msc_sdp::parse_sdp(local_sdp)
            .map_err(|e| Error::other(format!("bad local description: {e}")))?;
        let mut dtls: DtlsParameters = msc_sdp::extract_dtls_parameters(&local).map_err(|e| {
            Error::other(format!("no DTLS parameters in the local description: {e}"))
        })?;
        dtls.role = Some(DtlsRole::Client);
        self.connect_with(dtls, listener).await
    }

    /// Connects the server transport once with `dtls` (see [`Transport::connect_once`]).
    async fn connect_with(
        &self,
        dtls: DtlsParameters,
        listener: &dyn TransportListener,
    ) -> Result<()> {
        if self.state.lock().await.connected {
            return Ok(());
        }
        listener.connect(dtls).await?;
        self.check_open()?;
        self.state.lock().await.connected = true;
        Ok(())
    }

    /// `transport.getStats()`: the transport's W3C stats (an operation).
    pub fn get_stats(self: &Arc<Self>) -> impl Future<Output = Result<Value>> + Send + 'static {
        let me = self.clone();
        self.operation(async move { me.handler.transport_stats().await.map_err(Error::from) })
    }

    /// ICE restart with the server's new ICE parameters (an operation).
    pub fn restart_ice(
        self: &Arc<Self>,
        mut ice_parameters: Value,
    ) -> impl Future<Output = Result<()>> + Send + 'static {
        let me = self.clone();
        let ice = validate::validate_ice_parameters(&mut ice_parameters)
            .map_err(Error::from)
            .and_then(|_| {
                serde_json::from_value::<IceParameters>(ice_parameters)
                    .map_err(|e| Error::type_error(e.to_string()))
            });
        self.operation(async move {
            let ice = ice?;
            let mut state = me.state.lock().await;
            state.remote_sdp.update_ice_parameters(ice);
            if !state.connected && state.producers.is_empty() && state.consumers.is_empty() {
                return Ok(());
            }
            if me.direction == Direction::Recv {
                let offer = state.remote_sdp.get_sdp();
                let answer = me.handler.answer(offer).await.map_err(Error::from)?;
                return me
                    .handler
                    .set_local_answer(answer)
                    .await
                    .map_err(Error::from);
            }
            me.handler.restart_ice_offer().await.map_err(Error::from)?;
            let answer = state.remote_sdp.get_sdp();
            me.handler
                .set_remote_answer(answer)
                .await
                .map_err(Error::from)?;
            state.answered = true;
            Ok(())
        })
    }

    /// `transport.updateIceServers({ iceServers })` (an operation): validated (TypeError),
    /// then given to the PeerConnection; they are used from the next ICE restart on.
    pub fn update_ice_servers(
        self: &Arc<Self>,
        ice_servers: Value,
    ) -> impl Future<Output = Result<()>> + Send + 'static {
        let me = self.clone();
        let servers = parse_ice_servers(ice_servers);
        self.operation(async move {
            me.handler
                .update_ice_servers(servers?)
                .await
                .map_err(Error::from)
        })
    }

    /// Closes the transport, its producers and consumers: every running and queued operation
    /// settles with InvalidStateError. Returns the local ids of the producers and consumers
    /// that were live.
    pub async fn close(&self) -> Vec<String> {
        if self.closed_flag.swap(true, Ordering::Relaxed) {
            return vec![];
        }
        self.closed.send_replace(true);
        let (producers, consumers): (Vec<_>, Vec<_>) = {
            let mut state = self.state.lock().await;
            for (_, endpoint) in state.data.drain() {
                endpoint.channel().transport_closed();
            }
            (
                state.producers.drain().map(|(_, p)| p).collect(),
                state.consumers.drain().map(|(_, c)| c).collect(),
            )
        };
        for p in &producers {
            p.transport_closed();
        }
        for c in &consumers {
            c.transport_closed();
        }
        self.handler.close().await;
        producers
            .iter()
            .map(|p| p.local_id().to_owned())
            .chain(consumers.iter().map(|c| c.local_id().to_owned()))
            .collect()
    }
}

/// Where the transport's sockets listen: loopback for a server whose candidates are all
/// loopback (a mediasoup on this machine), every interface for any other server (including one
/// announcing host names). STUN/TURN servers, when given, are reached from the same sockets.
fn local_addresses(options: &TransportOptions) -> LocalAddresses {
    LocalAddresses::for_remote(
        options
            .ice_candidates
            .iter()
            .filter_map(|c| c.address.parse::<std::net::IpAddr>().ok()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_server_with_no_udp_candidate_is_unsupported() {
        let options = |protocols: &[&str]| {
            let candidates: Vec<Value> = protocols
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    json!({ "foundation": "f", "priority": 1, "address": "127.0.0.1",
                            "protocol": p, "port": 40000 + i, "type": "host" })
                })
                .collect();
            TransportOptions::from_json(json!({
                "id": "t",
                "iceParameters": { "usernameFragment": "u", "password": "p", "iceLite": true },
                "iceCandidates": candidates,
                "dtlsParameters": { "role": "auto", "fingerprints": [
                    { "algorithm": "sha-256", "value": "AB:CD" }] },
            }))
        };
        match options(&["tcp"]) {
            Err(Error::Unsupported(message)) => assert!(message.contains("UDP"), "{message}"),
            other => panic!("expected an UnsupportedError, got {other:?}"),
        }
        assert!(options(&["tcp", "udp"]).is_ok());
        assert!(options(&["udp"]).is_ok());
    }

    #[test]
    fn sockets_listen_where_the_server_can_be_reached() {
        let options = |addresses: &[&str]| {
            let candidates: Vec<Value> = addresses
                .iter()
                .map(|a| {
                    json!({ "foundation": "f", "priority": 1, "address": a, "protocol": "udp",
                            "port": 40000, "type": "host" })
                })
                .collect();
            serde_json::from_value::<TransportOptions>(json!({
                "id": "t",
                "iceParameters": { "usernameFragment": "u", "password": "p", "iceLite": true },
                "iceCandidates": candidates,
                "dtlsParameters": { "role": "auto", "fingerprints": [] },
            }))
            .unwrap()
        };
        let local = |a: &[&str]| local_addresses(&options(a));
        assert_eq!(local(&["127.0.0.1"]), LocalAddresses::Loopback);
        assert_eq!(local(&["::1", "127.0.0.1"]), LocalAddresses::Loopback);
        // a server on another machine: every interface (not loopback only, which cannot reach it)
        assert_eq!(local(&["192.0.2.10"]), LocalAddresses::AllInterfaces);
        assert_eq!(
            local(&["127.0.0.1", "2001:db8::1"]),
            LocalAddresses::AllInterfaces
        );
        assert_eq!(local(&["sfu.example.org"]), LocalAddresses::AllInterfaces);
    }

    #[test]
    fn ice_servers_as_js_gives_them() {
        let servers = parse_ice_servers(json!([
            { "urls": "stun:127.0.0.1:3478" },
            { "urls": ["turn:127.0.0.1?transport=udp", "turns:127.0.0.1"], "username": "u", "credential": "c" },
        ]))
        .unwrap();
        assert_eq!(servers[0].urls, ["stun:127.0.0.1:3478"]);
        assert_eq!(servers[1].urls.len(), 2);
        assert_eq!(servers[1].username.as_deref(), Some("u"));
        assert!(parse_ice_servers(json!([])).unwrap().is_empty());
    }

    #[test]
    fn bad_ice_servers_are_type_errors() {
        for bad in [
            json!(null),
            json!("stun:127.0.0.1"),
            json!([1]),
            json!([{}]),
            json!([{ "urls": [] }]),
            json!([{ "urls": [1] }]),
            json!([{ "urls": "stun:127.0.0.1", "credential": 1 }]),
            json!([{ "urls": "ftp:127.0.0.1" }]),
            json!([{ "urls": "turn:127.0.0.1" }]),
        ] {
            let err = parse_ice_servers(bad.clone()).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{bad}: {err}");
        }
    }
}
