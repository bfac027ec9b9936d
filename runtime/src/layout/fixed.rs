//! Rust values in the binary layout: what lets an inline pipeline (`stream!`) keep its own
//! types as keys in state. Primitives, `String`, tuples and `#[derive(weir::Record)]`
//! structs have a layout; the compiler knows nothing of them but their [`Layout::WIDTH`].

use super::{RecordBuilder, RecordView};

/// A value with a place in the binary layout: a fixed part of [`Layout::WIDTH`] bytes at an
/// offset, and (for strings) bytes in the variable part. Equal values have equal bytes, so
/// state compares and hashes them as byte strings.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no binary layout, so weir cannot keep it in state",
    label = "weir keeps this value in its binary layout",
    note = "keys, records that cross between workers and collected records a checkpoint holds are numbers, `bool`, `String`, tuples of them, or structs with `#[derive(weir::Record)]`"
)]
pub trait Layout: Sized {
    /// Bytes of the fixed part.
    const WIDTH: usize;
    /// Writes the value at `offset` of the record being built.
    fn put(&self, out: &mut RecordBuilder, offset: usize);
    /// Reads the value at `offset`.
    fn read(view: &RecordView<'_>, offset: usize) -> Self;

    /// The value alone as a record (a key), built in `out`.
    #[inline]
    fn encode<'b>(&self, out: &'b mut RecordBuilder) -> &'b [u8] {
        out.begin(Self::WIDTH);
        self.put(out, 0);
        out.bytes()
    }

    /// The value of a record [`Layout::encode`] made.
    #[inline]
    fn decode(bytes: &[u8]) -> Self {
        Self::read(&RecordView::new(bytes), 0)
    }

    /// [`key_hash`](crate::state::key_hash) of what [`Layout::encode`] makes of the value,
    /// where it can be read from the value itself (a `String`'s text): the bytes just
    /// encoded cannot be read back without a store-forwarding stall. `None` otherwise.
    #[inline]
    fn key_hash_hint(&self) -> Option<u64> {
        None
    }
}

macro_rules! word_layout {
    ($($t:ty => $put:ident, $at:ident, $wide:ty;)*) => {$(
        impl Layout for $t {
            const WIDTH: usize = 8;
            #[inline]
            fn put(&self, out: &mut RecordBuilder, offset: usize) {
                out.$put(offset, *self as $wide);
            }
            #[inline]
            fn read(view: &RecordView<'_>, offset: usize) -> Self {
                view.$at(offset) as $t
            }
        }
    )*};
}

word_layout! {
    u64 => put_u64, u64_at, u64;
    u32 => put_u64, u64_at, u64;
    usize => put_u64, u64_at, u64;
    i64 => put_i64, i64_at, i64;
    i32 => put_i64, i64_at, i64;
    f64 => put_f64, f64_at, f64;
}

impl Layout for bool {
    const WIDTH: usize = 1;
    #[inline]
    fn put(&self, out: &mut RecordBuilder, offset: usize) {
        out.put_bool(offset, *self);
    }
    #[inline]
    fn read(view: &RecordView<'_>, offset: usize) -> Self {
        view.bool_at(offset)
    }
}

impl Layout for String {
    const WIDTH: usize = 8;
    #[inline]
    fn put(&self, out: &mut RecordBuilder, offset: usize) {
        out.put_str(offset, self);
    }
    #[inline]
    fn read(view: &RecordView<'_>, offset: usize) -> Self {
        view.str_at(offset).to_owned()
    }
    #[inline]
    fn key_hash_hint(&self) -> Option<u64> {
        crate::state::str_key_hash(self.as_bytes())
    }
}

impl Layout for () {
    const WIDTH: usize = 0;
    #[inline]
    fn put(&self, _: &mut RecordBuilder, _: usize) {}
    #[inline]
    fn read(_: &RecordView<'_>, _: usize) -> Self {}
}

macro_rules! tuple_layout {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Layout),+> Layout for ($($name,)+) {
            const WIDTH: usize = 0 $(+ $name::WIDTH)+;
            #[inline]
            fn put(&self, out: &mut RecordBuilder, offset: usize) {
                let mut at = offset;
                $(
                    self.$idx.put(out, at);
                    at += $name::WIDTH;
                )+
                let _ = at;
            }
            #[inline]
            fn read(view: &RecordView<'_>, offset: usize) -> Self {
                let mut at = offset;
                ($({
                    let v = $name::read(view, at);
                    at += $name::WIDTH;
                    let _ = at;
                    v
                },)+)
            }
        }
    };
}

tuple_layout!(A 0);
tuple_layout!(A 0, B 1);
tuple_layout!(A 0, B 1, C 2);
tuple_layout!(A 0, B 1, C 2, D 3);
tuple_layout!(A 0, B 1, C 2, D 3, E 4);
tuple_layout!(A 0, B 1, C 2, D 3, E 4, F 5);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuples_round_trip_and_equal_values_have_equal_bytes() {
        let mut b = RecordBuilder::new();
        let v = ("héllo".to_string(), -3i64, true, 2.5f64, 7u32);
        let bytes = v.encode(&mut b).to_vec();
        assert_eq!(<(String, i64, bool, f64, u32)>::decode(&bytes), v);
        let mut c = RecordBuilder::new();
        assert_eq!(v.clone().encode(&mut c), &bytes[..]);
        assert_eq!(<(String, i64, bool, f64, u32)>::WIDTH, 8 + 8 + 1 + 8 + 8);
    }
}
