//! The operation flow of a transport over the fake engine: no PeerConnection, no sockets.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use msc_media::FrameTrack;
use msc_ortc::extended::{can_send, get_extended_rtp_capabilities, get_recv_rtp_capabilities};
use msc_ortc::{DtlsParameters, DtlsRole, MediaKind, RtpCapabilities, RtpParameters};
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::fake_engine::{FakeEngine, FakeLog};
use super::*;

fn caps() -> RtpCapabilities {
    serde_json::from_value(json!({
        "codecs": [
            { "kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2,
              "preferredPayloadType": 100, "parameters": {}, "rtcpFeedback": [] },
            { "kind": "video", "mimeType": "video/VP8", "clockRate": 90000,
              "preferredPayloadType": 101, "parameters": {}, "rtcpFeedback": [] },
        ],
        "headerExtensions": [],
    }))
    .unwrap()
}

fn loaded() -> Arc<Loaded> {
    let extended = get_extended_rtp_capabilities(&caps(), &caps()).unwrap();
    Arc::new(Loaded {
        recv_rtp_capabilities: get_recv_rtp_capabilities(&extended),
        can_produce_audio: can_send(MediaKind::Audio, &extended),
        can_produce_video: can_send(MediaKind::Video, &extended),
        extended,
    })
}

fn transport() -> (Arc<Transport>, FakeLog) {
    let options = TransportOptions::from_json(json!({
        "id": "t1",
        "iceParameters": { "usernameFragment": "u", "password": "p", "iceLite": true },
        "iceCandidates": [{ "foundation": "f", "priority": 1, "ip": "127.0.0.1",
                            "address": "127.0.0.1", "protocol": "udp", "port": 40000, "type": "host" }],
        "dtlsParameters": { "role": "auto", "fingerprints": [{ "algorithm": "sha-256",
            "value": "82:5A:68:3D:36:C3:0A:DE:AF:E7:32:43:D2:88:83:57:AC:2D:65:E5:80:C4:B6:FB:AF:1A:A0:21:9F:6D:0C:AD" }] },
    }))
    .unwrap();
    let (engine, log) = FakeEngine::new();
    let t =
        Transport::new_with_engine(Direction::Send, loaded(), options, Box::new(engine)).unwrap();
    (t, log)
}

/// The application: answers `connect` with the next of `connects` (Ok when none is left, or
/// never when `hold` is set) and `produce` with `{ id: "p<n>" }`; logs what it was asked.
#[derive(Default)]
struct App {
    connects: Mutex<VecDeque<Result<()>>>,
    produce_answers: Mutex<VecDeque<Value>>,
    asked: Mutex<Vec<String>>,
    hold_connect: bool,
    /// produce answers wait for this
    gate: Option<Arc<Notify>>,
}

impl TransportListener for App {
    fn connect(&self, dtls: DtlsParameters) -> Answer<()> {
        assert_eq!(dtls.role, Some(DtlsRole::Client));
        self.asked.lock().unwrap().push("connect".into());
        let answer = self.connects.lock().unwrap().pop_front().unwrap_or(Ok(()));
        let hold = self.hold_connect;
        Box::pin(async move {
            if hold {
                std::future::pending::<()>().await;
            }
            answer
        })
    }
}

impl SendListener for App {
    fn produce(&self, kind: MediaKind, rtp: RtpParameters) -> Answer<Value> {
        let mut asked = self.asked.lock().unwrap();
        asked.push(format!(
            "produce {} mid {}",
            kind.as_str(),
            rtp.mid.unwrap()
        ));
        let n = asked.iter().filter(|a| a.starts_with("produce")).count();
        let answer = self
            .produce_answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| json!({ "id": format!("p{n}") }));
        let gate = self.gate.clone();
        Box::pin(async move {
            if let Some(gate) = gate {
                gate.notified().await;
            }
            Ok(answer)
        })
    }
}

/// A producer of `kind` with no track: the fake engine gives no writers, which a track needs.
fn track(kind: MediaKind) -> ProduceOptions {
    ProduceOptions {
        kind: Some(kind),
        ..Default::default()
    }
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(2), f)
        .await
        .expect("settles promptly")
}

#[tokio::test]
async fn produce_connects_once_and_numbers_producers_by_mid() {
    let (t, log) = transport();
    let app = Arc::new(App::default());
    let a = t
        .produce(track(MediaKind::Audio), app.clone())
        .await
        .unwrap();
    let v = t
        .produce(track(MediaKind::Video), app.clone())
        .await
        .unwrap();
    assert_eq!((a.id(), a.local_id()), ("p1", "0"));
    assert_eq!((v.id(), v.local_id()), ("p2", "1"));
    assert_eq!(
        *app.asked.lock().unwrap(),
        ["connect", "produce audio mid 0", "produce video mid 1"]
    );
    assert_eq!(
        log.entries(),
        ["send audio 0", "answer 0", "send video 1", "answer 0,1"]
    );
}

#[tokio::test]
async fn a_refused_connect_is_asked_again_by_the_next_produce() {
    let (t, log) = transport();
    let app = Arc::new(App::default());
    app.connects
        .lock()
        .unwrap()
        .push_back(Err(Error::refused("no")));
    let err = t
        .produce(track(MediaKind::Video), app.clone())
        .await
        .unwrap_err();
    assert_eq!(err, Error::refused("no"));
    let p = t
        .produce(track(MediaKind::Video), app.clone())
        .await
        .unwrap();
    assert_eq!(p.local_id(), "1");
    assert_eq!(
        *app.asked.lock().unwrap(),
        ["connect", "connect", "produce video mid 1"]
    );
    // the refused section is stopped with no answer (nothing was connected yet); the next
    // answer has it, closed, before the new one
    assert_eq!(
        log.entries(),
        [
            "send video 0",
            "stop 0",
            "send video 1",
            "answer 0(closed),1"
        ]
    );
}

#[tokio::test]
async fn a_produce_answer_without_id_is_a_type_error_and_stops_sending() {
    let (t, log) = transport();
    let app = Arc::new(App::default());
    app.produce_answers.lock().unwrap().push_back(json!({}));
    let err = t.produce(track(MediaKind::Audio), app).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert_eq!(
        log.entries(),
        ["send audio 0", "answer 0", "stop 0", "answer 0(closed)"]
    );
}

#[tokio::test]
async fn rules_of_produce_live_here() {
    let (t, _log) = transport();
    let app = Arc::new(App::default());
    let ended = Arc::new(FrameTrack::new(MediaKind::Video));
    ended.stop();
    let options = ProduceOptions {
        track: Some(ended),
        ..Default::default()
    };
    let err = t.produce(options, app.clone()).await.unwrap_err();
    assert_eq!(err, Error::invalid_state("track ended"));
    let options = ProduceOptions {
        track: Some(Arc::new(FrameTrack::new(MediaKind::Audio))),
        encodings: vec![Default::default(), Default::default()],
        ..Default::default()
    };
    let err = t.produce(options, app.clone()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    let audio = t.produce(track(MediaKind::Audio), app).await.unwrap();
    assert_eq!(
        audio.set_max_spatial_layer(0),
        Err(Error::unsupported("not a video Producer"))
    );
}

#[tokio::test]
async fn operations_run_one_at_a_time_in_call_order() {
    let (t, log) = transport();
    let gate = Arc::new(Notify::new());
    let app = Arc::new(App {
        gate: Some(gate.clone()),
        ..Default::default()
    });
    let first = tokio::spawn(t.produce(track(MediaKind::Audio), app.clone()));
    let stats = tokio::spawn(t.get_stats());
    let second = tokio::spawn(t.produce(track(MediaKind::Video), app.clone()));
    // the first produce waits for its answer: nothing after it has started
    while app.asked.lock().unwrap().len() < 2 {
        tokio::task::yield_now().await;
    }
    assert_eq!(log.entries(), ["send audio 0", "answer 0"]);
    gate.notify_one();
    within(first).await.unwrap().unwrap();
    within(stats).await.unwrap().unwrap();
    while app.asked.lock().unwrap().len() < 3 {
        tokio::task::yield_now().await;
    }
    gate.notify_one();
    within(second).await.unwrap().unwrap();
    assert_eq!(
        log.entries(),
        [
            "send audio 0",
            "answer 0",
            "stats",
            "send video 1",
            "answer 0,1"
        ]
    );
}

#[tokio::test]
async fn close_settles_the_running_and_the_queued_operations() {
    let (t, log) = transport();
    let app = Arc::new(App {
        hold_connect: true,
        ..Default::default()
    });
    let running = tokio::spawn(t.produce(track(MediaKind::Video), app.clone()));
    let queued = tokio::spawn(t.produce(track(MediaKind::Audio), app.clone()));
    let restart =
        tokio::spawn(t.restart_ice(json!({ "usernameFragment": "u2", "password": "p2" })));
    let servers = tokio::spawn(t.update_ice_servers(json!([])));
    while app.asked.lock().unwrap().is_empty() {
        tokio::task::yield_now().await;
    }
    t.close().await;
    let closed = Error::invalid_state("closed");
    assert_eq!(within(running).await.unwrap().unwrap_err(), closed);
    assert_eq!(within(queued).await.unwrap().unwrap_err(), closed);
    assert_eq!(within(restart).await.unwrap().unwrap_err(), closed);
    assert_eq!(within(servers).await.unwrap().unwrap_err(), closed);
    assert_eq!(t.get_stats().await.unwrap_err(), closed);
    assert_eq!(log.entries(), ["send video 0", "close"]);
}
