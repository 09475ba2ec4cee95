//! What a connection does with what its core delivers to the application (RTP of its receivers,
//! data channel messages and events): hands it, in the order the core produced it, to
//! the [`Inbound`] its direction gave at creation. Called outside the core's lock, so that a
//! direction's processing never holds up the sockets and timers of the connection.

use std::time::Instant;

use rtc::peer_connection::event::RTCDataChannelEvent;
use rtc::peer_connection::message::TaggedRTCMessage;
use rtc::{rtcp, rtp};

/// Takes what the core delivered. Called on the connection's tasks, one call at a time, in
/// order: it must not block (hand the messages over and return).
pub(crate) trait Inbound: Send + Sync {
    /// Messages read since the last call, oldest first.
    fn deliver(&self, messages: Vec<TaggedRTCMessage>);

    /// Data channel events (open, closing, closed, buffered amount low or high, error) since
    /// the last call, oldest first; delivered after the messages of the same call to
    /// [`Inbound::deliver`].
    fn data_events(&self, _events: Vec<RTCDataChannelEvent>) {}

    /// Whether `ssrc` is one of the direction's streams (called under the connection's lock).
    /// The connection reads the RTP of the direction's streams itself, once it has found the
    /// keys from a first packet of one of them, and gives it here
    /// ([`note_rtp`](Self::note_rtp), then [`deliver_rtp`](Self::deliver_rtp)) instead of to
    /// webrtc-rs' core; from then on, RTP of any other SSRC is dropped.
    fn knows(&self, _ssrc: u32) -> bool {
        false
    }

    /// How many times the direction has forgotten streams: when it changes, the connection
    /// drops what it kept for the SSRCs [`knows`](Self::knows) no longer names.
    fn forgotten(&self) -> u64 {
        0
    }

    /// RTP packets the connection decrypted, oldest first, under its lock: note them (and
    /// rewrite them, a retransmission into the packet it repairs) and return when the
    /// direction next has something to send (its interceptor's next timeout).
    fn note_rtp(&self, _packets: &mut [(Instant, rtp::Packet)]) -> Option<Instant> {
        None
    }

    /// The packets noted since the last call, oldest first, outside the connection's lock.
    fn deliver_rtp(&self, _packets: Vec<(Instant, rtp::Packet)>) {}

    /// Hands the direction's RTCP over to the connection, which then writes it outside the
    /// core (`own_rtcp.rs`): [`rtcp`](Self::rtcp) at the times
    /// [`rtcp_due`](Self::rtcp_due) and [`note_rtp`](Self::note_rtp) give, and the direction's
    /// interceptor no longer asks the core to. Called under the connection's lock, once the
    /// keys are known; false when the direction writes no RTCP of its own.
    fn take_over_rtcp(&self) -> bool {
        false
    }

    /// The RTCP due at `now`, once taken over.
    fn rtcp(&self, _now: Instant) -> Vec<Box<dyn rtcp::Packet>> {
        Vec::new()
    }

    /// When [`rtcp`](Self::rtcp) is next due.
    fn rtcp_due(&self) -> Option<Instant> {
        None
    }

    /// Whether the connection's sockets are read in the process's receive rounds (`rounds.rs`:
    /// fewer wake-ups for a receiving process, each datagram read at most a round late)
    /// rather than as each datagram comes. Asked once, at creation.
    fn reads_in_rounds(&self) -> bool {
        false
    }
}

/// A connection that receives nothing (a send transport): drops whatever the core delivers
/// (the interceptors have already observed inbound RTCP).
pub(crate) struct Discard;

impl Inbound for Discard {
    fn deliver(&self, _messages: Vec<TaggedRTCMessage>) {}
}
