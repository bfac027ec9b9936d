//! How a process function's state struct (generated per operator) becomes the byte string
//! [`super::ProcessState`] keeps, and back: each field in turn, little-endian numbers,
//! strings and collections prefixed by their length.

use std::collections::BTreeMap;

use crate::JobError;

/// A value a process function's state holds.
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

number!(i64, u64, f64, u32);

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

impl<T: StateValue> StateValue for Vec<T> {
    fn put(&self, out: &mut Vec<u8>) {
        (self.len() as u32).put(out);
        for x in self {
            x.put(out);
        }
    }
    fn take(input: &mut &[u8]) -> Result<Self, JobError> {
        let len = u32::take(input)? as usize;
        // Each element takes at least a byte: a length past what is left is corrupt.
        if len > input.len() {
            return Err(corrupt());
        }
        (0..len).map(|_| T::take(input)).collect()
    }
}

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
        if len > input.len() {
            return Err(corrupt());
        }
        (0..len)
            .map(|_| Ok((K::take(input)?, V::take(input)?)))
            .collect()
    }
}

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
}
