//! Local ICE candidates of the direct driver: which addresses to bind (host candidates), and
//! server-reflexive candidates learnt from STUN servers (one Binding request per local socket
//! and server, sans-IO: the driver moves the datagrams).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use rtc::ice::candidate::CandidateConfig;
use rtc::ice::url::{SchemeType, Url as IceUrl};
use rtc::peer_connection::transport::{
    CandidateHostConfig, CandidateServerReflexiveConfig, RTCIceCandidate, RTCIceCandidateInit,
};
use rtc::sansio::Protocol;
use rtc::shared::{FourTuple, TaggedBytesMut, TransportProtocol};
use rtc::stun::agent::StunEvent;
use rtc::stun::client::{Client as StunClient, ClientBuilder, TaggedMessage};
use rtc::stun::message::{Getter, Message, TransactionId, BINDING_REQUEST};
use rtc::stun::xoraddr::XorMappedAddress;

use crate::options::{IceServer, LocalAddresses};

/// The addresses to bind one UDP socket each, port 0. A wildcard becomes every usable interface
/// address of its family present now (not loopback, not link-local), as webrtc-rs does; with
/// none, the wildcard itself (no usable host candidate then, only server-reflexive ones).
/// Loopback is 127.0.0.1 and ::1 here (see [`LocalAddresses::socket_addrs`]).
pub(crate) fn bind_addrs(local: &LocalAddresses, have_servers: bool) -> Vec<SocketAddr> {
    let mut out: Vec<SocketAddr> = Vec::new();
    for addr in local.socket_addrs(have_servers, true) {
        let Ok(addr) = addr.parse::<SocketAddr>() else {
            continue;
        };
        if !addr.ip().is_unspecified() {
            if !out.contains(&addr) {
                out.push(addr);
            }
            continue;
        }
        let before = out.len();
        for interface in rtc::shared::ifaces::ifaces().unwrap_or_default() {
            let Some(ip) = interface.addr.map(|a| a.ip()) else {
                continue;
            };
            let usable = ip.is_ipv4() == addr.is_ipv4()
                && !ip.is_loopback()
                && !ip.is_unspecified()
                && !is_link_local(&ip);
            let candidate = SocketAddr::new(ip, 0);
            if usable && !out.contains(&candidate) {
                out.push(candidate);
            }
        }
        if out.len() == before {
            out.push(addr);
        }
    }
    out
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// The host candidate of a bound socket (none for a wildcard address).
pub(crate) fn host_candidate(local: SocketAddr) -> Option<RTCIceCandidateInit> {
    if local.ip().is_unspecified() {
        return None;
    }
    let candidate = CandidateHostConfig {
        base_config: CandidateConfig {
            network: "udp".to_owned(),
            address: local.ip().to_string(),
            port: local.port(),
            component: 1,
            ..Default::default()
        },
        ..Default::default()
    }
    .new_candidate_host()
    .ok()?;
    RTCIceCandidate::from(&candidate).to_json().ok()
}

/// The addresses of the `stun:` servers among `servers` (`stuns:` and TURN are not gathered
/// here), host names resolved now.
pub(crate) async fn stun_server_addrs(servers: &[IceServer]) -> Vec<SocketAddr> {
    let mut out = Vec::new();
    for url in servers.iter().flat_map(|s| s.urls.iter()) {
        let plain = url.split('?').next().unwrap_or(url);
        let Ok(url) = IceUrl::parse_url(plain) else {
            continue;
        };
        if url.scheme != SchemeType::Stun {
            continue;
        }
        let host = if url.host.contains(':') {
            format!("[{}]:{}", url.host, url.port)
        } else {
            format!("{}:{}", url.host, url.port)
        };
        let resolved = tokio::net::lookup_host(host.as_str()).await;
        match resolved {
            Ok(addrs) => out.extend(addrs),
            Err(err) => tracing::debug!(%host, %err, "STUN server not resolved"),
        }
    }
    out
}

/// Binding requests in flight, one per (local socket, STUN server) of the same family.
#[derive(Default)]
pub(crate) struct Srflx {
    clients: HashMap<FourTuple, StunClient>,
}

impl Srflx {
    /// Sends (queues) a Binding request from each local address to each server of its family.
    /// Requests of an earlier gathering still unanswered are abandoned: a new gathering (an
    /// ICE restart) asks the servers configured now.
    pub(crate) fn start(&mut self, now: Instant, locals: &[SocketAddr], servers: &[SocketAddr]) {
        for (_, mut client) in self.clients.drain() {
            let _ = client.close();
        }
        for &local in locals {
            for &server in servers.iter().filter(|s| s.is_ipv4() == local.is_ipv4()) {
                let four_tuple = FourTuple {
                    local_addr: local,
                    peer_addr: server,
                };
                let started = ClientBuilder::new()
                    .build(now, local, server, TransportProtocol::UDP)
                    .and_then(|mut client| {
                        let mut msg = Message::new();
                        msg.build(&[Box::new(TransactionId::new()), Box::new(BINDING_REQUEST)])?;
                        client.handle_write(TaggedMessage { now, message: msg })?;
                        Ok(client)
                    });
                match started {
                    Ok(client) => {
                        self.clients.insert(four_tuple, client);
                    }
                    Err(err) => tracing::debug!(%local, %server, %err, "STUN request not sent"),
                }
            }
        }
    }

    /// Whether a datagram from `peer` to `local` answers one of our requests.
    pub(crate) fn owns(&self, local: SocketAddr, peer: SocketAddr) -> bool {
        self.clients.contains_key(&FourTuple {
            local_addr: local,
            peer_addr: peer,
        })
    }

    /// A datagram that [`owns`](Self::owns) said is ours.
    pub(crate) fn handle_read(&mut self, datagram: TaggedBytesMut) {
        let four_tuple = FourTuple::from(&datagram.transport);
        if let Some(client) = self.clients.get_mut(&four_tuple) {
            let _ = client.handle_read(datagram);
        }
    }

    /// Datagrams to send.
    pub(crate) fn poll_write(&mut self) -> Option<TaggedBytesMut> {
        self.clients.values_mut().find_map(|c| c.poll_write())
    }

    /// The server-reflexive candidates learnt since the last call; finished requests (answered
    /// or timed out) are dropped.
    pub(crate) fn poll_candidates(&mut self) -> Vec<RTCIceCandidateInit> {
        let mut found = Vec::new();
        self.clients.retain(|four_tuple, client| {
            let mut done = false;
            while let Some(event) = client.poll_event() {
                done = true;
                match event {
                    StunEvent::Message(msg) => found.extend(reflexive(&msg, four_tuple)),
                    other => tracing::debug!(
                        local = %four_tuple.local_addr,
                        server = %four_tuple.peer_addr,
                        ?other,
                        "STUN request ended without an answer"
                    ),
                }
            }
            if done {
                let _ = client.close();
            }
            !done
        });
        found
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        for client in self.clients.values_mut() {
            let _ = client.handle_timeout(now);
        }
    }

    pub(crate) fn poll_timeout(&mut self) -> Option<Instant> {
        self.clients
            .values_mut()
            .filter_map(|c| c.poll_timeout())
            .min()
    }
}

fn reflexive(msg: &Message, four_tuple: &FourTuple) -> Option<RTCIceCandidateInit> {
    let mut mapped = XorMappedAddress::default();
    mapped.get_from(msg).ok()?;
    let candidate = CandidateServerReflexiveConfig {
        base_config: CandidateConfig {
            network: "udp".to_owned(),
            address: mapped.ip.to_string(),
            port: mapped.port,
            component: 1,
            ..Default::default()
        },
        rel_addr: four_tuple.local_addr.ip().to_string(),
        rel_port: four_tuple.local_addr.port(),
        ..Default::default()
    }
    .new_candidate_server_reflexive()
    .ok()?;
    RTCIceCandidate::from(&candidate).to_json().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::direct::udp_datagram as datagram;
    use rtc::stun::message::BINDING_SUCCESS;

    #[test]
    fn a_binding_answer_gives_a_server_reflexive_candidate() {
        let now = Instant::now();
        let local: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let server: SocketAddr = "127.0.0.1:3478".parse().unwrap();
        let v6: SocketAddr = "[::1]:3478".parse().unwrap();
        let mut srflx = Srflx::default();
        srflx.start(now, &[local], &[server, v6]);
        assert!(srflx.owns(local, server));
        assert!(!srflx.owns(local, v6), "no request across address families");

        let out = srflx.poll_write().expect("a Binding request");
        assert_eq!(out.transport.peer_addr, server);
        assert!(srflx.poll_write().is_none());
        let mut request = Message::new();
        request.unmarshal_binary(&out.message).unwrap();
        assert_eq!(request.typ, BINDING_REQUEST);
        assert!(srflx.poll_candidates().is_empty(), "no answer yet");
        assert!(srflx.poll_timeout().is_some(), "retransmits until answered");

        // the server saw us at 127.0.0.1:51000
        let mut answer = Message::new();
        answer
            .build(&[
                Box::new(request.transaction_id),
                Box::new(BINDING_SUCCESS),
                Box::new(XorMappedAddress {
                    ip: "127.0.0.1".parse().unwrap(),
                    port: 51000,
                }),
            ])
            .unwrap();
        srflx.handle_read(datagram(now, local, server, &answer.raw));
        let candidates = srflx.poll_candidates();
        assert_eq!(candidates.len(), 1, "{candidates:?}");
        let c = &candidates[0].candidate;
        assert!(
            c.contains("typ srflx") && c.contains("127.0.0.1 51000"),
            "{c}"
        );
        assert!(c.contains("raddr 127.0.0.1 rport 40000"), "{c}");
        assert!(!srflx.owns(local, server), "the request is over");

        // a new gathering is a new transaction (a random id, not the zeros of a default one)
        srflx.start(now, &[local], &[server]);
        let mut again = Message::new();
        again
            .unmarshal_binary(&srflx.poll_write().unwrap().message)
            .unwrap();
        assert_ne!(again.transaction_id, request.transaction_id);
        assert_ne!(again.transaction_id.0, [0u8; 12]);
    }
}
