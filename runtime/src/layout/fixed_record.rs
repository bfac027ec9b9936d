//! A record of fixed width built on the stack: the key of a keyed operator whose key fields
//! are all numbers or `bool`, encoded per record without touching a heap buffer.

use super::{canonical_f64, put_word};

/// A record of exactly `N` bytes in the binary layout (no string fields), built by value.
/// Its bytes are those a [`super::RecordBuilder`] makes for the same fields.
#[derive(Debug, Clone, Copy)]
pub struct FixedRecord<const N: usize>([u8; N]);

impl<const N: usize> FixedRecord<N> {
    /// A record whose fields are all still to be written.
    #[inline(always)]
    pub fn new() -> Self {
        FixedRecord([0; N])
    }

    /// Writes a `bool` at `offset`.
    #[inline(always)]
    pub fn put_bool(mut self, offset: usize, v: bool) -> Self {
        self.0[offset] = u8::from(v);
        self
    }

    /// Writes a `u64` at `offset`.
    #[inline(always)]
    pub fn put_u64(mut self, offset: usize, v: u64) -> Self {
        put_word(&mut self.0, offset, v);
        self
    }

    /// Writes an `i64` (or timestamp) at `offset`.
    #[inline(always)]
    pub fn put_i64(self, offset: usize, v: i64) -> Self {
        self.put_u64(offset, v as u64)
    }

    /// Writes an `f64` at `offset`, canonical as [`super::RecordBuilder::put_f64`] writes it.
    #[inline(always)]
    pub fn put_f64(self, offset: usize, v: f64) -> Self {
        self.put_u64(offset, canonical_f64(v).to_bits())
    }

    /// The record's bytes.
    #[inline(always)]
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl<const N: usize> Default for FixedRecord<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::RecordBuilder;

    #[test]
    fn the_same_bytes_as_the_record_builder() {
        let mut b = RecordBuilder::new();
        let built = b
            .begin(25)
            .put_u64(0, 7)
            .put_i64(8, -3)
            .put_f64(16, -0.0)
            .put_bool(24, true)
            .bytes()
            .to_vec();
        let fixed = FixedRecord::<25>::new()
            .put_u64(0, 7)
            .put_i64(8, -3)
            .put_f64(16, -0.0)
            .put_bool(24, true);
        assert_eq!(fixed.bytes(), &built[..]);
        let nan = |v: f64| FixedRecord::<8>::new().put_f64(0, v).bytes().to_vec();
        assert_eq!(nan(f64::NAN), nan(-f64::NAN), "every NaN is one key");
        assert_eq!(nan(0.0), nan(-0.0));
    }
}
