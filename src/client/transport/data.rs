//! Data channels of a [`Transport`]: produceData (send), consumeData (receive), and what a
//! DataProducer or DataConsumer needs of its transport.
//!
//! Every channel is negotiated (mediasoup ignores DCEP): a data producer takes the next free
//! stream id of the transport, a data consumer the one the server chose. The data section
//! (m=application) is in the transport's first negotiation whenever the server enabled SCTP,
//! because webrtc-rs starts SCTP only from there: a send transport's first offer carries it
//! (the handler makes sure of it), a receive transport's first remote offer gets it here or in
//! `recv.rs`. So a channel added later needs no negotiation: it opens at once, or with the
//! association.

use std::sync::Arc;

use msc_handler::{DataChannelId, DataChannelOptions, DataChannels, OutgoingMessage};
use msc_ortc::{validate, SctpStreamParameters};
use serde_json::{json, Value};

use super::listener::answered_id;
use super::send::answer_data_section;
use super::{DataSendListener, Direction, Transport, TransportListener};
use crate::data_channel::{ChannelSink, DataChannel};
use crate::data_consumer::DataConsumer;
use crate::data_producer::DataProducer;
use crate::error::{Error, Result};

/// How long `consumeData()` waits for its channel to open before it resolves anyway (the
/// connection is then slow or failing: the channel opens later, or never).
pub const OPEN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The number of SCTP streams each way (mediasoup-client's `numStreams`: OS and MIS).
pub const SCTP_STREAMS: u16 = 1024;

/// What `transport.produceData()` takes (`appData` stays in JS).
#[derive(Debug, Clone, Default)]
pub struct ProduceDataOptions {
    /// In-order delivery; forced off by either partial reliability option.
    pub ordered: bool,
    /// Partial reliability by time (ms).
    pub max_packet_life_time: Option<u32>,
    /// Partial reliability by count.
    pub max_retransmits: Option<u32>,
    /// The channel's label.
    pub label: String,
    /// The channel's subprotocol.
    pub protocol: String,
}

/// What `transport.consumeData()` takes (`appData` stays in JS).
#[derive(Debug, Clone)]
pub struct ConsumeDataOptions {
    /// The server DataConsumer's id.
    pub id: String,
    /// The server DataProducer's id.
    pub data_producer_id: String,
    /// The server DataConsumer's `sctpStreamParameters`.
    pub sctp_stream_parameters: Value,
    /// The channel's label.
    pub label: String,
    /// The channel's subprotocol.
    pub protocol: String,
}

/// A data producer or data consumer of a transport.
pub(super) enum DataEndpoint {
    Producer(Arc<DataProducer>),
    Consumer(Arc<DataConsumer>),
}

impl DataEndpoint {
    pub(super) fn channel(&self) -> &DataChannel {
        match self {
            DataEndpoint::Producer(p) => p.channel(),
            DataEndpoint::Consumer(c) => c.channel(),
        }
    }
}

impl Transport {
    /// Keeps a new data producer or consumer of channel `key` (closed at once if the transport
    /// closed meanwhile: InvalidStateError).
    async fn keep(&self, key: DataChannelId, endpoint: DataEndpoint) -> Result<()> {
        let mut state = self.state.lock().await;
        if self.closed() {
            endpoint.channel().transport_closed();
            return Err(Error::invalid_state("closed"));
        }
        state.data.insert(key, endpoint);
        Ok(())
    }

    /// `transport.produceData()`: an operation that ends with a data producer whose server id
    /// the application's `producedata` gave.
    pub fn produce_data(
        self: &Arc<Self>,
        options: ProduceDataOptions,
        listener: Arc<dyn DataSendListener>,
    ) -> impl std::future::Future<Output = Result<Arc<DataProducer>>> + Send + 'static {
        let me = self.clone();
        self.operation(async move { me.produce_data_now(options, listener.as_ref()).await })
    }

    /// `transport.consumeData()`: an operation that ends with a data consumer receiving on the
    /// stream the server chose. It resolves once the channel is open (or after
    /// [`OPEN_WAIT`]): what the server sends from then on is received, where a channel still
    /// waiting for its transport's SCTP association would lose it (mediasoup drops what it
    /// cannot send). The wait is outside the operation: later operations do not wait for it.
    pub fn consume_data(
        self: &Arc<Self>,
        options: ConsumeDataOptions,
        listener: Arc<dyn TransportListener>,
    ) -> impl std::future::Future<Output = Result<Arc<DataConsumer>>> + Send + 'static {
        let me = self.clone();
        let consuming =
            self.operation(async move { me.consume_data_now(options, listener.as_ref()).await });
        async move {
            let consumer = consuming.await?;
            let _ = tokio::time::timeout(OPEN_WAIT, consumer.channel().settled()).await;
            Ok(consumer)
        }
    }

    fn data_channels(&self) -> Result<DataChannels<'_>> {
        if self.sctp.is_none() {
            return Err(Error::unsupported("SCTP not enabled by remote Transport"));
        }
        self.handler
            .data_channels()
            .ok_or_else(|| Error::unsupported("this transport has no data channels"))
    }

    async fn produce_data_now(
        &self,
        options: ProduceDataOptions,
        listener: &dyn DataSendListener,
    ) -> Result<Arc<DataProducer>> {
        if self.direction != Direction::Send {
            return Err(Error::unsupported("not a sending Transport"));
        }
        let channels = self.data_channels()?;
        let partial = options.max_packet_life_time.is_some() || options.max_retransmits.is_some();
        let mut value = json!({ "streamId": 0, "ordered": options.ordered && !partial });
        if let Some(ms) = options.max_packet_life_time {
            value["maxPacketLifeTime"] = json!(ms);
        }
        if let Some(n) = options.max_retransmits {
            value["maxRetransmits"] = json!(n);
        }
        let mut parameters = validate::validate_and_normalize_sctp_stream_parameters(&mut value)?;
        let stream_id = {
            let mut state = self.state.lock().await;
            let taken: Vec<u16> = state
                .data
                .values()
                .filter_map(|e| match e {
                    DataEndpoint::Producer(p) => p.sctp_stream_parameters().stream_id,
                    DataEndpoint::Consumer(_) => None,
                })
                .collect();
            let free = (0..SCTP_STREAMS)
                .map(|i| (state.next_stream_id + i) % SCTP_STREAMS)
                .find(|id| !taken.contains(id))
                .ok_or_else(|| {
                    Error::unsupported(format!("all {SCTP_STREAMS} SCTP streams are in use"))
                })?;
            state.next_stream_id = (free + 1) % SCTP_STREAMS;
            free
        };
        parameters.stream_id = Some(stream_id);
        let channel =
            self.open_channel(&channels, &parameters, &options.label, &options.protocol)?;
        let result = async {
            if !self.state.lock().await.answered {
                self.first_data_negotiation(listener).await?;
            }
            let answer = listener
                .produce_data(json!({
                    "sctpStreamParameters": parameters,
                    "label": options.label,
                    "protocol": options.protocol,
                }))
                .await?;
            self.check_open()?;
            answered_id(&answer, "producedata", "data producer")
        }
        .await;
        let id = match result {
            Ok(id) => id,
            Err(e) => {
                channel.1.close();
                return Err(e);
            }
        };
        let (key, channel) = channel;
        let producer = Arc::new(DataProducer::new(
            id,
            parameters,
            options.label,
            options.protocol,
            channel,
        ));
        self.keep(key, DataEndpoint::Producer(producer.clone()))
            .await?;
        Ok(producer)
    }

    /// A send transport's first negotiation, made by a data producer: `connect` with the
    /// offer's DTLS parameters, then the answer with the data section.
    async fn first_data_negotiation(&self, listener: &dyn TransportListener) -> Result<()> {
        let offer = self
            .handler
            .unanswered_offer()
            .await
            .map_err(|e| Error::from(e).with_context("cannot make the offer"))?;
        self.connect_once(&offer, listener).await?;
        let mut state = self.state.lock().await;
        answer_data_section(&mut state.remote_sdp, &offer)?;
        let answer = state.remote_sdp.get_sdp();
        self.handler
            .set_remote_answer(answer)
            .await
            .map_err(|e| Error::other(format!("the answer was refused: {e}")))?;
        state.answered = true;
        Ok(())
    }

    async fn consume_data_now(
        &self,
        options: ConsumeDataOptions,
        listener: &dyn TransportListener,
    ) -> Result<Arc<DataConsumer>> {
        if self.direction != Direction::Recv {
            return Err(Error::unsupported("not a receiving Transport"));
        }
        let channels = self.data_channels()?;
        let mut value = options.sctp_stream_parameters;
        let parameters = validate::validate_and_normalize_sctp_stream_parameters(&mut value)?;
        let stream_id = parameters
            .stream_id
            .ok_or_else(|| Error::type_error("missing sctpStreamParameters.streamId"))?;
        {
            let state = self.state.lock().await;
            let busy = state.data.values().any(|e| match e {
                DataEndpoint::Consumer(c) => {
                    c.sctp_stream_parameters().stream_id == Some(stream_id)
                }
                DataEndpoint::Producer(_) => false,
            });
            if busy {
                return Err(Error::invalid_state(format!(
                    "a data consumer on SCTP stream {stream_id} exists on this transport"
                )));
            }
        }
        let (key, channel) =
            self.open_channel(&channels, &parameters, &options.label, &options.protocol)?;
        if !self.state.lock().await.data_section {
            if let Err(e) = self.negotiate_data_section(listener).await {
                channel.close();
                return Err(e);
            }
        }
        let consumer = Arc::new(DataConsumer::new(
            options.id,
            options.data_producer_id,
            parameters,
            options.label,
            options.protocol,
            channel,
        ));
        self.keep(key, DataEndpoint::Consumer(consumer.clone()))
            .await?;
        Ok(consumer)
    }

    /// A receive transport's negotiation of the data section, when no consume made it first:
    /// `connect` (first time), the remote offer with the data section, the answer.
    async fn negotiate_data_section(&self, listener: &dyn TransportListener) -> Result<()> {
        let dtls = self
            .handler
            .dtls_parameters()
            .ok_or_else(|| Error::other("no DTLS parameters for this connection"))?;
        self.connect_with(dtls, listener).await?;
        self.check_open()?;
        let mut state = self.state.lock().await;
        if state.answered {
            return Err(Error::unsupported(
                "the data channel section was not in this transport's first negotiation",
            ));
        }
        let snapshot = state.remote_sdp.clone();
        state
            .remote_sdp
            .receive_sctp_association()
            .map_err(|e| Error::other(format!("cannot offer the data channel section: {e}")))?;
        let offer = state.remote_sdp.get_sdp();
        let answer = match self.handler.answer(offer).await {
            Ok(answer) => answer,
            Err(e) => {
                state.remote_sdp = snapshot;
                return Err(Error::from(e).with_context("the offer was refused"));
            }
        };
        if let Err(e) = self.handler.set_local_answer(answer).await {
            self.abandon_offer(&mut state.remote_sdp, snapshot).await;
            return Err(Error::from(e).with_context("the answer was refused"));
        }
        state.data_section = true;
        state.answered = true;
        Ok(())
    }

    /// Creates the connection's channel for `parameters`.
    fn open_channel(
        &self,
        channels: &DataChannels<'_>,
        parameters: &SctpStreamParameters,
        label: &str,
        protocol: &str,
    ) -> Result<(DataChannelId, DataChannel)> {
        let clamp = |v: Option<u32>| v.map(|v| v.min(u16::MAX as u32) as u16);
        let options = DataChannelOptions {
            stream_id: parameters.stream_id.unwrap_or_default(),
            ordered: parameters.ordered.unwrap_or(true),
            max_packet_life_time: clamp(parameters.max_packet_life_time),
            max_retransmits: clamp(parameters.max_retransmits),
            label: label.to_owned(),
            protocol: protocol.to_owned(),
        };
        let sink = ChannelSink::new();
        let channel = DataChannel::new(self.me.clone(), sink.clone());
        let (id, open) = channels
            .open(&options, sink)
            .map_err(|e| Error::from(e).with_context("cannot create the data channel"))?;
        channel.created(id, open);
        Ok((id, channel))
    }

    /// Sends one message on channel `id` (see [`DataChannel::send`]).
    pub(crate) fn data_send(&self, id: DataChannelId, message: OutgoingMessage) -> Result<usize> {
        self.check_open()?;
        self.data_channels()?.send(id, message).map_err(Error::from)
    }

    pub(crate) fn data_buffered_amount(&self, id: DataChannelId) -> usize {
        self.data_channels()
            .map(|c| c.buffered_amount(id))
            .unwrap_or(0)
    }

    pub(crate) fn data_set_low_threshold(&self, id: DataChannelId, threshold: u32) {
        if let Ok(c) = self.data_channels() {
            c.set_buffered_amount_low_threshold(id, threshold);
        }
    }

    /// Channel `id` is closed: its stream is reset and its producer or consumer forgotten.
    pub(crate) fn data_closed(&self, id: DataChannelId) {
        if let Ok(c) = self.data_channels() {
            if let Err(e) = c.close(id) {
                tracing::debug!("closing a data channel: {e}");
            }
        }
        let Some(me) = self.me.upgrade() else { return };
        self.runtime.spawn(async move {
            let mut state = me.state.lock().await;
            state.data.remove(&id);
        });
    }
}
