//! The one interceptor of the receive direction, below webrtc-rs' NACK generator:
//! - retransmissions back into their stream (`rtx_unwrap.rs`), so that the interceptors above
//!   see the repaired packets;
//! - the server's sender reports (SSRC, NTP time, RTP time) to the connection's routes:
//!   webrtc-rs ends inbound RTCP inside its interceptor chain.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use rtc::interceptor::{Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::sender_report::SenderReport;
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

use super::routes::Routes;
use super::rtx_unwrap::RtxStreams;

/// Passes every packet on, a retransmission unwrapped; a sender report is also given to the
/// routes (called under the connection's lock: [`Routes::sender_report`] only stores it).
pub(crate) struct ReceiveInterceptor {
    routes: Arc<Routes>,
    rtx: RtxStreams,
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
}

impl ReceiveInterceptor {
    pub(crate) fn new(routes: Arc<Routes>) -> Self {
        ReceiveInterceptor {
            routes,
            rtx: RtxStreams::default(),
            read_queue: VecDeque::new(),
            write_queue: VecDeque::new(),
        }
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for ReceiveInterceptor {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtp(packet) = &mut msg.message.packet {
            self.rtx.unwrap(packet);
        } else if let Packet::Rtcp(packets) = &msg.message.packet {
            for packet in packets {
                if let Some(sr) = packet.as_any().downcast_ref::<SenderReport>() {
                    self.routes
                        .sender_report(msg.now, sr.ssrc, sr.ntp_time, sr.rtp_time);
                }
            }
        }
        self.read_queue.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read_queue.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.write_queue.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.write_queue.pop_front()
    }
}

impl Interceptor for ReceiveInterceptor {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}

    fn bind_remote_stream(&mut self, info: &StreamInfo) {
        self.rtx.bind(info);
    }

    fn unbind_remote_stream(&mut self, info: &StreamInfo) {
        self.rtx.unbind(info);
    }
}
