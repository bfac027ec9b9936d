//! The state of a keyed aggregation: a [`KeyedTable`] while it fits the operator's budget;
//! past it, hash partitions on disk, merged partition by partition at the end of the input
//! (grace hash aggregation), with the output in the same order as without spilling.

use std::time::Instant;

use super::storage::keyed_table::{KeyedTable, KeyedTableDrain};
use crate::memory::OperatorMemory;
use crate::spill::{
    can_spill_after, partition, Fold, Run, RunWriter, SeqMerge, SpillSupport, PARTITIONS,
};
use crate::JobError;

/// Keyed accumulators that spill to disk when the operator's budget is spent.
///
/// Until the first spill this is a [`KeyedTable`], and the output is its entries in
/// first-seen order. When the table's pages run out, every entry is written to one of 16
/// partition files by a hash of its key, as `[seq][accumulators][key]`, where `seq` counts
/// entries spilled so far: the table lists entries in first-seen order, so `seq` orders all
/// spilled entries by when their key was first seen in its generation, and the first entry
/// of a key in a partition file is its first sighting of all. The table is emptied and
/// aggregation goes on.
///
/// At the end the table is spilled too, and each partition is merged: its entries are
/// folded into a fresh table (the accumulators combined by the operator's merge function,
/// the earlier part first), which therefore lists keys by their first sighting; its entries
/// go to a run sorted by `seq`. A partition whose keys do not fit is split again by another
/// hash, and the merged halves merged by `seq`. Finally the partitions' runs are merged by
/// `seq`: every key once, with all its records folded in, in first-seen order, as an
/// unspilled run gives it.
///
/// Merging partial results must give what folding records one by one gives, so an
/// operator whose accumulators do not merge exactly (a floating-point sum, a `reduce` that
/// need not be associative) is made with [`SpillSupport::Cannot`] and a reason, and keeps
/// the budget error instead.
#[derive(Debug)]
pub struct SpillingTable {
    table: KeyedTable,
    mem: OperatorMemory,
    acc_size: usize,
    /// Whether and how the operator's partial results merge.
    spill: SpillSupport,
    partitions: Vec<RunWriter>,
    /// Each partition's runs finished by snapshots (`snapshot.rs`), oldest first, before
    /// what its writer holds.
    finished: Vec<Vec<Run>>,
    /// Entries spilled so far: the next entry's `seq`.
    spilled: u64,
}

impl SpillingTable {
    /// Empty state with `acc_size`-byte accumulators; `spill` says whether and how the
    /// operator's state may go to disk.
    pub fn new(
        mem: OperatorMemory,
        acc_size: usize,
        spill: SpillSupport,
    ) -> Result<Self, JobError> {
        Ok(SpillingTable {
            table: KeyedTable::new(mem.clone(), acc_size)?,
            acc_size: acc_size.next_multiple_of(8),
            mem,
            spill,
            partitions: Vec::new(),
            finished: Vec::new(),
            spilled: 0,
        })
    }

    /// The accumulator block of `key`, inserting the key with a block prepared by `init`
    /// if it is new; the table spills first if it has no room.
    #[inline]
    pub fn upsert(
        &mut self,
        key: &[u8],
        mut init: impl FnMut(&mut [u8]),
    ) -> Result<&mut [u8], JobError> {
        let addr = match self.table.upsert_entry(key, &mut init) {
            Ok(addr) => addr,
            Err(e) => {
                self.spill_for(e)?;
                self.table.upsert_entry(key, &mut init)?
            }
        };
        Ok(self.table.acc_at_mut(addr))
    }

    /// End of input: the keys and their accumulators in first-seen order.
    pub fn finish(&mut self) -> Result<AggregateOutput, JobError> {
        if !self.has_spilled() {
            return Ok(AggregateOutput::Memory {
                drain: self.table.drain(),
                skip: 0,
            });
        }
        self.spill()?;
        self.table.shrink();
        let started = Instant::now();
        let partitions = std::mem::take(&mut self.partitions);
        let mut finished = std::mem::take(&mut self.finished);
        finished.resize_with(partitions.len(), Vec::new);
        let SpillSupport::Merge(merge) = self.spill else {
            unreachable!("an operator that cannot spill has no partitions");
        };
        let mut merge = merge;
        let mut fold = Fold::new(&self.mem, self.acc_size, &mut merge);
        let mut merged = Vec::with_capacity(partitions.len());
        for (p, mut runs) in partitions.into_iter().zip(finished) {
            // Oldest first: the fold merges a key's earlier parts before its later ones.
            runs.push(p.finish()?);
            merged.push(fold.fold(runs, 0)?);
        }
        let (keys, key_bytes) = fold.folded();
        self.mem.note_spill_work(0, started.elapsed());
        self.mem.note_unspilled_need(KeyedTable::memory_for(
            keys,
            key_bytes,
            self.acc_size,
            self.mem.page_size(),
        ));
        Ok(AggregateOutput::Merged {
            merge: SeqMerge::new(merged)?,
            acc_size: self.acc_size,
        })
    }

    /// Spills when `e` is the budget running out and the operator may spill; `e` otherwise.
    #[cold]
    fn spill_for(&mut self, e: JobError) -> Result<(), JobError> {
        if !can_spill_after(&e, &self.mem, !self.table.is_empty()) {
            return Err(e);
        }
        match self.spill {
            SpillSupport::Cannot(why) => Err(e.unspillable(why)),
            SpillSupport::Merge(_) => self.spill(),
        }
    }

    /// Writes every entry to its partition and empties the table.
    fn spill(&mut self) -> Result<(), JobError> {
        let started = Instant::now();
        if self.partitions.is_empty() {
            for _ in 0..PARTITIONS {
                self.partitions.push(RunWriter::create(&self.mem)?);
            }
        }
        let mut drain = self.table.drain();
        while let Some((key, acc)) = drain.next_entry() {
            let seq = self.spilled.to_le_bytes();
            self.spilled += 1;
            self.partitions[partition(key, 0)].push(&[&seq, acc, key])?;
        }
        self.mem.note_spill_work(1, started.elapsed());
        Ok(())
    }
}

/// A keyed state's result at the end of input (an aggregate's, a count window's groups):
/// each key and its accumulators, in first-seen order.
#[derive(Debug)]
pub enum AggregateOutput {
    /// Nothing spilled: the table's entries, whose accumulators start `skip` bytes into
    /// each entry's block.
    Memory {
        /// The table's entries.
        drain: KeyedTableDrain,
        /// Bytes of each block before the accumulators.
        skip: usize,
    },
    /// Spilled: the partitions' merged runs, merged by first sighting.
    Merged {
        /// The merge of the partitions' runs.
        merge: SeqMerge,
        /// Bytes of accumulators in each record.
        acc_size: usize,
    },
}

/// A key and its accumulator block.
pub type KeyAndAcc<'a> = (&'a [u8], &'a [u8]);

impl AggregateOutput {
    /// The next key and accumulator block, or `None` after the last.
    #[allow(clippy::should_implement_trait)] // entries borrow the output
    pub fn next(&mut self) -> Result<Option<KeyAndAcc<'_>>, JobError> {
        match self {
            AggregateOutput::Memory { drain, skip } => {
                let skip = *skip;
                Ok(drain.next_entry().map(|(key, acc)| (key, &acc[skip..])))
            }
            AggregateOutput::Merged { merge, acc_size } => {
                let acc_size = *acc_size;
                Ok(merge.next()?.map(|record| {
                    let (acc, key) = record[8..].split_at(acc_size);
                    (key, acc)
                }))
            }
        }
    }
}

mod snapshot;
#[cfg(test)]
mod tests;
