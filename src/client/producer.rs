//! Producer: one track's media sent to the server, and what the application can do with it.
//!
//! A producer keeps one webrtc-rs writer per encoding for its whole life; the track the
//! program feeds is a source plugged into the producer's sink. Pausing, dropping a spatial
//! layer and replacing the track happen here, never in the webrtc-rs sender (see DESIGN.md).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use msc_handler::RtpWriter;
use msc_media::{FrameTrack, RtpChunk, RtpSink};
use msc_ortc::{MediaKind, RtpParameters};

use crate::error::{Error, Result};

/// The per-encoding state of the send path.
struct Layer {
    writer: RtpWriter,
    /// next RTP sequence number; kept across track changes so the stream stays continuous
    seq: Mutex<u16>,
    /// encodings[i].active (setRtpEncodingParameters)
    active: AtomicBool,
}

/// Where the track's packets go: drops what must not be sent, stamps the rest.
pub struct ProducerSink {
    layers: Vec<Layer>,
    paused: AtomicBool,
    closed: AtomicBool,
    max_spatial_layer: AtomicUsize,
    track: Mutex<Option<Arc<FrameTrack>>>,
}

impl RtpSink for ProducerSink {
    fn send(&self, layer: usize, chunk: RtpChunk) {
        if self.paused.load(Ordering::Relaxed) || self.closed.load(Ordering::Relaxed) {
            return;
        }
        if layer > self.max_spatial_layer.load(Ordering::Relaxed) {
            return;
        }
        let Some(l) = self.layers.get(layer) else { return };
        if !l.active.load(Ordering::Relaxed) {
            return;
        }
        let seq = {
            let mut next = l.seq.lock().unwrap();
            let seq = *next;
            *next = next.wrapping_add(1);
            seq
        };
        if let Err(e) = l.writer.write(seq, chunk.timestamp, chunk.marker, chunk.payload) {
            tracing::debug!("rtp write failed on layer {layer}: {e}");
        }
    }
}

impl ProducerSink {
    fn current_track(&self) -> Option<Arc<FrameTrack>> {
        self.track.lock().unwrap().clone()
    }
}

/// What the transport needs back from a producer when it closes.
pub(crate) trait ProducerOwner: Send + Sync {
    fn producer_closed(&self, local_id: &str);
}

pub struct Producer {
    id: String,
    local_id: String,
    kind: MediaKind,
    rtp_parameters: RtpParameters,
    sink: Arc<ProducerSink>,
    owner: std::sync::Weak<dyn ProducerOwner>,
    codec: msc_ortc::RtpCodecParameters,
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
            .into_iter()
            .map(|writer| Layer { writer, seq: Mutex::new(rand_u16()), active: AtomicBool::new(true) })
            .collect::<Vec<_>>();
        let num_layers = layers.len();
        let sink = Arc::new(ProducerSink {
            layers,
            paused: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            max_spatial_layer: AtomicUsize::new(num_layers.saturating_sub(1)),
            track: Mutex::new(None),
        });
        // keyframe requests from the server go to whatever track feeds the layer now
        for (index, layer) in sink.layers.iter().enumerate() {
            let weak = Arc::downgrade(&sink);
            layer.writer.on_keyframe_request(Box::new(move || {
                if let Some(track) = weak.upgrade().and_then(|s| s.current_track()) {
                    track.request_keyframe(index);
                }
            }));
        }
        Ok(Arc::new(Producer { id, local_id, kind, rtp_parameters, sink, owner, codec }))
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn local_id(&self) -> &str {
        &self.local_id
    }
    pub fn kind(&self) -> MediaKind {
        self.kind
    }
    pub fn rtp_parameters(&self) -> &RtpParameters {
        &self.rtp_parameters
    }
    pub fn closed(&self) -> bool {
        self.sink.closed.load(Ordering::Relaxed)
    }
    pub fn paused(&self) -> bool {
        self.sink.paused.load(Ordering::Relaxed)
    }
    pub fn max_spatial_layer(&self) -> usize {
        self.sink.max_spatial_layer.load(Ordering::Relaxed)
    }
    pub fn num_layers(&self) -> usize {
        self.sink.layers.len()
    }
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
        if let Some(old) = &old {
            old.detach();
        }
        // a new source starts with a keyframe on every layer
        if let Some(t) = self.track() {
            for layer in 0..self.num_layers() {
                t.request_keyframe(layer);
            }
        }
        Ok(old)
    }

    pub fn pause(&self) -> Result<()> {
        self.check_open()?;
        self.sink.paused.store(true, Ordering::Relaxed);
        Ok(())
    }

    pub fn resume(&self) -> Result<()> {
        self.check_open()?;
        let was_paused = self.sink.paused.swap(false, Ordering::Relaxed);
        if was_paused {
            if let Some(t) = self.track() {
                for layer in 0..self.num_layers() {
                    t.request_keyframe(layer);
                }
            }
        }
        Ok(())
    }

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
        let old = self.sink.max_spatial_layer.swap(layer as usize, Ordering::Relaxed);
        // layers coming back need a keyframe to be decodable
        if (layer as usize) > old {
            if let Some(t) = self.track() {
                for l in old + 1..=layer as usize {
                    t.request_keyframe(l);
                }
            }
        }
        Ok(())
    }

    /// encodings[i].active for each encoding (None: leave as is).
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

fn rand_u16() -> u16 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u64(std::time::SystemTime::now().elapsed().map(|d| d.as_nanos() as u64).unwrap_or(0));
    h.finish() as u16
}
