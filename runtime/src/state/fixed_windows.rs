//! The state of a keyed tumbling or sliding window operator: one hash table from (key,
//! window start) to the window's accumulators, all in pool pages.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};

use super::fired_window::{FiredWindow, WindowOutcome, WindowSlot};
use super::keyed_table::same_key;
use crate::layout::{read_u32, read_u64, write_u64};
use crate::memory::{MemorySegment, OperatorMemory};
use crate::JobError;

// An entry: the hash of (start, key), the window's start, the next entry of the same window
// (address + 1, 0 = none), the key's length and 4 bytes of padding, then the accumulator
// block and the key.
const HASH: usize = 0;
const START: usize = 8;
const NEXT: usize = 16;
const KEY_LEN: usize = 24;
const HEADER: usize = 32;
/// Index slots are 64-bit words: 16 bits of hash tag over a 48-bit entry address plus one.
const ADDR_BITS: u32 = 48;
const ADDR_MASK: u64 = (1 << ADDR_BITS) - 1;
const EMPTY: u64 = 0;
/// A slot whose entry was removed: probes go past it, inserts may reuse it.
const TOMBSTONE: u64 = u64::MAX;

/// One window's entries, in the order its keys opened it.
#[derive(Debug, Clone, Copy)]
struct WindowList {
    /// First and last entry (address + 1; 0 = none).
    head: u64,
    tail: u64,
    /// Whether the window has fired (it stays, for allowed lateness, until its cleanup).
    fired: bool,
}

/// Tumbling and sliding windows per key, in pool pages.
///
/// Every window of the operator has the same length, so windows end in the order they
/// start. One open-addressing table maps (key, start) to an entry holding the window's
/// accumulators: a record costs one probe of the index and one entry, whatever the number
/// of windows its key has open. Each window threads its entries in a list, in the order
/// they were opened; a `BTreeMap` by start holds the lists, and is the operator's timer:
/// a window fires when the watermark reaches its last millisecond (`end - 1`), as in
/// Flink, emitting its keys in opening order. With allowed lateness a fired window is kept
/// until `end - 1 + lateness`; a late record that still lands in it makes that key's
/// result fire again.
///
/// Entries are appended to data pages; a page goes back to the pool once all its entries
/// are removed. Removed entries leave tombstones in the index, which is rebuilt (and grown
/// when more than half full) once live entries and tombstones fill three quarters of it.
#[derive(Debug)]
pub struct FixedWindows {
    mem: OperatorMemory,
    size: i64,
    lateness: i64,
    acc_size: usize,
    hasher: foldhash::fast::FixedState,
    index: Vec<MemorySegment>,
    /// log2 of slots per index page.
    slot_shift: u32,
    capacity: usize,
    live: usize,
    tombstones: usize,
    /// Data pages by id (a freed id is reused); an address is `id << page_shift | offset`.
    pages: Vec<Option<MemorySegment>>,
    page_live: Vec<u32>,
    free_ids: Vec<u32>,
    page_shift: u32,
    /// The page entries are appended to, and the bytes used in it.
    current: Option<(u32, usize)>,
    windows: BTreeMap<i64, WindowList>,
    /// No unfired window starts before this.
    fire_from: i64,
    /// A window being emitted: its start and the next entry (address + 1; 0 = done).
    firing: Option<(i64, u64)>,
}

impl FixedWindows {
    /// Empty state for windows `size` ms long with `acc_size`-byte accumulators, keeping
    /// windows `lateness` ms past their end. Allocates its first index page at once, so a
    /// budget too small for any state fails at start.
    pub fn new(
        mem: OperatorMemory,
        size: i64,
        acc_size: usize,
        lateness: i64,
    ) -> Result<Self, JobError> {
        let page = mem.page_size();
        let slots_per_page = page / 8;
        let index = mem.allocate_many(1)?;
        Ok(FixedWindows {
            size,
            lateness: lateness.max(0),
            acc_size: acc_size.next_multiple_of(8),
            hasher: foldhash::fast::FixedState::with_seed(0x5749_4e44),
            index,
            slot_shift: slots_per_page.trailing_zeros(),
            capacity: slots_per_page,
            live: 0,
            tombstones: 0,
            pages: Vec::new(),
            page_live: Vec::new(),
            free_ids: Vec::new(),
            page_shift: page.trailing_zeros(),
            current: None,
            windows: BTreeMap::new(),
            fire_from: i64::MIN,
            firing: None,
            mem,
        })
    }

    /// The time of the next firing or cleanup, if any: nothing is due below it.
    pub fn next_timer(&self) -> Option<i64> {
        if self.firing.is_some() {
            return Some(i64::MIN);
        }
        let unfired = self
            .windows
            .range(self.fire_from..)
            .find(|(_, w)| !w.fired)
            .map(|(&start, _)| self.last_ms(start));
        let cleanup = self
            .windows
            .first_key_value()
            .filter(|(_, w)| w.fired)
            .map(|(&start, _)| self.last_ms(start).saturating_add(self.lateness));
        match (unfired, cleanup) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The window `[start, end)` of `key` at watermark `wm`, opened with `init` if new;
    /// `None` when the window is past its allowed lateness (the record is late for it).
    /// `end` must be `start + size`. Update the accumulators with
    /// [`acc_mut`](Self::acc_mut), then call [`after_update`](Self::after_update).
    #[inline]
    pub fn open(
        &mut self,
        key: &[u8],
        start: i64,
        end: i64,
        wm: i64,
        init: impl FnOnce(&mut [u8]),
    ) -> Result<Option<WindowSlot>, JobError> {
        debug_assert_eq!(end, start.saturating_add(self.size));
        if end.saturating_sub(1).saturating_add(self.lateness) <= wm {
            return Ok(None);
        }
        let hash = self.hash(key, start);
        let tag = hash >> ADDR_BITS;
        let mask = self.capacity - 1;
        let mut i = hash as usize & mask;
        let mut reuse = None;
        loop {
            let slot = self.slot(i);
            if slot == EMPTY {
                break;
            }
            if slot == TOMBSTONE {
                reuse.get_or_insert(i);
            } else if slot >> ADDR_BITS == tag {
                let addr = (slot & ADDR_MASK) - 1;
                if self.entry_start(addr) == start && same_key(self.entry_key(addr), key) {
                    return Ok(Some(addr));
                }
            }
            i = (i + 1) & mask;
        }
        let addr = self.append_entry(key, hash, start, init)?;
        match reuse {
            Some(r) => {
                self.set_slot(r, (tag << ADDR_BITS) | (addr + 1));
                self.tombstones -= 1;
            }
            None if (self.live + self.tombstones + 1) * 4 > self.capacity * 3 => {
                self.rebuild()?;
                self.place(hash, addr);
            }
            None => self.set_slot(i, (tag << ADDR_BITS) | (addr + 1)),
        }
        self.live += 1;
        self.link(start, addr, wm);
        Ok(Some(addr))
    }

    /// The accumulator block of the entry at `slot`.
    #[inline]
    pub fn acc_mut(&mut self, slot: WindowSlot) -> &mut [u8] {
        let (p, o) = self.locate(slot);
        let size = self.acc_size;
        &mut self.page_mut(p)[o + HEADER..o + HEADER + size]
    }

    /// After a record landed in `slot` at watermark `wm`: a window whose time has already
    /// passed fires at once, with the updated result.
    #[inline]
    pub fn after_update(&mut self, slot: WindowSlot, wm: i64) -> WindowOutcome {
        if self.last_ms(self.entry_start(slot)) <= wm {
            WindowOutcome::Refire(slot)
        } else {
            WindowOutcome::Added
        }
    }

    /// The next result due at watermark `wm`, copied into `out`, or `None` when nothing
    /// more is due: windows in order of start (and so of end), each one's keys in the order
    /// they opened it. Without allowed lateness, entries are removed as they fire.
    pub fn next_due(&mut self, wm: i64, out: &mut Vec<u8>) -> Option<FiredWindow> {
        loop {
            if let Some((start, next)) = self.firing {
                if next == 0 {
                    self.firing = None;
                    if self.lateness == 0 {
                        self.windows.remove(&start);
                    } else if let Some(w) = self.windows.get_mut(&start) {
                        w.fired = true;
                    }
                    continue;
                }
                let addr = next - 1;
                let fired = self.copy_window(addr, out);
                let after = self.entry_next(addr);
                if self.lateness == 0 {
                    self.remove_entry(addr);
                }
                self.firing = Some((start, after));
                return Some(fired);
            }
            self.clean_up(wm);
            let (start, head) = self
                .windows
                .range(self.fire_from..)
                .find(|(_, w)| !w.fired)
                .map(|(&start, w)| (start, w.head))?;
            if self.last_ms(start) > wm {
                return None;
            }
            self.fire_from = start;
            self.firing = Some((start, head));
        }
    }

    /// Copies the entry at `slot` (key and accumulators) into `out` for emitting.
    pub fn copy_window(&self, slot: WindowSlot, out: &mut Vec<u8>) -> FiredWindow {
        let key = self.entry_key(slot);
        let (p, o) = self.locate(slot);
        out.clear();
        out.extend_from_slice(key);
        out.extend_from_slice(&self.page(p)[o + HEADER..o + HEADER + self.acc_size]);
        let start = self.entry_start(slot);
        FiredWindow {
            start,
            end: start.saturating_add(self.size),
            key_len: key.len(),
        }
    }

    /// Drops fired windows whose allowed lateness has passed at `wm`.
    fn clean_up(&mut self, wm: i64) {
        while let Some((&start, w)) = self.windows.first_key_value() {
            if !w.fired || self.last_ms(start).saturating_add(self.lateness) > wm {
                return;
            }
            let mut next = w.head;
            while next != 0 {
                let addr = next - 1;
                next = self.entry_next(addr);
                self.remove_entry(addr);
            }
            self.windows.remove(&start);
        }
    }

    /// Appends a new entry at `addr` to its window's list, making the list if the window is
    /// new; a window already due at `wm` counts as fired (its record re-fires it at once).
    fn link(&mut self, start: i64, addr: u64, wm: i64) {
        let due = self.last_ms(start) <= wm;
        let list = self.windows.entry(start).or_insert(WindowList {
            head: 0,
            tail: 0,
            fired: due,
        });
        let old_tail = std::mem::replace(&mut list.tail, addr + 1);
        if old_tail == 0 {
            list.head = addr + 1;
        } else {
            self.set_entry_next(old_tail - 1, addr + 1);
        }
        if !due && start < self.fire_from {
            self.fire_from = start;
        }
    }

    fn append_entry(
        &mut self,
        key: &[u8],
        hash: u64,
        start: i64,
        init: impl FnOnce(&mut [u8]),
    ) -> Result<u64, JobError> {
        let page_size = self.mem.page_size();
        let len = (HEADER + self.acc_size + key.len()).next_multiple_of(8);
        if len > page_size {
            let (operator, location) = self.mem.operator();
            return Err(JobError::KeyTooLong {
                operator: operator.to_string(),
                location: location.to_string(),
                key_bytes: key.len(),
                limit_bytes: page_size - HEADER - self.acc_size,
                record: None,
            });
        }
        let (id, offset) = match self.current {
            Some((id, used)) if used + len <= page_size => (id, used),
            _ => (self.new_page()?, 0),
        };
        self.current = Some((id, offset + len));
        self.page_live[id as usize] += 1;
        let acc_size = self.acc_size;
        let bytes = &mut self.page_mut(id as usize)[offset..offset + len];
        write_u64(bytes, HASH, hash);
        write_u64(bytes, START, start as u64);
        write_u64(bytes, NEXT, 0);
        bytes[KEY_LEN..KEY_LEN + 4].copy_from_slice(&(key.len() as u32).to_le_bytes());
        init(&mut bytes[HEADER..HEADER + acc_size]);
        bytes[HEADER + acc_size..HEADER + acc_size + key.len()].copy_from_slice(key);
        Ok(((id as u64) << self.page_shift) | offset as u64)
    }

    /// A fresh data page's id. The page being appended to is left; it goes back to the pool
    /// once its last entry is removed.
    fn new_page(&mut self) -> Result<u32, JobError> {
        if let Some((old, _)) = self.current.take() {
            if self.page_live[old as usize] == 0 {
                self.free_page(old);
            }
        }
        let page = self.mem.allocate()?;
        Ok(match self.free_ids.pop() {
            Some(id) => {
                self.pages[id as usize] = Some(page);
                id
            }
            None => {
                self.pages.push(Some(page));
                self.page_live.push(0);
                (self.pages.len() - 1) as u32
            }
        })
    }

    fn free_page(&mut self, id: u32) {
        if let Some(page) = self.pages[id as usize].take() {
            self.mem.release(page);
            self.free_ids.push(id);
        }
    }

    /// Removes the entry at `addr` from the index, and its page once the page is empty.
    fn remove_entry(&mut self, addr: u64) {
        let hash = self.entry_hash(addr);
        let mask = self.capacity - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slot(i);
            if slot == EMPTY {
                debug_assert!(false, "a live entry is in the index");
                return;
            }
            if slot != TOMBSTONE && (slot & ADDR_MASK) == addr + 1 {
                self.set_slot(i, TOMBSTONE);
                break;
            }
            i = (i + 1) & mask;
        }
        self.live -= 1;
        self.tombstones += 1;
        let id = (addr >> self.page_shift) as u32;
        self.page_live[id as usize] -= 1;
        if self.page_live[id as usize] == 0 && self.current.map(|(c, _)| c) != Some(id) {
            self.free_page(id);
        }
    }

    /// A fresh index without tombstones, twice as large when more than half of it is live.
    /// The new index is allocated before the old one is released, so the budget must hold
    /// both for a moment.
    fn rebuild(&mut self) -> Result<(), JobError> {
        let grow = (self.live + 1) * 2 > self.capacity;
        let pages = self.index.len() as u64 * if grow { 2 } else { 1 };
        let new_index = self.mem.allocate_many(pages)?;
        let old = std::mem::replace(&mut self.index, new_index);
        if grow {
            self.capacity *= 2;
        }
        self.tombstones = 0;
        for slot_page in &old {
            for &slot in slot_page.words() {
                if slot != EMPTY && slot != TOMBSTONE {
                    let addr = (slot & ADDR_MASK) - 1;
                    self.place(self.entry_hash(addr), addr);
                }
            }
        }
        for page in old {
            self.mem.release(page);
        }
        Ok(())
    }

    /// Puts an entry's address in the first empty slot of its probe sequence (the index has
    /// no tombstones when this is called).
    fn place(&mut self, hash: u64, addr: u64) {
        let mask = self.capacity - 1;
        let mut i = hash as usize & mask;
        while self.slot(i) != EMPTY {
            i = (i + 1) & mask;
        }
        self.set_slot(i, ((hash >> ADDR_BITS) << ADDR_BITS) | (addr + 1));
    }

    #[inline]
    fn hash(&self, key: &[u8], start: i64) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write_i64(start);
        h.write(key);
        h.finish()
    }

    /// The last millisecond of the window starting at `start`: it fires when the
    /// watermark reaches it.
    #[inline]
    fn last_ms(&self, start: i64) -> i64 {
        start.saturating_add(self.size).saturating_sub(1)
    }

    #[inline]
    fn slot(&self, i: usize) -> u64 {
        let per_page = (1usize << self.slot_shift) - 1;
        self.index[i >> self.slot_shift].words()[i & per_page]
    }

    #[inline]
    fn set_slot(&mut self, i: usize, value: u64) {
        let per_page = (1usize << self.slot_shift) - 1;
        self.index[i >> self.slot_shift].words_mut()[i & per_page] = value;
    }

    #[inline]
    fn locate(&self, addr: u64) -> (usize, usize) {
        let addr = addr as usize;
        (addr >> self.page_shift, addr & ((1 << self.page_shift) - 1))
    }

    #[inline]
    fn page(&self, id: usize) -> &[u8] {
        self.pages[id]
            .as_ref()
            .expect("entries live in held pages")
            .bytes()
    }

    #[inline]
    fn page_mut(&mut self, id: usize) -> &mut [u8] {
        self.pages[id]
            .as_mut()
            .expect("entries live in held pages")
            .bytes_mut()
    }

    #[inline]
    fn entry_word(&self, addr: u64, field: usize) -> u64 {
        let (p, o) = self.locate(addr);
        read_u64(self.page(p), o + field)
    }

    #[inline]
    fn entry_hash(&self, addr: u64) -> u64 {
        self.entry_word(addr, HASH)
    }

    #[inline]
    fn entry_start(&self, addr: u64) -> i64 {
        self.entry_word(addr, START) as i64
    }

    #[inline]
    fn entry_next(&self, addr: u64) -> u64 {
        self.entry_word(addr, NEXT)
    }

    fn set_entry_next(&mut self, addr: u64, next: u64) {
        let (p, o) = self.locate(addr);
        write_u64(self.page_mut(p), o + NEXT, next);
    }

    #[inline]
    fn entry_key(&self, addr: u64) -> &[u8] {
        let (p, o) = self.locate(addr);
        let bytes = self.page(p);
        let key_len = read_u32(bytes, o + KEY_LEN) as usize;
        let start = o + HEADER + self.acc_size;
        &bytes[start..start + key_len]
    }
}

impl Drop for FixedWindows {
    fn drop(&mut self) {
        for page in self.index.drain(..).chain(self.pages.drain(..).flatten()) {
            self.mem.release(page);
        }
    }
}

#[cfg(test)]
mod tests;
