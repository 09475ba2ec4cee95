//! What a wrapping interceptor passes to the interceptor it wraps unchanged.

/// The methods of `Protocol<TaggedPacket, TaggedPacket, ()>` that a wrapping interceptor (its
/// interceptor in a field `inner`) passes through unchanged: everything but `handle_read`,
/// `handle_timeout` and `poll_timeout`, and the associated types.
macro_rules! pass_through_protocol {
    () => {
        type Rout = TaggedPacket;
        type Wout = TaggedPacket;
        type Eout = ();
        type Error = Error;
        type Time = Instant;

        fn poll_read(&mut self) -> Option<TaggedPacket> {
            self.inner.poll_read()
        }

        fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Error> {
            self.inner.handle_write(msg)
        }

        fn poll_write(&mut self) -> Option<TaggedPacket> {
            self.inner.poll_write()
        }

        fn handle_event(&mut self, evt: ()) -> Result<(), Error> {
            self.inner.handle_event(evt)
        }

        fn poll_event(&mut self) -> Option<()> {
            self.inner.poll_event()
        }

        fn close(&mut self) -> Result<(), Error> {
            self.inner.close()
        }
    };
}

/// The local stream methods of `Interceptor`, passed through unchanged (the receive direction
/// wraps only what it does with remote streams).
macro_rules! pass_through_local_streams {
    () => {
        fn bind_local_stream(&mut self, info: &StreamInfo) {
            self.inner.bind_local_stream(info);
        }

        fn unbind_local_stream(&mut self, info: &StreamInfo) {
            self.inner.unbind_local_stream(info);
        }
    };
}
