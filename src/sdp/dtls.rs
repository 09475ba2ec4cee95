//! Local offer -> our DTLS parameters.

use msc_ortc::{DtlsFingerprint, DtlsParameters, DtlsRole};
use rtc_sdp::SessionDescription;

use crate::SdpError;

/// The DTLS parameters an SDP announces: its fingerprint and its role.
///
/// `a=setup` and `a=fingerprint` are taken at session level first, else from the first media
/// section that is not closed (port 0). `a=setup:active` -> `client`, `passive` -> `server`,
/// `actpass` -> `auto`; any other value leaves the role unset. One fingerprint is returned.
pub fn extract_dtls_parameters(sdp: &SessionDescription) -> Result<DtlsParameters, SdpError> {
    let open_media = sdp
        .media_descriptions
        .iter()
        .find(|m| m.media_name.port.value != 0);
    let media_value = |key: &str| -> Option<String> {
        open_media
            .and_then(|m| m.attribute(key).flatten())
            .map(str::to_owned)
    };
    let setup = sdp
        .attribute("setup")
        .cloned()
        .or_else(|| media_value("setup"))
        .ok_or_else(|| {
            SdpError::Missing("no a=setup found at SDP session or media level".into())
        })?;
    let fingerprint = sdp
        .attribute("fingerprint")
        .cloned()
        .or_else(|| media_value("fingerprint"))
        .ok_or_else(|| {
            SdpError::Missing("no a=fingerprint found at SDP session or media level".into())
        })?;

    let (algorithm, value) = fingerprint
        .trim()
        .split_once(' ')
        .ok_or_else(|| SdpError::Invalid(format!("invalid a=fingerprint '{fingerprint}'")))?;
    let role = match setup.trim() {
        "active" => Some(DtlsRole::Client),
        "passive" => Some(DtlsRole::Server),
        "actpass" => Some(DtlsRole::Auto),
        _ => None,
    };
    Ok(DtlsParameters {
        role,
        fingerprints: vec![DtlsFingerprint {
            algorithm: algorithm.to_owned(),
            value: value.trim().to_owned(),
        }],
    })
}

/// The DTLS role our answer took (a receiving transport's PeerConnection answers the
/// server's offer): `a=setup:active` -> `client`, `passive` -> `server`, read as
/// [`extract_dtls_parameters`] reads it. This is the role to send in `connect`.
///
/// An answer must choose (RFC 5763): `actpass`, another value or no `a=setup` is an error.
pub fn answer_dtls_role(answer: &SessionDescription) -> Result<DtlsRole, SdpError> {
    match extract_dtls_parameters(answer)?.role {
        Some(role @ (DtlsRole::Client | DtlsRole::Server)) => Ok(role),
        _ => Err(SdpError::Invalid(
            "the answer's a=setup is neither active nor passive".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_sdp;

    const HEAD: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";

    #[test]
    fn browser_offer_is_auto_with_one_sha256_fingerprint() {
        let sdp = parse_sdp(include_str!("testdata/chrome_audio_video_offer.sdp")).unwrap();
        let dtls = extract_dtls_parameters(&sdp).unwrap();
        assert_eq!(dtls.role, Some(DtlsRole::Auto));
        assert_eq!(
            dtls.fingerprints,
            vec![DtlsFingerprint {
                algorithm: "sha-256".into(),
                value: "8F:43:6D:4A:2B:17:C1:0E:0E:93:74:C9:5D:1E:27:6C:B1:92:5A:86:3C:0B:D1:4E:0A:9F:61:2E:5B:E7:3A:C4".into(),
            }]
        );
    }

    #[test]
    fn session_level_fingerprint_as_webrtc_rs_writes_it() {
        let sdp = parse_sdp(include_str!("testdata/webrtc_rs_offer.sdp")).unwrap();
        let dtls = extract_dtls_parameters(&sdp).unwrap();
        assert_eq!(dtls.role, Some(DtlsRole::Auto));
        assert!(dtls.fingerprints[0].value.starts_with("CC:EA:D9"));
    }

    #[test]
    fn setup_maps_to_role_and_closed_sections_are_skipped() {
        let sdp = parse_sdp(&format!(
            "{HEAD}m=audio 0 UDP/TLS/RTP/SAVPF 0\r\na=setup:passive\r\na=fingerprint:sha-1 AA\r\n\
             m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=setup:active\r\na=fingerprint:sha-512 BB\r\n"
        ))
        .unwrap();
        let dtls = extract_dtls_parameters(&sdp).unwrap();
        assert_eq!(dtls.role, Some(DtlsRole::Client));
        assert_eq!(dtls.fingerprints[0].algorithm, "sha-512");

        let sdp = parse_sdp(&format!(
            "{HEAD}a=setup:passive\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=fingerprint:sha-256 CC\r\n"
        ))
        .unwrap();
        assert_eq!(
            extract_dtls_parameters(&sdp).unwrap().role,
            Some(DtlsRole::Server)
        );
    }

    #[test]
    fn answer_role_is_active_or_passive() {
        let answer = |setup: &str| {
            parse_sdp(&format!(
                "{HEAD}m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=setup:{setup}\r\na=fingerprint:sha-256 CC\r\n"
            ))
            .unwrap()
        };
        assert_eq!(answer_dtls_role(&answer("active")), Ok(DtlsRole::Client));
        assert_eq!(answer_dtls_role(&answer("passive")), Ok(DtlsRole::Server));
        for bad in ["actpass", "holdconn"] {
            assert_eq!(
                answer_dtls_role(&answer(bad)).unwrap_err().to_string(),
                "the answer's a=setup is neither active nor passive"
            );
        }
        let no_setup = parse_sdp(&format!(
            "{HEAD}m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=fingerprint:sha-256 CC\r\n"
        ))
        .unwrap();
        assert!(matches!(
            answer_dtls_role(&no_setup),
            Err(SdpError::Missing(_))
        ));
    }

    #[test]
    fn missing_setup_or_fingerprint_is_an_error() {
        let no_setup = parse_sdp(&format!(
            "{HEAD}m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=fingerprint:sha-256 CC\r\n"
        ))
        .unwrap();
        assert_eq!(
            extract_dtls_parameters(&no_setup).unwrap_err().to_string(),
            "no a=setup found at SDP session or media level"
        );
        let no_fp = parse_sdp(&format!(
            "{HEAD}m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=setup:actpass\r\n"
        ))
        .unwrap();
        assert_eq!(
            extract_dtls_parameters(&no_fp).unwrap_err().to_string(),
            "no a=fingerprint found at SDP session or media level"
        );
    }
}
