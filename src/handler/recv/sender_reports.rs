//! The server's sender reports, to the consumers: webrtc-rs ends inbound RTCP inside its
//! interceptor chain, so this interceptor of the receive chain takes each sender report
//! (SSRC, NTP time, RTP time) to the connection's routes as it passes.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use rtc::interceptor::{Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::sender_report::SenderReport;
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

use super::routes::Routes;

/// Passes every packet on, unchanged; a sender report is also given to the routes (called
/// under the connection's lock: [`Routes::sender_report`] only stores it).
pub(crate) struct SenderReportTap {
    routes: Arc<Routes>,
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
}

impl SenderReportTap {
    pub(crate) fn new(routes: Arc<Routes>) -> Self {
        SenderReportTap {
            routes,
            read_queue: VecDeque::new(),
            write_queue: VecDeque::new(),
        }
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for SenderReportTap {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
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

impl Interceptor for SenderReportTap {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
