//! mediasoup-client-native: the client side of a mediasoup v3 SFU for Node.js programs with no
//! browser. Layers, top to bottom: `node` (napi glue), `client`, `handler` (webrtc-rs), `media`;
//! the pure protocol layers are the crates `msc-ortc` (src/ortc) and `msc-sdp` (src/sdp).

#[cfg(any(unix, windows))]
mod allocator;
pub mod node;
