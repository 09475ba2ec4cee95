//! [`RtpWriter`]: one encoding (one SSRC) of a sending transceiver.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use rtc::interceptor::StreamInfo;
use rtc::rtp;

use crate::connection::driver::RtpSink;
use crate::error::HandlerError;
use crate::extensions::{self, AUDIO_LEVEL_URI, MID_URI, RID_URI};

type Callback = Arc<dyn Fn() + Send + Sync>;

/// What an answer negotiated for a writer, packed in one `u64` so that the hot path reads it
/// with one atomic load: bits 0-7 payload type, 8-15 mid extension id, 16-23 rid extension id,
/// 24-31 audio-level extension id (0 = not negotiated), bit 32 = bound (an answer has been
/// applied).
#[derive(Clone, Copy)]
struct Negotiated(u64);

impl Negotiated {
    const BOUND: u64 = 1 << 32;
    const NOTHING: Negotiated = Negotiated(0);

    fn bound(payload_type: u8, mid_id: u8, rid_id: u8, audio_level_id: u8) -> Self {
        Self(
            Self::BOUND
                | u64::from(payload_type)
                | u64::from(mid_id) << 8
                | u64::from(rid_id) << 16
                | u64::from(audio_level_id) << 24,
        )
    }

    fn is_bound(self) -> bool {
        self.0 & Self::BOUND != 0
    }

    fn byte(self, shift: u32) -> u8 {
        (self.0 >> shift) as u8
    }

    fn payload_type(self) -> u8 {
        self.byte(0)
    }

    fn mid_id(self) -> u8 {
        self.byte(8)
    }

    fn rid_id(self) -> u8 {
        self.byte(16)
    }

    fn audio_level_id(self) -> u8 {
        self.byte(24)
    }
}

/// Every one-byte value, so that a one-byte extension value is a slice of static memory (no
/// allocation per packet).
static ONE_BYTE_VALUES: [u8; 256] = {
    let mut all = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        all[i] = i as u8;
        i += 1;
    }
    all
};

/// RTCP feedback received about this SSRC (see `feedback::Feedback`).
#[derive(Default)]
pub(crate) struct FeedbackCounters {
    pub(crate) nack: AtomicU32,
    pub(crate) pli: AtomicU32,
    pub(crate) fir: AtomicU32,
}

pub(crate) struct WriterState {
    sink: Arc<RtpSink>,
    ssrc: u32,
    rtx_ssrc: Option<u32>,
    rid: Option<String>,
    mid: Bytes,
    rid_bytes: Option<Bytes>,
    negotiated: AtomicU64,
    closed: AtomicBool,
    on_keyframe_request: Mutex<Option<Callback>>,
    pub(crate) counters: FeedbackCounters,
}

impl WriterState {
    pub(crate) fn new(
        sink: Arc<RtpSink>,
        mid: &str,
        ssrc: u32,
        rtx_ssrc: Option<u32>,
        rid: Option<String>,
    ) -> Self {
        Self {
            sink,
            ssrc,
            rtx_ssrc,
            rid_bytes: rid.as_ref().map(|r| Bytes::copy_from_slice(r.as_bytes())),
            rid,
            mid: Bytes::copy_from_slice(mid.as_bytes()),
            negotiated: AtomicU64::new(Negotiated::NOTHING.0),
            closed: AtomicBool::new(false),
            on_keyframe_request: Mutex::new(None),
            counters: FeedbackCounters::default(),
        }
    }

    /// Called (inside webrtc-rs) when the stream is bound after an answer.
    pub(crate) fn bind(&self, info: &StreamInfo) {
        let id_of = |uri: &str| {
            extensions::extension_id(info, uri)
                .filter(|id| (1..=14).contains(id))
                .unwrap_or(0)
        };
        let negotiated = Negotiated::bound(
            info.payload_type,
            id_of(MID_URI),
            id_of(RID_URI),
            id_of(AUDIO_LEVEL_URI),
        );
        self.negotiated.store(negotiated.0, Ordering::Release);
        tracing::debug!(
            ssrc = self.ssrc,
            payload_type = info.payload_type,
            rtx = ?info.ssrc_rtx.zip(info.payload_type_rtx),
            "encoding bound"
        );
    }

    pub(crate) fn ssrc(&self) -> u32 {
        self.ssrc
    }

    pub(crate) fn rtx_ssrc(&self) -> Option<u32> {
        self.rtx_ssrc
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.on_keyframe_request.lock().map(|mut f| f.take()).ok();
    }

    pub(crate) fn keyframe_requested(&self) {
        let callback = self.on_keyframe_request.lock().ok().and_then(|f| f.clone());
        if let Some(callback) = callback {
            callback();
        }
    }
}

/// Sends the RTP packets of one encoding (one SSRC) of a transceiver created by
/// [`crate::SendHandler::send`]. Cheap to clone; all clones are the same writer.
///
/// A writer lives as long as its producer: pausing is done above by not writing, and
/// [`crate::SendHandler::stop_sending`] closes it for good.
#[derive(Clone)]
pub struct RtpWriter {
    state: Arc<WriterState>,
}

impl fmt::Debug for RtpWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RtpWriter")
            .field("ssrc", &self.state.ssrc)
            .field("rtx_ssrc", &self.state.rtx_ssrc)
            .field("rid", &self.state.rid)
            .finish()
    }
}

impl RtpWriter {
    pub(crate) fn new(state: Arc<WriterState>) -> Self {
        Self { state }
    }

    /// Sends one RTP packet on this encoding. The caller chooses sequence number, timestamp,
    /// marker and payload; SSRC, payload type and the MID (and RID) header extensions are
    /// stamped here with the negotiated values; the connection's interceptor
    /// (`outbound::OutboundInterceptor`) adds the transport-wide-cc sequence number and keeps
    /// the packet for NACK; webrtc-rs encrypts it and it is sent.
    ///
    /// Errors: `InvalidState` before an answer has been applied, after
    /// [`crate::SendHandler::stop_sending`] or after the handler is closed. A packet written
    /// before DTLS is connected is dropped by webrtc-rs (not an error).
    ///
    /// Async because on webrtc-rs' driver (TURN transports) packets go to its task through a
    /// bounded channel, which waits when full; on the direct driver it never waits.
    pub async fn write(
        &self,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: Bytes,
    ) -> Result<(), HandlerError> {
        self.write_packet(seq, timestamp, marker, payload, None)
            .await
    }

    /// As [`write`](Self::write), for several packets of this encoding at once: on the direct
    /// driver they go through the connection in one turn, and their datagrams leave together
    /// (one GSO send on Linux). When the writer cannot write (closed, not negotiated), none is
    /// written.
    ///
    /// The last item of a packet is its `ssrc-audio-level` byte in RFC 6464's form (the V bit,
    /// then -dBov in the low 7 bits), sent when that extension was negotiated; `None` sends
    /// none.
    pub async fn write_many(
        &self,
        packets: impl IntoIterator<Item = (u16, u32, bool, Bytes, Option<u8>)>,
    ) -> Result<(), HandlerError> {
        let negotiated = self.negotiated()?;
        let packets = packets
            .into_iter()
            .map(|(seq, timestamp, marker, payload, audio_level)| {
                self.packet(negotiated, seq, timestamp, marker, payload, audio_level)
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.send(packets).await
    }

    async fn write_packet(
        &self,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: Bytes,
        audio_level: Option<u8>,
    ) -> Result<(), HandlerError> {
        let negotiated = self.negotiated()?;
        let packet = self.packet(negotiated, seq, timestamp, marker, payload, audio_level)?;
        self.send([packet]).await
    }

    /// What was negotiated, or why nothing can be written now.
    fn negotiated(&self) -> Result<Negotiated, HandlerError> {
        let state = &*self.state;
        if state.closed.load(Ordering::Acquire) {
            return Err(HandlerError::InvalidState(
                "the RTP writer is closed".into(),
            ));
        }
        let negotiated = Negotiated(state.negotiated.load(Ordering::Acquire));
        if !negotiated.is_bound() {
            return Err(HandlerError::InvalidState(
                "the RTP writer is not negotiated yet (no answer applied)".into(),
            ));
        }
        Ok(negotiated)
    }

    /// The packet with its header: SSRC, payload type, MID/RID and audio level from `negotiated`.
    fn packet(
        &self,
        negotiated: Negotiated,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: Bytes,
        audio_level: Option<u8>,
    ) -> Result<rtp::Packet, HandlerError> {
        let state = &*self.state;
        let mut header = rtp::header::Header {
            version: 2,
            marker,
            payload_type: negotiated.payload_type(),
            sequence_number: seq,
            timestamp,
            ssrc: state.ssrc,
            ..Default::default()
        };
        let mut set = |ext_id: u8, value: Bytes| {
            if ext_id != 0 {
                header
                    .set_extension(ext_id, value)
                    .map_err(HandlerError::webrtc)
            } else {
                Ok(())
            }
        };
        set(negotiated.mid_id(), state.mid.clone())?;
        if let Some(rid) = &state.rid_bytes {
            set(negotiated.rid_id(), rid.clone())?;
        }
        if let Some(level) = audio_level {
            let at = usize::from(level);
            set(
                negotiated.audio_level_id(),
                Bytes::from_static(&ONE_BYTE_VALUES[at..=at]),
            )?;
        }
        Ok(rtp::Packet { header, payload })
    }

    async fn send(
        &self,
        packets: impl IntoIterator<Item = rtp::Packet>,
    ) -> Result<(), HandlerError> {
        self.state.sink.write(packets).await
    }

    /// The SSRC of this encoding (chosen by the handler when the transceiver was created).
    pub fn ssrc(&self) -> u32 {
        self.state.ssrc
    }

    /// The SSRC of this encoding's RTX stream, when the codecs given to `send` include RTX.
    /// NACKs are answered there (RFC 4588, `nack_history.rs`), with no header extension but
    /// the transport-wide sequence number: the server must know this SSRC from the RTP
    /// parameters.
    pub fn rtx_ssrc(&self) -> Option<u32> {
        self.state.rtx_ssrc
    }

    /// The RID of this encoding (simulcast), `None` for a single encoding.
    pub fn rid(&self) -> Option<String> {
        self.state.rid.clone()
    }

    /// The payload type negotiated for this encoding, once an answer has been applied.
    pub fn payload_type(&self) -> Option<u8> {
        let negotiated = Negotiated(self.state.negotiated.load(Ordering::Acquire));
        negotiated.is_bound().then(|| negotiated.payload_type())
    }

    /// Whether the writer was closed (`stop_sending` or handler closed).
    pub fn closed(&self) -> bool {
        self.state.closed.load(Ordering::Acquire)
    }

    /// Sets (replaces) the callback called for each keyframe request (RTCP PLI or FIR from
    /// the remote) about this encoding. Called from a tokio task, never from inside
    /// webrtc-rs; it should return quickly.
    pub fn on_keyframe_request(&self, f: Box<dyn Fn() + Send + Sync>) {
        if let Ok(mut slot) = self.state.on_keyframe_request.lock() {
            *slot = Some(Arc::from(f));
        }
    }
}
