//! Consumer: the client side of a server consumer (mediasoup-client's `Consumer`), receiving
//! one stream into its [`RemoteTrack`].
//!
//! Pausing is local (the track delivers nothing while paused) and never renegotiates:
//! webrtc-rs stops a transceiver for good on `a=inactive`, and the server keeps sending until
//! the application pauses the server consumer through its own signalling.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;

use msc_handler::{marshal_rtp, ReceiveSink, RtpPacket};
use msc_media::RemoteTrack;
use msc_ortc::{MediaKind, RtpParameters};

/// What a consumer needs of its transport.
pub trait ConsumerOwner: Send + Sync {
    /// The consumer `local_id` was closed by the application: stop receiving it.
    fn consumer_closed(&self, local_id: &str);
}

/// One consumer of a receive transport.
pub struct Consumer {
    id: String,
    producer_id: String,
    local_id: String,
    kind: MediaKind,
    rtp_parameters: RtpParameters,
    track: Arc<RemoteTrack>,
    closed: AtomicBool,
    owner: Weak<dyn ConsumerOwner>,
}

impl Consumer {
    pub(crate) fn new(
        id: String,
        producer_id: String,
        local_id: String,
        kind: MediaKind,
        rtp_parameters: RtpParameters,
        track: Arc<RemoteTrack>,
        owner: Weak<dyn ConsumerOwner>,
    ) -> Arc<Self> {
        Arc::new(Consumer {
            id,
            producer_id,
            local_id,
            kind,
            rtp_parameters,
            track,
            closed: AtomicBool::new(false),
            owner,
        })
    }

    /// The server consumer's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The id of the server producer it consumes.
    pub fn producer_id(&self) -> &str {
        &self.producer_id
    }

    /// Its mid in the transport's SDP.
    pub fn local_id(&self) -> &str {
        &self.local_id
    }

    /// Audio or video.
    pub fn kind(&self) -> MediaKind {
        self.kind
    }

    /// The RTP parameters the server gave.
    pub fn rtp_parameters(&self) -> &RtpParameters {
        &self.rtp_parameters
    }

    /// What it receives.
    pub fn track(&self) -> &Arc<RemoteTrack> {
        &self.track
    }

    /// Whether it was closed (by the application or with its transport).
    pub fn closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Whether it is paused (locally).
    pub fn paused(&self) -> bool {
        self.track.paused()
    }

    /// Stops delivering (the server still sends until its consumer is paused).
    pub fn pause(&self) {
        if !self.closed() {
            self.track.set_paused(true);
        }
    }

    /// Delivers again; video asks for a keyframe.
    pub fn resume(&self) {
        if !self.closed() {
            self.track.set_paused(false);
        }
    }

    /// Closes it: the track ends and the transport stops receiving it. Idempotent.
    pub fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.track.end();
        if let Some(owner) = self.owner.upgrade() {
            owner.consumer_closed(&self.local_id);
        }
    }

    /// Its transport closed: closed and the track ended, nothing asked of the transport.
    pub(crate) fn transport_closed(&self) {
        self.closed.store(true, Ordering::Release);
        self.track.end();
    }
}

/// Where the handler delivers a consumer's packets: its track.
pub(crate) struct TrackSink(pub(crate) Arc<RemoteTrack>);

impl ReceiveSink for TrackSink {
    fn rtp(&self, now: Instant, packet: RtpPacket) {
        // the payload moved on, not shared: the packet is written back only for RTP readers
        let RtpPacket { header, payload } = packet;
        self.0.push_rtp(
            now,
            header.sequence_number,
            header.timestamp,
            header.marker,
            payload,
            |payload| marshal_rtp(&header, payload),
        );
    }

    fn sender_report(&self, _now: Instant, ntp_time: u64, rtp_time: u32) {
        self.0.sender_report(ntp_time, rtp_time);
    }
}
