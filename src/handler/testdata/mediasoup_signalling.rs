//! Signalling with `mediasoup_peer.mjs` (a real mediasoup transport in a node process), shared
//! by `tests_mediasoup.rs` and the spike (`bench/native/src/bin/sansio_spike.rs`): what
//! mediasoup-client would answer for one VP8 sendonly m-section, and the `connect` + `produce`
//! message for it. Written by hand from the transport's ICE-lite/DTLS parameters; the real
//! answer builder is msc-sdp's.

use serde_json::{json, Value};

/// This crate's directory, read when the program runs (a test binary that cargo reuses from
/// another checkout, with a shared CARGO_TARGET_DIR, keeps the one it was compiled in); the
/// relative path when run outside cargo from the repository's root.
fn manifest_dir() -> String {
    std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| "src/handler".into())
}

/// The script to run with `node`, with `MEDIASOUP_DIR` set to [`mediasoup_dir`].
pub fn peer_script() -> String {
    format!("{}/testdata/mediasoup_peer.mjs", manifest_dir())
}

/// `MEDIASOUP_DIR`, else the mediasoup that scripts/setup-worker.sh builds in the cache.
pub fn mediasoup_dir() -> String {
    std::env::var("MEDIASOUP_DIR").unwrap_or_else(|_| {
        let version_file = format!("{}/../../scripts/worker/version", manifest_dir());
        let version = std::fs::read_to_string(&version_file)
            .unwrap_or_else(|e| panic!("{version_file}: {e}"));
        let cache = std::env::var("MSC_CACHE_DIR").unwrap_or_else(|_| {
            format!(
                "{}/.cache/mediasoup-client-native",
                std::env::var("HOME").unwrap()
            )
        });
        format!("{cache}/mediasoup-{}", version.trim())
    })
}

pub const MID_URI: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
pub const TWCC_URI: &str =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

/// The id an offer gives a header extension.
pub fn extmap_id(sdp: &str, uri: &str) -> u8 {
    sdp.lines()
        .filter_map(|l| l.strip_prefix("a=extmap:"))
        .find(|l| l.ends_with(uri))
        .and_then(|l| l.split([' ', '/']).next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("extmap {uri} missing"))
}

/// The offer's DTLS fingerprint: (algorithm, value).
pub fn fingerprint(sdp: &str) -> (String, String) {
    let line = sdp
        .lines()
        .find_map(|l| l.strip_prefix("a=fingerprint:"))
        .expect("a=fingerprint missing")
        .trim();
    let (algorithm, value) = line.split_once(' ').expect("a=fingerprint:<alg> <value>");
    (algorithm.to_owned(), value.to_owned())
}

/// The answer to an offer with one VP8 sendonly m-section (`mid`), with RTX (PT 97) or not.
pub fn answer(transport: &Value, mid: &str, mid_id: u8, twcc_id: u8, rtx: bool) -> String {
    let ice = &transport["iceParameters"];
    let fingerprint = transport["dtlsParameters"]["fingerprints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["algorithm"] == "sha-256")
        .unwrap();
    let pts = if rtx { "96 97" } else { "96" };
    let mut sdp = format!(
        "v=0\r\no=mediasoup-client 10000 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n\
         a=fingerprint:sha-256 {}\r\na=msid-semantic: WMS *\r\na=group:BUNDLE {mid}\r\n\
         m=video 7 UDP/TLS/RTP/SAVPF {pts}\r\nc=IN IP4 127.0.0.1\r\na=mid:{mid}\r\na=recvonly\r\n\
         a=ice-ufrag:{}\r\na=ice-pwd:{}\r\n",
        fingerprint["value"].as_str().unwrap(),
        ice["usernameFragment"].as_str().unwrap(),
        ice["password"].as_str().unwrap(),
    );
    for c in transport["iceCandidates"].as_array().unwrap() {
        sdp += &format!(
            "a=candidate:{} 1 {} {} {} {} typ {}\r\n",
            c["foundation"].as_str().unwrap(),
            c["protocol"].as_str().unwrap(),
            c["priority"],
            c["address"].as_str().unwrap(),
            c["port"],
            c["type"].as_str().unwrap(),
        );
    }
    sdp += "a=end-of-candidates\r\na=ice-options:renomination\r\na=setup:passive\r\na=rtcp-mux\r\n\
            a=rtcp-rsize\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 transport-cc\r\n\
            a=rtcp-fb:96 ccm fir\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n";
    if rtx {
        sdp += "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n";
    }
    sdp += &format!("a=extmap:{mid_id} {MID_URI}\r\na=extmap:{twcc_id} {TWCC_URI}\r\n");
    sdp
}

/// The `connect` + `produce` message for that VP8 stream: SSRC, and RTX SSRC when there is one.
pub fn connect_and_produce(offer: &str, mid: &str, ssrc: u32, rtx_ssrc: Option<u32>) -> Value {
    let (algorithm, value) = fingerprint(offer);
    let mut codecs = vec![json!({
        "mimeType": "video/VP8", "payloadType": 96, "clockRate": 90000,
        "rtcpFeedback": [{ "type": "nack" }, { "type": "nack", "parameter": "pli" },
                         { "type": "ccm", "parameter": "fir" }]
    })];
    let mut encoding = json!({ "ssrc": ssrc });
    if let Some(rtx_ssrc) = rtx_ssrc {
        codecs.push(
            json!({ "mimeType": "video/rtx", "payloadType": 97, "clockRate": 90000,
                            "parameters": { "apt": 96 } }),
        );
        encoding["rtx"] = json!({ "ssrc": rtx_ssrc });
    }
    json!({
        "connect": { "role": "client", "fingerprints": [{ "algorithm": algorithm, "value": value }] },
        "produce": {
            "kind": "video",
            "rtpParameters": {
                "mid": mid,
                "codecs": codecs,
                "headerExtensions": [
                    { "uri": MID_URI, "id": extmap_id(offer, MID_URI) },
                    { "uri": TWCC_URI, "id": extmap_id(offer, TWCC_URI) }
                ],
                "encodings": [encoding],
                "rtcp": { "cname": "msc" }
            }
        }
    })
}
