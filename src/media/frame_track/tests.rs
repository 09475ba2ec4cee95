use super::*;
use crate::RtpChunk;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

#[derive(Default)]
struct MockSink {
    sent: Mutex<Vec<(usize, RtpChunk)>>,
}

impl RtpSink for MockSink {
    fn send(&self, layer: usize, chunk: RtpChunk) {
        lock(&self.sent).push((layer, chunk));
    }
}

impl MockSink {
    fn take(&self) -> Vec<(usize, RtpChunk)> {
        std::mem::take(&mut *lock(&self.sent))
    }
}

fn codec(mime: &str, clock_rate: u32) -> RtpCodecParameters {
    RtpCodecParameters {
        mime_type: mime.into(),
        payload_type: 100,
        clock_rate,
        channels: None,
        parameters: Default::default(),
        rtcp_feedback: vec![],
    }
}

fn vp8() -> RtpCodecParameters {
    codec("video/VP8", 90_000)
}

fn vp8_key(len: usize) -> Bytes {
    let mut f = vec![0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a];
    f.resize(len, 0x42);
    Bytes::from(f)
}

fn vp8_delta(len: usize) -> Bytes {
    Bytes::from(vec![0x31; len])
}

fn at(t: u64) -> FrameTiming {
    FrameTiming {
        timestamp_us: Some(t),
        duration_us: None,
    }
}

fn attached(kind: MediaKind, c: &RtpCodecParameters, layers: usize) -> (FrameTrack, Arc<MockSink>) {
    let track = FrameTrack::new(kind);
    let sink = Arc::new(MockSink::default());
    let mut bases = [1000u32, 2_000_000, u32::MAX - 100].into_iter().cycle();
    track
        .attach_with(sink.clone(), c, layers, || bases.next().unwrap())
        .unwrap();
    (track, sink)
}

#[test]
fn a_new_track_is_live_enabled_unattached_with_a_uuid() {
    let t = FrameTrack::new(MediaKind::Video);
    assert_eq!(t.kind(), MediaKind::Video);
    assert!(t.enabled());
    assert_eq!(t.ready_state(), TrackState::Live);
    assert_eq!(t.ready_state().as_str(), "live");
    assert!(!t.is_attached());
    let id = t.id();
    assert_eq!(id.len(), 36);
    let parts: Vec<&str> = id.split('-').collect();
    assert_eq!(
        parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    assert!(parts[2].starts_with('4'));
    assert_ne!(id, FrameTrack::new(MediaKind::Video).id());
}

#[test]
fn writing_to_an_unattached_track_is_a_clear_error() {
    let t = FrameTrack::new(MediaKind::Video);
    let e = t
        .write_frame(vp8_key(100), FrameTiming::default(), None, 0)
        .unwrap_err();
    assert_eq!(e, MediaError::NotAttached);
    assert!(e
        .to_string()
        .starts_with("track is not attached to a producer"));
}

#[test]
fn write_frame_packetizes_and_sends_to_the_sink() {
    let (t, sink) = attached(MediaKind::Video, &vp8(), 1);
    let n = t.write_frame(vp8_key(3000), at(0), None, 0).unwrap();
    let sent = sink.take();
    assert_eq!(n, 3);
    assert_eq!(sent.len(), 3);
    for (i, (layer, c)) in sent.iter().enumerate() {
        assert_eq!(*layer, 0);
        assert_eq!(c.timestamp, 1000);
        assert!(c.keyframe, "detected from the VP8 P bit");
        assert_eq!(c.marker, i == 2);
    }
    t.write_frame(vp8_delta(500), at(33_333), None, 0).unwrap();
    let sent = sink.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1.timestamp, 1000 + 2999);
    assert!(!sent[0].1.keyframe);
    assert!(sent[0].1.marker);
}

#[test]
fn layers_have_their_own_clock_and_packetizer() {
    let (t, sink) = attached(MediaKind::Video, &vp8(), 3);
    for layer in 0..3 {
        t.write_frame(vp8_key(100), at(1_000_000), None, layer)
            .unwrap();
    }
    t.write_frame(vp8_delta(100), at(1_010_000), None, 2)
        .unwrap();
    let sent = sink.take();
    let stamps: Vec<(usize, u32)> = sent.iter().map(|(l, c)| (*l, c.timestamp)).collect();
    assert_eq!(
        stamps,
        [(0, 1000), (1, 2_000_000), (2, u32::MAX - 100), (2, 799)],
        "layer 2 wraps around 2^32"
    );
    let e = t
        .write_frame(vp8_key(100), FrameTiming::default(), None, 3)
        .unwrap_err();
    assert!(e.to_string().contains("layer 3 out of range"), "{e}");
}

#[test]
fn durations_and_wall_clock_drive_timestamps_when_no_timestamp_is_given() {
    let (t, sink) = attached(MediaKind::Audio, &codec("audio/opus", 48_000), 1);
    let d = FrameTiming {
        timestamp_us: None,
        duration_us: Some(20_000),
    };
    for _ in 0..3 {
        t.write_frame(Bytes::from_static(&[0xfc, 1, 2]), d, None, 0)
            .unwrap();
    }
    let stamps: Vec<u32> = sink.take().iter().map(|(_, c)| c.timestamp).collect();
    assert_eq!(stamps, [1000, 1960, 2920]);

    let (t, sink) = attached(MediaKind::Video, &vp8(), 1);
    let t0 = Instant::now();
    t.write_frame_at(vp8_key(10), FrameTiming::default(), None, 0, None, t0)
        .unwrap();
    t.write_frame_at(
        vp8_delta(10),
        FrameTiming::default(),
        None,
        0,
        None,
        t0 + Duration::from_millis(40),
    )
    .unwrap();
    let stamps: Vec<u32> = sink.take().iter().map(|(_, c)| c.timestamp).collect();
    assert_eq!(stamps, [1000, 1000 + 3600]);
}

#[test]
fn attach_twice_detach_and_reattach() {
    let (t, _sink) = attached(MediaKind::Video, &vp8(), 1);
    let other = Arc::new(MockSink::default());
    assert_eq!(
        t.attach(other.clone(), &vp8(), 1).unwrap_err(),
        MediaError::AlreadyAttached
    );
    t.detach();
    assert!(!t.is_attached());
    assert_eq!(
        t.write_frame(vp8_key(10), FrameTiming::default(), None, 0)
            .unwrap_err(),
        MediaError::NotAttached
    );
    t.detach(); // no-op
    t.attach(other.clone(), &vp8(), 1).unwrap();
    t.write_frame(vp8_key(10), FrameTiming::default(), None, 0)
        .unwrap();
    assert_eq!(other.take().len(), 1);
}

#[test]
fn attach_checks_kind_codec_and_layers() {
    let t = FrameTrack::new(MediaKind::Audio);
    let sink: Arc<dyn RtpSink> = Arc::new(MockSink::default());
    let e = t.attach(sink.clone(), &vp8(), 1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot attach an audio track to a video/VP8 producer"
    );
    let e = t
        .attach(sink.clone(), &codec("audio/PCMU", 8000), 1)
        .unwrap_err();
    assert!(matches!(e, MediaError::UnsupportedCodec { .. }));
    let e = t
        .attach(sink.clone(), &codec("audio/opus", 48_000), 0)
        .unwrap_err();
    assert!(e.to_string().contains("at least one layer"));
    assert!(!t.is_attached());

    let v = FrameTrack::new(MediaKind::Video);
    let mut h264 = codec("video/H264", 90_000);
    h264.parameters
        .insert("packetization-mode".into(), serde_json::json!(0));
    let e = v.attach(sink.clone(), &h264, 1).unwrap_err();
    assert!(e.to_string().contains("packetization-mode=0"), "{e}");
    h264.parameters
        .insert("packetization-mode".into(), serde_json::json!(1));
    v.attach(sink, &h264, 1).unwrap();
}

#[test]
fn stop_ends_the_track_once_and_further_use_fails() {
    let (t, sink) = attached(MediaKind::Video, &vp8(), 1);
    let ended = Arc::new(Mutex::new(Vec::new()));
    let e2 = ended.clone();
    t.on_ended(Box::new(move |reason| lock(&e2).push(reason)));
    t.stop();
    t.stop();
    assert_eq!(*lock(&ended), [EndReason::Stopped]);
    assert_eq!(t.ready_state(), TrackState::Ended);
    assert_eq!(t.ready_state().as_str(), "ended");
    assert!(!t.is_attached(), "stop releases the producer's sink");
    let e = t
        .write_frame(vp8_key(10), FrameTiming::default(), None, 0)
        .unwrap_err();
    assert_eq!(e, MediaError::Ended);
    assert!(e.to_string().starts_with("track has ended"));
    let e = t.attach(sink.clone(), &vp8(), 1).unwrap_err();
    assert_eq!(e, MediaError::Ended);
    assert!(sink.take().is_empty());
}

#[test]
fn keyframe_requests_reach_the_program_which_may_write_at_once() {
    let (t, sink) = attached(MediaKind::Video, &vp8(), 2);
    let t = Arc::new(t);
    let requests = Arc::new(Mutex::new(Vec::new()));
    let r2 = requests.clone();
    let weak = Arc::downgrade(&t);
    t.on_keyframe_request(Box::new(move |layer, _reason| {
        lock(&r2).push(layer);
        // Re-entrant write from the callback: must not deadlock.
        if let Some(t) = weak.upgrade() {
            t.write_frame(vp8_key(50), FrameTiming::default(), Some(true), layer)
                .unwrap();
        }
    }));
    t.request_keyframe(1, KeyframeReason::Server);
    assert_eq!(*lock(&requests), [1]);
    let sent = sink.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, 1);
    assert!(sent[0].1.keyframe);

    t.stop();
    t.request_keyframe(0, KeyframeReason::Server);
    assert_eq!(*lock(&requests), [1], "ignored once ended");
}

#[test]
fn disabled_tracks_drop_frames_and_keep_time_then_ask_for_a_keyframe() {
    let (t, sink) = attached(MediaKind::Video, &vp8(), 2);
    let requests = Arc::new(AtomicUsize::new(0));
    let r2 = requests.clone();
    t.on_keyframe_request(Box::new(move |_, _| {
        r2.fetch_add(1, Ordering::SeqCst);
    }));
    t.write_frame(vp8_key(10), at(0), None, 0).unwrap();
    t.set_enabled(false);
    t.set_enabled(false);
    assert!(!t.enabled());
    assert_eq!(
        t.write_frame(vp8_delta(10), at(10_000), None, 0).unwrap(),
        0
    );
    assert_eq!(requests.load(Ordering::SeqCst), 0);
    t.set_enabled(true);
    assert_eq!(requests.load(Ordering::SeqCst), 2, "one request per layer");
    t.write_frame(vp8_key(10), at(20_000), None, 0).unwrap();
    let stamps: Vec<u32> = sink.take().iter().map(|(_, c)| c.timestamp).collect();
    assert_eq!(stamps, [1000, 1000 + 1800]);
}

#[test]
fn malformed_frames_are_errors_and_the_track_goes_on() {
    let (t, sink) = attached(MediaKind::Video, &codec("video/H264", 90_000), 1);
    let e = t
        .write_frame(
            Bytes::from_static(&[1, 2, 3]),
            FrameTiming::default(),
            None,
            0,
        )
        .unwrap_err();
    assert!(matches!(
        e,
        MediaError::MalformedFrame { codec: "H264", .. }
    ));
    let e = t
        .write_frame(Bytes::new(), FrameTiming::default(), None, 0)
        .unwrap_err();
    assert!(matches!(e, MediaError::InvalidArgument(_)));
    let idr = Bytes::from_static(&[0, 0, 0, 1, 0x65, 0x88, 0x84]);
    assert_eq!(
        t.write_frame(idr, FrameTiming::default(), None, 0).unwrap(),
        1
    );
    assert!(sink.take()[0].1.keyframe);
}

#[test]
fn a_panicking_sink_does_not_poison_the_track() {
    struct PanicSink;
    impl RtpSink for PanicSink {
        fn send(&self, _: usize, _: RtpChunk) {
            panic!("sink failure");
        }
    }
    let t = Arc::new(FrameTrack::new(MediaKind::Video));
    t.attach(Arc::new(PanicSink), &vp8(), 1).unwrap();
    let t2 = t.clone();
    let r =
        std::thread::spawn(move || t2.write_frame(vp8_key(10), FrameTiming::default(), None, 0))
            .join();
    assert!(r.is_err());
    t.detach();
    let sink = Arc::new(MockSink::default());
    t.attach(sink.clone(), &vp8(), 1).unwrap();
    t.write_frame(vp8_key(10), FrameTiming::default(), None, 0)
        .unwrap();
    assert_eq!(sink.take().len(), 1);
}

#[test]
fn a_codec_bound_track_attaches_only_to_its_codec() {
    let track = FrameTrack::with_codec(MediaKind::Video, "video/VP9");
    assert_eq!(track.codec(), Some("video/VP9"));
    assert_eq!(FrameTrack::new(MediaKind::Video).codec(), None);
    let sink = Arc::new(MockSink::default());
    let e = track.attach(sink.clone(), &vp8(), 1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "this track holds video/VP9 media: it cannot feed a video/VP8 producer"
    );
    assert!(!track.is_attached());
    track
        .attach(sink, &codec("video/vp9", 90_000), 2)
        .expect("same codec, any case");
    assert_eq!(track.num_layers(), 2);
    track.detach();
    assert_eq!(track.num_layers(), 0);
}

#[test]
fn a_track_of_known_profile_attaches_only_to_a_codec_of_that_profile() {
    let with = |mime: &str, params: serde_json::Value| RtpCodecParameters {
        parameters: params.as_object().unwrap().clone(),
        ..codec(mime, 90_000)
    };
    let params = |v: serde_json::Value| v.as_object().unwrap().clone();
    let sink = Arc::new(MockSink::default());

    let vp9_p2 = FrameTrack::with_codec_parameters(
        MediaKind::Video,
        "video/VP9",
        params(serde_json::json!({ "profile-id": 2 })),
    );
    let e = vp9_p2
        .attach(
            sink.clone(),
            &with("video/VP9", serde_json::json!({ "profile-id": 0 })),
            1,
        )
        .unwrap_err();
    assert!(matches!(e, MediaError::InvalidArgument(_)));
    assert_eq!(
        e.to_string(),
        "this track cannot feed the producer: codec video/VP9 (profile-id 0) does not match the \
         track, which holds video/VP9 (profile-id 2)"
    );
    assert!(!vp9_p2.is_attached());
    vp9_p2
        .attach(
            sink.clone(),
            &with("video/VP9", serde_json::json!({ "profile-id": 2 })),
            1,
        )
        .unwrap();
    vp9_p2.detach();

    // H.264: a High stream cannot go as Constrained Baseline; Constrained Baseline can go as High
    let h264 = |plid: &str| {
        with(
            "video/H264",
            serde_json::json!({ "packetization-mode": 1, "profile-level-id": plid }),
        )
    };
    let file = |plid: &str| {
        FrameTrack::with_codec_parameters(
            MediaKind::Video,
            "video/H264",
            params(serde_json::json!({ "packetization-mode": 1, "profile-level-id": plid })),
        )
    };
    assert!(file("640028")
        .attach(sink.clone(), &h264("42e01f"), 1)
        .is_err());
    file("42e01f")
        .attach(sink.clone(), &h264("640032"), 1)
        .unwrap();

    // a parameter the producer's codec does not state is not checked (a device's AV1 codec
    // has no profile: device.load does not match it)
    let av1_p1 = FrameTrack::with_codec_parameters(
        MediaKind::Video,
        "video/AV1",
        params(serde_json::json!({ "profile": 1 })),
    );
    av1_p1
        .attach(sink.clone(), &with("video/AV1", serde_json::json!({})), 1)
        .unwrap();
    av1_p1.detach();
    assert!(av1_p1
        .attach(
            sink,
            &with("video/AV1", serde_json::json!({ "profile": 0 })),
            1
        )
        .is_err());
}

#[test]
fn attached_callbacks_run_after_each_successful_attach() {
    let track = FrameTrack::new(MediaKind::Video);
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    track.on_attached(Box::new(move || {
        c.fetch_add(1, Ordering::SeqCst);
    }));
    let sink = Arc::new(MockSink::default());
    track.attach(sink.clone(), &vp8(), 1).unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert!(track.attach(sink.clone(), &vp8(), 1).is_err());
    assert_eq!(
        count.load(Ordering::SeqCst),
        1,
        "a failed attach runs nothing"
    );
    track.detach();
    track.attach(sink, &vp8(), 1).unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn end_source_ends_with_source_ended_once() {
    let (track, _sink) = attached(MediaKind::Video, &vp8(), 1);
    let reasons = Arc::new(Mutex::new(vec![]));
    let r = reasons.clone();
    track.on_ended(Box::new(move |reason| lock(&r).push(reason)));
    track.end_source();
    track.stop();
    assert_eq!(*lock(&reasons), [EndReason::SourceEnded]);
    assert!(track.ended());
    assert!(!track.is_attached());
}

#[test]
fn write_rtp_passes_payloads_through_as_they_are() {
    let (track, sink) = attached(MediaKind::Video, &vp8(), 2);
    let payload = Bytes::from_static(&[0x90, 0x80, 0x01, 0xaa, 0xbb]);
    assert!(track.write_rtp(1, payload.clone(), 12345, true).unwrap());
    let sent = sink.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, 1);
    assert_eq!(sent[0].1.payload, payload);
    assert_eq!(sent[0].1.timestamp, 12345);
    assert!(sent[0].1.marker);
    assert!(track.write_rtp(2, payload.clone(), 1, false).is_err());
    assert!(track.write_rtp(0, Bytes::new(), 1, false).is_err());
    track.set_enabled(false);
    assert!(!track.write_rtp(0, payload.clone(), 1, false).unwrap());
    assert!(sink.take().is_empty());
    track.detach();
    assert_eq!(
        track.write_rtp(0, payload.clone(), 1, false),
        Err(MediaError::NotAttached)
    );
    track.stop();
    assert_eq!(
        track.write_rtp(0, payload, 1, false),
        Err(MediaError::Ended)
    );
}

fn opus() -> RtpCodecParameters {
    codec("audio/opus", 48_000)
}

/// 20 ms Opus packets of a 440 Hz sine at `amplitude` of full scale.
fn opus_sine(amplitude: f32, frames: usize) -> Vec<Bytes> {
    let mut encoder =
        opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Audio).unwrap();
    (0..frames)
        .map(|f| {
            let pcm: Vec<f32> = (0..960)
                .map(|i| {
                    let n = (f * 960 + i) as f32;
                    amplitude * (2.0 * std::f32::consts::PI * 440.0 * n / 48_000.0).sin()
                })
                .collect();
            Bytes::from(encoder.encode_vec_float(&pcm, 4000).unwrap())
        })
        .collect()
}

fn levels(sink: &MockSink) -> Vec<Option<u8>> {
    sink.take()
        .iter()
        .map(|(_, c)| c.audio_level.map(AudioLevel::level))
        .collect()
}

#[test]
fn a_given_audio_level_is_sent_as_is() {
    let (t, sink) = attached(MediaKind::Audio, &opus(), 1);
    let level = AudioLevel::new(40, true).unwrap();
    let frame = Bytes::from_static(&[0xf8, 1, 2, 3]);
    t.write_frame_with_level(frame.clone(), at(0), None, 0, Some(level))
        .unwrap();
    let sent = sink.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1.audio_level, Some(level));

    // a plain track measures nothing: no level without one from the program
    t.write_frame(frame, at(20_000), None, 0).unwrap();
    assert_eq!(levels(&sink), [None]);
}

#[test]
fn an_audio_level_on_a_video_track_is_refused() {
    let (t, sink) = attached(MediaKind::Video, &vp8(), 1);
    let err = t
        .write_frame_with_level(vp8_key(10), at(0), None, 0, Some(AudioLevel::SILENCE))
        .unwrap_err();
    assert!(matches!(err, MediaError::InvalidArgument(_)), "{err}");
    assert!(err.to_string().contains("audioLevel"), "{err}");
    assert!(sink.take().is_empty());
}

#[test]
fn a_measuring_track_sends_the_level_of_what_it_decodes() {
    let track = FrameTrack::new(MediaKind::Audio).measuring_audio_level(true);
    assert!(track.measures_audio_level());
    let sink = Arc::new(MockSink::default());
    track.attach(sink.clone(), &opus(), 1).unwrap();
    for (i, frame) in opus_sine(0.316, 10).into_iter().enumerate() {
        track
            .write_frame(frame, at(i as u64 * 20_000), None, 0)
            .unwrap();
    }
    let measured = levels(&sink);
    assert!(
        measured[5..].iter().all(|l| matches!(l, Some(12..=14))),
        "-10 dB sine: {measured:?}"
    );
    // a level from the program wins over the measurement
    let frame = opus_sine(0.316, 1).remove(0);
    let given = AudioLevel::new(90, false).unwrap();
    track
        .write_frame_with_level(frame, at(200_000), None, 0, Some(given))
        .unwrap();
    assert_eq!(levels(&sink), [Some(90)]);
    // not decodable: no level
    track
        .write_frame(Bytes::from_static(&[0xfb, 0x00]), at(220_000), None, 0)
        .unwrap();
    assert_eq!(levels(&sink), [None]);
}

#[test]
fn opus_file_and_rtp_tracks_measure_their_packets() {
    let track = FrameTrack::with_codec(MediaKind::Audio, "audio/opus");
    assert!(track.measures_audio_level());
    assert!(!FrameTrack::with_codec(MediaKind::Video, "video/VP8").measures_audio_level());
    assert!(!FrameTrack::new(MediaKind::Audio).measures_audio_level());
    let sink = Arc::new(MockSink::default());
    track.attach(sink.clone(), &opus(), 1).unwrap();
    for (i, payload) in opus_sine(0.0, 5).into_iter().enumerate() {
        assert!(track.write_rtp(0, payload, i as u32 * 960, false).unwrap());
    }
    assert_eq!(levels(&sink), [Some(127); 5]);
    for (i, payload) in opus_sine(0.01, 10).into_iter().enumerate() {
        track.write_rtp(0, payload, i as u32 * 960, false).unwrap();
    }
    let measured = levels(&sink);
    assert!(
        measured[5..].iter().all(|l| matches!(l, Some(42..=44))),
        "-40 dB sine: {measured:?}"
    );
}
