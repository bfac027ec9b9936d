//! The window table for keys of any length: entries appended to chunks, found through an
//! index of their addresses.

use super::{EntryCursor, EntryFormat};
use crate::state::storage::chunk_pages::ChunkPages;
use crate::JobError;

/// Index slots are 64-bit words: 16 bits of hash tag over a 48-bit entry address plus one.
const ADDR_BITS: u32 = 48;
const ADDR_MASK: u64 = (1 << ADDR_BITS) - 1;
const EMPTY: u64 = 0;
/// A new window's index: 16 slots, one cache line pair.
const FIRST_SLOTS: usize = 16;
/// A new window's first chunk of entries.
const FIRST_ENTRIES: usize = 256;

/// Slots per chunk of an index of `capacity` slots: the whole index, up to a page.
fn index_chunk_slots(pages: &ChunkPages, capacity: usize) -> usize {
    capacity.min(pages.page_size() / 8)
}

/// A chunk of entries, filled front to back.
#[derive(Debug, Clone, Copy)]
struct EntryChunk {
    addr: u64,
    len: u32,
    used: u32,
}

/// A window table for keys of any length: the index holds entry addresses. Entries are appended in the order their
/// keys opened the window, so iterating them is that order; nothing is removed until the
/// whole table is. The index is open-addressing with linear probing and a 16-bit hash tag
/// per slot, at most half full; when it grows, the new index is built from the
/// entries before the old one is freed.
#[derive(Debug)]
pub(in crate::state) struct AddressedTable {
    index: Vec<u64>,
    capacity: usize,
    /// log2 of the slots per index chunk.
    chunk_shift: u32,
    live: usize,
    chunks: Vec<EntryChunk>,
}

impl AddressedTable {
    /// An empty table whose index holds `expected` keys without growing (at least a small
    /// one). A window stream's windows tend to see as many keys as the last one, so sizing
    /// from it spares the doublings. The index starts at no more than a 16th of the
    /// operator's budget, so that a tight budget is not taken by index slots a window may
    /// never fill; if that much is not to be had, a small one will do.
    pub fn new(pages: &mut ChunkPages, expected: usize) -> Result<Self, JobError> {
        let small = FIRST_SLOTS.min(pages.page_size() / 8);
        let most = usize::try_from(pages.memory().budget_bytes() / 16 / 8).unwrap_or(usize::MAX);
        let wanted = expected
            .saturating_mul(2)
            .next_power_of_two()
            .min(
                most.checked_next_power_of_two()
                    .map_or(most, |p| p / 2)
                    .max(1),
            )
            .max(small);
        let (capacity, index) = match Self::alloc_index(pages, wanted) {
            Ok(index) => (wanted, index),
            Err(_) if wanted > small => (small, Self::alloc_index(pages, small)?),
            Err(e) => return Err(e),
        };
        Ok(AddressedTable {
            chunk_shift: (index_chunk_slots(pages, capacity)).trailing_zeros(),
            index,
            capacity,
            live: 0,
            chunks: Vec::new(),
        })
    }

    /// Keys in the window.
    pub fn len(&self) -> usize {
        self.live
    }

    /// The entry of `key` (whose hash is `hash`), appended with accumulators prepared by
    /// `init` if the key is new. The entry must fit in a page (the caller checks).
    #[inline]
    pub fn find_or_insert(
        &mut self,
        pages: &mut ChunkPages,
        format: &EntryFormat,
        key: &[u8],
        hash: u64,
        init: impl FnOnce(&mut [u8]),
    ) -> Result<u64, JobError> {
        match self.find(pages, format, key, hash) {
            Ok(addr) => Ok(addr),
            Err(empty) => self.insert(pages, format, key, hash, empty, init),
        }
    }

    /// The entry of `key` (whose hash is `hash`), if the table has it.
    #[inline]
    pub fn get(
        &self,
        pages: &ChunkPages,
        format: &EntryFormat,
        key: &[u8],
        hash: u64,
    ) -> Option<u64> {
        self.find(pages, format, key, hash).ok()
    }

    /// The entry of `key`, or the empty slot where its probe sequence ends.
    #[inline]
    fn find(
        &self,
        pages: &ChunkPages,
        format: &EntryFormat,
        key: &[u8],
        hash: u64,
    ) -> Result<u64, usize> {
        let tag = hash >> ADDR_BITS;
        let mask = self.capacity - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slot(pages, i);
            if slot == EMPTY {
                return Err(i);
            }
            if slot >> ADDR_BITS == tag {
                let addr = (slot & ADDR_MASK) - 1;
                if format.holds(pages, addr, key) {
                    return Ok(addr);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `key` at the empty slot `i` that ended its probe sequence; the index stays at
    /// most half full, as linear probing needs to stay short.
    #[inline(never)]
    fn insert(
        &mut self,
        pages: &mut ChunkPages,
        format: &EntryFormat,
        key: &[u8],
        hash: u64,
        mut i: usize,
        init: impl FnOnce(&mut [u8]),
    ) -> Result<u64, JobError> {
        if (self.live + 1) * 2 > self.capacity {
            self.grow(pages, format)?;
            i = self.empty_slot(pages, hash);
        }
        let addr = self.append(pages, format, key, init)?;
        self.set_slot(pages, i, ((hash >> ADDR_BITS) << ADDR_BITS) | (addr + 1));
        self.live += 1;
        Ok(addr)
    }

    /// The entry at `at` and the cursor past it, or `None` at the end.
    #[inline]
    pub fn entry_at(
        &self,
        pages: &ChunkPages,
        format: &EntryFormat,
        at: EntryCursor,
    ) -> Option<(u64, EntryCursor)> {
        let mut at = at;
        let chunk = loop {
            let chunk = self.chunks.get(at.chunk)?;
            if at.offset < chunk.used {
                break chunk;
            }
            at = EntryCursor {
                chunk: at.chunk + 1,
                offset: 0,
            };
        };
        let addr = chunk.addr + u64::from(at.offset);
        let len = format.entry_len(format.key(pages, addr)) as u32;
        let next = EntryCursor {
            chunk: at.chunk,
            offset: at.offset + len,
        };
        Some((addr, next))
    }

    /// Bytes of chunks the table holds: what keeping it in memory costs.
    pub fn memory_bytes(&self) -> u64 {
        let index = (self.capacity * 8) as u64;
        index + self.chunks.iter().map(|c| u64::from(c.len)).sum::<u64>()
    }

    /// Frees every chunk of the table.
    pub fn free(self, pages: &mut ChunkPages) {
        for addr in self.index {
            pages.free(addr);
        }
        for chunk in self.chunks {
            pages.free(chunk.addr);
        }
    }

    fn append(
        &mut self,
        pages: &mut ChunkPages,
        format: &EntryFormat,
        key: &[u8],
        init: impl FnOnce(&mut [u8]),
    ) -> Result<u64, JobError> {
        let len = format.entry_len(key);
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| (c.used as usize) + len <= c.len as usize);
        if !fits {
            let page = pages.page_size();
            let grown = self
                .chunks
                .last()
                .map_or(FIRST_ENTRIES, |c| c.len as usize * 2);
            let chunk_len = grown.max(len.next_power_of_two()).min(page);
            let addr = pages.alloc(chunk_len)?;
            self.chunks.push(EntryChunk {
                addr,
                len: chunk_len as u32,
                used: 0,
            });
        }
        let chunk = self.chunks.last_mut().expect("a chunk with room");
        let addr = chunk.addr + u64::from(chunk.used);
        chunk.used += len as u32;
        format.write(pages.bytes_mut(addr, len), key, init);
        Ok(addr)
    }

    /// Doubles the index. The new one is allocated (all or nothing) before anything
    /// changes, so running out of budget leaves the table as it was.
    fn grow(&mut self, pages: &mut ChunkPages, format: &EntryFormat) -> Result<(), JobError> {
        let capacity = self.capacity * 2;
        let index = Self::alloc_index(pages, capacity)?;
        let old = std::mem::replace(&mut self.index, index);
        for addr in old {
            pages.free(addr);
        }
        self.capacity = capacity;
        self.chunk_shift = index_chunk_slots(pages, capacity).trailing_zeros();
        let mut at = EntryCursor::default();
        while let Some((addr, next)) = self.entry_at(pages, format, at) {
            let hash = format.hash(format.key(pages, addr));
            let i = self.empty_slot(pages, hash);
            self.set_slot(pages, i, ((hash >> ADDR_BITS) << ADDR_BITS) | (addr + 1));
            at = next;
        }
        Ok(())
    }

    /// The chunks of an empty index of `capacity` slots, all or none.
    fn alloc_index(pages: &mut ChunkPages, capacity: usize) -> Result<Vec<u64>, JobError> {
        let per_chunk = index_chunk_slots(pages, capacity);
        pages.alloc_all(capacity / per_chunk, per_chunk * 8)
    }

    /// The first empty slot on `hash`'s probe sequence.
    fn empty_slot(&self, pages: &ChunkPages, hash: u64) -> usize {
        let mask = self.capacity - 1;
        let mut i = hash as usize & mask;
        while self.slot(pages, i) != EMPTY {
            i = (i + 1) & mask;
        }
        i
    }

    #[inline]
    fn slot(&self, pages: &ChunkPages, i: usize) -> u64 {
        let within = i & ((1 << self.chunk_shift) - 1);
        pages.word(self.index[i >> self.chunk_shift], within)
    }

    #[inline]
    fn set_slot(&self, pages: &mut ChunkPages, i: usize, value: u64) {
        let within = i & ((1 << self.chunk_shift) - 1);
        pages.set_word(self.index[i >> self.chunk_shift], within, value);
    }
}
