//! Device: what this client can send and receive, matched against a router's capabilities.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use msc_ortc::{
    extended::{
        can_send, get_extended_rtp_capabilities, get_recv_rtp_capabilities, ExtendedRtpCapabilities,
    },
    validate::validate_rtp_capabilities,
    MediaKind, NumSctpStreams, RtpCapabilities, SctpCapabilities,
};
use serde_json::Value;

use crate::error::{Error, Result};

/// SCTP streams a data channel association offers (mediasoup-client's defaults).
const SCTP_NUM_STREAMS: NumSctpStreams = NumSctpStreams {
    os: 1024,
    mis: 1024,
};

/// The result of `load()`: everything later calls read, shared with the transports.
#[derive(Debug)]
pub struct Loaded {
    /// The codecs and header extensions both this device and the router support, with the
    /// payload types of each side: what every send and receive parameter is derived from.
    pub extended: ExtendedRtpCapabilities,
    /// What this device can receive (`device.rtpCapabilities`).
    pub recv_rtp_capabilities: RtpCapabilities,
    /// At least one audio codec is common to this device and the router.
    pub can_produce_audio: bool,
    /// At least one video codec is common to this device and the router.
    pub can_produce_video: bool,
}

/// A device is loaded once and never changes after: every call but `load` reads it without
/// locking, so a device can be shared by any number of transports and threads.
#[derive(Debug, Default)]
pub struct Device {
    loaded: OnceLock<Arc<Loaded>>,
    loading: AtomicBool,
}

impl Device {
    /// A device not loaded yet: every call but [`Device::load`] is an InvalidStateError until
    /// it is.
    pub fn new() -> Self {
        Device::default()
    }

    /// Loads the router's RTP capabilities (mediasoup's `router.rtpCapabilities` JSON).
    /// A second call, even while the first is still running, is an InvalidStateError; a
    /// failed load can be tried again.
    pub async fn load(&self, router_rtp_capabilities: Value) -> Result<()> {
        if self.loaded.get().is_some() || self.loading.swap(true, Ordering::AcqRel) {
            return Err(Error::invalid_state("already loaded"));
        }
        let result = compute_loaded(router_rtp_capabilities).await;
        match result {
            Ok(loaded) => {
                let _ = self.loaded.set(Arc::new(loaded));
                Ok(())
            }
            Err(e) => {
                self.loading.store(false, Ordering::Release);
                Err(e)
            }
        }
    }

    /// Whether [`Device::load`] has succeeded (`device.loaded`).
    pub fn loaded(&self) -> bool {
        self.loaded.get().is_some()
    }

    /// The loaded state, or the InvalidStateError every call before `load()` gets.
    pub fn state(&self) -> Result<Arc<Loaded>> {
        self.loaded
            .get()
            .cloned()
            .ok_or_else(|| Error::invalid_state("not loaded"))
    }

    /// What this device can receive from the router (to send to the server for consumers).
    pub fn rtp_capabilities(&self) -> Result<RtpCapabilities> {
        Ok(self.state()?.recv_rtp_capabilities.clone())
    }

    /// The SCTP capabilities to send to the server for a data-channel transport: 1024 outgoing
    /// and incoming streams, as mediasoup-client announces. InvalidStateError before `load()`.
    pub fn sctp_capabilities(&self) -> Result<SctpCapabilities> {
        self.state()?;
        Ok(SctpCapabilities {
            num_streams: SCTP_NUM_STREAMS,
        })
    }

    /// Whether a producer of this kind can be created (`device.canProduce(kind)`): true when
    /// the router and this device share a codec of that kind. InvalidStateError before
    /// `load()`.
    pub fn can_produce(&self, kind: MediaKind) -> Result<bool> {
        let loaded = self.state()?;
        Ok(match kind {
            MediaKind::Audio => loaded.can_produce_audio,
            MediaKind::Video => loaded.can_produce_video,
        })
    }
}

async fn compute_loaded(router_rtp_capabilities: Value) -> Result<Loaded> {
    let mut router_caps = router_rtp_capabilities;
    let router_caps = validate_rtp_capabilities(&mut router_caps)?;
    let native = native_rtp_capabilities().await?;
    let extended = get_extended_rtp_capabilities(&native, &router_caps)?;
    let recv_rtp_capabilities = get_recv_rtp_capabilities(&extended);
    Ok(Loaded {
        can_produce_audio: can_send(MediaKind::Audio, &extended),
        can_produce_video: can_send(MediaKind::Video, &extended),
        extended,
        recv_rtp_capabilities,
    })
}

/// What webrtc-rs can send here: the capabilities in the offer of a throwaway PeerConnection.
/// They are the same for every device of the process, so they are computed once.
async fn native_rtp_capabilities() -> Result<RtpCapabilities> {
    static NATIVE: tokio::sync::OnceCell<RtpCapabilities> = tokio::sync::OnceCell::const_new();
    NATIVE
        .get_or_try_init(compute_native_rtp_capabilities)
        .await
        .cloned()
}

async fn compute_native_rtp_capabilities() -> Result<RtpCapabilities> {
    let sdp = msc_handler::native_offer_sdp()
        .await
        .map_err(|e| Error::other(format!("cannot create the native offer: {e}")))?;
    let parsed =
        msc_sdp::parse_sdp(&sdp).map_err(|e| Error::other(format!("bad native offer: {e}")))?;
    let caps = msc_sdp::extract_rtp_capabilities(&parsed);
    // normalize through the same validation a router's capabilities get
    let mut value = serde_json::to_value(&caps).map_err(|e| Error::other(e.to_string()))?;
    Ok(validate_rtp_capabilities(&mut value)?)
}
