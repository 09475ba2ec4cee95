//! Property test of playing untrusted files: mutated copies of the bundled samples played to
//! their end (or, looped, for a while) in paused time, their frames through the packetizers.
//! `PROPTEST_CASES` sets the number of cases (see docs/testing.md).

use super::*;
use crate::proptest_config::config;
use crate::{EndReason, RtpChunk, RtpSink};
use msc_ortc::RtpCodecParameters;
use proptest::prelude::*;
use proptest::sample::Index;

const SAMPLES: [&str; 5] = ["av1.ivf", "h264.h264", "opus.ogg", "vp8.ivf", "vp9.ivf"];

fn sample(name: &str) -> Vec<u8> {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test"));
    std::fs::read(dir.join("../../samples").join(name)).expect("bundled sample")
}

#[derive(Default)]
struct Sink {
    packets: Mutex<usize>,
}

impl RtpSink for Sink {
    fn send(&self, _layer: usize, _chunk: RtpChunk) {
        *self.packets.lock().unwrap() += 1;
    }
}

/// Plays `path` for at most `limit`, checking how it ends.
async fn play(path: &Path, looped: bool, limit: Duration) -> Result<(), TestCaseError> {
    let (player, task) = match FilePlayer::open(
        path,
        FilePlayerOptions {
            looped,
            ..Default::default()
        },
    ) {
        Ok(opened) => opened,
        Err(e) => {
            prop_assert!(matches!(e, MediaError::MalformedFile { .. }), "{e}");
            return Ok(());
        }
    };
    let task = tokio::spawn(task);
    let track = player.track();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = Mutex::new(Some(tx));
    track.on_ended(Box::new(move |reason| {
        if let Some(tx) = tx.lock().unwrap().take() {
            let _ = tx.send(reason);
        }
    }));
    let codec = RtpCodecParameters {
        mime_type: player.info().mime_type.into(),
        payload_type: 100,
        clock_rate: if player.info().kind == MediaKind::Audio {
            48_000
        } else {
            90_000
        },
        channels: None,
        // the producer's codec has the profile the file declares, as produce() picks it
        parameters: player.info().parameters.clone(),
        rtcp_feedback: vec![],
    };
    if let Err(e) = track.attach(Arc::new(Sink::default()), &codec, 2) {
        // a mutated first frame can declare a profile no producer sends (an H.264
        // profile-level-id outside WebRTC's): the track refuses it, an error and not a panic
        prop_assert!(
            matches!(&e, MediaError::InvalidArgument(m) if m.contains("cannot feed the producer")),
            "{e}"
        );
        track.stop();
        prop_assert!(task.await.is_ok(), "the playing task panicked");
        return Ok(());
    }
    match tokio::time::timeout(limit, rx).await {
        Ok(reason) => {
            prop_assert!(
                !looped || player.error().is_some(),
                "a looped file ended without error"
            );
            prop_assert_eq!(reason.unwrap(), EndReason::SourceEnded);
        }
        Err(_) => {
            prop_assert!(looped, "a file of 2 s still playing after {limit:?}");
            track.stop();
        }
    }
    // a panic in the playing task would be a JoinError here
    prop_assert!(task.await.is_ok(), "the playing task panicked");
    if let Some(e) = player.error() {
        prop_assert!(
            e.to_string().starts_with(&path.display().to_string()),
            "{e}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn mutated_samples_play_to_an_end_or_an_error(
        which in 0..SAMPLES.len(),
        changes in proptest::collection::vec((any::<Index>(), any::<Index>(), any::<u8>()), 1..12),
        looped in any::<bool>(),
    ) {
        let mut data = sample(SAMPLES[which]);
        for (head, anywhere, byte) in changes {
            // half of the changes in the headers (the first 256 bytes)
            let at = if byte & 1 == 0 { head.index(256) } else { anywhere.index(data.len()) };
            data[at] = byte;
        }
        let path = std::env::temp_dir().join(format!(
            "msc-play-fuzz-{}-{which}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&path, &data).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        // frames at most 60 s apart, 60 frames: an hour of (paused) time at most
        let result = runtime.block_on(play(&path, looped, Duration::from_secs(if looped { 3 } else { 4000 })));
        std::fs::remove_file(&path).unwrap();
        result?;
    }
}

/// Counts frames (packets with the marker bit); stops the track past `limit`.
struct FrameCounter {
    frames: Mutex<usize>,
    limit: usize,
    track: Mutex<Option<Arc<FrameTrack>>>,
}

impl RtpSink for FrameCounter {
    fn send(&self, _layer: usize, chunk: RtpChunk) {
        let mut frames = self.frames.lock().unwrap();
        *frames += usize::from(chunk.marker);
        if *frames > self.limit {
            if let Some(track) = self.track.lock().unwrap().take() {
                // not from inside send(): the track's lock is held
                tokio::spawn(async move { track.stop() });
            }
        }
    }
}

/// Found by `mutated_samples_play_to_an_end_or_an_error`: an IVF file whose timebase makes its
/// 60 frames 1 µs apart, looped, sent frames without pause.
#[tokio::test(start_paused = true)]
async fn a_looped_file_with_frames_microseconds_apart_plays_at_most_1000_frames_per_second() {
    let mut data = sample("vp8.ivf");
    data[16..20].copy_from_slice(&1_000_000u32.to_le_bytes());
    data[20..24].copy_from_slice(&1u32.to_le_bytes());
    let mut offset = 32;
    let mut pts = 0u64;
    while offset + 12 <= data.len() {
        let size = u32::from_le_bytes(data[offset..offset + 4].try_into().unwrap()) as usize;
        data[offset + 4..offset + 12].copy_from_slice(&pts.to_le_bytes());
        pts += 1;
        offset += 12 + size;
    }
    assert_eq!(pts, 60);
    let path = std::env::temp_dir().join(format!("msc-fast-loop-{}.ivf", std::process::id()));
    std::fs::write(&path, &data).unwrap();
    let options = FilePlayerOptions {
        looped: true,
        ..Default::default()
    };
    let (player, task) = FilePlayer::open(&path, options).unwrap();
    let task = tokio::spawn(task);
    let counter = Arc::new(FrameCounter {
        frames: Mutex::new(0),
        limit: 1_000,
        track: Mutex::new(Some(player.track())),
    });
    let codec = RtpCodecParameters {
        mime_type: "video/VP8".into(),
        payload_type: 100,
        clock_rate: 90_000,
        channels: None,
        parameters: Default::default(),
        rtcp_feedback: vec![],
    };
    player.track().attach(counter.clone(), &codec, 1).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    player.track().stop();
    task.await.unwrap();
    std::fs::remove_file(&path).unwrap();
    let frames = *counter.frames.lock().unwrap();
    // 500 ms at 1000 frames per second, and the frames of the pass under way
    assert!(
        (400..=560).contains(&frames),
        "{frames} frames in 500 ms ({:?})",
        player.error()
    );
}
