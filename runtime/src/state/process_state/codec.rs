//! How a process function's state struct (generated per operator) becomes the byte string
//! [`super::ProcessState`] keeps, and back: each field in turn, little-endian numbers,
//! strings and collections prefixed by their length.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::JobError;

/// A value a process function's state holds. Numbers, `bool`, `String`, `Option`,
/// tuples, arrays, `Vec`, `VecDeque`, `BTreeSet` and `BTreeMap` of such values have it; a struct
/// gets it with `#[derive(weir::StateValue)]` (each field in turn).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be kept as a process's state",
    label = "the state this closure takes must be a `StateValue`",
    note = "derive it with `#[derive(Default, PartialEq, weir::StateValue)]`; fields are numbers, `bool`, `String`, `Option`, tuples, arrays, `Vec`, `VecDeque`, `BTreeSet`, `BTreeMap` or other `StateValue` structs"
)]
pub trait StateValue: Sized {
    /// Appends the value's bytes to `out`.
    fn put(&self, out: &mut Vec<u8>);
    /// Reads a value from the front of `input`, advancing it.
    fn take(input: &mut &[u8]) -> Result<Self, JobError>;
}

fn corrupt() -> JobError {
    JobError::SnapshotCorrupt {
        problem: "a process state's bytes end before its last field".to_string(),
    }
}

fn bytes<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], JobError> {
    if input.len() < n {
        return Err(corrupt());
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

fn array<const N: usize>(input: &mut &[u8]) -> Result<[u8; N], JobError> {
    Ok(bytes(input, N)?.try_into().expect("N bytes"))
}

macro_rules! number {
    ($($t:ty),*) => {$(
        impl StateValue for $t {
            #[inline]
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            #[inline]
            fn take(input: &mut &[u8]) -> Result<Self, JobError> {
                Ok(<$t>::from_le_bytes(array(input)?))
            }
        }
    )*};
}

number!(i64, u64, f64, u32, i32, u16, i16, u8, i8, f32, i128, u128);

impl StateValue for bool {
    #[inline]
    fn put(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    #[inline]
    fn take(input: &mut &[u8]) -> Result<Self, JobError> {
        Ok(array::<1>(input)?[0] != 0)
    }
}

impl StateValue for String {
    fn put(&self, out: &mut Vec<u8>) {
        (self.len() as u32).put(out);
        out.extend_from_slice(self.as_bytes());
    }
    fn take(input: &mut &[u8]) -> Result<Self, JobError> {
        let len = u32::take(input)? as usize;
        String::from_utf8(bytes(input, len)?.to_vec()).map_err(|_| corrupt())
    }
}

/// A collection of values: its length, then each value in order.
macro_rules! sequence {
    ($($c:ident $(: $bound:ident)?),*) => {$(
        impl<T: StateValue $(+ $bound)?> StateValue for $c<T> {
            fn put(&self, out: &mut Vec<u8>) {
                (self.len() as u32).put(out);
                for x in self {
                    x.put(out);
                }
            }
            fn take(input: &mut &[u8]) -> Result<Self, JobError> {
                let len = u32::take(input)? as usize;
                // Each element of a type with a size takes at least a byte: a length past
                // what is left is corrupt (and not an allocation to make).
                if len > input.len() && std::mem::size_of::<T>() > 0 {
                    return Err(corrupt());
                }
                (0..len).map(|_| T::take(input)).collect()
            }
        }
    )*};
}

sequence!(Vec, VecDeque, BTreeSet: Ord);

impl<K: StateValue + Ord, V: StateValue> StateValue for BTreeMap<K, V> {
    fn put(&self, out: &mut Vec<u8>) {
        (self.len() as u32).put(out);
        for (k, v) in self {
            k.put(out);
            v.put(out);
        }
    }
    fn take(input: &mut &[u8]) -> Result<Self, JobError> {
        let len = u32::take(input)? as usize;
        if len > input.len() && std::mem::size_of::<(K, V)>() > 0 {
            return Err(corrupt());
        }
        (0..len)
            .map(|_| Ok((K::take(input)?, V::take(input)?)))
            .collect()
    }
}

impl StateValue for usize {
    #[inline]
    fn put(&self, out: &mut Vec<u8>) {
        (*self as u64).put(out);
    }
    #[inline]
    fn take(input: &mut &[u8]) -> Result<Self, JobError> {
        usize::try_from(u64::take(input)?).map_err(|_| corrupt())
    }
}

impl<T: StateValue> StateValue for Option<T> {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(x) => {
                out.push(1);
                x.put(out);
            }
        }
    }
    fn take(input: &mut &[u8]) -> Result<Self, JobError> {
        match array::<1>(input)?[0] {
            0 => Ok(None),
            1 => Ok(Some(T::take(input)?)),
            _ => Err(corrupt()),
        }
    }
}

impl<T: StateValue, const N: usize> StateValue for [T; N] {
    fn put(&self, out: &mut Vec<u8>) {
        for x in self {
            x.put(out);
        }
    }
    fn take(input: &mut &[u8]) -> Result<Self, JobError> {
        let items = (0..N)
            .map(|_| T::take(input))
            .collect::<Result<Vec<T>, JobError>>()?;
        items.try_into().map_err(|_| corrupt())
    }
}

impl StateValue for () {
    #[inline]
    fn put(&self, _: &mut Vec<u8>) {}
    #[inline]
    fn take(_: &mut &[u8]) -> Result<Self, JobError> {
        Ok(())
    }
}

macro_rules! tuple {
    ($($t:ident . $i:tt),*) => {
        impl<$($t: StateValue),*> StateValue for ($($t,)*) {
            #[inline]
            fn put(&self, out: &mut Vec<u8>) {
                $(self.$i.put(out);)*
            }
            #[inline]
            fn take(input: &mut &[u8]) -> Result<Self, JobError> {
                Ok(($($t::take(input)?,)*))
            }
        }
    };
}

tuple!(A.0);
tuple!(A.0, B.1);
tuple!(A.0, B.1, C.2);
tuple!(A.0, B.1, C.2, D.3);
tuple!(A.0, B.1, C.2, D.3, E.4);
tuple!(A.0, B.1, C.2, D.3, E.4, F.5);
tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6);
tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_back_as_written() {
        let mut out = Vec::new();
        let map: BTreeMap<String, i64> = [("b".to_string(), -2), ("a".to_string(), 1)].into();
        true.put(&mut out);
        7i64.put(&mut out);
        u64::MAX.put(&mut out);
        (-0.5f64).put(&mut out);
        "héllo".to_string().put(&mut out);
        vec![1.5f64, 2.5].put(&mut out);
        map.put(&mut out);
        let mut input = &out[..];
        assert!(bool::take(&mut input).unwrap());
        assert_eq!(i64::take(&mut input).unwrap(), 7);
        assert_eq!(u64::take(&mut input).unwrap(), u64::MAX);
        assert_eq!(f64::take(&mut input).unwrap(), -0.5);
        assert_eq!(String::take(&mut input).unwrap(), "héllo");
        assert_eq!(Vec::<f64>::take(&mut input).unwrap(), vec![1.5, 2.5]);
        assert_eq!(BTreeMap::<String, i64>::take(&mut input).unwrap(), map);
        assert!(input.is_empty());
        // Cut short anywhere: an error, never a panic.
        for cut in 0..out.len() {
            let mut input = &out[..cut];
            let all = (|| {
                bool::take(&mut input)?;
                i64::take(&mut input)?;
                u64::take(&mut input)?;
                f64::take(&mut input)?;
                String::take(&mut input)?;
                Vec::<f64>::take(&mut input)?;
                BTreeMap::<String, i64>::take(&mut input)
            })();
            assert!(all.is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn composite_values_read_back_as_written() {
        type Composite = (
            Option<u32>,
            Option<String>,
            [(String, i64); 2],
            BTreeSet<i8>,
            VecDeque<usize>,
            (),
        );
        let value: Composite = (
            None,
            Some("x".into()),
            [("a".into(), -1), (String::new(), i64::MIN)],
            [3i8, -4].into(),
            [usize::MAX, 0].into(),
            (),
        );
        let mut out = Vec::new();
        value.put(&mut out);
        let mut input = &out[..];
        assert_eq!(Composite::take(&mut input).unwrap(), value);
        assert!(input.is_empty());
        for cut in 0..out.len() {
            assert!(Composite::take(&mut &out[..cut]).is_err(), "cut at {cut}");
        }
        // Zero-sized values take no bytes, so any length of them is whole.
        let units = vec![(); 5];
        let mut out = Vec::new();
        units.put(&mut out);
        assert_eq!(Vec::<()>::take(&mut &out[..]).unwrap(), units);
        // An option's tag is 0 or 1.
        assert!(<Option<u8> as StateValue>::take(&mut &[2u8, 0][..]).is_err());
    }
}
