//! Data channels of a connection, whatever its direction: a send transport's data producers and
//! a receive transport's data consumers are both negotiated SCTP streams (mediasoup ignores
//! DCEP), so one set of types serves both. Each channel has a [`DataSink`] for what the core
//! reports of it: messages (receiving) and its open, bufferedamountlow, close and error events.
//! They are delivered outside the core's lock, in the order the core produced them.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bytes::BytesMut;
use rtc::data_channel::RTCDataChannelId;
use rtc::peer_connection::event::RTCDataChannelEvent;
use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};

use super::inbound::Inbound;
use crate::error::HandlerError;

/// mediasoup's maximum SCTP message size (its `maxSctpMessageSize` default), which the
/// connection announces and accepts.
pub const MAX_MESSAGE_SIZE: usize = 262_144;

/// A negotiated channel (no DCEP: the stream id is agreed through the server's signalling).
#[derive(Debug, Clone, Default)]
pub struct DataChannelOptions {
    /// The SCTP stream.
    pub stream_id: u16,
    /// In-order delivery.
    pub ordered: bool,
    /// Partial reliability by time (ms); exclusive with `max_retransmits`.
    pub max_packet_life_time: Option<u16>,
    /// Partial reliability by count; exclusive with `max_packet_life_time`.
    pub max_retransmits: Option<u16>,
    /// The channel's label (kept locally: no DCEP carries it).
    pub label: String,
    /// The channel's subprotocol (kept locally as well).
    pub protocol: String,
}

/// A message to send: text goes as UTF-8 with the string PPID, binary with the binary one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutgoingMessage {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(BytesMut),
}

impl OutgoingMessage {
    /// Its size in bytes.
    pub fn len(&self) -> usize {
        match self {
            OutgoingMessage::Text(s) => s.len(),
            OutgoingMessage::Binary(b) => b.len(),
        }
    }

    /// Whether it has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A data channel of a connection (the core's handle for it, not its stream id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataChannelId(pub(crate) RTCDataChannelId);

/// What happened to a channel, besides messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataEvent {
    /// The channel can send: its SCTP association is up.
    Open,
    /// Its buffered amount fell to or below its low threshold.
    BufferedAmountLow,
    /// The channel closed (closed here, or its stream reset by the server).
    Closed,
    /// The core reported an error on the channel.
    Error,
}

/// Where a channel's messages and events go. Called on the connection's tasks, one call at a
/// time per connection, in order; it must not block or call back into the connection
/// synchronously.
pub trait DataSink: Send + Sync {
    /// A message received on the channel: text (`true`: UTF-8) or binary.
    fn message(&self, text: bool, data: BytesMut);
    /// An event of the channel.
    fn event(&self, event: DataEvent);
}

/// The sinks of one connection's channels, by the core's channel handle.
#[derive(Default)]
pub(crate) struct DataRoutes {
    sinks: RwLock<HashMap<RTCDataChannelId, Arc<dyn DataSink>>>,
}

impl DataRoutes {
    pub(crate) fn add(&self, id: RTCDataChannelId, sink: Arc<dyn DataSink>) {
        if let Ok(mut sinks) = self.sinks.write() {
            sinks.insert(id, sink);
        }
    }

    pub(crate) fn remove(&self, id: RTCDataChannelId) {
        if let Ok(mut sinks) = self.sinks.write() {
            sinks.remove(&id);
        }
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut sinks) = self.sinks.write() {
            sinks.clear();
        }
    }

    fn sink(&self, id: RTCDataChannelId) -> Option<Arc<dyn DataSink>> {
        self.sinks.read().ok().and_then(|s| s.get(&id).cloned())
    }

    fn events(&self, events: Vec<RTCDataChannelEvent>) {
        for event in events {
            let (id, event) = match event {
                RTCDataChannelEvent::OnOpen(id) => (id, DataEvent::Open),
                RTCDataChannelEvent::OnBufferedAmountLow(id) => (id, DataEvent::BufferedAmountLow),
                RTCDataChannelEvent::OnClose(id) => (id, DataEvent::Closed),
                RTCDataChannelEvent::OnError(id) => (id, DataEvent::Error),
                _ => continue,
            };
            if let Some(sink) = self.sink(id) {
                sink.event(event);
            }
        }
    }
}

/// A direction's [`Inbound`] with the connection's data channels beside it: data channel
/// messages and events go to their channels' sinks, everything else to the direction's.
pub(crate) struct WithData {
    pub(crate) media: Arc<dyn Inbound>,
    pub(crate) data: Arc<DataRoutes>,
}

impl Inbound for WithData {
    fn deliver(&self, messages: Vec<TaggedRTCMessage>) {
        let is_data =
            |m: &TaggedRTCMessage| matches!(m.message, RTCMessage::DataChannelMessage(..));
        if !messages.iter().any(is_data) {
            self.media.deliver(messages);
            return;
        }
        let (data, media): (Vec<_>, Vec<_>) = messages.into_iter().partition(is_data);
        if !media.is_empty() {
            self.media.deliver(media);
        }
        for message in data {
            if let RTCMessage::DataChannelMessage(id, m) = message.message {
                if let Some(sink) = self.data.sink(id) {
                    sink.message(m.is_string, m.data);
                }
            }
        }
    }

    fn data_events(&self, events: Vec<RTCDataChannelEvent>) {
        self.data.events(events);
    }

    fn knows(&self, ssrc: u32) -> bool {
        self.media.knows(ssrc)
    }

    fn forgotten(&self) -> u64 {
        self.media.forgotten()
    }

    fn note_rtp(
        &self,
        packets: &mut [(std::time::Instant, rtc::rtp::Packet)],
    ) -> Option<std::time::Instant> {
        self.media.note_rtp(packets)
    }

    fn reads_in_rounds(&self) -> bool {
        self.media.reads_in_rounds()
    }

    fn deliver_rtp(&self, packets: Vec<(std::time::Instant, rtc::rtp::Packet)>) {
        self.media.deliver_rtp(packets);
    }

    fn take_over_rtcp(&self) -> bool {
        self.media.take_over_rtcp()
    }

    fn rtcp(&self, now: std::time::Instant) -> Vec<Box<dyn rtc::rtcp::Packet>> {
        self.media.rtcp(now)
    }

    fn rtcp_due(&self) -> Option<std::time::Instant> {
        self.media.rtcp_due()
    }
}

/// The data channels of a handler's connection (what [`crate::SendHandler::data_channels`] and
/// [`crate::RecvHandler::data_channels`] give).
pub struct DataChannels<'a>(pub(crate) &'a super::transport::Transport);

impl DataChannels<'_> {
    /// Creates the negotiated channel `options` describes; its messages and events go to
    /// `sink`. Returns the channel and whether it is open already: false until the SCTP
    /// association is up, when [`DataEvent::Open`] comes.
    pub fn open(
        &self,
        options: &DataChannelOptions,
        sink: Arc<dyn DataSink>,
    ) -> Result<(DataChannelId, bool), HandlerError> {
        self.0.open_data_channel(options, sink)
    }

    /// Sends one message on `channel`; returns its buffered amount after it. A message larger
    /// than the maximum size is `InvalidArgument`; a channel not open yet or closed is
    /// `InvalidState`.
    pub fn send(
        &self,
        channel: DataChannelId,
        message: OutgoingMessage,
    ) -> Result<usize, HandlerError> {
        self.0.send_data(channel, message)
    }

    /// Bytes sent on `channel` that SCTP has not released yet (W3C `bufferedAmount`).
    pub fn buffered_amount(&self, channel: DataChannelId) -> usize {
        self.0.data_buffered_amount(channel)
    }

    /// The buffered amount at or below which `channel` reports [`DataEvent::BufferedAmountLow`].
    pub fn set_buffered_amount_low_threshold(&self, channel: DataChannelId, threshold: u32) {
        self.0.set_data_low_threshold(channel, threshold);
    }

    /// Closes `channel` (its stream is reset); nothing of it reaches its sink any more.
    pub fn close(&self, channel: DataChannelId) -> Result<(), HandlerError> {
        self.0.close_data_channel(channel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// A media direction that reads in rounds, knows SSRC 5 and has RTCP of its own due at
    /// `due`.
    struct Media {
        due: Instant,
        taken_over: std::sync::atomic::AtomicBool,
    }

    impl Inbound for Media {
        fn deliver(&self, _messages: Vec<TaggedRTCMessage>) {}
        fn knows(&self, ssrc: u32) -> bool {
            ssrc == 5
        }
        fn reads_in_rounds(&self) -> bool {
            true
        }
        fn take_over_rtcp(&self) -> bool {
            self.taken_over
                .store(true, std::sync::atomic::Ordering::Relaxed);
            true
        }
        fn rtcp(&self, _now: Instant) -> Vec<Box<dyn rtc::rtcp::Packet>> {
            vec![Box::new(
                rtc::rtcp::receiver_report::ReceiverReport::default(),
            )]
        }
        fn rtcp_due(&self) -> Option<Instant> {
            Some(self.due)
        }
    }

    #[test]
    fn a_direction_with_data_channels_keeps_what_its_media_does_with_rtp_and_rtcp() {
        let due = Instant::now() + Duration::from_millis(100);
        let media = Arc::new(Media {
            due,
            taken_over: Default::default(),
        });
        let with = WithData {
            media: media.clone(),
            data: Arc::default(),
        };
        assert!(with.knows(5) && !with.knows(6));
        assert!(with.reads_in_rounds());
        assert!(with.take_over_rtcp());
        assert!(media.taken_over.load(std::sync::atomic::Ordering::Relaxed));
        assert_eq!(with.rtcp(due).len(), 1);
        assert_eq!(with.rtcp_due(), Some(due));
    }
}
