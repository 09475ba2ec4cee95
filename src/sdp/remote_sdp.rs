//! The SDP that stands for the ICE-lite mediasoup server: answers to our offers (sending
//! transports) or offers we answer (receiving transports).
//!
//! Bookkeeping follows mediasoup-client's `RemoteSdp`: sections keep the order of the local
//! offer's m= sections (same index), a mid maps to its index, a closed section (port 0) can be
//! reused by the next `send` or `receive`, and the BUNDLE group lists the mids of open
//! sections. The first section is never closed, only disabled, because closing it would take
//! the bundled transport with it.

use std::collections::HashMap;

use msc_ortc::{
    DtlsParameters, DtlsRole, IceCandidate, IceParameters, MediaKind, RtpCodecParameters,
    RtpParameters, SctpParameters,
};
use rtc_sdp::description::common::Attribute;
use rtc_sdp::description::session::{Origin, TimeDescription, Timing};
use rtc_sdp::{MediaDescription, SessionDescription};

use crate::codec_options::CodecOptions;
use crate::media_section::{MediaSection, OfferRtp, TransportInfo, SCTP_OFFER_MID};
use crate::SdpError;

/// The `o=` user name of the SDPs we write.
const ORIGIN_USERNAME: &str = concat!("mediasoup-client-native-v", env!("CARGO_PKG_VERSION"));
const ORIGIN_SESSION_ID: u64 = 10000;

/// What `RemoteSdp::send` needs to answer one sending section of our offer.
pub struct SendParams<'a> {
    /// The offer's m= section for this producer (found at `next_media_section_idx().idx`).
    pub offer_media: &'a MediaDescription,
    /// The mid of a closed section this one replaces (`next_media_section_idx().reuse_mid`).
    pub reuse_mid: Option<String>,
    /// The RTP parameters we send (sent to the server in `produce`). mediasoup-client reads
    /// nothing from them here but applies codec options to them; see
    /// [`CodecOptions::apply_to_offer_parameters`].
    pub offer_rtp_parameters: &'a RtpParameters,
    /// The RTP parameters the server receives: codecs, payload types and header extension ids
    /// of the answer.
    pub answer_rtp_parameters: &'a RtpParameters,
    /// Producer codec options, mapped into the answer's fmtp / rtcp-fb.
    pub codec_options: Option<&'a CodecOptions>,
}

/// What `RemoteSdp::receive` needs to offer one consumer of the server.
pub struct RecvParams<'a> {
    /// The section's mid: the consumer's `rtpParameters.mid` (mediasoup sets it), or one the
    /// handler chooses.
    pub mid: &'a str,
    /// The consumer's kind; every codec below must be of this kind.
    pub kind: MediaKind,
    /// The consumer's RTP parameters as the server gave them (validated): codecs with the
    /// router's payload types, header extensions, the first encoding's SSRC and RTX SSRC,
    /// `rtcp.cname`.
    pub offer_rtp_parameters: &'a RtpParameters,
    /// The `a=msid` stream id (mediasoup-client: the `streamId` option, else `rtcp.cname`,
    /// else `-`). No whitespace.
    pub stream_id: &'a str,
    /// The `a=msid` track id: the consumer id. No whitespace.
    pub track_id: &'a str,
    /// Other codecs of the same kind the device can receive, with the router's payload types
    /// and each followed by its RTX (see `msc_ortc::receivable_codecs`). They are listed after
    /// the consumer's own codecs, minus those whose payload type is taken already: webrtc-rs
    /// fixes the codecs of a kind by the first remote section of that kind, so each section
    /// must carry every codec a later consumer may use.
    pub extra_codecs: &'a [RtpCodecParameters],
}

/// Where the next sending section goes: its index in the offer, and the mid of the closed
/// section it replaces if one is reused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSectionIdx {
    /// Index of the section among the media sections of the SDP: the first closed one, or
    /// one past the last when none is closed. The local offer's section at this index
    /// carries the new sender.
    pub idx: usize,
    /// The mid of the closed section at `idx`, which the new section replaces; `None` when
    /// the section is appended.
    pub reuse_mid: Option<String>,
}

/// The remote (server side) SDP of one transport.
#[derive(Debug, Clone)]
pub struct RemoteSdp {
    ice_parameters: IceParameters,
    ice_candidates: Vec<IceCandidate>,
    dtls_parameters: DtlsParameters,
    sctp_parameters: Option<SctpParameters>,
    sections: Vec<MediaSection>,
    mid_to_index: HashMap<String, usize>,
    first_mid: Option<String>,
    session_version: u64,
    extmap_allow_mixed: bool,
}

impl RemoteSdp {
    /// A remote SDP with no media yet, for the transport the server described.
    ///
    /// Fails when `dtls_parameters` has no fingerprint. The SDP carries the last fingerprint
    /// (mediasoup-client's choice; webrtc-rs reads one only).
    pub fn new(
        ice_parameters: IceParameters,
        ice_candidates: Vec<IceCandidate>,
        dtls_parameters: DtlsParameters,
        sctp_parameters: Option<SctpParameters>,
    ) -> Result<Self, SdpError> {
        if dtls_parameters.fingerprints.is_empty() {
            return Err(SdpError::Invalid(
                "dtlsParameters.fingerprints is empty".into(),
            ));
        }
        Ok(RemoteSdp {
            ice_parameters,
            ice_candidates,
            dtls_parameters,
            sctp_parameters,
            sections: Vec::new(),
            mid_to_index: HashMap::new(),
            first_mid: None,
            session_version: 0,
            extmap_allow_mixed: false,
        })
    }

    /// New ICE credentials (ICE restart): every open section takes them; `iceLite` is updated.
    pub fn update_ice_parameters(&mut self, ice_parameters: IceParameters) {
        for section in &mut self.sections {
            section.set_ice_parameters(&ice_parameters);
        }
        self.ice_parameters = ice_parameters;
    }

    /// The server's DTLS role, written as `a=setup` in every answer section: `client` ->
    /// `active`, `server` -> `passive`, `auto` -> `actpass`. Offer sections (`receive`) stay
    /// `actpass`: an offer leaves the choice to the answerer.
    ///
    /// The server's parameters usually say `auto`, and `actpass` is not a valid answer, so
    /// before the first answer call this with the opposite of our own role, as
    /// mediasoup-client's handlers do (we are `client`, so the remote is `server` ->
    /// `a=setup:passive`).
    pub fn update_dtls_role(&mut self, role: DtlsRole) {
        self.dtls_parameters.role = Some(role);
        for section in &mut self.sections {
            section.set_dtls_role(role);
        }
    }

    /// Writes `a=extmap-allow-mixed` at session level (when our offer has it there).
    pub fn set_session_extmap_allow_mixed(&mut self) {
        self.extmap_allow_mixed = true;
    }

    /// Where the next `send` goes: the first closed section, else a new one at the end.
    pub fn next_media_section_idx(&self) -> MediaSectionIdx {
        match self.sections.iter().position(MediaSection::closed) {
            Some(idx) => MediaSectionIdx {
                idx,
                reuse_mid: Some(self.sections[idx].mid().to_owned()),
            },
            None => MediaSectionIdx {
                idx: self.sections.len(),
                reuse_mid: None,
            },
        }
    }

    /// Adds (or, with `reuse_mid`, puts in place of a closed one) the recvonly answer to a
    /// sending section of our offer: codecs (rtpmap/fmtp/rtcp-fb) from `answer_rtp_parameters`
    /// with `codec_options` applied, only the header extensions the offer has, rtcp-mux,
    /// rtcp-rsize, and the offer's simulcast mirrored as `a=simulcast:recv` + `a=rid:<rid> recv`.
    pub fn send(&mut self, params: SendParams<'_>) -> Result<(), SdpError> {
        let section = MediaSection::rtp_answer(
            &self.transport_info(),
            params.offer_media,
            params.answer_rtp_parameters,
            params.codec_options,
        )?;
        match params.reuse_mid {
            Some(reuse_mid) => self.replace_section(section, Some(&reuse_mid)),
            None if !self.mid_to_index.contains_key(section.mid()) => {
                self.add_section(section);
                Ok(())
            }
            None => self.replace_section(section, None),
        }
    }

    /// Adds the answer to our m=application section (data channels): `webrtc-datachannel`,
    /// `a=sctp-port` and `a=max-message-size` from the server's SCTP parameters.
    pub fn send_sctp_association(
        &mut self,
        offer_media: &MediaDescription,
    ) -> Result<(), SdpError> {
        let sctp = self
            .sctp_parameters
            .ok_or_else(|| SdpError::Invalid("no SCTP parameters for this transport".into()))?;
        let section = MediaSection::sctp_answer(&self.transport_info(), offer_media, &sctp)?;
        self.add_section(section);
        Ok(())
    }

    /// Adds the answer to the m=application section of our `offer` when it has one that this
    /// SDP does not answer yet; true if it did. Call it after the media sections of the same
    /// offer: webrtc-rs puts the data section after its transceivers' in a first offer, and a
    /// later offer keeps it where the first answer had it.
    pub fn answer_data_section(&mut self, offer: &SessionDescription) -> Result<bool, SdpError> {
        let Some(media) = offer
            .media_descriptions
            .iter()
            .find(|m| m.media_name.media == "application")
        else {
            return Ok(false);
        };
        let mid = media
            .attribute("mid")
            .flatten()
            .ok_or_else(|| SdpError::Invalid("the data section of the offer has no mid".into()))?;
        if self.mid_to_index.contains_key(mid) {
            return Ok(false);
        }
        self.send_sctp_association(media)?;
        Ok(true)
    }

    /// Adds the sendonly offer section of one server consumer (see [`RecvParams`]): in place of
    /// the closed section with the same mid if there is one, else of the first closed section
    /// (of either kind), else at the end. `a=setup:actpass` whatever the DTLS role, the
    /// transport's ICE lines, rtcp-mux and rtcp-rsize, `a=extmap-allow-mixed` (in the section
    /// and at session level: mediasoup may send two-byte header extensions), the codecs, the
    /// consumer's header extensions, `a=msid:<stream_id> <track_id>`, and for the first
    /// encoding `a=ssrc:<ssrc> cname:<cname>` (its RTX SSRC too) and `a=ssrc-group:FID`.
    ///
    /// Errors: an open section has this mid already; no codec, no encoding, a payload type
    /// twice among the consumer's codecs, or a codec whose mimeType is not of `kind`; a mid,
    /// stream id or track id that is empty or holds whitespace (it would break the BUNDLE or
    /// `a=msid` line).
    pub fn receive(&mut self, params: RecvParams<'_>) -> Result<(), SdpError> {
        for (name, id) in [
            ("mid", params.mid),
            ("msid stream id", params.stream_id),
            ("msid track id", params.track_id),
        ] {
            if id.is_empty() || id.contains(|c: char| c.is_whitespace() || c.is_control()) {
                return Err(SdpError::Invalid(format!(
                    "invalid {name} '{id}': empty or holds whitespace"
                )));
            }
        }
        if let Some(&idx) = self.mid_to_index.get(params.mid) {
            if !self.sections[idx].closed() {
                return Err(SdpError::Invalid(format!(
                    "a media section with mid '{}' is open already",
                    params.mid
                )));
            }
        }
        let section = MediaSection::rtp_offer(
            &self.transport_info(),
            &OfferRtp {
                mid: params.mid,
                kind: params.kind,
                rtp_parameters: params.offer_rtp_parameters,
                stream_id: params.stream_id,
                track_id: params.track_id,
                extra_codecs: params.extra_codecs,
            },
        )?;
        self.extmap_allow_mixed = true;
        if self.mid_to_index.contains_key(params.mid) {
            return self.replace_section(section, None);
        }
        match self.sections.iter().position(MediaSection::closed) {
            Some(idx) => {
                let reuse_mid = self.sections[idx].mid().to_owned();
                self.replace_section(section, Some(&reuse_mid))
            }
            None => {
                self.add_section(section);
                Ok(())
            }
        }
    }

    /// Adds the offer's m=application section for data channels (mid `datachannel`,
    /// `UDP/DTLS/SCTP webrtc-datachannel`, `a=sctp-port` and `a=max-message-size` from the
    /// server's SCTP parameters). Always appended, never in a closed section's place.
    ///
    /// webrtc-rs starts SCTP only if this section is in the first negotiation.
    pub fn receive_sctp_association(&mut self) -> Result<(), SdpError> {
        let sctp = self
            .sctp_parameters
            .ok_or_else(|| SdpError::Invalid("no SCTP parameters for this transport".into()))?;
        if self.mid_to_index.contains_key(SCTP_OFFER_MID) {
            return Err(SdpError::Invalid(
                "the data channel section is there already".into(),
            ));
        }
        let section = MediaSection::sctp_offer(&self.transport_info(), &sctp);
        self.add_section(section);
        Ok(())
    }

    /// Makes a section `a=inactive` but keeps it open.
    pub fn disable_media_section(&mut self, mid: &str) -> Result<(), SdpError> {
        self.section_mut(mid)?.disable();
        Ok(())
    }

    /// Closes a section (port 0, out of BUNDLE, reusable by a later `send` or `receive`) and
    /// returns true; the first section is only disabled instead, and then this returns false.
    pub fn close_media_section(&mut self, mid: &str) -> Result<bool, SdpError> {
        let is_first = self.first_mid.as_deref() == Some(mid);
        let section = self.section_mut(mid)?;
        if is_first {
            section.disable();
            return Ok(false);
        }
        section.close();
        Ok(true)
    }

    /// The SDP text; each call bumps the `o=` session version.
    pub fn get_sdp(&mut self) -> String {
        self.session_version += 1;
        self.session_description().marshal()
    }

    fn transport_info(&self) -> TransportInfo<'_> {
        TransportInfo {
            ice_parameters: &self.ice_parameters,
            ice_candidates: &self.ice_candidates,
            dtls_role: self.dtls_parameters.role,
        }
    }

    fn section_mut(&mut self, mid: &str) -> Result<&mut MediaSection, SdpError> {
        let idx = *self
            .mid_to_index
            .get(mid)
            .ok_or_else(|| SdpError::UnknownMid(mid.to_owned()))?;
        Ok(&mut self.sections[idx])
    }

    fn add_section(&mut self, section: MediaSection) {
        if self.first_mid.is_none() {
            self.first_mid = Some(section.mid().to_owned());
        }
        self.mid_to_index
            .insert(section.mid().to_owned(), self.sections.len());
        self.sections.push(section);
    }

    fn replace_section(
        &mut self,
        section: MediaSection,
        reuse_mid: Option<&str>,
    ) -> Result<(), SdpError> {
        let old_mid = reuse_mid.unwrap_or(section.mid()).to_owned();
        let idx = *self
            .mid_to_index
            .get(&old_mid)
            .ok_or(SdpError::UnknownMid(old_mid.clone()))?;
        self.mid_to_index.remove(&old_mid);
        self.mid_to_index.insert(section.mid().to_owned(), idx);
        self.sections[idx] = section;
        Ok(())
    }

    fn session_description(&self) -> SessionDescription {
        let mut attributes = Vec::new();
        let mut push = |key: &str, value: Option<String>| {
            attributes.push(Attribute::new(key.to_owned(), value));
        };
        if self.extmap_allow_mixed {
            push("extmap-allow-mixed", None);
        }
        if self.ice_parameters.ice_lite == Some(true) {
            push("ice-lite", None);
        }
        if let Some(fingerprint) = self.dtls_parameters.fingerprints.last() {
            push(
                "fingerprint",
                Some(format!("{} {}", fingerprint.algorithm, fingerprint.value)),
            );
        }
        // RFC 8445 (ICE bis) support, as mediasoup-client announces it.
        push("ice-options", Some("ice2".to_owned()));
        push("msid-semantic", Some(" WMS *".to_owned()));
        let bundle: Vec<&str> = self
            .sections
            .iter()
            .filter(|s| !s.closed())
            .map(MediaSection::mid)
            .collect();
        push(
            "group",
            Some(if bundle.is_empty() {
                "BUNDLE".to_owned()
            } else {
                format!("BUNDLE {}", bundle.join(" "))
            }),
        );

        SessionDescription {
            version: 0,
            origin: Origin {
                username: ORIGIN_USERNAME.to_owned(),
                session_id: ORIGIN_SESSION_ID,
                session_version: self.session_version,
                network_type: "IN".to_owned(),
                address_type: "IP4".to_owned(),
                unicast_address: "0.0.0.0".to_owned(),
            },
            session_name: "-".to_owned(),
            time_descriptions: vec![TimeDescription {
                timing: Timing {
                    start_time: 0,
                    stop_time: 0,
                },
                repeat_times: Vec::new(),
            }],
            attributes,
            media_descriptions: self
                .sections
                .iter()
                .map(MediaSection::to_media_description)
                .collect(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod recv_tests;
#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_sdp;
    use msc_ortc::{
        DtlsFingerprint, RtcpFeedback, RtpCodecParameters, RtpHeaderExtensionParameters,
    };
    use serde_json::json;

    const VERSION: &str = env!("CARGO_PKG_VERSION");

    pub(super) fn remote(ice_lite: bool) -> RemoteSdp {
        RemoteSdp::new(
            IceParameters {
                username_fragment: "ufrag1".into(),
                password: "pwd1".into(),
                ice_lite: Some(ice_lite),
            },
            vec![
                IceCandidate {
                    foundation: "udpcandidate".into(),
                    priority: 1076302079,
                    address: "127.0.0.1".into(),
                    protocol: "udp".into(),
                    port: 40000,
                    kind: "host".into(),
                    tcp_type: None,
                },
                IceCandidate {
                    foundation: "tcpcandidate".into(),
                    priority: 1076276479,
                    address: "127.0.0.1".into(),
                    protocol: "tcp".into(),
                    port: 40001,
                    kind: "host".into(),
                    tcp_type: Some("passive".into()),
                },
            ],
            DtlsParameters {
                role: Some(DtlsRole::Auto),
                fingerprints: vec![
                    DtlsFingerprint {
                        algorithm: "sha-256".into(),
                        value: "AA:BB".into(),
                    },
                    DtlsFingerprint {
                        algorithm: "sha-512".into(),
                        value: "CC:DD".into(),
                    },
                ],
            },
            Some(SctpParameters {
                port: 5000,
                os: 1024,
                mis: 1024,
                max_message_size: 262144,
            }),
        )
        .unwrap()
    }

    pub(super) fn chrome() -> SessionDescription {
        parse_sdp(include_str!("testdata/chrome_audio_video_offer.sdp")).unwrap()
    }

    pub(super) fn codec(
        mime: &str,
        pt: u8,
        rate: u32,
        channels: Option<u8>,
        params: serde_json::Value,
        fb: &[(&str, &str)],
    ) -> RtpCodecParameters {
        RtpCodecParameters {
            mime_type: mime.into(),
            payload_type: pt,
            clock_rate: rate,
            channels,
            parameters: params.as_object().unwrap().clone(),
            rtcp_feedback: fb
                .iter()
                .map(|(k, p)| RtcpFeedback {
                    kind: (*k).into(),
                    parameter: (*p).into(),
                })
                .collect(),
        }
    }

    pub(super) fn exts(list: &[(u8, &str)]) -> Vec<RtpHeaderExtensionParameters> {
        list.iter()
            .map(|(id, uri)| RtpHeaderExtensionParameters {
                uri: (*uri).into(),
                id: *id,
                encrypt: false,
                parameters: Default::default(),
            })
            .collect()
    }

    fn audio_params() -> RtpParameters {
        RtpParameters {
            mid: Some("0".into()),
            codecs: vec![codec(
                "audio/opus",
                111,
                48000,
                Some(2),
                json!({ "minptime": 10, "useinbandfec": 1 }),
                &[("transport-cc", ""), ("nack", "")],
            )],
            header_extensions: exts(&[
                (4, "urn:ietf:params:rtp-hdrext:sdes:mid"),
                (1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
                // Not in the audio offer section: left out of the answer.
                (13, "urn:3gpp:video-orientation"),
            ]),
            ..Default::default()
        }
    }

    fn video_params(mime: &str) -> RtpParameters {
        RtpParameters {
            mid: Some("1".into()),
            codecs: vec![
                codec(mime, 96, 90000, None, json!({}), &[("nack", ""), ("nack", "pli"), ("ccm", "fir"), ("goog-remb", "")]),
                codec("video/rtx", 97, 90000, None, json!({ "apt": 96 }), &[]),
            ],
            header_extensions: exts(&[
                (4, "urn:ietf:params:rtp-hdrext:sdes:mid"),
                (13, "urn:3gpp:video-orientation"),
                (12, "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension"),
            ]),
            ..Default::default()
        }
    }

    fn send(
        remote: &mut RemoteSdp,
        offer_media: &MediaDescription,
        params: &RtpParameters,
        options: Option<&CodecOptions>,
    ) {
        remote
            .send(SendParams {
                offer_media,
                reuse_mid: None,
                offer_rtp_parameters: params,
                answer_rtp_parameters: params,
                codec_options: options,
            })
            .unwrap();
    }

    /// Every SDP we write parses again with rtc-sdp.
    pub(super) fn sdp_of(remote: &mut RemoteSdp) -> String {
        let text = remote.get_sdp();
        let parsed = parse_sdp(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(parsed.media_descriptions.len(), remote.sections.len());
        assert_eq!(
            parsed.marshal(),
            text,
            "stable through a parse/write round trip"
        );
        text
    }

    /// The lines of the m= section `index` (0-based), without line ends.
    pub(super) fn section(text: &str, index: usize) -> Vec<String> {
        text.split("\r\nm=")
            .nth(index + 1)
            .map(|s| format!("m={s}"))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn session_level_lines_and_an_empty_bundle() {
        let mut remote = remote(true);
        assert_eq!(
            sdp_of(&mut remote),
            format!(
                "v=0\r\no=mediasoup-client-native-v{VERSION} 10000 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
                 a=ice-lite\r\na=fingerprint:sha-512 CC:DD\r\na=ice-options:ice2\r\n\
                 a=msid-semantic: WMS *\r\na=group:BUNDLE\r\n"
            )
        );
        // Each call bumps the session version.
        assert!(sdp_of(&mut remote).contains(" 10000 2 IN IP4 "));
        remote.set_session_extmap_allow_mixed();
        assert!(sdp_of(&mut remote).contains("t=0 0\r\na=extmap-allow-mixed\r\na=ice-lite\r\n"));

        let mut not_lite = self::remote(false);
        assert!(!sdp_of(&mut not_lite).contains("ice-lite"));
    }

    #[test]
    fn no_fingerprint_is_an_error() {
        let mut dtls = remote(true).dtls_parameters;
        dtls.fingerprints.clear();
        let err = RemoteSdp::new(remote(true).ice_parameters, vec![], dtls, None).unwrap_err();
        assert_eq!(err.to_string(), "dtlsParameters.fingerprints is empty");
    }

    #[test]
    fn audio_answer_section() {
        let offer = chrome();
        let mut remote = remote(true);
        remote.update_dtls_role(DtlsRole::Server);
        send(
            &mut remote,
            &offer.media_descriptions[0],
            &audio_params(),
            None,
        );
        let text = sdp_of(&mut remote);
        assert!(text.contains("a=group:BUNDLE 0\r\nm=audio"));
        assert_eq!(
            section(&text, 0),
            [
                "m=audio 7 UDP/TLS/RTP/SAVPF 111",
                "c=IN IP4 127.0.0.1",
                "a=rtpmap:111 opus/48000/2",
                "a=fmtp:111 minptime=10;useinbandfec=1",
                "a=rtcp-fb:111 transport-cc",
                "a=rtcp-fb:111 nack",
                "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
                "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
                "a=setup:passive",
                "a=mid:0",
                "a=recvonly",
                "a=ice-ufrag:ufrag1",
                "a=ice-pwd:pwd1",
                "a=candidate:udpcandidate 1 udp 1076302079 127.0.0.1 40000 typ host",
                "a=candidate:tcpcandidate 1 tcp 1076276479 127.0.0.1 40001 typ host tcptype passive",
                "a=end-of-candidates",
                "a=ice-options:renomination",
                "a=rtcp-mux",
                "a=rtcp-rsize",
            ]
        );
    }

    /// The rule, as mediasoup-client's answer sections have it: the remote role `client` is
    /// `a=setup:active`, `server` is `passive`, `auto` is `actpass` (also in an answer; the
    /// handler calls update_dtls_role before the first answer, so `auto` never reaches one).
    #[test]
    fn dtls_role_to_setup() {
        let offer = chrome();
        let mut remote = remote(true);
        send(
            &mut remote,
            &offer.media_descriptions[0],
            &audio_params(),
            None,
        );
        assert!(sdp_of(&mut remote).contains("a=setup:actpass\r\n"));
        for (role, setup) in [
            (DtlsRole::Client, "active"),
            (DtlsRole::Server, "passive"),
            (DtlsRole::Auto, "actpass"),
        ] {
            remote.update_dtls_role(role);
            send(
                &mut remote,
                &offer.media_descriptions[1],
                &video_params("video/VP8"),
                None,
            );
            let text = sdp_of(&mut remote);
            // Both the existing section and the new one.
            assert_eq!(
                text.matches(&format!("a=setup:{setup}\r\n")).count(),
                2,
                "{role:?}"
            );
        }
    }

    #[test]
    fn codec_options_become_answer_fmtp() {
        let offer = chrome();
        let mut remote = remote(true);
        let options: CodecOptions = serde_json::from_value(json!({
            "opusStereo": true, "opusFec": false, "opusDtx": true, "opusMaxPlaybackRate": 48000,
            "opusMaxAverageBitrate": 64000, "opusPtime": 20,
            "videoGoogleStartBitrate": 1000, "videoGoogleMaxBitrate": 3000, "videoGoogleMinBitrate": 300
        }))
        .unwrap();
        send(
            &mut remote,
            &offer.media_descriptions[0],
            &audio_params(),
            Some(&options),
        );
        send(
            &mut remote,
            &offer.media_descriptions[1],
            &video_params("video/VP8"),
            Some(&options),
        );
        let text = sdp_of(&mut remote);
        let audio = section(&text, 0);
        assert!(audio.contains(
            &"a=fmtp:111 minptime=10;useinbandfec=0;stereo=1;usedtx=1;maxplaybackrate=48000;maxaveragebitrate=64000;ptime=20".to_owned()
        ));
        // No opusNack: the plain nack is gone.
        assert!(!audio.contains(&"a=rtcp-fb:111 nack".to_owned()));
        let video = section(&text, 1);
        assert!(video.contains(&"a=fmtp:96 x-google-start-bitrate=1000;x-google-max-bitrate=3000;x-google-min-bitrate=300".to_owned()));
        assert!(video.contains(&"a=fmtp:97 apt=96".to_owned()));
    }

    #[test]
    fn simulcast_is_mirrored_as_recv() {
        let offer = parse_sdp(include_str!("testdata/chrome_simulcast_offer.sdp")).unwrap();
        let mut remote = remote(true);
        send(
            &mut remote,
            &offer.media_descriptions[0],
            &video_params("video/VP8"),
            None,
        );
        let text = sdp_of(&mut remote);
        let lines = section(&text, 0);
        assert_eq!(
            &lines[lines.len() - 6..],
            [
                "a=rtcp-mux",
                "a=rtcp-rsize",
                "a=rid:r0 recv",
                "a=rid:r1 recv",
                "a=rid:r2 recv",
                "a=simulcast:recv r0;r1;r2"
            ]
        );
        // VP8 only: the dependency descriptor extension is dropped.
        assert!(!text.contains("dependency-descriptor"));
    }

    #[test]
    fn dependency_descriptor_kept_for_h264_and_av1() {
        let offer = parse_sdp(include_str!("testdata/chrome_simulcast_offer.sdp")).unwrap();
        for mime in ["video/H264", "video/AV1"] {
            let mut remote = remote(true);
            send(
                &mut remote,
                &offer.media_descriptions[0],
                &video_params(mime),
                None,
            );
            assert!(sdp_of(&mut remote).contains("a=extmap:12 https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension\r\n"));
        }
    }

    #[test]
    fn media_level_extmap_allow_mixed_is_mirrored() {
        let mut offer = chrome().media_descriptions[0].clone();
        offer
            .attributes
            .push(rtc_sdp::description::common::Attribute::new(
                "extmap-allow-mixed".into(),
                None,
            ));
        let mut remote = remote(true);
        send(&mut remote, &offer, &audio_params(), None);
        let text = sdp_of(&mut remote);
        assert!(text.contains("a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=extmap-allow-mixed\r\na=setup:"));
    }

    #[test]
    fn data_channel_section() {
        let offer = chrome();
        let mut remote = remote(true);
        remote.update_dtls_role(DtlsRole::Server);
        remote
            .send_sctp_association(&offer.media_descriptions[2])
            .unwrap();
        let text = sdp_of(&mut remote);
        assert_eq!(
            section(&text, 0),
            [
                "m=application 7 UDP/DTLS/SCTP webrtc-datachannel",
                "c=IN IP4 127.0.0.1",
                "a=setup:passive",
                "a=mid:2",
                "a=ice-ufrag:ufrag1",
                "a=ice-pwd:pwd1",
                "a=candidate:udpcandidate 1 udp 1076302079 127.0.0.1 40000 typ host",
                "a=candidate:tcpcandidate 1 tcp 1076276479 127.0.0.1 40001 typ host tcptype passive",
                "a=end-of-candidates",
                "a=ice-options:renomination",
                "a=sctp-port:5000",
                "a=max-message-size:262144",
            ]
        );
    }

    #[test]
    fn data_channel_section_old_sctpmap_syntax() {
        let offer = parse_sdp(
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
             m=application 9 DTLS/SCTP 5000\r\na=mid:data\r\na=sctpmap:5000 webrtc-datachannel 1024\r\n",
        )
        .unwrap();
        let mut remote = remote(true);
        remote
            .send_sctp_association(&offer.media_descriptions[0])
            .unwrap();
        let text = sdp_of(&mut remote);
        assert!(text.contains("m=application 7 DTLS/SCTP 5000\r\n"));
        assert!(text.contains("a=sctpmap:5000 webrtc-datachannel 262144\r\n"));
    }

    #[test]
    fn closing_disabling_and_reusing_sections() {
        let offer = chrome();
        let mut remote = remote(true);
        send(
            &mut remote,
            &offer.media_descriptions[0],
            &audio_params(),
            None,
        );
        send(
            &mut remote,
            &offer.media_descriptions[1],
            &video_params("video/VP8"),
            None,
        );
        remote
            .send_sctp_association(&offer.media_descriptions[2])
            .unwrap();
        assert!(sdp_of(&mut remote).contains("a=group:BUNDLE 0 1 2\r\n"));
        assert_eq!(
            remote.next_media_section_idx(),
            MediaSectionIdx {
                idx: 3,
                reuse_mid: None
            }
        );

        // The first section is only disabled: still open and bundled.
        assert!(!remote.close_media_section("0").unwrap());
        // Any other is closed: port 0, out of the bundle, no transport and no codecs.
        assert!(remote.close_media_section("1").unwrap());
        let text = sdp_of(&mut remote);
        assert!(text.contains("a=group:BUNDLE 0 2\r\n"));
        let audio = section(&text, 0);
        assert!(audio[0].starts_with("m=audio 7 "));
        assert!(
            audio.contains(&"a=inactive".to_owned())
                && audio.contains(&"a=ice-ufrag:ufrag1".to_owned())
        );
        assert_eq!(
            section(&text, 1),
            [
                "m=video 0 UDP/TLS/RTP/SAVPF 0",
                "c=IN IP4 127.0.0.1",
                "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
                "a=extmap:13 urn:3gpp:video-orientation",
                "a=setup:actpass",
                "a=mid:1",
                "a=inactive",
                "a=rtcp-mux",
                "a=rtcp-rsize",
            ]
        );

        // The closed section is the next one to use, replaced in place by a new mid.
        let next = remote.next_media_section_idx();
        assert_eq!(
            next,
            MediaSectionIdx {
                idx: 1,
                reuse_mid: Some("1".into())
            }
        );
        let mut new_offer = offer.media_descriptions[1].clone();
        for a in &mut new_offer.attributes {
            if a.key == "mid" {
                a.value = Some("3".into());
            }
        }
        let params = video_params("video/VP8");
        remote
            .send(SendParams {
                offer_media: &new_offer,
                reuse_mid: next.reuse_mid,
                offer_rtp_parameters: &params,
                answer_rtp_parameters: &params,
                codec_options: None,
            })
            .unwrap();
        let text = sdp_of(&mut remote);
        assert!(text.contains("a=group:BUNDLE 0 3 2\r\n"));
        assert!(section(&text, 1).contains(&"a=mid:3".to_owned()));
        assert_eq!(
            remote.next_media_section_idx(),
            MediaSectionIdx {
                idx: 3,
                reuse_mid: None
            }
        );
        assert!(matches!(
            remote.close_media_section("1"),
            Err(SdpError::UnknownMid(_))
        ));
        assert!(remote.close_media_section("3").unwrap());
    }

    #[test]
    fn disabling_keeps_the_section_open() {
        let offer = chrome();
        let mut remote = remote(true);
        send(
            &mut remote,
            &offer.media_descriptions[0],
            &audio_params(),
            None,
        );
        send(
            &mut remote,
            &offer.media_descriptions[1],
            &video_params("video/VP8"),
            None,
        );
        remote.disable_media_section("1").unwrap();
        let text = sdp_of(&mut remote);
        assert!(text.contains("a=group:BUNDLE 0 1\r\n"));
        let video = section(&text, 1);
        assert!(video[0].starts_with("m=video 7 UDP/TLS/RTP/SAVPF 96 97"));
        assert!(
            video.contains(&"a=inactive".to_owned())
                && video.contains(&"a=rtpmap:96 VP8/90000".to_owned())
        );
        assert_eq!(
            remote.disable_media_section("9").unwrap_err().to_string(),
            "no media section found with mid '9'"
        );
    }

    #[test]
    fn same_mid_without_reuse_replaces_the_section() {
        let offer = chrome();
        let mut remote = remote(true);
        send(
            &mut remote,
            &offer.media_descriptions[0],
            &audio_params(),
            None,
        );
        let mut pcmu = audio_params();
        pcmu.codecs = vec![codec("audio/PCMU", 0, 8000, Some(1), json!({}), &[])];
        send(&mut remote, &offer.media_descriptions[0], &pcmu, None);
        let text = sdp_of(&mut remote);
        assert_eq!(text.matches("m=audio").count(), 1);
        assert!(text.contains("m=audio 7 UDP/TLS/RTP/SAVPF 0\r\n"));
        assert!(text.contains("a=rtpmap:0 PCMU/8000\r\n"));
    }

    #[test]
    fn ice_restart_updates_open_sections() {
        let offer = chrome();
        let mut remote = remote(true);
        send(
            &mut remote,
            &offer.media_descriptions[0],
            &audio_params(),
            None,
        );
        send(
            &mut remote,
            &offer.media_descriptions[1],
            &video_params("video/VP8"),
            None,
        );
        remote.close_media_section("1").unwrap();
        remote.update_ice_parameters(IceParameters {
            username_fragment: "ufrag2".into(),
            password: "pwd2".into(),
            ice_lite: None,
        });
        let text = sdp_of(&mut remote);
        assert!(!text.contains("ice-lite"));
        assert_eq!(
            text.matches("a=ice-ufrag:ufrag2\r\na=ice-pwd:pwd2\r\n")
                .count(),
            1
        );
        assert!(!text.contains("ufrag1"));
    }

    #[test]
    fn bad_input_is_an_error() {
        let offer = chrome();
        let mut remote = remote(true);
        let mut params = audio_params();
        params.codecs[0].mime_type = "opus".into();
        let err = remote
            .send(SendParams {
                offer_media: &offer.media_descriptions[0],
                reuse_mid: None,
                offer_rtp_parameters: &params,
                answer_rtp_parameters: &params,
                codec_options: None,
            })
            .unwrap_err();
        assert_eq!(err.to_string(), "invalid codec.mimeType 'opus'");

        let mut no_mid = offer.media_descriptions[0].clone();
        no_mid.attributes.retain(|a| a.key != "mid");
        let params = audio_params();
        let send_to = |remote: &mut RemoteSdp, media: &MediaDescription| {
            remote.send(SendParams {
                offer_media: media,
                reuse_mid: None,
                offer_rtp_parameters: &params,
                answer_rtp_parameters: &params,
                codec_options: None,
            })
        };
        assert!(matches!(
            send_to(&mut remote, &no_mid),
            Err(SdpError::Missing(_))
        ));
        assert!(matches!(
            send_to(&mut remote, &offer.media_descriptions[2]),
            Err(SdpError::Invalid(_))
        ));
        assert!(matches!(
            remote.send_sctp_association(&offer.media_descriptions[0]),
            Err(SdpError::Invalid(_))
        ));
        let mut no_sctp = RemoteSdp::new(
            remote.ice_parameters.clone(),
            vec![],
            remote.dtls_parameters.clone(),
            None,
        )
        .unwrap();
        assert_eq!(
            no_sctp
                .send_sctp_association(&offer.media_descriptions[2])
                .unwrap_err()
                .to_string(),
            "no SCTP parameters for this transport"
        );
        assert!(remote.sections.is_empty());
    }

    /// Our data-only first offer (a data producer before any media), as webrtc-rs writes it.
    const DATA_OFFER: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
        a=group:BUNDLE 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
        c=IN IP4 0.0.0.0\r\na=setup:actpass\r\na=mid:0\r\na=sendrecv\r\n\
        a=sctp-port:5000\r\na=max-message-size:262144\r\n";

    #[test]
    fn answers_the_data_section_of_an_offer_once() {
        let mut sdp = remote(true);
        sdp.update_dtls_role(DtlsRole::Server);
        let offer = parse_sdp(DATA_OFFER).unwrap();
        assert!(sdp.answer_data_section(&offer).unwrap());
        // answered already: nothing added
        assert!(!sdp.answer_data_section(&offer).unwrap());
        let answer = sdp.get_sdp();
        assert_eq!(answer.matches("m=application").count(), 1, "{answer}");
        let section = &answer[answer.find("m=application").unwrap()..];
        assert!(section.contains("a=mid:0\r\n"), "{answer}");
        assert!(section.contains("a=sctp-port:5000\r\n"), "{answer}");
        assert!(
            section.contains("a=max-message-size:262144\r\n"),
            "{answer}"
        );
        assert!(section.contains("a=setup:passive\r\n"), "{answer}");
        assert!(answer.contains("a=group:BUNDLE 0\r\n"), "{answer}");

        // an offer without a data section: nothing to answer
        let mut media_only = chrome();
        media_only
            .media_descriptions
            .retain(|m| m.media_name.media != "application");
        let mut sdp = remote(true);
        assert!(!sdp.answer_data_section(&media_only).unwrap());
        // a transport without SCTP cannot answer one
        let mut plain = remote(true);
        plain.sctp_parameters = None;
        assert!(plain.answer_data_section(&offer).is_err());
    }
}
