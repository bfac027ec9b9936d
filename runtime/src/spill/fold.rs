//! Folding spilled partial results back together: runs of `[seq][accumulators][key]`
//! records, read in order with `seq` increasing, become one run with each key once, its
//! accumulators merged, sorted by the `seq` of its first record. Memory is the operator's
//! budget: keys that do not fit are split by hash into smaller folds, level after level,
//! and their results merged by `seq`. Records of text aggregates carry their values
//! (`[seq][accumulators][text length: u32][text][key]`), which the fold brings into pages
//! and merges as the aggregates say ([`Fold::with_text`]).

use std::hash::BuildHasher;

use super::{Run, RunWriter, SeqMerge};
use crate::memory::OperatorMemory;
use crate::state::{KeyedTable, SessionExtra, TextAccumulators, TextSlot};
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
    /// The values of the records' text aggregates while they are folded, when they have
    /// any.
    text: Option<TextAccumulators>,
    /// A record's accumulators with its text values brought in, before they merge.
    scratch: Vec<u8>,
    /// Memory the folded keys took in pages, tables and values: what an unspilled state
    /// would have held.
    held: u64,
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
            text: None,
            scratch: Vec::new(),
            held: 0,
        }
    }

    /// A fold of records that carry the values of text aggregates in `slots`. Their
    /// values are carved in order; when a key's values alone no longer fit, they are
    /// copied out and back in, packed ([`compact`](Self::compact)).
    pub fn with_text(mut self, slots: &'static [TextSlot]) -> Self {
        self.text = Some(TextAccumulators::in_time_order(self.mem.clone(), slots));
        self
    }

    /// How the records divide.
    fn shape(&self) -> RecordShape {
        RecordShape {
            acc_size: self.acc_size,
            text: self.text.is_some(),
        }
    }

    /// Keys folded so far, and their bytes: what an unspilled table would have held.
    pub fn folded(&self) -> (u64, u64) {
        (self.keys, self.key_bytes)
    }

    /// Memory the folds took in all (each fold's table with its keys' values, measured
    /// in pages when it was complete): with values outside the accumulators, what an
    /// unspilled state would have held, about.
    pub fn held_bytes(&self) -> u64 {
        self.held
    }

    /// Folds `runs`, read one after the other (split at `level`: 0 for the first split,
    /// whose partitions the caller made with [`partition`]`(key, 0)`).
    ///
    /// The first record of a key in the stream has its smallest `seq`, so a table filled
    /// in stream order lists keys by `seq`: its entries are the sorted result.
    pub fn fold(&mut self, runs: Vec<Run>, level: u32) -> Result<Run, JobError> {
        let before = self.mem.pages_in_use();
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
                let (seq, acc, text, key) = self.shape().split(record);
                // `fresh`: the key's entry was made for this record (and holds its
                // accumulators); only its text values are still to come in.
                let (mut fresh, mut compacted) = (false, false);
                let landed = loop {
                    let landed = if fresh {
                        table.upsert_entry(key, |_| {}).and_then(|addr| {
                            self.land(&mut table.acc_at_mut(addr)[8..], acc, text, true)
                        })
                    } else {
                        let entry = table.upsert_entry(key, |block| {
                            fresh = true;
                            block[..8].copy_from_slice(seq);
                            block[8..].copy_from_slice(acc);
                        });
                        entry.and_then(|addr| {
                            self.land(&mut table.acc_at_mut(addr)[8..], acc, text, fresh)
                        })
                    };
                    match landed {
                        // Its table is as small as it gets: pack the values it has.
                        Err(JobError::MemoryBudget { .. })
                            if self.text.is_some() && table.len() <= 1 && !compacted =>
                        {
                            compacted = true;
                            if let Err(e) = self.compact(&mut table) {
                                break Err(e);
                            }
                        }
                        landed => break landed,
                    }
                };
                match landed {
                    Ok(()) => {}
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
            // Every value in the store was one of the table's.
            if let Some(values) = &mut self.text {
                values.clear();
            }
            if level >= MAX_LEVEL {
                return Err(e);
            }
            return self.split(readers, level + 1);
        }
        let pages = self.mem.pages_in_use().saturating_sub(before);
        self.held += pages * self.mem.page_size() as u64;
        let mut out = RunWriter::create(self.mem)?;
        let mut drain = table.drain();
        while let Some((key, block)) = drain.next_entry() {
            self.keys += 1;
            self.key_bytes += key.len() as u64;
            match &self.text {
                None => out.push(&[block, key])?,
                Some(values) => {
                    self.scratch.clear();
                    values.copy(&block[8..], &mut self.scratch);
                    let len = (self.scratch.len() as u32).to_le_bytes();
                    out.push(&[block, &len, &self.scratch, key])?;
                }
            }
        }
        if let Some(values) = &mut self.text {
            values.clear();
        }
        out.finish()
    }

    /// Lands a record's accumulators `acc` (with its text values `text`) in the table's
    /// block `into`, which is the record's copy when `fresh`. A budget error changes
    /// nothing but a fresh block's text slots, which are left empty.
    fn land(
        &mut self,
        into: &mut [u8],
        acc: &[u8],
        text: &[u8],
        fresh: bool,
    ) -> Result<(), JobError> {
        let Some(values) = &mut self.text else {
            if !fresh {
                (self.merge)(into, acc);
            }
            return Ok(());
        };
        if fresh {
            let restored = values.restore(into, text);
            if restored.is_err() {
                TextAccumulators::empty(values.slots(), into);
            }
            return restored;
        }
        // The later part's values in pages first: merging them cannot fail.
        self.scratch.clear();
        self.scratch.extend_from_slice(acc);
        values.restore(&mut self.scratch, text)?;
        (self.merge)(into, &self.scratch);
        values.merge(into, &self.scratch);
        Ok(())
    }

    /// Copies the text values of `table`'s keys out and back in, packed: values carved
    /// in order leave pages held by a few live values as a key's parts come and go.
    fn compact(&mut self, table: &mut KeyedTable) -> Result<(), JobError> {
        let values = self.text.as_mut().expect("a fold of text values");
        let mut kept = Vec::with_capacity(table.len());
        let mut drain = table.drain();
        while let Some((key, block)) = drain.next_entry() {
            let mut text = Vec::new();
            values.copy(&block[8..], &mut text);
            kept.push((key.to_vec(), block.to_vec(), text));
        }
        drop(drain);
        values.clear();
        *table = KeyedTable::new(self.mem.clone(), 8 + self.acc_size)?;
        for (key, block, text) in kept {
            let addr = table.upsert_entry(&key, |b| b.copy_from_slice(&block))?;
            let into = &mut table.acc_at_mut(addr)[8..];
            if let Err(e) = values.restore(into, &text) {
                TextAccumulators::empty(values.slots(), into);
                return Err(e);
            }
        }
        Ok(())
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
                let (_, _, _, key) = self.shape().split(record);
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

/// How a spilled record's bytes divide: `[seq][accumulators][key]`, or, for records that
/// carry the values of text aggregates, `[seq][accumulators][text length: u32][text][key]`
/// (the text as [`SessionExtra::copy`] writes it).
#[derive(Debug, Clone, Copy)]
pub struct RecordShape {
    /// Bytes of accumulators.
    pub acc_size: usize,
    /// Whether text values follow the accumulators.
    pub text: bool,
}

impl RecordShape {
    /// A record's `seq` bytes, accumulators, text values (empty without) and key.
    #[inline]
    pub fn split(self, record: &[u8]) -> (&[u8], &[u8], &[u8], &[u8]) {
        let (seq, acc, rest) = split_record(record, self.acc_size);
        if !self.text {
            return (seq, acc, &[], rest);
        }
        let (len, rest) = rest.split_first_chunk::<4>().expect("a text length");
        let (text, key) = rest.split_at(u32::from_le_bytes(*len) as usize);
        (seq, acc, text, key)
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
