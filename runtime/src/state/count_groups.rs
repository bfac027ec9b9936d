//! The state of a count window (`window(count N)`): each key's group filling up, in a
//! [`KeyedTable`] while the keys fit the operator's budget; past it, on disk ([`KeyRuns`]),
//! where a key not in memory is looked up and brought back.

use std::time::Instant;

use super::spilling_table::AggregateOutput;
use super::storage::keyed_table::KeyedTable;
use super::{SessionExtra, TextAccumulators, TextSlot};
use crate::memory::OperatorMemory;
use crate::spill::{can_spill_after, KeyRuns, RecordShape, Run, RunWriter, SeqMerge};
use crate::JobError;

/// Bytes before a group's block: the sequence number of its key's first record.
const SEQ: usize = 8;

/// Each key's current group of a count window.
///
/// A group is a block the generated code fills (its count first, then the accumulators); it
/// stays with its key when it fires and restarts, so a key keeps the sequence number of
/// its first record for good. When the table's pages run out, every key goes to disk with
/// its block, in hash order, and the table starts empty; a key not in memory is looked up
/// there, newest copy first, and brought back. A group's block is moved, never merged, so
/// any accumulator spills. At the end the groups still filling come out in the order their
/// keys were first seen, as from an unspilled table. Values kept outside the block
/// (`first(page)`, `count_distinct(user)`) go with it (`text.rs`).
#[derive(Debug)]
pub struct CountGroups {
    table: KeyedTable,
    mem: OperatorMemory,
    block_size: usize,
    disk: Option<KeyRuns>,
    next_seq: u64,
    /// Bytes of the keys seen (`next_seq` counts them): what memory alone would hold.
    key_bytes: u64,
    /// The values of the operator's text aggregates, if it has any.
    text: Option<Box<TextAccumulators>>,
    /// Whether the table went to disk for the record being landed: if its values still
    /// do not fit, nothing more can be moved.
    moved: bool,
}

impl CountGroups {
    /// No group yet; each group's block is `block_size` bytes. Takes its first page at
    /// once, so a budget too small for any state fails at start.
    pub fn new(mem: OperatorMemory, block_size: usize) -> Result<Self, JobError> {
        let block_size = block_size.next_multiple_of(8);
        Ok(CountGroups {
            table: KeyedTable::new(mem.clone(), SEQ + block_size)?,
            mem,
            block_size,
            disk: None,
            next_seq: 0,
            key_bytes: 0,
            text: None,
            moved: false,
        })
    }

    /// The group of `key` (an address for [`block_mut`](Self::block_mut)), from disk if it
    /// went there, or new with a block prepared by `init`.
    #[inline]
    pub fn group(&mut self, key: &[u8], mut init: impl FnMut(&mut [u8])) -> Result<u64, JobError> {
        if self.text.is_some() {
            return self.group_with_text(key, &mut init);
        }
        let seq = self.next_seq.to_le_bytes();
        let mut fresh = false;
        let mut make = |block: &mut [u8]| {
            fresh = true;
            block[..SEQ].copy_from_slice(&seq);
            init(&mut block[SEQ..]);
        };
        let addr = match self.table.upsert_entry(key, &mut make) {
            Ok(addr) => addr,
            Err(e) => {
                self.spill_for(e)?;
                self.table.upsert_entry(key, &mut make)?
            }
        };
        if fresh {
            let stored = match &mut self.disk {
                Some(disk) => disk.get(self.table.hash_of(key), key)?,
                None => None,
            };
            match stored {
                Some(stored) => self.table.acc_at_mut(addr).copy_from_slice(stored),
                None => {
                    self.next_seq += 1;
                    self.key_bytes += key.len() as u64;
                }
            }
        }
        Ok(addr)
    }

    /// The block of the group at `addr`, to change.
    #[inline]
    pub fn block_mut(&mut self, addr: u64) -> &mut [u8] {
        &mut self.table.acc_at_mut(addr)[SEQ..]
    }

    /// The block of the group at `addr`.
    #[inline]
    pub fn block(&self, addr: u64) -> &[u8] {
        &self.table.acc_at(addr)[SEQ..]
    }

    /// The key of the group at `addr`.
    #[inline]
    pub fn key_at(&self, addr: u64) -> &[u8] {
        self.table.key_at(addr)
    }

    /// End of input: every key and its block, in the order keys were first seen (empty
    /// groups included; the caller skips them).
    pub fn finish(&mut self) -> Result<AggregateOutput, JobError> {
        let Some(disk) = self.disk.take() else {
            let drain = self.table.drain();
            return Ok(AggregateOutput::memory(drain, SEQ).with_text(self.text.take()));
        };
        let started = Instant::now();
        self.disk = Some(disk);
        self.spill()?;
        self.table.shrink();
        let disk = self.disk.take().expect("spilled above");
        let mut sorter = SeqSorter::new(&self.mem, self.block_size, self.text_slots())?;
        disk.drain_newest(|key, stored| {
            let count = u64::from_le_bytes(stored[SEQ..SEQ + 8].try_into().expect("a count"));
            if count == 0 {
                return Ok(()); // fired and not refilled: nothing to flush
            }
            sorter.push(key, stored)
        })?;
        let runs = sorter.finish()?;
        self.mem.note_spill_work(0, started.elapsed());
        Ok(AggregateOutput::merged(SeqMerge::new(runs)?, self.shape()).with_text(None))
    }

    /// How the sorted runs' records divide.
    fn shape(&self) -> RecordShape {
        RecordShape {
            acc_size: self.block_size,
            text: self.text.is_some(),
        }
    }

    /// The text slots, if any.
    fn text_slots(&self) -> Option<&'static [TextSlot]> {
        self.text.as_ref().map(|t| t.slots())
    }

    /// Spills when `e` is the budget running out and the operator may spill; `e` otherwise.
    #[cold]
    pub(super) fn spill_for(&mut self, e: JobError) -> Result<(), JobError> {
        if !can_spill_after(&e, &self.mem, !self.table.is_empty()) {
            return Err(e);
        }
        self.spill()
    }

    /// Writes every key in memory with its `[seq][block]` (and text values) to disk, in
    /// hash order, and empties the table.
    pub(super) fn spill(&mut self) -> Result<(), JobError> {
        let started = Instant::now();
        let disk = self
            .disk
            .get_or_insert_with(|| KeyRuns::new(self.mem.clone()));
        let (table, text) = (&mut self.table, &mut self.text);
        let mut stored = Vec::new();
        disk.add(table.len(), |push| {
            table.drain_by_hash(|hash, key, entry| match text {
                None => push(hash, key, entry),
                Some(values) => {
                    CountGroups::stored(Some(values), entry, &mut stored);
                    // One by one: values being landed are no group's, and stay.
                    values.release(&entry[SEQ..]);
                    push(hash, key, &stored)
                }
            })
        })?;
        self.mem.note_spill_work(1, started.elapsed());
        // Every key seen so far in memory at once: about the budget that would not spill.
        let entry = SEQ + self.block_size;
        let page = self.mem.page_size();
        let need = KeyedTable::memory_for(self.next_seq, self.key_bytes, entry, page);
        self.mem.note_unspilled_need(need);
        Ok(())
    }
}

/// Under the keyed-state contract a snapshot is every key's `[seq][block]` in order of
/// `seq` (first sighting), so a restore that takes them in turn fills its table in the
/// order a run that never stopped has. Once groups went to disk, the table goes too and
/// the newest copy of each is sorted by `seq` (the runs stay).
impl super::contract::KeyedState for CountGroups {
    fn memory(&self) -> &OperatorMemory {
        &self.mem
    }

    fn snapshot(&mut self, out: &mut super::contract::SnapshotWriter) -> Result<(), JobError> {
        let mut stored = Vec::new();
        if self.disk.is_none() {
            for (hash, key, entry) in self.table.entries() {
                Self::stored(self.text.as_deref(), entry, &mut stored);
                out.push(hash, key, &stored);
            }
            return Ok(());
        }
        self.spill()?;
        self.table.shrink();
        let mut sorter = SeqSorter::new(&self.mem, self.block_size, self.text_slots())?;
        let disk = self.disk.as_mut().expect("spilled above");
        disk.visit_newest(|_, key, stored| sorter.push(key, stored))?;
        let mut merged = SeqMerge::new(sorter.finish()?)?;
        let shape = self.shape();
        while let Some(record) = merged.next()? {
            let (seq, block, text, key) = shape.split(record);
            stored.clear();
            stored.extend_from_slice(seq);
            stored.extend_from_slice(block);
            stored.extend_from_slice(text);
            out.push(super::key_hash(key), key, &stored);
        }
        Ok(())
    }

    fn restore(
        &mut self,
        from: &mut super::contract::SnapshotReader<'_>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError> {
        let stored_len = SEQ + self.block_size;
        let mut block = Vec::new();
        while let Some(entry) = from.next_in(&groups)? {
            let fits = match self.text {
                None => entry.value.len() == stored_len,
                Some(_) => entry.value.len() >= stored_len,
            };
            if !fits {
                return Err(JobError::SnapshotCorrupt {
                    problem: format!(
                        "a count window's group holds {} bytes, not {stored_len}",
                        entry.value.len()
                    ),
                });
            }
            self.bring_in(entry.value, &mut block)?;
            self.upsert(entry.key, &mut |e| e.copy_from_slice(&block))?;
            self.next_seq = self.next_seq.max(seq_of(entry.value) + 1);
            self.key_bytes += entry.key.len() as u64;
        }
        Ok(())
    }
}

/// Groups sorted by sequence number: as many as fit in a table at a time, sorted in place
/// and written out as a run of `[seq][block][key]`, for a [`SeqMerge`] of the runs.
struct SeqSorter<'a> {
    mem: &'a OperatorMemory,
    table: KeyedTable,
    runs: Vec<Run>,
    block_size: usize,
    /// The groups' text values, with text aggregates: runs hold them after the block
    /// (`RecordShape`).
    text: Option<TextAccumulators>,
    /// A group's `[seq][block]` with its values in pages.
    entry: Vec<u8>,
}

impl<'a> SeqSorter<'a> {
    fn new(
        mem: &'a OperatorMemory,
        block_size: usize,
        slots: Option<&'static [TextSlot]>,
    ) -> Result<Self, JobError> {
        Ok(SeqSorter {
            mem,
            table: KeyedTable::new(mem.clone(), SEQ + block_size)?,
            runs: Vec::new(),
            block_size,
            text: slots.map(|slots| TextAccumulators::in_time_order(mem.clone(), slots)),
            entry: Vec::new(),
        })
    }

    /// Adds `key` with its `[seq][block]` (and text values).
    fn push(&mut self, key: &[u8], stored: &[u8]) -> Result<(), JobError> {
        let (head, text) = stored.split_at(SEQ + self.block_size);
        let mut entry = std::mem::take(&mut self.entry);
        entry.clear();
        entry.extend_from_slice(head);
        let pushed = self.push_entry(key, &mut entry, text);
        self.entry = entry;
        pushed
    }

    fn push_entry(&mut self, key: &[u8], entry: &mut [u8], text: &[u8]) -> Result<(), JobError> {
        while let Some(values) = &mut self.text {
            match values.restore(&mut entry[SEQ..], text) {
                Ok(()) => break,
                Err(JobError::MemoryBudget { .. }) if !self.table.is_empty() => self.write_run()?,
                Err(e) => return Err(e),
            }
        }
        let copy = |block: &mut [u8]| block.copy_from_slice(entry);
        match self.table.upsert_entry(key, copy) {
            Ok(_) => Ok(()),
            Err(JobError::MemoryBudget { .. }) if !self.table.is_empty() => {
                self.write_run()?;
                self.table.upsert_entry(key, copy).map(|_| ())
            }
            Err(e) => Err(e),
        }
    }

    /// Writes the table's groups out by `seq`, each's values after its block, and lets
    /// their values go (values being landed stay).
    fn write_run(&mut self) -> Result<(), JobError> {
        let mut out = RunWriter::create(self.mem)?;
        let (table, text) = (&mut self.table, &mut self.text);
        let mut copied = Vec::new();
        table.drain_by_accumulators(
            |a, b| seq_of(a).cmp(&seq_of(b)),
            |_, key, stored| match text {
                None => out.push(&[stored, key]),
                Some(values) => {
                    copied.clear();
                    values.copy(&stored[SEQ..], &mut copied);
                    values.release(&stored[SEQ..]);
                    let len = (copied.len() as u32).to_le_bytes();
                    out.push(&[stored, &len, &copied, key])
                }
            },
        )?;
        self.runs.push(out.finish()?);
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<Run>, JobError> {
        if !self.table.is_empty() {
            self.write_run()?;
        }
        Ok(self.runs)
    }
}

fn seq_of(stored: &[u8]) -> u64 {
    u64::from_le_bytes(stored[..SEQ].try_into().expect("a sequence number"))
}

#[cfg(test)]
mod tests;
mod text;
