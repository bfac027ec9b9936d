//! Fixed-width accumulator words inside a keyed table entry.
//!
//! Generated code knows each aggregate's offset in the accumulator block and does its own
//! arithmetic; these two functions only move 8-byte words in and out of page bytes.

use crate::layout::{read_u64, write_u64};

/// A value stored as one 8-byte accumulator word.
pub trait AccWord: Copy {
    /// The value's bits.
    fn to_word(self) -> u64;
    /// The value from its bits.
    fn from_word(word: u64) -> Self;
}

impl AccWord for u64 {
    #[inline]
    fn to_word(self) -> u64 {
        self
    }
    #[inline]
    fn from_word(word: u64) -> Self {
        word
    }
}

impl AccWord for i64 {
    #[inline]
    fn to_word(self) -> u64 {
        self as u64
    }
    #[inline]
    fn from_word(word: u64) -> Self {
        word as i64
    }
}

impl AccWord for f64 {
    #[inline]
    fn to_word(self) -> u64 {
        self.to_bits()
    }
    #[inline]
    fn from_word(word: u64) -> Self {
        f64::from_bits(word)
    }
}

/// Reads the accumulator word at byte `offset`.
#[inline]
pub fn acc_get<T: AccWord>(acc: &[u8], offset: usize) -> T {
    T::from_word(read_u64(acc, offset))
}

/// Writes the accumulator word at byte `offset`.
#[inline]
pub fn acc_set<T: AccWord>(acc: &mut [u8], offset: usize, value: T) {
    write_u64(acc, offset, value.to_word())
}
