//! Property tests of the validators on JSON from the server or the application: random JSON
//! (objects keyed by the fields the validators read), and the router fixture with one node
//! replaced. For every input: no panic; a refusal is a `TypeError`; what is accepted
//! validates again to the same thing (normalizing twice changes nothing), and goes through
//! the capability matching and the sending parameters without panic.
//! `PROPTEST_CASES` sets the number of cases (see docs/testing.md).

mod common;

use common::*;
use msc_ortc::*;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

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

/// Keys the validators read, and a few others.
const KEYS: &[&str] = &[
    "mimeType",
    "kind",
    "clockRate",
    "payloadType",
    "preferredPayloadType",
    "channels",
    "parameters",
    "rtcpFeedback",
    "type",
    "parameter",
    "uri",
    "id",
    "preferredId",
    "preferredEncrypt",
    "direction",
    "codecs",
    "headerExtensions",
    "encodings",
    "rtcp",
    "cname",
    "reducedSize",
    "mux",
    "ssrc",
    "rid",
    "dtx",
    "scalabilityMode",
    "maxBitrate",
    "rtx",
    "apt",
    "profile-level-id",
    "packetization-mode",
    "level-asymmetry-allowed",
    "usernameFragment",
    "password",
    "iceLite",
    "foundation",
    "priority",
    "ip",
    "address",
    "protocol",
    "port",
    "tcpType",
    "role",
    "fingerprints",
    "algorithm",
    "value",
    "numStreams",
    "OS",
    "MIS",
    "maxMessageSize",
    "streamId",
    "ordered",
    "maxPacketLifeTime",
    "maxRetransmits",
    "mid",
    "encrypt",
    "producerId",
    "rtpParameters",
    "appData",
    "x",
];

/// Strings the validators look for, and a few others.
const STRINGS: &[&str] = &[
    "",
    "audio/opus",
    "video/VP8",
    "video/VP9",
    "video/H264",
    "video/rtx",
    "audio/",
    "video/\n",
    "audio",
    "video",
    "42e01f",
    "640c1f",
    "4d0032",
    "f4001f",
    "L1T3",
    "S3T3_KEY",
    "L9T9",
    "sendrecv",
    "sendonly",
    "recvonly",
    "inactive",
    "nack",
    "pli",
    "transport-cc",
    "udp",
    "tcp",
    "host",
    "auto",
    "client",
    "server",
    "sha-256",
    "AB:CD",
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "1",
    "0x10",
    "é€😀",
];

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(-1),
            Just(96),
            Just(127),
            Just(255),
            Just(256),
            Just(65_535),
            Just(65_536),
            Just(90_000),
            Just(u32::MAX as i64),
            Just(u32::MAX as i64 + 1),
            Just(i64::MIN),
            Just(i64::MAX),
        ]
        .prop_map(Value::from),
        Just(json!(u64::MAX)),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just(0.5f64),
            Just(100.0),
            Just(-0.0),
            Just(1e300),
            Just(9.1e15)
        ]
        .prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // NaN and infinities become null
    ]
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(STRINGS).prop_map(String::from),
        1 => ".{0,12}",
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![4 => proptest::sample::select(KEYS).prop_map(String::from), 1 => ".{0,6}"],
                    inner
                ),
                0..6
            )
            .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

type Validator = fn(&mut Value) -> Result<Value, OrtcError>;

macro_rules! validators {
    ($($f:path),* $(,)?) => {
        &[$((stringify!($f), |v: &mut Value| $f(v).map(|t| serde_json::to_value(t).unwrap()))),*]
    };
}

const VALIDATORS: &[(&str, Validator)] = validators![
    validate_and_normalize_rtp_capabilities,
    validate_and_normalize_rtp_codec_capability,
    validate_and_normalize_rtcp_feedback,
    validate_and_normalize_rtp_header_extension,
    validate_and_normalize_rtp_parameters,
    validate_and_normalize_rtp_codec_parameters,
    validate_rtp_header_extension_parameters,
    validate_and_normalize_rtp_encoding_parameters,
    validate_and_normalize_rtcp_parameters,
    validate_sctp_capabilities,
    validate_num_sctp_streams,
    validate_sctp_parameters,
    validate_and_normalize_sctp_stream_parameters,
    validate_ice_parameters,
    validate_ice_candidate,
    validate_ice_candidates,
    validate_dtls_parameters,
    validate_consume_options,
];

/// Runs `validate` on `input`; checks the properties.
fn check(name: &str, validate: Validator, input: &Value) -> Result<(), TestCaseError> {
    let mut value = input.clone();
    match validate(&mut value) {
        Err(e) => prop_assert_eq!(e.kind, ErrorKind::TypeError, "{}: {}", name, e.message),
        Ok(typed) => {
            // the normalized value is valid and normalizes to itself
            let mut again = value.clone();
            let typed_again = validate(&mut again).map_err(|e| {
                TestCaseError::fail(format!("{name}: {value} refused: {}", e.message))
            })?;
            prop_assert_eq!(&again, &value, "{}: normalizing twice changed it", name);
            prop_assert_eq!(typed_again, typed, "{}", name);
        }
    }
    Ok(())
}

/// Replaces the node at `path` (indices into arrays and objects, taken modulo their sizes)
/// with `replacement`.
fn replace_node(node: &mut Value, path: &[usize], replacement: Value) {
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

/// Everything the device computes from router capabilities (load, canProduce, the sending
/// parameters of produce()).
fn use_router_capabilities(router: &RtpCapabilities) {
    for local in [native(), router.clone()] {
        let extended = get_extended_rtp_capabilities(&local, router).unwrap();
        let recv = get_recv_rtp_capabilities(&extended);
        let _ = get_send_rtp_capabilities(&extended);
        for kind in [MediaKind::Audio, MediaKind::Video] {
            let _ = can_send(kind, &extended);
            let sending = get_sending_rtp_parameters(kind, &extended).unwrap();
            let remote = get_sending_remote_rtp_parameters(kind, &extended).unwrap();
            let _ = can_receive(&remote, &recv);
            for codec in &router.codecs {
                let _ = reduce_codecs(&sending.codecs, Some(codec));
            }
            let _ = reduce_codecs(&remote.codecs, None);
        }
    }
}

/// Valid inputs of the validators (by name), as a server sends them.
fn valid_inputs() -> Vec<(&'static str, Value)> {
    vec![
        (
            "validate_and_normalize_rtp_parameters",
            json!({
                "mid": "0",
                "codecs": [
                    { "mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
                      "rtcpFeedback": [{ "type": "nack" }, { "type": "nack", "parameter": "pli" }] },
                    { "mimeType": "video/rtx", "payloadType": 102, "clockRate": 90000,
                      "parameters": { "apt": 101 } }
                ],
                "headerExtensions": [
                    { "uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 1 },
                    { "uri": "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", "id": 4 }
                ],
                "encodings": [
                    { "ssrc": 1111, "rtx": { "ssrc": 2222 }, "scalabilityMode": "L1T3",
                      "maxBitrate": 500000, "dtx": false },
                    { "rid": "r1", "scalabilityMode": "S3T3" }
                ],
                "rtcp": { "cname": "abc", "reducedSize": true }
            }),
        ),
        (
            "validate_consume_options",
            json!({
                "id": "c0ffee00-0000-4000-8000-000000000001",
                "producerId": "p1",
                "kind": "audio",
                "rtpParameters": {
                    "mid": "3",
                    "codecs": [{ "mimeType": "audio/opus", "payloadType": 100, "clockRate": 48000,
                                 "channels": 2, "parameters": { "useinbandfec": 1 } }],
                    "encodings": [{ "ssrc": 1111 }],
                    "rtcp": { "cname": "abc" }
                },
                "streamId": "s1",
                "appData": { "x": 1 }
            }),
        ),
        (
            "validate_ice_parameters",
            json!({ "usernameFragment": "ufrag", "password": "pwd", "iceLite": true }),
        ),
        (
            "validate_ice_candidates",
            json!([{ "foundation": "udpcandidate", "priority": 1078862079, "address": "9.9.9.9",
                     "protocol": "udp", "port": 40533, "type": "host" },
                   { "foundation": "tcpcandidate", "priority": 1078862079, "ip": "9.9.9.9",
                     "protocol": "tcp", "port": 40533, "type": "host", "tcpType": "passive" }]),
        ),
        (
            "validate_dtls_parameters",
            json!({ "role": "auto", "fingerprints": [
                { "algorithm": "sha-256", "value": "AB:CD:EF" },
                { "algorithm": "sha-512", "value": "01:23" }
            ] }),
        ),
        (
            "validate_sctp_parameters",
            json!({ "port": 5000, "OS": 1024, "MIS": 1024, "maxMessageSize": 262144 }),
        ),
        (
            "validate_and_normalize_sctp_stream_parameters",
            json!({ "streamId": 3, "ordered": false, "maxRetransmits": 2, "label": "chat",
                    "protocol": "" }),
        ),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn valid_inputs_with_one_node_replaced(
        which in any::<proptest::sample::Index>(),
        path in proptest::collection::vec(any::<usize>(), 0..5),
        replacement in json(),
    ) {
        let inputs = valid_inputs();
        let (name, mut input) = inputs[which.index(inputs.len())].clone();
        let validate = VALIDATORS.iter().find(|(n, _)| *n == name).expect("a validator").1;
        prop_assert!(validate(&mut input.clone()).is_ok(), "{} refuses its valid input", name);
        replace_node(&mut input, &path, replacement);
        check(name, validate, &input)?;
        if name == "validate_and_normalize_rtp_parameters" {
            if let Ok(params) = validate_and_normalize_rtp_parameters(&mut input) {
                let _ = can_receive(&params, &router());
            }
        }
    }

    #[test]
    fn every_validator_on_random_json(which in 0..VALIDATORS.len(), input in json()) {
        let (name, validate) = VALIDATORS[which];
        check(name, validate, &input)?;
    }

    #[test]
    fn router_capabilities_with_one_node_replaced(
        path in proptest::collection::vec(any::<usize>(), 0..6),
        replacement in json(),
    ) {
        let mut input = router_json();
        replace_node(&mut input, &path, replacement);
        check("validate_and_normalize_rtp_capabilities", VALIDATORS[0].1, &input)?;
        if let Ok(router) = validate_and_normalize_rtp_capabilities(&mut input) {
            use_router_capabilities(&router);
        }
    }

    #[test]
    fn profile_level_ids_and_scalability_modes(text in ".{0,10}", hex in "[0-9a-fA-F]{6}") {
        for t in [&text, &hex] {
            if let Some(id) = h264::parse_profile_level_id(t) {
                let _ = id.to_hex_string();
            }
            let _ = parse_scalability_mode(Some(t));
        }
        let params = |v: &str| {
            let mut p = CodecParameters::new();
            p.insert("profile-level-id".into(), Value::from(v));
            p
        };
        let _ = h264::generate_profile_level_id_for_answer(&params(&text), &params(&hex));
        let _ = h264::generate_profile_level_id_for_answer(&params(&hex), &params(&hex));
    }
}
