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
    /// Whether partial results (sums, mins, maxes) merged in any grouping give exactly
    /// what folding values one by one gives: true for integers, false for floats. State
    /// that spills in parts needs it.
    const MERGES_EXACTLY: bool;
    /// `self + other`; integers wrap, as in Java and so in Flink.
    fn plus(self, other: Self) -> Self;
    /// `self - other`, taking back a [`plus`](Self::plus) (a `rolling` sum's replaced
    /// row); integers wrap, so it undoes a wrapped sum exactly.
    fn minus(self, other: Self) -> Self;
    /// The smaller value.
    fn smaller(self, other: Self) -> Self;
    /// The larger value.
    fn larger(self, other: Self) -> Self;
    /// The value as a float.
    fn to_f64(self) -> f64;
    /// Adds the value to the sum of an average at `acc[off..off + 16]`: integers exactly,
    /// as an `i128`; floats as an `f64` in the first word.
    fn avg_add(self, acc: &mut [u8], off: usize);
    /// Takes the value back out of the sum of an average (a `rolling` average's replaced
    /// row): integers exactly.
    fn avg_remove(self, acc: &mut [u8], off: usize);
    /// Folds the sum of an average at `from[off..]` into `into[off..]`.
    fn avg_merge(into: &mut [u8], from: &[u8], off: usize);
    /// The average of `count` values whose sum is at `acc[off..]`.
    fn avg_of(acc: &[u8], off: usize, count: u64) -> f64;
}

/// The exact sum of an integer average, in two accumulator words.
#[inline]
fn wide_get(acc: &[u8], off: usize) -> i128 {
    let lo = acc_get::<u64>(acc, off);
    let hi = acc_get::<u64>(acc, off + 8);
    ((u128::from(hi) << 64) | u128::from(lo)) as i128
}

#[inline]
fn wide_set(acc: &mut [u8], off: usize, v: i128) {
    acc_set(acc, off, v as u64);
    acc_set(acc, off + 8, ((v as u128) >> 64) as u64);
}

/// `sum / count` for an exact integer sum: the quotient exactly, the remainder as a fraction,
/// so an average of large integers keeps every digit an `f64` can hold.
#[inline]
fn exact_average(sum: i128, count: u64) -> f64 {
    let n = i128::from(count.max(1));
    let (q, r) = (sum / n, sum % n);
    q as f64 + r as f64 / n as f64
}

macro_rules! int_number {
    ($($t:ty),*) => {$(
        impl AggNumber for $t {
            const HIGHEST: Self = <$t>::MAX;
            const LOWEST: Self = <$t>::MIN;
            const ZERO: Self = 0;
            const MERGES_EXACTLY: bool = true;
            #[inline]
            fn plus(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
            #[inline]
            fn minus(self, other: Self) -> Self {
                self.wrapping_sub(other)
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
            #[inline]
            fn avg_add(self, acc: &mut [u8], off: usize) {
                // i128 holds the sum of 2^64 values of any of these types without wrapping.
                wide_set(acc, off, wide_get(acc, off) + self as i128);
            }
            #[inline]
            fn avg_remove(self, acc: &mut [u8], off: usize) {
                wide_set(acc, off, wide_get(acc, off) - self as i128);
            }
            #[inline]
            fn avg_merge(into: &mut [u8], from: &[u8], off: usize) {
                wide_set(into, off, wide_get(into, off) + wide_get(from, off));
            }
            #[inline]
            fn avg_of(acc: &[u8], off: usize, count: u64) -> f64 {
                exact_average(wide_get(acc, off), count)
            }
        }
    )*};
}

int_number!(u64, i64, u32, i32, usize);

impl AggNumber for f64 {
    const HIGHEST: Self = f64::INFINITY;
    const LOWEST: Self = f64::NEG_INFINITY;
    const ZERO: Self = 0.0;
    const MERGES_EXACTLY: bool = false;
    #[inline]
    fn plus(self, other: Self) -> Self {
        self + other
    }
    #[inline]
    fn minus(self, other: Self) -> Self {
        self - other
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
    #[inline]
    fn avg_add(self, acc: &mut [u8], off: usize) {
        acc_set(acc, off, acc_get::<f64>(acc, off) + self);
    }
    #[inline]
    fn avg_remove(self, acc: &mut [u8], off: usize) {
        acc_set(acc, off, acc_get::<f64>(acc, off) - self);
    }
    #[inline]
    fn avg_merge(into: &mut [u8], from: &[u8], off: usize) {
        acc_set(
            into,
            off,
            acc_get::<f64>(into, off) + acc_get::<f64>(from, off),
        );
    }
    #[inline]
    fn avg_of(acc: &[u8], off: usize, count: u64) -> f64 {
        acc_get::<f64>(acc, off) / count as f64
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

    fn average<T: AggNumber>(values: &[T]) -> f64 {
        let mut acc = [0u8; 16];
        for &v in values {
            v.avg_add(&mut acc, 0);
        }
        T::avg_of(&acc, 0, values.len() as u64)
    }

    #[test]
    fn integer_averages_are_exact() {
        // Through f64, 9007199254740993 becomes 9007199254740992 and the average is off.
        assert_eq!(
            average(&[9_007_199_254_740_993u64, 1]),
            4_503_599_627_370_497.0
        );
        assert_eq!(average(&[u64::MAX, u64::MAX]), u64::MAX as f64);
        assert_eq!(
            average(&[i64::MIN, i64::MIN, 1]),
            (i64::MIN as f64 * 2.0 + 1.0) / 3.0
        );
        assert_eq!(average(&[-3i32, -4]), -3.5);
        assert_eq!(average(&[0.5f64, 0.25]), 0.375);
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        7u64.avg_add(&mut a, 0);
        9u64.avg_add(&mut b, 0);
        u64::avg_merge(&mut a, &b, 0);
        assert_eq!(u64::avg_of(&a, 0, 2), 8.0);
    }
}
