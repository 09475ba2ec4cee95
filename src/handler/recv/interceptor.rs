//! The receive direction's interceptor in webrtc-rs' chain: the packets the core reads go
//! through the connection's feedback (`feedback.rs`; retransmissions unwrapped on the way),
//! the server's sender reports to it and to the routes, and what the feedback has to send at
//! its times goes out through the core, until the connection writes it itself
//! (`Inbound::take_over_rtcp`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use rtc::interceptor::{AttributedPacket, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::sender_report::SenderReport;
use rtc::sansio::Protocol;
use rtc::shared::error::Error;
use rtc::shared::TransportContext;

use super::routes::Routes;

/// Called under the connection's lock: [`Routes::sender_report`] only stores, and the
/// feedback's lock is held briefly, never while the connection's is taken.
pub(crate) struct ReceiveInterceptor {
    routes: Arc<Routes>,
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
}

impl ReceiveInterceptor {
    pub(crate) fn new(routes: Arc<Routes>) -> Self {
        ReceiveInterceptor {
            routes,
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
            self.routes.feedback().packet(msg.now, packet);
        } else if let Packet::Rtcp(packets) = &msg.message.packet {
            for packet in packets {
                if let Some(sr) = packet.as_any().downcast_ref::<SenderReport>() {
                    self.routes.sender_report(msg.now, sr);
                }
            }
        }
        self.read_queue.push_back(msg);
        Ok(())
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Self::Error> {
        let mut feedback = self.routes.feedback();
        if feedback.by_connection() {
            return Ok(());
        }
        let due = feedback.timeout(now);
        drop(feedback);
        for packet in due {
            self.write_queue.push_back(TaggedPacket {
                now,
                transport: TransportContext::default(),
                message: AttributedPacket::new(Packet::Rtcp(vec![packet])),
            });
        }
        Ok(())
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        let feedback = self.routes.feedback();
        (!feedback.by_connection())
            .then(|| feedback.next_timeout())
            .flatten()
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

    // The feedback knows the streams from their consumers' parameters, before any packet
    // (`Routes::add`): the core's bindings, made on a stream's first packet and never undone
    // for a reused section, are not needed.
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}

    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
