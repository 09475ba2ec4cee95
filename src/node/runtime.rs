//! The tokio runtime that runs every transport, producer and track task.
//!
//! One worker thread fewer than the machine has cores (at least one), because the JS thread
//! that writes frames is busy too: with a worker per core, the workers and the JS thread
//! contend for the cores and hand packets across threads, which cost ~15% more CPU per packet
//! with 200 peers and ~35% more with 100 producers on one transport (`npm run bench`, 2 cores).
//! `MSC_WORKER_THREADS` (1..=64) overrides it.

use napi_derive::module_init;

const MAX_THREADS: usize = 64;

fn worker_threads() -> usize {
    let from_env = std::env::var("MSC_WORKER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=MAX_THREADS).contains(n));
    from_env.unwrap_or_else(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cores.saturating_sub(1).clamp(1, MAX_THREADS)
    })
}

#[module_init]
fn init_runtime() {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all().worker_threads(worker_threads());
    // on failure napi-rs builds its default runtime on first use
    if let Ok(rt) = builder.build() {
        napi::bindgen_prelude::create_custom_tokio_runtime(rt);
    }
}
