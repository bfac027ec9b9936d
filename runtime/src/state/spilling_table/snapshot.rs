//! An aggregate's state under the keyed-state contract.
//!
//! Until it first spills, a snapshot is the table's entries in first-seen order. Once it
//! has spilled, the table is spilled too and the snapshot is every spilled entry in the
//! order of its `seq`: a key's partial results appear in the order they were made, its
//! first one where the key was first seen. A restore folds them back with the operator's
//! merge function in that order, so it rebuilds the same accumulators and the same
//! first-seen order, on any subset of the key groups. The partitions' files are finished
//! into runs that stay on as the partitions' older part (`finished`), read by the fold at
//! the end.

use super::SpillingTable;
use crate::spill::{split_record, RunReader};
use crate::state::contract::{fold_part, KeyedState, SnapshotReader, SnapshotWriter};
use crate::state::key_hash;
use crate::JobError;

impl SpillingTable {
    /// Whether any entry went to disk.
    pub(super) fn has_spilled(&self) -> bool {
        !self.partitions.is_empty() || !self.finished.is_empty()
    }

    /// Writes every spilled entry, in `seq` order, to `out`, keeping the runs.
    fn snapshot_spilled(&mut self, out: &mut SnapshotWriter) -> Result<(), JobError> {
        self.spill()?;
        let writers = std::mem::take(&mut self.partitions);
        self.finished.resize_with(writers.len(), Vec::new);
        for (p, w) in writers.into_iter().enumerate() {
            self.finished[p].push(w.finish()?);
        }
        // Each run with its partition, oldest first within each.
        let mut owners = Vec::new();
        let mut readers: Vec<RunReader> = Vec::new();
        for (p, part) in self.finished.iter_mut().enumerate() {
            for run in std::mem::take(part) {
                owners.push(p);
                readers.push(run.read()?);
            }
        }
        let mut live = Vec::with_capacity(readers.len());
        for r in &mut readers {
            live.push(r.advance()?);
        }
        let acc_size = self.acc_size;
        let seq = |r: &RunReader| u64::from_le_bytes(r.current()[..8].try_into().expect("8"));
        let merged: Result<(), JobError> = (|| loop {
            let Some(next) = (0..readers.len())
                .filter(|&i| live[i])
                .min_by_key(|&i| seq(&readers[i]))
            else {
                return Ok(());
            };
            let (_, acc, key) = split_record(readers[next].current(), acc_size);
            out.push(key_hash(key), key, acc);
            live[next] = readers[next].advance()?;
        })();
        // Every run goes back to its partition, in the order it was taken out.
        for (p, r) in owners.into_iter().zip(readers) {
            self.finished[p].push(r.into_run());
        }
        merged
    }
}

impl KeyedState for SpillingTable {
    fn memory(&self) -> &crate::memory::OperatorMemory {
        &self.mem
    }

    fn snapshot(&mut self, out: &mut SnapshotWriter) -> Result<(), JobError> {
        if self.has_spilled() {
            return self.snapshot_spilled(out);
        }
        for (hash, key, acc) in self.table.entries() {
            out.push(hash, key, &acc[..self.acc_size]);
        }
        Ok(())
    }

    fn restore(
        &mut self,
        from: &mut SnapshotReader<'_>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError> {
        let acc_size = self.acc_size;
        let spill = self.spill;
        while let Some(entry) = from.next_in(&groups)? {
            if entry.value.len() != acc_size {
                return Err(JobError::SnapshotCorrupt {
                    problem: format!(
                        "an aggregate's entry holds {} bytes of accumulators, not {acc_size}",
                        entry.value.len()
                    ),
                });
            }
            let mut fresh = false;
            let acc = self.upsert(entry.key, |acc| {
                fresh = true;
                acc[..acc_size].copy_from_slice(entry.value);
            })?;
            if !fresh {
                fold_part(&spill, &mut acc[..acc_size], entry.value)?;
            }
        }
        Ok(())
    }
}
