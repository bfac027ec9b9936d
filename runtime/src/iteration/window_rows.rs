//! The records of an iteration over windows (`window(tumbling 1m) |> iterate(...)`), by
//! window, until the watermark passes a window's end: then its rows are taken out and
//! the rounds run over them alone (k-means re-fitted each minute). Each window's rows are
//! [`WordRows`] that spill past the budget, as a bounded iteration's records do.

use std::collections::BTreeMap;

use super::WordRows;
use crate::memory::OperatorMemory;
use crate::JobError;

/// Each open window's rows, by the window's start.
#[derive(Debug)]
pub struct WindowRows {
    memory: OperatorMemory,
    width: usize,
    /// Window length in ms.
    size: i64,
    windows: BTreeMap<i64, WordRows>,
}

impl WindowRows {
    /// No window yet, for rows of `width` words and windows of `size` ms.
    pub fn new(memory: OperatorMemory, width: usize, size: i64) -> Self {
        WindowRows {
            memory,
            width,
            size,
            windows: BTreeMap::new(),
        }
    }

    /// Adds `row` to the window starting at `start`, unless the watermark `wm` has passed
    /// its end (it has run already): then `false`, the row late for it.
    pub fn push(&mut self, start: i64, wm: i64, row: &[u64]) -> Result<bool, JobError> {
        if self.end(start) - 1 <= wm {
            return Ok(false);
        }
        let (memory, width) = (&self.memory, self.width);
        self.windows
            .entry(start)
            .or_insert_with(|| WordRows::spilling(memory.clone(), width))
            .push(row)?;
        Ok(true)
    }

    fn end(&self, start: i64) -> i64 {
        start.saturating_add(self.size)
    }

    /// The earliest window whose end the watermark `wm` has passed, taken out: its start,
    /// end and rows.
    pub fn next_due(&mut self, wm: i64) -> Option<(i64, i64, WordRows)> {
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

/// The open windows' rows; on another number of workers all of them on worker 0, where
/// an iteration's records are read.
impl crate::checkpoint::Checkpointed for WindowRows {
    fn save(&mut self, out: &mut crate::checkpoint::StateOut) -> Result<(), JobError> {
        out.u64(self.windows.len() as u64);
        for (start, rows) in &mut self.windows {
            out.i64(*start);
            rows.save(out)?;
        }
        Ok(())
    }

    fn load(&mut self, from: &mut crate::checkpoint::StateIn<'_>) -> Result<(), JobError> {
        let windows = from.u64()?;
        for _ in 0..windows {
            let start = from.i64()?;
            let mut rows = WordRows::spilling(self.memory.clone(), self.width);
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
        for part in parts {
            let mut from_part = WindowRows::new(self.memory.clone(), self.width, self.size);
            from_part.load(part)?;
            if to.worker != 0 {
                continue;
            }
            for (start, mut rows) in std::mem::take(&mut from_part.windows) {
                let into = self
                    .windows
                    .entry(start)
                    .or_insert_with(|| WordRows::spilling(self.memory.clone(), self.width));
                let mut pages = rows.reader();
                while let Some(page) = pages.next_page()? {
                    for row in page.chunks_exact(self.width) {
                        into.push(row)?;
                    }
                }
            }
        }
        Ok(())
    }
}
