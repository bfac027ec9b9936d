//! Several pages' worth of managed memory in one piece.

use super::OperatorMemory;
use crate::JobError;

/// Zeroed memory in one piece, counted against an operator's budget as the pages it spans:
/// for state read as one array, where a lookup through a page table would cost on every
/// access (an iteration's vertex values, a graph's edges). Given back when dropped.
#[derive(Debug)]
pub struct PageRun {
    words: Vec<u64>,
    pages: u64,
    owner: OperatorMemory,
}

impl PageRun {
    /// `words` zeroed 64-bit words, or a budget error naming the operator.
    pub fn zeroed(owner: &OperatorMemory, words: usize) -> Result<Self, JobError> {
        let bytes = (words as u64).saturating_mul(8);
        let pages = bytes.div_ceil(owner.page_size() as u64);
        owner.reserve_run(pages)?;
        Ok(PageRun {
            words: vec![0; words],
            pages,
            owner: owner.clone(),
        })
    }

    /// A run of `len` values of `T` (a number of 1, 2, 4 or 8 bytes), all zero bits.
    pub fn of<T: bytemuck::Pod>(owner: &OperatorMemory, len: usize) -> Result<Self, JobError> {
        let words = (len * std::mem::size_of::<T>()).div_ceil(8);
        Self::zeroed(owner, words)
    }

    /// The run as values of `T`, as many as fit.
    #[inline]
    pub fn slice<T: bytemuck::Pod>(&self) -> &[T] {
        bytemuck::cast_slice(&self.words)
    }

    /// The run as mutable values of `T`.
    #[inline]
    pub fn slice_mut<T: bytemuck::Pod>(&mut self) -> &mut [T] {
        bytemuck::cast_slice_mut(&mut self.words)
    }

    /// Pages counted for it.
    pub fn pages(&self) -> u64 {
        self.pages
    }
}

impl Drop for PageRun {
    fn drop(&mut self) {
        self.owner.release_run(self.pages);
    }
}
