//! Connection events of a handler, whichever driver produces them: the connection state for the
//! client (callback and watch), the count of ICE `connected` transitions, and timing traces.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::watch;
use webrtc::peer_connection::{RTCIceConnectionState, RTCPeerConnectionState};

pub(crate) type StateCallback = Arc<dyn Fn(&'static str) + Send + Sync>;

/// The names `transport.connectionState` uses.
fn state_name(state: RTCPeerConnectionState) -> &'static str {
    match state {
        RTCPeerConnectionState::Connecting => "connecting",
        RTCPeerConnectionState::Connected => "connected",
        RTCPeerConnectionState::Disconnected => "disconnected",
        RTCPeerConnectionState::Failed => "failed",
        RTCPeerConnectionState::Closed => "closed",
        _ => "new",
    }
}

pub(crate) struct Events {
    pub(crate) callback: Mutex<Option<StateCallback>>,
    pub(crate) state: watch::Sender<&'static str>,
    created: Instant,
    ice_connected_at: Mutex<Option<Instant>>,
    /// How many times ICE reached `connected` (initially, and after each restart).
    pub(crate) ice_connected: watch::Sender<u32>,
}

impl Events {
    pub(crate) fn new() -> Self {
        Self {
            callback: Mutex::new(None),
            state: watch::Sender::new("new"),
            created: Instant::now(),
            ice_connected_at: Mutex::new(None),
            ice_connected: watch::Sender::new(0),
        }
    }

    pub(crate) fn ice_state(&self, state: RTCIceConnectionState) {
        tracing::debug!(%state, since_created = ?self.created.elapsed(), "ICE connection state");
        if state == RTCIceConnectionState::Connected {
            if let Ok(mut at) = self.ice_connected_at.lock() {
                *at = Some(Instant::now());
            }
            self.ice_connected.send_modify(|n| *n += 1);
        }
    }

    /// Publishes a connection state and calls the client's callback (never with a lock of the
    /// driver held).
    pub(crate) fn connection_state(&self, state: RTCPeerConnectionState) {
        let name = state_name(state);
        let after_ice = self
            .ice_connected_at
            .lock()
            .ok()
            .and_then(|at| at.map(|at| at.elapsed()));
        tracing::debug!(state = name, ?after_ice, "connection state");
        if *self.state.borrow() == "closed" {
            return;
        }
        self.state.send_replace(name);
        let callback = self.callback.lock().ok().and_then(|c| c.clone());
        if let Some(callback) = callback {
            callback(name);
        }
    }

    /// A local `close()`: the state becomes `closed` without a callback (the client closed it).
    pub(crate) fn closed(&self) {
        self.state.send_replace("closed");
    }
}
