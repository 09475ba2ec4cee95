//! The addon's memory allocator: mimalloc instead of the C library's malloc, on every target.
//!
//! Why: every RTP packet allocates and frees a few small buffers on its way through webrtc-rs
//! (header extensions, queues, the marshalled and encrypted datagram), often freed on another
//! thread than the one that allocated them (the JS thread copies a frame, a tokio worker sends
//! it). mimalloc costs less CPU per packet than glibc's malloc there, at about the same RSS
//! (`docs/performance.md#allocator`).
//!
//! Only Rust's allocations use it: Node, V8 and libuv keep their own. On Unix (glibc, musl,
//! macOS) it is built with local-dynamic TLS, since Node loads the addon with `dlopen`, where
//! mimalloc's default there (initial-exec TLS) can fail to load with "cannot allocate memory in
//! static TLS block"; Windows has no such TLS model to choose (see the target sections of
//! Cargo.toml).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
