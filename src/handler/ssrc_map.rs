//! Maps keyed by SSRC, looked up for every packet sent or received.
//!
//! SSRCs are random already (the server's and ours): a multiplication spreads one over the
//! hash's bits, for less per lookup than the standard SipHash
//! (`docs/performance.md#one-interceptor`). The keys are the SSRCs of negotiated streams, not
//! whatever a datagram names, so there is nothing to gain from a keyed hash.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map from SSRC to `V`, hashed by [`SsrcHasher`].
pub(crate) type SsrcMap<V> = HashMap<u32, V, BuildHasherDefault<SsrcHasher>>;

/// Hashes an SSRC by one multiplication (by 2^64 over the golden ratio).
#[derive(Default)]
pub(crate) struct SsrcHasher(u64);

impl Hasher for SsrcHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssrcs_that_differ_in_one_bit_land_apart() {
        let hash = |n: u32| {
            let mut h = SsrcHasher::default();
            h.write_u32(n);
            h.finish()
        };
        let mut map: SsrcMap<u32> = SsrcMap::default();
        for shift in 0..32 {
            map.insert(1 << shift, shift);
        }
        assert_eq!(map.get(&(1 << 7)), Some(&7));
        // the top bits (hashbrown's control bytes) differ between neighbouring SSRCs
        assert_ne!(hash(1) >> 57, hash(2) >> 57);
    }
}
