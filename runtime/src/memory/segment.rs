//! One page of managed memory.

/// A fixed-size page of managed memory, the unit in which the [`SegmentPool`] hands out
/// memory.
///
/// Storage is a slice of `u64` words so hash-index slots are aligned; record layouts view the
/// same page as bytes.
///
/// [`SegmentPool`]: super::SegmentPool
#[derive(Debug)]
pub struct MemorySegment {
    words: Box<[u64]>,
}

impl MemorySegment {
    /// A zeroed page of `page_size` bytes (a multiple of 8).
    pub(crate) fn zeroed(page_size: usize) -> Self {
        debug_assert!(page_size.is_multiple_of(8));
        MemorySegment {
            words: vec![0u64; page_size / 8].into_boxed_slice(),
        }
    }

    /// The page size in bytes.
    pub fn len(&self) -> usize {
        self.words.len() * 8
    }

    /// Whether the page holds no bytes (never true for pool pages).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The page as bytes.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        bytemuck::cast_slice(&self.words)
    }

    /// The page as mutable bytes.
    #[inline]
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        bytemuck::cast_slice_mut(&mut self.words)
    }

    /// The page as 64-bit words.
    #[inline]
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// The page as mutable 64-bit words.
    #[inline]
    pub fn words_mut(&mut self) -> &mut [u64] {
        &mut self.words
    }

    /// Zeroes the page so it can be handed out again.
    pub(crate) fn clear(&mut self) {
        self.words.fill(0);
    }
}
