//! [`SendHandler`]: the PeerConnection of a send transport.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_RTX;
use rtc::peer_connection::configuration::RTCOfferOptions;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters, RTCRtpRtxParameters,
    RtpCodecKind,
};
use rtc::rtp_transceiver::RTCRtpSenderId;
use tokio::sync::watch;
use webrtc::peer_connection::StatsSelector;
use webrtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};

use super::feedback::{dispatch_keyframe_requests, Feedback, WriterRegistry};
use super::writer::{RtpWriter, WriterState};
use crate::connection::data::DataChannels;
use crate::connection::driver::{AddedTransceiver, Transceiver};
use crate::connection::inbound::Discard;
use crate::connection::setup::{self, validate_ice_servers};
use crate::connection::stats;
use crate::connection::transport::Transport;
use crate::error::HandlerError;
use crate::options::{HandlerOptions, IceServer};
use msc_ortc::types::{MediaKind, RtpCodecCapability};

/// What [`SendHandler::send`] created.
#[derive(Debug, Clone)]
pub struct SendResult {
    /// The MID of the new transceiver's m-section.
    pub mid: String,
    /// The local offer (already set as local description), to build the answer from.
    pub offer_sdp: String,
    /// One writer per encoding, in the order of the `rids` given (lowest layer first).
    pub writers: Vec<RtpWriter>,
}

struct SenderEntry {
    transceiver: Box<dyn Transceiver>,
    sender: RTCRtpSenderId,
    writers: Vec<Arc<WriterState>>,
}

/// One PeerConnection, ICE controlling (mediasoup is ICE-lite), sending only.
///
/// Operations are serialized internally (one at a time), as mediasoup-client's transport queue
/// does; the client should still not interleave an offer/answer exchange with another.
pub struct SendHandler {
    pub(crate) transport: Transport,
    writers: Arc<WriterRegistry>,
    /// The sending transceivers by mid; its lock serializes the handler's operations.
    senders: tokio::sync::Mutex<HashMap<String, SenderEntry>>,
    dispatcher: tokio::task::JoinHandle<()>,
    ids: AtomicU64,
    /// The last offer set as local description.
    last_offer: std::sync::Mutex<Option<String>>,
    /// One media stream id for every track: webrtc-rs writes it as the `a=ssrc:... cname:` of
    /// every SSRC, so all producers of a transport share one CNAME, as in a browser.
    cname: String,
}

impl SendHandler {
    /// Creates the PeerConnection and binds its UDP sockets (see
    /// [`crate::LocalAddresses`]). Must be called within a tokio runtime.
    ///
    /// The connection runs on the direct driver (see `connection/direct.rs`), or on webrtc-rs'
    /// async one when a TURN server or the relay policy is given.
    pub async fn new(opts: HandlerOptions) -> Result<Self, HandlerError> {
        let data_channels = opts.data_channels;
        let writers = Arc::new(WriterRegistry::default());
        let (feedback, keyframes) = Feedback::new(writers.clone());
        let transport = Transport::new(
            opts,
            super::interceptors(feedback),
            Arc::new(Discard),
            vec![],
        )
        .await?;
        if data_channels {
            transport.offer_data_section()?;
        }
        let dispatcher = tokio::spawn(dispatch_keyframe_requests(writers.clone(), keyframes));
        Ok(Self {
            transport,
            writers,
            senders: tokio::sync::Mutex::new(HashMap::new()),
            dispatcher,
            ids: AtomicU64::new(0),
            last_offer: std::sync::Mutex::new(None),
            cname: format!("msc-{:016x}", RandomState::new().hash_one(Instant::now())),
        })
    }

    fn check_open(&self) -> Result<(), HandlerError> {
        self.transport.check_open()
    }

    /// A random non-zero SSRC not used by this handler.
    fn new_ssrc(&self, taken: &mut HashSet<u32>) -> u32 {
        let state = RandomState::new();
        loop {
            let n = self.ids.fetch_add(1, Ordering::Relaxed);
            let ssrc = state.hash_one((n, Instant::now())) as u32;
            if ssrc != 0 && taken.insert(ssrc) {
                return ssrc;
            }
        }
    }

    /// Adds a sendonly transceiver of `kind` offering `codecs`, creates the offer and sets it as
    /// local description.
    ///
    /// - `codecs`: in preference order, the first non-RTX one being the codec that will be sent,
    ///   with the *local* payload types of [`crate::native_offer_sdp`] in
    ///   `preferred_payload_type`; RTX codecs included to get RTX (an RTX SSRC per encoding).
    ///   Codec parameters (fmtp) of the offer are the local ones; the caller's `parameters`
    ///   belong in the answer.
    /// - `rids`: empty for one encoding; otherwise simulcast with these RIDs, lowest layer
    ///   first (`a=rid:r0 send`..., `a=simulcast:send r0;r1;r2`).
    ///
    /// The writers are usable once the answer is applied ([`set_remote_answer`]) and the
    /// connection is up.
    ///
    /// [`set_remote_answer`]: Self::set_remote_answer
    pub async fn send(
        &self,
        kind: MediaKind,
        codecs: Vec<RtpCodecCapability>,
        rids: Vec<String>,
    ) -> Result<SendResult, HandlerError> {
        let mut senders = self.senders.lock().await;
        self.check_open()?;
        let codec_kind = match kind {
            MediaKind::Audio => RtpCodecKind::Audio,
            MediaKind::Video => RtpCodecKind::Video,
        };
        let preferences = resolve_codecs(codec_kind, kind, &codecs)?;
        let primary = preferences
            .iter()
            .find(|c| !c.rtp_codec.mime_type.eq_ignore_ascii_case(MIME_TYPE_RTX))
            .ok_or_else(|| HandlerError::InvalidArgument("no media codec given (only RTX)".into()))?
            .clone();
        let with_rtx = preferences
            .iter()
            .any(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(MIME_TYPE_RTX));
        check_rids(&rids)?;

        let mut taken: HashSet<u32> = self
            .writers
            .by_ssrc
            .lock()
            .map(|w| {
                w.values()
                    .flat_map(|w| [Some(w.ssrc()), w.rtx_ssrc()])
                    .flatten()
                    .collect()
            })
            .unwrap_or_default();
        let layers: Vec<Option<String>> = if rids.is_empty() {
            vec![None]
        } else {
            rids.into_iter().map(Some).collect()
        };
        let codings: Vec<RTCRtpEncodingParameters> = layers
            .iter()
            .map(|rid| RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    rid: rid.clone().unwrap_or_default(),
                    ssrc: Some(self.new_ssrc(&mut taken)),
                    rtx: with_rtx.then(|| RTCRtpRtxParameters {
                        ssrc: self.new_ssrc(&mut taken),
                    }),
                    fec: None,
                },
                active: true,
                codec: primary.rtp_codec.clone(),
                ..Default::default()
            })
            .collect();

        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        let track = MediaStreamTrack::new(
            self.cname.clone(),
            format!("{}-{n}", self.cname),
            format!("msc-{}-{n}", kind.as_str()),
            codec_kind,
            codings.clone(),
        );
        let init = RTCRtpTransceiverInit {
            direction: RTCRtpTransceiverDirection::Sendonly,
            streams: vec![],
            send_encodings: codings.clone(),
        };
        let AddedTransceiver {
            transceiver,
            sender,
            sink,
        } = self
            .transport
            .add_transceiver(track, init, preferences)
            .await?;
        let offer_sdp = self.set_new_offer(None).await?;
        let mid = transceiver.mid().await?;
        let sink = Arc::new(sink);

        let writers: Vec<Arc<WriterState>> = codings
            .iter()
            .map(|c| {
                let p = &c.rtp_coding_parameters;
                Arc::new(WriterState::new(
                    sink.clone(),
                    &mid,
                    p.ssrc.unwrap_or_default(),
                    p.rtx.as_ref().map(|r| r.ssrc),
                    (!p.rid.is_empty()).then(|| p.rid.clone()),
                ))
            })
            .collect();
        if let Ok(mut registry) = self.writers.by_ssrc.lock() {
            for w in &writers {
                registry.insert(w.ssrc(), w.clone());
            }
        }
        let result = SendResult {
            mid: mid.clone(),
            offer_sdp,
            writers: writers.iter().cloned().map(RtpWriter::new).collect(),
        };
        senders.insert(
            mid,
            SenderEntry {
                transceiver,
                sender,
                writers,
            },
        );
        Ok(result)
    }

    async fn set_new_offer(
        &self,
        options: Option<RTCOfferOptions>,
    ) -> Result<String, HandlerError> {
        let offer = self.transport.set_new_offer(options).await?;
        if let Ok(mut last) = self.last_offer.lock() {
            *last = Some(offer.clone());
        }
        Ok(offer)
    }

    /// The connection's data channels (data producers). With
    /// [`HandlerOptions::data_channels`], every first offer carries their section.
    pub fn data_channels(&self) -> DataChannels<'_> {
        DataChannels(&self.transport)
    }

    /// The last offer, set as local description, for a caller that has not applied any answer
    /// yet: made now when no offer exists (a data producer before any media, whose section
    /// needs that first negotiation).
    pub async fn unanswered_offer(&self) -> Result<String, HandlerError> {
        let _guard = self.senders.lock().await;
        self.check_open()?;
        let last = self.last_offer.lock().ok().and_then(|l| l.clone());
        match last {
            Some(offer) => Ok(offer),
            None => self.set_new_offer(None).await,
        }
    }

    /// Applies the answer to the last offer. Its `a=setup` decides the DTLS role (`passive`:
    /// we are the DTLS client; `active`: the server). The first answer starts ICE (we are
    /// controlling) and DTLS; later ones (new producer, stop, ICE restart) renegotiate.
    pub async fn set_remote_answer(&self, sdp: String) -> Result<(), HandlerError> {
        let _guard = self.senders.lock().await;
        self.check_open()?;
        self.transport.set_remote_answer(sdp).await
    }

    /// Stops the transceiver of `mid` (its producer closed): its writers are closed, the
    /// transceiver stopped, and the new offer (already set as local description) returned;
    /// the caller then applies the matching answer with [`set_remote_answer`].
    ///
    /// [`set_remote_answer`]: Self::set_remote_answer
    pub async fn stop_sending(&self, mid: &str) -> Result<String, HandlerError> {
        let mut senders = self.senders.lock().await;
        self.check_open()?;
        let entry = senders.remove(mid).ok_or_else(|| {
            HandlerError::InvalidArgument(format!("no sending transceiver with mid {mid:?}"))
        })?;
        if let Ok(mut registry) = self.writers.by_ssrc.lock() {
            for w in &entry.writers {
                registry.remove(&w.ssrc());
            }
        }
        for w in &entry.writers {
            w.close();
        }
        entry.transceiver.stop().await?;
        self.set_new_offer(None).await
    }

    /// Creates an offer with new ICE credentials and sets it as local description; the caller
    /// applies an answer carrying the server's new ICE parameters (`transport.restartIce()`).
    pub async fn restart_ice_offer(&self) -> Result<String, HandlerError> {
        let _guard = self.senders.lock().await;
        self.check_open()?;
        self.set_new_offer(Some(RTCOfferOptions { ice_restart: true }))
            .await
    }

    /// Replaces the STUN/TURN servers (`transport.updateIceServers()`); they take effect at the
    /// next gathering, i.e. the next ICE restart, from the sockets bound when the handler was
    /// created (see [`crate::LocalAddresses`]: loopback only for a handler created without
    /// servers under `Auto`).
    ///
    /// An empty list removes the servers: the next ICE restart gathers host candidates only.
    ///
    /// Errors: `InvalidArgument` for a URL that is not `stun:`/`stuns:`/`turn:`/`turns:` or a
    /// TURN server without username and credential (see [`validate_ice_servers`]); for a TURN
    /// server on the direct driver (TURN is given at creation, see `connection/driver.rs`); on
    /// webrtc-rs' async driver (TURN transports), for an empty list when servers are set:
    /// webrtc-rs 0.21 keeps the previous servers on an empty list, and saying so beats
    /// pretending they were removed.
    pub async fn update_ice_servers(&self, servers: Vec<IceServer>) -> Result<(), HandlerError> {
        validate_ice_servers(&servers)?;
        let _guard = self.senders.lock().await;
        self.check_open()?;
        // (`senders` serializes updates: the list cannot change until this one is done)
        self.transport.update_ice_servers(servers).await
    }

    /// Transport-level stats, W3C-shaped (see `connection/stats.rs`): the `transport`,
    /// `candidate-pair`, `local-candidate`, `remote-candidate` and `certificate` entries.
    pub async fn transport_stats(&self) -> Result<serde_json::Value, HandlerError> {
        self.check_open()?;
        self.transport.transport_stats().await
    }

    /// Stats of the sender of `mid`, W3C-shaped: one `outbound-rtp` per encoding (`ssrc`, `rid`,
    /// `kind`, `packetsSent`, `bytesSent`, `nackCount`, `pliCount`, `firCount`, `codecId`,
    /// `rtxSsrc`...), its `codec`, `remote-inbound-rtp` once receiver reports arrived, and the
    /// transport entries they reference.
    pub async fn sender_stats(&self, mid: &str) -> Result<serde_json::Value, HandlerError> {
        self.check_open()?;
        let (sender, writers) = {
            let senders = self.senders.lock().await;
            senders
                .get(mid)
                .map(|e| (e.sender, e.writers.clone()))
                .ok_or_else(|| {
                    HandlerError::InvalidArgument(format!(
                        "no sending transceiver with mid {mid:?}"
                    ))
                })?
        };
        let report = self.transport.stats(StatsSelector::Sender(sender)).await?;
        let mut json = stats::report_to_json(&report, |_| true);
        self.transport.complete_transport_entries(&mut json);
        super::stats::patch_feedback_counts(&mut json, &writers);
        Ok(json)
    }

    /// Sets (replaces) the callback of connection state changes: `new`, `connecting`,
    /// `connected`, `disconnected`, `failed`, `closed`. Called on the driver's tasks: it
    /// must return quickly and not call back into this handler synchronously.
    pub fn on_connection_state(&self, f: Box<dyn Fn(&'static str) + Send + Sync>) {
        self.transport.on_connection_state(f);
    }

    /// The current connection state (same names as [`on_connection_state`]).
    ///
    /// [`on_connection_state`]: Self::on_connection_state
    pub fn connection_state(&self) -> &'static str {
        self.transport.connection_state()
    }

    /// A watch of the connection state, for waiting on a state without a callback.
    pub fn subscribe_connection_state(&self) -> watch::Receiver<&'static str> {
        self.transport.subscribe_connection_state()
    }

    /// Which driver runs the connection: `direct` or `webrtc-rs` (see `connection/driver.rs`).
    #[cfg(test)]
    pub(crate) fn driver(&self) -> &'static str {
        self.transport.driver_name()
    }

    /// How many times ICE reached `connected` so far.
    #[cfg(test)]
    pub(crate) fn ice_connected_count(&self) -> u32 {
        *self.transport.ice_connected().borrow()
    }

    /// Closes the PeerConnection and every writer. Idempotent.
    pub async fn close(&self) {
        if !self.transport.mark_closed() {
            return;
        }
        let mut senders = self.senders.lock().await;
        for (_, entry) in senders.drain() {
            for w in &entry.writers {
                w.close();
            }
        }
        if let Ok(mut registry) = self.writers.by_ssrc.lock() {
            registry.clear();
        }
        self.transport.close().await;
        self.dispatcher.abort();
    }
}

impl Drop for SendHandler {
    /// A handler dropped without [`SendHandler::close`] closes its connection (see
    /// the connection transport's `Drop`).
    fn drop(&mut self) {
        self.dispatcher.abort();
    }
}

/// The engine's codecs named by `codecs` (by local payload type), in the caller's order.
fn resolve_codecs(
    codec_kind: RtpCodecKind,
    kind: MediaKind,
    codecs: &[RtpCodecCapability],
) -> Result<Vec<RTCRtpCodecParameters>, HandlerError> {
    if codecs.is_empty() {
        return Err(HandlerError::InvalidArgument("no codecs given".into()));
    }
    let engine = setup::codecs(codec_kind);
    let mut out: Vec<RTCRtpCodecParameters> = Vec::with_capacity(codecs.len());
    for c in codecs {
        if c.kind != kind {
            return Err(HandlerError::InvalidArgument(format!(
                "codec {} is not of kind {}",
                c.mime_type,
                kind.as_str()
            )));
        }
        let pt = c.preferred_payload_type.ok_or_else(|| {
            HandlerError::InvalidArgument(format!(
                "codec {} has no preferredPayloadType",
                c.mime_type
            ))
        })?;
        let found = engine
            .iter()
            .find(|e| {
                e.payload_type == pt && e.rtp_codec.mime_type.eq_ignore_ascii_case(&c.mime_type)
            })
            .ok_or_else(|| {
                HandlerError::InvalidArgument(format!(
                    "codec {} with payload type {pt} is not a native codec of this handler",
                    c.mime_type
                ))
            })?;
        if !out.iter().any(|o| o.payload_type == pt) {
            out.push(found.clone());
        }
    }
    Ok(out)
}

fn check_rids(rids: &[String]) -> Result<(), HandlerError> {
    let mut seen = HashSet::new();
    for rid in rids {
        // RFC 8851: alphanumeric, `-` and `_`; 16 bytes fit a one-byte header extension.
        let valid = !rid.is_empty()
            && rid.len() <= 16
            && rid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(HandlerError::InvalidArgument(format!(
                "invalid rid {rid:?}"
            )));
        }
        if !seen.insert(rid.as_str()) {
            return Err(HandlerError::InvalidArgument(format!(
                "duplicated rid {rid:?}"
            )));
        }
    }
    Ok(())
}
