//! The streams of closed consumers, forgotten by the receive interceptor.
//!
//! webrtc-rs binds a stream in the interceptors for each SSRC it receives and unbinds it only
//! when its transceiver stops, which a reused section never does: the interceptor would keep
//! the state of every SSRC ever received, and report them all every second. It is wrapped in
//! a [`Forgetting`], which unbinds the streams of the SSRCs the handler retires (a closed
//! consumer's) and refuses to bind them again (webrtc-rs binds a receiver's streams anew at
//! each negotiation).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rtc::interceptor::{Interceptor, StreamInfo, TaggedPacket};
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

/// SSRCs retired since an interceptor last looked.
#[derive(Default)]
struct Inbox {
    pending: AtomicBool,
    ssrcs: Mutex<Vec<u32>>,
}

/// Where the handler retires SSRCs, for every [`Forgetting`] of its connection.
#[derive(Default)]
pub(crate) struct Retired {
    inboxes: Mutex<Vec<Arc<Inbox>>>,
}

impl Retired {
    /// `interceptor`, forgetting what is retired here from now on.
    pub(crate) fn wrap<I: Interceptor>(&self, interceptor: I) -> Forgetting<I> {
        let inbox = Arc::new(Inbox::default());
        if let Ok(mut inboxes) = self.inboxes.lock() {
            inboxes.push(inbox.clone());
        }
        Forgetting {
            inner: interceptor,
            inbox,
            bound: HashMap::new(),
            retired: HashSet::new(),
        }
    }

    /// The stream of `ssrc` is over (its consumer closed): every interceptor forgets it the
    /// next time it runs.
    pub(crate) fn retire(&self, ssrc: u32) {
        let Ok(inboxes) = self.inboxes.lock() else {
            return;
        };
        for inbox in inboxes.iter() {
            if let Ok(mut ssrcs) = inbox.ssrcs.lock() {
                ssrcs.push(ssrc);
            }
            inbox.pending.store(true, Ordering::Release);
        }
    }
}

/// An interceptor that unbinds the streams of retired SSRCs (see the module's text); everything
/// else is the inner interceptor's.
pub(crate) struct Forgetting<I> {
    inner: I,
    inbox: Arc<Inbox>,
    /// The streams bound in `inner`, by SSRC.
    bound: HashMap<u32, StreamInfo>,
    /// SSRCs never to bind again.
    retired: HashSet<u32>,
}

impl<I: Interceptor> Forgetting<I> {
    /// Unbinds what was retired since the last call (one atomic load when nothing was).
    fn forget(&mut self) {
        // a load first: the common case writes nothing
        if !self.inbox.pending.load(Ordering::Acquire)
            || !self.inbox.pending.swap(false, Ordering::AcqRel)
        {
            return;
        }
        let ssrcs = self
            .inbox
            .ssrcs
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default();
        for ssrc in ssrcs {
            self.retired.insert(ssrc);
            let Some(info) = self.bound.remove(&ssrc) else {
                continue;
            };
            self.inner.unbind_remote_stream(&info);
            // its repair streams (RTX, FEC) go with it: webrtc-rs binds them apart
            for repair in [info.ssrc_rtx, info.ssrc_fec].into_iter().flatten() {
                self.retired.insert(repair);
                if let Some(info) = self.bound.remove(&repair) {
                    self.inner.unbind_remote_stream(&info);
                }
            }
        }
        tracing::trace!(bound = self.bound.len(), "remote streams left bound");
    }
}

impl<I: Interceptor> Protocol<TaggedPacket, TaggedPacket, ()> for Forgetting<I> {
    pass_through_protocol!();

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Error> {
        self.forget();
        self.inner.handle_read(msg)
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        self.forget();
        self.inner.handle_timeout(now)
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.inner.poll_timeout()
    }
}

impl<I: Interceptor> Interceptor for Forgetting<I> {
    pass_through_local_streams!();

    fn bind_remote_stream(&mut self, info: &StreamInfo) {
        self.forget();
        if self.retired.contains(&info.ssrc) {
            return;
        }
        self.bound.insert(info.ssrc, info.clone());
        self.inner.bind_remote_stream(info);
    }

    fn unbind_remote_stream(&mut self, info: &StreamInfo) {
        self.bound.remove(&info.ssrc);
        self.inner.unbind_remote_stream(info);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the remote streams bound, and passes packets through.
    #[derive(Default)]
    struct Streams {
        bound: Vec<u32>,
        queue: std::collections::VecDeque<TaggedPacket>,
    }

    impl Protocol<TaggedPacket, TaggedPacket, ()> for Streams {
        type Rout = TaggedPacket;
        type Wout = TaggedPacket;
        type Eout = ();
        type Error = Error;
        type Time = Instant;
        fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Error> {
            self.queue.push_back(msg);
            Ok(())
        }
        fn poll_read(&mut self) -> Option<TaggedPacket> {
            self.queue.pop_front()
        }
        fn handle_write(&mut self, _msg: TaggedPacket) -> Result<(), Error> {
            Ok(())
        }
        fn poll_write(&mut self) -> Option<TaggedPacket> {
            None
        }
    }

    impl Interceptor for Streams {
        fn bind_local_stream(&mut self, _info: &StreamInfo) {}
        fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
        fn bind_remote_stream(&mut self, info: &StreamInfo) {
            self.bound.push(info.ssrc);
        }
        fn unbind_remote_stream(&mut self, info: &StreamInfo) {
            self.bound.retain(|s| *s != info.ssrc);
        }
    }

    fn stream(ssrc: u32) -> StreamInfo {
        StreamInfo {
            ssrc,
            ..Default::default()
        }
    }

    #[test]
    fn a_retired_stream_is_unbound_and_never_bound_again() {
        let retired = Retired::default();
        let mut first = retired.wrap(Streams::default());
        let mut second = retired.wrap(Streams::default());
        for f in [&mut first, &mut second] {
            f.bind_remote_stream(&stream(1));
            f.bind_remote_stream(&stream(2));
        }
        retired.retire(1);
        // nothing happens until an interceptor runs
        assert_eq!(first.inner.bound, [1, 2]);
        first.handle_timeout(Instant::now()).unwrap();
        assert_eq!(first.inner.bound, [2]);
        assert_eq!(second.inner.bound, [1, 2]);
        // a renegotiation binds the receivers' streams again: not the retired one
        second.bind_remote_stream(&stream(1));
        assert_eq!(second.inner.bound, [2]);
        first.bind_remote_stream(&stream(1));
        first.bind_remote_stream(&stream(3));
        assert_eq!(first.inner.bound, [2, 3]);
        // webrtc-rs' own unbind goes through
        first.unbind_remote_stream(&stream(2));
        assert_eq!(first.inner.bound, [3]);
        assert!(first.bound.keys().eq([3].iter()));

        // a stream's RTX stream, bound apart, goes with it
        first.bind_remote_stream(&StreamInfo {
            ssrc: 4,
            ssrc_rtx: Some(5),
            ..Default::default()
        });
        first.bind_remote_stream(&stream(5));
        retired.retire(4);
        first.handle_timeout(Instant::now()).unwrap();
        assert_eq!(first.inner.bound, [3]);
        first.bind_remote_stream(&stream(5));
        assert_eq!(first.inner.bound, [3]);
    }
}
