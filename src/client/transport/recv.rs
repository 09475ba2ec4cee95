//! The receive direction of a [`Transport`]: consume, and what a consumer needs of its
//! transport.
//!
//! One batch of consumers (those the application created in one tick) is one operation: each
//! is checked on its own (a bad one fails alone), the others share one negotiation: on the
//! transport's first media, `connect` (the listener) with the connection's DTLS parameters,
//! before any description is set; an offer section per consumer in the remote SDP (the
//! server's side), set as remote offer; the answer set as local description; then each
//! consumer's packets go to its track. The first
//! video consumer brings the probator section (the server's bandwidth probes), as
//! mediasoup-client does.
//!
//! A closed consumer's section stays open and is given to the next consumer of its kind, with
//! that consumer's SSRCs, codecs and track (its local id is then the section's mid, not the
//! server's). webrtc-rs never removes a transceiver and scans all of them for every packet it
//! receives: closing sections and adding new ones, as mediasoup-client does, would make every
//! packet of the transport dearer with each consumer ever opened. Closing a consumer costs no
//! negotiation either.

use std::sync::{Arc, Weak};

use msc_media::{RemoteTrack, RemoteTrackInfo};
use msc_ortc::{probator, validate, MediaKind, ReceivedStream, RtpParameters};
use serde_json::Value;

use super::{Direction, State, Transport, TransportListener};
use crate::consumer::{Consumer, ConsumerOwner, TrackSink};
use crate::error::{Error, Result};
use crate::rtp_stats;

/// What `transport.consume()` takes (`appData` stays in JS).
#[derive(Debug, Clone)]
pub struct ConsumeOptions {
    /// The server consumer's id.
    pub id: String,
    /// The server producer's id.
    pub producer_id: String,
    /// `audio` or `video`.
    pub kind: Value,
    /// The server consumer's `rtpParameters`.
    pub rtp_parameters: Value,
    /// The `a=msid` stream id; the RTP parameters' CNAME when absent.
    pub stream_id: Option<String>,
}

/// A consume checked and ready to be negotiated.
struct Accepted {
    id: String,
    producer_id: String,
    kind: MediaKind,
    rtp_parameters: RtpParameters,
    /// The stream received (the first encoding's).
    stream: ReceivedStream,
    stream_id: String,
    local_id: String,
}

impl Transport {
    /// `transport.consume()` for the consumers created in one tick: one operation, one
    /// negotiation; a result per option, in order.
    pub fn consume(
        self: &Arc<Self>,
        batch: Vec<ConsumeOptions>,
        listener: Arc<dyn TransportListener>,
    ) -> impl std::future::Future<Output = Result<Vec<Result<Arc<Consumer>>>>> + Send + 'static
    {
        let me = self.clone();
        self.operation(async move { Ok(me.consume_now(batch, listener.as_ref()).await) })
    }

    async fn consume_now(
        &self,
        batch: Vec<ConsumeOptions>,
        listener: &dyn TransportListener,
    ) -> Vec<Result<Arc<Consumer>>> {
        if self.direction != Direction::Recv {
            return batch
                .iter()
                .map(|_| Err(Error::invalid_state("not a receiving transport")))
                .collect();
        }
        let mut results: Vec<Option<Result<Arc<Consumer>>>> = Vec::with_capacity(batch.len());
        let mut accepted = Vec::new();
        {
            let mut state = self.state.lock().await;
            for options in batch {
                match self.check(options, &mut state.next_local_id) {
                    Ok(a) => {
                        accepted.push((results.len(), a));
                        results.push(None);
                    }
                    Err(e) => results.push(Some(Err(e))),
                }
            }
        }
        if !accepted.is_empty() {
            let (places, items): (Vec<usize>, Vec<Accepted>) = accepted.into_iter().unzip();
            match self.negotiate(items, listener).await {
                Ok(consumers) => {
                    for (at, consumer) in places.into_iter().zip(consumers) {
                        results[at] = Some(Ok(consumer));
                    }
                }
                Err(e) => {
                    for at in places {
                        results[at] = Some(Err(e.clone()));
                    }
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::other("consume was not run"))))
            .collect()
    }

    /// Checks one consume as mediasoup-client does: ids, kind, RTP parameters (TypeError),
    /// and that the device can receive them (UnsupportedError).
    fn check(&self, options: ConsumeOptions, next_local_id: &mut u64) -> Result<Accepted> {
        let mut value = serde_json::json!({
            "id": options.id,
            "producerId": options.producer_id,
            "kind": options.kind,
            "rtpParameters": options.rtp_parameters,
            "streamId": options.stream_id,
        });
        let checked = validate::validate_consume_options(&mut value)?;
        msc_ortc::check_can_consume(&checked.rtp_parameters, &self.loaded.extended)?;
        let stream = msc_ortc::received_stream(checked.kind, &checked.rtp_parameters)
            .ok_or_else(|| Error::type_error("missing rtpParameters.encodings[0].ssrc"))?;
        let local_id = match &checked.rtp_parameters.mid {
            Some(mid) => mid.clone(),
            None => {
                *next_local_id += 1;
                format!("r{}", *next_local_id - 1)
            }
        };
        Ok(Accepted {
            stream_id: checked.msid_stream_id().to_owned(),
            id: checked.id,
            producer_id: checked.producer_id,
            kind: checked.kind,
            rtp_parameters: checked.rtp_parameters,
            stream,
            local_id,
        })
    }

    /// One negotiation for `items`: remote offer, answer, connect (first time), local answer,
    /// then the consumers, receiving.
    async fn negotiate(
        &self,
        items: Vec<Accepted>,
        listener: &dyn TransportListener,
    ) -> Result<Vec<Arc<Consumer>>> {
        let mut items = items;
        // Connected before the first offer is set: setting it starts ICE, which webrtc-rs
        // cannot take back if the application then refused to connect.
        let dtls = self
            .handler
            .dtls_parameters()
            .ok_or_else(|| Error::other("no DTLS parameters for this connection"))?;
        self.connect_with(dtls, listener).await?;
        self.check_open()?;
        let mut state = self.state.lock().await;
        let mut tracks = Vec::with_capacity(items.len());
        for item in &items {
            if state.consumers.contains_key(&item.local_id) {
                return Err(Error::invalid_state(format!(
                    "a consumer with mid {:?} exists on this transport",
                    item.local_id
                )));
            }
            tracks.push(Arc::new(RemoteTrack::new(track_info(item))?));
        }
        let before = Before::of(&state);
        if let Err(e) = self.offer_sections(&mut state, &mut items) {
            before.restore(&mut state);
            return Err(e);
        }
        // webrtc-rs starts SCTP only from the first negotiation: the data section comes now,
        // whether or not a data consumer exists yet.
        let data_section = self.sctp.is_some() && !state.answered && !state.data_section;
        if data_section {
            if let Err(e) = state.remote_sdp.receive_sctp_association() {
                before.restore(&mut state);
                return Err(Error::other(format!(
                    "cannot offer the data channel section: {e}"
                )));
            }
        }
        let offer = state.remote_sdp.get_sdp();
        let answer = match self.handler.answer(offer).await {
            Ok(answer) => answer,
            Err(e) => {
                before.restore(&mut state);
                return Err(Error::from(e).with_context("the offer was refused"));
            }
        };
        self.check_open()?;
        let owner: Weak<dyn ConsumerOwner> = self.me.clone();
        let mut consumers = Vec::with_capacity(items.len());
        for (item, track) in items.into_iter().zip(tracks) {
            let ssrc = item.stream.ssrc;
            self.handler
                .add_receiver(&item.id, &item.stream, Arc::new(TrackSink(track.clone())));
            // Sent from a task of its own: a request can come from within the delivery of a
            // packet (the assembler found a loss), where the connection cannot be entered again.
            let transport = self.me.clone();
            let runtime = self.runtime.clone();
            track.set_keyframe_requester(Box::new(move || {
                let transport = transport.clone();
                runtime.spawn(async move {
                    if let Some(t) = transport.upgrade() {
                        if let Err(e) = t.handler.request_keyframe(ssrc) {
                            tracing::debug!("keyframe request for {ssrc}: {e}");
                        }
                    }
                });
            }));
            let consumer = Consumer::new(
                item.id,
                item.producer_id,
                item.local_id.clone(),
                item.kind,
                item.rtp_parameters,
                track,
                owner.clone(),
            );
            state.consumers.insert(item.local_id, consumer.clone());
            consumers.push(consumer);
        }
        if let Err(e) = self.handler.set_local_answer(answer).await {
            for c in &consumers {
                state.consumers.remove(c.local_id());
                self.handler.remove_receiver(c.id());
                c.transport_closed();
            }
            before.restore(&mut state);
            self.roll_back_offer().await;
            return Err(Error::from(e).with_context("the answer was refused"));
        }
        state.answered = true;
        state.data_section |= data_section;
        Ok(consumers)
    }

    /// The offer sections of `items` (each in a free section of its kind when there is one),
    /// and the probator's with the first video consumer.
    fn offer_sections(&self, state: &mut State, items: &mut [Accepted]) -> Result<()> {
        for item in items.iter_mut() {
            if let Some(at) = state
                .free_sections
                .iter()
                .position(|(_, k)| *k == item.kind)
            {
                let (mid, _) = state.free_sections.remove(at);
                // the first section is only ever disabled, never reused: it keeps the bundle
                if state.remote_sdp.close_media_section(&mid).unwrap_or(false) {
                    item.local_id = mid;
                }
            }
            let extra = msc_ortc::receivable_codecs(item.kind, &self.loaded.extended);
            state
                .remote_sdp
                .receive(msc_sdp::RecvParams {
                    mid: &item.local_id,
                    kind: item.kind,
                    offer_rtp_parameters: &item.rtp_parameters,
                    stream_id: &item.stream_id,
                    track_id: &item.id,
                    extra_codecs: &extra,
                })
                .map_err(|e| Error::type_error(format!("cannot consume {}: {e}", item.id)))?;
            if item.kind == MediaKind::Video && !state.probator {
                let parameters = probator::generate_probator_rtp_parameters(&item.rtp_parameters)?;
                state
                    .remote_sdp
                    .receive(msc_sdp::RecvParams {
                        mid: probator::RTP_PROBATOR_MID,
                        kind: MediaKind::Video,
                        offer_rtp_parameters: &parameters,
                        stream_id: probator::RTP_PROBATOR_MID,
                        track_id: probator::RTP_PROBATOR_MID,
                        extra_codecs: &extra,
                    })
                    .map_err(|e| Error::other(format!("cannot add the probator: {e}")))?;
                state.probator = true;
                // its probes count in the congestion control feedback, its own in nothing else
                if let Some(stream) = msc_ortc::received_stream(MediaKind::Video, &parameters) {
                    self.handler.expect_stream(&stream);
                }
            }
        }
        Ok(())
    }

    /// Takes back an offer whose answer will not be set: the connection rolls back to its last
    /// stable state and the remote SDP to `before`, so that the next consume offers anew.
    pub(super) async fn abandon_offer(
        &self,
        remote_sdp: &mut msc_sdp::RemoteSdp,
        before: msc_sdp::RemoteSdp,
    ) {
        *remote_sdp = before;
        self.roll_back_offer().await;
    }

    /// The connection rolls back an offer whose answer will not be set (unless the transport
    /// closed meanwhile).
    async fn roll_back_offer(&self) {
        if self.closed() {
            return;
        }
        if let Err(e) = self.handler.rollback().await {
            tracing::warn!("rolling back an abandoned offer: {e}");
        }
    }

    /// A consumer's W3C stats (its receiver's), with the track's own counters.
    pub async fn consumer_stats(&self, local_id: &str) -> Result<Value> {
        let consumer = match self.state.lock().await.consumers.get(local_id) {
            Some(c) => c.clone(),
            None => return Err(Error::invalid_state("closed")),
        };
        let mut report = self.handler.receiver_stats(consumer.id()).await?;
        rtp_stats::complete_inbound(
            &mut report,
            consumer.local_id(),
            consumer.rtp_parameters(),
            &consumer.track().stats(),
        );
        Ok(report)
    }

    /// Stops receiving the consumer `local_id`: its packets go nowhere, and its section waits
    /// for the next consumer of its kind (no negotiation).
    async fn stop_receiving(&self, local_id: &str) {
        let mut state = self.state.lock().await;
        let Some(consumer) = state.consumers.remove(local_id) else {
            return;
        };
        self.handler.remove_receiver(consumer.id());
        state
            .free_sections
            .push((local_id.to_owned(), consumer.kind()));
    }
}

impl ConsumerOwner for Transport {
    fn consumer_closed(&self, local_id: &str) {
        let Some(me) = self.me.upgrade() else { return };
        let local_id = local_id.to_string();
        let stopping = self.operation({
            let me = me.clone();
            async move {
                me.stop_receiving(&local_id).await;
                Ok(())
            }
        });
        self.runtime.spawn(stopping);
    }
}

/// What a consume batch changes in the transport's state before its answer is set, kept to
/// be put back when the batch fails: the remote offer, the free sections it took, whether
/// it added the probator.
struct Before {
    remote_sdp: msc_sdp::RemoteSdp,
    free_sections: Vec<(String, MediaKind)>,
    probator: bool,
}

impl Before {
    fn of(state: &State) -> Self {
        Before {
            remote_sdp: state.remote_sdp.clone(),
            free_sections: state.free_sections.clone(),
            probator: state.probator,
        }
    }

    fn restore(self, state: &mut State) {
        state.remote_sdp = self.remote_sdp;
        state.free_sections = self.free_sections;
        state.probator = self.probator;
    }
}

/// What the track of a consumer carries: its first codec and first encoding.
fn track_info(item: &Accepted) -> RemoteTrackInfo {
    let codec = &item.rtp_parameters.codecs[0];
    let fmtp = msc_sdp::fmtp_config(&codec.parameters);
    RemoteTrackInfo {
        id: item.id.clone(),
        kind: item.kind,
        mime_type: codec.mime_type.clone(),
        clock_rate: codec.clock_rate,
        channels: codec.channels,
        payload_type: codec.payload_type,
        fmtp: (!fmtp.is_empty()).then_some(fmtp),
        ssrc: item.stream.ssrc,
        nack: item.stream.nack,
    }
}
