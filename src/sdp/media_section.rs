//! One m= section of the remote SDP, kept as data and rendered with `rtc-sdp`.
//!
//! Two flavours: *answer* sections (the server receiving what we send, built from our offer)
//! and *offer* sections (the server sending to us: its consumers, built from their RTP
//! parameters, for a PeerConnection that answers).
//!
//! Attribute order follows what mediasoup-client's sdp-transform writes: rtpmap, fmtp,
//! rtcp-fb, extmap, extmap-allow-mixed, setup, mid, msid, direction, ice-ufrag, ice-pwd,
//! candidates, end-of-candidates, ice-options, ssrc, ssrc-group, rtcp-mux, rtcp-rsize, rid,
//! simulcast, sctp-port, max-message-size.

use std::collections::{HashMap, HashSet};

use msc_ortc::codec_match::is_rtx_mime_type;
use msc_ortc::probator::RTP_PROBATOR_MID;
use msc_ortc::{
    DtlsRole, IceCandidate, IceParameters, MediaKind, RtpCodecParameters, RtpParameters,
    SctpParameters,
};
use rtc_sdp::description::common::{Address, Attribute, ConnectionInformation};
use rtc_sdp::description::media::{MediaName, RangedPort};
use rtc_sdp::MediaDescription;

use crate::codec_options::CodecOptions;
use crate::fmtp::write_params;
use crate::lines::{self, Simulcast};
use crate::SdpError;

/// The port of an open section; the real transport address is in the candidates.
const OPEN_PORT: isize = 7;
/// The dependency descriptor extension, kept only for codecs mediasoup supports it with.
const DEPENDENCY_DESCRIPTOR_URI: &str =
    "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension";

/// The mid of the offer's data channel section.
pub(crate) const SCTP_OFFER_MID: &str = "datachannel";

/// What every section takes from the transport.
pub(crate) struct TransportInfo<'a> {
    pub ice_parameters: &'a IceParameters,
    pub ice_candidates: &'a [IceCandidate],
    pub dtls_role: Option<DtlsRole>,
}

#[derive(Debug, Clone)]
pub(crate) struct MediaSection {
    mid: String,
    kind: String,
    protos: Vec<String>,
    port: isize,
    formats: Vec<String>,
    rtpmaps: Vec<String>,
    fmtps: Vec<String>,
    rtcp_fbs: Vec<String>,
    extmaps: Vec<String>,
    extmap_allow_mixed: bool,
    setup: Option<&'static str>,
    direction: Option<&'static str>,
    ice: Option<(String, String)>,
    candidates: Vec<String>,
    rtcp_mux: bool,
    rtcp_rsize: bool,
    rids: Vec<String>,
    simulcast: Option<String>,
    sctp_port: Option<u16>,
    max_message_size: Option<u32>,
    sctpmap: Option<String>,
    msid: Option<String>,
    ssrcs: Vec<String>,
    ssrc_groups: Vec<String>,
    /// An offer section: its `a=setup` is `actpass` whatever the server's DTLS role.
    offer: bool,
}

/// What an offer section for one consumer is made of; see `RemoteSdp::receive`.
pub(crate) struct OfferRtp<'a> {
    pub mid: &'a str,
    pub kind: MediaKind,
    pub rtp_parameters: &'a RtpParameters,
    pub stream_id: &'a str,
    pub track_id: &'a str,
    pub extra_codecs: &'a [RtpCodecParameters],
}

/// The `a=setup` that stands for the remote DTLS role: the server acting as DTLS client is
/// `active`, as DTLS server `passive`, undecided `actpass`.
fn setup_for(role: Option<DtlsRole>) -> Option<&'static str> {
    role.map(|role| match role {
        DtlsRole::Client => "active",
        DtlsRole::Server => "passive",
        DtlsRole::Auto => "actpass",
    })
}

fn candidate_line(c: &IceCandidate) -> String {
    // mediasoup mandates rtcp-mux, so the component is always 1 (RTP).
    let mut line = format!(
        "{} 1 {} {} {} {} typ {}",
        c.foundation, c.protocol, c.priority, c.address, c.port, c.kind
    );
    if let Some(tcp_type) = &c.tcp_type {
        line.push_str(" tcptype ");
        line.push_str(tcp_type);
    }
    line
}

fn is_rtx(codec: &RtpCodecParameters) -> bool {
    is_rtx_mime_type(&codec.mime_type)
}

/// The payload type an RTX codec repairs (its `apt`, a number or a numeric string).
fn rtx_apt(codec: &RtpCodecParameters) -> Option<u8> {
    match codec.parameters.get("apt")? {
        serde_json::Value::Number(n) => n.as_u64().and_then(|apt| u8::try_from(apt).ok()),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `audio/opus` -> `opus`.
fn codec_name(mime_type: &str) -> Result<&str, SdpError> {
    match mime_type.split_once('/') {
        Some((kind, name))
            if !name.is_empty()
                && (kind.eq_ignore_ascii_case("audio") || kind.eq_ignore_ascii_case("video")) =>
        {
            Ok(name)
        }
        _ => Err(SdpError::Invalid(format!(
            "invalid codec.mimeType '{mime_type}'"
        ))),
    }
}

impl MediaSection {
    fn base(
        transport: &TransportInfo<'_>,
        offer_media: &MediaDescription,
    ) -> Result<Self, SdpError> {
        let mid = lines::mid(offer_media)
            .ok_or_else(|| SdpError::Missing("offer media section has no a=mid".into()))?;
        Ok(Self::open(
            transport,
            mid,
            &offer_media.media_name.media,
            offer_media.media_name.protos.clone(),
        ))
    }

    /// An open section with the transport's ICE and DTLS lines and nothing else.
    fn open(transport: &TransportInfo<'_>, mid: &str, kind: &str, protos: Vec<String>) -> Self {
        MediaSection {
            mid: mid.to_owned(),
            kind: kind.to_owned(),
            protos,
            port: OPEN_PORT,
            formats: Vec::new(),
            rtpmaps: Vec::new(),
            fmtps: Vec::new(),
            rtcp_fbs: Vec::new(),
            extmaps: Vec::new(),
            extmap_allow_mixed: false,
            setup: setup_for(transport.dtls_role),
            direction: None,
            ice: Some((
                transport.ice_parameters.username_fragment.clone(),
                transport.ice_parameters.password.clone(),
            )),
            candidates: transport
                .ice_candidates
                .iter()
                .map(candidate_line)
                .collect(),
            rtcp_mux: false,
            rtcp_rsize: false,
            rids: Vec::new(),
            simulcast: None,
            sctp_port: None,
            max_message_size: None,
            sctpmap: None,
            msid: None,
            ssrcs: Vec::new(),
            ssrc_groups: Vec::new(),
            offer: false,
        }
    }

    /// Writes one codec's rtpmap, fmtp and rtcp-fb lines, and its payload type on the m= line.
    fn push_codec(&mut self, codec: &RtpCodecParameters) -> Result<(), SdpError> {
        let pt = codec.payload_type;
        let name = codec_name(&codec.mime_type)?;
        self.formats.push(pt.to_string());
        self.rtpmaps.push(match codec.channels {
            Some(channels) if channels > 1 => {
                format!("{pt} {name}/{}/{channels}", codec.clock_rate)
            }
            _ => format!("{pt} {name}/{}", codec.clock_rate),
        });
        let config = write_params(&codec.parameters);
        if !config.is_empty() {
            self.fmtps.push(format!("{pt} {config}"));
        }
        for fb in &codec.rtcp_feedback {
            self.rtcp_fbs.push(if fb.parameter.is_empty() {
                format!("{pt} {}", fb.kind)
            } else {
                format!("{pt} {} {}", fb.kind, fb.parameter)
            });
        }
        Ok(())
    }

    /// The sendonly offer section of one consumer: its codecs (each with its RTX), then the
    /// extra codecs whose payload types are still free (an extra RTX only when the extra codec
    /// it repairs is in the section under its payload type), its header extensions, `a=msid`,
    /// and `a=ssrc` cname lines with `a=ssrc-group:FID` for the first encoding's SSRC and RTX
    /// SSRC. The probator's section (mid `probator`) lists the extra codecs first.
    ///
    /// Every codec's mimeType must be of the section's kind; the parameters need an encoding.
    pub(crate) fn rtp_offer(
        transport: &TransportInfo<'_>,
        params: &OfferRtp<'_>,
    ) -> Result<Self, SdpError> {
        let kind = params.kind.as_str();
        let mut section = Self::open(
            transport,
            params.mid,
            kind,
            vec!["UDP".into(), "TLS".into(), "RTP".into(), "SAVPF".into()],
        );
        section.offer = true;
        section.setup = Some("actpass");
        section.direction = Some("sendonly");
        // mediasoup may send one-byte and two-byte header extensions.
        section.extmap_allow_mixed = true;

        let of_kind = |codec: &RtpCodecParameters| -> Result<(), SdpError> {
            codec_name(&codec.mime_type)?;
            if codec.mime_type[..5].eq_ignore_ascii_case(kind) {
                Ok(())
            } else {
                Err(SdpError::Invalid(format!(
                    "codec.mimeType '{}' is not of kind '{kind}'",
                    codec.mime_type
                )))
            }
        };
        let rtp = params.rtp_parameters;
        if rtp.codecs.is_empty() {
            return Err(SdpError::Missing(
                "offerRtpParameters.codecs is empty".into(),
            ));
        }
        // The section's payload types, with the mimeType of the codec on each.
        let mut taken: HashMap<u8, &str> = HashMap::new();
        for codec in &rtp.codecs {
            of_kind(codec)?;
            if taken.insert(codec.payload_type, &codec.mime_type).is_some() {
                return Err(SdpError::Invalid(format!(
                    "payload type {} appears twice in offerRtpParameters.codecs",
                    codec.payload_type
                )));
            }
        }
        // Extra media codecs whose payload type carries them in the section (added here, or
        // the same codec among the consumer's): only their RTX may follow. An extra codec that
        // gives way to another one on its payload type (the probator's 127) takes its RTX
        // with it.
        let mut repairable = HashSet::new();
        let mut extras = Vec::new();
        for codec in params.extra_codecs {
            of_kind(codec)?;
            let pt = codec.payload_type;
            if is_rtx(codec) {
                if !taken.contains_key(&pt)
                    && rtx_apt(codec).is_some_and(|apt| repairable.contains(&apt))
                {
                    taken.insert(pt, &codec.mime_type);
                    extras.push(codec);
                }
                continue;
            }
            match taken.get(&pt) {
                None => {
                    taken.insert(pt, &codec.mime_type);
                    repairable.insert(pt);
                    extras.push(codec);
                }
                Some(mime) if mime.eq_ignore_ascii_case(&codec.mime_type) => {
                    repairable.insert(pt);
                }
                Some(_) => {}
            }
        }
        // The consumer's codecs first, except for the probator: its codec is a video
        // consumer's on payload type 127, so the same codec is among the extras on the
        // router's payload type. webrtc-rs maps each codec of a section to the first equal
        // one of the kind's codecs (those of the first section of the kind), so if the
        // probator's section were the first video section with 127 first, every later
        // section would receive that codec on 127 instead of the router's payload type.
        let probator = params.mid == RTP_PROBATOR_MID;
        let (first, then): (Vec<_>, Vec<_>) = if probator {
            (extras, rtp.codecs.iter().collect())
        } else {
            (rtp.codecs.iter().collect(), extras)
        };
        for codec in first.into_iter().chain(then) {
            section.push_codec(codec)?;
        }

        section.extmaps = rtp
            .header_extensions
            .iter()
            .map(|ext| format!("{} {}", ext.id, ext.uri))
            .collect();
        section.msid = Some(format!("{} {}", params.stream_id, params.track_id));

        let encoding = rtp
            .encodings
            .first()
            .ok_or_else(|| SdpError::Missing("offerRtpParameters.encodings is empty".into()))?;
        let rtx_ssrc = encoding.rtx.map(|rtx| rtx.ssrc);
        // An empty cname counts as none, as in mediasoup-client (JS falsiness).
        if let Some(cname) = rtp.rtcp.cname.as_deref().filter(|cname| !cname.is_empty()) {
            for ssrc in encoding.ssrc.into_iter().chain(rtx_ssrc) {
                section.ssrcs.push(format!("{ssrc} cname:{cname}"));
            }
        }
        if let (Some(ssrc), Some(rtx_ssrc)) = (encoding.ssrc, rtx_ssrc) {
            section.ssrc_groups.push(format!("FID {ssrc} {rtx_ssrc}"));
        }

        section.rtcp_mux = true;
        section.rtcp_rsize = true;
        Ok(section)
    }

    /// The offer's m=application section (data channels, RFC 8841 syntax): mid
    /// `datachannel`, `a=sctp-port` and `a=max-message-size` from the server's parameters.
    pub(crate) fn sctp_offer(transport: &TransportInfo<'_>, sctp: &SctpParameters) -> Self {
        let mut section = Self::open(
            transport,
            SCTP_OFFER_MID,
            "application",
            vec!["UDP".into(), "DTLS".into(), "SCTP".into()],
        );
        section.offer = true;
        section.setup = Some("actpass");
        section.formats = vec!["webrtc-datachannel".to_owned()];
        section.sctp_port = Some(sctp.port);
        section.max_message_size = Some(sctp.max_message_size);
        section
    }

    /// The recvonly answer to one of our audio/video offer sections.
    pub(crate) fn rtp_answer(
        transport: &TransportInfo<'_>,
        offer_media: &MediaDescription,
        answer_rtp_parameters: &RtpParameters,
        codec_options: Option<&CodecOptions>,
    ) -> Result<Self, SdpError> {
        let mut section = Self::base(transport, offer_media)?;
        if section.kind != "audio" && section.kind != "video" {
            return Err(SdpError::Invalid(format!(
                "cannot answer an m={} section with RTP parameters",
                section.kind
            )));
        }
        section.direction = Some("recvonly");

        for codec in &answer_rtp_parameters.codecs {
            match codec_options {
                Some(options) => {
                    let (parameters, rtcp_feedback) = options.answer_codec(codec);
                    section.push_codec(&RtpCodecParameters {
                        parameters,
                        rtcp_feedback,
                        ..codec.clone()
                    })?;
                }
                None => section.push_codec(codec)?,
            }
        }

        // Only the header extensions the offer has; the dependency descriptor only with a codec
        // mediasoup supports it for (AV1, H264).
        let offered = lines::extmaps(offer_media);
        let dd_codec = answer_rtp_parameters.codecs.iter().any(|c| {
            codec_name(&c.mime_type)
                .map(|name| name.eq_ignore_ascii_case("av1") || name.eq_ignore_ascii_case("h264"))
                .unwrap_or(false)
        });
        for ext in &answer_rtp_parameters.header_extensions {
            if !offered.iter().any(|o| o.uri == ext.uri) {
                continue;
            }
            if ext.uri == DEPENDENCY_DESCRIPTOR_URI && !dd_codec {
                continue;
            }
            section.extmaps.push(format!("{} {}", ext.id, ext.uri));
        }
        section.extmap_allow_mixed = offer_media.has_attribute("extmap-allow-mixed");

        // Simulcast: mirror the offer's send list as recv, and its send rids as recv rids.
        if let Some(simulcast) = lines::simulcast(offer_media) {
            section.simulcast = Some(match simulcast {
                Simulcast::Rfc { list, .. } => format!("recv {list}"),
                Simulcast::Draft03(value) => format!(" {}", value.replace("send", "recv")),
            });
            section.rids = lines::rids(offer_media)
                .into_iter()
                .filter(|rid| rid.direction == "send")
                .map(|rid| format!("{} recv", rid.id))
                .collect();
        }

        section.rtcp_mux = true;
        section.rtcp_rsize = true;
        Ok(section)
    }

    /// The answer to our m=application (data channel) offer section.
    pub(crate) fn sctp_answer(
        transport: &TransportInfo<'_>,
        offer_media: &MediaDescription,
        sctp: &SctpParameters,
    ) -> Result<Self, SdpError> {
        let mut section = Self::base(transport, offer_media)?;
        if section.kind != "application" {
            return Err(SdpError::Invalid(format!(
                "cannot answer an m={} section with an SCTP association",
                section.kind
            )));
        }
        if offer_media.has_attribute("sctp-port") {
            section.formats = vec!["webrtc-datachannel".to_owned()];
            section.sctp_port = Some(sctp.port);
            section.max_message_size = Some(sctp.max_message_size);
        } else if offer_media.has_attribute("sctpmap") {
            // The pre-RFC 8841 syntax: `m=application <port> DTLS/SCTP <sctp port>`.
            section.formats = vec![sctp.port.to_string()];
            section.sctpmap = Some(format!(
                "{} webrtc-datachannel {}",
                sctp.port, sctp.max_message_size
            ));
        }
        Ok(section)
    }

    pub(crate) fn mid(&self) -> &str {
        &self.mid
    }

    pub(crate) fn closed(&self) -> bool {
        self.port == 0
    }

    pub(crate) fn set_ice_parameters(&mut self, ice: &IceParameters) {
        if !self.closed() {
            self.ice = Some((ice.username_fragment.clone(), ice.password.clone()));
        }
    }

    /// Answer sections take the server's role; offer sections stay `actpass`.
    pub(crate) fn set_dtls_role(&mut self, role: DtlsRole) {
        if !self.offer {
            self.setup = setup_for(Some(role));
        }
    }

    /// Stops media in the section but keeps it open (and its transport usable).
    pub(crate) fn disable(&mut self) {
        self.direction = Some("inactive");
    }

    /// Rejects the section (port 0): no transport, no msid, SSRCs or simulcast. The section
    /// keeps its header extensions and rtcp-mux/rsize, as in mediasoup-client.
    ///
    /// Codecs: mediasoup-client drops the rtpmap/fmtp/rtcp-fb lines but leaves the payload
    /// types on the m= line. webrtc-rs rejects a payload type with no rtpmap ("payload type
    /// not found") except 0, so an answer section's m= line becomes `m=<kind> 0 <proto> 0`, as
    /// webrtc-rs writes its own rejected sections. An offer section keeps its codecs instead:
    /// webrtc-rs, answering, takes the codecs of a kind from the first remote section of that
    /// kind even when it is rejected, and with none there it would reject every later section
    /// of the kind (a consumer closed before its first negotiation would do that).
    pub(crate) fn close(&mut self) {
        self.disable();
        self.port = 0;
        if !self.offer {
            if self.kind == "audio" || self.kind == "video" {
                self.formats = vec!["0".to_owned()];
            }
            self.rtpmaps.clear();
            self.fmtps.clear();
            self.rtcp_fbs.clear();
        }
        self.ice = None;
        self.candidates.clear();
        self.rids.clear();
        self.simulcast = None;
        self.extmap_allow_mixed = false;
        self.msid = None;
        self.ssrcs.clear();
        self.ssrc_groups.clear();
    }

    pub(crate) fn to_media_description(&self) -> MediaDescription {
        let mut attributes = Vec::new();
        let mut push = |key: &str, v: Option<&str>| {
            attributes.push(Attribute::new(key.to_owned(), v.map(str::to_owned)));
        };
        for (key, values) in [
            ("rtpmap", &self.rtpmaps),
            ("fmtp", &self.fmtps),
            ("rtcp-fb", &self.rtcp_fbs),
            ("extmap", &self.extmaps),
        ] {
            for v in values {
                push(key, Some(v));
            }
        }
        if self.extmap_allow_mixed {
            push("extmap-allow-mixed", None);
        }
        if let Some(setup) = self.setup {
            push("setup", Some(setup));
        }
        push("mid", Some(&self.mid));
        if let Some(msid) = &self.msid {
            push("msid", Some(msid));
        }
        if let Some(direction) = self.direction {
            push(direction, None);
        }
        if let Some((ufrag, pwd)) = &self.ice {
            push("ice-ufrag", Some(ufrag));
            push("ice-pwd", Some(pwd));
        }
        if !self.closed() {
            for candidate in &self.candidates {
                push("candidate", Some(candidate));
            }
            push("end-of-candidates", None);
            push("ice-options", Some("renomination"));
        }
        for ssrc in &self.ssrcs {
            push("ssrc", Some(ssrc));
        }
        for group in &self.ssrc_groups {
            push("ssrc-group", Some(group));
        }
        if self.rtcp_mux {
            push("rtcp-mux", None);
        }
        if self.rtcp_rsize {
            push("rtcp-rsize", None);
        }
        for rid in &self.rids {
            push("rid", Some(rid));
        }
        if let Some(simulcast) = &self.simulcast {
            push("simulcast", Some(simulcast));
        }
        if let Some(sctpmap) = &self.sctpmap {
            push("sctpmap", Some(sctpmap));
        }
        if let Some(port) = self.sctp_port {
            push("sctp-port", Some(&port.to_string()));
        }
        if let Some(size) = self.max_message_size {
            push("max-message-size", Some(&size.to_string()));
        }

        MediaDescription {
            media_name: MediaName {
                media: self.kind.clone(),
                port: RangedPort {
                    value: self.port,
                    range: None,
                },
                protos: self.protos.clone(),
                formats: self.formats.clone(),
            },
            media_title: None,
            connection_information: Some(ConnectionInformation {
                network_type: "IN".to_owned(),
                address_type: "IP4".to_owned(),
                address: Some(Address {
                    address: "127.0.0.1".to_owned(),
                    ttl: None,
                    range: None,
                }),
            }),
            bandwidth: Vec::new(),
            encryption_key: None,
            attributes,
        }
    }
}
