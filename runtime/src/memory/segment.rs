//! One page of managed memory.

/// A fixed-size page of managed memory, the unit in which the [`SegmentPool`] hands out
/// memory.
///
/// Storage is cache-line-aligned, so that state slots of 64 bytes or less never straddle two
/// lines; it is viewed as `u64` words (hash-index slots, timers) or as bytes (records).
///
/// [`SegmentPool`]: super::SegmentPool
#[derive(Debug)]
pub struct MemorySegment {
    /// A `Vec` rather than a boxed slice: `Vec::as_mut_ptr` promises not to invalidate
    /// pointers taken from it before, which [`MemorySegment::base_ptr`]'s users rely on.
    lines: Vec<CacheLine>,
}

/// 64 bytes, 64-byte aligned.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct CacheLine([u64; 8]);

// SAFETY: `CacheLine` is `repr(C)`, holds only `u64`s, has no padding (its size, 64, equals
// its alignment), and every bit pattern is a valid value.
unsafe impl bytemuck::Zeroable for CacheLine {}
// SAFETY: as above.
unsafe impl bytemuck::Pod for CacheLine {}

impl MemorySegment {
    /// A zeroed page of `page_size` bytes (a multiple of 64). Out of line: inlined into
    /// its callers, the fill became a call to memset that costs WordCount 4M more
    /// instructions on 10 MB than the loop it is on its own.
    #[inline(never)]
    pub(crate) fn zeroed(page_size: usize) -> Self {
        debug_assert!(page_size.is_multiple_of(64));
        MemorySegment {
            lines: vec![CacheLine([0; 8]); page_size / 64],
        }
    }

    /// The page's first byte, for state that addresses its pages through raw pointers
    /// (see `state::chunk_pages`). The pointer stays valid, and keeps pointing at this
    /// page's bytes, for as long as the segment lives, wherever the segment is moved: the
    /// bytes are on the heap and never reallocated.
    pub(crate) fn base_ptr(&mut self) -> std::ptr::NonNull<u8> {
        std::ptr::NonNull::new(self.lines.as_mut_ptr().cast::<u8>())
            .expect("a Vec's pointer is never null")
    }

    /// The page size in bytes.
    pub fn len(&self) -> usize {
        self.lines.len() * 64
    }

    /// Whether the page holds no bytes (never true for pool pages).
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The page as bytes.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        bytemuck::cast_slice(&self.lines)
    }

    /// The page as mutable bytes.
    #[inline]
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        bytemuck::cast_slice_mut(&mut self.lines)
    }

    /// The page as 64-bit words.
    #[inline]
    pub fn words(&self) -> &[u64] {
        bytemuck::cast_slice(&self.lines)
    }

    /// The page as mutable 64-bit words.
    #[inline]
    pub fn words_mut(&mut self) -> &mut [u64] {
        bytemuck::cast_slice_mut(&mut self.lines)
    }

    /// Zeroes the page so it can be handed out again.
    pub(crate) fn clear(&mut self) {
        self.lines.fill(CacheLine([0; 8]));
    }
}
