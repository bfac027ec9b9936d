//! The index of an open-addressing hash table in pool pages, which [`super::KeyedTable`]
//! and [`super::PagedMap`] share; each keeps its entries its own way and tells the index
//! an entry's hash and whether it holds a key.
//!
//! A slot is a 64-bit word: 16 bits of hash tag over a 48-bit entry address plus one (0:
//! empty). Probing is linear, and most probes never touch an entry: a slot whose tag
//! differs is passed over.

use crate::memory::{MemorySegment, OperatorMemory};
use crate::JobError;

/// The bits of a slot below its hash tag.
pub(in crate::state) const ADDR_BITS: u32 = 48;
/// The entry address bits of a slot (plus one).
pub(in crate::state) const ADDR_MASK: u64 = (1 << ADDR_BITS) - 1;

/// Slots in pool pages; the number of slots is a power of two.
#[derive(Debug)]
pub(in crate::state) struct SlotIndex {
    pages: Vec<MemorySegment>,
    /// log2 of slots per page.
    slot_shift: u32,
    capacity: usize,
}

impl SlotIndex {
    /// One page of empty slots.
    pub(in crate::state) fn new(mem: &OperatorMemory) -> Result<Self, JobError> {
        let slots_per_page = mem.page_size() / 8;
        Ok(SlotIndex {
            pages: mem.allocate_many(1)?,
            slot_shift: slots_per_page.trailing_zeros(),
            capacity: slots_per_page,
        })
    }

    /// Slots in all.
    #[inline(always)]
    pub(in crate::state) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Slot `i` (below the capacity: every caller masks it so, and so does this). The
    /// lookup of every hash table in the runtime: read without the two bounds checks,
    /// which were a quarter of a probe's instructions.
    #[inline(always)]
    pub(in crate::state) fn slot(&self, i: usize) -> u64 {
        let i = i & (self.capacity - 1);
        let per_page = (1usize << self.slot_shift) - 1;
        // SAFETY: `capacity` is always `pages.len() << slot_shift` (`new`, `grow` and
        // `clear` keep it so; every page has `1 << slot_shift` slots) and a power of two,
        // so for the masked `i`, page `i >> slot_shift` exists and holds slot
        // `i & per_page`.
        unsafe {
            *self
                .pages
                .get_unchecked(i >> self.slot_shift)
                .words()
                .get_unchecked(i & per_page)
        }
    }

    /// Asks the processor to bring in the first slot of `hash`'s probe sequence, for a
    /// caller that knows its next keys before it looks them up.
    #[inline(always)]
    pub(in crate::state) fn prefetch(&self, hash: u64) {
        let i = hash as usize & (self.capacity - 1);
        let per_page = (1usize << self.slot_shift) - 1;
        // SAFETY: as in `slot`: page `i >> slot_shift` exists and holds slot
        // `i & per_page`.
        let slot = unsafe {
            self.pages
                .get_unchecked(i >> self.slot_shift)
                .words()
                .as_ptr()
                .add(i & per_page)
        };
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch is a hint; it reads nothing and `slot` is in a held page.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(slot.cast());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }

    /// Sets slot `i`.
    #[inline(always)]
    pub(in crate::state) fn set_slot(&mut self, i: usize, value: u64) {
        let per_page = (1usize << self.slot_shift) - 1;
        self.pages[i >> self.slot_shift].words_mut()[i & per_page] = value;
    }

    /// The entry of hash `hash` for which `holds` is true (given its address), or the empty
    /// slot its probe ends at.
    #[inline(always)]
    pub(in crate::state) fn probe(
        &self,
        hash: u64,
        holds: impl Fn(u64) -> bool,
    ) -> Result<u64, usize> {
        let tag = hash >> ADDR_BITS;
        let mask = self.capacity - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slot(i);
            if slot == 0 {
                return Err(i);
            }
            if slot >> ADDR_BITS == tag {
                let addr = (slot & ADDR_MASK) - 1;
                if holds(addr) {
                    return Ok(addr);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Points empty slot `i` (where a probe for `hash` ended) at `addr`.
    #[inline(always)]
    pub(in crate::state) fn fill(&mut self, i: usize, hash: u64, addr: u64) {
        self.set_slot(i, ((hash >> ADDR_BITS) << ADDR_BITS) | (addr + 1));
    }

    /// Puts `addr` in the first free slot of `hash`'s probe sequence.
    pub(in crate::state) fn place(&mut self, hash: u64, addr: u64) {
        let mask = self.capacity - 1;
        let mut i = hash as usize & mask;
        while self.slot(i) != 0 {
            i = (i + 1) & mask;
        }
        self.fill(i, hash, addr);
    }

    /// Twice the slots, each entry placed again by its hash (`hash_of(address)`). The new
    /// index is taken before the old is given back, so the budget must hold both for a
    /// moment.
    pub(in crate::state) fn grow(
        &mut self,
        mem: &OperatorMemory,
        hash_of: impl Fn(u64) -> u64,
    ) -> Result<(), JobError> {
        let new_pages = mem.allocate_many((self.pages.len() * 2) as u64)?;
        let old = std::mem::replace(&mut self.pages, new_pages);
        self.capacity *= 2;
        for page in &old {
            for &slot in page.words() {
                if slot != 0 {
                    let addr = (slot & ADDR_MASK) - 1;
                    self.place(hash_of(addr), addr);
                }
            }
        }
        for page in old {
            mem.release(page);
        }
        Ok(())
    }

    /// Empties the slot holding `addr` (whose hash is `hash`), shifting back every later
    /// entry of its run whose home is not between the hole and it, so each stays reachable
    /// from its home: no tombstones, however many keys come and go.
    pub(in crate::state) fn remove(&mut self, hash: u64, addr: u64, hash_of: impl Fn(u64) -> u64) {
        let mask = self.capacity - 1;
        let mut hole = hash as usize & mask;
        while self.slot(hole) & ADDR_MASK != addr + 1 {
            hole = (hole + 1) & mask;
        }
        let mut j = (hole + 1) & mask;
        loop {
            let slot = self.slot(j);
            if slot == 0 {
                break;
            }
            let home = hash_of((slot & ADDR_MASK) - 1) as usize & mask;
            let reachable = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !reachable {
                self.set_slot(hole, slot);
                hole = j;
            }
            j = (j + 1) & mask;
        }
        self.set_slot(hole, 0);
    }

    /// Empties every slot and gives back every page but the first.
    pub(in crate::state) fn clear(&mut self, mem: &OperatorMemory) {
        for page in self.pages.drain(1..) {
            mem.release(page);
        }
        self.pages[0].words_mut().fill(0);
        self.capacity = 1 << self.slot_shift;
    }

    /// Empties every slot, keeping the pages.
    pub(in crate::state) fn empty(&mut self) {
        for page in &mut self.pages {
            page.words_mut().fill(0);
        }
    }

    /// Gives every page back.
    pub(in crate::state) fn release(&mut self, mem: &OperatorMemory) {
        for page in self.pages.drain(..) {
            mem.release(page);
        }
    }
}
