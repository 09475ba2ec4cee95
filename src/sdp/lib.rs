//! The SDP layer of mediasoup-client-native: what a local offer says (capabilities, DTLS
//! parameters, encodings) and the remote SDP that stands for the ICE-lite mediasoup server.
//! Pure functions over data: no I/O, no async, no napi.
