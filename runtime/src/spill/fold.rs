//! Folding spilled partial results back together: runs of `[seq][accumulators][key]`
//! records, read in order with `seq` increasing, become one run with each key once, its
//! accumulators merged, sorted by the `seq` of its first record. Memory is the operator's
//! budget: keys that do not fit are split by hash into smaller folds, level after level,
//! and their results merged by `seq`.

use std::hash::BuildHasher;

use super::{Run, RunWriter, SeqMerge};
use crate::memory::OperatorMemory;
use crate::state::KeyedTable;
use crate::JobError;

/// Partitions a spill is split into, at every level.
pub const PARTITIONS: usize = 16;
/// Levels of re-partitioning before giving up: 16^6 partitions is far past any key set a
/// budget that holds one key could need.
const MAX_LEVEL: u32 = 6;

/// Folds spilled partial results of one operator.
pub struct Fold<'a> {
    mem: &'a OperatorMemory,
    acc_size: usize,
    merge: &'a mut dyn FnMut(&mut [u8], &[u8]),
    /// Keys in the folded results, and their bytes.
    keys: u64,
    key_bytes: u64,
}

impl std::fmt::Debug for Fold<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fold")
            .field("acc_size", &self.acc_size)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl<'a> Fold<'a> {
    /// A fold of records with `acc_size`-byte accumulators, combined by `merge(into,
    /// from)` (`from` is the later part), in `mem`'s pages and spill space.
    pub fn new(
        mem: &'a OperatorMemory,
        acc_size: usize,
        merge: &'a mut dyn FnMut(&mut [u8], &[u8]),
    ) -> Self {
        Fold {
            mem,
            acc_size,
            merge,
            keys: 0,
            key_bytes: 0,
        }
    }

    /// Keys folded so far, and their bytes: what an unspilled table would have held.
    pub fn folded(&self) -> (u64, u64) {
        (self.keys, self.key_bytes)
    }

    /// Folds `runs`, read one after the other (split at `level`: 0 for the first split,
    /// whose partitions the caller made with [`partition`]`(key, 0)`).
    ///
    /// The first record of a key in the stream has its smallest `seq`, so a table filled
    /// in stream order lists keys by `seq`: its entries are the sorted result.
    pub fn fold(&mut self, runs: Vec<Run>, level: u32) -> Result<Run, JobError> {
        let mut table = KeyedTable::new(self.mem.clone(), 8 + self.acc_size)?;
        let mut readers = Vec::with_capacity(runs.len());
        let mut overflow = None;
        'runs: for run in runs {
            if overflow.is_some() {
                readers.push(run);
                continue;
            }
            let mut reader = run.read()?;
            while let Some(record) = reader.next()? {
                let (seq, acc, key) = split_record(record, self.acc_size);
                let mut fresh = false;
                let entry = table.upsert_entry(key, |block| {
                    fresh = true;
                    block[..8].copy_from_slice(seq);
                    block[8..].copy_from_slice(acc);
                });
                match entry {
                    Ok(addr) if !fresh => (self.merge)(&mut table.acc_at_mut(addr)[8..], acc),
                    Ok(_) => {}
                    Err(e @ JobError::MemoryBudget { .. }) => {
                        overflow = Some(e);
                        readers.push(reader.into_run());
                        continue 'runs;
                    }
                    Err(e) => return Err(e),
                }
            }
            readers.push(reader.into_run());
        }
        if let Some(e) = overflow {
            drop(table);
            if level >= MAX_LEVEL {
                return Err(e);
            }
            return self.split(readers, level + 1);
        }
        let mut out = RunWriter::create(self.mem)?;
        let mut drain = table.drain();
        while let Some((key, block)) = drain.next_entry() {
            self.keys += 1;
            self.key_bytes += key.len() as u64;
            out.push(&[block, key])?;
        }
        out.finish()
    }

    /// Splits `runs` into partitions by the hash of `level`, folds each, and merges the
    /// results by `seq` into one run.
    fn split(&mut self, runs: Vec<Run>, level: u32) -> Result<Run, JobError> {
        let mut parts: Vec<RunWriter> = (0..PARTITIONS)
            .map(|_| RunWriter::create(self.mem))
            .collect::<Result<_, _>>()?;
        for run in runs {
            let mut reader = run.read()?;
            while let Some(record) = reader.next()? {
                let (_, _, key) = split_record(record, self.acc_size);
                parts[partition(key, level)].push(&[record])?;
            }
        }
        let mut folded = Vec::with_capacity(PARTITIONS);
        for part in parts {
            folded.push(self.fold(vec![part.finish()?], level)?);
        }
        SeqMerge::new(folded)?.into_run(self.mem)
    }
}

/// A spilled record's `seq` bytes, accumulators and key.
pub fn split_record(record: &[u8], acc_size: usize) -> (&[u8], &[u8], &[u8]) {
    let (seq, rest) = record.split_at(8);
    let (acc, key) = rest.split_at(acc_size);
    (seq, acc, key)
}

/// The partition of `key` at `level`: a hash seeded per level, so that a partition split
/// again spreads over all new partitions.
pub fn partition(key: &[u8], level: u32) -> usize {
    let hasher = foldhash::fast::FixedState::with_seed(0x5350_494c_4c00 + u64::from(level));
    (hasher.hash_one(key) >> 60) as usize % PARTITIONS
}
