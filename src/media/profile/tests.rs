use super::*;
use serde_json::json;

fn params(v: Value) -> CodecParameters {
    v.as_object().unwrap().clone()
}

#[test]
fn vp9_profile_bits() {
    // frame_marker 10, then profile_low_bit, profile_high_bit
    assert_eq!(vp9_profile(&[0x82, 0x49]), Some(0));
    assert_eq!(vp9_profile(&[0xa2]), Some(1));
    assert_eq!(vp9_profile(&[0x92]), Some(2));
    assert_eq!(vp9_profile(&[0xb0]), Some(3));
    assert_eq!(vp9_profile(&[0x42]), None, "not a frame marker");
    assert_eq!(vp9_profile(&[]), None);
    assert_eq!(
        codec_parameters("video/VP9", &[0x92, 0x49]),
        params(json!({ "profile-id": 2 }))
    );
    assert_eq!(codec_parameters("video/VP9", &[0x00]), params(json!({})));
}

#[test]
fn av1_sequence_header() {
    // temporal delimiter (type 2, size 0), then a sequence header (type 1) of 3 bytes
    // whose first byte starts with seq_profile
    let tu = [0x12, 0x00, 0x0a, 0x03, 0x20, 0x00, 0x00, 0x32, 0x00];
    assert_eq!(av1_seq_profile(&tu), Some(1));
    // with an extension byte and a two-byte size
    let tu = [0x0e, 0x00, 0x82, 0x00, 0x40, 0x00];
    assert_eq!(av1_seq_profile(&tu[..5]), None, "size beyond the data");
    let mut long = vec![0x0e, 0x00, 0x81, 0x01];
    long.extend(std::iter::repeat_n(0x40, 129));
    assert_eq!(av1_seq_profile(&long), Some(2));
    // the last OBU without a size field
    assert_eq!(av1_seq_profile(&[0x12, 0x00, 0x08, 0x00, 0x00]), Some(0));
    // no sequence header; a forbidden bit
    assert_eq!(av1_seq_profile(&[0x12, 0x00, 0x32, 0x01, 0x00]), None);
    assert_eq!(av1_seq_profile(&[0x8a, 0x01, 0x20]), None);
    // a size that does not end
    assert_eq!(av1_seq_profile(&[0x0a, 0xff, 0xff]), None);
    assert_eq!(
        codec_parameters("video/AV1", &[0x0a, 0x01, 0x40]),
        params(json!({ "profile": 2 }))
    );
}

#[test]
fn h264_sps() {
    let au = |sps: &[u8]| {
        let mut data = vec![0, 0, 0, 1, 0x09, 0x10]; // access unit delimiter
        data.extend([0, 0, 0, 1, 0x67]);
        data.extend(sps);
        data.extend([0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
        data
    };
    assert_eq!(
        codec_parameters("video/H264", &au(&[0x42, 0xc0, 0x1f, 0xda])),
        params(json!({ "packetization-mode": 1, "profile-level-id": "42e01f" }))
    );
    assert_eq!(
        h264_profile_level_id(&au(&[0x64, 0x00, 0x28])),
        Some("640028".into())
    );
    assert_eq!(
        h264_profile_level_id(&au(&[0x4d, 0x40, 0x1e])),
        Some("4d001e".into())
    );
    // High 10: not a WebRTC profile, kept as the file says it
    assert_eq!(
        h264_profile_level_id(&au(&[0x6e, 0x00, 0x1f])),
        Some("6e001f".into())
    );
    // an SPS cut short; no SPS at all
    assert_eq!(h264_profile_level_id(&[0, 0, 1, 0x67, 0x42, 0xc0]), None);
    assert_eq!(
        codec_parameters("video/H264", &[0, 0, 0, 1, 0x65, 0x88, 0x84]),
        params(json!({ "packetization-mode": 1 }))
    );
}

#[test]
fn other_codecs_have_none() {
    assert_eq!(
        codec_parameters("video/VP8", &[0x10, 0x02]),
        params(json!({}))
    );
    assert_eq!(codec_parameters("audio/opus", &[0xfc]), params(json!({})));
}

#[test]
fn the_samples_declare_their_profiles() {
    // read when the test runs, as file_player's tests do (a shared CARGO_TARGET_DIR)
    let samples = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../../samples");
    for (file, expected) in [
        ("vp9.ivf", json!({ "profile-id": 0 })),
        ("av1.ivf", json!({ "profile": 0 })),
        (
            "h264.h264",
            json!({ "packetization-mode": 1, "profile-level-id": "42e01f" }),
        ),
        ("vp8.ivf", json!({})),
        ("opus.ogg", json!({})),
    ] {
        let (player, _task) =
            crate::FilePlayer::open(samples.join(file), Default::default()).unwrap();
        assert_eq!(player.info().parameters, params(expected), "{file}");
    }
}
