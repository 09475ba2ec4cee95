use super::*;
use crate::{H264Reader, IvfReader, OggOpusReader};
use std::io::Cursor;
use std::path::PathBuf;
use std::process::Command;

/// An extended RTP timestamp just below 2^32: the 32-bit timestamps of the recordings wrap
/// after about half a second.
const START: u64 = (1 << 32) - 45_000;

fn sample(name: &str) -> PathBuf {
    // read when the test runs (see file_player::tests::sample)
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test"))
        .join("../../samples")
        .join(name)
}

/// A fresh directory for one test's files.
fn out_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("msc-recorder-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tool(name: &str) -> bool {
    let found = Command::new(name).arg("-version").output().is_ok();
    if !found {
        println!("{name} is not on PATH: its checks are skipped");
    }
    found
}

/// `ffprobe -show_entries format=duration` (None when ffprobe says N/A or is missing).
fn ffprobe(path: &Path, entries: &str) -> Option<String> {
    if !tool("ffprobe") {
        return None;
    }
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", entries, "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "ffprobe {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap().trim().to_string())
}

fn ffprobe_duration(path: &Path) -> Option<f64> {
    ffprobe(path, "format=duration").map(|d| {
        d.parse()
            .unwrap_or_else(|_| panic!("{}: duration {d:?}", path.display()))
    })
}

/// Decodes the whole file with ffmpeg; panics on any error it reports.
fn ffmpeg_decodes(path: &Path) {
    if !tool("ffmpeg") {
        return;
    }
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "ffmpeg decoding {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Remuxes `path` to Matroska (`-c copy`) and returns the duration ffprobe reads there.
fn remuxed_duration(path: &Path) -> Option<f64> {
    if !tool("ffmpeg") {
        return None;
    }
    let mkv = path.with_extension("mkv");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(path)
        .args(["-c", "copy"])
        .arg(&mkv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ffprobe_duration(&mkv)
}

/// A frame of a sample: data, RTP time (90 kHz or 48 kHz, from START), keyframe.
type Frame = (Vec<u8>, u64, bool);

fn to_ticks(us: u64, clock_rate: u64) -> u64 {
    (us * clock_rate + 500_000) / 1_000_000
}

fn ivf_frames(name: &str) -> (&'static str, Vec<Frame>) {
    let reader = IvfReader::open(sample(name)).unwrap();
    let mime = reader.header().mime_type;
    let frames = reader
        .map(|f| {
            let f = f.unwrap();
            let key = match mime {
                "video/VP8" => f.data[0] & 1 == 0,
                "video/VP9" => ivf_writer::vp9_size(&f.data).is_some(),
                _ => ivf_writer::av1_size(&f.data).is_some(),
            };
            (
                f.data.to_vec(),
                START + to_ticks(f.timestamp_us, 90_000),
                key,
            )
        })
        .collect();
    (mime, frames)
}

fn h264_frames(frame_rate: f64) -> Vec<Frame> {
    H264Reader::open(sample("h264.h264"), frame_rate)
        .unwrap()
        .map(|au| {
            let au = au.unwrap();
            (
                au.data.to_vec(),
                START + to_ticks(au.timestamp_us, 90_000),
                au.keyframe,
            )
        })
        .collect()
}

fn opus_frames() -> Vec<Frame> {
    OggOpusReader::open(sample("opus.ogg"))
        .unwrap()
        .map(|p| {
            let p = p.unwrap();
            (p.data.to_vec(), START + p.position_samples, true)
        })
        .collect()
}

/// Records `frames`; returns the summary and which frames were written.
fn record(
    path: &Path,
    mime: &str,
    clock_rate: u32,
    frames: &[Frame],
) -> (RecordingSummary, Vec<bool>) {
    let mut r = Recorder::create(path, mime, clock_rate, 2).unwrap();
    let written = frames
        .iter()
        .map(|(data, ts, key)| r.write_frame(data, *ts, *key).unwrap())
        .collect();
    (r.finish().unwrap(), written)
}

/// Checks an IVF recording against what was written, with this crate's reader and ffmpeg;
/// `input_duration` is the length (seconds) the file must show.
fn check_ivf(path: &Path, mime: &str, frames: &[Frame], input_duration: f64) {
    let (summary, written) = record(path, mime, 90_000, frames);
    let kept: Vec<&Frame> = frames
        .iter()
        .zip(&written)
        .filter(|(_, w)| **w)
        .map(|(f, _)| f)
        .collect();
    assert_eq!(summary.frames, kept.len() as u64);
    let mut reader = IvfReader::open(path).unwrap();
    let h = reader.header().clone();
    assert_eq!(h.mime_type, mime);
    assert_eq!((h.timebase_numerator, h.timebase_denominator), (1, 90_000));
    assert_eq!(
        (h.width, h.height),
        (320, 240),
        "picture size from the first keyframe"
    );
    let back: Vec<_> = reader.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(back.len(), kept.len());
    let first = kept[0].1;
    for (b, k) in back.iter().zip(&kept) {
        assert_eq!(b.data, k.0);
        assert_eq!(b.pts, k.1 - first);
    }
    // the last frame lasts as long as the interval before it: exactly the input's duration
    let tick = 1.0 / 90_000.0;
    assert!(
        (summary.duration_us as f64 / 1e6 - input_duration).abs() <= tick,
        "{summary:?}"
    );
    if let Some(d) = ffprobe_duration(path) {
        println!(
            "{}: ffprobe duration {d}, input {input_duration}",
            path.display()
        );
        assert!(
            (d - input_duration).abs() <= tick,
            "ffprobe {d} s, input {input_duration} s"
        );
    }
    ffmpeg_decodes(path);
}

#[test]
fn ivf_recordings_keep_frames_times_and_duration() {
    let dir = out_dir("ivf");
    for name in ["vp8.ivf", "vp9.ivf", "av1.ivf"] {
        let (mime, frames) = ivf_frames(name);
        assert_eq!(frames.len(), 60);
        assert!(frames[0].2);
        check_ivf(&dir.join(name), mime, &frames, 2.0);
    }
}

#[test]
fn ivf_gap_keeps_its_time_and_recording_starts_at_a_keyframe() {
    let dir = out_dir("ivf-gap");
    for name in ["vp8.ivf", "vp9.ivf", "av1.ivf"] {
        let (mime, frames) = ivf_frames(name);
        let second_key = frames.iter().skip(1).position(|f| f.2).unwrap() + 1;
        // a gap: the frames before the second keyframe are lost
        let mut gap = frames.clone();
        gap.drain(10..second_key);
        check_ivf(&dir.join(format!("gap-{name}")), mime, &gap, 2.0);
        // joined late: the frames before the second keyframe are skipped
        let late = &frames[3..];
        let span = (frames.len() - second_key) as f64 / 30.0;
        check_ivf(&dir.join(format!("late-{name}")), mime, late, span);
    }
}

#[test]
fn ogg_opus_recordings_keep_packets_times_and_gaps() {
    let dir = out_dir("ogg");
    let frames = opus_frames();
    let last = frames.last().unwrap();
    let input_samples = last.1 - START + u64::from(opus_duration(&last.0).unwrap());
    let mut gap = frames.clone();
    gap.drain(30..60);
    for (file, frames) in [("opus.ogg", &frames), ("gap.ogg", &gap)] {
        let path = dir.join(file);
        let (summary, written) = record(&path, "audio/opus", 48_000, frames);
        assert!(written.iter().all(|w| *w));
        assert_eq!(summary.duration_us, input_samples * 1_000_000 / 48_000);
        let mut reader = OggOpusReader::open(&path).unwrap();
        assert_eq!(reader.head().channels, 2);
        assert_eq!(reader.head().pre_skip, 0);
        let back: Vec<_> = reader.by_ref().collect::<Result<_, _>>().unwrap();
        assert_eq!(back.len(), frames.len());
        for (b, f) in back.iter().zip(frames.iter()) {
            assert_eq!(b.data, f.0);
            // one packet per page: the page's granule position is the packet's end
            let end = f.1 - START + u64::from(b.duration_samples);
            assert_eq!(b.granule_position, Some(end));
        }
        let input = input_samples as f64 / 48_000.0;
        if let Some(d) = ffprobe_duration(&path) {
            println!("{file}: ffprobe duration {d}, input {input}");
            assert!((d - input).abs() <= 0.020, "ffprobe {d} s, input {input} s");
        }
        ffmpeg_decodes(&path);
    }
}

#[test]
fn ogg_pages_end_with_eos_and_have_valid_checksums() {
    let mut out = Cursor::new(Vec::new());
    let mut r = Recorder::new(&mut out, "mem", "audio/opus", 48_000, 1).unwrap();
    // 20 ms of CELT (config 31: 20 ms fullband), then 60 ms later another
    assert!(r.write_frame(&[0xf8, 1, 2], START, false).unwrap());
    assert!(r.write_frame(&[0xf8, 3], START + 3 * 960, false).unwrap());
    let summary = r.finish().unwrap();
    assert_eq!(summary.frames, 2);
    assert_eq!(summary.duration_us, 80_000);
    let bytes = out.into_inner();
    // walk the pages: flags and granules
    let mut pages = vec![];
    let mut at = 0;
    while at < bytes.len() {
        let p = &bytes[at..];
        assert_eq!(&p[..4], b"OggS");
        let segments = usize::from(p[26]);
        let len = 27
            + segments
            + p[27..27 + segments]
                .iter()
                .map(|&l| usize::from(l))
                .sum::<usize>();
        let mut zeroed = p[..len].to_vec();
        zeroed[22..26].fill(0);
        assert_eq!(
            ogg_writer::crc32(&zeroed).to_le_bytes(),
            p[22..26],
            "page {}",
            pages.len()
        );
        pages.push((p[5], u64::from_le_bytes(p[6..14].try_into().unwrap())));
        at += len;
    }
    assert_eq!(pages, [(2, 0), (0, 0), (0, 960), (4, 3 * 960 + 960)]);
    // and the reader agrees
    let mut reader = OggOpusReader::new("mem", Cursor::new(bytes)).unwrap();
    assert_eq!(reader.head().channels, 1);
    assert_eq!(reader.by_ref().count(), 2);
}

#[test]
fn ogg_crc_matches_a_known_page() {
    // the first page of the bundled sample, as written by another muxer
    let bytes = std::fs::read(sample("opus.ogg")).unwrap();
    let len = 27 + 1 + usize::from(bytes[27]);
    let mut page = bytes[..len].to_vec();
    let stored = page[22..26].to_vec();
    page[22..26].fill(0);
    assert_eq!(ogg_writer::crc32(&page).to_le_bytes().to_vec(), stored);
}

/// The NAL units of an access unit, and the timing of its SPS if it has one.
fn nal_units(au: &[u8]) -> (Vec<Vec<u8>>, Option<(u32, u32)>) {
    let units = annexb_writer::split_nal_units(au).unwrap();
    let timing = units
        .iter()
        .find(|n| n[0] & 0x1f == 7)
        .and_then(|n| annexb_writer::timing_of(n));
    (units.iter().map(|n| n.to_vec()).collect(), timing)
}

/// Records H.264 `frames`, checks them against this crate's reader (NAL units other than the
/// SPS equal; every SPS says `fps`) and ffmpeg (frame rate, decoding, duration once remuxed).
fn check_h264(path: &Path, frames: &[Frame], fps: f64, input_duration: f64) {
    let (summary, written) = record(path, "video/H264", 90_000, frames);
    let kept: Vec<&Frame> = frames
        .iter()
        .zip(&written)
        .filter(|(_, w)| **w)
        .map(|(f, _)| f)
        .collect();
    assert_eq!(summary.frames, kept.len() as u64);
    let back: Vec<_> = H264Reader::open(path, fps)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(back.len(), kept.len());
    for (b, k) in back.iter().zip(&kept) {
        let (ours, timing) = nal_units(&b.data);
        let (theirs, _) = nal_units(&k.0);
        assert_eq!(ours.len(), theirs.len());
        for (o, t) in ours.iter().zip(&theirs) {
            if t[0] & 0x1f != 7 {
                assert_eq!(o, t);
            }
        }
        if let Some((num_units, time_scale)) = timing {
            let rate = f64::from(time_scale) / 2.0 / f64::from(num_units);
            assert!(
                (rate - fps).abs() < 0.01,
                "SPS says {rate} fps, {fps} expected"
            );
        }
        assert_eq!(b.keyframe, k.2);
    }
    assert!(back[0].keyframe && nal_units(&back[0].data).1.is_some());
    let frame = 1.0 / fps;
    assert!(
        (summary.duration_us as f64 / 1e6 - input_duration).abs() <= frame,
        "{summary:?}"
    );
    if let Some(rate) = ffprobe(path, "stream=r_frame_rate") {
        let (n, d) = rate.split_once('/').unwrap();
        let rate = n.parse::<f64>().unwrap() / d.parse::<f64>().unwrap();
        println!(
            "{}: ffprobe r_frame_rate {rate}, measured {fps}",
            path.display()
        );
        assert!((rate - fps).abs() < 0.01, "ffprobe: {rate} fps");
        // raw H.264 has no duration of its own
        assert_eq!(ffprobe(path, "format=duration").as_deref(), Some("N/A"));
    }
    ffmpeg_decodes(path);
    if let Some(d) = remuxed_duration(path) {
        println!(
            "{}: remuxed duration {d}, input {input_duration}",
            path.display()
        );
        assert!(
            (d - input_duration).abs() <= frame,
            "remuxed {d} s, input {input_duration} s"
        );
    }
}

#[test]
fn h264_recordings_carry_the_measured_frame_rate() {
    let dir = out_dir("h264");
    // the sample's SPS says 30 fps: timestamps 25 fps apart must make a 25 fps file
    for fps in [30.0, 25.0] {
        let frames = h264_frames(fps);
        assert_eq!(frames.len(), 60);
        check_h264(&dir.join(format!("{fps}.h264")), &frames, fps, 60.0 / fps);
    }
}

#[test]
fn h264_gap_keeps_the_duration_and_recording_starts_at_a_keyframe() {
    let dir = out_dir("h264-gap");
    let frames = h264_frames(30.0);
    // frames 10..30 lost: 40 frames over the same 2 s, a mean rate of 39 per 59/30 s
    let mut gap = frames.clone();
    gap.drain(10..30);
    check_h264(&dir.join("gap.h264"), &gap, 39.0 * 30.0 / 59.0, 2.0);
    // joined late: recording starts at the second keyframe (frame 30)
    check_h264(&dir.join("late.h264"), &frames[1..], 30.0, 1.0);
}

/// The bundled sample with the VUI of its SPS removed: ffmpeg then assumes 25 fps.
fn sample_without_vui() -> Vec<u8> {
    let bytes = std::fs::read(sample("h264.h264")).unwrap();
    let units = annexb_writer::split_nal_units(&bytes).unwrap();
    let mut out = vec![];
    for nal in units {
        out.extend([0, 0, 0, 1]);
        if nal[0] & 0x1f == 7 {
            // bits 0..60 are the fields before vui_parameters_present_flag (bit 60); then
            // the flag at 0, the stop bit, alignment
            assert_eq!(nal[7] & 0x08, 0x08, "the sample's SPS has a VUI at bit 60");
            out.extend(&nal[..7]);
            out.push((nal[7] & 0xf0) | 0x04);
        } else {
            out.extend(nal);
        }
    }
    out
}

#[test]
fn an_sps_without_vui_gets_one_with_timing() {
    let stream = sample_without_vui();
    let units = annexb_writer::split_nal_units(&stream).unwrap();
    let sps = units[0];
    assert_eq!(sps[0] & 0x1f, 7);
    assert_eq!(annexb_writer::timing_of(sps), None);
    let mut out = Cursor::new(Vec::new());
    let mut w = annexb_writer::AnnexBWriter::new(&mut out).unwrap();
    w.write_access_unit(&[sps, &[0x65, 0x88, 0x80]]).unwrap();
    w.finish(Some((1001, 60_000))).unwrap();
    let bytes = out.into_inner();
    let written = annexb_writer::split_nal_units(&bytes).unwrap();
    assert_eq!(written.len(), 2);
    assert_eq!(annexb_writer::timing_of(written[0]), Some((1001, 60_000)));
    assert_eq!(written[1], [0x65, 0x88, 0x80]);

    let dir = out_dir("novui");
    let path = dir.join("novui.h264");
    std::fs::write(&path, &stream).unwrap();
    // recorded at 20 fps: the file says 20 fps where the stream alone gave ffmpeg's default
    let frames: Vec<Frame> = H264Reader::new("novui", Cursor::new(stream), 30.0)
        .unwrap()
        .map(|au| {
            let au = au.unwrap();
            (au.data.to_vec(), START + au.index * 4500, au.keyframe)
        })
        .collect();
    if let Some(rate) = ffprobe(&path, "stream=r_frame_rate") {
        assert_eq!(rate, "25/1", "ffmpeg's default for an untimed stream");
    }
    check_h264(&dir.join("rec.h264"), &frames, 20.0, 3.0);
}

#[test]
fn mean_rate_timing_is_the_mean_interval() {
    use annexb_writer::mean_rate_timing;
    assert_eq!(
        mean_rate_timing(59 * 3000, 60, 90_000),
        Some((3_000_000, 180_000_000))
    );
    // 29.97 fps
    assert_eq!(
        mean_rate_timing(99 * 3003, 100, 90_000),
        Some((3_003_000, 180_000_000))
    );
    assert_eq!(mean_rate_timing(0, 1, 90_000), None);
    assert_eq!(mean_rate_timing(1000, 1, 90_000), None);
    assert_eq!(mean_rate_timing(0, 5, 90_000), None);
}

#[test]
fn picture_sizes_of_keyframes() {
    for name in ["vp8.ivf", "vp9.ivf", "av1.ivf"] {
        let (mime, frames) = ivf_frames(name);
        let size = match mime {
            "video/VP8" => ivf_writer::vp8_size(&frames[0].0),
            "video/VP9" => ivf_writer::vp9_size(&frames[0].0),
            _ => ivf_writer::av1_size(&frames[0].0),
        };
        assert_eq!(size, Some((320, 240)), "{name}");
        // an inter frame has no size
        let size = match mime {
            "video/VP8" => ivf_writer::vp8_size(&frames[1].0),
            "video/VP9" => ivf_writer::vp9_size(&frames[1].0),
            _ => ivf_writer::av1_size(&frames[1].0),
        };
        assert_eq!(size, None, "{name}");
    }
}

#[test]
fn formats_and_bad_arguments() {
    assert_eq!(
        RecordFormat::for_mime_type("video/vp8"),
        Ok(RecordFormat::Ivf)
    );
    assert_eq!(
        RecordFormat::for_mime_type("VIDEO/AV1"),
        Ok(RecordFormat::Ivf)
    );
    assert_eq!(
        RecordFormat::for_mime_type("audio/opus"),
        Ok(RecordFormat::OggOpus)
    );
    assert_eq!(
        RecordFormat::for_mime_type("video/H264"),
        Ok(RecordFormat::H264AnnexB)
    );
    assert_eq!(
        [
            RecordFormat::Ivf,
            RecordFormat::OggOpus,
            RecordFormat::H264AnnexB
        ]
        .map(|f| f.extension()),
        ["ivf", "ogg", "h264"]
    );
    let e = RecordFormat::for_mime_type("video/H265").unwrap_err();
    assert!(matches!(e, MediaError::UnsupportedCodec { .. }), "{e}");
    let mem = || Cursor::new(Vec::new());
    let err = |r: Result<Recorder<Cursor<Vec<u8>>>, MediaError>| r.err().unwrap().to_string();
    assert!(err(Recorder::new(mem(), "m", "audio/opus", 90_000, 2)).contains("always 48000"));
    assert!(err(Recorder::new(mem(), "m", "audio/opus", 48_000, 3)).contains("1 or 2"));
    assert!(err(Recorder::new(mem(), "m", "video/VP8", 0, 0)).contains("greater than 0"));
    assert!(err(Recorder::new(mem(), "m", "audio/PCMU", 8000, 1)).contains("unsupported codec"));
    // a bad argument creates no file
    let dir = out_dir("args");
    let path = dir.join("x.ogg");
    assert!(Recorder::create(&path, "audio/opus", 8000, 1).is_err());
    assert!(!path.exists());
    let e = Recorder::create("/nonexistent/dir/x.ivf", "video/VP8", 90_000, 0)
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/dir/x.ivf: cannot create"),
        "{e}"
    );
}

#[test]
fn frames_are_refused_out_of_order_and_when_malformed() {
    let mut r = Recorder::new(Cursor::new(Vec::new()), "m", "video/VP8", 90_000, 0).unwrap();
    assert!(
        !r.write_frame(&[1, 2, 3], 100, false).unwrap(),
        "no keyframe yet"
    );
    assert!(r.write_frame(&[0x10, 2, 3], 200, true).unwrap());
    assert!(
        r.write_frame(&[1, 2, 3], 200, false).unwrap(),
        "same timestamp is fine"
    );
    let e = r.write_frame(&[1, 2, 3], 199, false).unwrap_err();
    assert!(
        e.to_string().contains("before the previous frame's (200)"),
        "{e}"
    );
    assert!(r.write_frame(&[], 300, false).is_err());
    let s = r.finish().unwrap();
    assert_eq!((s.frames, s.bytes, s.duration_us), (2, 6, 0));

    let mut r = Recorder::new(Cursor::new(Vec::new()), "m", "audio/opus", 48_000, 2).unwrap();
    let e = r.write_frame(&[0x03], 0, true).unwrap_err(); // code 3 with no frame count byte
    assert!(
        matches!(e, MediaError::MalformedFrame { codec: "Opus", .. }),
        "{e}"
    );
    let mut r = Recorder::new(Cursor::new(Vec::new()), "m", "video/H264", 90_000, 0).unwrap();
    let e = r.write_frame(&[0x65, 1, 2], 0, true).unwrap_err();
    assert!(e.to_string().contains("no start code"), "{e}");
}

mod fuzz {
    use super::*;
    use crate::proptest_config::config;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::Index;

    const MIMES: [&str; 5] = [
        "video/VP8",
        "video/VP9",
        "video/AV1",
        "video/H264",
        "audio/opus",
    ];

    proptest! {
        #![proptest_config(config(64))]

        /// Any frames: no panic; what was written reads back, frame for frame.
        #[test]
        fn any_frames_record_and_read_back(
            mime in 0..MIMES.len(),
            frames in vec((vec(any::<u8>(), 1..300), 0u64..200_000, any::<bool>()), 0..24),
        ) {
            let mime = MIMES[mime];
            let clock = if mime == "audio/opus" { 48_000 } else { 90_000 };
            let mut out = Cursor::new(Vec::new());
            let mut r = Recorder::new(&mut out, "fuzz", mime, clock, 2).unwrap();
            let mut written = 0;
            for (data, ts, key) in &frames {
                if let Ok(true) = r.write_frame(data, START + ts, *key) {
                    written += 1;
                }
            }
            let summary = r.finish().unwrap();
            prop_assert_eq!(summary.frames, written);
            let bytes = out.into_inner();
            let read = match mime {
                "audio/opus" => OggOpusReader::new("x", Cursor::new(bytes)).unwrap().count(),
                "video/H264" => written as usize, // random bytes are not access units to count
                _ => IvfReader::new("x", Cursor::new(bytes)).unwrap().count(),
            };
            prop_assert_eq!(read as u64, written);
        }

        /// The sample's SPS with a byte changed and cut anywhere: no panic, and when it still
        /// parses, the written SPS says the rate given to finish.
        #[test]
        fn mutated_sps_get_timing_or_pass_unchanged(
            at in any::<Index>(),
            byte in any::<u8>(),
            cut in any::<Index>(),
        ) {
            let stream = std::fs::read(sample("h264.h264")).unwrap();
            let units = annexb_writer::split_nal_units(&stream).unwrap();
            let mut sps = units[0].to_vec();
            let i = 1 + at.index(sps.len() - 1);
            sps[i] = byte;
            sps.truncate(1 + cut.index(sps.len()));
            let mut out = Cursor::new(Vec::new());
            let mut w = annexb_writer::AnnexBWriter::new(&mut out).unwrap();
            w.write_access_unit(&[&sps, units[2]]).unwrap();
            w.finish(Some((1234, 567_890))).unwrap();
            let bytes = out.into_inner();
            let written = annexb_writer::split_nal_units(&bytes).unwrap();
            prop_assert_eq!(written.len(), 2);
            prop_assert_eq!(written[1], units[2]);
            if let Some(timing) = annexb_writer::timing_of(written[0]) {
                prop_assert_eq!(timing, (1234, 567_890));
            }
        }
    }
}
