//! RTP capabilities derived from extended ones (what the device can receive or send), and
//! the checks a Device makes with them.

use crate::extended::ExtendedRtpCapabilities;
use crate::types::{
    Direction, MediaKind, RtpCapabilities, RtpCodecCapability, RtpHeaderExtension, RtpParameters,
};
use serde_json::{Map, Value};

/// The RTX codec entry for a codec with payload type `apt`.
pub(crate) fn rtx_parameters(apt: Option<u8>) -> Map<String, Value> {
    let mut parameters = Map::new();
    if let Some(apt) = apt {
        parameters.insert("apt".into(), Value::from(apt));
    }
    parameters
}

fn rtp_capabilities(extended: &ExtendedRtpCapabilities, direction: Direction) -> RtpCapabilities {
    let mut caps = RtpCapabilities::default();
    for codec in &extended.codecs {
        caps.codecs.push(RtpCodecCapability {
            kind: codec.kind,
            mime_type: codec.mime_type.clone(),
            preferred_payload_type: codec.remote_payload_type,
            clock_rate: codec.clock_rate,
            channels: codec.channels,
            parameters: codec.local_parameters.clone(),
            rtcp_feedback: codec.rtcp_feedback.clone(),
        });
        // A zero RTX payload type counts as none, as in the reference (JS falsiness).
        let Some(rtx_payload_type) = codec.remote_rtx_payload_type.filter(|pt| *pt != 0) else {
            continue;
        };
        caps.codecs.push(RtpCodecCapability {
            kind: codec.kind,
            mime_type: format!("{}/rtx", codec.kind.as_str()),
            preferred_payload_type: Some(rtx_payload_type),
            clock_rate: codec.clock_rate,
            channels: None,
            parameters: rtx_parameters(codec.remote_payload_type),
            rtcp_feedback: vec![],
        });
    }
    for ext in &extended.header_extensions {
        if ext.direction != Direction::Sendrecv && ext.direction != direction {
            continue;
        }
        caps.header_extensions.push(RtpHeaderExtension {
            kind: ext.kind,
            uri: ext.uri.clone(),
            preferred_id: ext.recv_id,
            preferred_encrypt: ext.encrypt,
            direction: ext.direction,
        });
    }
    caps
}

/// What the device can receive: the `rtpCapabilities` a mediasoup client gives its server
/// to consume. Remote payload types and ids, local codec parameters.
pub fn get_recv_rtp_capabilities(extended: &ExtendedRtpCapabilities) -> RtpCapabilities {
    rtp_capabilities(extended, Direction::Recvonly)
}

/// What the device can send, in the same shape (header extensions valid for sending).
pub fn get_send_rtp_capabilities(extended: &ExtendedRtpCapabilities) -> RtpCapabilities {
    rtp_capabilities(extended, Direction::Sendonly)
}

/// What [`can_send`] and [`can_receive`] look at: the device's RTP capabilities (as
/// mediasoup-client 3.x checks them) or the extended capabilities (as libmediasoupclient
/// does). Both give the same answers, except that receive capabilities also list the RTX
/// payload types.
pub trait CodecSet {
    /// Whether some codec has this kind.
    fn has_codec_of_kind(&self, kind: MediaKind) -> bool;
    /// Whether some codec is received on this payload type.
    fn receives_payload_type(&self, payload_type: u8) -> bool;
}

impl CodecSet for RtpCapabilities {
    fn has_codec_of_kind(&self, kind: MediaKind) -> bool {
        self.codecs.iter().any(|codec| codec.kind == kind)
    }
    fn receives_payload_type(&self, payload_type: u8) -> bool {
        self.codecs
            .iter()
            .any(|codec| codec.preferred_payload_type == Some(payload_type))
    }
}

impl CodecSet for ExtendedRtpCapabilities {
    fn has_codec_of_kind(&self, kind: MediaKind) -> bool {
        self.codecs.iter().any(|codec| codec.kind == kind)
    }
    fn receives_payload_type(&self, payload_type: u8) -> bool {
        self.codecs
            .iter()
            .any(|codec| codec.remote_payload_type == Some(payload_type))
    }
}

/// Whether media of `kind` can be sent: some codec of that kind in the (send or extended)
/// capabilities.
pub fn can_send<C: CodecSet + ?Sized>(kind: MediaKind, caps: &C) -> bool {
    caps.has_codec_of_kind(kind)
}

/// Whether RTP parameters (already validated) can be received with these (receive or
/// extended) capabilities: their first codec's payload type is one of ours.
pub fn can_receive<C: CodecSet + ?Sized>(rtp_parameters: &RtpParameters, caps: &C) -> bool {
    rtp_parameters
        .codecs
        .first()
        .is_some_and(|first| caps.receives_payload_type(first.payload_type))
}
