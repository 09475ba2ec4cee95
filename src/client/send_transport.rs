//! SendTransport: one PeerConnection to one server WebRtcTransport, carrying producers.
//!
//! Producing takes the application's signalling twice (`connect` once, `produce` each time),
//! so it is three steps that the caller drives, one producer at a time per transport:
//! [`SendTransport::prepare_produce`] (offer; tells whether `connect` is due and with which
//! DTLS parameters), [`SendTransport::finish_produce`] (answer; gives the RTP parameters for
//! `produce`), then [`SendTransport::complete_produce`] with the server's producer id, or
//! [`SendTransport::abort_produce`] when the application refused.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use msc_handler::{HandlerOptions, IceServer, LocalAddresses, RtpWriter, SendHandler};
use msc_ortc::{
    extended::{get_sending_remote_rtp_parameters, get_sending_rtp_parameters, reduce_codecs},
    validate, DtlsParameters, DtlsRole, IceCandidate, IceParameters, MediaKind, RtpCodecCapability,
    RtpEncodingParameters, RtpParameters, SctpParameters,
};
use msc_sdp::{CodecOptions, RemoteSdp};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::device::Loaded;
use crate::error::{Error, Result};
use crate::producer::{Producer, ProducerOwner};

/// What `device.createSendTransport()` takes, after validation.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTransportOptions {
    pub id: String,
    pub ice_parameters: IceParameters,
    pub ice_candidates: Vec<IceCandidate>,
    pub dtls_parameters: DtlsParameters,
    #[serde(default)]
    pub sctp_parameters: Option<SctpParameters>,
    #[serde(default)]
    pub ice_servers: Vec<IceServerOption>,
    #[serde(default)]
    pub ice_transport_policy: Option<String>,
}

impl SendTransportOptions {
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

/// What `transport.produce()` asks for.
#[derive(Debug, Clone, Default)]
pub struct ProduceOptions {
    pub kind: Option<MediaKind>,
    pub encodings: Vec<RtpEncodingParameters>,
    pub codec_options: Option<CodecOptions>,
    pub codec: Option<RtpCodecCapability>,
}

/// What the caller must signal after [`SendTransport::prepare_produce`].
#[derive(Debug, Clone)]
pub struct Prepared {
    pub local_id: String,
    /// Some on the first produce: emit `connect` with these, then call `connected()`.
    pub connect: Option<DtlsParameters>,
}

struct Pending {
    kind: MediaKind,
    mid: String,
    offer_sdp: String,
    rtp_parameters: RtpParameters,
    remote_rtp_parameters: RtpParameters,
    codec_options: Option<CodecOptions>,
    writers: Vec<RtpWriter>,
    /// The remote SDP has the answer section of this producer's offer section.
    in_remote_sdp: bool,
}

impl Pending {
    /// Adds the answer section of this producer's offer section to `remote_sdp`.
    fn answer_into(&mut self, remote_sdp: &mut RemoteSdp) -> Result<()> {
        let offer = msc_sdp::parse_sdp(&self.offer_sdp)
            .map_err(|e| Error::other(format!("bad local offer: {e}")))?;
        let media = msc_sdp::media_by_mid(&offer, &self.mid)
            .ok_or_else(|| Error::other(format!("local offer lacks mid {}", self.mid)))?;
        if let Some(options) = &self.codec_options {
            options.apply_to_offer_parameters(&mut self.rtp_parameters);
        }
        self.rtp_parameters = validate::normalized_rtp_parameters(&self.rtp_parameters)?;
        remote_sdp
            .send(msc_sdp::SendParams {
                offer_media: media,
                reuse_mid: None,
                offer_rtp_parameters: &self.rtp_parameters,
                answer_rtp_parameters: &self.remote_rtp_parameters,
                codec_options: self.codec_options.as_ref(),
            })
            .map_err(|e| Error::other(format!("cannot build the answer: {e}")))?;
        self.in_remote_sdp = true;
        Ok(())
    }
}

struct State {
    remote_sdp: RemoteSdp,
    /// A remote answer was set (the PeerConnection has a remote description).
    answered: bool,
    connected: bool,
    connect_in_flight: bool,
    pending: HashMap<String, Pending>,
    /// local id -> (mid, producer)
    producers: HashMap<String, (String, Arc<Producer>)>,
}

pub struct SendTransport {
    id: String,
    loaded: Arc<Loaded>,
    handler: SendHandler,
    state: Mutex<State>,
    closed: AtomicBool,
    next_local_id: AtomicU64,
    runtime: tokio::runtime::Handle,
    me: Weak<SendTransport>,
}

impl SendTransport {
    pub async fn new(loaded: Arc<Loaded>, options: SendTransportOptions) -> Result<Arc<Self>> {
        let handler = SendHandler::new(HandlerOptions {
            ice_servers: options
                .ice_servers
                .iter()
                .cloned()
                .map(IceServer::from)
                .collect(),
            ice_transport_policy_relay: options.ice_transport_policy.as_deref() == Some("relay"),
            local_addresses: local_addresses(&options),
        })
        .await
        .map_err(|e| Error::other(format!("cannot create the PeerConnection: {e}")))?;
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
        // we are the DTLS client: the server's section says setup:passive
        remote_sdp.update_dtls_role(DtlsRole::Server);
        Ok(Arc::new_cyclic(|me| SendTransport {
            id: options.id,
            loaded,
            handler,
            state: Mutex::new(State {
                remote_sdp,
                answered: false,
                connected: false,
                connect_in_flight: false,
                pending: HashMap::new(),
                producers: HashMap::new(),
            }),
            closed: AtomicBool::new(false),
            next_local_id: AtomicU64::new(0),
            runtime: tokio::runtime::Handle::current(),
            me: me.clone(),
        }))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    fn check_open(&self) -> Result<()> {
        if self.closed() {
            Err(Error::invalid_state("closed"))
        } else {
            Ok(())
        }
    }

    pub fn on_connection_state(&self, f: Box<dyn Fn(&'static str) + Send + Sync>) {
        self.handler.on_connection_state(f);
    }

    /// Step 1 of produce: adds the sender and makes the offer.
    pub async fn prepare_produce(&self, options: ProduceOptions) -> Result<Prepared> {
        self.check_open()?;
        let kind = options
            .kind
            .ok_or_else(|| Error::type_error("missing track"))?;
        let can = match kind {
            MediaKind::Audio => self.loaded.can_produce_audio,
            MediaKind::Video => self.loaded.can_produce_video,
        };
        if !can {
            return Err(Error::unsupported(format!(
                "cannot produce {}",
                kind.as_str()
            )));
        }
        if kind == MediaKind::Audio && options.encodings.len() > 1 {
            return Err(Error::type_error(
                "audio producers take at most one encoding",
            ));
        }
        let mut rtp_parameters = get_sending_rtp_parameters(kind, &self.loaded.extended)?;
        let mut remote_rtp_parameters =
            get_sending_remote_rtp_parameters(kind, &self.loaded.extended)?;
        rtp_parameters.codecs = reduce_codecs(&rtp_parameters.codecs, options.codec.as_ref())?;
        // The answer lists the chosen codec first, then every other codec of the kind: webrtc-rs
        // fixes a PeerConnection's codecs of a kind from the first answer section of that kind
        // (its multi-codec negotiation is not public), so a later producer with another codec
        // on this transport would otherwise be refused. The server never sees the answer; what
        // it sees, `rtp_parameters`, carries the chosen codec only.
        let all_remote = std::mem::take(&mut remote_rtp_parameters.codecs);
        let mut answer_codecs = reduce_codecs(&all_remote, options.codec.as_ref())?;
        for codec in all_remote {
            if !answer_codecs
                .iter()
                .any(|c| c.payload_type == codec.payload_type)
            {
                answer_codecs.push(codec);
            }
        }
        remote_rtp_parameters.codecs = answer_codecs;

        let rids: Vec<String> = if options.encodings.len() > 1 {
            (0..options.encodings.len())
                .map(|i| format!("r{i}"))
                .collect()
        } else {
            vec![]
        };
        let offered = rtp_parameters
            .codecs
            .iter()
            .map(|c| RtpCodecCapability {
                kind,
                mime_type: c.mime_type.clone(),
                preferred_payload_type: Some(c.payload_type),
                clock_rate: c.clock_rate,
                channels: c.channels,
                parameters: c.parameters.clone(),
                rtcp_feedback: c.rtcp_feedback.clone(),
            })
            .collect();
        let sent = self
            .handler
            .send(kind, offered, rids.clone())
            .await
            .map_err(|e| Error::other(format!("cannot add the sender: {e}")))?;

        let offer = msc_sdp::parse_sdp(&sent.offer_sdp)
            .map_err(|e| Error::other(format!("bad local offer: {e}")))?;
        let media = msc_sdp::media_by_mid(&offer, &sent.mid)
            .ok_or_else(|| Error::other(format!("local offer lacks mid {}", sent.mid)))?;
        rtp_parameters.mid = Some(sent.mid.clone());
        rtp_parameters.rtcp.cname = msc_sdp::get_cname(media);
        rtp_parameters.encodings = if rids.is_empty() {
            let mut encodings = msc_sdp::get_rtp_encodings(media)
                .map_err(|e| Error::other(format!("local offer: {e}")))?;
            // an RTX SSRC only where an RTX codec was negotiated
            if !rtp_parameters
                .codecs
                .iter()
                .any(|c| c.mime_type.to_ascii_lowercase().ends_with("/rtx"))
            {
                encodings.iter_mut().for_each(|e| e.rtx = None);
            }
            if let (Some(first), Some(asked)) = (encodings.first_mut(), options.encodings.first()) {
                merge_encoding(first, asked);
            }
            encodings
        } else {
            options
                .encodings
                .iter()
                .zip(&rids)
                .map(|(asked, rid)| {
                    let mut e = RtpEncodingParameters {
                        rid: Some(rid.clone()),
                        ..Default::default()
                    };
                    merge_encoding(&mut e, asked);
                    e
                })
                .collect()
        };

        let mut state = self.state.lock().await;
        // close() clears the pending producers under this lock: none may be added after it
        self.check_open()?;
        let connect = if !state.connected && !state.connect_in_flight {
            let mut dtls = msc_sdp::extract_dtls_parameters(&offer)
                .map_err(|e| Error::other(format!("no DTLS parameters in the local offer: {e}")))?;
            dtls.role = Some(DtlsRole::Client);
            state.connect_in_flight = true;
            Some(dtls)
        } else {
            None
        };
        let local_id = self
            .next_local_id
            .fetch_add(1, Ordering::Relaxed)
            .to_string();
        state.pending.insert(
            local_id.clone(),
            Pending {
                kind,
                mid: sent.mid,
                offer_sdp: sent.offer_sdp,
                rtp_parameters,
                remote_rtp_parameters,
                codec_options: options.codec_options,
                writers: sent.writers,
                in_remote_sdp: false,
            },
        );
        Ok(Prepared { local_id, connect })
    }

    /// The application's `connect` succeeded (or failed: `ok` false lets a later produce retry).
    pub async fn connected(&self, ok: bool) {
        let mut state = self.state.lock().await;
        state.connect_in_flight = false;
        state.connected = ok;
    }

    /// Step 2 of produce: sets the answer; returns the RTP parameters to signal.
    pub async fn finish_produce(&self, local_id: &str) -> Result<(MediaKind, RtpParameters)> {
        self.check_open()?;
        let mut state = self.state.lock().await;
        let State {
            remote_sdp,
            pending,
            answered,
            ..
        } = &mut *state;
        let p = pending
            .get_mut(local_id)
            .ok_or_else(|| Error::invalid_state("no such pending produce"))?;
        p.answer_into(remote_sdp)?;
        let answer = remote_sdp.get_sdp();
        self.handler
            .set_remote_answer(answer)
            .await
            .map_err(|e| Error::other(format!("the answer was refused: {e}")))?;
        *answered = true;
        Ok((p.kind, p.rtp_parameters.clone()))
    }

    /// Step 3 of produce: the server created producer `id`.
    pub async fn complete_produce(&self, local_id: &str, id: String) -> Result<Arc<Producer>> {
        let mut state = self.state.lock().await;
        let p = state
            .pending
            .remove(local_id)
            .ok_or_else(|| Error::invalid_state("no such pending produce"))?;
        if self.closed() {
            return Err(Error::invalid_state("closed"));
        }
        let owner: Weak<dyn ProducerOwner> = self.me.clone();
        let producer = Producer::new(
            id,
            local_id.to_string(),
            p.kind,
            p.rtp_parameters,
            p.writers,
            owner,
        )?;
        state
            .producers
            .insert(local_id.to_string(), (p.mid, producer.clone()));
        Ok(producer)
    }

    /// The application refused (or a step failed): stop sending what was prepared.
    ///
    /// An offer section whose producer never reached `finish_produce` (its `connect` was
    /// refused) gets its answer section now, to be closed with it: every later answer must have
    /// one section per section of the offer, in the offer's order, and the offer keeps this one.
    pub async fn abort_produce(&self, local_id: &str) {
        let mid = {
            let mut state = self.state.lock().await;
            let Some(mut p) = state.pending.remove(local_id) else {
                return;
            };
            if !p.in_remote_sdp {
                if let Err(e) = p.answer_into(&mut state.remote_sdp) {
                    tracing::warn!("abort produce {}: {e}", p.mid);
                }
            }
            p.mid
        };
        self.stop_sending(&mid).await;
    }

    async fn stop_sending(&self, mid: &str) {
        if self.closed() {
            return;
        }
        let mut state = self.state.lock().await;
        match self.handler.stop_sending(mid).await {
            Ok(_offer) => {
                if let Err(e) = state.remote_sdp.close_media_section(mid) {
                    tracing::warn!("stop sending {mid}: {e}");
                }
                // Before any answer, none is set here: a first answer would start ICE and DTLS
                // towards a server that was never connected. The next produce's answer covers
                // the closed section.
                if state.answered {
                    let answer = state.remote_sdp.get_sdp();
                    if let Err(e) = self.handler.set_remote_answer(answer).await {
                        tracing::warn!("stop sending {mid}: answer refused: {e}");
                    }
                }
            }
            Err(e) => tracing::warn!("stop sending {mid}: {e}"),
        }
    }

    pub async fn get_stats(&self) -> Result<Value> {
        self.check_open()?;
        self.handler
            .transport_stats()
            .await
            .map_err(|e| Error::other(e.to_string()))
    }

    pub async fn producer_stats(&self, local_id: &str) -> Result<Value> {
        let mid = {
            let state = self.state.lock().await;
            state.producers.get(local_id).map(|(mid, _)| mid.clone())
        };
        let mid = mid.ok_or_else(|| Error::invalid_state("closed"))?;
        self.handler
            .sender_stats(&mid)
            .await
            .map_err(|e| Error::other(e.to_string()))
    }

    /// ICE restart with the server's new ICE parameters.
    pub async fn restart_ice(&self, mut ice_parameters: Value) -> Result<()> {
        self.check_open()?;
        let ice: IceParameters = {
            validate::validate_ice_parameters(&mut ice_parameters)?;
            serde_json::from_value(ice_parameters).map_err(|e| Error::type_error(e.to_string()))?
        };
        let mut state = self.state.lock().await;
        state.remote_sdp.update_ice_parameters(ice);
        if !state.connected && state.producers.is_empty() {
            return Ok(());
        }
        self.handler
            .restart_ice_offer()
            .await
            .map_err(|e| Error::other(e.to_string()))?;
        let answer = state.remote_sdp.get_sdp();
        self.handler
            .set_remote_answer(answer)
            .await
            .map_err(|e| Error::other(e.to_string()))?;
        state.answered = true;
        Ok(())
    }

    /// `transport.updateIceServers({ iceServers })`: validated (TypeError), then given to the
    /// PeerConnection; they are used from the next ICE restart on.
    pub async fn update_ice_servers(&self, ice_servers: Value) -> Result<()> {
        self.check_open()?;
        let servers = parse_ice_servers(ice_servers)?;
        self.handler
            .update_ice_servers(servers)
            .await
            .map_err(|e| match e {
                msc_handler::HandlerError::InvalidArgument(m) => Error::type_error(m),
                msc_handler::HandlerError::InvalidState(_) => Error::invalid_state("closed"),
                other => Error::other(other.to_string()),
            })
    }

    /// Closes the transport and its producers; returns the producers that were live.
    pub async fn close(&self) -> Vec<Arc<Producer>> {
        if self.closed.swap(true, Ordering::Relaxed) {
            return vec![];
        }
        let producers: Vec<_> = {
            let mut state = self.state.lock().await;
            state.pending.clear();
            state.producers.drain().map(|(_, (_, p))| p).collect()
        };
        for p in &producers {
            p.transport_closed();
        }
        self.handler.close().await;
        producers
    }
}

impl ProducerOwner for SendTransport {
    fn producer_closed(&self, local_id: &str) {
        let Some(me) = self.me.upgrade() else { return };
        let local_id = local_id.to_string();
        self.runtime.spawn(async move {
            let mid = me
                .state
                .lock()
                .await
                .producers
                .remove(&local_id)
                .map(|(mid, _)| mid);
            if let Some(mid) = mid {
                me.stop_sending(&mid).await;
            }
        });
    }
}

/// Copies what the application asked of an encoding onto one taken from the SDP.
fn merge_encoding(into: &mut RtpEncodingParameters, asked: &RtpEncodingParameters) {
    into.max_bitrate = asked.max_bitrate.or(into.max_bitrate);
    into.max_framerate = asked.max_framerate.or(into.max_framerate);
    into.scale_resolution_down_by = asked
        .scale_resolution_down_by
        .or(into.scale_resolution_down_by);
    into.scalability_mode = asked
        .scalability_mode
        .clone()
        .or(into.scalability_mode.take());
    into.dtx = asked.dtx.or(into.dtx);
    into.active = asked.active.or(into.active);
    into.priority = asked.priority.clone().or(into.priority.take());
    into.network_priority = asked
        .network_priority
        .clone()
        .or(into.network_priority.take());
    into.adaptive_ptime = asked.adaptive_ptime.or(into.adaptive_ptime);
}

/// Where the transport's sockets listen: loopback for a server whose candidates are all
/// loopback (a mediasoup on this machine), every interface for any other server (including one
/// announcing host names). STUN/TURN servers, when given, are reached from the same sockets.
fn local_addresses(options: &SendTransportOptions) -> LocalAddresses {
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
    use crate::error::Kind;
    use serde_json::json;

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
            serde_json::from_value::<SendTransportOptions>(json!({
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
            assert_eq!(err.kind, Kind::Type, "{bad}: {err}");
        }
    }
}
