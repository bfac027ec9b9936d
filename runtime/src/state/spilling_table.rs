//! The state of a keyed aggregation: a [`KeyedTable`] while it fits the operator's budget;
//! past it, hash partitions on disk, merged partition by partition at the end of the input
//! (grace hash aggregation), with the output in the same order as without spilling.

use std::hash::BuildHasher;
use std::time::Instant;

use super::keyed_table::{KeyedTable, KeyedTableDrain};
use crate::memory::OperatorMemory;
use crate::spill::{Run, RunWriter, SeqMerge};
use crate::JobError;

/// Partitions a spill is split into, at every level.
const PARTITIONS: usize = 16;
/// Levels of re-partitioning before giving up: 16^6 partitions is far past any key set a
/// budget that holds one key could need.
const MAX_LEVEL: u32 = 6;

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
/// need not be associative) is made with a reason it cannot spill, and keeps the budget
/// error instead.
#[derive(Debug)]
pub struct SpillingTable {
    table: KeyedTable,
    mem: OperatorMemory,
    acc_size: usize,
    /// Why this operator may not spill, if it may not.
    cannot_spill: Option<&'static str>,
    partitions: Vec<RunWriter>,
    /// Entries spilled so far: the next entry's `seq`.
    spilled: u64,
    /// Keys merged at the end, and their bytes: what an unspilled table would have held.
    merged_keys: u64,
    merged_key_bytes: u64,
}

impl SpillingTable {
    /// Empty state with `acc_size`-byte accumulators. `cannot_spill` is why the operator's
    /// state may not go to disk (`None` when it may).
    pub fn new(
        mem: OperatorMemory,
        acc_size: usize,
        cannot_spill: Option<&'static str>,
    ) -> Result<Self, JobError> {
        Ok(SpillingTable {
            table: KeyedTable::new(mem.clone(), acc_size)?,
            acc_size: acc_size.next_multiple_of(8),
            mem,
            cannot_spill,
            partitions: Vec::new(),
            spilled: 0,
            merged_keys: 0,
            merged_key_bytes: 0,
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

    /// End of input: the keys and their accumulators in first-seen order. `merge(into,
    /// from)` folds the accumulators `from` (later records) into `into`.
    pub fn finish(
        &mut self,
        merge: &mut dyn FnMut(&mut [u8], &[u8]),
    ) -> Result<AggregateOutput, JobError> {
        if self.partitions.is_empty() {
            return Ok(AggregateOutput::Memory(self.table.drain()));
        }
        self.spill()?;
        self.table.shrink();
        let started = Instant::now();
        let partitions = std::mem::take(&mut self.partitions);
        let mut merged = Vec::with_capacity(partitions.len());
        for p in partitions {
            merged.push(self.merge_partition(p.finish()?, 1, merge)?);
        }
        self.mem.note_spill_work(0, started.elapsed());
        self.mem.note_unspilled_need(KeyedTable::memory_for(
            self.merged_keys,
            self.merged_key_bytes,
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
        match e {
            JobError::MemoryBudget { .. } if self.table.is_empty() => Err(e),
            JobError::MemoryBudget { .. } if !self.mem.can_spill() => Err(e),
            JobError::MemoryBudget { .. } => match self.cannot_spill {
                Some(why) => Err(e.unspillable(why)),
                None => self.spill(),
            },
            e => Err(e),
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

    /// Folds the entries of partition run `run` (split at `level`) into one run of each
    /// key's `[seq][accumulators][key]`, sorted by `seq`.
    fn merge_partition(
        &mut self,
        run: Run,
        level: u32,
        merge: &mut dyn FnMut(&mut [u8], &[u8]),
    ) -> Result<Run, JobError> {
        if run.records() == 0 {
            return Ok(run);
        }
        let mut table = KeyedTable::new(self.mem.clone(), 8 + self.acc_size)?;
        let mut reader = run.read()?;
        let overflow = loop {
            let Some(record) = reader.next()? else {
                break None;
            };
            let (seq, acc, key) = self.split_record(record);
            let mut fresh = false;
            let entry = table.upsert_entry(key, |block| {
                fresh = true;
                block[..8].copy_from_slice(seq);
                block[8..].copy_from_slice(acc);
            });
            match entry {
                Ok(addr) if !fresh => merge(&mut table.acc_at_mut(addr)[8..], acc),
                Ok(_) => {}
                Err(e @ JobError::MemoryBudget { .. }) => break Some(e),
                Err(e) => return Err(e),
            }
        };
        if let Some(e) = overflow {
            drop(table);
            if level >= MAX_LEVEL {
                return Err(e);
            }
            return self.split_and_merge(reader.into_run(), level, merge);
        }
        let mut out = RunWriter::create(&self.mem)?;
        let mut drain = table.drain();
        while let Some((key, block)) = drain.next_entry() {
            self.merged_keys += 1;
            self.merged_key_bytes += key.len() as u64;
            out.push(&[block, key])?;
        }
        out.finish()
    }

    /// Splits `run` into partitions by the hash of `level`, merges each, and merges the
    /// results by `seq` into one run.
    fn split_and_merge(
        &mut self,
        run: Run,
        level: u32,
        merge: &mut dyn FnMut(&mut [u8], &[u8]),
    ) -> Result<Run, JobError> {
        let mut parts: Vec<RunWriter> = (0..PARTITIONS)
            .map(|_| RunWriter::create(&self.mem))
            .collect::<Result<_, _>>()?;
        let mut reader = run.read()?;
        while let Some(record) = reader.next()? {
            let (_, _, key) = self.split_record(record);
            parts[partition(key, level)].push(&[record])?;
        }
        drop(reader);
        let mut merged = Vec::with_capacity(PARTITIONS);
        for part in parts {
            merged.push(self.merge_partition(part.finish()?, level + 1, merge)?);
        }
        SeqMerge::new(merged)?.into_run(&self.mem)
    }

    /// A spilled record's `seq` bytes, accumulators and key.
    fn split_record<'r>(&self, record: &'r [u8]) -> (&'r [u8], &'r [u8], &'r [u8]) {
        let (seq, rest) = record.split_at(8);
        let (acc, key) = rest.split_at(self.acc_size);
        (seq, acc, key)
    }
}

/// The partition of `key` at `level`: a hash seeded per level, so that a partition split
/// again spreads over all new partitions.
fn partition(key: &[u8], level: u32) -> usize {
    let hasher = foldhash::fast::FixedState::with_seed(0x5350_494c_4c00 + u64::from(level));
    (hasher.hash_one(key) >> 60) as usize % PARTITIONS
}

/// A keyed aggregation's result at the end of input: each key and its accumulators, in
/// first-seen order.
#[derive(Debug)]
pub enum AggregateOutput {
    /// Nothing spilled: the table's entries.
    Memory(KeyedTableDrain),
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
            AggregateOutput::Memory(drain) => Ok(drain.next_entry()),
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

#[cfg(test)]
mod tests;
