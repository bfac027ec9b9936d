//! An iteration's input as it arrives, before the input ends: its records (the edges of a
//! graph iteration) as rows of words.

use crate::memory::{MemorySegment, OperatorMemory};
use crate::JobError;

/// Why an iteration does not spill: every round reads every record.
pub(crate) const ITERATION_IN_MEMORY: &str =
    "an iteration keeps its records in memory: every round reads every one";

/// Records in arrival order, one row of words each (for a graph: source, destination,
/// then the edge's columns), numbers as 64-bit words, in pool pages.
#[derive(Debug)]
pub struct WordRows {
    memory: OperatorMemory,
    pages: Vec<MemorySegment>,
    /// Words in a row.
    width: usize,
    /// Rows in the last page.
    filled: usize,
    rows_per_page: usize,
    len: u64,
}

impl WordRows {
    /// No rows yet, of `width` words each.
    pub fn new(memory: OperatorMemory, width: usize) -> Self {
        let rows_per_page = memory.page_size() / 8 / width;
        assert!(rows_per_page > 0, "a row fits a page");
        WordRows {
            memory,
            pages: Vec::new(),
            width,
            filled: rows_per_page,
            rows_per_page,
            len: 0,
        }
    }

    /// Adds a row of `width` words.
    #[inline]
    pub fn push(&mut self, row: &[u64]) -> Result<(), JobError> {
        debug_assert_eq!(row.len(), self.width);
        if self.filled == self.rows_per_page {
            let page = self
                .memory
                .allocate_unzeroed()
                .map_err(|e| e.unspillable(ITERATION_IN_MEMORY))?;
            self.pages.push(page);
            self.filled = 0;
        }
        let at = self.filled * self.width;
        let words = self.pages.last_mut().expect("a page was taken").words_mut();
        words[at..at + self.width].copy_from_slice(row);
        self.filled += 1;
        self.len += 1;
        Ok(())
    }

    /// Rows added.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Words in a row.
    pub(crate) fn width(&self) -> usize {
        self.width
    }

    /// The operator's memory.
    pub fn memory(&self) -> &OperatorMemory {
        &self.memory
    }

    /// Every row, in arrival order.
    pub fn rows(&self) -> impl Iterator<Item = &[u64]> + '_ {
        let last = self.pages.len().saturating_sub(1);
        self.pages.iter().enumerate().flat_map(move |(i, p)| {
            let rows = if i == last {
                self.filled
            } else {
                self.rows_per_page
            };
            p.words()[..rows * self.width].chunks_exact(self.width)
        })
    }

    /// The rows page by page, each page's rows as one slice of words, in arrival order:
    /// for a loop that cuts rows of a width it knows (a constant in generated code).
    pub fn pages(&self) -> impl Iterator<Item = &[u64]> + '_ {
        let last = self.pages.len().saturating_sub(1);
        self.pages.iter().enumerate().map(move |(i, p)| {
            let rows = if i == last {
                self.filled
            } else {
                self.rows_per_page
            };
            &p.words()[..rows * self.width]
        })
    }

    /// Every row, in arrival order, to change in place.
    pub(crate) fn rows_mut(&mut self) -> impl Iterator<Item = &mut [u64]> + '_ {
        let last = self.pages.len().saturating_sub(1);
        let (filled, per_page, width) = (self.filled, self.rows_per_page, self.width);
        self.pages.iter_mut().enumerate().flat_map(move |(i, p)| {
            let rows = if i == last { filled } else { per_page };
            p.words_mut()[..rows * width].chunks_exact_mut(width)
        })
    }

    /// Gives every page back.
    pub(crate) fn clear(&mut self) {
        for p in self.pages.drain(..) {
            self.memory.release(p);
        }
        self.filled = self.rows_per_page;
        self.len = 0;
    }
}

impl Drop for WordRows {
    fn drop(&mut self) {
        self.clear();
    }
}

/// The rows so far, in arrival order; on another number of workers all of them on worker
/// 0, where an iteration's records are read.
impl crate::checkpoint::Checkpointed for WordRows {
    fn save(&mut self, out: &mut crate::checkpoint::StateOut) -> Result<(), JobError> {
        out.u64(self.width as u64);
        out.u64(self.len);
        for row in self.rows() {
            for w in row {
                out.u64(*w);
            }
        }
        Ok(())
    }

    fn load(&mut self, from: &mut crate::checkpoint::StateIn<'_>) -> Result<(), JobError> {
        let width = from.u64()?;
        if width != self.width as u64 {
            return Err(JobError::CheckpointMismatch(format!(
                "an iteration's records had {width} numbers in the checkpoint, {} now",
                self.width
            )));
        }
        let rows = from.u64()?;
        let mut row = vec![0u64; self.width];
        for _ in 0..rows {
            for w in row.iter_mut() {
                *w = from.u64()?;
            }
            self.push(&row)?;
        }
        Ok(())
    }

    fn load_rescaled(
        &mut self,
        parts: &mut [crate::checkpoint::StateIn<'_>],
        to: &crate::checkpoint::Rescale,
    ) -> Result<(), JobError> {
        for part in parts {
            let mut from_part = WordRows::new(self.memory.clone(), self.width);
            from_part.load(part)?;
            if to.worker == 0 {
                for row in from_part.rows() {
                    self.push(row)?;
                }
            }
        }
        Ok(())
    }
}
