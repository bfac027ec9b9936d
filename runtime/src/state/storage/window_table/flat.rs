//! The window table for fixed-width keys: each entry lives in its slot, so finding a key
//! and updating its accumulators touch one place in memory rather than two (an index slot,
//! then the entry it points to). On the tumbling-window benchmark that second cache miss
//! was a fifth of a record's cost. Each slot starts with its key's hash (a zero word marks
//! it empty), so a probe compares keys only where the hash matches, in the cache line it
//! has already loaded. (Control bytes apart from the slots, as in SwissTable, made the
//! benchmark 5% slower: two dependent loads where this takes one.)

use super::{EntryCursor, EntryFormat};
use crate::layout::read_u32;
use crate::state::storage::chunk_pages::{ChunkPages, ChunkPtr};
use crate::JobError;

/// The first word of an empty slot; a taken one holds its key's hash with the low bit set.
const EMPTY: u64 = 0;
/// A new window's table: 16 slots.
const FIRST_SLOTS: usize = 16;
/// Bytes of one arrival-order position.
const POSITION: usize = 4;

/// Open addressing with linear probing over slots that hold the entries themselves, at most
/// three quarters full. Entries move when the table grows; arrival order is kept apart, as
/// the slot position of each key in the order it opened the window, which is the order a
/// window's results are emitted in.
#[derive(Debug)]
pub(in crate::state) struct FlatTable {
    /// Chunks of slots, `1 << chunk_shift` slots each.
    slots: Vec<u64>,
    /// The same chunks as pointers, for the probe loop: a slot is read without a page
    /// lookup or a bounds check (a fifth of a record's instructions on the window
    /// benchmark went to those).
    bases: Vec<ChunkPtr>,
    capacity: usize,
    chunk_shift: u32,
    /// Bytes of a slot: the hash word, then the entry.
    stride: usize,
    /// Chunks of `u32` slot positions in arrival order, a page each.
    order: Vec<u64>,
    live: usize,
}

impl FlatTable {
    /// Whether entries of `format` are stored in their slots: keys of one width, slots
    /// small enough that many fit in a page, and a budget too small for 2^32 of them (so
    /// a slot's position fits the `u32` that records arrival order).
    pub fn suits(pages: &ChunkPages, format: &EntryFormat) -> bool {
        format.key_width.is_some_and(|w| {
            let stride = 8 + (format.acc_size + w).next_multiple_of(8);
            stride * 16 <= pages.page_size()
                && pages.memory().budget_bytes() / stride as u64 <= u64::from(u32::MAX)
        })
    }

    /// An empty table with room for `expected` keys without growing, within a 16th of the
    /// operator's budget (see [`super::WindowTable::new`]).
    pub fn new(
        pages: &mut ChunkPages,
        format: &EntryFormat,
        expected: usize,
    ) -> Result<Self, JobError> {
        let width = format.key_width.expect("a fixed-width key");
        let stride = 8 + (format.acc_size + width).next_multiple_of(8);
        let most =
            usize::try_from(pages.memory().budget_bytes() / 16).unwrap_or(usize::MAX) / stride;
        let wanted = (expected.saturating_mul(4) / 3 + 1)
            .next_power_of_two()
            .min(prev_power_of_two(most).max(1))
            .max(FIRST_SLOTS);
        let mut table = FlatTable {
            slots: Vec::new(),
            bases: Vec::new(),
            capacity: 0,
            chunk_shift: 0,
            stride,
            order: Vec::new(),
            live: 0,
        };
        match table.alloc(pages, wanted) {
            Ok(chunks) => table.install(pages, chunks, wanted),
            Err(_) if wanted > FIRST_SLOTS => {
                let chunks = table.alloc(pages, FIRST_SLOTS)?;
                table.install(pages, chunks, FIRST_SLOTS);
            }
            Err(e) => return Err(e),
        }
        Ok(table)
    }

    /// Keys in the window.
    pub fn len(&self) -> usize {
        self.live
    }

    /// The entry of `key` (its address, and a pointer to it for the caller's accumulator
    /// update), or the empty slot where its probe sequence ends.
    #[inline(always)]
    pub fn find(
        &self,
        _pages: &ChunkPages,
        format: &EntryFormat,
        key: &[u8],
        hash: u64,
    ) -> Result<(u64, *mut u8), usize> {
        let tagged = hash | 1;
        let mask = self.capacity - 1;
        let key_at = 8 + format.acc_size;
        let width = format.key_width.expect("a fixed-width key");
        let word_key = match <[u8; 8]>::try_from(key) {
            Ok(word) if format.key_width == Some(8) => Some(u64::from_ne_bytes(word)),
            _ => None,
        };
        let mut i = home(tagged, mask);
        loop {
            let slot = self.slot_ptr(i);
            // SAFETY: `slot_ptr` gives the start of slot `i` of a live chunk; a slot is
            // `stride` bytes, 8-aligned (chunks are, and `stride` is a multiple of 8), with
            // the hash word first and the key at `key_at` (`key_at + key.len() <= stride`
            // for every key of the table's width, which `holds` callers guarantee by the
            // format). The table's `&self` comes with the `ChunkPages` borrow the caller
            // holds (`_pages`), so nothing writes meanwhile.
            let word = unsafe { slot.cast::<u64>().read() };
            if word == EMPTY {
                return Err(i);
            }
            if word == tagged {
                let same = match word_key {
                    // SAFETY: as above; an 8-byte key ends at `key_at + 8 <= stride`.
                    Some(k) => k == unsafe { slot.add(key_at).cast::<u64>().read() },
                    None => {
                        // SAFETY: as above; a key of the table's width fits its slot
                        // (`stride` is 8 + `acc_size + width`, rounded up).
                        let stored = unsafe { std::slice::from_raw_parts(slot.add(key_at), width) };
                        stored == key
                    }
                };
                if same {
                    return Ok((self.slot_addr(i) + 8, slot.wrapping_add(8)));
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `key` at the empty slot `i` that ended its probe sequence.
    #[inline(never)]
    pub fn insert(
        &mut self,
        pages: &mut ChunkPages,
        format: &EntryFormat,
        key: &[u8],
        hash: u64,
        mut i: usize,
        init: impl FnOnce(&mut [u8]),
    ) -> Result<(u64, *mut u8), JobError> {
        let per_order_chunk = pages.page_size() / POSITION;
        if self.live == self.order.len() * per_order_chunk {
            let chunk = pages.alloc(pages.page_size())?;
            self.order.push(chunk);
        }
        if (self.live + 1) * 4 > self.capacity * 3 {
            self.grow(pages)?;
            i = self.empty_slot(pages, hash | 1);
        }
        let slot = self.slot_addr(i);
        pages.set_word(slot, 0, hash | 1);
        format.write(pages.bytes_mut(slot + 8, self.stride - 8), key, init);
        self.set_position(pages, self.live, i);
        self.live += 1;
        Ok((slot + 8, self.slot_ptr(i).wrapping_add(8)))
    }

    /// The entry at `at` and the cursor past it, or `None` at the end. The cursor counts
    /// keys in arrival order, so it stays valid when the table grows.
    #[inline]
    pub fn entry_at(&self, pages: &ChunkPages, at: EntryCursor) -> Option<(u64, EntryCursor)> {
        if at.chunk >= self.live {
            return None;
        }
        let entry = self.slot_addr(self.position(pages, at.chunk)) + 8;
        let next = EntryCursor {
            chunk: at.chunk + 1,
            offset: 0,
        };
        Some((entry, next))
    }

    /// Bytes of chunks the table holds.
    pub fn memory_bytes(&self, pages: &ChunkPages) -> u64 {
        (self.capacity * self.stride + self.order.len() * pages.page_size()) as u64
    }

    /// Frees every chunk of the table.
    pub fn free(self, pages: &mut ChunkPages) {
        for addr in self.slots.into_iter().chain(self.order) {
            pages.free(addr);
        }
    }

    /// Doubles the table, moving every entry (in arrival order) to its slot in the new one;
    /// the hash word in each slot spares hashing the keys again. The new slots are
    /// allocated, all or nothing, before anything changes.
    fn grow(&mut self, pages: &mut ChunkPages) -> Result<(), JobError> {
        let capacity = self.capacity * 2;
        let chunks = self.alloc(pages, capacity)?;
        let old = FlatTable {
            slots: std::mem::take(&mut self.slots),
            bases: std::mem::take(&mut self.bases),
            capacity: self.capacity,
            chunk_shift: self.chunk_shift,
            stride: self.stride,
            order: Vec::new(),
            live: 0,
        };
        self.install(pages, chunks, capacity);
        let mut moving = vec![0u8; self.stride];
        for n in 0..self.live {
            let from = old.slot_addr(self.position(pages, n));
            moving.copy_from_slice(pages.bytes(from, self.stride));
            let tagged = u64::from_ne_bytes(moving[..8].try_into().expect("a word"));
            let i = self.empty_slot(pages, tagged);
            pages
                .bytes_mut(self.slot_addr(i), self.stride)
                .copy_from_slice(&moving);
            self.set_position(pages, n, i);
        }
        for addr in old.slots {
            pages.free(addr);
        }
        Ok(())
    }

    fn install(&mut self, pages: &ChunkPages, slots: Vec<u64>, capacity: usize) {
        self.chunk_shift = self.chunk_slots(pages, capacity).trailing_zeros();
        self.bases = slots.iter().map(|&addr| pages.chunk_ptr(addr)).collect();
        self.slots = slots;
        self.capacity = capacity;
    }

    /// Slots per chunk for a table of `capacity`: all of them, up to what a page holds.
    fn chunk_slots(&self, pages: &ChunkPages, capacity: usize) -> usize {
        capacity.min(prev_power_of_two(pages.page_size() / self.stride))
    }

    /// The chunks of `capacity` empty slots, all or none.
    fn alloc(&self, pages: &mut ChunkPages, capacity: usize) -> Result<Vec<u64>, JobError> {
        let per_chunk = self.chunk_slots(pages, capacity);
        pages.alloc_all(capacity / per_chunk, per_chunk * self.stride)
    }

    /// The first empty slot on the probe sequence of the hash word `tagged`.
    fn empty_slot(&self, pages: &ChunkPages, tagged: u64) -> usize {
        let mask = self.capacity - 1;
        let mut i = home(tagged, mask);
        while pages.word(self.slot_addr(i), 0) != EMPTY {
            i = (i + 1) & mask;
        }
        i
    }

    /// The first byte of slot `i`, which must be below the capacity.
    #[inline(always)]
    fn slot_ptr(&self, i: usize) -> *mut u8 {
        let within = i & ((1 << self.chunk_shift) - 1);
        debug_assert!(i < self.capacity);
        // Slot `i < capacity` is in chunk `i >> chunk_shift`, one of `bases`: the table
        // has `capacity >> chunk_shift` chunks.
        let base = match self.bases.get(i >> self.chunk_shift) {
            Some(&base) => base,
            None => unreachable!("slot {i} is beyond the table's chunks"),
        };
        base.at(within * self.stride)
    }

    #[inline]
    fn slot_addr(&self, i: usize) -> u64 {
        let within = i & ((1 << self.chunk_shift) - 1);
        self.slots[i >> self.chunk_shift] + (within * self.stride) as u64
    }

    /// The slot of the `n`th key to arrive.
    fn position(&self, pages: &ChunkPages, n: usize) -> usize {
        let (chunk, within) = self.order_place(pages, n);
        read_u32(pages.bytes(chunk + within as u64, POSITION), 0) as usize
    }

    fn set_position(&self, pages: &mut ChunkPages, n: usize, slot: usize) {
        let (chunk, within) = self.order_place(pages, n);
        // `suits` keeps the table under 2^32 slots.
        let slot = slot as u32;
        pages
            .bytes_mut(chunk + within as u64, POSITION)
            .copy_from_slice(&slot.to_le_bytes());
    }

    fn order_place(&self, pages: &ChunkPages, n: usize) -> (u64, usize) {
        let per_chunk = pages.page_size() / POSITION;
        (self.order[n / per_chunk], (n % per_chunk) * POSITION)
    }
}

/// Where the probe sequence of the hash word `tagged` starts: from the bits above the tag
/// bit, so that a slot's hash word alone places its key when the table grows.
#[inline]
fn home(tagged: u64, mask: usize) -> usize {
    (tagged >> 1) as usize & mask
}

/// The largest power of two at most `n` (`n` at least 1).
fn prev_power_of_two(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        1 << (usize::BITS - 1 - n.leading_zeros())
    }
}
