//! The tokio runtime that runs every transport, producer and track task: napi-rs' default (one
//! worker thread per core) unless `MSC_WORKER_THREADS` (1..=64) sets the number of workers.
//!
//! Why a knob and not a smaller default: on 2 cores, one worker instead of two cost 15% less
//! CPU per packet with 200 peers and 35% less with 100 producers on one transport (`npm run
//! bench`), because fewer packets cross threads; but the one worker sent each transport's
//! packets in longer bursts, and with 200 producers on one transport and the mediasoup worker
//! on the same 2 cores, those bursts overflowed the server's UDP receive buffer: ~30% of the
//! packets were dropped there and repaired by RTX, and the server scored the producers 0-1
//! instead of 9.

use napi_derive::module_init;

const MAX_THREADS: usize = 64;

/// The number asked for, if any. A value that is not a number from 1 to 64 is ignored with a
/// line on stderr (logging may not be set up yet when the addon loads).
fn worker_threads() -> Option<usize> {
    let value = std::env::var("MSC_WORKER_THREADS").ok()?;
    let threads = value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_THREADS).contains(n));
    if threads.is_none() {
        eprintln!(
            "mediasoup-client-native: MSC_WORKER_THREADS={value:?} is not a number from 1 to \
             {MAX_THREADS}; using one worker thread per core"
        );
    }
    threads
}

#[module_init]
fn init_runtime() {
    let Some(threads) = worker_threads() else {
        return;
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all().worker_threads(threads);
    // on failure napi-rs builds its default runtime on first use
    if let Ok(rt) = builder.build() {
        napi::bindgen_prelude::create_custom_tokio_runtime(rt);
    }
}
