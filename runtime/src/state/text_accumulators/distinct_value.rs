//! The bytes `count_distinct` counts of a value, the same from `.pipe` and `stream!`.

/// The bytes `count_distinct` counts of a float: its bits, with `-0.0` as `0.0` and every
/// NaN as one, so that values SQL counts as one are one.
pub fn distinct_f64(v: f64) -> [u8; 8] {
    let v = if v == 0.0 {
        0.0
    } else if v.is_nan() {
        f64::NAN
    } else {
        v
    };
    v.to_bits().to_le_bytes()
}

/// A value `count_distinct` counts in an inline pipeline: its bytes, as `.pipe` counts
/// them (numbers as their 8 little-endian bytes, floats through [`distinct_f64`], text
/// as it is).
#[diagnostic::on_unimplemented(
    message = "`count_distinct` counts numbers, bools and text, not `{Self}`",
    label = "this value is `{Self}`"
)]
pub trait DistinctValue {
    /// The value's bytes: in `buf` for a number, its own for text.
    fn distinct_bytes<'a>(&'a self, buf: &'a mut [u8; 8]) -> &'a [u8];
}

macro_rules! distinct_integers {
    ($($t:ty => $wide:ty),*) => {$(
        impl DistinctValue for $t {
            fn distinct_bytes<'a>(&'a self, buf: &'a mut [u8; 8]) -> &'a [u8] {
                *buf = (<$wide>::from(*self)).to_le_bytes();
                &buf[..]
            }
        }
    )*};
}

distinct_integers!(i8 => i64, i16 => i64, i32 => i64, i64 => i64, u8 => u64, u16 => u64, u32 => u64, u64 => u64);

impl DistinctValue for f64 {
    fn distinct_bytes<'a>(&'a self, buf: &'a mut [u8; 8]) -> &'a [u8] {
        *buf = distinct_f64(*self);
        &buf[..]
    }
}

impl DistinctValue for f32 {
    fn distinct_bytes<'a>(&'a self, buf: &'a mut [u8; 8]) -> &'a [u8] {
        *buf = distinct_f64(f64::from(*self));
        &buf[..]
    }
}

impl DistinctValue for bool {
    fn distinct_bytes<'a>(&'a self, buf: &'a mut [u8; 8]) -> &'a [u8] {
        buf[0] = u8::from(*self);
        &buf[..1]
    }
}

impl DistinctValue for str {
    fn distinct_bytes<'a>(&'a self, _: &'a mut [u8; 8]) -> &'a [u8] {
        self.as_bytes()
    }
}

impl DistinctValue for String {
    fn distinct_bytes<'a>(&'a self, _: &'a mut [u8; 8]) -> &'a [u8] {
        self.as_bytes()
    }
}

impl<T: DistinctValue + ?Sized> DistinctValue for &T {
    fn distinct_bytes<'a>(&'a self, buf: &'a mut [u8; 8]) -> &'a [u8] {
        (**self).distinct_bytes(buf)
    }
}
