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

macro_rules! narrow_word {
    ($($t:ty => $wide:ty),*) => {$(
        impl AccWord for $t {
            #[inline]
            fn to_word(self) -> u64 {
                self as $wide as u64
            }
            #[inline]
            fn from_word(word: u64) -> Self {
                word as $wide as $t
            }
        }
    )*};
}

narrow_word!(u32 => u64, usize => u64, i32 => i64);

impl AccWord for bool {
    #[inline]
    fn to_word(self) -> u64 {
        u64::from(self)
    }
    #[inline]
    fn from_word(word: u64) -> Self {
        word != 0
    }
}

/// A number that `sum`, `min`, `max` and `avg` accumulate. Generated code calls these
/// rather than operators so that one code path serves `.pipe` types and the types an inline
/// pipeline's closures return; after inlining they are the plain operations.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a number weir can aggregate",
    label = "sum, min, max and avg take a number",
    note = "aggregate over `u64`, `i64`, `u32`, `i32`, `usize` or `f64`"
)]
pub trait AggNumber: AccWord {
    /// Where `min` starts: greater than or equal to every value.
    const HIGHEST: Self;
    /// Where `max` starts.
    const LOWEST: Self;
    /// Where `sum` starts.
    const ZERO: Self;
    /// `self + other`; integers wrap, as in Java and so in Flink.
    fn plus(self, other: Self) -> Self;
    /// The smaller value.
    fn smaller(self, other: Self) -> Self;
    /// The larger value.
    fn larger(self, other: Self) -> Self;
    /// The value as a float, for `avg`.
    fn to_f64(self) -> f64;
}

macro_rules! int_number {
    ($($t:ty),*) => {$(
        impl AggNumber for $t {
            const HIGHEST: Self = <$t>::MAX;
            const LOWEST: Self = <$t>::MIN;
            const ZERO: Self = 0;
            #[inline]
            fn plus(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
            #[inline]
            fn smaller(self, other: Self) -> Self {
                ::core::cmp::min(self, other)
            }
            #[inline]
            fn larger(self, other: Self) -> Self {
                ::core::cmp::max(self, other)
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}

int_number!(u64, i64, u32, i32, usize);

impl AggNumber for f64 {
    const HIGHEST: Self = f64::INFINITY;
    const LOWEST: Self = f64::NEG_INFINITY;
    const ZERO: Self = 0.0;
    #[inline]
    fn plus(self, other: Self) -> Self {
        self + other
    }
    #[inline]
    fn smaller(self, other: Self) -> Self {
        self.min(other)
    }
    #[inline]
    fn larger(self, other: Self) -> Self {
        self.max(other)
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_words_round_trip_with_their_sign() {
        let mut acc = [0u8; 8];
        acc_set(&mut acc, 0, -5i32);
        assert_eq!(acc_get::<i32>(&acc, 0), -5);
        acc_set(&mut acc, 0, u32::MAX);
        assert_eq!(acc_get::<u32>(&acc, 0), u32::MAX);
        acc_set(&mut acc, 0, true);
        assert!(acc_get::<bool>(&acc, 0));
    }

    #[test]
    fn numbers_accumulate_like_their_operators() {
        assert_eq!(u64::MAX.plus(2), 1);
        assert_eq!(AggNumber::smaller(3i32, -4), -4);
        assert_eq!(f64::HIGHEST.smaller(2.0), 2.0);
        assert_eq!(AggNumber::larger(u32::LOWEST, 9), 9);
        assert_eq!(7usize.to_f64(), 7.0);
    }
}
