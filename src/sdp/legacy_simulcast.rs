//! SSRC-based ("legacy", plan-B style) simulcast in an offer, as mediasoup-client does for
//! VP9 SVC on Chrome: one `a=ssrc-group:SIM` listing consecutive SSRCs, each with its RTX.

use rtc_sdp::description::common::Attribute;
use rtc_sdp::MediaDescription;

use crate::{lines, SdpError};

/// Rewrites the `a=ssrc` / `a=ssrc-group` lines of an offer section to announce `num_streams`
/// streams: SSRCs `s, s+1, ...` from the SSRC of the first `msid` line, RTX SSRCs `r, r+1, ...`
/// when that SSRC had a FID group, each line with the original cname and msid.
///
/// Written as `a=ssrc-group:SIM ...`, then one `a=ssrc-group:FID <ssrc> <rtx>` per stream, then
/// `cname` and `msid` lines for each media SSRC followed by each RTX SSRC; the new lines take the
/// place of the old ones.
pub fn add_legacy_simulcast(
    offer_media: &mut MediaDescription,
    num_streams: u32,
) -> Result<(), SdpError> {
    if num_streams <= 1 {
        return Err(SdpError::Invalid(
            "numStreams must be greater than 1".into(),
        ));
    }
    let ssrc_lines = lines::ssrc_lines(offer_media);
    let msid_line = ssrc_lines
        .iter()
        .find(|line| line.attribute == "msid")
        .ok_or_else(|| SdpError::Missing("a=ssrc line with msid information not found".into()))?;
    let first_ssrc = msid_line.ssrc;
    let msid = msid_line.value.clone();
    let cname = ssrc_lines
        .iter()
        .find(|line| line.attribute == "cname")
        .map(|line| line.value.clone())
        .ok_or_else(|| SdpError::Missing("a=ssrc line with cname information not found".into()))?;
    let first_rtx = lines::ssrc_groups(offer_media)
        .into_iter()
        .filter(|group| group.semantics == "FID")
        .find(|group| group.ssrcs.first() == Some(&first_ssrc))
        .and_then(|group| group.ssrcs.get(1).copied());

    let ssrcs: Vec<u32> = (0..num_streams)
        .map(|i| first_ssrc.wrapping_add(i))
        .collect();
    let rtx_ssrcs: Vec<u32> = match first_rtx {
        Some(rtx) => (0..num_streams).map(|i| rtx.wrapping_add(i)).collect(),
        None => Vec::new(),
    };

    let attr = |key: &str, value: String| Attribute::new(key.to_owned(), Some(value));
    let join = |list: &[u32]| {
        list.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut new_lines = vec![attr("ssrc-group", format!("SIM {}", join(&ssrcs)))];
    for (ssrc, rtx) in ssrcs.iter().zip(&rtx_ssrcs) {
        new_lines.push(attr("ssrc-group", format!("FID {ssrc} {rtx}")));
    }
    for ssrc in ssrcs.iter().chain(&rtx_ssrcs) {
        new_lines.push(attr("ssrc", format!("{ssrc} cname:{cname}")));
        new_lines.push(attr("ssrc", format!("{ssrc} msid:{msid}")));
    }

    let is_ssrc_line = |a: &Attribute| a.key == "ssrc" || a.key == "ssrc-group";
    let at = offer_media
        .attributes
        .iter()
        .position(is_ssrc_line)
        .unwrap_or(offer_media.attributes.len());
    offer_media.attributes.retain(|a| !is_ssrc_line(a));
    offer_media.attributes.splice(at..at, new_lines);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{get_rtp_encodings, parse_sdp};

    fn ssrc_attrs(media: &MediaDescription) -> Vec<String> {
        media
            .attributes
            .iter()
            .filter(|a| a.key.starts_with("ssrc"))
            .map(|a| a.to_string())
            .collect()
    }

    #[test]
    fn three_streams_with_rtx() {
        let sdp = parse_sdp(include_str!("testdata/chrome_audio_video_offer.sdp")).unwrap();
        let mut video = sdp.media_descriptions[1].clone();
        add_legacy_simulcast(&mut video, 3).unwrap();
        let msid = "9bb0f3d0-0a2a-4b4c-8c5e-4bd6e4d4b2ee 1f0e7a36-5f6b-4d3a-9a3b-7f0c2b6a9e11";
        let mut expected = vec![
            "ssrc-group:SIM 3016485519 3016485520 3016485521".to_owned(),
            "ssrc-group:FID 3016485519 2410612066".to_owned(),
            "ssrc-group:FID 3016485520 2410612067".to_owned(),
            "ssrc-group:FID 3016485521 2410612068".to_owned(),
        ];
        for ssrc in [
            3016485519_u32,
            3016485520,
            3016485521,
            2410612066,
            2410612067,
            2410612068,
        ] {
            expected.push(format!("ssrc:{ssrc} cname:B0vFq4Gq1ZtEo3bm"));
            expected.push(format!("ssrc:{ssrc} msid:{msid}"));
        }
        assert_eq!(ssrc_attrs(&video), expected);
        // The new lines sit where the old ones were: last in this section.
        assert_eq!(
            video.attributes.last().unwrap().to_string(),
            format!("ssrc:2410612068 msid:{msid}")
        );

        let encodings = get_rtp_encodings(&video).unwrap();
        let pairs: Vec<_> = encodings
            .iter()
            .map(|e| (e.ssrc.unwrap(), e.rtx.unwrap().ssrc))
            .collect();
        assert_eq!(
            pairs,
            [
                (3016485519, 2410612066),
                (3016485520, 2410612067),
                (3016485521, 2410612068)
            ]
        );
    }

    #[test]
    fn two_streams_without_rtx() {
        let sdp = parse_sdp(include_str!("testdata/webrtc_rs_offer.sdp")).unwrap();
        let mut video = sdp.media_descriptions[1].clone();
        add_legacy_simulcast(&mut video, 2).unwrap();
        assert_eq!(
            ssrc_attrs(&video),
            [
                "ssrc-group:SIM 792305617 792305618",
                "ssrc:792305617 cname:UueMxxksQMAVgrGl",
                "ssrc:792305617 msid:UueMxxksQMAVgrGl olKxMmrQeXIirzFZ",
                "ssrc:792305618 cname:UueMxxksQMAVgrGl",
                "ssrc:792305618 msid:UueMxxksQMAVgrGl olKxMmrQeXIirzFZ",
            ]
        );
        // The section's other lines are untouched.
        assert_eq!(video.attributes.last().unwrap().to_string(), "sendonly");
    }

    #[test]
    fn errors() {
        let sdp = parse_sdp(include_str!("testdata/chrome_audio_video_offer.sdp")).unwrap();
        let mut video = sdp.media_descriptions[1].clone();
        assert_eq!(
            add_legacy_simulcast(&mut video, 1).unwrap_err().to_string(),
            "numStreams must be greater than 1"
        );
        let mut data = sdp.media_descriptions[2].clone();
        assert_eq!(
            add_legacy_simulcast(&mut data, 2).unwrap_err().to_string(),
            "a=ssrc line with msid information not found"
        );
    }
}
