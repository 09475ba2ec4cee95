//! The Rust API of mediasoup-client-native: Device, SendTransport, Producer. Knows nothing of napi.
