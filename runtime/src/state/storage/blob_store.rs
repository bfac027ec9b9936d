//! Byte strings of any length in pool pages: the values of state whose size changes from
//! key to key and from record to record, such as a process function's per-key state (its
//! scalars, lists and maps, encoded together).

use super::PagedArena;
use crate::layout::{read_u64, write_u64};
use crate::memory::OperatorMemory;
use crate::JobError;

/// The smallest slot; slot sizes are powers of two from here to a page.
const SMALLEST: usize = 16;
/// In each slot of a chained value: the handle of the next slot.
const LINK: usize = 8;
/// The end of a chain.
const END: u64 = u64::MAX;

/// Values of any length, each named by a handle and its length (the caller keeps both).
///
/// A value of up to a page lives in one slot of the smallest power-of-two size that holds
/// it ([`PagedArena`]s, one per size, reusing freed slots). A longer value is a chain of
/// page-sized slots, each starting with the handle of the next. Writing a value either
/// takes every slot it needs or, when the budget runs out, none.
#[derive(Debug)]
pub struct BlobStore {
    mem: OperatorMemory,
    /// Slots of `SMALLEST << c` bytes in `classes[c]`.
    classes: Vec<PagedArena>,
    /// Bytes held in values (not counting slack in their slots).
    bytes: u64,
}

impl BlobStore {
    /// No values yet; takes no page until one is written.
    pub fn new(mem: OperatorMemory) -> Self {
        BlobStore {
            mem,
            classes: Vec::new(),
            bytes: 0,
        }
    }

    /// The page size: values longer than this are chains of pages.
    pub fn page_size(&self) -> usize {
        self.mem.page_size()
    }

    /// Bytes held in values.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Writes `value` into new slots and returns its handle. Nothing is taken when the
    /// budget runs out.
    pub fn put(&mut self, value: &[u8]) -> Result<u64, JobError> {
        let page = self.mem.page_size();
        if value.len() <= page {
            let class = self.class_of(value.len());
            let slot = self.classes[class].alloc()?;
            self.classes[class].get_mut(slot)[..value.len()].copy_from_slice(value);
            self.bytes += value.len() as u64;
            return Ok(handle(class, slot));
        }
        let class = self.class_of(page);
        let per_slot = page - LINK;
        // Slots from the last part to the first, so each links to the one written before.
        let mut next = END;
        for part in value.chunks(per_slot).rev() {
            let slot = match self.classes[class].alloc() {
                Ok(slot) => slot,
                Err(e) => {
                    self.free_chain(next);
                    return Err(e);
                }
            };
            let bytes = self.classes[class].get_mut(slot);
            write_u64(bytes, 0, next);
            bytes[LINK..LINK + part.len()].copy_from_slice(part);
            next = handle(class, slot);
        }
        self.bytes += value.len() as u64;
        Ok(next)
    }

    /// Overwrites the value at `handle` (of length `len`) with `value` of the same length.
    pub fn overwrite(&mut self, handle: u64, value: &[u8]) {
        let page = self.mem.page_size();
        if value.len() <= page {
            let (class, slot) = split(handle);
            self.classes[class].get_mut(slot)[..value.len()].copy_from_slice(value);
            return;
        }
        let mut at = handle;
        for part in value.chunks(page - LINK) {
            let (class, slot) = split(at);
            let bytes = self.classes[class].get_mut(slot);
            at = read_u64(bytes, 0);
            bytes[LINK..LINK + part.len()].copy_from_slice(part);
        }
    }

    /// Overwrites the first bytes of the value at `handle` (of length `len`) with `head`,
    /// which fits the value's first slot; the rest of the value stays.
    pub fn overwrite_head(&mut self, handle: u64, len: usize, head: &[u8]) {
        let page = self.mem.page_size();
        debug_assert!(head.len() <= len && head.len() <= page - LINK);
        let (class, slot) = split(handle);
        let at = if len <= page { 0 } else { LINK };
        self.classes[class].get_mut(slot)[at..at + head.len()].copy_from_slice(head);
    }

    /// The value at `handle`, of length `len`: the slot itself when it is one, else the
    /// chain's parts gathered into `scratch`.
    pub fn get<'a>(&'a self, handle: u64, len: usize, scratch: &'a mut Vec<u8>) -> &'a [u8] {
        let page = self.mem.page_size();
        if len <= page {
            let (class, slot) = split(handle);
            return &self.classes[class].get(slot)[..len];
        }
        scratch.clear();
        let mut at = handle;
        while scratch.len() < len {
            let (class, slot) = split(at);
            let bytes = self.classes[class].get(slot);
            let take = (len - scratch.len()).min(page - LINK);
            scratch.extend_from_slice(&bytes[LINK..LINK + take]);
            at = read_u64(bytes, 0);
        }
        scratch
    }

    /// Gives back the slots of the value at `handle`, of length `len`.
    pub fn free(&mut self, handle: u64, len: usize) {
        self.bytes -= len as u64;
        if len <= self.mem.page_size() {
            let (class, slot) = split(handle);
            self.classes[class].free(slot);
        } else {
            self.free_chain(handle);
        }
    }

    /// Frees every value and gives every page back.
    pub fn clear(&mut self) {
        for arena in &mut self.classes {
            arena.clear();
        }
        self.bytes = 0;
    }

    fn free_chain(&mut self, mut at: u64) {
        while at != END {
            let (class, slot) = split(at);
            let next = read_u64(self.classes[class].get(slot), 0);
            self.classes[class].free(slot);
            at = next;
        }
    }

    /// The size class of `len`-byte values, its arena made if it is new.
    fn class_of(&mut self, len: usize) -> usize {
        let class = (len.max(SMALLEST).next_power_of_two() / SMALLEST).trailing_zeros() as usize;
        while self.classes.len() <= class {
            let size = SMALLEST << self.classes.len();
            self.classes.push(PagedArena::new(self.mem.clone(), size));
        }
        class
    }
}

fn handle(class: usize, slot: u32) -> u64 {
    (class as u64) << 32 | u64::from(slot)
}

fn split(handle: u64) -> (usize, u32) {
    ((handle >> 32) as usize, handle as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SegmentPool;
    use proptest::prelude::*;

    proptest! {
        /// Values written, overwritten and freed in any order read back as written, and
        /// every page goes back once every value is freed.
        #[test]
        fn values_read_back_as_written(
            ops in proptest::collection::vec((0usize..3, 0usize..3000, any::<u8>()), 0..300)
        ) {
            let pool = SegmentPool::new(4 * 1024 * 1024, 1024);
            let mut store = BlobStore::new(pool.operator("op", "t.pipe:1:1", 4096));
            let mut held: Vec<(u64, Vec<u8>)> = Vec::new();
            let mut scratch = Vec::new();
            for (op, len, fill) in ops {
                match op {
                    0 | 1 if held.is_empty() || op == 0 => {
                        let value: Vec<u8> = (0..len).map(|i| fill.wrapping_add(i as u8)).collect();
                        let h = store.put(&value).unwrap();
                        held.push((h, value));
                    }
                    1 => {
                        let i = len % held.len();
                        let (h, old) = &mut held[i];
                        let mut value: Vec<u8> = old.iter().map(|b| b ^ fill).collect();
                        store.overwrite(*h, &value);
                        // Then its first bytes alone, the rest kept.
                        let head: Vec<u8> = value.iter().take(5).map(|b| !b).collect();
                        store.overwrite_head(*h, value.len(), &head);
                        value[..head.len()].copy_from_slice(&head);
                        *old = value;
                    }
                    _ if !held.is_empty() => {
                        let (h, value) = held.swap_remove(len % held.len());
                        store.free(h, value.len());
                    }
                    _ => {}
                }
                for (h, value) in &held {
                    prop_assert_eq!(store.get(*h, value.len(), &mut scratch), &value[..]);
                }
            }
            let total: usize = held.iter().map(|(_, v)| v.len()).sum();
            prop_assert_eq!(store.bytes(), total as u64);
            for (h, value) in held.drain(..) {
                store.free(h, value.len());
            }
            store.clear();
            prop_assert_eq!(pool.usage()[0].in_use_bytes, 0);
        }
    }

    #[test]
    fn a_chain_that_runs_out_of_budget_takes_nothing() {
        let pool = SegmentPool::new(4 * 256, 256);
        let mut store = BlobStore::new(pool.operator("op", "t.pipe:1:1", 4));
        let err = store.put(&[1u8; 2000]).unwrap_err();
        assert!(matches!(err, JobError::MemoryBudget { .. }), "{err}");
        let h = store.put(&[2u8; 600]).unwrap();
        let mut scratch = Vec::new();
        assert_eq!(store.get(h, 600, &mut scratch), &[2u8; 600][..]);
    }
}
