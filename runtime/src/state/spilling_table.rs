//! The state of a keyed aggregation: a [`KeyedTable`] while it fits the operator's budget;
//! past it, hash partitions on disk, merged partition by partition at the end of the input
//! (grace hash aggregation), with the output in the same order as without spilling.

use std::time::Instant;

use super::storage::keyed_table::{KeyedTable, KeyedTableDrain};
use super::{SessionExtra, TextAccumulators};
use crate::memory::OperatorMemory;
use crate::spill::{
    can_spill_after, partition, Fold, RecordShape, Run, RunWriter, SeqMerge, SpillSupport,
    PARTITIONS,
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
///
/// The values of text aggregates (`first(page)`) live beside the table, in chunks carved
/// in order, and go wherever their key's accumulators go (`text.rs`).
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
    /// The values of the operator's text aggregates, if it has any.
    text: Option<Box<TextAccumulators>>,
    /// Whether the table went to disk for the record being landed: if its values still
    /// do not fit, nothing more can be moved.
    moved: bool,
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
            text: None,
            moved: false,
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
            return Ok(AggregateOutput::memory(self.table.drain(), 0).with_text(self.text.take()));
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
        if let Some(text) = &self.text {
            fold = fold.with_text(text.slots());
        }
        let mut merged = Vec::with_capacity(partitions.len());
        for (p, mut runs) in partitions.into_iter().zip(finished) {
            // Oldest first: the fold merges a key's earlier parts before its later ones.
            runs.push(p.finish()?);
            merged.push(fold.fold(runs, 0)?);
        }
        let (keys, key_bytes) = fold.folded();
        self.mem.note_spill_work(0, started.elapsed());
        // Values outside the accumulators take what the table's shape does not say.
        let need = match self.text {
            Some(_) => fold.held_bytes(),
            None => KeyedTable::memory_for(keys, key_bytes, self.acc_size, self.mem.page_size()),
        };
        self.mem.note_unspilled_need(need);
        let output = AggregateOutput::merged(SeqMerge::new(merged)?, self.shape());
        Ok(match self.text.take() {
            // The values are in the merged runs.
            Some(_) => output.with_text(None),
            None => output,
        })
    }

    /// How its spilled records divide.
    fn shape(&self) -> RecordShape {
        RecordShape {
            acc_size: self.acc_size,
            text: self.text.is_some(),
        }
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
        let mut text = Vec::new();
        while let Some((key, acc)) = drain.next_entry() {
            let seq = self.spilled.to_le_bytes();
            self.spilled += 1;
            let part = &mut self.partitions[partition(key, 0)];
            match &mut self.text {
                None => part.push(&[&seq, acc, key])?,
                Some(values) => {
                    text.clear();
                    values.copy(acc, &mut text);
                    let len = (text.len() as u32).to_le_bytes();
                    part.push(&[&seq, acc, &len, &text, key])?;
                    // One by one, not all at once: values being landed are not the
                    // table's, and stay.
                    values.release(acc);
                }
            }
        }
        self.mem.note_spill_work(1, started.elapsed());
        Ok(())
    }
}

/// A keyed state's result at the end of input (an aggregate's, a count window's groups):
/// each key and its accumulators, in first-seen order; with text aggregates, each block's
/// text values follow its accumulators as a fired window's copy holds them.
#[derive(Debug)]
pub struct AggregateOutput {
    source: OutputSource,
    text: Option<TextOutput>,
}

/// Where an [`AggregateOutput`]'s entries come from.
#[derive(Debug)]
enum OutputSource {
    /// Nothing spilled: the table's entries, whose accumulators start `skip` bytes into
    /// each entry's block.
    Memory { drain: KeyedTableDrain, skip: usize },
    /// Spilled: the partitions' merged runs, merged by first sighting.
    Merged { merge: SeqMerge, shape: RecordShape },
}

/// The text values of an output's entries: in `values` (the table's) or in the records.
#[derive(Debug)]
struct TextOutput {
    values: Option<Box<TextAccumulators>>,
    /// An entry's accumulators and text values.
    block: Vec<u8>,
}

/// A key and its accumulator block.
pub type KeyAndAcc<'a> = (&'a [u8], &'a [u8]);

impl AggregateOutput {
    /// The entries of a table that never spilled, their accumulators `skip` bytes into
    /// each block.
    pub(crate) fn memory(drain: KeyedTableDrain, skip: usize) -> Self {
        AggregateOutput {
            source: OutputSource::Memory { drain, skip },
            text: None,
        }
    }

    /// Spilled entries, merged by first sighting: records of `shape`.
    pub(crate) fn merged(merge: SeqMerge, shape: RecordShape) -> Self {
        AggregateOutput {
            source: OutputSource::Merged { merge, shape },
            text: None,
        }
    }

    /// The entries have text values: in `values` (a table's that never spilled), or, for
    /// `None`, in the merged records.
    pub(crate) fn with_text(mut self, values: Option<Box<TextAccumulators>>) -> Self {
        let in_records = matches!(self.source, OutputSource::Merged { shape, .. } if shape.text);
        if values.is_some() || in_records {
            self.text = Some(TextOutput {
                values,
                block: Vec::new(),
            });
        }
        self
    }

    /// The next key and accumulator block, or `None` after the last.
    #[allow(clippy::should_implement_trait)] // entries borrow the output
    pub fn next(&mut self) -> Result<Option<KeyAndAcc<'_>>, JobError> {
        let (key, acc, text): (&[u8], &[u8], &[u8]) = match &mut self.source {
            OutputSource::Memory { drain, skip } => match drain.next_entry() {
                Some((key, acc)) => (key, &acc[*skip..], &[]),
                None => return Ok(None),
            },
            OutputSource::Merged { merge, shape } => match merge.next()? {
                Some(record) => {
                    let (_, acc, text, key) = shape.split(record);
                    (key, acc, text)
                }
                None => return Ok(None),
            },
        };
        let Some(TextOutput { values, block }) = &mut self.text else {
            return Ok(Some((key, acc)));
        };
        block.clear();
        block.extend_from_slice(acc);
        match values {
            Some(values) => values.fired(acc, block),
            None => block.extend_from_slice(text),
        }
        Ok(Some((key, block)))
    }
}

mod snapshot;
#[cfg(test)]
mod tests;
mod text;
