//! The only code that touches webrtc-rs: one PeerConnection per transport.
