//! Property tests of the SDP layer on untrusted text and parameters: mutated offers (lines
//! dropped, repeated, inserted, tokens replaced) and random text through the parser and every
//! reader of a local offer; and answers built from server parameters with arbitrary strings,
//! which must parse back with what they were given. No input may panic.
//! `PROPTEST_CASES` sets the number of cases (see docs/testing.md).

use msc_ortc::{
    validate_consume_options, validate_dtls_parameters, validate_ice_candidates,
    validate_ice_parameters, MediaKind, RtpCodecParameters, RtpHeaderExtensionParameters,
    RtpParameters, SctpParameters,
};
use msc_sdp::*;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::json;

fn config(default: u32) -> ProptestConfig {
    let mut config = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = default;
    }
    config
}

const OFFERS: [&str; 3] = [
    include_str!("../testdata/chrome_audio_video_offer.sdp"),
    include_str!("../testdata/chrome_simulcast_offer.sdp"),
    include_str!("../testdata/webrtc_rs_offer.sdp"),
];

/// Tokens that SDP readers trip on.
const TOKENS: &[&str] = &[
    "",
    "0",
    "-1",
    "4294967295",
    "4294967296",
    "18446744073709551616",
    "65536",
    "x",
    ":",
    "/",
    "=",
    " ",
    "a=",
    "m=",
    "ssrc",
    "cname:",
    "FID",
    "SIM",
    "rid",
    "send",
    "recv",
    "~",
    ";",
    "sha-256",
    "actpass",
    "active",
    "passive",
    "holdconn",
    "AB:CD:",
    "\u{e9}\u{1F600}",
    "\t",
];

#[derive(Debug, Clone)]
enum LineChange {
    Drop(Index),
    Repeat(Index),
    Insert(Index, String),
    /// Replace one space-separated token of a line (or the part after `:`/`=`).
    Token(Index, Index, String),
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(TOKENS).prop_map(String::from),
        1 => "[ -~]{0,12}",
    ]
}

fn line_change() -> impl Strategy<Value = LineChange> {
    prop_oneof![
        1 => any::<Index>().prop_map(LineChange::Drop),
        1 => any::<Index>().prop_map(LineChange::Repeat),
        1 => (any::<Index>(), "[a-z]=[ -~]{0,30}").prop_map(|(i, l)| LineChange::Insert(i, l)),
        4 => (any::<Index>(), any::<Index>(), token()).prop_map(|(i, j, t)| LineChange::Token(i, j, t)),
    ]
}

fn mutate(offer: &str, changes: &[LineChange]) -> String {
    let mut lines: Vec<String> = offer.lines().map(String::from).collect();
    for change in changes {
        if lines.is_empty() {
            break;
        }
        match change {
            LineChange::Drop(i) => {
                lines.remove(i.index(lines.len()));
            }
            LineChange::Repeat(i) => {
                let at = i.index(lines.len());
                lines.insert(at, lines[at].clone());
            }
            LineChange::Insert(i, line) => lines.insert(i.index(lines.len() + 1), line.clone()),
            LineChange::Token(i, j, token) => {
                let at = i.index(lines.len());
                let mut parts: Vec<String> =
                    lines[at].split([' ', ':', '=']).map(String::from).collect();
                let k = j.index(parts.len());
                parts[k] = token.clone();
                // keep the line's kind (`a=`, `m=`...) when the first token was not replaced
                let rebuilt = parts.join(" ");
                lines[at] = if k == 0 {
                    rebuilt
                } else {
                    format!(
                        "{}={}",
                        lines[at].chars().next().unwrap_or('a'),
                        rebuilt.split_once(' ').map_or("", |(_, rest)| rest)
                    )
                };
            }
        }
    }
    lines.join("\r\n") + "\r\n"
}

/// Every reader of a local offer, on whatever parsed.
fn read_offer(text: &str) {
    let Ok(sdp) = parse_sdp(text) else { return };
    let _ = extract_rtp_capabilities(&sdp);
    let _ = extract_dtls_parameters(&sdp);
    for media in &sdp.media_descriptions {
        let _ = get_cname(media);
        let _ = get_rtp_encodings(media);
        let mut media = media.clone();
        let _ = add_legacy_simulcast(&mut media, 3);
    }
    let _ = sdp.marshal();
}

/// Strings a server (or a man in the middle of the signalling) might send.
fn server_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Za-z0-9+/]{1,24}",
        1 => "[ -~]{0,16}",
        1 => "\\PC{0,8}",
        1 => proptest::sample::select(&["a\r\na=ice-lite", "x\ny", "1.2.3.4\r\nm=video 9", " "][..]).prop_map(String::from),
    ]
}

/// The remote SDP of a transport whose server sent these strings, validated as the client
/// validates them (`None` when refused).
fn remote_sdp(
    ufrag: &str,
    pwd: &str,
    address: &str,
    foundation: &str,
    fingerprint: &str,
    port: u16,
) -> Option<RemoteSdp> {
    let ice = validate_ice_parameters(
        &mut json!({ "usernameFragment": ufrag, "password": pwd, "iceLite": true }),
    );
    let candidates = validate_ice_candidates(&mut json!([{
        "foundation": foundation, "priority": 1_076_302_079, "address": address,
        "protocol": "udp", "port": port, "type": "host"
    }]));
    let dtls = validate_dtls_parameters(&mut json!({
        "role": "auto", "fingerprints": [{ "algorithm": "sha-256", "value": fingerprint }]
    }));
    let sctp = SctpParameters {
        port: 5000,
        os: 1024,
        mis: 1024,
        max_message_size: 262_144,
    };
    RemoteSdp::new(ice.ok()?, candidates.ok()?, dtls.ok()?, Some(sctp)).ok()
}

/// The sending parameters of the offer's first section of `kind`, as the transport makes them.
fn sending_parameters(offer: &SessionDescription, kind: MediaKind) -> RtpParameters {
    let caps = extract_rtp_capabilities(offer);
    RtpParameters {
        mid: None,
        codecs: caps
            .codecs
            .iter()
            .filter(|c| c.kind == kind)
            .take(2)
            .map(|c| RtpCodecParameters {
                mime_type: c.mime_type.clone(),
                payload_type: c.preferred_payload_type.unwrap_or(100),
                clock_rate: c.clock_rate,
                channels: c.channels,
                parameters: c.parameters.clone(),
                rtcp_feedback: c.rtcp_feedback.clone(),
            })
            .collect(),
        header_extensions: caps
            .header_extensions
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| RtpHeaderExtensionParameters {
                uri: e.uri.clone(),
                id: e.preferred_id,
                encrypt: false,
                parameters: Default::default(),
            })
            .collect(),
        encodings: vec![],
        rtcp: Default::default(),
    }
}

/// `transport.consume()` options as a mediasoup server gives them: a video consumer.
fn consume_options() -> serde_json::Value {
    json!({
        "id": "c0ffee00-0000-4000-8000-000000000001",
        "producerId": "p1",
        "kind": "video",
        "rtpParameters": {
            "mid": "1",
            "codecs": [
                { "mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
                  "rtcpFeedback": [{ "type": "nack" }, { "type": "nack", "parameter": "pli" }] },
                { "mimeType": "video/rtx", "payloadType": 102, "clockRate": 90000,
                  "parameters": { "apt": 101 } }
            ],
            "headerExtensions": [{ "uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 1 }],
            "encodings": [{ "ssrc": 22222222, "rtx": { "ssrc": 22222223 } }],
            "rtcp": { "cname": "cname1" }
        },
        "streamId": "s1"
    })
}

/// Values a server (or a man in the middle) might put anywhere in the options.
fn server_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    prop_oneof![
        3 => server_string().prop_map(Value::from),
        2 => (0u32..300).prop_map(Value::from),
        1 => any::<u32>().prop_map(Value::from),
        1 => Just(Value::Null),
        1 => proptest::sample::select(&["video/H264", "audio/opus", "video/rtx", "video/ x", "video/VP8\r\na=x"][..]).prop_map(Value::from),
        1 => Just(json!({})),
        1 => Just(json!([])),
    ]
}

/// Replaces the node at `path` (indices into arrays and objects, modulo their sizes).
fn replace_node(node: &mut serde_json::Value, path: &[usize], replacement: serde_json::Value) {
    use serde_json::Value;
    let Some((&step, rest)) = path.split_first() else {
        *node = replacement;
        return;
    };
    match node {
        Value::Array(items) if !items.is_empty() => {
            let n = items.len();
            replace_node(&mut items[step % n], rest, replacement);
        }
        Value::Object(map) if !map.is_empty() => {
            let n = map.len();
            replace_node(map.values_mut().nth(step % n).unwrap(), rest, replacement);
        }
        _ => *node = replacement,
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// What `validate_consume_options` (and `check_can_consume`) let through,
    /// `RemoteSdp::receive` takes, and the offer parses back with the consumer's section.
    #[test]
    fn validated_consumers_make_offers(
        changes in proptest::collection::vec(
            (proptest::collection::vec(any::<usize>(), 1..6), server_value()),
            1..4,
        ),
    ) {
        let mut options = consume_options();
        for (path, value) in changes {
            replace_node(&mut options, &path, value);
        }
        let Ok(consume) = validate_consume_options(&mut options) else {
            return Ok(());
        };
        // No codec at all: `check_can_consume` refuses it (UnsupportedError) before this.
        if consume.rtp_parameters.codecs.is_empty() {
            return Ok(());
        }
        let mut remote = remote_sdp("ufrag", "pwd", "127.0.0.1", "udp", "AB:CD", 40000).unwrap();
        let mid = consume.rtp_parameters.mid.clone().unwrap_or_else(|| "0".into());
        let extras = vec![RtpCodecParameters {
            mime_type: format!("{}/opus", consume.kind.as_str()),
            payload_type: 100,
            clock_rate: 48000,
            channels: Some(2),
            parameters: Default::default(),
            rtcp_feedback: vec![],
        }];
        remote
            .receive(RecvParams {
                mid: &mid,
                kind: consume.kind,
                offer_rtp_parameters: &consume.rtp_parameters,
                stream_id: consume.msid_stream_id(),
                track_id: &consume.id,
                extra_codecs: &extras,
            })
            .map_err(|e| TestCaseError::fail(format!("receive: {e}\n{options}")))?;
        let offer = remote.get_sdp();
        let parsed = parse_sdp(&offer).map_err(|e| TestCaseError::fail(format!("{e}\n{offer}")))?;
        prop_assert_eq!(parsed.media_descriptions.len(), 1, "{}", offer);
        let media = media_by_mid(&parsed, &mid);
        prop_assert!(media.is_some(), "{}", offer);
        let msid = format!("{} {}", consume.msid_stream_id(), consume.id);
        prop_assert_eq!(media.unwrap().attribute("msid").flatten(), Some(msid.as_str()), "{}", offer);
    }

    #[test]
    fn mutated_offers(which in 0..OFFERS.len(), changes in proptest::collection::vec(line_change(), 1..8)) {
        read_offer(&mutate(OFFERS[which], &changes));
    }

    #[test]
    fn random_text(text in "([a-z]=[ -~]{0,40}\r\n){0,12}") {
        read_offer(&text);
        read_offer(&format!("{}{text}", OFFERS[0]));
    }

    /// An answer built from validated server parameters parses back, with one section per
    /// `send()` and the ICE credentials it was given.
    #[test]
    fn answers_from_server_parameters_parse_back(
        ufrag in server_string(),
        pwd in server_string(),
        address in server_string(),
        foundation in server_string(),
        fingerprint in server_string(),
        port in any::<u16>(),
    ) {
        let Some(mut remote) = remote_sdp(&ufrag, &pwd, &address, &foundation, &fingerprint, port) else {
            prop_assert!([&ufrag, &pwd, &address, &foundation, &fingerprint].iter().any(|s| s.is_empty() || s.contains(['\r', '\n', '\0'])));
            return Ok(());
        };
        let offer = parse_sdp(OFFERS[0]).unwrap();
        for (media, kind) in offer.media_descriptions.iter().zip([MediaKind::Audio, MediaKind::Video]) {
            let params = sending_parameters(&offer, kind);
            let idx = remote.next_media_section_idx();
            remote
                .send(SendParams {
                    offer_media: media,
                    reuse_mid: idx.reuse_mid,
                    offer_rtp_parameters: &params,
                    answer_rtp_parameters: &params,
                    codec_options: None,
                })
                .map_err(|e| TestCaseError::fail(format!("send: {e}")))?;
        }
        let answer = remote.get_sdp();
        let parsed = parse_sdp(&answer).map_err(|e| TestCaseError::fail(format!("{e}\n{answer}")))?;
        prop_assert_eq!(parsed.media_descriptions.len(), 2, "{}", answer);
        for media in &parsed.media_descriptions {
            let ufrags: Vec<_> = media
                .attributes
                .iter()
                .filter(|a| a.key == "ice-ufrag")
                .map(|a| a.value.clone().unwrap_or_default().trim().to_owned())
                .collect();
            // (the parser trims the value: a ufrag is ice-chars, no spaces, RFC 8839)
            prop_assert_eq!(ufrags, vec![ufrag.trim().to_owned()], "{}", answer);
        }
    }
}
