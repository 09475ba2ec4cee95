use super::*;
use crate::{EndReason, RtpChunk, RtpSink};
use msc_ortc::RtpCodecParameters;
use std::path::PathBuf;

/// Records what the track sends, with the (paused, test) time it was sent at.
#[derive(Default)]
struct Sink {
    sent: Mutex<Vec<(usize, RtpChunk, Instant)>>,
}

impl RtpSink for Sink {
    fn send(&self, layer: usize, chunk: RtpChunk) {
        self.sent
            .lock()
            .unwrap()
            .push((layer, chunk, Instant::now()));
    }
}

impl Sink {
    /// (timestamp, sent at) of the first packet of each frame (the packet after a marker).
    fn frames(&self, layer: usize) -> Vec<(u32, Instant)> {
        let sent = self.sent.lock().unwrap();
        let mut out = vec![];
        let mut last_ts = None;
        for (l, c, at) in sent.iter() {
            if *l == layer && last_ts != Some(c.timestamp) {
                out.push((c.timestamp, *at));
                last_ts = Some(c.timestamp);
            }
        }
        out
    }
}

fn sample(name: &str) -> PathBuf {
    // read when the test runs: a test binary that cargo reuses from another checkout of this
    // workspace (a shared CARGO_TARGET_DIR) keeps the directory it was compiled in
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test"))
        .join("../../samples")
        .join(name)
}

fn codec(mime: &str) -> RtpCodecParameters {
    RtpCodecParameters {
        mime_type: mime.into(),
        payload_type: 100,
        clock_rate: if mime.starts_with("audio") {
            48_000
        } else {
            90_000
        },
        channels: None,
        parameters: Default::default(),
        rtcp_feedback: vec![],
    }
}

/// Waits (in paused time) until the track ends; returns why.
async fn ended(track: &FrameTrack) -> EndReason {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = Mutex::new(Some(tx));
    track.on_ended(Box::new(move |r| {
        if let Some(tx) = tx.lock().unwrap().take() {
            let _ = tx.send(r);
        }
    }));
    tokio::time::timeout(Duration::from_secs(600), rx)
        .await
        .expect("the track ends")
        .unwrap()
}

fn play(
    name: &str,
    options: FilePlayerOptions,
    layers: usize,
) -> (FilePlayer, Arc<Sink>, tokio::task::JoinHandle<()>) {
    play_path(&sample(name), options, layers)
}

/// Opens `path`, runs its task and attaches a sink with the file's codec.
fn play_path(
    path: &std::path::Path,
    options: FilePlayerOptions,
    layers: usize,
) -> (FilePlayer, Arc<Sink>, tokio::task::JoinHandle<()>) {
    let (player, task) = FilePlayer::open(path, options).unwrap();
    let handle = tokio::spawn(task);
    let sink = Arc::new(Sink::default());
    player
        .track()
        .attach(sink.clone(), &codec(player.info().mime_type), layers)
        .unwrap();
    (player, sink, handle)
}

#[tokio::test(start_paused = true)]
async fn an_ivf_file_plays_at_its_own_times_then_ends() {
    let (player, sink, task) = play("vp8.ivf", FilePlayerOptions::default(), 1);
    let info = player.info().clone();
    assert_eq!(info.format, FileFormat::Ivf);
    assert_eq!(info.mime_type, "video/VP8");
    assert_eq!((info.width, info.height), (320, 240));
    assert_eq!(player.track().codec(), Some("video/VP8"));
    let t0 = Instant::now();
    assert_eq!(ended(&player.track()).await, EndReason::SourceEnded);
    task.await.unwrap();
    assert!(player.error().is_none());
    let frames = sink.frames(0);
    assert_eq!(frames.len(), 60);
    let base = frames[0].0;
    for (i, (ts, at)) in frames.iter().enumerate() {
        // 30 fps: 3000 ticks of 90 kHz and 33.3 ms apart
        assert_eq!(
            ts.wrapping_sub(base),
            (i as u64 * 1_000_000 / 30 * 90 / 1000) as u32
        );
        let expected = Duration::from_micros(i as u64 * 1_000_000 / 30);
        let late = at.duration_since(t0).saturating_sub(expected);
        assert!(
            late < Duration::from_millis(2),
            "frame {i} sent {late:?} late"
        );
    }
    let sent = sink.sent.lock().unwrap();
    assert!(sent.iter().any(|(_, c, _)| c.keyframe));
}

#[tokio::test(start_paused = true)]
async fn playing_waits_for_the_first_attach() {
    let (player, task) =
        FilePlayer::open(sample("opus.ogg"), FilePlayerOptions::default()).unwrap();
    tokio::spawn(task);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let sink = Arc::new(Sink::default());
    let track = player.track();
    assert_eq!(track.kind(), MediaKind::Audio);
    track.attach(sink.clone(), &codec("audio/opus"), 1).unwrap();
    let attached_at = Instant::now();
    ended(&track).await;
    let frames = sink.frames(0);
    // every 20 ms packet of the file (2 s and the encoder's pre-skip), 960 ticks apart
    let packets = OggOpusReader::open(sample("opus.ogg")).unwrap();
    let count = std::iter::from_fn({
        let mut r = packets;
        move || r.next_packet().unwrap()
    })
    .count();
    assert!((100..=101).contains(&count));
    assert_eq!(frames.len(), count);
    assert_eq!(frames[0].1, attached_at);
    assert!(frames
        .windows(2)
        .all(|w| w[1].0.wrapping_sub(w[0].0) == 960));
}

#[tokio::test(start_paused = true)]
async fn looping_continues_the_timestamps_one_frame_after_the_last() {
    let options = FilePlayerOptions {
        looped: true,
        ..Default::default()
    };
    for (name, step) in [("vp9.ivf", 3000), ("h264.h264", 3000), ("opus.ogg", 960)] {
        let (player, sink, task) = play(name, options, 1);
        let frames_per_pass = if name == "opus.ogg" { 100 } else { 60 };
        tokio::time::sleep(Duration::from_millis(5_100)).await;
        let frames = sink.frames(0);
        assert!(
            frames.len() >= frames_per_pass * 5 / 2,
            "{name}: {} frames in 5.1 s",
            frames.len()
        );
        // steps of one frame, across the loop boundaries too (+-1 tick of rounding)
        for (i, w) in frames.windows(2).enumerate() {
            let d = w[1].0.wrapping_sub(w[0].0) as i64;
            assert!((d - step).abs() <= 1, "{name}: step {d} after frame {i}");
        }
        assert_eq!(player.track().ready_state().as_str(), "live");
        player.track().stop();
        task.await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn every_layer_of_a_simulcast_producer_gets_the_frames() {
    let (player, sink, _task) = play("av1.ivf", FilePlayerOptions::default(), 3);
    ended(&player.track()).await;
    assert!(player.error().is_none(), "{:?}", player.error());
    for layer in 0..3 {
        assert_eq!(sink.frames(layer).len(), 60, "layer {layer}");
    }
}

#[tokio::test(start_paused = true)]
async fn h264_plays_at_the_frame_rate_asked() {
    let options = FilePlayerOptions {
        frame_rate: Some(15.0),
        ..Default::default()
    };
    let (player, sink, _task) = play("h264.h264", options, 1);
    assert_eq!(player.info().frame_rate, Some(15.0));
    let t0 = Instant::now();
    ended(&player.track()).await;
    let frames = sink.frames(0);
    assert_eq!(frames.len(), 60);
    assert_eq!(frames[1].0.wrapping_sub(frames[0].0), 6000);
    assert!(frames[59].1.duration_since(t0) >= Duration::from_micros(59 * 66_666));
}

#[tokio::test(start_paused = true)]
async fn stop_and_drop_end_the_playing_task() {
    let options = FilePlayerOptions {
        looped: true,
        ..Default::default()
    };
    let (player, sink, task) = play("vp8.ivf", options, 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    player.track().stop();
    tokio::time::timeout(Duration::from_millis(100), task)
        .await
        .expect("stopped at once")
        .unwrap();
    let n = sink.frames(0).len();
    assert!((14..=17).contains(&n), "{n} frames in 0.5 s");

    let (player, _sink, task) = play("vp8.ivf", options, 1);
    let track = player.track();
    drop(player);
    tokio::time::timeout(Duration::from_millis(100), task)
        .await
        .expect("dropping the player stops its task")
        .unwrap();
    assert!(!track.ended(), "the track stays live until stopped");
}

fn tmp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("msc-media-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn open_err(path: &Path) -> String {
    FilePlayer::open(path, FilePlayerOptions::default())
        .err()
        .expect("an error")
        .to_string()
}

#[test]
fn files_that_cannot_be_played_fail_at_open_with_name_and_offset() {
    let missing = open_err(Path::new("/nonexistent/clip.ivf"));
    assert!(
        missing.starts_with("/nonexistent/clip.ivf: cannot open"),
        "{missing}"
    );

    let empty = tmp_file("empty.ivf", b"");
    assert_eq!(
        open_err(&empty),
        format!(
            "{}: malformed media file at byte offset 0: empty file",
            empty.display()
        )
    );
    let mp4 = tmp_file("clip.mp4", b"\0\0\0\x20ftypisom");
    assert!(open_err(&mp4).contains("offset 0: not an IVF (VP8, VP9, AV1), Ogg/Opus or H.264"));

    let vp8 = std::fs::read(sample("vp8.ivf")).unwrap();
    let header_only = tmp_file("header.ivf", &vp8[..32]);
    assert!(open_err(&header_only).ends_with("offset 0: no frame in the file"));
    let cut_first = tmp_file("cut.ivf", &vp8[..60]);
    assert_eq!(
        open_err(&cut_first),
        format!(
            "{}: malformed IVF at byte offset 44: truncated frame: {} bytes expected, 16 found \
             before the end of the file",
            cut_first.display(),
            u32::from_le_bytes(vp8[32..36].try_into().unwrap())
        )
    );
    let ogg = std::fs::read(sample("opus.ogg")).unwrap();
    let mut bad_crc = ogg.clone();
    bad_crc[30] ^= 0xff;
    let bad_crc = tmp_file("crc.ogg", &bad_crc);
    assert!(open_err(&bad_crc).contains("malformed Ogg/Opus at byte offset 0"));
    let h264 = tmp_file("x.h264", b"\0\0\x01\x40\x01\x0c");
    assert!(open_err(&h264).contains("NAL unit type 0 is not H.264"));
    let rate = FilePlayer::open(
        sample("h264.h264"),
        FilePlayerOptions {
            frame_rate: Some(0.0),
            looped: false,
        },
    )
    .err()
    .unwrap();
    assert!(rate.to_string().starts_with("invalid frameRate 0"));
}

#[tokio::test(start_paused = true)]
async fn a_truncated_file_plays_up_to_the_cut_then_ends_with_the_error() {
    let vp8 = std::fs::read(sample("vp8.ivf")).unwrap();
    let cut = vp8.len() * 3 / 5;
    let path = tmp_file("truncated.ivf", &vp8[..cut]);
    // where the frame that the cut falls in begins
    let mut offset = 32usize;
    loop {
        let size = u32::from_le_bytes(vp8[offset..offset + 4].try_into().unwrap()) as usize;
        if offset + 12 + size > cut {
            break;
        }
        offset += 12 + size;
    }
    let (player, sink, _task) = play_path(&path, FilePlayerOptions::default(), 1);
    assert_eq!(ended(&player.track()).await, EndReason::SourceEnded);
    let error = player.error().expect("an error").to_string();
    let expected = format!("{}: malformed IVF at byte offset ", path.display());
    assert!(error.starts_with(&expected), "{error}");
    assert!(
        error.contains(&format!("offset {}: truncated frame", offset + 12))
            || error.contains(&format!("offset {offset}: truncated frame header")),
        "{error}"
    );
    assert!(!sink.frames(0).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_corrupt_timestamp_ends_the_track_instead_of_waiting_for_ever() {
    let mut vp8 = std::fs::read(sample("vp8.ivf")).unwrap();
    // the third frame's pts: 10^9 frames (a year) later
    let mut offset = 32usize;
    for _ in 0..2 {
        offset += 12 + u32::from_le_bytes(vp8[offset..offset + 4].try_into().unwrap()) as usize;
    }
    vp8[offset + 4..offset + 12].copy_from_slice(&1_000_000_000u64.to_le_bytes());
    let path = tmp_file("jump.ivf", &vp8);
    let (player, sink, _task) = play_path(&path, FilePlayerOptions::default(), 1);
    tokio::time::timeout(Duration::from_secs(1), ended(&player.track()))
        .await
        .expect("ends at once");
    let error = player.error().unwrap().to_string();
    assert!(
        error.contains(&format!(
            "IVF at byte offset {offset}: frame: the frame's time jumps"
        )),
        "{error}"
    );
    assert_eq!(sink.frames(0).len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_codec_bound_file_track_refuses_another_codec() {
    let (player, _task) =
        FilePlayer::open(sample("vp9.ivf"), FilePlayerOptions::default()).unwrap();
    let e = player
        .track()
        .attach(Arc::new(Sink::default()), &codec("video/VP8"), 1)
        .unwrap_err();
    assert!(e.to_string().contains("holds video/VP9 media"));
}
