//! The binary layout of records resting in state.
//!
//! A record is a fixed part followed by a variable part. The fixed part holds every field at
//! an offset the compiler computes from the schema: `bool` in 1 byte, numbers and timestamps
//! in 8 bytes (little-endian), and strings as a 4-byte offset and a 4-byte length that point
//! into the variable part, relative to the record's start. Equal records have equal bytes, so
//! state can compare and hash keys as plain byte strings.

mod fixed;
mod fixed_record;

pub use fixed::Layout;
pub use fixed_record::FixedRecord;

/// Writes `v` little-endian at `offset` of `buf`.
#[inline(always)]
fn put_word(buf: &mut [u8], offset: usize, v: u64) {
    buf[offset..offset + 8].copy_from_slice(&v.to_le_bytes());
}

/// `v` as a key stores it: `-0.0` as `0.0` and every NaN as one NaN, so that equal keys
/// have equal bytes.
#[inline(always)]
fn canonical_f64(v: f64) -> f64 {
    if v == 0.0 {
        0.0
    } else if v.is_nan() {
        f64::NAN
    } else {
        v
    }
}

/// Builds one record in the binary layout into a reusable buffer.
#[derive(Debug, Default)]
pub struct RecordBuilder {
    buf: Vec<u8>,
}

impl RecordBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a record whose fixed part is `fixed_len` bytes, discarding the previous one.
    /// The caller writes every field of the fixed part; it is not cleared first, since each
    /// byte of it is about to be overwritten.
    #[inline]
    pub fn begin(&mut self, fixed_len: usize) -> &mut Self {
        if self.buf.len() < fixed_len {
            self.buf.resize(fixed_len, 0);
        }
        self.buf.truncate(fixed_len);
        self
    }

    /// Writes a `bool` at `offset`.
    #[inline]
    pub fn put_bool(&mut self, offset: usize, v: bool) -> &mut Self {
        self.buf[offset] = u8::from(v);
        self
    }

    /// Writes a `u64` at `offset`.
    #[inline]
    pub fn put_u64(&mut self, offset: usize, v: u64) -> &mut Self {
        put_word(&mut self.buf, offset, v);
        self
    }

    /// Writes an `i64` (or timestamp) at `offset`.
    #[inline]
    pub fn put_i64(&mut self, offset: usize, v: i64) -> &mut Self {
        self.put_u64(offset, v as u64)
    }

    /// Writes an `f64` at `offset`; `-0.0` and every NaN are written as one value each, so
    /// that equal keys have equal bytes.
    #[inline]
    pub fn put_f64(&mut self, offset: usize, v: f64) -> &mut Self {
        self.put_u64(offset, canonical_f64(v).to_bits())
    }

    /// Appends `s` to the variable part and writes its offset and length at `offset`.
    #[inline]
    pub fn put_str(&mut self, offset: usize, s: &str) -> &mut Self {
        let start = self.buf.len() as u32;
        self.buf.extend_from_slice(s.as_bytes());
        // Offset and length as one word: a key is hashed right after it is built, by
        // words, and a word load from two narrower stores cannot be forwarded from them
        // (a stall of a dozen cycles a record).
        let word = u64::from(start) | u64::from(s.len() as u32) << 32;
        put_word(&mut self.buf, offset, word);
        self
    }

    /// The record built so far.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

/// Reads fields of a record in the binary layout.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    bytes: &'a [u8],
}

impl<'a> RecordView<'a> {
    /// A view of `bytes`, which must have been written by a [`RecordBuilder`] with the same
    /// field offsets.
    #[inline]
    pub fn new(bytes: &'a [u8]) -> Self {
        RecordView { bytes }
    }

    /// The `bool` at `offset`.
    #[inline]
    pub fn bool_at(&self, offset: usize) -> bool {
        self.bytes[offset] != 0
    }

    /// The `u64` at `offset`.
    #[inline]
    pub fn u64_at(&self, offset: usize) -> u64 {
        read_u64(self.bytes, offset)
    }

    /// The `i64` (or timestamp) at `offset`.
    #[inline]
    pub fn i64_at(&self, offset: usize) -> i64 {
        read_u64(self.bytes, offset) as i64
    }

    /// The `f64` at `offset`.
    #[inline]
    pub fn f64_at(&self, offset: usize) -> f64 {
        f64::from_bits(read_u64(self.bytes, offset))
    }

    /// The string whose offset and length are at `offset`.
    #[inline]
    pub fn str_at(&self, offset: usize) -> &'a str {
        let start = read_u32(self.bytes, offset) as usize;
        let len = read_u32(self.bytes, offset + 4) as usize;
        std::str::from_utf8(&self.bytes[start..start + len])
            .expect("state holds only strings written by RecordBuilder, which are UTF-8")
    }
}

#[inline]
pub(crate) fn read_u64(bytes: &[u8], offset: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[offset..offset + 8]);
    u64::from_le_bytes(b)
}

#[inline]
pub(crate) fn read_u32(bytes: &[u8], offset: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(b)
}

#[inline]
pub(crate) fn write_u64(bytes: &mut [u8], offset: usize, v: u64) {
    bytes[offset..offset + 8].copy_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_kind_of_field() {
        let mut b = RecordBuilder::new();
        b.begin(33)
            .put_u64(0, 42)
            .put_str(8, "héllo")
            .put_i64(16, -7)
            .put_f64(24, 1.5)
            .put_bool(32, true);
        let v = RecordView::new(b.bytes());
        assert_eq!(v.u64_at(0), 42);
        assert_eq!(v.str_at(8), "héllo");
        assert_eq!(v.i64_at(16), -7);
        assert_eq!(v.f64_at(24), 1.5);
        assert!(v.bool_at(32));
        assert_eq!(b.bytes().len(), 33 + "héllo".len());
    }

    #[test]
    fn a_reused_builder_writes_what_a_fresh_one_does() {
        let mut reused = RecordBuilder::new();
        reused
            .begin(17)
            .put_str(0, "a much longer string")
            .put_u64(8, u64::MAX)
            .put_bool(16, true);
        reused
            .begin(17)
            .put_str(0, "ab")
            .put_u64(8, 3)
            .put_bool(16, false);
        let mut fresh = RecordBuilder::new();
        fresh
            .begin(17)
            .put_str(0, "ab")
            .put_u64(8, 3)
            .put_bool(16, false);
        assert_eq!(reused.bytes(), fresh.bytes());
    }

    #[test]
    fn equal_floats_have_equal_bytes() {
        let mut a = RecordBuilder::new();
        let mut b = RecordBuilder::new();
        a.begin(8).put_f64(0, -0.0);
        b.begin(8).put_f64(0, 0.0);
        assert_eq!(a.bytes(), b.bytes());
    }
}
