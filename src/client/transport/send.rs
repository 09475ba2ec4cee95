//! The send direction of a [`Transport`]: produce, and what a producer needs of its transport.
//!
//! One produce is one operation: add a sendonly transceiver and make the offer; on the first
//! media of the transport, `connect` (the listener) with the offer's DTLS parameters; set the
//! answer built from the server's parameters; `produce` (the listener) with the RTP parameters;
//! then the producer exists, with the server's id. Any failure on the way stops sending what
//! was prepared.

use std::sync::{Arc, Weak};

use msc_handler::RtpWriter;
use msc_media::FrameTrack;
use msc_ortc::{
    extended::{get_sending_remote_rtp_parameters, get_sending_rtp_parameters, reduce_codecs},
    validate, MediaKind, RtpCodecCapability, RtpEncodingParameters, RtpParameters,
};
use msc_sdp::{CodecOptions, RemoteSdp};
use serde_json::Value;

use super::listener::answered_id;
use super::{Direction, SendListener, Transport};
use crate::error::{Error, Result};
use crate::producer::{Producer, ProducerOwner};
use crate::rtp_stats;

/// What `transport.produce()` asks for.
#[derive(Default)]
pub struct ProduceOptions {
    /// What feeds the producer; it must be live and of a kind the device can produce. A
    /// producer made with none (`kind` given) sends nothing until `Producer::set_track`.
    pub track: Option<Arc<FrameTrack>>,
    /// The producer's kind: the track's when a track is given.
    pub kind: Option<MediaKind>,
    /// Simulcast encodings (more than one: one RID each, `r0`, `r1`...; video only), or the
    /// settings of the single encoding; empty: one encoding with defaults.
    pub encodings: Vec<RtpEncodingParameters>,
    /// Codec settings applied to the sent parameters and the answer (Opus stereo, DTX...,
    /// video start bitrate), as mediasoup-client's `codecOptions`.
    pub codec_options: Option<CodecOptions>,
    /// The codec to send, one of the device's `rtpCapabilities` codecs; none: the first of
    /// the kind. A codec the router does not share is a TypeError.
    pub codec: Option<RtpCodecCapability>,
}

/// A sender added for a producer that does not exist yet.
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

impl Transport {
    /// `transport.produce()`: an operation (it runs after those called before it) that ends
    /// with a producer fed by `options.track`, or fails having stopped what it prepared.
    pub fn produce(
        self: &Arc<Self>,
        options: ProduceOptions,
        listener: Arc<dyn SendListener>,
    ) -> impl std::future::Future<Output = Result<Arc<Producer>>> + Send + 'static {
        let me = self.clone();
        self.operation(async move { me.produce_now(options, listener.as_ref()).await })
    }

    async fn produce_now(
        &self,
        options: ProduceOptions,
        listener: &dyn SendListener,
    ) -> Result<Arc<Producer>> {
        if self.direction != Direction::Send {
            return Err(Error::invalid_state("not a sending transport"));
        }
        let track = options.track.clone();
        let kind = match (&track, options.kind) {
            (None, None) => return Err(Error::type_error("missing track")),
            (Some(t), Some(kind)) if t.kind() != kind => {
                return Err(Error::type_error(format!(
                    "a {} track for a {} producer",
                    t.kind().as_str(),
                    kind.as_str()
                )))
            }
            (Some(t), _) => t.kind(),
            (None, Some(kind)) => kind,
        };
        if track.as_ref().is_some_and(|t| t.ended()) {
            return Err(Error::invalid_state("track ended"));
        }
        let mut pending = self.prepare(kind, options).await?;
        match self.signal(&mut pending, listener).await {
            Ok(id) => {
                let local_id = pending.mid.clone();
                let owner: Weak<dyn ProducerOwner> = self.me.clone();
                let producer = Producer::new(
                    id,
                    local_id.clone(),
                    pending.kind,
                    pending.rtp_parameters,
                    pending.writers,
                    owner,
                )?;
                {
                    let mut state = self.state.lock().await;
                    if self.closed() {
                        producer.transport_closed();
                        return Err(Error::invalid_state("closed"));
                    }
                    state.producers.insert(local_id, producer.clone());
                }
                // Plugged once the transport knows the producer (no await from here on): a
                // close() from now on unplugs it with the producer.
                if let Some(track) = track {
                    if let Err(e) = producer.set_track(Some(track)) {
                        producer.close();
                        return Err(e);
                    }
                }
                Ok(producer)
            }
            Err(e) => {
                self.abort(pending).await;
                Err(e)
            }
        }
    }

    /// Adds the sender and makes the offer; computes the RTP parameters the server will see.
    async fn prepare(&self, kind: MediaKind, options: ProduceOptions) -> Result<Pending> {
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
        Ok(Pending {
            kind,
            mid: sent.mid,
            offer_sdp: sent.offer_sdp,
            rtp_parameters,
            remote_rtp_parameters,
            codec_options: options.codec_options,
            writers: sent.writers,
            in_remote_sdp: false,
        })
    }

    /// Connects (once), sets the answer, and asks the application's `produce`: the server
    /// producer id.
    async fn signal(&self, pending: &mut Pending, listener: &dyn SendListener) -> Result<String> {
        self.connect_once(&pending.offer_sdp, listener).await?;
        {
            let mut state = self.state.lock().await;
            pending.answer_into(&mut state.remote_sdp)?;
            answer_data_section(&mut state.remote_sdp, &pending.offer_sdp)?;
            let answer = state.remote_sdp.get_sdp();
            self.handler
                .set_remote_answer(answer)
                .await
                .map_err(|e| Error::other(format!("the answer was refused: {e}")))?;
            state.answered = true;
        }
        let answer: Value = listener
            .produce(pending.kind, pending.rtp_parameters.clone())
            .await?;
        self.check_open()?;
        answered_id(&answer, "produce", "producer")
    }

    /// Stops sending what was prepared for a producer that will not exist.
    ///
    /// An offer section whose producer never got its answer (its `connect` was refused) gets
    /// its answer section now, to be closed with it: every later answer must have one section
    /// per section of the offer, in the offer's order, and the offer keeps this one.
    async fn abort(&self, mut pending: Pending) {
        if !pending.in_remote_sdp {
            let mut state = self.state.lock().await;
            if let Err(e) = pending.answer_into(&mut state.remote_sdp) {
                tracing::warn!("abort produce {}: {e}", pending.mid);
            }
        }
        self.stop_sending(&pending.mid).await;
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

    /// A producer's W3C stats (its sender's).
    pub async fn producer_stats(&self, local_id: &str) -> Result<Value> {
        let producer = match self.state.lock().await.producers.get(local_id) {
            Some(p) => p.clone(),
            None => return Err(Error::invalid_state("closed")),
        };
        let mut report = self.handler.sender_stats(local_id).await?;
        rtp_stats::complete_outbound(&mut report, local_id, producer.rtp_parameters());
        Ok(report)
    }
}

impl ProducerOwner for Transport {
    fn producer_closed(&self, local_id: &str) {
        let Some(me) = self.me.upgrade() else { return };
        let local_id = local_id.to_string();
        self.runtime.spawn(async move {
            let removed = me.state.lock().await.producers.remove(&local_id);
            if removed.is_some() {
                me.stop_sending(&local_id).await;
            }
        });
    }
}

/// Adds the answer to the data section of our offer `offer_sdp`, if it has one not answered
/// yet (the first offer of a transport whose server enabled SCTP).
pub(super) fn answer_data_section(remote_sdp: &mut RemoteSdp, offer_sdp: &str) -> Result<()> {
    let offer =
        msc_sdp::parse_sdp(offer_sdp).map_err(|e| Error::other(format!("bad local offer: {e}")))?;
    remote_sdp
        .answer_data_section(&offer)
        .map_err(|e| Error::other(format!("cannot answer the data channel section: {e}")))?;
    Ok(())
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
