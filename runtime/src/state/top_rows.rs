//! The state of a top-N step: each key's best `n` records so far, in order, as one value
//! of a [`ProcessState`] (so it lives in pool pages, spills, and is snapshot by key group
//! like a process function's state).
//!
//! A key's value is its rows in rank order, each `[order length: u32][record length:
//! u32][order][record]`. The order is a byte string that sorts as the rows should
//! ([`OrderKey`]): a new record goes after every row whose order is less than or equal to
//! its own, so ties keep arrival order.

use super::contract::{KeyedState, SnapshotReader, SnapshotWriter};
use super::ProcessState;
use crate::memory::OperatorMemory;
use crate::JobError;

/// The rows of one key that a new record changed: each changed rank (from 1), the record
/// that held it before (none where the rank was empty), and the record that holds it now.
#[derive(Debug, Default)]
pub struct RankedRows {
    bytes: Vec<u8>,
    rows: Vec<(u64, Option<Span>, Span)>,
}

/// Where a record copied into [`RankedRows`] is: its start and end.
type Span = (usize, usize);

impl RankedRows {
    /// Each changed rank, best first, with its record before and now.
    pub fn iter(&self) -> impl Iterator<Item = (u64, Option<&[u8]>, &[u8])> + '_ {
        self.rows.iter().map(|&(rank, old, (a, b))| {
            (rank, old.map(|(x, y)| &self.bytes[x..y]), &self.bytes[a..b])
        })
    }

    fn copy(&mut self, record: &[u8]) -> (usize, usize) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(record);
        (start, self.bytes.len())
    }
}

/// Each key's best `n` records.
#[derive(Debug)]
pub struct TopRows {
    state: ProcessState,
    n: usize,
    /// The key's rows as read, and as rewritten.
    old: Vec<u8>,
    new: Vec<u8>,
}

impl TopRows {
    /// No key has rows yet; each will keep its best `n`.
    pub fn new(mem: OperatorMemory, n: usize) -> Result<Self, JobError> {
        Ok(TopRows {
            state: ProcessState::new(mem)?,
            n: n.max(1),
            old: Vec::new(),
            new: Vec::new(),
        })
    }

    /// Offers `record`, ordered by `order`, to `key`'s rows. When it makes the best `n`,
    /// `changed` holds the ranks from its own down (every one of them now holds another
    /// record, or was empty) and the result is `true`; else nothing changes.
    pub fn offer(
        &mut self,
        key: &[u8],
        order: &[u8],
        record: &[u8],
        changed: &mut RankedRows,
    ) -> Result<bool, JobError> {
        changed.bytes.clear();
        changed.rows.clear();
        self.old.clear();
        if let Some(rows) = self.state.get(key)? {
            self.old.extend_from_slice(rows);
        }
        let rows = entries(&self.old);
        let at = rows.iter().take_while(|(o, _)| *o <= order).count();
        if at >= self.n {
            return Ok(false);
        }
        self.new.clear();
        let kept = rows.len().min(self.n - 1);
        for (o, r) in rows.iter().take(at) {
            push_entry(&mut self.new, o, r);
        }
        push_entry(&mut self.new, order, record);
        // Rank `at + 1 + i` now holds `now`, and held `rows[at + i]` before, if any.
        let moved = rows.iter().take(kept).skip(at).map(|(_, r)| *r);
        for (i, now) in std::iter::once(record).chain(moved).enumerate() {
            let before = rows.get(at + i).map(|(_, r)| changed.copy(r));
            let now = changed.copy(now);
            changed.rows.push(((at + i + 1) as u64, before, now));
        }
        for (o, r) in rows.iter().take(kept).skip(at) {
            push_entry(&mut self.new, o, r);
        }
        self.state.put(key, &self.new)?;
        Ok(true)
    }

    /// Keys whose rows are in memory, for `--stats`.
    pub fn keys_in_memory(&self) -> usize {
        self.state.keys_in_memory()
    }
}

/// A key's rows: each one's order and record.
fn entries(mut bytes: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out = Vec::new();
    while let Some((head, rest)) = bytes.split_first_chunk::<8>() {
        let olen = u32::from_le_bytes(head[..4].try_into().expect("four")) as usize;
        let rlen = u32::from_le_bytes(head[4..].try_into().expect("four")) as usize;
        let (order, rest) = rest.split_at(olen);
        let (record, rest) = rest.split_at(rlen);
        out.push((order, record));
        bytes = rest;
    }
    out
}

fn push_entry(out: &mut Vec<u8>, order: &[u8], record: &[u8]) {
    out.extend_from_slice(&(order.len() as u32).to_le_bytes());
    out.extend_from_slice(&(record.len() as u32).to_le_bytes());
    out.extend_from_slice(order);
    out.extend_from_slice(record);
}

impl KeyedState for TopRows {
    fn memory(&self) -> &OperatorMemory {
        self.state.memory()
    }

    fn snapshot(&mut self, out: &mut SnapshotWriter) -> Result<(), JobError> {
        self.state.snapshot(out)
    }

    fn restore(
        &mut self,
        from: &mut SnapshotReader<'_>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError> {
        self.state.restore(from, groups)
    }
}

/// A byte string whose order is the order of the values written into it, each ascending
/// or descending (memcomparable): numbers big-endian with their sign bit flipped, floats
/// in their total order, text with its zero bytes escaped and a two-byte end.
#[derive(Debug, Default)]
pub struct OrderKey {
    bytes: Vec<u8>,
}

impl OrderKey {
    /// Empty, ready for the first value.
    pub fn clear(&mut self) -> &mut Self {
        self.bytes.clear();
        self
    }

    /// The bytes written.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn put(&mut self, from: usize, descending: bool) {
        if descending {
            for b in &mut self.bytes[from..] {
                *b = !*b;
            }
        }
    }

    /// Adds `v`.
    pub fn value(&mut self, v: impl OrderValue, descending: bool) -> &mut Self {
        let from = self.bytes.len();
        v.write(&mut self.bytes);
        self.put(from, descending);
        self
    }
}

/// A value a top-N step can order by.
pub trait OrderValue {
    /// Appends the value's memcomparable bytes.
    fn write(&self, out: &mut Vec<u8>);
}

impl OrderValue for u64 {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
}

impl OrderValue for i64 {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&((*self as u64) ^ (1 << 63)).to_be_bytes());
    }
}

impl OrderValue for f64 {
    /// `-0.0` before `0.0`, NaNs at the ends (as `f64::total_cmp`).
    fn write(&self, out: &mut Vec<u8>) {
        let bits = self.to_bits();
        let key = if bits >> 63 == 1 {
            !bits
        } else {
            bits | (1 << 63)
        };
        out.extend_from_slice(&key.to_be_bytes());
    }
}

impl OrderValue for bool {
    fn write(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl OrderValue for &str {
    fn write(&self, out: &mut Vec<u8>) {
        for &b in self.as_bytes() {
            out.push(b);
            if b == 0 {
                out.push(0xff);
            }
        }
        out.extend_from_slice(&[0, 0]);
    }
}

impl OrderValue for String {
    fn write(&self, out: &mut Vec<u8>) {
        self.as_str().write(out)
    }
}

impl OrderValue for std::borrow::Cow<'_, str> {
    fn write(&self, out: &mut Vec<u8>) {
        self.as_ref().write(out)
    }
}

impl<T: OrderValue> OrderValue for &T {
    fn write(&self, out: &mut Vec<u8>) {
        (*self).write(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(v: impl OrderValue, descending: bool) -> Vec<u8> {
        let mut k = OrderKey::default();
        k.value(v, descending);
        k.bytes().to_vec()
    }

    #[test]
    fn order_keys_sort_as_their_values() {
        let ints = [i64::MIN, -5, -1, 0, 1, 7, i64::MAX];
        for w in ints.windows(2) {
            assert!(key(w[0], false) < key(w[1], false));
            assert!(key(w[0], true) > key(w[1], true));
        }
        let floats = [
            f64::NEG_INFINITY,
            -2.5,
            -0.0,
            0.0,
            1e-300,
            3.0,
            f64::INFINITY,
        ];
        for w in floats.windows(2) {
            assert!(key(w[0], false) < key(w[1], false), "{w:?}");
        }
        let words = ["", "a", "a\0", "a\0b", "ab", "abc", "b"];
        for w in words.windows(2) {
            assert!(key(w[0], false) < key(w[1], false), "{w:?}");
            assert!(key(w[0], true) > key(w[1], true), "{w:?}");
        }
        // Two values: the first decides, the second breaks ties.
        let pair = |a: u64, b: &str| {
            let mut k = OrderKey::default();
            k.value(a, true).value(b, false);
            k.bytes().to_vec()
        };
        assert!(pair(9, "z") < pair(3, "a"));
        assert!(pair(3, "a") < pair(3, "b"));
    }

    /// The best three of a stream against sorting everything seen so far.
    #[test]
    fn a_key_keeps_its_best_rows_in_order_ties_in_arrival_order() {
        let pool = crate::memory::SegmentPool::new(1 << 20, 4096);
        let mem = pool.operator("top", "t.pipe:2:6", 256);
        let mut top = TopRows::new(mem, 3).unwrap();
        let mut changed = RankedRows::default();
        let mut seen: Vec<(u64, u64)> = Vec::new();
        let mut before: Vec<(u64, u64)> = Vec::new();
        let values = [5u64, 9, 5, 1, 9, 7, 2, 9, 8, 5];
        for (i, v) in values.into_iter().enumerate() {
            let mut order = OrderKey::default();
            order.value(v, true);
            let record = (i as u64).to_le_bytes();
            let made = top
                .offer(b"k", order.bytes(), &record, &mut changed)
                .unwrap();
            seen.push((v, i as u64));
            // Best first; ties by arrival.
            let mut best = seen.clone();
            best.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            best.truncate(3);
            let rank = best.iter().position(|&(_, at)| at == i as u64);
            assert_eq!(made, rank.is_some(), "value {v}");
            if let Some(rank) = rank {
                let read = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap());
                let rows: Vec<(u64, Option<u64>, u64)> = changed
                    .iter()
                    .map(|(r, old, now)| (r, old.map(read), read(now)))
                    .collect();
                let want: Vec<(u64, Option<u64>, u64)> = best[rank..]
                    .iter()
                    .enumerate()
                    .map(|(j, &(_, at))| {
                        let r = rank + j;
                        ((r + 1) as u64, before.get(r).map(|&(_, at)| at), at)
                    })
                    .collect();
                assert_eq!(rows, want, "value {v}");
            }
            before = best;
        }
    }
}
