//! The tokio runtime that runs every transport, producer and track task: one worker thread per
//! core but one (at least one), unless `MSC_WORKER_THREADS` (1..=64) sets the number of workers.
//!
//! Why not napi-rs' default of one worker per core: the JS thread that writes the frames is busy
//! too, and one worker per core makes one busy thread more than there are cores, taking turns.
//! On 2 cores one worker cost less CPU per packet than two, with the same loss at the server:
//! the connection's pacer (msc-handler's `pacer.rs`) keeps one worker's bursts within what the
//! server's socket takes (`docs/performance.md#worker-threads`).

use napi_derive::module_init;

const MAX_THREADS: usize = 64;

/// Threads for blocking work: opening files (`createFileTrack`) and DNS look-ups of ICE server
/// names. Each thread that allocates holds pages of its own in the allocator (mimalloc, see
/// `allocator.rs`) that stay resident after it has freed what it allocated, and with tokio's
/// default (up to 512 threads) a burst of concurrent calls starts about one thread per call.
/// A fixed few bound that memory; the work is short, so calls beyond these wait their turn. A
/// file that blocks its reader (a FIFO nobody writes to) holds one thread until it is written.
const MAX_BLOCKING_THREADS: usize = 4;

/// One per core but one, at least one.
fn default_worker_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(1)
        .max(1)
}

/// The number asked for, if any. A value that is not a number from 1 to 64 is ignored with a
/// line on stderr (logging may not be set up yet when the addon loads).
fn asked_worker_threads() -> Option<usize> {
    let value = std::env::var("MSC_WORKER_THREADS").ok()?;
    let threads = value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_THREADS).contains(n));
    if threads.is_none() {
        eprintln!(
            "mediasoup-client-native: MSC_WORKER_THREADS={value:?} is not a number from 1 to \
             {MAX_THREADS}; using one worker thread per core but one"
        );
    }
    threads
}

#[module_init]
fn init_runtime() {
    let threads = asked_worker_threads().unwrap_or_else(default_worker_threads);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder
        .enable_all()
        .worker_threads(threads)
        .max_blocking_threads(MAX_BLOCKING_THREADS);
    // on failure napi-rs builds its default runtime on first use
    if let Ok(rt) = builder.build() {
        napi::bindgen_prelude::create_custom_tokio_runtime(rt);
    }
}
