//! The one hash of a key, in its row-layout bytes: it routes a record to the worker that
//! owns the key's key group (`parallel::KeyGroups::group`), and files the key in that
//! worker's state tables. One function for both, so a stored key's key group follows from
//! its stored hash (or, where a table keeps none, from this same hash of its bytes),
//! which a snapshot by key group needs.
//!
//! The key group takes the hash through a mix of its own before picking bits, so the low
//! bits (a table's slot) and the top bits (its tag) stay spread within one worker's keys.

use std::hash::BuildHasher;

/// Fixed, so every process of a cluster, and a restored job, hashes a key alike.
const KEY_STATE: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x5745_4952);

/// The hash of `key`. A one-word key (the common `key_by` on one integer field) is hashed
/// as a number, a few instructions rather than a byte loop; that is a function of the
/// bytes like any other.
#[inline(always)]
pub fn key_hash(key: &[u8]) -> u64 {
    match <[u8; 8]>::try_from(key) {
        Ok(word) => KEY_STATE.hash_one(u64::from_ne_bytes(word)),
        Err(_) => KEY_STATE.hash_one(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_hash_alike_and_others_spread() {
        assert_eq!(key_hash(b"abc"), key_hash(&b"xabc"[1..]));
        let hashes: std::collections::HashSet<u64> =
            (0u64..10_000).map(|i| key_hash(&i.to_ne_bytes())).collect();
        assert_eq!(hashes.len(), 10_000);
        let groups = crate::parallel::KeyGroups::new(128, 1);
        let mut seen = [false; 128];
        for i in 0u64..10_000 {
            seen[groups.group(key_hash(&i.to_ne_bytes()))] = true;
        }
        assert!(seen.iter().all(|s| *s), "every key group gets keys");
    }
}
