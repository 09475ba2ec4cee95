//! The datagrams a connection reads and writes outside webrtc-rs' core: the RTP read by
//! `own_rtp.rs` and the RTCP written by `own_rtcp.rs`. The core's `transport` and
//! `candidate-pair` stats count only what passes through it, so the connection counts these
//! and adds them to those entries: `getStats()` gives every datagram of the transport, as a
//! browser's does. It also keeps the route they take (the RTCP goes where the RTP came from).

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Datagrams that went around the core, as the core counts its own: whole datagrams. In
/// this order (`repr(C)`): what each datagram read writes first, together.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct OwnTraffic {
    pub packets_received: u64,
    pub bytes_received: u64,
    pub last_received: Option<Instant>,
    /// The socket and the server's address the last datagram read came through: where those
    /// written go (the server sends and receives on one address), the selected pair's.
    pub route: Option<(SocketAddr, SocketAddr)>,
    pub packets_sent: u64,
    pub bytes_sent: u64,
    pub last_sent: Option<Instant>,
}

impl OwnTraffic {
    /// A datagram of `bytes` read at `at`, on socket `local` from `peer`.
    pub fn received(&mut self, at: Instant, bytes: usize, local: SocketAddr, peer: SocketAddr) {
        self.packets_received += 1;
        self.bytes_received += bytes as u64;
        self.last_received = Some(at);
        self.route = Some((local, peer));
    }

    /// The server's address on the route, once a datagram was read.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.route.map(|(_, peer)| peer)
    }

    /// A datagram of `bytes` handed to the socket at `at`.
    pub fn sent(&mut self, at: Instant, bytes: usize) {
        self.packets_sent += 1;
        self.bytes_sent += bytes as u64;
        self.last_sent = Some(at);
    }

    /// Adds these datagrams to the `transport` entries of `entries` (stats as JSON, times in
    /// ms since the epoch) and to the candidate pair each names as selected, the one they went
    /// through. `now` is the monotonic instant of the wall-clock time `now_ms`.
    pub fn add_to(&self, entries: &mut [Value], now: Instant, now_ms: f64) {
        if *self == OwnTraffic::default() {
            return;
        }
        let selected: Vec<String> = entries
            .iter()
            .filter(|e| e["type"] == "transport")
            .filter_map(|e| e["selectedCandidatePairId"].as_str().map(str::to_owned))
            .collect();
        let epoch_ms = |at: Option<Instant>| {
            at.map(|at| now_ms - now.saturating_duration_since(at).as_secs_f64() * 1000.0)
        };
        for entry in entries.iter_mut() {
            let is_pair = entry["type"] == "candidate-pair"
                && entry["id"]
                    .as_str()
                    .is_some_and(|id| selected.iter().any(|s| s == id));
            if entry["type"] != "transport" && !is_pair {
                continue;
            }
            add(entry, "packetsReceived", self.packets_received);
            add(entry, "bytesReceived", self.bytes_received);
            add(entry, "packetsSent", self.packets_sent);
            add(entry, "bytesSent", self.bytes_sent);
            if is_pair {
                later(
                    entry,
                    "lastPacketReceivedTimestamp",
                    epoch_ms(self.last_received),
                );
                later(entry, "lastPacketSentTimestamp", epoch_ms(self.last_sent));
            }
        }
    }
}

/// Now as ms since the Unix epoch.
pub(crate) fn epoch_ms_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs_f64()
        * 1000.0
}

fn add(entry: &mut Value, field: &str, count: u64) {
    let core = entry[field].as_u64().unwrap_or(0);
    entry[field] = Value::from(core + count);
}

/// `field` becomes `at` when that is later than what it holds.
fn later(entry: &mut Value, field: &str, at: Option<f64>) {
    let Some(at) = at else {
        return;
    };
    if entry[field].as_f64().is_none_or(|core| core < at) {
        entry[field] = Value::from(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn local() -> SocketAddr {
        "127.0.0.1:5000".parse().unwrap()
    }

    fn server() -> SocketAddr {
        "127.0.0.1:40000".parse().unwrap()
    }

    fn entries() -> Vec<Value> {
        vec![
            json!({ "id": "T", "type": "transport", "selectedCandidatePairId": "P",
                    "packetsReceived": 7, "bytesReceived": 1000, "packetsSent": 5, "bytesSent": 800 }),
            json!({ "id": "P", "type": "candidate-pair", "packetsReceived": 4,
                    "bytesReceived": 900, "packetsSent": 2, "bytesSent": 700,
                    "lastPacketReceivedTimestamp": 1_000_000.0, "lastPacketSentTimestamp": 1_000_000.0 }),
            json!({ "id": "Q", "type": "candidate-pair", "packetsReceived": 0 }),
            json!({ "id": "L", "type": "local-candidate", "port": 5000 }),
        ]
    }

    #[test]
    fn added_to_the_transport_and_its_selected_pair_only() {
        let now = Instant::now();
        let mut traffic = OwnTraffic::default();
        traffic.received(now - Duration::from_millis(30), 1200, local(), server());
        traffic.received(now - Duration::from_millis(20), 300, local(), server());
        assert_eq!(traffic.peer(), Some(server()));
        traffic.sent(now - Duration::from_millis(10), 80);
        let mut stats = entries();
        traffic.add_to(&mut stats, now, 2_000_000.0);
        assert_eq!(stats[0]["packetsReceived"], 9);
        assert_eq!(stats[0]["bytesReceived"], 2500);
        assert_eq!(stats[0]["packetsSent"], 6);
        assert_eq!(stats[0]["bytesSent"], 880);
        assert_eq!(stats[1]["packetsReceived"], 6);
        assert_eq!(stats[1]["bytesReceived"], 2400);
        assert_eq!(stats[1]["bytesSent"], 780);
        let received = stats[1]["lastPacketReceivedTimestamp"].as_f64().unwrap();
        let sent = stats[1]["lastPacketSentTimestamp"].as_f64().unwrap();
        assert!((received - 1_999_980.0).abs() < 0.01, "{received}");
        assert!((sent - 1_999_990.0).abs() < 0.01, "{sent}");
        // the pair not selected, and other entries: untouched
        assert_eq!(stats[2], entries()[2]);
        assert_eq!(stats[3], entries()[3]);
    }

    #[test]
    fn the_cores_later_times_are_kept() {
        let now = Instant::now();
        let mut traffic = OwnTraffic::default();
        traffic.received(now - Duration::from_secs(5), 100, local(), server());
        let mut stats = entries();
        traffic.add_to(&mut stats, now, 1_001_000.0);
        // ours at 996,000 ms: before the core's 1,000,000
        assert_eq!(stats[1]["lastPacketReceivedTimestamp"], 1_000_000.0);
        assert_eq!(stats[1]["bytesReceived"], 1000);
        // nothing outside the core: nothing changes
        let mut untouched = entries();
        OwnTraffic::default().add_to(&mut untouched, now, 1_001_000.0);
        assert_eq!(untouched, entries());
    }
}
