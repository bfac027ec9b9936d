//! Records of two sides kept by time bucket and key, in pool pages, and read by key while
//! they wait: the interval join's buckets in memory.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use super::join_records::{word, JoinSide, KeptRecords, RECORD_HEADER};
use super::storage::chunk_pages::ChunkPages;
use super::storage::record_chunks::{append, RecordChunk};
use super::storage::window_table::{EntryCursor, EntryFormat, WindowTable};
use crate::memory::OperatorMemory;
use crate::JobError;

/// A key's entry: the first and last record of each side, as `address + 1` (0: none).
const LEFT_HEAD: usize = 0;
const LEFT_TAIL: usize = 8;
const RIGHT_HEAD: usize = 16;
const RIGHT_TAIL: usize = 24;
const ENTRY_ACC: usize = 32;

/// One bucket: its keys (with the ends of each side's list of records), and the chunks
/// its records sit in.
#[derive(Debug)]
struct JoinWindow {
    keys: WindowTable,
    chunks: Vec<RecordChunk>,
}

/// Records of both sides in time buckets ("windows" of `size` ms), each bucket with its
/// own small hash table from key to the two ends of each side's list of records (a
/// [`WindowTable`]); the records themselves are appended to the bucket's chunks, each
/// linked to the next record of its key and side. A record is read by key while it waits
/// ([`visit`](Self::visit)), so every bucket stays in memory: the interval join
/// (`interval_buffers.rs`) moves whole buckets to disk itself
/// ([`drain_window`](Self::drain_window)), and drops them when no partner can come.
#[derive(Debug)]
pub struct KeyedBuckets {
    pages: ChunkPages,
    size: i64,
    format: EntryFormat,
    windows: BTreeMap<i64, JoinWindow>,
    /// Keys of the bucket dropped last: how big a new bucket's index starts.
    expected_keys: usize,
}

impl KeyedBuckets {
    /// Empty buckets of `size` ms whose keys are all `key_width` bytes wide when given.
    /// Takes its first page at once, so a budget too small for any state fails at start.
    pub fn new(mem: OperatorMemory, size: i64, key_width: Option<usize>) -> Result<Self, JobError> {
        let mut pages = ChunkPages::new(mem);
        let first = pages.alloc(8)?;
        pages.free(first);
        Ok(KeyedBuckets {
            pages,
            size,
            format: EntryFormat {
                acc_size: ENTRY_ACC,
                key_width,
            },
            windows: BTreeMap::new(),
            expected_keys: 0,
        })
    }

    /// Keeps `record` of `side` with key `key` in bucket `[start, start + size)`, unless
    /// its last millisecond is at or before watermark `wm`: then `false` (the record is
    /// late for it). Past the budget, a budget error, with at most an unlinked record
    /// left behind.
    pub fn add(
        &mut self,
        side: JoinSide,
        key: &[u8],
        start: i64,
        wm: i64,
        record: &[u8],
    ) -> Result<bool, JobError> {
        if self.last_ms(start) <= wm {
            return Ok(false);
        }
        let page = self.pages.page_size();
        if self.format.entry_len(key) > page {
            return Err(self.too_long(key.len(), page - self.format.entry_len(&[]), true));
        }
        if (RECORD_HEADER + record.len()).next_multiple_of(8) > page {
            return Err(self.too_long(record.len(), page - RECORD_HEADER, false));
        }
        self.link(side, key, start, record)?;
        Ok(true)
    }

    fn link(
        &mut self,
        side: JoinSide,
        key: &[u8],
        start: i64,
        record: &[u8],
    ) -> Result<(), JobError> {
        let need = (RECORD_HEADER + record.len()).next_multiple_of(8);
        let hash = self.format.hash(key);
        let window = match self.windows.entry(start) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => v.insert(JoinWindow {
                keys: WindowTable::new(&mut self.pages, &self.format, self.expected_keys)?,
                chunks: Vec::new(),
            }),
        };
        let keys = &mut window.keys;
        // The record first, so a new key's entry is made pointing at it.
        let at = append(&mut self.pages, &mut window.chunks, need)?;
        let block = self.pages.bytes_mut(at, need);
        // The chunk is not zeroed (`append`): the last word first, so the padding after
        // the record is zeroes and the block holds nothing but what this record wrote.
        block[need - 8..].fill(0);
        block[..8].fill(0);
        block[8..16].copy_from_slice(&(record.len() as u64).to_le_bytes());
        block[RECORD_HEADER..RECORD_HEADER + record.len()].copy_from_slice(record);
        let (head, tail) = match side {
            JoinSide::Left => (LEFT_HEAD, LEFT_TAIL),
            JoinSide::Right => (RIGHT_HEAD, RIGHT_TAIL),
        };
        let link = (at + 1).to_le_bytes();
        let mut fresh = false;
        let (entry, _) = keys.find_or_insert(&mut self.pages, &self.format, key, hash, |ends| {
            ends.fill(0);
            ends[head..head + 8].copy_from_slice(&link);
            ends[tail..tail + 8].copy_from_slice(&link);
            fresh = true;
        })?;
        if !fresh {
            let ends = self.pages.bytes_mut(entry, ENTRY_ACC);
            let last = word(ends, tail);
            ends[tail..tail + 8].copy_from_slice(&link);
            if last == 0 {
                // The key came from the other side so far.
                ends[head..head + 8].copy_from_slice(&link);
            } else {
                self.set_word(last - 1, at + 1);
            }
        }
        Ok(())
    }

    /// Calls `f` with each record of `side` under `key` in the windows starting in
    /// `starts`: windows in order, records in arrival order.
    pub fn visit(
        &self,
        side: JoinSide,
        key: &[u8],
        starts: std::ops::RangeInclusive<i64>,
        mut f: impl FnMut(&[u8]),
    ) {
        let hash = self.format.hash(key);
        let head = match side {
            JoinSide::Left => LEFT_HEAD,
            JoinSide::Right => RIGHT_HEAD,
        };
        for window in self.windows.range(starts).map(|(_, w)| w) {
            let Some(entry) = window.keys.get(&self.pages, &self.format, key, hash) else {
                continue;
            };
            let records =
                KeptRecords::new(&self.pages, word(self.pages.bytes(entry, ENTRY_ACC), head));
            records.for_each(&mut f);
        }
    }

    /// The hash of `key`, as the windows' tables have it.
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.format.hash(key)
    }

    /// The first window (by start) holding records in memory, other than `keep` unless it
    /// is the only one.
    pub fn first_in_memory(&self, keep: i64) -> Option<i64> {
        let held = |w: &JoinWindow| !w.chunks.is_empty();
        self.windows
            .iter()
            .find(|(&start, w)| start != keep && held(w))
            .or_else(|| self.windows.get_key_value(&keep).filter(|(_, w)| held(w)))
            .map(|(&start, _)| start)
    }

    /// Hands each key of window `start` to `each` in order of (hash, key), with its records
    /// of `side` in arrival order, then drops the window (its memory goes back).
    pub fn drain_window(
        &mut self,
        start: i64,
        side: JoinSide,
        mut each: impl FnMut(u64, &[u8], KeptRecords<'_>) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        let head = match side {
            JoinSide::Left => LEFT_HEAD,
            JoinSide::Right => RIGHT_HEAD,
        };
        if let Some(keys) = self.windows.get(&start).map(|w| &w.keys) {
            let mut entries = Vec::with_capacity(keys.len());
            let mut at = EntryCursor::default();
            while let Some((entry, next)) = keys.entry_at(&self.pages, &self.format, at) {
                let key = self.format.key(&self.pages, entry);
                entries.push((self.format.hash(key), entry));
                at = next;
            }
            entries.sort_by(|a, b| {
                (a.0, self.format.key(&self.pages, a.1))
                    .cmp(&(b.0, self.format.key(&self.pages, b.1)))
            });
            for (hash, entry) in entries {
                let records =
                    KeptRecords::new(&self.pages, word(self.pages.bytes(entry, ENTRY_ACC), head));
                each(hash, self.format.key(&self.pages, entry), records)?;
            }
        }
        self.drop_window(start);
        Ok(())
    }

    /// Drops, without emitting, every window whose last millisecond is at or before
    /// `through`; how many keys they held (a key counts once per window).
    pub fn drop_through(&mut self, through: i64) -> usize {
        let mut keys = 0;
        while let Some(&start) = self.windows.keys().next() {
            if self.last_ms(start) > through {
                break;
            }
            keys += self.drop_window(start);
        }
        keys
    }

    /// The operator's memory the windows' pages come from.
    pub fn memory(&self) -> &OperatorMemory {
        self.pages.memory()
    }

    /// Calls `each(start, side, key, record)` for every record, buckets in order of
    /// start, each bucket's keys in the order they opened it, each key's left records then
    /// its right ones, in arrival order (`side` 1 for the right side). Replayed in this
    /// order, they make the same keys, in the same order, with the same lists. (Records
    /// are found from their key's lists, never the other way: a table of fixed-width keys
    /// moves its entries when it grows.)
    pub(crate) fn each_record_in_memory(
        &self,
        mut each: impl FnMut(i64, u8, &[u8], &[u8]) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        for (&start, window) in &self.windows {
            let mut at = EntryCursor::default();
            while let Some((entry, next)) = window.keys.entry_at(&self.pages, &self.format, at) {
                let key = self.format.key(&self.pages, entry);
                for (side, head) in [(0u8, LEFT_HEAD), (1, RIGHT_HEAD)] {
                    let records = KeptRecords::new(
                        &self.pages,
                        word(self.pages.bytes(entry, ENTRY_ACC), head),
                    );
                    for record in records {
                        each(start, side, key, record)?;
                    }
                }
                at = next;
            }
        }
        Ok(())
    }

    /// Whether no window holds a record.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// Drops window `start`; the keys it held.
    fn drop_window(&mut self, start: i64) -> usize {
        let mut held = 0;
        if let Some(w) = self.windows.remove(&start) {
            held = w.keys.len();
            self.expected_keys = held;
            w.keys.free(&mut self.pages);
            for c in w.chunks {
                self.pages.free(c.addr);
            }
        }
        held
    }

    fn set_word(&mut self, addr: u64, value: u64) {
        self.pages
            .bytes_mut(addr, 8)
            .copy_from_slice(&value.to_le_bytes());
    }

    fn last_ms(&self, start: i64) -> i64 {
        start.saturating_add(self.size).saturating_sub(1)
    }

    fn too_long(&self, bytes: usize, limit: usize, key: bool) -> JobError {
        let (operator, location) = self.pages.memory().operator();
        let (operator, location) = (operator.to_string(), location.to_string());
        if key {
            JobError::KeyTooLong {
                operator,
                location,
                key_bytes: bytes,
                limit_bytes: limit,
                record: None,
            }
        } else {
            JobError::RecordTooLong {
                operator,
                location,
                record_bytes: bytes,
                limit_bytes: limit,
                record: None,
            }
        }
    }
}

#[cfg(test)]
mod tests;
