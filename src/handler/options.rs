//! What the client layer chooses for a connection: ICE servers, policy and local addresses.

use std::net::IpAddr;

/// A STUN or TURN server (W3C `RTCIceServer`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IceServer {
    /// `stun:`, `stuns:`, `turn:` or `turns:` URLs of this one server (host, optional port,
    /// optional `?transport=`); checked by [`validate_ice_servers`](crate::validate_ice_servers).
    pub urls: Vec<String>,
    /// TURN username; required for `turn:`/`turns:` URLs, ignored for STUN.
    pub username: Option<String>,
    /// TURN password (long-term credential); required for `turn:`/`turns:` URLs.
    pub credential: Option<String>,
}

/// Which local addresses the PeerConnection binds its UDP sockets to (one host candidate each).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum LocalAddresses {
    /// [`AllInterfaces`](Self::AllInterfaces) when ICE servers are given (STUN/TURN cannot be
    /// reached from loopback), else [`Loopback`](Self::Loopback). Safe by default: nothing
    /// listens beyond this machine unless asked. A client talking to a remote server without
    /// STUN/TURN must say so, e.g. with [`LocalAddresses::for_remote`].
    #[default]
    Auto,
    /// Loopback only: a mediasoup on the same machine, tests. 127.0.0.1, and ::1 too on the
    /// direct driver when the host has IPv6 (a server listening on ::1 is then reached).
    Loopback,
    /// Every non-loopback interface address present at bind time (and again at each ICE
    /// restart), as webrtc-rs expands the `0.0.0.0` wildcard.
    AllInterfaces,
    /// Exactly these addresses.
    Ips(Vec<IpAddr>),
}

impl LocalAddresses {
    /// The natural choice for a server announcing these ICE candidate addresses: loopback when
    /// all of them are loopback, every interface otherwise.
    pub fn for_remote(remote: impl IntoIterator<Item = IpAddr>) -> Self {
        let mut any = false;
        for ip in remote {
            any = true;
            if !ip.is_loopback() {
                return LocalAddresses::AllInterfaces;
            }
        }
        if any {
            LocalAddresses::Loopback
        } else {
            LocalAddresses::AllInterfaces
        }
    }

    /// The socket addresses to bind (port 0: ephemeral). Loopback is 127.0.0.1, and ::1 too
    /// when `ipv6_loopback` (the direct driver, which skips an address that does not bind;
    /// webrtc-rs' driver fails on one).
    pub(crate) fn socket_addrs(&self, have_ice_servers: bool, ipv6_loopback: bool) -> Vec<String> {
        match self {
            LocalAddresses::Auto if have_ice_servers => vec!["0.0.0.0:0".into()],
            LocalAddresses::Auto | LocalAddresses::Loopback if ipv6_loopback => {
                vec!["127.0.0.1:0".into(), "[::1]:0".into()]
            }
            LocalAddresses::Auto | LocalAddresses::Loopback => vec!["127.0.0.1:0".into()],
            LocalAddresses::AllInterfaces => vec!["0.0.0.0:0".into()],
            LocalAddresses::Ips(ips) => ips
                .iter()
                .map(|ip| std::net::SocketAddr::new(*ip, 0).to_string())
                .collect(),
        }
    }

    pub(crate) fn includes_loopback(&self, have_ice_servers: bool) -> bool {
        match self {
            LocalAddresses::Auto => !have_ice_servers,
            LocalAddresses::Loopback => true,
            LocalAddresses::AllInterfaces => false,
            LocalAddresses::Ips(ips) => ips.iter().any(|ip| ip.is_loopback()),
        }
    }
}

/// Options of a [`SendHandler`](crate::SendHandler) (the transport options that reach webrtc-rs).
#[derive(Debug, Clone, Default)]
pub struct HandlerOptions {
    /// STUN/TURN servers; none by default (mediasoup is ICE-lite with public candidates).
    pub ice_servers: Vec<IceServer>,
    /// `iceTransportPolicy: 'relay'`: only TURN relay candidates.
    pub ice_transport_policy_relay: bool,
    /// Local addresses to bind; see [`LocalAddresses`].
    pub local_addresses: LocalAddresses,
    /// The server enabled SCTP (its transport has `sctpParameters`): a send transport's first
    /// offer carries the data channel section, whether or not a channel exists then, because
    /// webrtc-rs starts SCTP only from the first negotiation.
    pub data_channels: bool,
}
