//! The records of an iteration over windows (`window(tumbling 1m) |> iterate(...)`), by
//! window, until the watermark passes a window's end: then its rows are taken out and
//! the rounds run over them alone (k-means re-fitted each minute). Each window's rows are
//! a store that spills past the budget, as a bounded iteration's records do: rows of
//! words for `.pipe` ([`WordRows`]), records' layouts for `stream!` ([`EncodedRows`]).

use std::collections::BTreeMap;

use super::{EncodedRows, WordRows};
use crate::checkpoint::Checkpointed;
use crate::memory::OperatorMemory;
use crate::JobError;

/// The rows of one window.
pub trait WindowStore: Checkpointed + Sized {
    /// No rows yet, of `width` words each where rows have a width.
    fn for_window(memory: OperatorMemory, width: usize) -> Self;
    /// Moves `other`'s rows after these (two workers' parts of one window).
    fn append(&mut self, other: &mut Self) -> Result<(), JobError>;
    /// Writes the rows in memory to disk, when the job can spill, giving their pages back.
    fn spill_pages(&mut self) -> Result<(), JobError>;
}

impl WindowStore for WordRows {
    fn for_window(memory: OperatorMemory, width: usize) -> Self {
        WordRows::spilling(memory, width)
    }

    fn append(&mut self, other: &mut Self) -> Result<(), JobError> {
        let width = self.width();
        let mut pages = other.reader();
        while let Some(page) = pages.next_page()? {
            for row in page.chunks_exact(width) {
                self.push(row)?;
            }
        }
        drop(pages);
        other.clear();
        Ok(())
    }

    fn spill_pages(&mut self) -> Result<(), JobError> {
        self.spill_pages()
    }
}

impl WindowStore for EncodedRows {
    fn for_window(memory: OperatorMemory, _: usize) -> Self {
        EncodedRows::new(memory)
    }

    fn append(&mut self, other: &mut Self) -> Result<(), JobError> {
        other.visit(|record| self.push_bytes(record))
    }

    fn spill_pages(&mut self) -> Result<(), JobError> {
        self.spill_pages()
    }
}

/// Each open window's rows, by the window's start.
#[derive(Debug)]
pub struct WindowRows<S = WordRows> {
    memory: OperatorMemory,
    width: usize,
    /// Window length in ms.
    size: i64,
    windows: BTreeMap<i64, S>,
    /// The watermark so far: a record for a window it has passed is late. Kept here
    /// rather than in a job's watermark field, so that on another number of workers it
    /// is worker 0's, where the iteration ran (another worker's may be ahead of it).
    watermark: i64,
}

impl<S: WindowStore> WindowRows<S> {
    /// No window yet, for rows of `width` words and windows of `size` ms.
    pub fn new(memory: OperatorMemory, width: usize, size: i64) -> Self {
        WindowRows {
            memory,
            width,
            size,
            windows: BTreeMap::new(),
            watermark: i64::MIN,
        }
    }

    /// The watermark has reached `wm`.
    pub fn advance(&mut self, wm: i64) {
        self.watermark = self.watermark.max(wm);
    }

    /// Adds a record to the window starting at `start` with `push`, unless the watermark
    /// has passed its end (it has run already): then `false`, the record late for it. When the budget is spent, every window's rows go to disk (the other windows'
    /// may hold the pages) and `push` runs again.
    pub fn push_with(
        &mut self,
        start: i64,
        mut push: impl FnMut(&mut S) -> Result<(), JobError>,
    ) -> Result<bool, JobError> {
        if self.end(start) - 1 <= self.watermark {
            return Ok(false);
        }
        let (memory, width) = (&self.memory, self.width);
        let rows = self
            .windows
            .entry(start)
            .or_insert_with(|| S::for_window(memory.clone(), width));
        match push(rows) {
            Err(JobError::MemoryBudget { .. }) if self.memory.can_spill() => {
                for rows in self.windows.values_mut() {
                    rows.spill_pages()?;
                }
                push(
                    self.windows
                        .get_mut(&start)
                        .expect("the window just opened"),
                )?;
            }
            pushed => pushed?,
        }
        Ok(true)
    }

    fn end(&self, start: i64) -> i64 {
        start.saturating_add(self.size)
    }

    /// The earliest window whose end the watermark `wm` has passed, taken out: its start,
    /// end and rows.
    pub fn next_due(&mut self, wm: i64) -> Option<(i64, i64, S)> {
        let (&start, _) = self.windows.first_key_value()?;
        let end = self.end(start);
        if end - 1 > wm {
            return None;
        }
        let rows = self.windows.remove(&start).expect("the first window");
        Some((start, end, rows))
    }

    /// Windows open.
    pub fn open(&self) -> usize {
        self.windows.len()
    }
}

/// The open windows' rows and the watermark; on another number of workers all of them
/// on worker 0, where an iteration's records are read, with worker 0's watermark.
impl<S: WindowStore> Checkpointed for WindowRows<S> {
    fn save(&mut self, out: &mut crate::checkpoint::StateOut) -> Result<(), JobError> {
        out.i64(self.watermark);
        out.u64(self.windows.len() as u64);
        for (start, rows) in &mut self.windows {
            out.i64(*start);
            rows.save(out)?;
        }
        Ok(())
    }

    fn load(&mut self, from: &mut crate::checkpoint::StateIn<'_>) -> Result<(), JobError> {
        self.watermark = from.i64()?;
        let windows = from.u64()?;
        for _ in 0..windows {
            let start = from.i64()?;
            let mut rows = S::for_window(self.memory.clone(), self.width);
            rows.load(from)?;
            self.windows.insert(start, rows);
        }
        Ok(())
    }

    fn load_rescaled(
        &mut self,
        parts: &mut [crate::checkpoint::StateIn<'_>],
        to: &crate::checkpoint::Rescale,
    ) -> Result<(), JobError> {
        for (w, part) in parts.iter_mut().enumerate() {
            let mut from_part = WindowRows::<S>::new(self.memory.clone(), self.width, self.size);
            from_part.load(part)?;
            if to.worker != 0 {
                continue;
            }
            if w == 0 {
                self.watermark = from_part.watermark;
            }
            for (start, mut rows) in std::mem::take(&mut from_part.windows) {
                match self.windows.get_mut(&start) {
                    Some(into) => into.append(&mut rows)?,
                    None => {
                        self.windows.insert(start, rows);
                    }
                }
            }
        }
        Ok(())
    }
}
