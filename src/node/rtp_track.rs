//! #[napi] RTP ingest: thin glue over msc_media::RtpIngest (lib/RtpTrack.js is its JS face).

use msc_media::{RtpIngest, RtpIngestOptions};
use napi_derive::napi;

use super::convert::kind_from_js;
use super::errors::{invalid_argument, to_js, Code};
use super::track::NativeTrack;

#[napi]
pub struct NativeRtpIngest {
    inner: RtpIngest,
}

/// Counters of an RTP track (numbers are exact up to 2^53).
#[napi(object)]
pub struct RtpTrackStats {
    pub packets_received: f64,
    pub bytes_received: f64,
    pub packets_forwarded: f64,
    pub packets_dropped: f64,
    pub senders: f64,
    pub rtcp_received: f64,
    pub pli_sent: f64,
    pub pli_unsent: f64,
    pub ssrc: Option<u32>,
    /// "address:port" of the current sender.
    pub sender: Option<String>,
}

/// Binds a UDP port for RTP from another tool and starts receiving.
#[napi(catch_unwind)]
pub fn create_rtp_ingest(
    kind: String,
    codec: String,
    address: String,
    port: u32,
    rtcp_port: Option<u32>,
) -> napi::Result<NativeRtpIngest, Code> {
    let kind = kind_from_js(&kind)?;
    let address = address
        .parse()
        .map_err(|_| invalid_argument(format!("invalid address {address:?}")))?;
    let port = u16::try_from(port).map_err(|_| invalid_argument("invalid port"))?;
    let rtcp_port = rtcp_port
        .map(u16::try_from)
        .transpose()
        .map_err(|_| invalid_argument("invalid rtcpPort"))?;
    let (inner, task) = RtpIngest::bind(RtpIngestOptions {
        kind,
        mime_type: codec,
        address,
        port,
        rtcp_port,
    })
    .map_err(to_js)?;
    napi::bindgen_prelude::spawn(task);
    Ok(NativeRtpIngest { inner })
}

#[napi]
impl NativeRtpIngest {
    /// The track the packets feed (a new JS wrapper of the same track at each call).
    #[napi]
    pub fn track(&self) -> NativeTrack {
        NativeTrack::from_inner(self.inner.track())
    }

    #[napi(getter)]
    pub fn port(&self) -> u32 {
        u32::from(self.inner.local_addr().port())
    }

    #[napi(getter)]
    pub fn address(&self) -> String {
        self.inner.local_addr().ip().to_string()
    }

    #[napi(getter)]
    pub fn codec(&self) -> String {
        self.inner.track().codec().unwrap_or_default().to_string()
    }

    #[napi]
    pub fn stats(&self) -> RtpTrackStats {
        let s = self.inner.stats();
        RtpTrackStats {
            packets_received: s.packets_received as f64,
            bytes_received: s.bytes_received as f64,
            packets_forwarded: s.packets_forwarded as f64,
            packets_dropped: s.packets_dropped as f64,
            senders: s.senders as f64,
            rtcp_received: s.rtcp_received as f64,
            pli_sent: s.pli_sent as f64,
            pli_unsent: s.pli_unsent as f64,
            ssrc: s.ssrc,
            sender: s.sender.map(|a| a.to_string()),
        }
    }
}
