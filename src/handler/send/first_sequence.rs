//! Where a stream's sequence numbers start: at a random value, as RFC 3550 (5.1) asks, which
//! makes known-plaintext attacks on the encryption harder. Media streams (the producer) and
//! their RTX streams (`nack_history.rs`) each start their own.

use std::hash::{BuildHasher, Hasher};

/// A random first sequence number. `RandomState` is seeded from the OS's randomness per
/// instance; no crate for one number per stream.
pub fn first_sequence_number() -> u16 {
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish() as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_do_not_all_start_at_one_value() {
        let first = first_sequence_number();
        assert!(
            (0..64).any(|_| first_sequence_number() != first),
            "64 streams all started at {first}"
        );
    }
}
