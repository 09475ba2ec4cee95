//! Typed readers for the attribute lines of one media section.
//!
//! `rtc-sdp` splits an SDP into sections and `a=key:value` attributes; this file reads the
//! values mediasoup cares about (rtpmap, fmtp, rtcp-fb, extmap, ssrc, ssrc-group, rid,
//! simulcast). Lines that do not parse are skipped, as sdp-transform leaves them aside.

use rtc_sdp::MediaDescription;

/// `a=rtpmap:<pt> <name>/<rate>[/<channels>]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rtpmap {
    pub payload_type: u8,
    pub name: String,
    pub clock_rate: u32,
    pub channels: Option<u8>,
}

/// `a=rtcp-fb:<pt|*> <type>[ <parameter>]`; `payload_type` is `None` for `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RtcpFb {
    pub payload_type: Option<u8>,
    pub kind: String,
    pub parameter: String,
}

/// `a=extmap:<id>[/<direction>] [urn:ietf:params:rtp-hdrext:encrypt ]<uri>[ <attributes>]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extmap {
    pub id: u8,
    pub uri: String,
    pub encrypted: bool,
}

/// `a=ssrc:<ssrc> <attribute>[:<value>]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SsrcLine {
    pub ssrc: u32,
    pub attribute: String,
    pub value: String,
}

/// `a=ssrc-group:<semantics> <ssrc> <ssrc>...`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SsrcGroup {
    pub semantics: String,
    pub ssrcs: Vec<u32>,
}

/// `a=rid:<id> <send|recv>[ <restrictions>]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rid {
    pub id: String,
    pub direction: String,
}

/// `a=simulcast:<dir> <list>[ <dir> <list>]` (RFC 8853), or the draft-03 form
/// `a=simulcast: send rid=a;b` (value kept whole in `Draft03`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Simulcast {
    Rfc { direction: String, list: String },
    Draft03(String),
}

const ENCRYPT_URI: &str = "urn:ietf:params:rtp-hdrext:encrypt";

fn values<'a>(media: &'a MediaDescription, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    media
        .attributes
        .iter()
        .filter(move |a| a.key == key)
        .filter_map(|a| a.value.as_deref())
}

/// The section's `a=mid` value.
pub(crate) fn mid(media: &MediaDescription) -> Option<&str> {
    media.attribute("mid").flatten()
}

pub(crate) fn rtpmaps(media: &MediaDescription) -> Vec<Rtpmap> {
    values(media, "rtpmap")
        .filter_map(|value| {
            let (pt, encoding) = value.trim().split_once(' ')?;
            let mut parts = encoding.trim().split('/');
            let name = parts.next()?.to_owned();
            let clock_rate = parts.next()?.parse().ok()?;
            let channels = match parts.next() {
                Some(c) => Some(c.parse().ok()?),
                None => None,
            };
            Some(Rtpmap {
                payload_type: pt.parse().ok()?,
                name,
                clock_rate,
                channels,
            })
        })
        .collect()
}

/// `(payload type, config)` of every `a=fmtp`.
pub(crate) fn fmtps(media: &MediaDescription) -> Vec<(u8, &str)> {
    values(media, "fmtp")
        .filter_map(|value| {
            let (pt, config) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
            Some((pt.parse().ok()?, config.trim()))
        })
        .collect()
}

pub(crate) fn rtcp_fbs(media: &MediaDescription) -> Vec<RtcpFb> {
    values(media, "rtcp-fb")
        .filter_map(|value| {
            let mut fields = value.split_whitespace();
            let pt = fields.next()?;
            let payload_type = if pt == "*" {
                None
            } else {
                Some(pt.parse().ok()?)
            };
            let kind = fields.next()?.to_owned();
            let parameter = fields.next().unwrap_or("").to_owned();
            Some(RtcpFb {
                payload_type,
                kind,
                parameter,
            })
        })
        .collect()
}

pub(crate) fn extmaps(media: &MediaDescription) -> Vec<Extmap> {
    values(media, "extmap")
        .filter_map(|value| {
            let mut fields = value.split_whitespace();
            let id = fields.next()?.split('/').next()?.parse().ok()?;
            let mut uri = fields.next()?;
            let encrypted = uri == ENCRYPT_URI;
            if encrypted {
                uri = fields.next()?;
            }
            Some(Extmap {
                id,
                uri: uri.to_owned(),
                encrypted,
            })
        })
        .collect()
}

pub(crate) fn ssrc_lines(media: &MediaDescription) -> Vec<SsrcLine> {
    values(media, "ssrc")
        .filter_map(|value| {
            let (ssrc, rest) = value.trim().split_once(' ')?;
            let (attribute, value) = rest.split_once(':').unwrap_or((rest, ""));
            Some(SsrcLine {
                ssrc: ssrc.parse().ok()?,
                attribute: attribute.to_owned(),
                value: value.to_owned(),
            })
        })
        .collect()
}

pub(crate) fn ssrc_groups(media: &MediaDescription) -> Vec<SsrcGroup> {
    values(media, "ssrc-group")
        .filter_map(|value| {
            let mut fields = value.split_whitespace();
            let semantics = fields.next()?.to_owned();
            let ssrcs = fields
                .map(str::parse)
                .collect::<Result<Vec<u32>, _>>()
                .ok()?;
            Some(SsrcGroup { semantics, ssrcs })
        })
        .collect()
}

pub(crate) fn rids(media: &MediaDescription) -> Vec<Rid> {
    values(media, "rid")
        .filter_map(|value| {
            let mut fields = value.split_whitespace();
            Some(Rid {
                id: fields.next()?.to_owned(),
                direction: fields.next()?.to_owned(),
            })
        })
        .collect()
}

pub(crate) fn simulcast(media: &MediaDescription) -> Option<Simulcast> {
    let value = values(media, "simulcast").next()?;
    if value.starts_with(char::is_whitespace) {
        return Some(Simulcast::Draft03(value.trim().to_owned()));
    }
    let mut fields = value.split_whitespace();
    let direction = fields.next()?;
    let list = fields.next()?;
    if direction != "send" && direction != "recv" {
        return None;
    }
    Some(Simulcast::Rfc {
        direction: direction.to_owned(),
        list: list.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc_sdp::description::common::Attribute;

    fn media(lines: &[(&str, &str)]) -> MediaDescription {
        MediaDescription {
            attributes: lines
                .iter()
                .map(|(k, v)| Attribute::new((*k).to_owned(), Some((*v).to_owned())))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn reads_rtpmap_with_and_without_channels() {
        let m = media(&[
            ("rtpmap", "111 opus/48000/2"),
            ("rtpmap", "96 VP8/90000"),
            ("rtpmap", "x"),
        ]);
        assert_eq!(
            rtpmaps(&m),
            vec![
                Rtpmap {
                    payload_type: 111,
                    name: "opus".into(),
                    clock_rate: 48000,
                    channels: Some(2)
                },
                Rtpmap {
                    payload_type: 96,
                    name: "VP8".into(),
                    clock_rate: 90000,
                    channels: None
                },
            ]
        );
    }

    #[test]
    fn reads_rtcp_fb_wildcard_and_parameter() {
        let m = media(&[("rtcp-fb", "* transport-cc"), ("rtcp-fb", "96 nack pli")]);
        let fbs = rtcp_fbs(&m);
        assert_eq!(fbs[0].payload_type, None);
        assert_eq!(fbs[0].parameter, "");
        assert_eq!(
            (
                fbs[1].payload_type,
                fbs[1].kind.as_str(),
                fbs[1].parameter.as_str()
            ),
            (Some(96), "nack", "pli")
        );
    }

    #[test]
    fn reads_extmap_direction_and_encryption() {
        let m = media(&[
            ("extmap", "3/sendonly urn:ietf:params:rtp-hdrext:sdes:mid"),
            (
                "extmap",
                "5 urn:ietf:params:rtp-hdrext:encrypt urn:ietf:params:rtp-hdrext:toffset",
            ),
        ]);
        let exts = extmaps(&m);
        assert_eq!(
            exts[0],
            Extmap {
                id: 3,
                uri: "urn:ietf:params:rtp-hdrext:sdes:mid".into(),
                encrypted: false
            }
        );
        assert_eq!(
            exts[1],
            Extmap {
                id: 5,
                uri: "urn:ietf:params:rtp-hdrext:toffset".into(),
                encrypted: true
            }
        );
    }

    #[test]
    fn reads_ssrcs_groups_rids_and_simulcast() {
        let m = media(&[
            ("ssrc-group", "FID 1 2"),
            ("ssrc", "1 cname:abc"),
            ("ssrc", "1 msid:s t"),
            ("rid", "r0 send pt=96"),
            ("simulcast", "send r0;~r1"),
        ]);
        assert_eq!(
            ssrc_groups(&m),
            vec![SsrcGroup {
                semantics: "FID".into(),
                ssrcs: vec![1, 2]
            }]
        );
        assert_eq!(ssrc_lines(&m)[1].value, "s t");
        assert_eq!(
            rids(&m),
            vec![Rid {
                id: "r0".into(),
                direction: "send".into()
            }]
        );
        assert_eq!(
            simulcast(&m),
            Some(Simulcast::Rfc {
                direction: "send".into(),
                list: "r0;~r1".into()
            })
        );
        let draft = media(&[("simulcast", " send rid=r0;r1")]);
        assert_eq!(
            simulcast(&draft),
            Some(Simulcast::Draft03("send rid=r0;r1".into()))
        );
    }
}
