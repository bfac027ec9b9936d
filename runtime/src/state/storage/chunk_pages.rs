//! Chunks of up to a page, bump-allocated in pool pages: storage for many small tables that
//! grow and are dropped whole, such as the per-window tables of [`super::FixedWindows`].

use std::ptr::NonNull;

use crate::memory::{MemorySegment, OperatorMemory};
use crate::JobError;

/// A page held by [`ChunkPages`], with the pointer every access to it goes through. All
/// reads and writes of a held page derive from `base`, taken once when the page comes in,
/// so that the [`ChunkPtr`]s handed to tables stay valid while the page is held (a fresh
/// `&mut` to the segment would, by Rust's aliasing rules, invalidate them).
#[derive(Debug)]
struct HeldPage {
    segment: MemorySegment,
    base: NonNull<u8>,
}

// SAFETY: `base` points into `segment`'s heap buffer, which the page owns alone; it is used
// only through `ChunkPages`, whose borrows (`&self` to read, `&mut self` to write) are what
// sending or sharing it follows.
unsafe impl Send for HeldPage {}
// SAFETY: as above; `&ChunkPages` only reads.
unsafe impl Sync for HeldPage {}

/// The first byte of a chunk, for tables whose probe loop must not pay a page lookup and
/// bounds checks per access (`window_table::flat`). Valid while the chunk is not freed:
/// its holder must keep every access within the chunk's length, reading through `&
/// ChunkPages` and writing through `&mut ChunkPages` borrows it holds at the time.
#[derive(Debug, Clone, Copy)]
pub(in crate::state) struct ChunkPtr(NonNull<u8>);

// SAFETY: a `ChunkPtr` is an address into pages owned by a `ChunkPages`; its holder uses it
// only under a borrow of that `ChunkPages` (see the type's documentation).
unsafe impl Send for ChunkPtr {}
// SAFETY: as above.
unsafe impl Sync for ChunkPtr {}

impl ChunkPtr {
    /// The byte `offset` bytes into the chunk.
    #[inline(always)]
    pub fn at(self, offset: usize) -> *mut u8 {
        // `wrapping_add` keeps this safe to call; callers stay within the chunk.
        self.0.as_ptr().wrapping_add(offset)
    }
}

/// Chunks carved from pool pages in allocation order. A chunk never spans pages; a page goes
/// back to the pool once every chunk in it is freed (and it is not the page being carved).
/// Tables that are made and dropped in time order, as windows are, free pages in the order
/// they took them, so little memory is pinned by a straggler.
///
/// A chunk's address is `page id << page_shift | offset`; a freed page's id is reused.
#[derive(Debug)]
pub struct ChunkPages {
    mem: OperatorMemory,
    pages: Vec<Option<HeldPage>>,
    /// Live chunks per page.
    live: Vec<u32>,
    free_ids: Vec<u32>,
    page_shift: u32,
    /// `page size - 1`: an address's offset bits.
    offset_mask: usize,
    /// The page being carved, and the bytes used in it.
    current: Option<(u32, usize)>,
}

impl ChunkPages {
    /// No pages yet; they are drawn from `mem` as chunks are asked for.
    pub fn new(mem: OperatorMemory) -> Self {
        ChunkPages {
            page_shift: mem.page_size().trailing_zeros(),
            offset_mask: mem.page_size() - 1,
            mem,
            pages: Vec::new(),
            live: Vec::new(),
            free_ids: Vec::new(),
            current: None,
        }
    }

    /// The operator's memory the pages come from.
    pub fn memory(&self) -> &OperatorMemory {
        &self.mem
    }

    /// The page size: the largest chunk.
    pub fn page_size(&self) -> usize {
        1 << self.page_shift
    }

    /// A zeroed chunk of `len` bytes (at most a page; a multiple of 8), aligned to 64 bytes
    /// when it is at least that long, so a small table does not straddle cache lines
    /// needlessly. Pages come from the pool unzeroed, so only what is carved is zeroed.
    pub fn alloc(&mut self, len: usize) -> Result<u64, JobError> {
        let addr = self.alloc_unzeroed(len)?;
        self.bytes_mut(addr, len).fill(0);
        Ok(addr)
    }

    /// A chunk as [`ChunkPages::alloc`] makes, holding whatever its bytes held last: for a
    /// user that writes every byte it later reads (a window's records, read up to what
    /// was appended). A window's last record chunk is half empty on average, and those
    /// bytes are then never zeroed.
    pub fn alloc_unzeroed(&mut self, len: usize) -> Result<u64, JobError> {
        debug_assert!(len <= self.page_size() && len.is_multiple_of(8) && len > 0);
        let align = len.min(64);
        let (id, offset) = match self.current {
            Some((id, used)) if used.next_multiple_of(align) + len <= self.page_size() => {
                (id, used.next_multiple_of(align))
            }
            _ => (self.new_page()?, 0),
        };
        self.current = Some((id, offset + len));
        self.live[id as usize] += 1;
        Ok(((id as u64) << self.page_shift) | offset as u64)
    }

    /// `count` zeroed chunks of `len` bytes each, all or none: on a budget error the ones
    /// already taken are freed.
    pub fn alloc_all(&mut self, count: usize, len: usize) -> Result<Vec<u64>, JobError> {
        let mut chunks = Vec::with_capacity(count);
        for _ in 0..count {
            match self.alloc(len) {
                Ok(addr) => chunks.push(addr),
                Err(e) => {
                    for addr in chunks {
                        self.free(addr);
                    }
                    return Err(e);
                }
            }
        }
        Ok(chunks)
    }

    /// Frees the chunk at `addr`; its page goes back to the pool when it was the last.
    pub fn free(&mut self, addr: u64) {
        let id = (addr >> self.page_shift) as u32;
        self.live[id as usize] -= 1;
        if self.live[id as usize] == 0 && self.current.map(|(c, _)| c) != Some(id) {
            self.release_page(id);
        }
    }

    /// The `len` bytes at `addr`.
    #[inline]
    pub fn bytes(&self, addr: u64, len: usize) -> &[u8] {
        let (base, offset) = self.place(addr, len);
        // SAFETY: `place` checked that the page is held and `offset + len` is within it;
        // `&self` keeps writers away for the slice's life.
        unsafe { std::slice::from_raw_parts(base.as_ptr().add(offset), len) }
    }

    /// The `len` bytes at `addr`, to change.
    #[inline]
    pub fn bytes_mut(&mut self, addr: u64, len: usize) -> &mut [u8] {
        let (base, offset) = self.place(addr, len);
        // SAFETY: as in `bytes`; `&mut self` makes the slice the only access.
        unsafe { std::slice::from_raw_parts_mut(base.as_ptr().add(offset), len) }
    }

    /// The 64-bit word `i` of the chunk at `addr` (which must be 8-byte aligned).
    #[inline]
    pub fn word(&self, addr: u64, i: usize) -> u64 {
        u64::from_ne_bytes(
            self.bytes(addr + 8 * i as u64, 8)
                .try_into()
                .expect("8 bytes"),
        )
    }

    /// Sets the 64-bit word `i` of the chunk at `addr`.
    #[inline]
    pub fn set_word(&mut self, addr: u64, i: usize, value: u64) {
        self.bytes_mut(addr + 8 * i as u64, 8)
            .copy_from_slice(&value.to_ne_bytes());
    }

    /// The chunk at `addr` as a pointer, for tables that check their own bounds.
    pub(in crate::state) fn chunk_ptr(&self, addr: u64) -> ChunkPtr {
        let (base, offset) = self.place(addr, 0);
        ChunkPtr(NonNull::new(base.as_ptr().wrapping_add(offset)).expect("within a held page"))
    }

    /// The held page of `addr` and the offset in it, checked to have `len` bytes there.
    #[inline]
    fn place(&self, addr: u64, len: usize) -> (NonNull<u8>, usize) {
        let (id, offset) = self.locate(addr);
        let page = self.pages[id].as_ref().expect("chunks live in held pages");
        assert!(
            offset + len <= self.offset_mask + 1,
            "an access within its page"
        );
        (page.base, offset)
    }

    #[inline]
    fn locate(&self, addr: u64) -> (usize, usize) {
        let addr = addr as usize;
        (addr >> self.page_shift, addr & self.offset_mask)
    }

    /// A fresh page's id. The page being carved is left; it goes back to the pool once its
    /// last chunk is freed.
    fn new_page(&mut self) -> Result<u32, JobError> {
        if let Some((old, _)) = self.current.take() {
            if self.live[old as usize] == 0 {
                self.release_page(old);
            }
        }
        let mut segment = self.mem.allocate_unzeroed()?;
        let page = HeldPage {
            base: segment.base_ptr(),
            segment,
        };
        Ok(match self.free_ids.pop() {
            Some(id) => {
                self.pages[id as usize] = Some(page);
                id
            }
            None => {
                self.pages.push(Some(page));
                self.live.push(0);
                (self.pages.len() - 1) as u32
            }
        })
    }

    fn release_page(&mut self, id: u32) {
        if let Some(page) = self.pages[id as usize].take() {
            self.mem.release(page.segment);
            self.free_ids.push(id);
        }
    }
}

impl Drop for ChunkPages {
    fn drop(&mut self) {
        for page in self.pages.drain(..).flatten() {
            self.mem.release(page.segment);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SegmentPool;

    fn pages(budget_pages: u64) -> ChunkPages {
        let pool = SegmentPool::new(64 * 1024, 1024);
        ChunkPages::new(pool.operator("window", "t.pipe:1:1", budget_pages))
    }

    #[test]
    fn chunks_share_a_page_and_the_page_returns_with_its_last_chunk() {
        let mut p = pages(4);
        let a = p.alloc(256).unwrap();
        let b = p.alloc(512).unwrap();
        assert_eq!(p.memory().pages_in_use(), 1, "both fit in one page");
        p.bytes_mut(a, 256).fill(7);
        assert!(
            p.bytes(b, 512).iter().all(|&x| x == 0),
            "chunks do not overlap"
        );
        let c = p.alloc(1024).unwrap(); // a page of its own: the first has 256 bytes left
        assert_eq!(p.memory().pages_in_use(), 2);
        p.free(a);
        p.free(b);
        assert_eq!(p.memory().pages_in_use(), 1, "the first page went back");
        p.set_word(c, 3, 42);
        assert_eq!(p.word(c, 3), 42);
        assert_eq!(p.bytes(c, 1024)[24], 42);
    }

    #[test]
    fn small_chunks_are_aligned_and_zeroed_when_reused() {
        let mut p = pages(1);
        let a = p.alloc(8).unwrap();
        let b = p.alloc(128).unwrap();
        assert_eq!(b % 64, 0);
        assert!(b > a);
        p.bytes_mut(b, 128).fill(9);
        p.free(a);
        p.free(b);
        // The current page is kept; its space is not reused, but a new page is the same one.
        let c = p.alloc(1024).unwrap();
        assert!(p.bytes(c, 1024).iter().all(|&x| x == 0));
        assert_eq!(p.memory().pages_in_use(), 1);
    }

    #[test]
    fn running_out_of_budget_is_an_error() {
        let mut p = pages(1);
        p.alloc(1024).unwrap();
        assert!(matches!(p.alloc(8), Err(JobError::MemoryBudget { .. })));
    }
}
