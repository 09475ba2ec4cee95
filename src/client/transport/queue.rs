//! The operation queue of a transport: its operations (produce, restartIce, updateIceServers,
//! getStats) run one at a time, in the order they were called, as in mediasoup-client.
//!
//! A place in the queue is taken synchronously, when the operation is called (not when its
//! future is first polled), so that the order is the caller's even when the futures are
//! spawned on a multi-threaded runtime.

use std::sync::Mutex;

use tokio::sync::oneshot;

#[derive(Default)]
pub(crate) struct OperationQueue {
    /// Settles (resolves or is dropped) when the last operation queued so far is done.
    tail: Mutex<Option<oneshot::Receiver<()>>>,
}

/// A place in the queue: [`Turn::wait`] returns once every operation queued before it is done;
/// the next operation starts when this `Turn` is dropped.
pub(crate) struct Turn {
    previous: Option<oneshot::Receiver<()>>,
    _done: oneshot::Sender<()>,
}

impl OperationQueue {
    pub(crate) fn reserve(&self) -> Turn {
        let (done, next) = oneshot::channel();
        let previous = self.tail.lock().unwrap().replace(next);
        Turn {
            previous,
            _done: done,
        }
    }
}

impl Turn {
    pub(crate) async fn wait(&mut self) {
        if let Some(previous) = self.previous.take() {
            // the sender is dropped, never used: either way the previous operation is done
            let _ = previous.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn operations_run_in_the_order_they_were_queued() {
        let queue = OperationQueue::default();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut handles = Vec::new();
        for i in 0..8 {
            let mut turn = queue.reserve();
            let log = log.clone();
            handles.push(tokio::spawn(async move {
                turn.wait().await;
                // a later operation must not overtake this one while it yields
                tokio::task::yield_now().await;
                log.lock().unwrap().push(i);
                drop(turn);
            }));
        }
        for h in handles.into_iter().rev() {
            h.await.unwrap();
        }
        assert_eq!(*log.lock().unwrap(), (0..8).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_dropped_operation_lets_the_next_one_run() {
        let queue = OperationQueue::default();
        let first = queue.reserve();
        let mut second = queue.reserve();
        drop(first);
        tokio::time::timeout(std::time::Duration::from_secs(1), second.wait())
            .await
            .expect("the second operation runs");
    }
}
