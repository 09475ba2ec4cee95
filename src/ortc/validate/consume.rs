//! The arguments of `transport.consume()`, checked as mediasoup-client checks them, and
//! whether the device can receive what the server offers.

use super::{object, validate_and_normalize_rtp_parameters, Object};
use crate::capabilities::{can_receive, CodecSet};
use crate::error::{OrtcError, Result};
use crate::js;
use crate::types::{MediaKind, RtpParameters};
use serde::Serialize;
use serde_json::Value;

/// `transport.consume()` options after [`validate_consume_options`] (camelCase in JSON, as
/// given).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumeOptions {
    /// The server consumer's id (the `a=msid` track id).
    pub id: String,
    /// The id of the producer it consumes.
    pub producer_id: String,
    /// `audio` or `video`; every codec of `rtp_parameters` is of this kind.
    pub kind: MediaKind,
    /// The server consumer's RTP parameters, normalized; at least one encoding.
    pub rtp_parameters: RtpParameters,
    /// The `streamId` option: consumers with the same one are meant to play in sync.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_id: Option<String>,
    /// The application's data (`{}` when not given).
    pub app_data: Object,
}

impl ConsumeOptions {
    /// The `a=msid` stream id of the consumer's offer section, as mediasoup-client picks it:
    /// the `streamId` option, else `rtpParameters.rtcp.cname` (when it can be one: not empty,
    /// no white space), else `-`.
    pub fn msid_stream_id(&self) -> &str {
        self.stream_id
            .as_deref()
            .or(self
                .rtp_parameters
                .rtcp
                .cname
                .as_deref()
                .filter(|cname| msid_token(cname)))
            .unwrap_or("-")
    }
}

/// A string that goes into the `a=msid` line: neither empty nor holding white space.
fn msid_token(text: &str) -> bool {
    !text.is_empty() && !text.contains(|c: char| c.is_whitespace() || c.is_control())
}

/// Checks `{ id, producerId, kind, rtpParameters, streamId, appData }` in mediasoup-client's
/// order and words (`missing id`, `missing producerId`, `invalid kind '<kind>'`, `if given,
/// appData must be an object`), then normalizes `rtpParameters` as `validateRtpParameters`
/// does, its errors prefixed with `invalid rtpParameters: `. Every error is a `TypeError`.
///
/// Stricter than the reference, because these go into SDP lines or would fail later with a
/// worse message: `id`, `streamId` and `rtpParameters.mid` must be non-empty and free of
/// white space (the `a=msid` and BUNDLE lines); `streamId`, when given, a string; `appData`
/// neither `null`-like junk nor an array; `rtpParameters` must have an encoding, codecs of
/// `kind` only and no payload type twice. What passes here is what `RemoteSdp::receive`
/// takes.
///
/// Whether the device can receive the parameters (no codec at all included) is
/// [`check_can_consume`].
pub fn validate_consume_options(options: &mut Value) -> Result<ConsumeOptions> {
    let obj = object(options, "options is not an object")?;
    let id = match obj.get("id") {
        Some(Value::String(id)) if msid_token(id) => id.clone(),
        Some(Value::String(id)) => {
            return Err(OrtcError::type_error(format!(
                "invalid id {}: empty or holds white space",
                Value::from(id.as_str())
            )))
        }
        _ => return Err(OrtcError::type_error("missing id")),
    };
    let producer_id = match obj.get("producerId") {
        Some(Value::String(producer_id)) => producer_id.clone(),
        _ => return Err(OrtcError::type_error("missing producerId")),
    };
    let kind = match obj.get("kind") {
        Some(Value::String(kind)) if kind == "audio" => MediaKind::Audio,
        Some(Value::String(kind)) if kind == "video" => MediaKind::Video,
        other => {
            return Err(OrtcError::type_error(format!(
                "invalid kind '{}'",
                other.map_or("undefined".to_owned(), js::display)
            )))
        }
    };
    let app_data = match obj.get("appData") {
        None | Some(Value::Null) => Object::new(),
        Some(Value::Object(app_data)) => app_data.clone(),
        Some(_) => return Err(OrtcError::type_error("if given, appData must be an object")),
    };
    let stream_id = match obj.get("streamId") {
        None | Some(Value::Null) => None,
        Some(Value::String(stream_id)) if msid_token(stream_id) => Some(stream_id.clone()),
        Some(Value::String(stream_id)) => {
            return Err(OrtcError::type_error(format!(
                "invalid streamId {}: empty or holds white space",
                Value::from(stream_id.as_str())
            )))
        }
        Some(_) => return Err(OrtcError::type_error("if given, streamId must be a string")),
    };
    let rtp_parameters = match obj.get_mut("rtpParameters") {
        None | Some(Value::Null) => return Err(OrtcError::type_error("missing rtpParameters")),
        Some(params) => validate_and_normalize_rtp_parameters(params)
            .map_err(|e| OrtcError::type_error(format!("invalid rtpParameters: {}", e.message)))?,
    };
    if let Some(mid) = rtp_parameters.mid.as_deref().filter(|mid| !msid_token(mid)) {
        return Err(OrtcError::type_error(format!(
            "invalid rtpParameters: params.mid {} is empty or holds white space",
            Value::from(mid)
        )));
    }
    let mut payload_types = std::collections::HashSet::new();
    if let Some(codec) = rtp_parameters
        .codecs
        .iter()
        .find(|codec| !payload_types.insert(codec.payload_type))
    {
        return Err(OrtcError::type_error(format!(
            "invalid rtpParameters: payload type {} appears twice in params.codecs",
            codec.payload_type
        )));
    }
    if rtp_parameters.encodings.is_empty() {
        return Err(OrtcError::type_error(
            "invalid rtpParameters: params.encodings is empty",
        ));
    }
    let prefix = format!("{}/", kind.as_str());
    if let Some(codec) = rtp_parameters.codecs.iter().find(|codec| {
        !codec
            .mime_type
            .get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(&prefix))
    }) {
        return Err(OrtcError::type_error(format!(
            "invalid rtpParameters: codec.mimeType '{}' is not of kind '{}'",
            codec.mime_type,
            kind.as_str()
        )));
    }
    Ok(ConsumeOptions {
        id,
        producer_id,
        kind,
        rtp_parameters,
        stream_id,
        app_data,
    })
}

/// `UnsupportedError: cannot consume this Producer` unless [`can_receive`] says the device
/// receives these (validated) parameters: their first codec's payload type is one of the
/// device's receive capabilities (or, given extended capabilities, one of the router payload
/// types both sides support). A producer's codec that the device does not support has no such
/// payload type, since the server gives consumers the router's payload types.
pub fn check_can_consume<C: CodecSet + ?Sized>(
    rtp_parameters: &RtpParameters,
    caps: &C,
) -> Result<()> {
    if can_receive(rtp_parameters, caps) {
        Ok(())
    } else {
        Err(OrtcError::unsupported("cannot consume this Producer"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{RtpCapabilities, RtpCodecCapability};
    use crate::ErrorKind;
    use serde_json::json;

    fn options() -> Value {
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
            }
        })
    }

    fn set(key: &str, value: Value) -> Value {
        let mut options = options();
        options[key] = value;
        options
    }

    fn error(mut options: Value) -> String {
        let e = validate_consume_options(&mut options).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TypeError, "{}", e.message);
        e.message
    }

    #[test]
    fn valid_options_are_normalized() {
        let mut value = options();
        let consume = validate_consume_options(&mut value).unwrap();
        assert_eq!(consume.kind, MediaKind::Video);
        assert_eq!(consume.producer_id, "p1");
        assert_eq!(consume.rtp_parameters.codecs.len(), 2);
        assert_eq!(consume.rtp_parameters.rtcp.reduced_size, Some(true));
        assert_eq!(consume.rtp_parameters.encodings[0].dtx, Some(false));
        assert!(consume.app_data.is_empty());
        assert_eq!(consume.stream_id, None);
        assert_eq!(consume.msid_stream_id(), "cname1");

        let mut value = set("streamId", json!("s1"));
        value["appData"] = json!({ "a": 1 });
        let consume = validate_consume_options(&mut value).unwrap();
        assert_eq!(consume.msid_stream_id(), "s1");
        assert_eq!(consume.app_data["a"], 1);

        let mut value = options();
        value["rtpParameters"]["rtcp"] = json!({ "cname": "not a token" });
        assert_eq!(
            validate_consume_options(&mut value)
                .unwrap()
                .msid_stream_id(),
            "-"
        );
        let mut value = options();
        value["rtpParameters"]["rtcp"] = json!({});
        assert_eq!(
            validate_consume_options(&mut value)
                .unwrap()
                .msid_stream_id(),
            "-"
        );
    }

    #[test]
    fn errors_name_the_field_in_the_references_order() {
        assert_eq!(error(json!("x")), "options is not an object");
        assert_eq!(error(set("id", json!(1))), "missing id");
        assert_eq!(error(set("id", Value::Null)), "missing id");
        assert_eq!(
            error(set("id", json!("a b"))),
            "invalid id \"a b\": empty or holds white space"
        );
        assert_eq!(
            error(set("id", json!(""))),
            "invalid id \"\": empty or holds white space"
        );
        assert_eq!(error(set("producerId", json!(2))), "missing producerId");
        assert_eq!(error(set("kind", json!("data"))), "invalid kind 'data'");
        assert_eq!(error(set("kind", json!(3))), "invalid kind '3'");
        let mut no_kind = options();
        no_kind.as_object_mut().unwrap().remove("kind");
        assert_eq!(error(no_kind), "invalid kind 'undefined'");
        for bad in [json!("x"), json!([1]), json!(true)] {
            assert_eq!(
                error(set("appData", bad)),
                "if given, appData must be an object"
            );
        }
        assert_eq!(
            error(set("streamId", json!(5))),
            "if given, streamId must be a string"
        );
        assert_eq!(
            error(set("streamId", json!("s\r\n"))),
            "invalid streamId \"s\\r\\n\": empty or holds white space"
        );
        // The first error wins: id before kind before rtpParameters.
        let mut many = set("kind", json!("data"));
        many["id"] = json!(7);
        many["rtpParameters"] = json!(1);
        assert_eq!(error(many), "missing id");
    }

    #[test]
    fn rtp_parameters_errors_are_the_validators_prefixed() {
        let mut no_params = options();
        no_params.as_object_mut().unwrap().remove("rtpParameters");
        assert_eq!(error(no_params), "missing rtpParameters");
        assert_eq!(
            error(set("rtpParameters", json!("x"))),
            "invalid rtpParameters: params is not an object"
        );
        let mut bad = options();
        bad["rtpParameters"]["codecs"][0]["payloadType"] = json!("101");
        assert_eq!(
            error(bad),
            "invalid rtpParameters: missing codec.payloadType"
        );
        let mut bad = options();
        bad["rtpParameters"]["encodings"][0]["rtx"] = json!({});
        assert_eq!(
            error(bad),
            "invalid rtpParameters: missing encoding.rtx.ssrc"
        );
        let mut bad = options();
        bad["rtpParameters"]["encodings"] = json!([]);
        assert_eq!(
            error(bad),
            "invalid rtpParameters: params.encodings is empty"
        );
        let mut audio = set("kind", json!("audio"));
        audio["id"] = json!("c1");
        assert_eq!(
            error(audio),
            "invalid rtpParameters: codec.mimeType 'video/VP8' is not of kind 'audio'"
        );
        let mut bad = options();
        bad["rtpParameters"]["mid"] = json!("1 2");
        assert_eq!(
            error(bad),
            "invalid rtpParameters: params.mid \"1 2\" is empty or holds white space"
        );
        let mut bad = options();
        bad["rtpParameters"]["codecs"][1]["payloadType"] = json!(101);
        assert_eq!(
            error(bad),
            "invalid rtpParameters: payload type 101 appears twice in params.codecs"
        );
        let mut bad = options();
        bad["rtpParameters"]["rtcp"]["cname"] = json!("two\nlines");
        let message = error(bad);
        assert!(message.starts_with("invalid rtpParameters: "), "{message}");
        assert!(message.contains("line break"), "{message}");
    }

    #[test]
    fn what_the_device_cannot_receive_is_unsupported() {
        let caps: RtpCapabilities = serde_json::from_value(json!({
            "codecs": [
                { "kind": "video", "mimeType": "video/VP8", "preferredPayloadType": 101, "clockRate": 90000 },
                { "kind": "video", "mimeType": "video/rtx", "preferredPayloadType": 102, "clockRate": 90000,
                  "parameters": { "apt": 101 } }
            ]
        }))
        .unwrap();
        let mut value = options();
        let consume = validate_consume_options(&mut value).unwrap();
        assert_eq!(check_can_consume(&consume.rtp_parameters, &caps), Ok(()));

        // H264 on the router's payload type 103, which the device does not receive.
        let mut h264 = consume.rtp_parameters.clone();
        h264.codecs[0].mime_type = "video/H264".into();
        h264.codecs[0].payload_type = 103;
        let e = check_can_consume(&h264, &caps).unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnsupportedError);
        assert_eq!(e.message, "cannot consume this Producer");

        // No codec at all: unsupported too, as in the reference (not a TypeError).
        let mut value = options();
        value["rtpParameters"]["codecs"] = json!([]);
        let consume = validate_consume_options(&mut value).unwrap();
        let e = check_can_consume(&consume.rtp_parameters, &caps).unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnsupportedError);

        // Only the first codec counts.
        let mut rtx_first = options()["rtpParameters"].clone();
        rtx_first["codecs"] = json!([rtx_first["codecs"][1].clone()]);
        let rtx_first = validate_and_normalize_rtp_parameters(&mut rtx_first).unwrap();
        assert!(check_can_consume(&rtx_first, &caps).is_ok());
        let empty = RtpCapabilities {
            codecs: Vec::<RtpCodecCapability>::new(),
            header_extensions: vec![],
        };
        assert!(check_can_consume(&rtx_first, &empty).is_err());
    }
}
