//! One window's keys: a small hash table in [`ChunkPages`] chunks that grows by doubling
//! and is dropped whole when the window is done. Keys of one width keep their entries in
//! the table's slots ([`flat`]); other keys are found through an index of entry addresses
//! ([`addressed`]).

mod addressed;
mod flat;

use super::chunk_pages::ChunkPages;
use super::keyed_table::same_key;
use crate::layout::read_u32;
use crate::JobError;
use addressed::AddressedTable;
use flat::FlatTable;

/// How a window operator's entries are laid out: the accumulator block, then the key. A
/// key of fixed width (every key field fixed-size) is stored bare; any other key has its
/// length in the 8 bytes before it.
#[derive(Debug, Clone)]
pub(in crate::state) struct EntryFormat {
    /// Accumulator bytes, a multiple of 8.
    pub acc_size: usize,
    pub key_width: Option<usize>,
}

impl EntryFormat {
    /// Bytes of the entry holding `key`.
    #[inline]
    pub fn entry_len(&self, key: &[u8]) -> usize {
        let header = if self.key_width.is_some() { 0 } else { 8 };
        (self.acc_size + header + key.len()).next_multiple_of(8)
    }

    /// The hash of `key`: the one key hash ([`super::key_hash`]).
    #[inline(always)]
    pub fn hash(&self, key: &[u8]) -> u64 {
        super::key_hash(key)
    }

    /// Whether the entry at `addr` holds `key`.
    #[inline(always)]
    pub fn holds(&self, pages: &ChunkPages, addr: u64, key: &[u8]) -> bool {
        match <[u8; 8]>::try_from(key) {
            Ok(word) if self.key_width == Some(8) => {
                pages.bytes(addr + self.acc_size as u64, 8) == word
            }
            _ => same_key(self.key(pages, addr), key),
        }
    }

    /// The key of the entry at `addr`.
    #[inline]
    pub fn key<'p>(&self, pages: &'p ChunkPages, addr: u64) -> &'p [u8] {
        match self.key_width {
            Some(w) => pages.bytes(addr + self.acc_size as u64, w),
            None => {
                let len = read_u32(pages.bytes(addr + self.acc_size as u64, 4), 0) as usize;
                pages.bytes(addr + self.acc_size as u64 + 8, len)
            }
        }
    }

    /// Writes the entry of `key` into `bytes`, its accumulators prepared by `init`.
    fn write(&self, bytes: &mut [u8], key: &[u8], init: impl FnOnce(&mut [u8])) {
        init(&mut bytes[..self.acc_size]);
        let key_at = match self.key_width {
            Some(_) => self.acc_size,
            None => {
                bytes[self.acc_size..self.acc_size + 4]
                    .copy_from_slice(&(key.len() as u32).to_le_bytes());
                self.acc_size + 8
            }
        };
        bytes[key_at..key_at + key.len()].copy_from_slice(key);
    }
}

/// Where iteration over a window's entries stands: a chunk and an offset in it (a
/// [`FlatTable`] counts keys in `chunk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(in crate::state) struct EntryCursor {
    chunk: usize,
    offset: u32,
}

/// The keys of one window with their accumulators, iterated in the order the keys opened
/// the window; nothing is removed until the whole table is.
#[derive(Debug)]
pub(in crate::state) enum WindowTable {
    /// Fixed-width keys: entries in the slots.
    Flat(FlatTable),
    /// Keys of any length: entries in chunks, slots hold their addresses.
    Addressed(AddressedTable),
}

impl WindowTable {
    /// An empty table that holds `expected` keys without growing (at least a small one).
    /// A window stream's windows tend to see as many keys as the last one, so sizing from
    /// it spares the doublings. The table starts at no more than a 16th of the operator's
    /// budget, so that a tight budget is not taken by slots a window may never fill; if
    /// that much is not to be had, a small one will do.
    pub fn new(
        pages: &mut ChunkPages,
        format: &EntryFormat,
        expected: usize,
    ) -> Result<Self, JobError> {
        Ok(if FlatTable::suits(pages, format) {
            WindowTable::Flat(FlatTable::new(pages, format, expected)?)
        } else {
            WindowTable::Addressed(AddressedTable::new(pages, expected)?)
        })
    }

    /// Keys in the window.
    pub fn len(&self) -> usize {
        match self {
            WindowTable::Flat(t) => t.len(),
            WindowTable::Addressed(t) => t.len(),
        }
    }

    /// The entry of `key` (whose hash is `hash`), appended with accumulators prepared by
    /// `init` if the key is new: its address, and a pointer to it that stays valid until
    /// `pages` or the table next change. The entry must fit in a page (the caller checks).
    #[inline(always)]
    pub fn find_or_insert(
        &mut self,
        pages: &mut ChunkPages,
        format: &EntryFormat,
        key: &[u8],
        hash: u64,
        init: impl FnOnce(&mut [u8]),
    ) -> Result<(u64, *mut u8), JobError> {
        match self {
            WindowTable::Flat(t) => match t.find(pages, format, key, hash) {
                Ok(entry) => Ok(entry),
                Err(empty) => t.insert(pages, format, key, hash, empty, init),
            },
            WindowTable::Addressed(t) => {
                let addr = t.find_or_insert(pages, format, key, hash, init)?;
                Ok((addr, pages.chunk_ptr(addr).at(0)))
            }
        }
    }

    /// The entry of `key` (whose hash is `hash`), if the table has it. Always inlined:
    /// each caller's probe loop keeps it in registers.
    #[inline(always)]
    pub fn get(
        &self,
        pages: &ChunkPages,
        format: &EntryFormat,
        key: &[u8],
        hash: u64,
    ) -> Option<u64> {
        match self {
            WindowTable::Flat(t) => t.find(pages, format, key, hash).ok().map(|(addr, _)| addr),
            WindowTable::Addressed(t) => t.get(pages, format, key, hash),
        }
    }

    /// The entry at `at` and the cursor past it, or `None` at the end.
    #[inline]
    pub fn entry_at(
        &self,
        pages: &ChunkPages,
        format: &EntryFormat,
        at: EntryCursor,
    ) -> Option<(u64, EntryCursor)> {
        match self {
            WindowTable::Flat(t) => t.entry_at(pages, at),
            WindowTable::Addressed(t) => t.entry_at(pages, format, at),
        }
    }

    /// Bytes of chunks the table holds: what keeping it in memory costs.
    pub fn memory_bytes(&self, pages: &ChunkPages) -> u64 {
        match self {
            WindowTable::Flat(t) => t.memory_bytes(pages),
            WindowTable::Addressed(t) => t.memory_bytes(),
        }
    }

    /// Frees every chunk of the table.
    pub fn free(self, pages: &mut ChunkPages) {
        match self {
            WindowTable::Flat(t) => t.free(pages),
            WindowTable::Addressed(t) => t.free(pages),
        }
    }
}
