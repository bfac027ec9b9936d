//! The state of `distinct`: the keys seen so far. In a [`KeyedTable`] while they fit the
//! operator's budget; past it, on disk as runs sorted by hash ([`KeyRuns`]), where a key
//! not in memory is looked up.

use std::time::Instant;

use super::storage::keyed_table::KeyedTable;
use crate::memory::OperatorMemory;
use crate::spill::{can_spill_after, KeyRuns};
use crate::JobError;

/// The keys a `distinct` has seen.
///
/// A key is first seen when it is neither in memory nor on disk. When the table's pages
/// run out, all its keys are written to disk in hash order (sorted in place, in the table's
/// own index pages) and the table starts empty; a key found on disk is kept in memory again,
/// so a key that recurs is read from disk once per spill at most. Answers are the same as
/// with all keys in memory, so `distinct` emits the same records in the same order.
#[derive(Debug)]
pub struct SeenKeys {
    table: KeyedTable,
    mem: OperatorMemory,
    disk: Option<KeyRuns>,
    /// Keys seen, and their bytes: what memory alone would have had to hold.
    seen: u64,
    seen_bytes: u64,
}

impl SeenKeys {
    /// No key seen yet. Takes its first page at once, so a budget too small for any state
    /// fails at start.
    pub fn new(mem: OperatorMemory) -> Result<Self, JobError> {
        Ok(SeenKeys {
            table: KeyedTable::new(mem.clone(), 0)?,
            mem,
            disk: None,
            seen: 0,
            seen_bytes: 0,
        })
    }

    /// Whether this is the first time `key` is seen; it is seen from now on.
    #[inline]
    pub fn first_sight(&mut self, key: &[u8]) -> Result<bool, JobError> {
        let mut fresh = false;
        if let Err(e) = self.table.upsert_entry(key, |_| fresh = true) {
            self.spill_for(e)?;
            self.table.upsert_entry(key, |_| fresh = true)?;
        }
        if !fresh {
            return Ok(false);
        }
        let first = match &mut self.disk {
            None => true,
            Some(disk) => !disk.contains(self.table.hash_of(key), key)?,
        };
        if first {
            self.seen += 1;
            self.seen_bytes += key.len() as u64;
        }
        Ok(first)
    }

    /// Spills when `e` is the budget running out and the operator may spill; `e` otherwise.
    #[cold]
    fn spill_for(&mut self, e: JobError) -> Result<(), JobError> {
        if !can_spill_after(&e, &self.mem, !self.table.is_empty()) {
            return Err(e);
        }
        let started = Instant::now();
        let disk = self
            .disk
            .get_or_insert_with(|| KeyRuns::new(self.mem.clone()));
        let table = &mut self.table;
        disk.add(table.len(), |push| {
            table.drain_by_hash(|hash, key, _| push(hash, key, &[]))
        })?;
        self.mem.note_spill_work(1, started.elapsed());
        self.note_need();
        Ok(())
    }

    /// Records about the budget that would have held every key seen so far.
    fn note_need(&self) {
        let need = KeyedTable::memory_for(self.seen, self.seen_bytes, 0, self.mem.page_size());
        self.mem.note_unspilled_need(need);
    }
}

/// Under the keyed-state contract a snapshot is every key seen, on disk (the runs merged
/// into one, which stays) and in memory; a key in both is written twice, and restored once.
impl super::contract::KeyedState for SeenKeys {
    fn memory(&self) -> &OperatorMemory {
        &self.mem
    }

    fn snapshot(&mut self, out: &mut super::contract::SnapshotWriter) -> Result<(), JobError> {
        if let Some(disk) = &mut self.disk {
            disk.visit_newest(|hash, key, _| {
                out.push(hash, key, &[]);
                Ok(())
            })?;
        }
        for (hash, key, _) in self.table.entries() {
            out.push(hash, key, &[]);
        }
        Ok(())
    }

    fn restore(
        &mut self,
        from: &mut super::contract::SnapshotReader<'_>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError> {
        while let Some(entry) = from.next_in(&groups)? {
            self.first_sight(entry.key)?;
        }
        Ok(())
    }
}

impl Drop for SeenKeys {
    /// The run report is made after the job's state is dropped: the keys seen by the end
    /// give the amount the advice names.
    fn drop(&mut self) {
        if self.disk.is_some() {
            self.note_need();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SegmentPool;
    use crate::spill::SpillSpace;
    use proptest::prelude::*;

    fn seen(pages: u64, dir: Option<&std::path::Path>) -> (std::sync::Arc<SegmentPool>, SeenKeys) {
        let pool = SegmentPool::new(pages * 256, 256);
        let mut mem = pool.operator("distinct", "t.pipe:2:6", pages);
        if let Some(dir) = dir {
            mem = mem.with_spill(SpillSpace::new(Some(dir.to_path_buf()), "t"));
        }
        (pool.clone(), SeenKeys::new(mem).unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        /// Under 6 pages of 256 bytes, keys go to disk many times; every answer is a
        /// `HashSet`'s.
        #[test]
        fn answers_match_a_hash_set(keys in proptest::collection::vec("[a-z]{1,2}[0-9]{0,4}", 0..3000)) {
            let dir = tempfile::tempdir().unwrap();
            let (_, mut s) = seen(6, Some(dir.path()));
            let mut reference = std::collections::HashSet::new();
            for k in &keys {
                prop_assert_eq!(s.first_sight(k.as_bytes()).unwrap(), reference.insert(k.clone()), "{}", k);
            }
        }
    }

    #[test]
    fn many_keys_spill_and_merge_runs_and_still_answer_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let (pool, mut s) = seen(6, Some(dir.path()));
        let mut reference = std::collections::HashSet::new();
        for i in 0..20_000u64 {
            let k = format!("k{}", (i * 7919) % 6007);
            assert_eq!(s.first_sight(k.as_bytes()).unwrap(), reference.insert(k));
        }
        let usage = &pool.usage()[0];
        assert!(usage.spill_runs > 20, "{usage:?}");
        assert!(usage.read_back_bytes > 0, "{usage:?}");
    }

    #[test]
    fn without_a_spill_space_the_budget_error_stands() {
        let (_, mut s) = seen(6, None);
        let err = (0..10_000)
            .find_map(|i| s.first_sight(format!("key{i}").as_bytes()).err())
            .expect("the budget runs out");
        assert!(matches!(err, JobError::MemoryBudget { .. }), "{err}");
    }
}
