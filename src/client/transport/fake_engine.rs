//! A fake [`Engine`] (test-only: `cfg(test)` or the `test-hooks` feature, never in the addon):
//! no PeerConnection, no sockets. It makes offers a real PeerConnection could have made (one
//! sendonly section per sender, mids "0", "1", ...), takes any answer, and records every call
//! so that tests can check what a transport asked of its connection and in which order.

use std::sync::{Arc, Mutex};

use msc_handler::{HandlerError, IceServer, SendResult};
use msc_ortc::{MediaKind, RtpCodecCapability};
use serde_json::{json, Value};

use super::engine::{Engine, EngineFuture};

struct Section {
    kind: MediaKind,
    codecs: Vec<RtpCodecCapability>,
    rids: Vec<String>,
    ssrc: u32,
    stopped: bool,
}

#[derive(Default)]
struct Inner {
    sections: Vec<Section>,
    closed: bool,
}

/// What a [`FakeEngine`] was asked, in order: `send <kind> <mid>`, `answer <mids answered>`,
/// `stop <mid>`, `restart`, `ice-servers <n>`, `stats`, `sender-stats <mid>`, `close`.
#[derive(Clone, Default)]
pub struct FakeLog(Arc<Mutex<Vec<String>>>);

impl FakeLog {
    /// A copy of the entries so far, oldest first.
    pub fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    fn push(&self, entry: String) {
        self.0.lock().unwrap().push(entry);
    }
}

/// The fake connection; give it to `Transport::new_with_engine`. After `close()` its steps
/// fail as a closed handler's do.
#[derive(Default)]
pub struct FakeEngine {
    inner: Mutex<Inner>,
    log: FakeLog,
}

impl FakeEngine {
    /// A fake with no sections, and the log it writes to (shared: read it while the
    /// transport runs).
    pub fn new() -> (Self, FakeLog) {
        let engine = FakeEngine::default();
        let log = engine.log.clone();
        (engine, log)
    }

    fn check_open(&self) -> Result<(), HandlerError> {
        if self.inner.lock().unwrap().closed {
            Err(HandlerError::InvalidState("handler closed".into()))
        } else {
            Ok(())
        }
    }

    fn offer(inner: &Inner) -> String {
        let mids: Vec<String> = (0..inner.sections.len()).map(|i| i.to_string()).collect();
        let mut sdp = String::from(
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
             a=fingerprint:sha-256 CC:EA:D9:D0:35:13:3C:5D:60:CF:91:01:B3:9A:85:F4:8B:FD:34:85:CD:76:1E:B4:7F:47:31:D9:B2:FC:6B:2A\r\n",
        );
        sdp += &format!("a=group:BUNDLE {}\r\n", mids.join(" "));
        for (mid, s) in inner.sections.iter().enumerate() {
            let pts: Vec<String> = s
                .codecs
                .iter()
                .map(|c| c.preferred_payload_type.unwrap_or(96).to_string())
                .collect();
            let port = if s.stopped { 0 } else { 9 };
            sdp += &format!(
                "m={} {port} UDP/TLS/RTP/SAVPF {}\r\nc=IN IP4 0.0.0.0\r\na=setup:actpass\r\na=mid:{mid}\r\n\
                 a=ice-ufrag:fakeufrag\r\na=ice-pwd:fakepasswordfakepassword\r\na=rtcp-mux\r\na=rtcp-rsize\r\n",
                s.kind.as_str(),
                pts.join(" ")
            );
            for c in &s.codecs {
                let pt = c.preferred_payload_type.unwrap_or(96);
                let name = c.mime_type.split('/').nth(1).unwrap_or("x");
                match c.channels {
                    Some(ch) if ch > 1 => {
                        sdp += &format!("a=rtpmap:{pt} {name}/{}/{ch}\r\n", c.clock_rate)
                    }
                    _ => sdp += &format!("a=rtpmap:{pt} {name}/{}\r\n", c.clock_rate),
                }
                if !c.parameters.is_empty() {
                    let fmtp: Vec<String> = c
                        .parameters
                        .iter()
                        .map(|(k, v)| match v {
                            Value::String(s) => format!("{k}={s}"),
                            other => format!("{k}={other}"),
                        })
                        .collect();
                    sdp += &format!("a=fmtp:{pt} {}\r\n", fmtp.join(";"));
                }
            }
            for rid in &s.rids {
                sdp += &format!("a=rid:{rid} send\r\n");
            }
            if !s.rids.is_empty() {
                sdp += &format!("a=simulcast:send {}\r\n", s.rids.join(";"));
            }
            sdp += &format!(
                "a=msid:fakestream fake{mid}\r\na=ssrc:{0} cname:fakecname\r\na=ssrc:{0} msid:fakestream fake{mid}\r\n{1}",
                s.ssrc,
                if s.stopped { "a=inactive\r\n" } else { "a=sendonly\r\n" }
            );
        }
        sdp
    }
}

/// The mids of the sections of `sdp`, `(closed)` after those closed (port 0) or disabled
/// (`a=inactive`: the first section, which carries the BUNDLE transport).
fn answered_mids(sdp: &str) -> Vec<String> {
    let mut sections: Vec<(String, bool)> = Vec::new();
    for line in sdp.lines() {
        if let Some(m) = line.strip_prefix("m=") {
            sections.push((String::new(), m.split(' ').nth(1) == Some("0")));
        } else if let (Some(mid), Some(last)) = (line.strip_prefix("a=mid:"), sections.last_mut()) {
            last.0 = mid.to_string();
        } else if let (true, Some(last)) = (line == "a=inactive", sections.last_mut()) {
            last.1 = true;
        }
    }
    sections
        .into_iter()
        .map(|(mid, closed)| {
            if closed {
                format!("{mid}(closed)")
            } else {
                mid
            }
        })
        .collect()
}

impl Engine for FakeEngine {
    fn send(
        &self,
        kind: MediaKind,
        codecs: Vec<RtpCodecCapability>,
        rids: Vec<String>,
    ) -> EngineFuture<'_, SendResult> {
        Box::pin(async move {
            self.check_open()?;
            let mut inner = self.inner.lock().unwrap();
            let mid = inner.sections.len().to_string();
            let ssrc = 1000 + inner.sections.len() as u32;
            inner.sections.push(Section {
                kind,
                codecs,
                rids,
                ssrc,
                stopped: false,
            });
            self.log.push(format!("send {} {mid}", kind.as_str()));
            Ok(SendResult {
                mid,
                offer_sdp: Self::offer(&inner),
                // no packets in these tests: a producer with no writer drops what it is given
                writers: vec![],
            })
        })
    }

    fn set_remote_answer(&self, sdp: String) -> EngineFuture<'_, ()> {
        Box::pin(async move {
            self.check_open()?;
            self.log
                .push(format!("answer {}", answered_mids(&sdp).join(",")));
            Ok(())
        })
    }

    fn stop_sending<'a>(&'a self, mid: &'a str) -> EngineFuture<'a, String> {
        Box::pin(async move {
            self.check_open()?;
            let mut inner = self.inner.lock().unwrap();
            let index: usize = mid
                .parse()
                .map_err(|_| HandlerError::InvalidArgument(format!("unknown mid {mid}")))?;
            let section = inner
                .sections
                .get_mut(index)
                .ok_or_else(|| HandlerError::InvalidArgument(format!("unknown mid {mid}")))?;
            section.stopped = true;
            self.log.push(format!("stop {mid}"));
            Ok(Self::offer(&inner))
        })
    }

    fn restart_ice_offer(&self) -> EngineFuture<'_, String> {
        Box::pin(async move {
            self.check_open()?;
            self.log.push("restart".into());
            Ok(Self::offer(&self.inner.lock().unwrap()))
        })
    }

    fn update_ice_servers(&self, servers: Vec<IceServer>) -> EngineFuture<'_, ()> {
        Box::pin(async move {
            self.check_open()?;
            self.log.push(format!("ice-servers {}", servers.len()));
            Ok(())
        })
    }

    fn transport_stats(&self) -> EngineFuture<'_, Value> {
        Box::pin(async move {
            self.check_open()?;
            self.log.push("stats".into());
            Ok(json!([]))
        })
    }

    fn sender_stats<'a>(&'a self, mid: &'a str) -> EngineFuture<'a, Value> {
        Box::pin(async move {
            self.check_open()?;
            self.log.push(format!("sender-stats {mid}"));
            Ok(json!([]))
        })
    }

    fn on_connection_state(&self, _f: Box<dyn Fn(&'static str) + Send + Sync>) {}

    fn close(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            let mut inner = self.inner.lock().unwrap();
            if !inner.closed {
                inner.closed = true;
                self.log.push("close".into());
            }
        })
    }
}
