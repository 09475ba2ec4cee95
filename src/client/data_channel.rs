//! What a DataProducer and a DataConsumer share: one negotiated data channel of their
//! transport, its W3C ready state, and the way its messages and events reach the application.
//!
//! The connection reports a channel from the moment it exists, while the application's
//! listener comes later (once the JS object is made): until then events only move the ready
//! state, and received messages wait, in order, so that none is lost. Setting the listener
//! returns the state at that instant, under the same lock the reports take: an `open` is
//! either in that state or delivered to the listener, never neither.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::watch;

use bytes::BytesMut;
use msc_handler::{DataChannelId, DataEvent, DataSink, OutgoingMessage};

use crate::error::{Error, Result};
use crate::transport::Transport;

/// W3C `RTCDataChannel.readyState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyState {
    /// Waiting for the SCTP association.
    Connecting,
    /// Can send and receive.
    Open,
    /// Closed, here or by the server.
    Closed,
}

impl ReadyState {
    /// `connecting`, `open` or `closed`, as the W3C names them.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadyState::Connecting => "connecting",
            ReadyState::Open => "open",
            ReadyState::Closed => "closed",
        }
    }
}

/// What the application is told of a channel. Called on the connection's tasks, in order; it
/// must not block.
pub trait DataChannelListener: Send + Sync {
    /// A message received: text (UTF-8) or binary.
    fn message(&self, text: bool, data: BytesMut);
    /// An event: [`DataEvent::Open`], [`DataEvent::BufferedAmountLow`], [`DataEvent::Error`],
    /// or [`DataEvent::Closed`] when the channel closed by itself (the server reset its
    /// stream, or the transport went away); a close asked by the application is not reported.
    fn event(&self, event: DataEvent);
}

struct Reports {
    /// Closed (by the application, the transport or the server): the core's close events
    /// that follow are echoes, not reported.
    state: ReadyState,
    listener: Option<Arc<dyn DataChannelListener>>,
    /// Messages received before the listener was set, oldest first.
    waiting: Vec<(bool, BytesMut)>,
}

/// One channel of a transport, as its DataProducer or DataConsumer holds it.
pub struct DataChannel {
    transport: Weak<Transport>,
    channel: Mutex<Option<DataChannelId>>,
    reports: Arc<ChannelSink>,
    /// The transport was told the channel is gone.
    released: AtomicBool,
}

/// The channel's [`DataSink`]: what the connection reports, kept or passed on.
pub(crate) struct ChannelSink {
    reports: Mutex<Reports>,
    /// True once the channel is no longer connecting (open or closed).
    settled: watch::Sender<bool>,
}

impl ChannelSink {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(ChannelSink {
            reports: Mutex::new(Reports {
                state: ReadyState::Connecting,
                listener: None,
                waiting: Vec::new(),
            }),
            settled: watch::channel(false).0,
        })
    }

    fn lock(&self) -> Option<std::sync::MutexGuard<'_, Reports>> {
        self.reports.lock().ok()
    }

    fn set_open(&self) {
        if let Some(mut r) = self.lock() {
            if r.state == ReadyState::Connecting {
                r.state = ReadyState::Open;
            }
        }
        self.settled.send_replace(true);
    }

    /// The channel is closed for good, by the application or with its transport: the echo of
    /// the close is not reported, and the listener is let go.
    fn set_closed(&self) {
        if let Some(mut r) = self.lock() {
            r.state = ReadyState::Closed;
            r.waiting.clear();
            r.listener = None;
        }
        self.settled.send_replace(true);
    }
}

impl DataSink for ChannelSink {
    fn message(&self, text: bool, data: BytesMut) {
        let listener = {
            let Some(mut r) = self.lock() else { return };
            if r.state == ReadyState::Closed {
                return;
            }
            match &r.listener {
                Some(l) => l.clone(),
                None => {
                    r.waiting.push((text, data));
                    return;
                }
            }
        };
        listener.message(text, data);
    }

    fn event(&self, event: DataEvent) {
        self.report(event);
        if matches!(event, DataEvent::Open | DataEvent::Closed) {
            self.settled.send_replace(true);
        }
    }
}

impl ChannelSink {
    /// Moves the state for `event`, and tells the listener what it must hear of it.
    fn report(&self, event: DataEvent) {
        let listener = {
            let Some(mut r) = self.lock() else { return };
            match event {
                DataEvent::Open if r.state != ReadyState::Connecting => return,
                DataEvent::Open => r.state = ReadyState::Open,
                DataEvent::Closed => {
                    if r.state == ReadyState::Closed {
                        return;
                    }
                    r.state = ReadyState::Closed;
                    // the last report: the listener is let go with it
                    let last = r.listener.take();
                    drop(r);
                    if let Some(l) = last {
                        l.event(event);
                    }
                    return;
                }
                DataEvent::BufferedAmountLow | DataEvent::Error
                    if r.state == ReadyState::Closed =>
                {
                    return
                }
                _ => {}
            }
            r.listener.clone()
        };
        if let Some(l) = listener {
            l.event(event);
        }
    }
}

impl DataChannel {
    /// A channel of `transport` not created yet (see [`DataChannel::created`]).
    pub(crate) fn new(transport: Weak<Transport>, reports: Arc<ChannelSink>) -> Self {
        DataChannel {
            transport,
            channel: Mutex::new(None),
            reports,
            released: AtomicBool::new(false),
        }
    }

    /// The connection made the channel; `open`: it can send already.
    pub(crate) fn created(&self, channel: DataChannelId, open: bool) {
        if let Ok(mut c) = self.channel.lock() {
            *c = Some(channel);
        }
        if open {
            self.reports.set_open();
        }
    }

    fn id(&self) -> Option<DataChannelId> {
        self.channel.lock().ok().and_then(|c| *c)
    }

    /// The W3C ready state.
    pub fn ready_state(&self) -> ReadyState {
        self.reports.lock().map_or(ReadyState::Closed, |r| r.state)
    }

    /// Waits until the channel is no longer connecting: open (its SCTP association is up), or
    /// closed.
    pub async fn settled(&self) {
        let mut settled = self.reports.settled.subscribe();
        let _ = settled.wait_for(|s| *s).await;
    }

    /// Sets the application's listener: the messages received so far go to it first, in
    /// order. Returns the ready state at that instant (an `open` before it is not repeated).
    pub fn set_listener(&self, listener: Arc<dyn DataChannelListener>) -> ReadyState {
        let (state, waiting) = {
            let Some(mut r) = self.reports.lock() else {
                return ReadyState::Closed;
            };
            r.listener = Some(listener.clone());
            (r.state, std::mem::take(&mut r.waiting))
        };
        for (text, data) in waiting {
            listener.message(text, data);
        }
        state
    }

    /// Sends one message; returns the buffered amount after it. A closed channel or transport
    /// is InvalidStateError, as is a channel not open yet; a message larger than the maximum
    /// size is a TypeError.
    pub fn send(&self, message: OutgoingMessage) -> Result<usize> {
        let state = self.ready_state();
        if state != ReadyState::Open {
            return Err(Error::invalid_state(format!(
                "the data channel is {}",
                state.as_str()
            )));
        }
        let (transport, id) = self.parts()?;
        transport.data_send(id, message)
    }

    /// W3C `bufferedAmount`: bytes sent that SCTP has not released yet (0 once closed).
    pub fn buffered_amount(&self) -> usize {
        match self.parts() {
            Ok((transport, id)) if self.ready_state() != ReadyState::Closed => {
                transport.data_buffered_amount(id)
            }
            _ => 0,
        }
    }

    /// W3C `bufferedAmountLowThreshold`.
    pub fn set_buffered_amount_low_threshold(&self, threshold: u32) {
        if let Ok((transport, id)) = self.parts() {
            transport.data_set_low_threshold(id, threshold);
        }
    }

    /// Closes the channel (the application asked: no close event follows), or, after it closed
    /// by itself, lets the transport forget it. Idempotent.
    pub fn close(&self) {
        self.reports.set_closed();
        if self.released.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Ok((transport, id)) = self.parts() {
            transport.data_closed(id);
        }
    }

    /// The transport closed: the channel is closed, nothing is reported any more.
    pub(crate) fn transport_closed(&self) {
        self.reports.set_closed();
        self.released.store(true, Ordering::Release);
    }

    fn parts(&self) -> Result<(Arc<Transport>, DataChannelId)> {
        let transport = self
            .transport
            .upgrade()
            .ok_or_else(|| Error::invalid_state("the transport is closed"))?;
        let id = self
            .id()
            .ok_or_else(|| Error::invalid_state("the data channel does not exist yet"))?;
        Ok((transport, id))
    }
}
