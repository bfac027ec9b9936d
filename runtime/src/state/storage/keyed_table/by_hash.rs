//! A keyed table's entries in a chosen order: by hash, for state that goes to disk as runs
//! looked up by hash, or by anything else the caller compares (a sequence number in the
//! accumulators). Sorted in place in the table's own index pages (a heapsort of the
//! slots), so it takes no memory beyond the budget.

use std::cmp::Ordering;

use super::super::slot_index::ADDR_MASK;
use super::KeyedTable;
use crate::JobError;

impl KeyedTable {
    /// The hash the table files `key` under: the one key hash.
    pub fn hash_of(&self, key: &[u8]) -> u64 {
        crate::state::key_hash(key)
    }

    /// Calls `each(hash, key, accumulators)` for every entry in order of hash (then key),
    /// then empties the table, giving its data pages back.
    pub fn drain_by_hash(
        &mut self,
        each: impl FnMut(u64, &[u8], &[u8]) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        self.drain_sorted(
            |t, a, b| {
                t.entry_hash(a)
                    .cmp(&t.entry_hash(b))
                    .then_with(|| t.entry_key(a).cmp(t.entry_key(b)))
            },
            each,
        )
    }

    /// Calls `each(hash, key, accumulators)` for every entry in the order of
    /// `accumulators`, compared by `order`, then empties the table.
    pub fn drain_by_accumulators(
        &mut self,
        order: impl Fn(&[u8], &[u8]) -> Ordering,
        each: impl FnMut(u64, &[u8], &[u8]) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        self.drain_sorted(|t, a, b| order(t.acc_at(a), t.acc_at(b)), each)
    }

    /// Sorts the entries by `order` (over entry addresses), hands them to `each`, then
    /// empties the table.
    fn drain_sorted(
        &mut self,
        order: impl Fn(&Self, u64, u64) -> Ordering,
        mut each: impl FnMut(u64, &[u8], &[u8]) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        // Gather the live slots at the front of the index.
        let mut len = 0;
        for i in 0..self.index.capacity() {
            let slot = self.slot(i);
            if slot != 0 {
                self.set_slot(i, 0);
                self.set_slot(len, slot);
                len += 1;
            }
        }
        debug_assert_eq!(len, self.len);
        // Heapsort: a max-heap of slots by (hash, key), then the largest moved to the end.
        for root in (0..len / 2).rev() {
            self.sift_down(root, len, &order);
        }
        for end in (1..len).rev() {
            self.swap_slots(0, end);
            self.sift_down(0, end, &order);
        }
        let mut result = Ok(());
        for i in 0..len {
            let addr = (self.slot(i) & ADDR_MASK) - 1;
            result = each(
                self.entry_hash(addr),
                self.entry_key(addr),
                self.acc_at(addr),
            );
            if result.is_err() {
                break;
            }
        }
        // The table is emptied either way: what was not written is lost with the job.
        drop(self.drain());
        result
    }

    fn sift_down(
        &mut self,
        mut root: usize,
        len: usize,
        order: &impl Fn(&Self, u64, u64) -> Ordering,
    ) {
        let addr = |t: &Self, i: usize| (t.slot(i) & ADDR_MASK) - 1;
        loop {
            let mut largest = root;
            for child in [2 * root + 1, 2 * root + 2] {
                if child < len
                    && order(self, addr(self, child), addr(self, largest)) == Ordering::Greater
                {
                    largest = child;
                }
            }
            if largest == root {
                return;
            }
            self.swap_slots(root, largest);
            root = largest;
        }
    }

    fn swap_slots(&mut self, a: usize, b: usize) {
        let (x, y) = (self.slot(a), self.slot(b));
        self.set_slot(a, y);
        self.set_slot(b, x);
    }
}

#[cfg(test)]
mod tests {
    use crate::memory::SegmentPool;
    use crate::state::KeyedTable;

    #[test]
    fn entries_come_out_by_hash_and_the_table_is_emptied() {
        let pool = SegmentPool::new(64 * 512, 512);
        let mut t = KeyedTable::new(pool.operator("distinct", "", 64), 0).unwrap();
        let keys: Vec<String> = (0..700).map(|i| format!("key{}", i * 31 % 701)).collect();
        for k in &keys {
            t.upsert_entry(k.as_bytes(), |_| {}).unwrap();
        }
        let mut got = Vec::new();
        t.drain_by_hash(|hash, key, _| {
            got.push((hash, key.to_vec()));
            Ok(())
        })
        .unwrap();
        let mut want: Vec<(u64, Vec<u8>)> = keys
            .iter()
            .map(|k| (t.hash_of(k.as_bytes()), k.as_bytes().to_vec()))
            .collect();
        want.sort();
        assert_eq!(got, want);
        assert!(t.is_empty());
        // Still usable, and its data pages are back: only the index is held.
        t.upsert_entry(b"again", |_| {}).unwrap();
        assert_eq!(t.len(), 1);
    }
}
