//! Every error path of the validators, and the defaults they fill in.

use super::*;
use crate::error::ErrorKind;
use serde_json::{json, Value};

type Validator = fn(&mut Value) -> std::result::Result<(), OrtcError>;

macro_rules! v {
    ($f:path) => {
        (|value: &mut Value| $f(value).map(|_| ())) as Validator
    };
}

fn codec_cap() -> Value {
    json!({ "mimeType": "audio/opus", "preferredPayloadType": 100, "clockRate": 48000 })
}

fn codec_params() -> Value {
    json!({ "mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000 })
}

fn with(base: Value, key: &str, value: Value) -> Value {
    let mut base = base;
    base[key] = value;
    base
}

fn without(base: Value, key: &str) -> Value {
    let mut base = base;
    base.as_object_mut().unwrap().remove(key);
    base
}

fn candidate() -> Value {
    json!({ "foundation": "udpcandidate", "priority": 1078862079, "address": "9.9.9.9",
            "protocol": "udp", "port": 40533, "type": "host" })
}

fn assert_type_error(validator: Validator, mut input: Value, message: &str) {
    let shown = input.to_string();
    let error = validator(&mut input).expect_err(&shown);
    assert_eq!(error.kind, ErrorKind::TypeError, "{shown}");
    assert_eq!(error.message, message, "{shown}");
}

#[test]
fn rtp_capabilities_errors() {
    let caps = v!(validate_and_normalize_rtp_capabilities);
    let cases = [
        (json!("x"), "caps is not an object"),
        (json!(null), "caps is not an object"),
        (json!([]), "caps is not an object"),
        (json!({ "codecs": {} }), "caps.codecs is not an array"),
        (json!({ "codecs": "opus" }), "caps.codecs is not an array"),
        (
            json!({ "headerExtensions": 1 }),
            "caps.headerExtensions is not an array",
        ),
        (json!({ "codecs": [1] }), "codec is not an object"),
        (
            json!({ "headerExtensions": [null] }),
            "ext is not an object",
        ),
        // The codecs are checked before headerExtensions is.
        (
            json!({ "codecs": [{}], "headerExtensions": 1 }),
            "missing codec.mimeType",
        ),
    ];
    for (input, message) in cases {
        assert_type_error(caps, input, message);
    }
}

#[test]
fn codec_capability_errors() {
    let codec = v!(validate_and_normalize_rtp_codec_capability);
    let cases = [
        (json!(1), "codec is not an object"),
        (without(codec_cap(), "mimeType"), "missing codec.mimeType"),
        (
            with(codec_cap(), "mimeType", json!("")),
            "missing codec.mimeType",
        ),
        (
            with(codec_cap(), "mimeType", json!(5)),
            "missing codec.mimeType",
        ),
        (
            with(codec_cap(), "mimeType", json!("opus")),
            "invalid codec.mimeType",
        ),
        (
            with(codec_cap(), "mimeType", json!("audio/")),
            "invalid codec.mimeType",
        ),
        (
            with(codec_cap(), "mimeType", json!("text/plain")),
            "invalid codec.mimeType",
        ),
        (
            with(codec_cap(), "mimeType", json!(" audio/opus")),
            "invalid codec.mimeType",
        ),
        (
            with(codec_cap(), "mimeType", json!("audio/\nopus")),
            "invalid codec.mimeType",
        ),
        (
            without(codec_cap(), "preferredPayloadType"),
            "missing codec.preferredPayloadType",
        ),
        (
            with(codec_cap(), "preferredPayloadType", json!("100")),
            "missing codec.preferredPayloadType",
        ),
        (
            with(codec_cap(), "preferredPayloadType", json!(256)),
            "invalid codec.preferredPayloadType",
        ),
        (
            with(codec_cap(), "preferredPayloadType", json!(-1)),
            "invalid codec.preferredPayloadType",
        ),
        (
            with(codec_cap(), "preferredPayloadType", json!(100.5)),
            "invalid codec.preferredPayloadType",
        ),
        (without(codec_cap(), "clockRate"), "missing codec.clockRate"),
        (
            with(codec_cap(), "clockRate", json!(null)),
            "missing codec.clockRate",
        ),
        (
            with(codec_cap(), "clockRate", json!(4294967296u64)),
            "invalid codec.clockRate",
        ),
        (
            with(codec_cap(), "channels", json!(300)),
            "invalid codec.channels",
        ),
        (
            with(codec_cap(), "parameters", json!({ "foo": true })),
            "invalid codec parameter [key:foo, value:true]",
        ),
        (
            with(codec_cap(), "parameters", json!({ "foo": null })),
            "invalid codec parameter [key:foo, value:null]",
        ),
        (
            with(codec_cap(), "parameters", json!({ "foo": { "a": 1 } })),
            "invalid codec parameter [key:foo, value:{\"a\":1}]",
        ),
        (
            with(codec_cap(), "parameters", json!({ "apt": "101" })),
            "invalid codec apt parameter",
        ),
        (
            with(codec_cap(), "rtcpFeedback", json!([5])),
            "fb is not an object",
        ),
        (
            with(codec_cap(), "rtcpFeedback", json!([{ "parameter": "pli" }])),
            "missing fb.type",
        ),
        (
            with(codec_cap(), "rtcpFeedback", json!([{ "type": "" }])),
            "missing fb.type",
        ),
        (
            with(codec_cap(), "rtcpFeedback", json!([{ "type": 1 }])),
            "missing fb.type",
        ),
    ];
    for (input, message) in cases {
        assert_type_error(codec, input, message);
    }
}

#[test]
fn header_extension_errors() {
    let ext = v!(validate_and_normalize_rtp_header_extension);
    let base = json!({ "kind": "video", "uri": "urn:x", "preferredId": 1 });
    let cases = [
        (json!(true), "ext is not an object"),
        (without(base.clone(), "kind"), "invalid ext.kind"),
        (
            with(base.clone(), "kind", json!("data")),
            "invalid ext.kind",
        ),
        (with(base.clone(), "kind", json!("")), "invalid ext.kind"),
        (without(base.clone(), "uri"), "missing ext.uri"),
        (with(base.clone(), "uri", json!("")), "missing ext.uri"),
        (
            without(base.clone(), "preferredId"),
            "missing ext.preferredId",
        ),
        (
            with(base.clone(), "preferredId", json!("1")),
            "missing ext.preferredId",
        ),
        (
            with(base.clone(), "preferredId", json!(1000)),
            "invalid ext.preferredId",
        ),
        (
            with(base.clone(), "preferredEncrypt", json!("yes")),
            "invalid ext.preferredEncrypt",
        ),
        (
            with(base.clone(), "preferredEncrypt", json!(1)),
            "invalid ext.preferredEncrypt",
        ),
        (
            with(base.clone(), "direction", json!(1)),
            "invalid ext.direction",
        ),
        (
            with(base.clone(), "direction", json!("both")),
            "invalid ext.direction",
        ),
    ];
    for (input, message) in cases {
        assert_type_error(ext, input, message);
    }
}

#[test]
fn rtp_parameters_errors() {
    let params = v!(validate_and_normalize_rtp_parameters);
    let base = json!({ "codecs": [codec_params()] });
    let cases = [
        (json!(7), "params is not an object"),
        (
            with(base.clone(), "mid", json!(1)),
            "params.mid is not a string",
        ),
        (
            with(base.clone(), "mid", json!(true)),
            "params.mid is not a string",
        ),
        (json!({}), "missing params.codecs"),
        (json!({ "codecs": {} }), "missing params.codecs"),
        (json!({ "codecs": [null] }), "codec is not an object"),
        (
            with(base.clone(), "headerExtensions", json!({})),
            "params.headerExtensions is not an array",
        ),
        (
            with(base.clone(), "headerExtensions", json!([3])),
            "ext is not an object",
        ),
        (
            with(base.clone(), "encodings", json!("r0")),
            "params.encodings is not an array",
        ),
        (
            with(base.clone(), "encodings", json!(["r0"])),
            "encoding is not an object",
        ),
        (
            with(base.clone(), "rtcp", json!("x")),
            "params.rtcp is not an object",
        ),
        (
            with(base.clone(), "rtcp", json!([1])),
            "params.rtcp is not an object",
        ),
        (
            with(base.clone(), "rtcp", json!({ "cname": 5 })),
            "invalid rtcp.cname",
        ),
    ];
    for (input, message) in cases {
        assert_type_error(params, input, message);
    }
}

#[test]
fn codec_parameters_errors() {
    let codec = v!(validate_and_normalize_rtp_codec_parameters);
    let cases = [
        (json!("vp8"), "codec is not an object"),
        (
            without(codec_params(), "mimeType"),
            "missing codec.mimeType",
        ),
        (
            with(codec_params(), "mimeType", json!("VP8")),
            "invalid codec.mimeType",
        ),
        (
            without(codec_params(), "payloadType"),
            "missing codec.payloadType",
        ),
        (
            with(codec_params(), "payloadType", json!("101")),
            "missing codec.payloadType",
        ),
        (
            with(codec_params(), "payloadType", json!(1.5)),
            "invalid codec.payloadType",
        ),
        (
            without(codec_params(), "clockRate"),
            "missing codec.clockRate",
        ),
        (
            with(codec_params(), "clockRate", json!(-90000)),
            "invalid codec.clockRate",
        ),
        (
            with(codec_params(), "parameters", json!({ "x": [1] })),
            "invalid codec parameter [key:x, value:[1]]",
        ),
        (
            with(codec_params(), "parameters", json!({ "apt": "96" })),
            "invalid codec apt parameter",
        ),
        (
            with(codec_params(), "rtcpFeedback", json!([{}])),
            "missing fb.type",
        ),
    ];
    for (input, message) in cases {
        assert_type_error(codec, input, message);
    }
}

#[test]
fn header_extension_parameters_errors() {
    let ext = v!(validate_rtp_header_extension_parameters);
    let base = json!({ "uri": "urn:x", "id": 1 });
    let cases = [
        (json!([]), "ext is not an object"),
        (without(base.clone(), "uri"), "missing ext.uri"),
        (with(base.clone(), "uri", json!(2)), "missing ext.uri"),
        (without(base.clone(), "id"), "missing ext.id"),
        (with(base.clone(), "id", json!(256)), "invalid ext.id"),
        (
            with(base.clone(), "encrypt", json!("true")),
            "invalid ext.encrypt",
        ),
        (
            with(base.clone(), "parameters", json!({ "a": false })),
            "invalid header extension parameter",
        ),
    ];
    for (input, message) in cases {
        assert_type_error(ext, input, message);
    }
}

#[test]
fn encoding_errors() {
    let encoding = v!(validate_and_normalize_rtp_encoding_parameters);
    let cases = [
        (json!(1), "encoding is not an object"),
        (json!({ "ssrc": "1" }), "invalid encoding.ssrc"),
        (json!({ "ssrc": -1 }), "invalid encoding.ssrc"),
        (json!({ "ssrc": 4294967296u64 }), "invalid encoding.ssrc"),
        (json!({ "rid": 1 }), "invalid encoding.rid"),
        (json!({ "rtx": 1 }), "invalid encoding.rtx"),
        (json!({ "rtx": "x" }), "invalid encoding.rtx"),
        (json!({ "rtx": {} }), "missing encoding.rtx.ssrc"),
        (json!({ "rtx": [] }), "missing encoding.rtx.ssrc"),
        (
            json!({ "rtx": { "ssrc": "2" } }),
            "missing encoding.rtx.ssrc",
        ),
        (
            json!({ "rtx": { "ssrc": 1.5 } }),
            "invalid encoding.rtx.ssrc",
        ),
        (
            json!({ "scalabilityMode": 3 }),
            "invalid encoding.scalabilityMode",
        ),
    ];
    for (input, message) in cases {
        assert_type_error(encoding, input, message);
    }
    // Fields the reference does not check still have to fit their type.
    let mut input = json!({ "maxBitrate": "fast" });
    let e = validate_and_normalize_rtp_encoding_parameters(&mut input).unwrap_err();
    assert!(e.message.starts_with("invalid encoding: "), "{}", e.message);
}

#[test]
fn rtcp_errors() {
    let rtcp = v!(validate_and_normalize_rtcp_parameters);
    assert_type_error(rtcp, json!(1), "rtcp is not an object");
    assert_type_error(rtcp, json!({ "cname": 1 }), "invalid rtcp.cname");
}

#[test]
fn sctp_errors() {
    let caps = v!(validate_sctp_capabilities);
    assert_type_error(caps, json!(1), "caps is not an object");
    assert_type_error(caps, json!({}), "missing caps.numStreams");
    assert_type_error(caps, json!({ "numStreams": 5 }), "missing caps.numStreams");
    assert_type_error(caps, json!({ "numStreams": {} }), "missing numStreams.OS");
    assert_type_error(
        caps,
        json!({ "numStreams": { "OS": 1024 } }),
        "missing numStreams.MIS",
    );
    assert_type_error(
        caps,
        json!({ "numStreams": { "OS": 70000, "MIS": 1 } }),
        "invalid numStreams.OS",
    );
    let streams = v!(validate_num_sctp_streams);
    assert_type_error(streams, json!("x"), "numStreams is not an object");

    let params = v!(validate_sctp_parameters);
    let base = json!({ "port": 5000, "OS": 1024, "MIS": 1024, "maxMessageSize": 262144 });
    assert_type_error(params, json!(null), "params is not an object");
    for key in ["port", "OS", "MIS", "maxMessageSize"] {
        assert_type_error(
            params,
            without(base.clone(), key),
            &format!("missing params.{key}"),
        );
        assert_type_error(
            params,
            with(base.clone(), key, json!(-2)),
            &format!("invalid params.{key}"),
        );
    }

    let stream = v!(validate_and_normalize_sctp_stream_parameters);
    let cases = [
        (json!(1), "params is not an object"),
        (json!({}), "missing params.streamId"),
        (json!({ "streamId": "1" }), "missing params.streamId"),
        (json!({ "streamId": 65536 }), "invalid params.streamId"),
        (
            json!({ "streamId": 1, "maxPacketLifeTime": "5" }),
            "invalid params.maxPacketLifeTime",
        ),
        (
            json!({ "streamId": 1, "maxRetransmits": true }),
            "invalid params.maxRetransmits",
        ),
        (
            json!({ "streamId": 1, "maxPacketLifeTime": 5, "maxRetransmits": 2 }),
            "cannot provide both maxPacketLifeTime and maxRetransmits",
        ),
        (
            json!({ "streamId": 1, "ordered": true, "maxRetransmits": 2 }),
            "cannot be ordered with maxPacketLifeTime or maxRetransmits",
        ),
        (json!({ "streamId": 1, "label": 5 }), "invalid params.label"),
        (
            json!({ "streamId": 1, "protocol": {} }),
            "invalid params.protocol",
        ),
    ];
    for (input, message) in cases {
        assert_type_error(stream, input, message);
    }
}

#[test]
fn ice_and_dtls_errors() {
    let ice = v!(validate_ice_parameters);
    let base = json!({ "usernameFragment": "h3hk1iz6qqlnqlne", "password": "yku5ej8nvfaor28lvtrabcx0wkrpkztz" });
    assert_type_error(ice, json!(1), "params is not an object");
    assert_type_error(
        ice,
        without(base.clone(), "usernameFragment"),
        "missing params.usernameFragment",
    );
    assert_type_error(
        ice,
        with(base.clone(), "usernameFragment", json!("")),
        "missing params.usernameFragment",
    );
    assert_type_error(
        ice,
        with(base.clone(), "password", json!(1)),
        "missing params.password",
    );

    let cand = v!(validate_ice_candidate);
    let cases = [
        (json!(1), "params is not an object"),
        (
            without(candidate(), "foundation"),
            "missing params.foundation",
        ),
        (without(candidate(), "priority"), "missing params.priority"),
        (
            with(candidate(), "priority", json!(-5)),
            "invalid params.priority",
        ),
        (without(candidate(), "address"), "missing params.address"),
        (without(candidate(), "protocol"), "missing params.protocol"),
        (
            with(candidate(), "protocol", json!("sctp")),
            "invalid params.protocol",
        ),
        (without(candidate(), "port"), "missing params.port"),
        (
            with(candidate(), "port", json!(70000)),
            "invalid params.port",
        ),
        (without(candidate(), "type"), "missing params.type"),
        (
            with(candidate(), "type", json!("local")),
            "invalid params.type",
        ),
        (
            with(candidate(), "tcpType", json!(1)),
            "invalid params.tcpType",
        ),
    ];
    for (input, message) in cases {
        assert_type_error(cand, input, message);
    }
    let cands = v!(validate_ice_candidates);
    assert_type_error(cands, json!({}), "params is not an array");
    assert_type_error(cands, json!([candidate(), 1]), "params is not an object");

    let dtls = v!(validate_dtls_parameters);
    let fp = json!({ "algorithm": "sha-256", "value": "82:5A" });
    let cases = [
        (json!(1), "params is not an object"),
        (
            json!({ "role": "master", "fingerprints": [fp.clone()] }),
            "invalid params.role",
        ),
        (
            json!({ "role": 1, "fingerprints": [fp.clone()] }),
            "invalid params.role",
        ),
        (json!({ "role": "auto" }), "missing params.fingerprints"),
        (json!({ "fingerprints": [] }), "missing params.fingerprints"),
        (json!({ "fingerprints": {} }), "missing params.fingerprints"),
        (
            json!({ "fingerprints": [1] }),
            "fingerprint is not an object",
        ),
        (
            json!({ "fingerprints": [{ "value": "x" }] }),
            "missing fingerprint.algorithm",
        ),
        (
            json!({ "fingerprints": [{ "algorithm": "sha-256" }] }),
            "missing fingerprint.value",
        ),
    ];
    for (input, message) in cases {
        assert_type_error(dtls, input, message);
    }
}

#[test]
fn normalizes_capabilities_like_the_reference() {
    let mut caps = json!({
        "codecs": [
            { "mimeType": "AUDIO/opus", "kind": "video", "preferredPayloadType": 100, "clockRate": 48000 },
            { "mimeType": "video/VP8", "preferredPayloadType": 101, "clockRate": 90000, "channels": 2,
              "parameters": [1], "rtcpFeedback": [{ "type": "nack", "parameter": 5 }, { "type": "ccm", "parameter": "fir" }] },
            { "mimeType": "video/rtx", "preferredPayloadType": 102, "clockRate": 90000.0, "parameters": { "apt": 101 },
              "rtcpFeedback": "x" }
        ],
        "headerExtensions": [
            { "kind": "audio", "uri": "urn:a", "preferredId": 1, "preferredEncrypt": 0, "direction": "" },
            { "kind": "video", "uri": "urn:b", "preferredId": 2, "preferredEncrypt": true, "direction": "recvonly" }
        ]
    });
    let typed = validate_and_normalize_rtp_capabilities(&mut caps).unwrap();
    assert_eq!(
        caps,
        json!({
            "codecs": [
                { "mimeType": "AUDIO/opus", "kind": "audio", "preferredPayloadType": 100, "clockRate": 48000,
                  "channels": 1, "parameters": {}, "rtcpFeedback": [] },
                { "mimeType": "video/VP8", "preferredPayloadType": 101, "clockRate": 90000,
                  "parameters": {}, "rtcpFeedback": [{ "type": "nack", "parameter": "" }, { "type": "ccm", "parameter": "fir" }],
                  "kind": "video" },
                { "mimeType": "video/rtx", "preferredPayloadType": 102, "clockRate": 90000.0, "parameters": { "apt": 101 },
                  "rtcpFeedback": [], "kind": "video" }
            ],
            "headerExtensions": [
                { "kind": "audio", "uri": "urn:a", "preferredId": 1, "preferredEncrypt": false, "direction": "sendrecv" },
                { "kind": "video", "uri": "urn:b", "preferredId": 2, "preferredEncrypt": true, "direction": "recvonly" }
            ]
        })
    );
    assert_eq!(typed.codecs[0].kind, crate::MediaKind::Audio);
    assert_eq!(typed.codecs[2].clock_rate, 90000);
    assert_eq!(
        typed.header_extensions[1].direction,
        crate::Direction::Recvonly
    );

    let mut empty = json!({});
    let typed = validate_and_normalize_rtp_capabilities(&mut empty).unwrap();
    assert_eq!(empty, json!({ "codecs": [], "headerExtensions": [] }));
    assert_eq!(typed, crate::RtpCapabilities::default());
}

#[test]
fn normalizes_parameters_like_the_reference() {
    let mut params = json!({
        "mid": "",
        "codecs": [{ "mimeType": "audio/opus", "payloadType": 111, "clockRate": 48000, "channels": 2,
                     "parameters": { "useinbandfec": 1, "x": "y" } }],
        "headerExtensions": [{ "uri": "urn:x", "id": 3, "encrypt": 0, "parameters": null }],
        "encodings": [{ "ssrc": 0, "dtx": "yes", "rid": "" }, { "rid": "r1", "dtx": true, "maxBitrate": 100000 }],
        "rtcp": { "reducedSize": false }
    });
    let typed = validate_and_normalize_rtp_parameters(&mut params).unwrap();
    assert_eq!(
        params,
        json!({
            "mid": "",
            "codecs": [{ "mimeType": "audio/opus", "payloadType": 111, "clockRate": 48000, "channels": 2,
                         "parameters": { "useinbandfec": 1, "x": "y" }, "rtcpFeedback": [] }],
            "headerExtensions": [{ "uri": "urn:x", "id": 3, "encrypt": false, "parameters": {} }],
            "encodings": [{ "ssrc": 0, "dtx": false, "rid": "" }, { "rid": "r1", "dtx": true, "maxBitrate": 100000 }],
            "rtcp": { "reducedSize": true }
        })
    );
    assert_eq!(typed.encodings[1].max_bitrate, Some(100000));
    assert_eq!(typed.rtcp.reduced_size, Some(true));

    // Falsy junk in optional fields is dropped (the reference would keep it).
    let mut params = json!({ "mid": 0, "codecs": [], "encodings": [{ "ssrc": "", "rtx": null }], "rtcp": { "cname": 0 } });
    validate_and_normalize_rtp_parameters(&mut params).unwrap();
    assert_eq!(
        params,
        json!({ "codecs": [], "headerExtensions": [], "encodings": [{ "dtx": false }], "rtcp": { "reducedSize": true } })
    );
}

#[test]
fn normalizes_sctp_stream_parameters() {
    let mut p = json!({ "streamId": 1 });
    let typed = validate_and_normalize_sctp_stream_parameters(&mut p).unwrap();
    assert_eq!(p, json!({ "streamId": 1, "ordered": true }));
    assert_eq!(typed.ordered, Some(true));
    let mut p = json!({ "streamId": 1, "maxRetransmits": 3 });
    validate_and_normalize_sctp_stream_parameters(&mut p).unwrap();
    assert_eq!(
        p,
        json!({ "streamId": 1, "ordered": false, "maxRetransmits": 3 })
    );
    let mut p =
        json!({ "streamId": 1, "ordered": false, "maxPacketLifeTime": 100, "label": "chat" });
    validate_and_normalize_sctp_stream_parameters(&mut p).unwrap();
    assert_eq!(p["ordered"], false);
    // A zero maxRetransmits is "not given", as in the reference.
    let mut p = json!({ "streamId": 1, "ordered": true, "maxRetransmits": 0 });
    validate_and_normalize_sctp_stream_parameters(&mut p).unwrap();
    assert_eq!(p["ordered"], true);

    let mut caps = json!({ "numStreams": { "OS": 1024, "MIS": 1024 } });
    assert_eq!(
        validate_sctp_capabilities(&mut caps)
            .unwrap()
            .num_streams
            .os,
        1024
    );
    let mut sctp = json!({ "port": 5000, "OS": 1024, "MIS": 1024, "maxMessageSize": 262144 });
    assert_eq!(
        validate_sctp_parameters(&mut sctp)
            .unwrap()
            .max_message_size,
        262144
    );
}

#[test]
fn normalizes_ice_and_dtls() {
    let mut ice = json!({ "usernameFragment": "u", "password": "p" });
    let typed = validate_ice_parameters(&mut ice).unwrap();
    assert_eq!(ice["iceLite"], false);
    assert_eq!(typed.ice_lite, Some(false));

    let mut old = without(candidate(), "address");
    old["ip"] = json!("1.2.3.4");
    old["tcpType"] = json!(null);
    let typed = validate_ice_candidate(&mut old).unwrap();
    assert_eq!(typed.address, "1.2.3.4");
    assert_eq!(typed.tcp_type, None);
    let mut tcp = with(
        with(candidate(), "protocol", json!("TCP")),
        "tcpType",
        json!("passive"),
    );
    assert_eq!(
        validate_ice_candidates(&mut json!([tcp.take()])).unwrap()[0]
            .tcp_type
            .as_deref(),
        Some("passive")
    );

    let mut dtls =
        json!({ "role": "Server", "fingerprints": [{ "algorithm": "sha-256", "value": "AB:CD" }] });
    let typed = validate_dtls_parameters(&mut dtls).unwrap();
    assert_eq!(dtls["role"], "server");
    assert_eq!(typed.role, Some(crate::DtlsRole::Server));
    let mut no_role =
        json!({ "role": null, "fingerprints": [{ "algorithm": "sha-256", "value": "AB:CD" }] });
    assert_eq!(validate_dtls_parameters(&mut no_role).unwrap().role, None);
}

#[test]
fn sending_parameters_are_normalized_as_mediasoup_client_does() {
    let params: crate::RtpParameters = serde_json::from_value(json!({
        "mid": "0",
        "codecs": [{ "mimeType": "video/VP8", "payloadType": 96, "clockRate": 90000 }],
        "headerExtensions": [{ "uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 1 }],
        "encodings": [{ "ssrc": 1111 }, { "ssrc": 2222, "dtx": true }],
        "rtcp": { "cname": "c" },
    }))
    .unwrap();
    let normalized = normalized_rtp_parameters(&params).unwrap();
    let dtx: Vec<_> = normalized.encodings.iter().map(|e| e.dtx).collect();
    assert_eq!(dtx, [Some(false), Some(true)]);
    assert_eq!(normalized.rtcp.reduced_size, Some(true));
    assert_eq!(normalized.rtcp.cname.as_deref(), Some("c"));
    assert_eq!(normalized.mid.as_deref(), Some("0"));
}

#[test]
fn strings_that_go_into_sdp_lines_hold_no_line_break() {
    let ice = v!(validate_ice_parameters);
    let broken = json!({ "usernameFragment": "ufrag\r\na=ice-lite", "password": "pwd" });
    assert_type_error(
        ice,
        broken,
        "invalid params: \"ufrag\\r\\na=ice-lite\" holds a line break or NUL character",
    );
    let validate_candidate = v!(validate_ice_candidate);
    for (key, value) in [("foundation", "a\nb"), ("address", "1.2.3.4\r\nm=video 9")] {
        let message = format!(
            "invalid params: {} holds a line break or NUL character",
            json!(value)
        );
        assert_type_error(
            validate_candidate,
            with(candidate(), key, json!(value)),
            &message,
        );
    }
    let dtls = json!({ "fingerprints": [{ "algorithm": "sha-256", "value": "AB\u{0}CD" }] });
    assert_type_error(
        v!(validate_dtls_parameters),
        dtls,
        "invalid params: \"AB\\u0000CD\" holds a line break or NUL character",
    );
    let codec = with(
        codec_params(),
        "parameters",
        json!({ "x-google": "1\r\na=x" }),
    );
    assert_type_error(
        v!(validate_and_normalize_rtp_codec_parameters),
        codec,
        "invalid codec: \"1\\r\\na=x\" holds a line break or NUL character",
    );
    let keyed = with(codec_cap(), "parameters", json!({ "a\nb": 1 }));
    assert_type_error(
        v!(validate_and_normalize_rtp_capabilities),
        json!({ "codecs": [keyed] }),
        "invalid codec: \"a\\nb\" holds a line break or NUL character",
    );
    // a data channel's label is not SDP text
    let mut stream = json!({ "streamId": 1, "label": "two\nlines" });
    validate_and_normalize_sctp_stream_parameters(&mut stream).unwrap();
}
