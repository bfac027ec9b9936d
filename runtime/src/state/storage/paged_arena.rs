//! Fixed-size slots in pool pages, with a free list: storage for small records that come
//! and go, such as window nodes.

use crate::layout::{read_u64, write_u64};
use crate::memory::{MemorySegment, OperatorMemory};
use crate::JobError;

/// Slots of one fixed size carved from pool pages. A freed slot is reused before a new page
/// is taken; the first 8 bytes of a free slot link to the next free one. Slot sizes are
/// rounded up to a power of two, so finding a slot is shifts and masks.
#[derive(Debug)]
pub struct PagedArena {
    mem: OperatorMemory,
    slot: usize,
    per_page: usize,
    page_shift: u32,
    slot_shift: u32,
    pages: Vec<MemorySegment>,
    /// Slots ever handed out (the high-water mark).
    used: usize,
    /// Index + 1 of the first free slot; 0 when none.
    free: u64,
}

impl PagedArena {
    /// An arena of `slot`-byte slots (rounded up to 8) drawing pages from `mem`.
    pub fn new(mem: OperatorMemory, slot: usize) -> Self {
        let slot = slot.max(8).next_power_of_two();
        let per_page = super::timer_heap::floor_power_of_two(mem.page_size() / slot);
        PagedArena {
            mem,
            slot,
            per_page,
            page_shift: per_page.trailing_zeros(),
            slot_shift: slot.trailing_zeros(),
            pages: Vec::new(),
            used: 0,
            free: 0,
        }
    }

    /// Slots ever handed out: every slot index below is either in use or free.
    pub fn slots_used(&self) -> usize {
        self.used
    }

    /// A zeroed slot's index.
    pub fn alloc(&mut self) -> Result<u32, JobError> {
        if self.free != 0 {
            let index = (self.free - 1) as u32;
            self.free = read_u64(self.get(index), 0);
            self.get_mut(index).fill(0);
            return Ok(index);
        }
        if self.used == self.pages.len() * self.per_page {
            if self.slot > self.mem.page_size() {
                return Err(JobError::Config(format!(
                    "a state record of {} bytes does not fit in one {}-byte page",
                    self.slot,
                    self.mem.page_size()
                )));
            }
            self.pages.push(self.mem.allocate()?);
        }
        self.used += 1;
        Ok((self.used - 1) as u32)
    }

    /// Makes sure the next `n` allocations take no new page (they cannot fail), so a caller
    /// can prepare before it changes anything. Counts only never-used slots.
    pub fn reserve(&mut self, n: usize) -> Result<(), JobError> {
        while self.used + n > self.pages.len() * self.per_page {
            self.pages.push(self.mem.allocate()?);
        }
        Ok(())
    }

    /// Frees every slot and gives every page back.
    pub fn clear(&mut self) {
        for page in self.pages.drain(..) {
            self.mem.release(page);
        }
        self.used = 0;
        self.free = 0;
    }

    /// Gives slot `index` back for reuse.
    pub fn free(&mut self, index: u32) {
        let next = self.free;
        write_u64(self.get_mut(index), 0, next);
        self.free = u64::from(index) + 1;
    }

    /// The bytes of slot `index`.
    #[inline]
    pub fn get(&self, index: u32) -> &[u8] {
        let i = index as usize;
        let at = (i & (self.per_page - 1)) << self.slot_shift;
        &self.pages[i >> self.page_shift].bytes()[at..at + self.slot]
    }

    /// The bytes of slot `index`, to change.
    #[inline]
    pub fn get_mut(&mut self, index: u32) -> &mut [u8] {
        let i = index as usize;
        let at = (i & (self.per_page - 1)) << self.slot_shift;
        &mut self.pages[i >> self.page_shift].bytes_mut()[at..at + self.slot]
    }
}

impl Drop for PagedArena {
    fn drop(&mut self) {
        for page in self.pages.drain(..) {
            self.mem.release(page);
        }
    }
}
