//! Byte strings of any length in pool pages: the values of state whose size changes from
//! key to key and from record to record, such as a process function's per-key state (its
//! scalars, lists and maps, encoded together).

use super::chunk_pages::ChunkPages;
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
/// A value of up to a page lives in one slot that holds it; a longer value is a chain of
/// page-sized slots, each starting with the handle of the next. Writing a value either
/// takes every slot it needs or, when the budget runs out, none.
///
/// Slots come from one of two kinds of storage, chosen for how the values live:
/// - [`BlobStore::new`]: size classes ([`PagedArena`]s of power-of-two slots, reusing
///   freed slots), for values that live as long as their key, such as keyed state;
/// - [`BlobStore::in_time_order`]: chunks carved in order ([`ChunkPages`], a page going
///   back once its last chunk is freed), for values that come and go in time order with
///   the windows holding them, so that freeing a window's values gives its pages back.
#[derive(Debug)]
pub struct BlobStore {
    mem: OperatorMemory,
    slots: Slots,
    /// Bytes held in values (not counting slack in their slots).
    bytes: u64,
}

/// Where a [`BlobStore`]'s slots come from.
#[derive(Debug)]
enum Slots {
    /// Slots of `SMALLEST << c` bytes in `classes[c]`; a handle is `c << 32 | slot`.
    Classes(Vec<PagedArena>),
    /// Chunks of the value's length rounded up to 8; a handle is the chunk's address.
    Chunks(ChunkPages),
}

impl Slots {
    /// A slot of at least `len` bytes (at most a page).
    fn alloc(&mut self, mem: &OperatorMemory, len: usize) -> Result<u64, JobError> {
        match self {
            Slots::Classes(classes) => {
                let class = (len.max(SMALLEST).next_power_of_two() / SMALLEST).trailing_zeros();
                let class = class as usize;
                while classes.len() <= class {
                    let size = SMALLEST << classes.len();
                    classes.push(PagedArena::new(mem.clone(), size));
                }
                Ok(handle(class, classes[class].alloc()?))
            }
            Slots::Chunks(pages) => pages.alloc_unzeroed(chunk_len(len)),
        }
    }

    /// The first `len` bytes of the slot at `handle`.
    #[inline]
    fn get(&self, handle: u64, len: usize) -> &[u8] {
        match self {
            Slots::Classes(classes) => {
                let (class, slot) = split(handle);
                &classes[class].get(slot)[..len]
            }
            Slots::Chunks(pages) => pages.bytes(handle, len),
        }
    }

    /// The first `len` bytes of the slot at `handle`, to change.
    fn get_mut(&mut self, handle: u64, len: usize) -> &mut [u8] {
        match self {
            Slots::Classes(classes) => {
                let (class, slot) = split(handle);
                &mut classes[class].get_mut(slot)[..len]
            }
            Slots::Chunks(pages) => pages.bytes_mut(handle, len),
        }
    }

    /// Gives back the slot at `handle`.
    fn free(&mut self, handle: u64) {
        match self {
            Slots::Classes(classes) => {
                let (class, slot) = split(handle);
                classes[class].free(slot);
            }
            Slots::Chunks(pages) => pages.free(handle),
        }
    }

    /// Frees every slot and gives every page back.
    fn clear(&mut self, mem: &OperatorMemory) {
        match self {
            Slots::Classes(classes) => classes.iter_mut().for_each(PagedArena::clear),
            Slots::Chunks(pages) => *pages = ChunkPages::new(mem.clone()),
        }
    }
}

impl BlobStore {
    /// No values yet, in size classes; takes no page until one is written.
    pub fn new(mem: OperatorMemory) -> Self {
        BlobStore {
            mem,
            slots: Slots::Classes(Vec::new()),
            bytes: 0,
        }
    }

    /// No values yet, in chunks carved in order (see the type's documentation); takes no
    /// page until one is written.
    pub fn in_time_order(mem: OperatorMemory) -> Self {
        BlobStore {
            slots: Slots::Chunks(ChunkPages::new(mem.clone())),
            mem,
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

    /// Memory a value of `len` bytes takes in slots, not counting pages a new size class
    /// would take.
    pub fn slot_bytes(&self, len: usize) -> u64 {
        let page = self.mem.page_size();
        let slot = match self.slots {
            _ if len > page => return (len.div_ceil(page - LINK) * page) as u64,
            Slots::Classes(_) => len.max(SMALLEST).next_power_of_two(),
            Slots::Chunks(_) => chunk_len(len).next_multiple_of(chunk_len(len).min(64)),
        };
        slot as u64
    }

    /// Whether slots come in size classes, each of which may need a page of its own.
    pub fn has_size_classes(&self) -> bool {
        matches!(self.slots, Slots::Classes(_))
    }

    /// Writes `value` into new slots and returns its handle. Nothing is taken when the
    /// budget runs out.
    pub fn put(&mut self, value: &[u8]) -> Result<u64, JobError> {
        let page = self.mem.page_size();
        if value.len() <= page {
            let slot = self.slots.alloc(&self.mem, value.len())?;
            self.slots.get_mut(slot, value.len()).copy_from_slice(value);
            self.bytes += value.len() as u64;
            return Ok(slot);
        }
        let per_slot = page - LINK;
        // Slots from the last part to the first, so each links to the one written before.
        let mut next = END;
        for part in value.chunks(per_slot).rev() {
            let slot = match self.slots.alloc(&self.mem, page) {
                Ok(slot) => slot,
                Err(e) => {
                    self.free_chain(next);
                    return Err(e);
                }
            };
            let bytes = self.slots.get_mut(slot, LINK + part.len());
            write_u64(bytes, 0, next);
            bytes[LINK..].copy_from_slice(part);
            next = slot;
        }
        self.bytes += value.len() as u64;
        Ok(next)
    }

    /// Overwrites the value at `handle` (of length `len`) with `value` of the same length.
    pub fn overwrite(&mut self, handle: u64, value: &[u8]) {
        let page = self.mem.page_size();
        if value.len() <= page {
            self.slots
                .get_mut(handle, value.len())
                .copy_from_slice(value);
            return;
        }
        let mut at = handle;
        for part in value.chunks(page - LINK) {
            let bytes = self.slots.get_mut(at, LINK + part.len());
            let next = read_u64(bytes, 0);
            bytes[LINK..].copy_from_slice(part);
            at = next;
        }
    }

    /// Overwrites the first bytes of the value at `handle` (of length `len`) with `head`,
    /// which fits the value's first slot; the rest of the value stays.
    pub fn overwrite_head(&mut self, handle: u64, len: usize, head: &[u8]) {
        let page = self.mem.page_size();
        debug_assert!(head.len() <= len && head.len() <= page - LINK);
        let at = if len <= page { 0 } else { LINK };
        self.slots.get_mut(handle, at + head.len())[at..].copy_from_slice(head);
    }

    /// The value at `handle`, of length `len`: the slot itself when it is one, else the
    /// chain's parts gathered into `scratch`.
    pub fn get<'a>(&'a self, handle: u64, len: usize, scratch: &'a mut Vec<u8>) -> &'a [u8] {
        let page = self.mem.page_size();
        if len <= page {
            return self.slots.get(handle, len);
        }
        scratch.clear();
        let mut at = handle;
        while scratch.len() < len {
            let take = (len - scratch.len()).min(page - LINK);
            let bytes = self.slots.get(at, LINK + take);
            scratch.extend_from_slice(&bytes[LINK..]);
            at = read_u64(bytes, 0);
        }
        scratch
    }

    /// Gives back the slots of the value at `handle`, of length `len`.
    pub fn free(&mut self, handle: u64, len: usize) {
        self.bytes -= len as u64;
        if len <= self.mem.page_size() {
            self.slots.free(handle);
        } else {
            self.free_chain(handle);
        }
    }

    /// Frees every value and gives every page back.
    pub fn clear(&mut self) {
        self.slots.clear(&self.mem);
        self.bytes = 0;
    }

    fn free_chain(&mut self, mut at: u64) {
        while at != END {
            let next = read_u64(self.slots.get(at, LINK), 0);
            self.slots.free(at);
            at = next;
        }
    }
}

/// The chunk a value of `len` bytes (at most a page) takes in time order.
fn chunk_len(len: usize) -> usize {
    len.max(8).next_multiple_of(8)
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
            ops in proptest::collection::vec((0usize..3, 0usize..3000, any::<u8>()), 0..300),
            in_time_order: bool,
        ) {
            let pool = SegmentPool::new(4 * 1024 * 1024, 1024);
            let mem = pool.operator("op", "t.pipe:1:1", 4096);
            let mut store = if in_time_order {
                BlobStore::in_time_order(mem)
            } else {
                BlobStore::new(mem)
            };
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
        for in_time_order in [false, true] {
            let pool = SegmentPool::new(4 * 256, 256);
            let mem = pool.operator("op", "t.pipe:1:1", 4);
            let mut store = if in_time_order {
                BlobStore::in_time_order(mem)
            } else {
                BlobStore::new(mem)
            };
            let err = store.put(&[1u8; 2000]).unwrap_err();
            assert!(matches!(err, JobError::MemoryBudget { .. }), "{err}");
            let h = store.put(&[2u8; 600]).unwrap();
            let mut scratch = Vec::new();
            assert_eq!(store.get(h, 600, &mut scratch), &[2u8; 600][..]);
        }
    }

    /// In time order, freeing the values written into a page gives the page back without
    /// a clear.
    #[test]
    fn in_time_order_a_page_goes_back_with_its_last_value() {
        let pool = SegmentPool::new(8 * 256, 256);
        let mut store = BlobStore::in_time_order(pool.operator("op", "t.pipe:1:1", 8));
        let old: Vec<u64> = (0..8).map(|_| store.put(&[1u8; 60]).unwrap()).collect();
        let in_use = pool.usage()[0].in_use_bytes;
        assert_eq!(in_use, 2 * 256, "four 64-byte chunks a page");
        let new = store.put(&[2u8; 60]).unwrap();
        for h in old {
            store.free(h, 60);
        }
        assert_eq!(
            pool.usage()[0].in_use_bytes,
            256,
            "the page of the live value"
        );
        let mut scratch = Vec::new();
        assert_eq!(store.get(new, 60, &mut scratch), &[2u8; 60][..]);
    }
}
