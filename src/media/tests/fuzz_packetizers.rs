//! Property tests of the packetizers on the frames a program writes (`track.writeFrame()`):
//! random bytes and mutated frames of the bundled samples, any MTU. For every frame: no panic;
//! a refusal is a `MalformedFrame` or `InvalidArgument` error; video payloads are non-empty
//! and fit the MTU, their number bounded by the frame's size.
//! `PROPTEST_CASES` sets the number of cases (see docs/testing.md).

use bytes::Bytes;
use msc_media::{H264Reader, IvfReader, MediaError, OggOpusReader, Packetizer, MAX_MTU, MIN_MTU};
use proptest::prelude::*;

#[path = "../proptest_config.rs"]
mod proptest_config;
use proptest::sample::Index;
use proptest_config::config;
use std::path::PathBuf;
use std::sync::OnceLock;

const CODECS: [(&str, u32); 5] = [
    ("video/VP8", 90_000),
    ("video/VP9", 90_000),
    ("video/H264", 90_000),
    ("video/AV1", 90_000),
    ("audio/opus", 48_000),
];

/// The first frames of the sample of each codec of [`CODECS`].
fn sample_frames() -> &'static [Vec<Bytes>; 5] {
    static FRAMES: OnceLock<[Vec<Bytes>; 5]> = OnceLock::new();
    FRAMES.get_or_init(|| {
        let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test"))
            .join("../../samples");
        let ivf = |name: &str| -> Vec<Bytes> {
            IvfReader::open(dir.join(name))
                .unwrap()
                .take(8)
                .map(|f| f.unwrap().data)
                .collect()
        };
        let h264 = H264Reader::open(dir.join("h264.h264"), 30.0)
            .unwrap()
            .take(8)
            .map(|a| a.unwrap().data)
            .collect();
        let opus = OggOpusReader::open(dir.join("opus.ogg"))
            .unwrap()
            .take(8)
            .map(|p| p.unwrap().data)
            .collect();
        [ivf("vp8.ivf"), ivf("vp9.ivf"), h264, ivf("av1.ivf"), opus]
    })
}

fn check(
    codec: usize,
    mtu: usize,
    frame: &[u8],
    keyframe: Option<bool>,
) -> Result<(), TestCaseError> {
    let (mime_type, clock_rate) = CODECS[codec];
    let mut packetizer = Packetizer::for_codec(mime_type, clock_rate, mtu).unwrap();
    match packetizer.packetize(&Bytes::copy_from_slice(frame), keyframe, 1234) {
        Ok(chunks) => {
            prop_assert!(!chunks.is_empty());
            if mime_type.starts_with("video") {
                prop_assert!(chunks.len() <= frame.len() + 1, "{} packets", chunks.len());
                for c in &chunks {
                    prop_assert!(
                        !c.payload.is_empty() && c.payload.len() <= mtu,
                        "{}-byte payload, MTU {}",
                        c.payload.len(),
                        mtu
                    );
                }
                prop_assert!(chunks.last().unwrap().marker);
            }
        }
        Err(e) => prop_assert!(
            matches!(
                e,
                MediaError::MalformedFrame { .. } | MediaError::InvalidArgument(_)
            ),
            "{e:?}"
        ),
    }
    Ok(())
}

fn keyframe() -> impl Strategy<Value = Option<bool>> {
    prop_oneof![Just(None), any::<bool>().prop_map(Some)]
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn random_frames(
        codec in 0..CODECS.len(),
        mtu in MIN_MTU..1500usize,
        frame in proptest::collection::vec(any::<u8>(), 0..3000),
        keyframe in keyframe(),
    ) {
        check(codec, mtu, &frame, keyframe)?;
    }

    #[test]
    fn mutated_sample_frames(
        codec in 0..CODECS.len(),
        which in any::<Index>(),
        mtu in prop_oneof![MIN_MTU..200usize, 200..1500usize, Just(MAX_MTU)],
        changes in proptest::collection::vec((any::<Index>(), any::<u8>()), 0..8),
        cut in proptest::option::of(any::<Index>()),
        keyframe in keyframe(),
    ) {
        let frames = &sample_frames()[codec];
        let mut frame = frames[which.index(frames.len())].to_vec();
        for (at, byte) in changes {
            // most of a frame's structure is in its first bytes
            let span = if byte & 1 == 0 { frame.len().min(16) } else { frame.len() };
            frame[at.index(span)] = byte;
        }
        if let Some(cut) = cut {
            frame.truncate(cut.index(frame.len() + 1));
        }
        check(codec, mtu, &frame, keyframe)?;
    }
}
