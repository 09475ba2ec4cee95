//! Local offer media section -> CNAME and the RTP encodings it will send.

use std::collections::HashMap;

use msc_ortc::{RtpEncodingParameters, RtxParameters};
use rtc_sdp::MediaDescription;

use crate::{lines, SdpError};

/// The CNAME of the first `a=ssrc:<ssrc> cname:<cname>` line, if any.
pub fn get_cname(offer_media: &MediaDescription) -> Option<String> {
    lines::ssrc_lines(offer_media)
        .into_iter()
        .find(|line| line.attribute == "cname")
        .map(|line| line.value)
}

/// One encoding per media SSRC of the section, in the order the SSRCs first appear, each with
/// the RTX SSRC that an `a=ssrc-group:FID <ssrc> <rtx>` pairs it with.
///
/// RTX is reported whenever a FID group names it; mediasoup-client also drops it when the
/// sending codecs have no RTX codec, which the caller must do (it knows the codecs).
pub fn get_rtp_encodings(
    offer_media: &MediaDescription,
) -> Result<Vec<RtpEncodingParameters>, SdpError> {
    let mut ssrcs: Vec<u32> = Vec::new();
    for line in lines::ssrc_lines(offer_media) {
        if !ssrcs.contains(&line.ssrc) {
            ssrcs.push(line.ssrc);
        }
    }
    if ssrcs.is_empty() {
        return Err(SdpError::Missing("no a=ssrc lines found".into()));
    }

    let mut rtx_of: HashMap<u32, u32> = HashMap::new();
    for group in lines::ssrc_groups(offer_media) {
        if let [ssrc, rtx, ..] = group.ssrcs[..] {
            if group.semantics == "FID" && ssrcs.contains(&ssrc) && !rtx_of.contains_key(&ssrc) {
                rtx_of.insert(ssrc, rtx);
            }
        }
    }

    let is_rtx = |ssrc: &u32| rtx_of.values().any(|rtx| rtx == ssrc) && !rtx_of.contains_key(ssrc);
    Ok(ssrcs
        .iter()
        .filter(|ssrc| !is_rtx(ssrc))
        .map(|&ssrc| RtpEncodingParameters {
            ssrc: Some(ssrc),
            rtx: rtx_of.get(&ssrc).map(|&rtx| RtxParameters { ssrc: rtx }),
            ..Default::default()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_sdp;
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

    fn ssrcs(encodings: &[RtpEncodingParameters]) -> Vec<(u32, Option<u32>)> {
        encodings
            .iter()
            .map(|e| (e.ssrc.unwrap(), e.rtx.map(|r| r.ssrc)))
            .collect()
    }

    #[test]
    fn keeps_the_given_ssrc_order() {
        // libmediasoupclient's "getRtpEncodings respect the given SSRC order".
        let m = media(&[
            ("ssrc", "3142507807 cname:xP/I5Utgvn9wJsho"),
            ("ssrc", "3142507807 msid:0 audio-track-id"),
            ("ssrc", "3142507807 mslabel:0"),
            ("ssrc", "3142507807 label:audio-track-id"),
            ("ssrc", "3142507806 cname:xP/I5Utgvn9wJsho"),
            ("ssrc", "3142507806 msid:0 audio-track-id"),
        ]);
        assert_eq!(
            ssrcs(&get_rtp_encodings(&m).unwrap()),
            [(3142507807, None), (3142507806, None)]
        );
    }

    #[test]
    fn pairs_rtx_through_fid() {
        let sdp = parse_sdp(include_str!("testdata/chrome_audio_video_offer.sdp")).unwrap();
        let audio = &sdp.media_descriptions[0];
        let video = &sdp.media_descriptions[1];
        assert_eq!(
            ssrcs(&get_rtp_encodings(audio).unwrap()),
            [(1929292827, None)]
        );
        assert_eq!(
            ssrcs(&get_rtp_encodings(video).unwrap()),
            [(3016485519, Some(2410612066))]
        );
        assert_eq!(get_cname(video).as_deref(), Some("B0vFq4Gq1ZtEo3bm"));
    }

    #[test]
    fn rtx_listed_first_is_still_paired() {
        let m = media(&[
            ("ssrc-group", "FID 10 20"),
            ("ssrc-group", "FID 11 21"),
            ("ssrc", "20 cname:c"),
            ("ssrc", "10 cname:c"),
            ("ssrc", "11 cname:c"),
            ("ssrc", "21 cname:c"),
        ]);
        assert_eq!(
            ssrcs(&get_rtp_encodings(&m).unwrap()),
            [(10, Some(20)), (11, Some(21))]
        );
    }

    #[test]
    fn no_ssrc_is_an_error_and_no_cname_is_none() {
        let m = media(&[("mid", "0")]);
        assert_eq!(
            get_rtp_encodings(&m).unwrap_err().to_string(),
            "no a=ssrc lines found"
        );
        assert_eq!(get_cname(&m), None);
    }

    #[test]
    fn webrtc_rs_offer_has_a_cname_and_one_ssrc_per_section() {
        let sdp = parse_sdp(include_str!("testdata/webrtc_rs_offer.sdp")).unwrap();
        let video = &sdp.media_descriptions[1];
        assert_eq!(get_cname(video).as_deref(), Some("UueMxxksQMAVgrGl"));
        assert_eq!(
            ssrcs(&get_rtp_encodings(video).unwrap()),
            [(792305617, None)]
        );
    }
}
