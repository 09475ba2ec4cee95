//! The server's ICE candidates as `remote-candidate` stats entries. webrtc-rs 0.21.1 makes
//! stats entries only for remote candidates added one by one (trickled), not for those of a
//! remote description, which is how mediasoup's reach the connection: its candidate pairs then
//! name a remote candidate that no entry has. This keeps the candidates of the last remote
//! description, adds an entry for each, and points each pair at its own.

use std::net::{IpAddr, SocketAddr};

use serde_json::{json, Value};

/// One `a=candidate` of a remote description.
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    foundation: String,
    protocol: String,
    priority: u64,
    address: String,
    port: u16,
    candidate_type: String,
    tcp_type: Option<String>,
}

impl Candidate {
    /// `a=candidate:` values: foundation, component, transport, priority, address, port,
    /// `typ` and the type, then name-value pairs (`tcptype`, `raddr`, `generation`...).
    fn parse(value: &str) -> Option<Self> {
        let mut fields = value.split_ascii_whitespace();
        let foundation = fields.next()?.to_owned();
        let _component = fields.next()?;
        let protocol = fields.next()?.to_ascii_lowercase();
        let priority = fields.next()?.parse().ok()?;
        let address = fields.next()?.to_owned();
        let port = fields.next()?.parse().ok()?;
        if fields.next()? != "typ" {
            return None;
        }
        let candidate_type = fields.next()?.to_owned();
        let mut tcp_type = None;
        while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
            if name == "tcptype" {
                tcp_type = Some(value.to_owned());
            }
        }
        Some(Candidate {
            foundation,
            protocol,
            priority,
            address,
            port,
            candidate_type,
            tcp_type,
        })
    }

    fn id(&self) -> String {
        format!(
            "RTCRemoteIceCandidate_{}_{}_{}_{}",
            self.foundation, self.protocol, self.address, self.port
        )
    }

    fn ip(&self) -> Option<IpAddr> {
        self.address.parse().ok()
    }
}

/// The candidates and username fragment of the last remote description.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct RemoteCandidates {
    username_fragment: String,
    candidates: Vec<Candidate>,
}

impl RemoteCandidates {
    /// The candidates of `sdp` (a bundle repeats them in every section: each is kept once) and
    /// its first `a=ice-ufrag`.
    pub fn from_sdp(sdp: &str) -> Self {
        let mut remote = RemoteCandidates::default();
        for line in sdp.lines() {
            if let Some(value) = line.strip_prefix("a=candidate:") {
                if let Some(c) = Candidate::parse(value) {
                    if !remote.candidates.contains(&c) {
                        remote.candidates.push(c);
                    }
                }
            } else if let Some(ufrag) = line.strip_prefix("a=ice-ufrag:") {
                if remote.username_fragment.is_empty() {
                    remote.username_fragment = ufrag.trim().to_owned();
                }
            }
        }
        remote
    }

    /// Adds an entry per candidate to `entries` (stats as JSON; the entries take the
    /// transport entry's `timestamp`, else `timestamp`, in ms) and makes
    /// each candidate pair whose `remoteCandidateId` names no entry name its candidate's: the
    /// one of its local candidate's protocol and address family, or, of several, the one at
    /// `peer` (where the selected pair's datagrams come from) for the selected pair.
    pub fn add_to(&self, entries: &mut Vec<Value>, timestamp: f64, peer: Option<SocketAddr>) {
        if self.candidates.is_empty() {
            return;
        }
        let Some(transport) = entries.iter().find(|e| e["type"] == "transport") else {
            return;
        };
        let transport_id = transport["id"].clone();
        let timestamp = transport["timestamp"].as_f64().unwrap_or(timestamp);
        let selected = transport["selectedCandidatePairId"].clone();
        let known = |entries: &[Value], id: &Value| entries.iter().any(|e| e["id"] == *id);
        for index in 0..entries.len() {
            let pair = &entries[index];
            if pair["type"] != "candidate-pair" || known(entries, &pair["remoteCandidateId"]) {
                continue;
            }
            let local = entries
                .iter()
                .find(|e| e["type"] == "local-candidate" && e["id"] == pair["localCandidateId"]);
            let Some(local) = local else {
                continue;
            };
            let family = local["address"]
                .as_str()
                .and_then(|a| a.parse::<IpAddr>().ok())
                .map(|ip| ip.is_ipv4());
            let protocol = local["protocol"]
                .as_str()
                .unwrap_or("udp")
                .to_ascii_lowercase();
            let mut fitting = self
                .candidates
                .iter()
                .filter(|c| c.protocol == protocol && c.ip().map(|ip| ip.is_ipv4()) == family);
            let chosen = match (fitting.next(), fitting.next()) {
                (Some(only), None) => Some(only),
                (Some(_), Some(_)) if pair["id"] == selected => peer.and_then(|peer| {
                    self.candidates.iter().find(|c| {
                        c.protocol == protocol && c.ip() == Some(peer.ip()) && c.port == peer.port()
                    })
                }),
                _ => None,
            };
            if let Some(candidate) = chosen {
                entries[index]["remoteCandidateId"] = Value::from(candidate.id());
            }
        }
        for c in &self.candidates {
            let id = Value::from(c.id());
            if known(entries, &id) {
                continue;
            }
            let mut entry = json!({
                "id": id,
                "type": "remote-candidate",
                "timestamp": timestamp,
                "transportId": transport_id,
                "address": c.address,
                "port": c.port,
                "protocol": c.protocol,
                "candidateType": c.candidate_type,
                "priority": c.priority,
                "foundation": c.foundation,
                "usernameFragment": self.username_fragment,
            });
            if let Some(tcp_type) = &c.tcp_type {
                entry["tcpType"] = Value::from(tcp_type.as_str());
            }
            entries.push(entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDP: &str = "v=0\r\n\
        a=ice-ufrag:server1\r\n\
        m=video 7 UDP/TLS/RTP/SAVPF 96\r\n\
        a=candidate:udp4 1 udp 1076302079 127.0.0.1 40000 typ host\r\n\
        a=candidate:udp6 1 udp 1076302078 ::1 40002 typ host\r\n\
        a=candidate:tcp4 1 tcp 1076276479 127.0.0.1 40001 typ host tcptype passive\r\n\
        a=end-of-candidates\r\n\
        m=audio 7 UDP/TLS/RTP/SAVPF 111\r\n\
        a=ice-ufrag:server1\r\n\
        a=candidate:udp4 1 udp 1076302079 127.0.0.1 40000 typ host\r\n";

    fn entries() -> Vec<Value> {
        vec![
            json!({ "id": "T", "type": "transport", "selectedCandidatePairId": "P4", "timestamp": 5.0 }),
            json!({ "id": "P4", "type": "candidate-pair", "localCandidateId": "L4",
                    "remoteCandidateId": "candidate:x" }),
            json!({ "id": "P6", "type": "candidate-pair", "localCandidateId": "L6",
                    "remoteCandidateId": "candidate:y" }),
            json!({ "id": "L4", "type": "local-candidate", "address": "127.0.0.1", "protocol": "udp" }),
            json!({ "id": "L6", "type": "local-candidate", "address": "::1", "protocol": "udp" }),
        ]
    }

    #[test]
    fn each_candidate_once_as_an_entry_and_each_pair_names_its_own() {
        let remote = RemoteCandidates::from_sdp(SDP);
        assert_eq!(remote.candidates.len(), 3);
        let mut stats = entries();
        remote.add_to(&mut stats, 1000.0, None);
        let candidates: Vec<&Value> = stats
            .iter()
            .filter(|e| e["type"] == "remote-candidate")
            .collect();
        assert_eq!(candidates.len(), 3);
        let tcp = candidates.iter().find(|c| c["protocol"] == "tcp").unwrap();
        assert_eq!(tcp["port"], 40001);
        assert_eq!(tcp["tcpType"], "passive");
        assert_eq!(tcp["usernameFragment"], "server1");
        assert_eq!(tcp["transportId"], "T");
        assert_eq!(tcp["timestamp"], 5.0);
        assert_eq!(tcp["priority"], 1076276479u64);
        let named = |pair: usize| {
            let id = &stats[pair]["remoteCandidateId"];
            stats.iter().find(|e| e["id"] == *id).cloned().unwrap()
        };
        assert_eq!(named(1)["address"], "127.0.0.1");
        assert_eq!(named(1)["protocol"], "udp");
        assert_eq!(named(2)["address"], "::1");
    }

    #[test]
    fn of_several_the_selected_pair_names_the_one_its_datagrams_come_from() {
        let sdp = "a=ice-ufrag:s\r\n\
            a=candidate:a 1 udp 2 127.0.0.1 40000 typ host\r\n\
            a=candidate:b 1 udp 1 127.0.0.2 40010 typ host\r\n";
        let remote = RemoteCandidates::from_sdp(sdp);
        let mut stats = entries();
        remote.add_to(&mut stats, 1000.0, Some("127.0.0.2:40010".parse().unwrap()));
        let id = stats[1]["remoteCandidateId"].as_str().unwrap().to_owned();
        assert!(id.contains("127.0.0.2_40010"), "{id}");
        // not knowing where from: left as webrtc-rs gave it
        let mut unknown = entries();
        remote.add_to(&mut unknown, 1000.0, None);
        assert_eq!(unknown[1]["remoteCandidateId"], "candidate:x");
        // no IPv6 candidate: the IPv6 pair is left as it was
        assert_eq!(unknown[2]["remoteCandidateId"], "candidate:y");
    }

    #[test]
    fn a_line_that_is_not_a_candidate_is_skipped() {
        let remote = RemoteCandidates::from_sdp(
            "a=candidate:a 1 udp notanumber 127.0.0.1 40000 typ host\r\n\
             a=candidate:b 1 udp 1 127.0.0.1 40000 host\r\n",
        );
        assert_eq!(remote, RemoteCandidates::default());
        let mut stats = entries();
        remote.add_to(&mut stats, 1000.0, None);
        assert_eq!(stats, entries());
    }
}
