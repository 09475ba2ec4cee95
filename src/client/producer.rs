//! Producer: one track's media sent to the server, and what the application can do with it.
//!
//! A producer keeps one webrtc-rs writer per encoding for its whole life; the track the
//! program feeds is a source plugged into the producer's sink. Pausing, dropping a spatial
//! layer and replacing the track happen here, never in the webrtc-rs sender (see DESIGN.md).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::mpsc;

use msc_handler::RtpWriter;
use msc_media::{FrameTrack, KeyframeReason, RtpChunk, RtpSink};
use msc_ortc::{MediaKind, RtpParameters};

use crate::error::{Error, Result};

/// The per-encoding state of the send path.
struct Layer {
    /// encodings[i].active (setRtpEncodingParameters)
    active: AtomicBool,
    stamp: Mutex<Stamp>,
}

/// How packets of one encoding are numbered: the sequence numbers and timestamps continue
/// across track changes, so the server sees one unbroken stream.
struct Stamp {
    next_seq: u16,
    /// added to the track's timestamps
    ts_offset: u32,
    /// the next packet comes from a new source: re-base its timestamps
    rebase: bool,
    last: Option<(u32, Instant)>,
}

/// One packet on its way to the webrtc-rs writer of its encoding.
struct Outgoing {
    layer: usize,
    seq: u16,
    timestamp: u32,
    marker: bool,
    payload: bytes::Bytes,
    /// RFC 6464 byte of the `ssrc-audio-level` extension, when the chunk has a level.
    audio_level: Option<u8>,
}

/// Where the track's packets go: drops what must not be sent, numbers the rest and hands them
/// to the task that writes them (webrtc-rs writes are async; tracks are written from JS).
pub struct ProducerSink {
    layers: Vec<Layer>,
    clock_rate: u32,
    paused: AtomicBool,
    closed: AtomicBool,
    max_spatial_layer: AtomicUsize,
    track: Mutex<Option<Arc<FrameTrack>>>,
    tx: mpsc::UnboundedSender<Outgoing>,
}

impl RtpSink for ProducerSink {
    fn send(&self, layer: usize, chunk: RtpChunk) {
        if self.paused.load(Ordering::Relaxed) || self.closed.load(Ordering::Relaxed) {
            return;
        }
        if layer > self.max_spatial_layer.load(Ordering::Relaxed) {
            return;
        }
        let Some(l) = self.layers.get(layer) else {
            return;
        };
        if !l.active.load(Ordering::Relaxed) {
            return;
        }
        let (seq, timestamp) = {
            let mut st = l.stamp.lock().unwrap();
            let now = Instant::now();
            if st.rebase {
                st.rebase = false;
                if let Some((last_ts, at)) = st.last {
                    let elapsed = (now - at).as_secs_f64() * self.clock_rate as f64;
                    let next = last_ts.wrapping_add((elapsed as u32).max(1));
                    st.ts_offset = next.wrapping_sub(chunk.timestamp);
                }
            }
            let seq = st.next_seq;
            st.next_seq = seq.wrapping_add(1);
            let timestamp = chunk.timestamp.wrapping_add(st.ts_offset);
            st.last = Some((timestamp, now));
            (seq, timestamp)
        };
        let _ = self.tx.send(Outgoing {
            layer,
            seq,
            timestamp,
            marker: chunk.marker,
            payload: chunk.payload,
            audio_level: chunk.audio_level.map(|l| l.to_byte()),
        });
    }
}

impl ProducerSink {
    fn current_track(&self) -> Option<Arc<FrameTrack>> {
        self.track.lock().unwrap().clone()
    }
}

/// The most packets the pump takes from its queue at once: a few frames of a 1-2 Mbps video
/// stream. Its buffer lives as long as the producer (16 packets: 768 bytes).
const PUMP_BATCH: usize = 16;

/// Writes the producer's packets, in order, until the producer is gone. What is queued when
/// the task runs (a frame's packets, as a rule) is written together, each run of one layer in
/// one call: its datagrams leave together.
async fn pump(writers: Vec<RtpWriter>, mut rx: mpsc::UnboundedReceiver<Outgoing>) {
    let mut batch = Vec::with_capacity(PUMP_BATCH);
    while rx.recv_many(&mut batch, PUMP_BATCH).await > 0 {
        let mut packets = batch.drain(..).peekable();
        while let Some(first) = packets.next() {
            let layer = first.layer;
            let run = std::iter::once(first)
                .chain(std::iter::from_fn(|| packets.next_if(|p| p.layer == layer)))
                .map(|p| (p.seq, p.timestamp, p.marker, p.payload, p.audio_level));
            if let Err(e) = writers[layer].write_many(run).await {
                tracing::debug!("rtp write failed on layer {layer}: {e}");
                if writers[layer].closed() {
                    return;
                }
            }
        }
    }
}

/// What the transport needs back from a producer when it closes.
pub(crate) trait ProducerOwner: Send + Sync {
    fn producer_closed(&self, local_id: &str);
}

/// One track's media sent over a send transport (mediasoup-client's `Producer`). Made by
/// [`Transport::produce`](crate::Transport::produce); shared as an `Arc`, every method takes
/// `&self`, and every call but the getters and [`Producer::close`] is an InvalidStateError
/// once it is closed.
pub struct Producer {
    id: String,
    local_id: String,
    kind: MediaKind,
    rtp_parameters: RtpParameters,
    sink: Arc<ProducerSink>,
    owner: std::sync::Weak<dyn ProducerOwner>,
    codec: msc_ortc::RtpCodecParameters,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("id", &self.id)
            .field("local_id", &self.local_id)
            .field("kind", &self.kind)
            .field("closed", &self.closed())
            .finish()
    }
}

impl Producer {
    pub(crate) fn new(
        id: String,
        local_id: String,
        kind: MediaKind,
        rtp_parameters: RtpParameters,
        writers: Vec<RtpWriter>,
        owner: std::sync::Weak<dyn ProducerOwner>,
    ) -> Result<Arc<Self>> {
        let codec = rtp_parameters
            .codecs
            .first()
            .cloned()
            .ok_or_else(|| Error::other("producer has no codec"))?;
        let layers = writers
            .iter()
            .map(|_| Layer {
                active: AtomicBool::new(true),
                stamp: Mutex::new(Stamp {
                    next_seq: msc_handler::first_sequence_number(),
                    ts_offset: 0,
                    rebase: false,
                    last: None,
                }),
            })
            .collect::<Vec<_>>();
        let num_layers = layers.len();
        let (tx, rx) = mpsc::unbounded_channel();
        let sink = Arc::new(ProducerSink {
            layers,
            clock_rate: codec.clock_rate,
            tx,
            paused: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            max_spatial_layer: AtomicUsize::new(num_layers.saturating_sub(1)),
            track: Mutex::new(None),
        });
        // keyframe requests from the server go to whatever track feeds the layer now
        for (index, writer) in writers.iter().enumerate() {
            let weak = Arc::downgrade(&sink);
            writer.on_keyframe_request(Box::new(move || {
                if let Some(track) = weak.upgrade().and_then(|s| s.current_track()) {
                    track.request_keyframe(index, KeyframeReason::Server);
                }
            }));
        }
        tokio::spawn(pump(writers, rx));
        Ok(Arc::new(Producer {
            id,
            local_id,
            kind,
            rtp_parameters,
            sink,
            owner,
            codec,
        }))
    }

    /// The server-side producer id, as the application's `produce` signalling returned it.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The MID of this producer's transceiver in the transport's SDP (mediasoup-client's
    /// `localId`); unique within the transport.
    pub fn local_id(&self) -> &str {
        &self.local_id
    }
    /// Audio or video, fixed at creation; a replacement track must be of the same kind.
    pub fn kind(&self) -> MediaKind {
        self.kind
    }
    /// The RTP parameters sent to the server in the `produce` signalling (codecs, header
    /// extensions, encodings with their SSRCs or RIDs).
    pub fn rtp_parameters(&self) -> &RtpParameters {
        &self.rtp_parameters
    }
    /// Closed by [`Producer::close`] or by its transport closing; a producer never reopens.
    pub fn closed(&self) -> bool {
        self.sink.closed.load(Ordering::Relaxed)
    }
    /// Paused: frames written to the track are dropped, nothing is sent. False at creation.
    pub fn paused(&self) -> bool {
        self.sink.paused.load(Ordering::Relaxed)
    }
    /// Index of the highest encoding sent; encodings above it are not sent. The last encoding
    /// (all of them sent) at creation.
    pub fn max_spatial_layer(&self) -> usize {
        self.sink.max_spatial_layer.load(Ordering::Relaxed)
    }
    /// Number of encodings (1 without simulcast), fixed for the producer's life.
    pub fn num_layers(&self) -> usize {
        self.sink.layers.len()
    }
    /// The track plugged in now, if any.
    pub fn track(&self) -> Option<Arc<FrameTrack>> {
        self.sink.current_track()
    }

    fn check_open(&self) -> Result<()> {
        if self.closed() {
            Err(Error::invalid_state("closed"))
        } else {
            Ok(())
        }
    }

    /// Plugs `track` (or nothing) into this producer; the previous track is unplugged and
    /// returned so the caller can stop it when the producer owns its tracks.
    pub fn set_track(&self, track: Option<Arc<FrameTrack>>) -> Result<Option<Arc<FrameTrack>>> {
        self.check_open()?;
        if let Some(t) = &track {
            if t.kind() != self.kind {
                return Err(Error::type_error(format!(
                    "cannot replace a {} track with a {} track",
                    self.kind.as_str(),
                    t.kind().as_str()
                )));
            }
            if t.ended() {
                return Err(Error::invalid_state("track ended"));
            }
        }
        let mut slot = self.sink.track.lock().unwrap();
        if let (Some(old), Some(new)) = (slot.as_ref(), track.as_ref()) {
            if Arc::ptr_eq(old, new) {
                return Ok(None);
            }
        }
        if let Some(t) = &track {
            let sink: Arc<dyn RtpSink> = self.sink.clone();
            t.attach(sink, &self.codec, self.sink.layers.len())
                .map_err(|e| Error::invalid_state(e.to_string()))?;
        }
        let old = std::mem::replace(&mut *slot, track);
        drop(slot);
        for l in &self.sink.layers {
            l.stamp.lock().unwrap().rebase = true;
        }
        if let Some(old) = &old {
            old.detach();
        }
        // a new source starts with a keyframe on every layer
        if let Some(t) = self.track() {
            for layer in 0..self.num_layers() {
                t.request_keyframe(layer, KeyframeReason::Start);
            }
        }
        Ok(old)
    }

    /// Stops sending (`producer.pause()`); the track stays plugged in and its frames are
    /// dropped. Only this side stops: telling the server is the application's signalling.
    pub fn pause(&self) -> Result<()> {
        self.check_open()?;
        self.sink.paused.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Sends again after [`Producer::pause`], asking the track for a keyframe on every encoding
    /// so that the receivers can decode at once. No effect when not paused.
    pub fn resume(&self) -> Result<()> {
        self.check_open()?;
        let was_paused = self.sink.paused.swap(false, Ordering::Relaxed);
        if was_paused {
            if let Some(t) = self.track() {
                for layer in 0..self.num_layers() {
                    t.request_keyframe(layer, KeyframeReason::Resume);
                }
            }
        }
        Ok(())
    }

    /// `producer.setMaxSpatialLayer(layer)`: sends encodings `0..=layer` only; encodings coming
    /// back get a keyframe request. UnsupportedError for an audio producer, TypeError for a
    /// layer outside `0..num_layers()`.
    pub fn set_max_spatial_layer(&self, layer: i64) -> Result<()> {
        self.check_open()?;
        if self.kind != MediaKind::Video {
            return Err(Error::unsupported("not a video Producer"));
        }
        if layer < 0 || layer as usize >= self.num_layers() {
            return Err(Error::type_error(format!(
                "invalid spatialLayer {layer}: this producer has {} encoding(s)",
                self.num_layers()
            )));
        }
        let old = self
            .sink
            .max_spatial_layer
            .swap(layer as usize, Ordering::Relaxed);
        // layers coming back need a keyframe to be decodable
        if (layer as usize) > old {
            if let Some(t) = self.track() {
                for l in old + 1..=layer as usize {
                    t.request_keyframe(l, KeyframeReason::Start);
                }
            }
        }
        Ok(())
    }

    /// `encodings[i].active` for each encoding (None: leave as is).
    pub fn set_encodings_active(&self, active: &[Option<bool>]) -> Result<()> {
        self.check_open()?;
        for (l, a) in self.sink.layers.iter().zip(active) {
            if let Some(a) = a {
                l.active.store(*a, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// Closes the producer: nothing is sent any more, the track is unplugged (and returned),
    /// and the transport stops the sender. Idempotent.
    pub fn close(&self) -> Option<Arc<FrameTrack>> {
        if self.sink.closed.swap(true, Ordering::Relaxed) {
            return None;
        }
        let old = self.sink.track.lock().unwrap().take();
        if let Some(t) = &old {
            t.detach();
        }
        if let Some(owner) = self.owner.upgrade() {
            owner.producer_closed(&self.local_id);
        }
        old
    }

    /// Marks the producer closed because its transport closed (no sender to stop).
    pub(crate) fn transport_closed(&self) -> Option<Arc<FrameTrack>> {
        if self.sink.closed.swap(true, Ordering::Relaxed) {
            return None;
        }
        let old = self.sink.track.lock().unwrap().take();
        if let Some(t) = &old {
            t.detach();
        }
        old
    }
}
