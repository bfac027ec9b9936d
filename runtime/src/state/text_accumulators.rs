//! Aggregates over `str` (`min`, `max`, `first`, `last`, `collect_list`): values of any
//! length, kept in pool pages outside the fixed accumulator block, which holds where each
//! is.
//!
//! A text slot is three accumulator words at its offset: the value's handle in a
//! [`BlobStore`], its length ([`NONE`] while there is no value), and the event time it came
//! with (for `first` and `last`); a list's slot is five (`text_list.rs`). The values move with their windows: to disk and back, into
//! snapshots, and into a fired window's copy, each as `[length: u32][bytes]` per slot in
//! slot order (`u32::MAX` for none).

mod distinct_set;
mod distinct_value;
mod text_list;

use distinct_set::DistinctSets;
pub use distinct_value::{distinct_f64, DistinctValue};

use super::session_windows::SessionExtra;
use super::storage::{acc_get, acc_set, BlobStore};
use crate::memory::OperatorMemory;
use crate::JobError;

/// Accumulator words a `collect_list` slot takes (other text slots take 3).
pub const TEXT_LIST_WORDS: usize = text_list::WORDS;

/// The length word of a slot without a value.
const NONE: u64 = u64::MAX;
/// A missing value in the copied form.
const MISSING: u32 = u32::MAX;

/// Which value a text slot keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextAggregate {
    /// The least in byte order (which is code point order for UTF-8).
    Min,
    /// The greatest.
    Max,
    /// The one with the least event time; ties keep the earliest arrival.
    First,
    /// The one with the greatest event time; ties take the latest arrival.
    Last,
    /// Every value, in arrival order (merged sessions: the earlier one's first), with
    /// `separator` between two (SQL's `LISTAGG`); five words (`text_list.rs`).
    Join {
        /// What goes between two values.
        separator: &'static str,
    },
    /// The distinct values (`count_distinct`, of values of any type as bytes); three
    /// words, the second the count (`distinct_set.rs`).
    Distinct,
}

impl TextAggregate {
    /// Accumulator words its slot takes.
    pub const fn words(self) -> usize {
        match self {
            TextAggregate::Join { .. } => text_list::WORDS,
            TextAggregate::Distinct => distinct_set::WORDS,
            _ => 3,
        }
    }
}

/// One text aggregate: where its words are in the accumulator block, and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextSlot {
    /// The byte offset of its words.
    pub offset: usize,
    /// What it keeps.
    pub kind: TextAggregate,
}

/// The values of a state's text slots, in the operator's pages.
#[derive(Debug)]
pub struct TextAccumulators {
    store: BlobStore,
    slots: &'static [TextSlot],
    scratch: [Vec<u8>; 2],
    /// The values a record's slots take, written and not yet theirs: (slot, blob), or for
    /// a set (slot, (entry, 0)).
    taken: Vec<(usize, (u64, u64))>,
    distinct: DistinctSets,
}

impl TextAccumulators {
    /// No values yet, for accumulator blocks with `slots`.
    pub fn new(mem: OperatorMemory, slots: &'static [TextSlot]) -> Self {
        TextAccumulators {
            distinct: DistinctSets::new(mem.clone()),
            store: BlobStore::new(mem),
            slots,
            scratch: [Vec::new(), Vec::new()],
            taken: Vec::new(),
        }
    }

    /// No values yet, kept in chunks carved in time order
    /// ([`BlobStore::in_time_order`]): for windows, made and dropped in time order.
    pub fn in_time_order(mem: OperatorMemory, slots: &'static [TextSlot]) -> Self {
        TextAccumulators {
            distinct: DistinctSets::new(mem.clone()),
            store: BlobStore::in_time_order(mem),
            slots,
            scratch: [Vec::new(), Vec::new()],
            taken: Vec::new(),
        }
    }

    /// Drops every value and gives every page back: for a caller that knows no block
    /// refers to one any more.
    pub fn clear(&mut self) {
        self.store.clear();
        self.distinct.clear();
    }

    /// The count of the `count_distinct` slot at `offset` of `acc`.
    pub fn distinct_count(acc: &[u8], offset: usize) -> u64 {
        DistinctSets::count(acc, offset)
    }

    /// The slots it keeps values for.
    pub fn slots(&self) -> &'static [TextSlot] {
        self.slots
    }

    /// Marks every text slot of a new block empty.
    pub fn empty(slots: &[TextSlot], acc: &mut [u8]) {
        for slot in slots {
            acc_set(acc, slot.offset + 8, NONE);
        }
    }

    /// Offers each slot its value from a record at `ts` (`values[i]` to slot `i`). Every
    /// value a slot takes is written before any slot changes: a budget error changes
    /// nothing, and the caller may make room and offer the same values again (a list would
    /// otherwise take a value twice).
    pub fn update(&mut self, acc: &mut [u8], values: &[&[u8]], ts: i64) -> Result<(), JobError> {
        self.taken.clear();
        for (i, (slot, value)) in self.slots.iter().zip(values).enumerate() {
            if !self.takes(acc, *slot, value, ts) {
                continue;
            }
            let [scratch, _] = &mut self.scratch;
            let written = match slot.kind {
                TextAggregate::Join { .. } => text_list::new_part(&mut self.store, scratch, value),
                TextAggregate::Distinct => self
                    .distinct
                    .add_entry(acc, slot.offset, value)
                    .map(|entry| (entry, 0)),
                _ => self.store.put(value).map(|h| (h, value.len() as u64)),
            };
            match written {
                Ok(blob) => self.taken.push((i, blob)),
                Err(e) => {
                    for (i, (handle, len)) in self.taken.drain(..) {
                        match self.slots[i].kind {
                            TextAggregate::Distinct => self.distinct.discard(handle),
                            _ => self.store.free(handle, len as usize),
                        }
                    }
                    return Err(e);
                }
            }
        }
        let taken = std::mem::take(&mut self.taken);
        for &(i, blob) in &taken {
            self.commit(acc, self.slots[i], blob, ts);
        }
        self.taken = taken;
        Ok(())
    }

    /// Whether slot `slot` of `acc` takes `value` from a record at `ts`.
    fn takes(&mut self, acc: &[u8], slot: TextSlot, value: &[u8], ts: i64) -> bool {
        let off = slot.offset;
        let len = acc_get::<u64>(acc, off + 8);
        if len == NONE {
            return true;
        }
        let at = acc_get::<i64>(acc, off + 16);
        match slot.kind {
            TextAggregate::Join { .. } => true,
            TextAggregate::Distinct => !self.distinct.contains(acc, off, value),
            TextAggregate::First => ts < at,
            TextAggregate::Last => ts >= at,
            TextAggregate::Min | TextAggregate::Max => {
                let current = self
                    .store
                    .get(acc_get(acc, off), len as usize, &mut self.scratch[0]);
                match slot.kind {
                    TextAggregate::Min => value < current,
                    _ => value > current,
                }
            }
        }
    }

    /// Makes `blob` (written for it) slot `slot`'s value from a record at `ts`, letting its
    /// old value go. Takes no memory.
    fn commit(&mut self, acc: &mut [u8], slot: TextSlot, blob: (u64, u64), ts: i64) {
        let off = slot.offset;
        match slot.kind {
            TextAggregate::Join { separator } => {
                text_list::append_part(&mut self.store, acc, off, separator.as_bytes(), blob);
                return;
            }
            TextAggregate::Distinct => {
                self.distinct.link(acc, off, blob.0);
                return;
            }
            _ => {}
        }
        let len = acc_get::<u64>(acc, off + 8);
        if len != NONE {
            self.store.free(acc_get(acc, off), len as usize);
        }
        acc_set(acc, off, blob.0);
        acc_set(acc, off + 8, blob.1);
        acc_set(acc, off + 16, ts);
    }

    /// Slot `slot`'s value in `copied`, the text a fired window's copy holds after its
    /// accumulators; `""` when it has none (an empty window has no record).
    pub fn read(copied: &[u8], slot: usize) -> &str {
        let mut rest = copied;
        for i in 0.. {
            let Some((len, after)) = rest.split_first_chunk::<4>() else {
                return "";
            };
            let len = u32::from_le_bytes(*len);
            let len = if len == MISSING { 0 } else { len as usize };
            if i == slot {
                // The values were `str`s when they came, and are copied whole.
                return std::str::from_utf8(&after[..len]).unwrap_or("");
            }
            rest = &after[len..];
        }
        ""
    }

    /// Each slot's copied value: `None` for none.
    fn copied(data: &[u8], slots: usize) -> impl Iterator<Item = Option<&[u8]>> {
        let mut rest = data;
        (0..slots).map(move |_| {
            let (len, after) = rest.split_first_chunk::<4>().expect("a slot's length");
            let len = u32::from_le_bytes(*len);
            if len == MISSING {
                rest = after;
                return None;
            }
            let (value, after) = after.split_at(len as usize);
            rest = after;
            Some(value)
        })
    }
}

impl SessionExtra for TextAccumulators {
    fn spill(&mut self, acc: &[u8], out: &mut Vec<u8>) -> Result<(), JobError> {
        self.copy(acc, out);
        self.release(acc);
        Ok(())
    }

    fn copy(&self, acc: &[u8], out: &mut Vec<u8>) {
        let mut scratch = Vec::new();
        for slot in self.slots {
            self.copy_slot(acc, *slot, out, &mut scratch);
        }
    }

    fn restore_bytes(&self, data: &[u8]) -> u64 {
        // In size classes, every class may need a page of its own; in time order, a page
        // may end with a chunk's worth unused.
        let page = self.store.page_size() as u64;
        let mut classes = Vec::new();
        let mut bytes = 0;
        let values = self.slots.iter().zip(Self::copied(data, self.slots.len()));
        for (slot, value) in values.filter_map(|(s, v)| Some((s, v?))) {
            let len = match slot.kind {
                TextAggregate::Join { .. } => text_list::restore_len(value),
                TextAggregate::Distinct => {
                    bytes += DistinctSets::restore_bytes(value);
                    continue;
                }
                _ => value.len(),
            };
            let slot = self.store.slot_bytes(len);
            if !self.store.has_size_classes() {
                bytes += 2 * slot;
            } else if !classes.contains(&slot.min(page)) {
                classes.push(slot.min(page));
                bytes += page;
            }
            bytes += slot;
        }
        bytes
    }

    /// All or nothing: on a budget error, the values already brought in go again.
    fn restore(&mut self, acc: &mut [u8], data: &[u8]) -> Result<(), JobError> {
        let values: Vec<Option<&[u8]>> = Self::copied(data, self.slots.len()).collect();
        for (i, (slot, value)) in self.slots.iter().zip(values).enumerate() {
            let restored = match value {
                None => {
                    acc_set(acc, slot.offset + 8, NONE);
                    Ok(())
                }
                Some(joined) if matches!(slot.kind, TextAggregate::Join { .. }) => {
                    let [scratch, _] = &mut self.scratch;
                    text_list::restore(&mut self.store, scratch, acc, slot.offset, joined)
                }
                Some(set) if slot.kind == TextAggregate::Distinct => {
                    self.distinct.restore(acc, slot.offset, set)
                }
                Some(value) => self.store.put(value).map(|handle| {
                    acc_set(acc, slot.offset, handle);
                    acc_set(acc, slot.offset + 8, value.len() as u64);
                }),
            };
            if let Err(e) = restored {
                for &slot in &self.slots[..i] {
                    self.release_slot(acc, slot);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    fn merge(&mut self, into: &mut [u8], from: &[u8]) {
        for slot in self.slots {
            let off = slot.offset;
            let (into_len, from_len) =
                (acc_get::<u64>(into, off + 8), acc_get::<u64>(from, off + 8));
            if from_len == NONE {
                continue;
            }
            let words = slot.kind.words() * 8;
            if slot.kind == TextAggregate::Distinct {
                self.distinct.merge(into, from, off);
                continue;
            }
            if let TextAggregate::Join { separator } = slot.kind {
                if into_len == NONE {
                    into[off..off + words].copy_from_slice(&from[off..off + words]);
                } else {
                    // `into` is the session that started first: its values come first.
                    let sep = separator.as_bytes();
                    text_list::join(&mut self.store, into, from, off, sep);
                }
                continue;
            }
            let take = into_len == NONE || {
                let (into_at, from_at) = (
                    acc_get::<i64>(into, off + 16),
                    acc_get::<i64>(from, off + 16),
                );
                match slot.kind {
                    TextAggregate::Join { .. } | TextAggregate::Distinct => {
                        unreachable!("lists and sets are merged above")
                    }
                    // `into` is the session that started first: its value wins ties.
                    TextAggregate::First => from_at < into_at,
                    TextAggregate::Last => from_at > into_at,
                    TextAggregate::Min | TextAggregate::Max => {
                        let [a, b] = &mut self.scratch;
                        let kept = self.store.get(acc_get(into, off), into_len as usize, a);
                        let offered = self.store.get(acc_get(from, off), from_len as usize, b);
                        match slot.kind {
                            TextAggregate::Min => offered < kept,
                            _ => offered > kept,
                        }
                    }
                }
            };
            // `from` is dropped after the merge: its value becomes `into`'s or goes.
            let loser = if take {
                let old = (acc_get::<u64>(into, off), into_len);
                into[off..off + words].copy_from_slice(&from[off..off + words]);
                old
            } else {
                (acc_get::<u64>(from, off), from_len)
            };
            if loser.1 != NONE {
                self.store.free(loser.0, loser.1 as usize);
            }
        }
    }

    /// Freed slots stay in their arenas' pages: with every value on disk, the pages go back.
    fn all_spilled(&mut self) {
        self.clear();
    }

    /// As [`copy`](SessionExtra::copy), but a set is left out (its count is in the
    /// accumulators).
    fn fired(&self, acc: &[u8], out: &mut Vec<u8>) {
        let mut scratch = Vec::new();
        for slot in self.slots {
            match slot.kind {
                TextAggregate::Distinct => out.extend_from_slice(&MISSING.to_le_bytes()),
                _ => self.copy_slot(acc, *slot, out, &mut scratch),
            }
        }
    }

    fn release(&mut self, acc: &[u8]) {
        for &slot in self.slots {
            self.release_slot(acc, slot);
        }
    }
}

impl TextAccumulators {
    /// Writes `slot`'s value in `acc` after `out` as `[length: u32][bytes]` (`u32::MAX`
    /// for none; a set's values each so, after their total length).
    fn copy_slot(&self, acc: &[u8], slot: TextSlot, out: &mut Vec<u8>, scratch: &mut Vec<u8>) {
        let len = acc_get::<u64>(acc, slot.offset + 8);
        if len == NONE {
            out.extend_from_slice(&MISSING.to_le_bytes());
            return;
        }
        match slot.kind {
            TextAggregate::Distinct => {
                let at = out.len();
                out.extend_from_slice(&0u32.to_le_bytes());
                self.distinct.write(acc, slot.offset, out);
                let written = (out.len() - at - 4) as u32;
                out[at..at + 4].copy_from_slice(&written.to_le_bytes());
            }
            TextAggregate::Join { separator } => {
                out.extend_from_slice(&(len as u32).to_le_bytes());
                let sep = separator.as_bytes();
                text_list::write(&self.store, scratch, acc, slot.offset, sep, out);
            }
            _ => {
                out.extend_from_slice(&(len as u32).to_le_bytes());
                let handle = acc_get(acc, slot.offset);
                out.extend_from_slice(self.store.get(handle, len as usize, scratch));
            }
        }
    }

    /// Lets `slot`'s value in `acc` go, if it has one.
    fn release_slot(&mut self, acc: &[u8], slot: TextSlot) {
        let len = acc_get::<u64>(acc, slot.offset + 8);
        if len == NONE {
            return;
        }
        match slot.kind {
            TextAggregate::Join { .. } => {
                let [scratch, _] = &mut self.scratch;
                text_list::free(&mut self.store, scratch, acc, slot.offset);
            }
            TextAggregate::Distinct => self.distinct.release_set(acc, slot.offset),
            _ => self.store.free(acc_get(acc, slot.offset), len as usize),
        }
    }
}

#[cfg(test)]
mod tests;
