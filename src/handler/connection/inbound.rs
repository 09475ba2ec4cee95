//! What a connection does with what its core delivers to the application (RTP of its receivers,
//! data channel messages and events): hands it, in the order the core produced it, to
//! the [`Inbound`] its direction gave at creation. Called outside the core's lock, so that a
//! direction's processing never holds up the sockets and timers of the connection.

use rtc::peer_connection::event::RTCDataChannelEvent;
use rtc::peer_connection::message::TaggedRTCMessage;

/// Takes what the core delivered. Called on the connection's tasks, one call at a time, in
/// order: it must not block (hand the messages over and return).
pub(crate) trait Inbound: Send + Sync {
    /// Messages read since the last call, oldest first.
    fn deliver(&self, messages: Vec<TaggedRTCMessage>);

    /// Data channel events (open, closing, closed, buffered amount low or high, error) since
    /// the last call, oldest first; delivered after the messages of the same call to
    /// [`Inbound::deliver`].
    fn data_events(&self, _events: Vec<RTCDataChannelEvent>) {}
}

/// A connection that receives nothing (a send transport): drops whatever the core delivers
/// (the interceptors have already observed inbound RTCP).
pub(crate) struct Discard;

impl Inbound for Discard {
    fn deliver(&self, _messages: Vec<TaggedRTCMessage>) {}
}
