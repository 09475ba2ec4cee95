//! What inbound RTCP feedback means to the writers, and what they learn when their stream is
//! bound. Used by the connection's interceptor ([`super::outbound::OutboundInterceptor`]):
//! - PLI and FIR become keyframe requests, queued by media SSRC for the dispatcher task,
//!   which calls the writer's callback outside webrtc-rs' locks; NACK/PLI/FIR are counted;
//! - local stream binding (done by webrtc-rs when an answer is applied): the negotiated payload
//!   type and header extension ids of each SSRC, which the writers stamp on their packets.
//!
//! webrtc-rs only delivers inbound RTCP to a `TrackLocal` when an interceptor marks it
//! `DeliverToApplication`, and then through a bounded queue that somebody must poll; observing
//! it in the interceptor is simpler and costs nothing on the media path.
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use rtc::interceptor::StreamInfo;
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::writer::WriterState;

/// The live writers of a connection by media SSRC, writers by the handler (which adds and
/// removes them), the interceptor and the keyframe dispatcher (which look them up).
#[derive(Default)]
pub(crate) struct WriterRegistry {
    pub(crate) by_ssrc: Mutex<HashMap<u32, Arc<WriterState>>>,
}

impl WriterRegistry {
    pub(crate) fn writer(&self, ssrc: u32) -> Option<Arc<WriterState>> {
        self.by_ssrc.lock().ok()?.get(&ssrc).cloned()
    }
}

/// Which kind of keyframe request arrived (both mean "send a keyframe").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyframeRequest {
    Pli,
    Fir,
}

pub(crate) struct Feedback {
    writers: Arc<WriterRegistry>,
    keyframe_tx: UnboundedSender<(u32, KeyframeRequest)>,
}

impl Feedback {
    /// The feedback and the receiving end of its keyframe requests. The channel closes when
    /// the PeerConnection (which owns the interceptor holding it) is dropped.
    pub(crate) fn new(
        writers: Arc<WriterRegistry>,
    ) -> (Self, UnboundedReceiver<(u32, KeyframeRequest)>) {
        let (keyframe_tx, keyframe_rx) = tokio::sync::mpsc::unbounded_channel();
        (
            Self {
                writers,
                keyframe_tx,
            },
            keyframe_rx,
        )
    }

    /// Keyframe requests go to the dispatcher; NACK/PLI/FIR are counted per writer, because
    /// webrtc-rs 0.21.1 never updates `nackCount`/`pliCount`/`firCount` of its outbound-rtp
    /// stats (the code exists but is not called).
    pub(crate) fn observe_rtcp(&self, packets: &[Box<dyn rtc::rtcp::Packet>]) {
        for packet in packets {
            let any = packet.as_any();
            if let Some(pli) = any.downcast_ref::<PictureLossIndication>() {
                if let Some(w) = self.writers.writer(pli.media_ssrc) {
                    w.counters.pli.fetch_add(1, Ordering::Relaxed);
                }
                let _ = self
                    .keyframe_tx
                    .send((pli.media_ssrc, KeyframeRequest::Pli));
            } else if let Some(fir) = any.downcast_ref::<FullIntraRequest>() {
                for entry in &fir.fir {
                    if let Some(w) = self.writers.writer(entry.ssrc) {
                        w.counters.fir.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = self.keyframe_tx.send((entry.ssrc, KeyframeRequest::Fir));
                }
            } else if let Some(nack) = any.downcast_ref::<TransportLayerNack>() {
                if let Some(w) = self.writers.writer(nack.media_ssrc) {
                    w.counters.nack.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// The writer of `info.ssrc` learns its negotiated payload type and extension ids.
    pub(crate) fn bind(&self, info: &StreamInfo) {
        if let Some(writer) = self.writers.writer(info.ssrc) {
            writer.bind(info);
        }
    }
}

/// Calls the writers' keyframe callbacks, off webrtc-rs' driver, until the interceptor is gone.
pub(crate) async fn dispatch_keyframe_requests(
    writers: Arc<WriterRegistry>,
    mut rx: UnboundedReceiver<(u32, KeyframeRequest)>,
) {
    while let Some((ssrc, kind)) = rx.recv().await {
        match writers.writer(ssrc) {
            Some(writer) => {
                tracing::debug!(ssrc, ?kind, "keyframe request");
                writer.keyframe_requested();
            }
            None => tracing::debug!(ssrc, ?kind, "keyframe request for an unknown ssrc"),
        }
    }
}
