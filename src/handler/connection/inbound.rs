//! What a connection does with what its core delivers to the application (RTP of its receivers,
//! data channel messages and events): hands it, in the order the core produced it, to
//! the [`Inbound`] its direction gave at creation. Called outside the core's lock, so that a
//! direction's processing never holds up the sockets and timers of the connection.

use std::time::Instant;

use rtc::peer_connection::event::RTCDataChannelEvent;
use rtc::peer_connection::message::TaggedRTCMessage;
use rtc::rtp;

/// Takes what the core delivered. Called on the connection's tasks, one call at a time, in
/// order: it must not block (hand the messages over and return).
pub(crate) trait Inbound: Send + Sync {
    /// Messages read since the last call, oldest first.
    fn deliver(&self, messages: Vec<TaggedRTCMessage>);

    /// Data channel events (open, closing, closed, buffered amount low or high, error) since
    /// the last call, oldest first; delivered after the messages of the same call to
    /// [`Inbound::deliver`].
    fn data_events(&self, _events: Vec<RTCDataChannelEvent>) {}

    /// Whether packets of `ssrc` are to be read by the connection (called under its lock): it
    /// then decrypts them itself, once it has the keys, and gives them here
    /// ([`note_rtp`](Self::note_rtp), then [`deliver_rtp`](Self::deliver_rtp)) instead of to
    /// webrtc-rs' core. The core binds a stream in the interceptors on its first packet, so
    /// the first packets of a stream are the core's, and the direction knows the stream from
    /// then on.
    fn knows(&self, _ssrc: u32) -> bool {
        false
    }

    /// An RTP packet the connection decrypted, under its lock, in arrival order: note it (and
    /// rewrite it, a retransmission into the packet it repairs) and return.
    fn note_rtp(&self, _now: Instant, _packet: &mut rtp::Packet) {}

    /// The packets noted since the last call, oldest first, outside the connection's lock.
    fn deliver_rtp(&self, _packets: Vec<(Instant, rtp::Packet)>) {}
}

/// A connection that receives nothing (a send transport): drops whatever the core delivers
/// (the interceptors have already observed inbound RTCP).
pub(crate) struct Discard;

impl Inbound for Discard {
    fn deliver(&self, _messages: Vec<TaggedRTCMessage>) {}
}
