//! mediasoup v3 signalling types, in mediasoup's JSON shape (camelCase).
//!
//! These are the wire format between a mediasoup client and its server: what
//! `router.rtpCapabilities`, `transport.produce()` and the transport options carry.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Codec-specific parameters (`fmtp`): values are strings or numbers.
pub type CodecParameters = Map<String, Value>;

/// The kind of a track, producer or consumer (`"audio"` or `"video"` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// `"audio"`.
    Audio,
    /// `"video"`.
    Video,
}

impl MediaKind {
    /// The JSON and SDP name: `"audio"` or `"video"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        }
    }
}

/// Which way an RTP header extension may flow (mediasoup's `RtpHeaderExtensionDirection`),
/// seen from the endpoint that offers it; lowercase in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Both sending and receiving (`"sendrecv"`, the default).
    Sendrecv,
    /// Sending only (`"sendonly"`).
    Sendonly,
    /// Receiving only (`"recvonly"`).
    Recvonly,
    /// Neither (`"inactive"`): the extension is not used.
    Inactive,
}

/// One RTCP feedback mechanism a codec supports, as in an `a=rtcp-fb` line
/// (mediasoup's `RtcpFeedback`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RtcpFeedback {
    /// The feedback type, for example `"nack"`, `"ccm"`, `"transport-cc"` (JSON `type`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The subtype, for example `"pli"` for `nack pli` or `"fir"` for `ccm fir`; empty
    /// when there is none (the default when the JSON omits it).
    #[serde(default)]
    pub parameter: String,
}

/// A codec an endpoint can send or receive (mediasoup's `RtpCodecCapability`), as listed
/// in `router.rtpCapabilities.codecs` and in the device's capabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RtpCodecCapability {
    /// Audio or video; must agree with the type half of `mime_type`.
    pub kind: MediaKind,
    /// `type/subtype`, for example `"audio/opus"` or `"video/VP8"`; compared without case.
    pub mime_type: String,
    /// The payload type the router suggests for this codec (JSON `preferredPayloadType`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_payload_type: Option<u8>,
    /// RTP clock rate in Hz (JSON `clockRate`), for example 48000 for Opus, 90000 for video.
    pub clock_rate: u32,
    /// Number of audio channels; absent for video and meaning 1 for audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<u8>,
    /// Codec-specific parameters (the `a=fmtp` ones); empty when the JSON omits them.
    #[serde(default)]
    pub parameters: CodecParameters,
    /// The RTCP feedback the codec supports (JSON `rtcpFeedback`); empty when omitted.
    #[serde(default)]
    pub rtcp_feedback: Vec<RtcpFeedback>,
}

/// An RTP header extension an endpoint supports (mediasoup's `RtpHeaderExtension`), as
/// listed in `rtpCapabilities.headerExtensions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RtpHeaderExtension {
    /// The media kind this entry applies to: mediasoup lists an extension once per kind.
    pub kind: MediaKind,
    /// The extension's URI, for example `"urn:ietf:params:rtp-hdrext:sdes:mid"`.
    pub uri: String,
    /// The extension id the router suggests (JSON `preferredId`), 1 to 14 for one-byte
    /// headers.
    pub preferred_id: u8,
    /// Whether the extension is encrypted (RFC 6904; JSON `preferredEncrypt`); `false`
    /// when omitted.
    #[serde(default)]
    pub preferred_encrypt: bool,
    /// Which way the extension flows; `sendrecv` when the JSON omits it.
    #[serde(default = "sendrecv")]
    pub direction: Direction,
}

fn sendrecv() -> Direction {
    Direction::Sendrecv
}

/// What an endpoint can send and receive (mediasoup's `RtpCapabilities`): the shape of
/// `router.rtpCapabilities` and of `device.rtpCapabilities`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RtpCapabilities {
    /// Supported codecs, RTX entries included; empty when the JSON omits them.
    #[serde(default)]
    pub codecs: Vec<RtpCodecCapability>,
    /// Supported header extensions (JSON `headerExtensions`); empty when omitted.
    #[serde(default)]
    pub header_extensions: Vec<RtpHeaderExtension>,
}

/// One codec of an RTP stream (mediasoup's `RtpCodecParameters`): a codec with the
/// payload type it is sent with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RtpCodecParameters {
    /// `type/subtype`, for example `"video/VP8"` or `"video/rtx"`; compared without case.
    pub mime_type: String,
    /// The RTP payload type (JSON `payloadType`), 0 to 127.
    pub payload_type: u8,
    /// RTP clock rate in Hz (JSON `clockRate`).
    pub clock_rate: u32,
    /// Number of audio channels; absent for video and meaning 1 for audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<u8>,
    /// Codec-specific parameters (the `a=fmtp` ones; for RTX, `apt` names the payload type
    /// it repairs); empty when the JSON omits them.
    #[serde(default)]
    pub parameters: CodecParameters,
    /// The RTCP feedback in use for this codec (JSON `rtcpFeedback`); empty when omitted.
    #[serde(default)]
    pub rtcp_feedback: Vec<RtcpFeedback>,
}

/// A header extension in use on an RTP stream (mediasoup's
/// `RtpHeaderExtensionParameters`), with the id it is sent under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RtpHeaderExtensionParameters {
    /// The extension's URI.
    pub uri: String,
    /// The extension id in the RTP header (the number of `a=extmap`).
    pub id: u8,
    /// Whether the extension is encrypted (RFC 6904); `false` when omitted.
    #[serde(default)]
    pub encrypt: bool,
    /// Extension-specific parameters; empty when omitted.
    #[serde(default)]
    pub parameters: Map<String, Value>,
}

/// The retransmission stream of an encoding (mediasoup's `RtpEncodingParameters.rtx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RtxParameters {
    /// SSRC of the RTX stream.
    pub ssrc: u32,
}

/// One encoding (simulcast layer or single stream) of an RTP stream (mediasoup's
/// `RtpEncodingParameters`). Every field is optional and left out of the JSON when absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RtpEncodingParameters {
    /// SSRC of the media stream, when the stream is identified by SSRC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssrc: Option<u32>,
    /// RTP stream id (`a=rid`), when the stream is identified by RID (simulcast).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// Payload type of the codec this encoding uses (JSON `codecPayloadType`), when it is
    /// not the first codec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codec_payload_type: Option<u8>,
    /// The encoding's retransmission stream, when it has one identified by SSRC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtx: Option<RtxParameters>,
    /// Discontinuous transmission for audio (send nothing during silence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtx: Option<bool>,
    /// Spatial and temporal layers, for example `"L1T3"` or `"S3T3"` (JSON
    /// `scalabilityMode`); see [`crate::parse_scalability_mode`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalability_mode: Option<String>,
    /// Factor the video resolution is divided by, 1.0 or more (JSON
    /// `scaleResolutionDownBy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_resolution_down_by: Option<f64>,
    /// Upper bound of the encoding's bitrate in bits per second (JSON `maxBitrate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bitrate: Option<u32>,
    /// Upper bound of the frame rate in frames per second (JSON `maxFramerate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_framerate: Option<f64>,
    /// Whether the audio packet time may adapt to the network (JSON `adaptivePtime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive_ptime: Option<bool>,
    /// WebRTC priority of the encoding: `"very-low"`, `"low"`, `"medium"` or `"high"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// DSCP network priority, same values as `priority` (JSON `networkPriority`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_priority: Option<String>,
    /// Whether the encoding is sent; absent means sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// RTCP settings of an RTP stream (mediasoup's `RtcpParameters`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RtcpParameters {
    /// The RTCP canonical name (CNAME) of the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<String>,
    /// Whether reduced-size RTCP (RFC 5506, `a=rtcp-rsize`) is used (JSON `reducedSize`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduced_size: Option<bool>,
    /// Whether RTCP is multiplexed with RTP on one port (`a=rtcp-mux`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mux: Option<bool>,
}

/// Everything needed to send or receive one RTP stream (mediasoup's `RtpParameters`):
/// what `transport.produce()` sends to the server and `transport.consume()` receives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RtpParameters {
    /// The SDP media section id (`a=mid`) the stream is carried in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// The codecs in use. The first media codec is the one sent unless an encoding names
    /// another; an RTX codec names the codec it repairs in its `apt` parameter.
    pub codecs: Vec<RtpCodecParameters>,
    /// The header extensions in use (JSON `headerExtensions`); empty when omitted.
    #[serde(default)]
    pub header_extensions: Vec<RtpHeaderExtensionParameters>,
    /// The encodings: one per simulcast layer, or one for a single stream; empty when
    /// omitted.
    #[serde(default)]
    pub encodings: Vec<RtpEncodingParameters>,
    /// RTCP settings; all absent when omitted.
    #[serde(default)]
    pub rtcp: RtcpParameters,
}

/// How many SCTP streams an endpoint asks for (mediasoup's `NumSctpStreams`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumSctpStreams {
    /// Outgoing streams the endpoint wants to open (JSON `OS`).
    #[serde(rename = "OS")]
    pub os: u16,
    /// Maximum incoming streams the endpoint accepts (JSON `MIS`).
    #[serde(rename = "MIS")]
    pub mis: u16,
}

/// The SCTP capabilities of an endpoint (mediasoup's `SctpCapabilities`), sent to the
/// server when creating a transport that carries data channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SctpCapabilities {
    /// Stream counts (JSON `numStreams`).
    pub num_streams: NumSctpStreams,
}

/// The server side's SCTP association parameters (mediasoup's `SctpParameters`), from
/// the transport options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SctpParameters {
    /// SCTP port (mediasoup always uses 5000).
    pub port: u16,
    /// Outgoing streams of the server (JSON `OS`).
    #[serde(rename = "OS")]
    pub os: u16,
    /// Maximum incoming streams of the server (JSON `MIS`).
    #[serde(rename = "MIS")]
    pub mis: u16,
    /// Largest SCTP message the server accepts, in bytes (JSON `maxMessageSize`).
    pub max_message_size: u32,
}

/// How one data channel is sent (mediasoup's `SctpStreamParameters`). Every field is
/// optional and left out of the JSON when absent. At most one of `max_packet_life_time`
/// and `max_retransmits` is set; with either, the channel is unreliable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SctpStreamParameters {
    /// SCTP stream id of the channel (JSON `streamId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_id: Option<u16>,
    /// Whether messages are delivered in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered: Option<bool>,
    /// How long a message may be retransmitted, in milliseconds (JSON `maxPacketLifeTime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_packet_life_time: Option<u32>,
    /// How many times a message may be retransmitted (JSON `maxRetransmits`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retransmits: Option<u32>,
    /// The data channel's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The data channel's sub-protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// The server's ICE credentials (mediasoup's `IceParameters`), from the transport options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IceParameters {
    /// ICE username fragment (`a=ice-ufrag`; JSON `usernameFragment`).
    pub username_fragment: String,
    /// ICE password (`a=ice-pwd`).
    pub password: String,
    /// Whether the server is an ICE-Lite agent (JSON `iceLite`); mediasoup always is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ice_lite: Option<bool>,
}

/// One ICE candidate of the server (mediasoup's `IceCandidate`), from the transport
/// options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IceCandidate {
    /// ICE foundation of the candidate.
    pub foundation: String,
    /// ICE priority of the candidate.
    pub priority: u32,
    /// mediasoup >= 3.13 sends `address`; older servers sent `ip`.
    pub address: String,
    /// Transport protocol: `"udp"` or `"tcp"`.
    pub protocol: String,
    /// Port of the candidate.
    pub port: u16,
    /// Candidate type (JSON `type`); mediasoup only sends `"host"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For TCP candidates, the TCP type (JSON `tcpType`); mediasoup sends `"passive"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_type: Option<String>,
}

/// The DTLS role of an endpoint (mediasoup's `DtlsRole`); lowercase in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DtlsRole {
    /// Not decided yet: the other side's role determines it (`"auto"`).
    Auto,
    /// Starts the DTLS handshake (`"client"`).
    Client,
    /// Waits for the handshake (`"server"`).
    Server,
}

/// A fingerprint of a DTLS certificate (mediasoup's `DtlsFingerprint`), as in an
/// `a=fingerprint` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DtlsFingerprint {
    /// The hash function, for example `"sha-256"`.
    pub algorithm: String,
    /// The hash as colon-separated hex bytes.
    pub value: String,
}

/// The DTLS parameters of an endpoint (mediasoup's `DtlsParameters`): the server's come in
/// the transport options, the client's go in the `connect` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DtlsParameters {
    /// The DTLS role, when decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<DtlsRole>,
    /// The certificate fingerprints; the peer's certificate must match one of them.
    pub fingerprints: Vec<DtlsFingerprint>,
}
