//! Records gathered by an inline job's `collect()` sinks, as they come back from its
//! workers and travel between processes.

/// Collected records that can travel between processes: each in its
/// [`Layout`](crate::Layout).
#[diagnostic::on_unimplemented(
    message = "the records `collect()` gathers cannot travel from other processes",
    note = "in a cluster, collected records travel to the first process in their binary layout: numbers, `bool`, `String`, tuples of them, or structs with `#[derive(weir::Record)]`"
)]
pub trait CollectedRows: Collected {
    /// Appends the records to `out`.
    fn encode(&self, out: &mut Vec<u8>);
    /// The records `encode` wrote at `*at` of `bytes`, moving `at` past them.
    fn decode(bytes: &[u8], at: &mut usize) -> Self;
}

/// How collected records of type `T` travel from other processes.
pub(super) fn travel<T: CollectedRows>() -> crate::parallel::Travel<T> {
    crate::parallel::Travel {
        encode: encode_rows::<T>,
        decode: decode_rows::<T>,
        empty: || Collected::gather(Vec::new()),
    }
}

fn encode_rows<T: CollectedRows>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.encode(&mut out);
    out
}

fn decode_rows<T: CollectedRows>(bytes: &[u8]) -> T {
    T::decode(bytes, &mut 0)
}

/// The little-endian `u64` at `*at`, moving past it.
fn take_len(bytes: &[u8], at: &mut usize) -> usize {
    let word: [u8; 8] = bytes[*at..*at + 8]
        .try_into()
        .expect("eight bytes a length");
    *at += 8;
    u64::from_le_bytes(word) as usize
}

impl CollectedRows for () {
    fn encode(&self, _: &mut Vec<u8>) {}
    fn decode(_: &[u8], _: &mut usize) -> Self {}
}

impl<T: crate::Layout> CollectedRows for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.len() as u64).to_le_bytes());
        let mut row = crate::layout::RecordBuilder::new();
        for record in self {
            let bytes = record.encode(&mut row);
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(bytes);
        }
    }

    fn decode(bytes: &[u8], at: &mut usize) -> Self {
        let n = take_len(bytes, at);
        let mut records = Vec::with_capacity(n);
        for _ in 0..n {
            let len = take_len(bytes, at);
            records.push(T::decode(&bytes[*at..*at + len]));
            *at += len;
        }
        records
    }
}

/// What `collect()` sinks gathered, as one worker's part or all of them.
pub trait Collected: Sized {
    /// The parts of the workers of this process, in worker order, as one: each key's
    /// records stay in the order its one worker collected them.
    fn gather(parts: Vec<Self>) -> Self;
}

impl Collected for () {
    fn gather(_: Vec<Self>) -> Self {}
}

impl<T> Collected for Vec<T> {
    fn gather(parts: Vec<Self>) -> Self {
        let mut all = Vec::with_capacity(parts.iter().map(Vec::len).sum());
        for part in parts {
            all.extend(part);
        }
        all
    }
}

macro_rules! tuple_collected {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Collected),+> Collected for ($($name,)+) {
            fn gather(parts: Vec<Self>) -> Self {
                #[allow(non_snake_case)]
                let ($(mut $name,)+) = ($(Vec::<$name>::with_capacity(parts.len()),)+);
                for part in parts {
                    $($name.push(part.$idx);)+
                }
                ($(<$name as Collected>::gather($name),)+)
            }
        }
    };
}

macro_rules! tuple_collected_rows {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: CollectedRows),+> CollectedRows for ($($name,)+) {
            fn encode(&self, out: &mut Vec<u8>) {
                $(self.$idx.encode(out);)+
            }
            fn decode(bytes: &[u8], at: &mut usize) -> Self {
                ($(<$name as CollectedRows>::decode(bytes, at),)+)
            }
        }
    };
}

/// Invokes `$m` for tuples of one to eight collect sinks.
macro_rules! for_tuples_to_eight {
    ($m:ident) => {
        $m!(A 0);
        $m!(A 0, B 1);
        $m!(A 0, B 1, C 2);
        $m!(A 0, B 1, C 2, D 3);
        $m!(A 0, B 1, C 2, D 3, E 4);
        $m!(A 0, B 1, C 2, D 3, E 4, F 5);
        $m!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
        $m!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
    };
}

for_tuples_to_eight!(tuple_collected_rows);
for_tuples_to_eight!(tuple_collected);
