//! The state of a tumbling or sliding window join: each window's records from both sides,
//! appended in arrival order to pool pages as they come, and joined when the window fires,
//! as a hash join over that one window.

use std::collections::VecDeque;

use super::join_records::{JoinGroup, JoinSide, RECORD_HEADER};
use super::storage::chunk_pages::ChunkPages;
use super::storage::record_chunks::{append, RecordChunk};
use super::storage::{key_hash, KeyedTable, KeyedTableDrain};
use crate::memory::OperatorMemory;
use crate::JobError;

// A kept record's header (`RECORD_HEADER` bytes, read by `KeptRecords` as any join's):
// the next record of its key and side (`address + 1`, linked when the window fires), then
// the record's length (low 32 bits), its key's length (bits 32 to 62) and its side (bit
// 63, set for the right). The record follows, then its key.
/// The side bit of a header's second word.
const RIGHT_BIT: u64 = 1 << 63;
/// A key's entry in the firing window's index: the first and last record of each side, as
/// `address + 1` (0: none).
const ENDS: usize = 32;
const LEFT_HEAD: usize = 0;
const LEFT_TAIL: usize = 8;
const RIGHT_HEAD: usize = 16;
const RIGHT_TAIL: usize = 24;
/// Bytes of a key's entry in the index besides the key: [`KeyedTable`]'s header (16), then
/// the ends.
const INDEX_ENTRY: usize = 16 + ENDS;

/// One window: its records in arrival order, in memory and on disk.
#[derive(Debug)]
struct Window {
    start: i64,
    /// Chunks of records, filled front to back.
    chunks: Vec<RecordChunk>,
    /// Parts of the window on disk, oldest first, each its records in arrival order; the
    /// records in `chunks` came after them.
    parts: Vec<crate::spill::Run>,
    /// What its parts took in memory.
    spilled_bytes: u64,
}

/// The window being read out: the keys of its index, in the order they opened it.
#[derive(Debug)]
struct Firing {
    start: i64,
    keys: KeyedTableDrain,
}

/// Which keys of a fired window [`WindowJoin::next_group`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FiredKeys {
    /// Only keys with records on both sides: an inner join, which emits nothing for the
    /// others (most keys of a window, where keys are many).
    Paired,
    /// Every key: an outer join emits the records of a side without partners.
    All,
}

/// Tumbling and sliding window joins, in pool pages.
///
/// A record costs an append while its window is open: no key is looked up until the
/// window fires. Then one pass over its records, in arrival order, indexes them by key
/// (a [`KeyedTable`] from key to the ends of each side's list, reused window after
/// window), linking each record to the next of its key and side in the record's own
/// header; the window is read key by key in the order the keys opened it
/// ([`next_group`](Self::next_group)), its records read where they are, and its memory
/// goes back whole. Windows are few and come in order of start, so they are kept in a
/// deque: all have one length, so they end in the order they start, and the first is the
/// next to fire, when the watermark reaches its last millisecond (`end - 1`), as in Flink.
///
/// Indexing a window when it fires, rather than each record as it comes, keeps one
/// index in the cache instead of one per open window, and the lookups run back to back,
/// prefetched, where the processor overlaps their misses: a table probed per record, two
/// of them open, missed the cache on nearly every record (the join's largest cost). Past the budget the window that fires last goes to disk with its
/// records in arrival order (`spill.rs`) and is read back when it fires; the window that
/// fires, with its index, must fit.
#[derive(Debug)]
pub struct WindowJoin {
    pages: ChunkPages,
    size: i64,
    keys: FiredKeys,
    windows: VecDeque<Window>,
    /// The position of the window the last record went to: where the next most likely
    /// goes.
    last: usize,
    /// The index of the window that fires; empty between firings.
    index: KeyedTable,
    firing: Option<Firing>,
    /// What the windows' parts on disk took in memory, and the most that memory and those
    /// parts ever added up to: about the budget that would not have spilled.
    spilled_bytes: u64,
    unspilled_need: u64,
}

impl WindowJoin {
    /// Empty state for windows `size` ms long, firing `keys`. Takes its first pages at
    /// once, so a budget too small for any state fails at start.
    pub fn new(mem: OperatorMemory, size: i64, keys: FiredKeys) -> Result<Self, JobError> {
        let index = KeyedTable::new(mem.clone(), ENDS)?;
        let mut pages = ChunkPages::new(mem);
        let first = pages.alloc(8)?;
        pages.free(first);
        Ok(WindowJoin {
            pages,
            size,
            keys,
            windows: VecDeque::new(),
            last: 0,
            index,
            firing: None,
            spilled_bytes: 0,
            unspilled_need: 0,
        })
    }

    /// Keeps `record` of `side` with key `key` in window `[start, start + size)`, unless
    /// the window has already fired at watermark `wm`: then `false` (the record is late
    /// for it). Past the budget, windows go to disk (see `spill.rs`).
    #[inline]
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
        // The key's entry in the index the window gets when it fires must fit a page too:
        // said now, not when the window fires.
        if key.len() + INDEX_ENTRY > page {
            let (operator, location) = self.pages.memory().operator();
            return Err(JobError::KeyTooLong {
                operator: operator.to_string(),
                location: location.to_string(),
                key_bytes: key.len(),
                limit_bytes: page - INDEX_ENTRY,
                record: None,
            });
        }
        let need = block_len(key, record);
        if need > page {
            return Err(self.too_long(record.len(), key.len()));
        }
        loop {
            match self.try_add(side, key, start, record, need) {
                Ok(()) => return Ok(true),
                Err(e) => self.make_room(e, start)?,
            }
        }
    }

    /// [`add`](Self::add) without spilling: a budget error comes back as it is, and
    /// leaves the window as it was.
    #[inline]
    fn try_add(
        &mut self,
        side: JoinSide,
        key: &[u8],
        start: i64,
        record: &[u8],
        need: usize,
    ) -> Result<(), JobError> {
        let at = self.window_at(start);
        let window = &mut self.windows[at];
        let addr = append(&mut self.pages, &mut window.chunks, need)?;
        let block = self.pages.bytes_mut(addr, need);
        // The chunk is not zeroed (`append`): the last word first, so the padding after
        // the key is zeroes and the block holds nothing but what this record wrote.
        block[need - 8..].fill(0);
        block[..8].fill(0);
        let side_bit = match side {
            JoinSide::Left => 0,
            JoinSide::Right => RIGHT_BIT,
        };
        let lengths = record.len() as u64 | (key.len() as u64) << 32 | side_bit;
        block[8..16].copy_from_slice(&lengths.to_le_bytes());
        let key_at = RECORD_HEADER + record.len();
        block[RECORD_HEADER..key_at].copy_from_slice(record);
        block[key_at..key_at + key.len()].copy_from_slice(key);
        Ok(())
    }

    /// The position of window `start` among the windows, made if it is new. A record
    /// mostly goes to the window the last record went to, or (sliding windows, whose
    /// records each go to several in order of start) to the one after it; otherwise the
    /// windows, sorted by start, are searched.
    #[inline]
    fn window_at(&mut self, start: i64) -> usize {
        for at in [self.last, self.last + 1] {
            if self.windows.get(at).is_some_and(|w| w.start == start) {
                self.last = at;
                return at;
            }
        }
        self.last = self.find_or_open(start);
        self.last
    }

    fn find_or_open(&mut self, start: i64) -> usize {
        match self.windows.binary_search_by_key(&start, |w| w.start) {
            Ok(at) => at,
            Err(at) => {
                self.windows.insert(
                    at,
                    Window {
                        start,
                        chunks: Vec::new(),
                        parts: Vec::new(),
                        spilled_bytes: 0,
                    },
                );
                at
            }
        }
    }

    /// The time of the next firing, if any window is open: nothing is due below it.
    pub fn next_timer(&self) -> Option<i64> {
        if self.firing.is_some() {
            return Some(i64::MIN);
        }
        self.windows.front().map(|w| self.last_ms(w.start))
    }

    /// The next key of the first window due at `wm` (windows in order of end, keys in the
    /// order they opened the window); `None` when nothing is due. A window is dropped once
    /// its last key has been read. A window with parts on disk is read back whole first.
    pub fn next_group(&mut self, wm: i64) -> Result<Option<JoinGroup<'_>>, JobError> {
        loop {
            if let Some(firing) = &mut self.firing {
                while let Some((_, ends)) = firing.keys.next_entry() {
                    let (left, right) = (word(ends, LEFT_HEAD), word(ends, RIGHT_HEAD));
                    if self.keys == FiredKeys::Paired && (left == 0 || right == 0) {
                        continue;
                    }
                    let start = firing.start;
                    return Ok(Some(JoinGroup::new(
                        start,
                        start.saturating_add(self.size),
                        &self.pages,
                        left,
                        right,
                    )));
                }
                self.firing = None;
                self.drop_first();
                continue;
            }
            let start = match self.windows.front() {
                Some(w) if self.last_ms(w.start) <= wm => w.start,
                _ => return Ok(None),
            };
            if !self.windows[0].parts.is_empty() {
                self.bring_back()?;
            }
            while let Err(e) = self.index_first() {
                self.room_to_fire(e)?;
            }
            self.firing = Some(Firing {
                start,
                keys: self.index.drain(),
            });
        }
    }

    /// Indexes the first window's records by key, in arrival order, linking each record
    /// to the next of its key and side (a record comes with no link: `try_add`). On a
    /// budget error the index is emptied; indexing again after making room links the same
    /// records the same way, so a link left from the first try is overwritten or right.
    fn index_first(&mut self) -> Result<(), JobError> {
        let chunks = std::mem::take(&mut self.windows[0].chunks);
        let result = self.index_chunks(&chunks);
        self.windows[0].chunks = chunks;
        if result.is_err() {
            drop(self.index.drain());
        }
        result
    }

    fn index_chunks(&mut self, chunks: &[RecordChunk]) -> Result<(), JobError> {
        // Keys are hashed and their slots prefetched `AHEAD` records before they are
        // looked up.
        const AHEAD: usize = 8;
        let mut hashes = [0u64; AHEAD];
        let mut ahead = RecordCursor::new(chunks);
        for hash in &mut hashes {
            match ahead.next(&self.pages) {
                Some(place) => *hash = self.hash_and_prefetch(&place),
                None => break,
            }
        }
        let mut cursor = RecordCursor::new(chunks);
        let mut n = 0;
        while let Some(place) = cursor.next(&self.pages) {
            let hash = hashes[n % AHEAD];
            if let Some(next) = ahead.next(&self.pages) {
                hashes[n % AHEAD] = self.hash_and_prefetch(&next);
            }
            n += 1;
            let (head, tail) = match place.right {
                false => (LEFT_HEAD, LEFT_TAIL),
                true => (RIGHT_HEAD, RIGHT_TAIL),
            };
            let at = place.at;
            let link = (at + 1).to_le_bytes();
            let key = self.pages.bytes(place.key_at(), place.key_len);
            let entry = self.index.upsert_hashed(key, hash, |ends| ends.fill(0))?;
            let ends = self.index.acc_at_mut(entry);
            let last = word(ends, tail);
            ends[tail..tail + 8].copy_from_slice(&link);
            if last == 0 {
                ends[head..head + 8].copy_from_slice(&link);
            } else {
                set_link(&mut self.pages, last - 1, at + 1);
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn hash_and_prefetch(&self, place: &RecordPlace) -> u64 {
        let hash = key_hash(self.pages.bytes(place.key_at(), place.key_len));
        self.index.prefetch(hash);
        hash
    }

    /// The operator's memory the windows' pages come from.
    pub fn memory(&self) -> &OperatorMemory {
        self.pages.memory()
    }

    /// Whether no window holds a record.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// Drops the first window, fired; its memory goes back.
    fn drop_first(&mut self) {
        self.last = self.last.saturating_sub(1);
        if let Some(w) = self.windows.pop_front() {
            for c in w.chunks {
                self.pages.free(c.addr);
            }
        }
        if self.windows.is_empty() {
            // Nothing to fire soon: the index keeps one page until a window does.
            self.index.shrink();
        }
    }

    fn last_ms(&self, start: i64) -> i64 {
        start.saturating_add(self.size).saturating_sub(1)
    }

    /// A record that does not fit a page with its key and header.
    fn too_long(&self, record_bytes: usize, key_bytes: usize) -> JobError {
        let (operator, location) = self.pages.memory().operator();
        JobError::RecordTooLong {
            operator: operator.to_string(),
            location: location.to_string(),
            record_bytes,
            limit_bytes: (self.pages.page_size() - RECORD_HEADER).saturating_sub(key_bytes),
            record: None,
        }
    }
}

/// Bytes a record and its key take in a window's chunk: header, record, key, padded to 8.
fn block_len(key: &[u8], record: &[u8]) -> usize {
    (RECORD_HEADER + record.len() + key.len()).next_multiple_of(8)
}

/// Where a kept record is, as its header tells.
#[derive(Debug, Clone, Copy)]
struct RecordPlace {
    at: u64,
    record_len: usize,
    key_len: usize,
    right: bool,
}

impl RecordPlace {
    fn key_at(&self) -> u64 {
        self.at + (RECORD_HEADER + self.record_len) as u64
    }
}

/// The records of a window's chunks, in arrival order.
#[derive(Debug)]
struct RecordCursor<'c> {
    chunks: &'c [RecordChunk],
    chunk: usize,
    offset: usize,
}

impl<'c> RecordCursor<'c> {
    fn new(chunks: &'c [RecordChunk]) -> Self {
        RecordCursor {
            chunks,
            chunk: 0,
            offset: 0,
        }
    }

    #[inline(always)]
    fn next(&mut self, pages: &ChunkPages) -> Option<RecordPlace> {
        let mut chunk = self.chunks.get(self.chunk)?;
        while self.offset >= chunk.used {
            self.chunk += 1;
            self.offset = 0;
            chunk = self.chunks.get(self.chunk)?;
        }
        let at = chunk.addr + self.offset as u64;
        let lengths = word(pages.bytes(at + 8, 8), 0);
        let place = RecordPlace {
            at,
            record_len: (lengths & 0xFFFF_FFFF) as usize,
            key_len: ((lengths & !RIGHT_BIT) >> 32) as usize,
            right: lengths & RIGHT_BIT != 0,
        };
        self.offset += (RECORD_HEADER + place.record_len + place.key_len).next_multiple_of(8);
        Some(place)
    }
}

/// Calls `each(side, key, record)` for each record of `chunks` in arrival order (`side`
/// 1 for the right side).
fn each_record(
    pages: &ChunkPages,
    chunks: &[RecordChunk],
    mut each: impl FnMut(u8, &[u8], &[u8]) -> Result<(), JobError>,
) -> Result<(), JobError> {
    let mut cursor = RecordCursor::new(chunks);
    while let Some(place) = cursor.next(pages) {
        let body = pages.bytes(
            place.at + RECORD_HEADER as u64,
            place.record_len + place.key_len,
        );
        let (record, key) = body.split_at(place.record_len);
        each(u8::from(place.right), key, record)?;
    }
    Ok(())
}

/// Links the record at `addr` to the next of its key and side (`next`: its address + 1).
#[inline]
fn set_link(pages: &mut ChunkPages, addr: u64, next: u64) {
    pages
        .bytes_mut(addr, 8)
        .copy_from_slice(&next.to_le_bytes());
}

#[inline]
fn word(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
}

mod snapshot;
mod spill;
#[cfg(test)]
mod tests;
