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
/// as a number, and a key of 17 to 32 bytes (a short string's offset and length word, then
/// its text) as the words covering it and its length: a few multiplies rather than a byte
/// loop. Both are functions of the bytes like any other.
///
/// The words are those a key just built was written by (its first word, then its text
/// from byte 8 on, the last word overlapping), never one straddling the first word and
/// the text: a load spanning two stores waits for both to reach the cache.
#[inline(always)]
pub fn key_hash(key: &[u8]) -> u64 {
    let word = |i: usize| u64::from_le_bytes(key[i..i + 8].try_into().expect("8 bytes"));
    match key.len() {
        8 => KEY_STATE.hash_one(word(0)),
        n @ 17..=24 => KEY_STATE.hash_one((n, word(0), word(8), word(n - 8))),
        n @ 25..=32 => KEY_STATE.hash_one((n, word(0), word(8), word(16), word(n - 8))),
        _ => KEY_STATE.hash_one(key),
    }
}

/// [`key_hash`] of the key of one string field, `text` (its layout: the offset and length
/// word, then the text), read from `text` itself rather than from the key just built from
/// it: the built key's bytes were written by a copy whose stores its words cannot be
/// forwarded from (a stall a record). `None` where the key is hashed as a whole (text
/// shorter than 9 or longer than 24 bytes): then hash the built key.
#[inline(always)]
pub fn str_key_hash(text: &[u8]) -> Option<u64> {
    let len = text.len();
    let head = 8 | (len as u64) << 32;
    let word = |i: usize| u64::from_le_bytes(text[i..i + 8].try_into().expect("8 bytes"));
    let n = len + 8;
    match n {
        17..=24 => Some(KEY_STATE.hash_one((n, head, word(0), word(len - 8)))),
        25..=32 => Some(KEY_STATE.hash_one((n, head, word(0), word(8), word(len - 8)))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_hash_alike_and_others_spread() {
        assert_eq!(key_hash(b"abc"), key_hash(&b"xabc"[1..]));
        // Keys of 17 to 32 bytes: every byte counts, and so does the length.
        let long = *b"0123456789abcdefghijklmnopqrstuv";
        for n in 17..=32 {
            let k = &long[..n];
            let elsewhere = k.to_vec();
            assert_eq!(key_hash(k), key_hash(&elsewhere));
            for i in 0..n {
                let mut changed = k.to_vec();
                changed[i] ^= 1;
                assert_ne!(key_hash(k), key_hash(&changed), "byte {i} of {n}");
            }
            assert_ne!(key_hash(k), key_hash(&long[..n - 1]));
        }
        // A string key's hash read from its text is the hash of the key built from it.
        for len in 0..40 {
            let text = &long.repeat(2)[..len];
            let mut key = crate::layout::RecordBuilder::new();
            key.begin(8);
            key.put_str(0, std::str::from_utf8(text).unwrap());
            let string = String::from_utf8(text.to_vec()).unwrap();
            assert_eq!(
                crate::Layout::key_hash_hint(&string),
                str_key_hash(text),
                "a String's hint"
            );
            if let Some(h) = str_key_hash(text) {
                assert_eq!(h, key_hash(key.bytes()), "text of {len} bytes");
            } else {
                assert!(
                    !(9..=24).contains(&len),
                    "text of {len} bytes has a word hash"
                );
            }
        }
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
