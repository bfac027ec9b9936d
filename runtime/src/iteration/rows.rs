//! An iteration's input as it arrives, before the input ends: its records (the edges of a
//! graph iteration) as rows of words. An iteration over records reads them front to back
//! each round, so past its budget their pages go to disk, and each round reads the disk's
//! first ([`PageReader`]); a graph's are read at random and stay in memory.

use crate::memory::{MemorySegment, OperatorMemory};
use crate::spill::{Run, RunReader, RunWriter};
use crate::JobError;

/// Why a graph iteration does not spill: every round reads its edges in any order.
pub(crate) const GRAPH_IN_MEMORY: &str =
    "a graph iteration keeps its graph in memory: every round reads its edges in any order";

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
    /// Whether full pages go to disk past the budget (rows read front to back).
    spills: bool,
    /// Pages on disk, each run a record per page, before the pages in memory.
    spilled: Vec<Run>,
}

impl WordRows {
    /// No rows yet, of `width` words each, all kept in memory (a graph's edges).
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
            spills: false,
            spilled: Vec::new(),
        }
    }

    /// No rows yet, of `width` words each, whose full pages go to disk past the budget
    /// when the job can spill (an iteration's records, read front to back).
    pub fn spilling(memory: OperatorMemory, width: usize) -> Self {
        let mut rows = Self::new(memory, width);
        rows.spills = true;
        rows
    }

    /// Adds a row of `width` words.
    #[inline]
    pub fn push(&mut self, row: &[u64]) -> Result<(), JobError> {
        debug_assert_eq!(row.len(), self.width);
        if self.filled == self.rows_per_page {
            let page = match self.memory.allocate_unzeroed() {
                Ok(page) => page,
                Err(JobError::MemoryBudget { .. })
                    if self.spills && self.memory.can_spill() && !self.pages.is_empty() =>
                {
                    self.spill()?;
                    self.memory.allocate_unzeroed()?
                }
                Err(e) if self.spills => return Err(e),
                Err(e) => return Err(e.unspillable(GRAPH_IN_MEMORY)),
            };
            self.pages.push(page);
            self.filled = 0;
        }
        let at = self.filled * self.width;
        let words = self.pages.last_mut().expect("a page was taken").words_mut();
        // An edge, the common row, in two stores rather than a call to copy two words.
        match row {
            [a, b] => {
                words[at] = *a;
                words[at + 1] = *b;
            }
            _ => words[at..at + self.width].copy_from_slice(row),
        }
        self.filled += 1;
        self.len += 1;
        Ok(())
    }

    /// Writes the pages in memory to disk, when these rows may spill and the job can,
    /// giving them back (a window's rows, when another window needs the room).
    pub(crate) fn spill_pages(&mut self) -> Result<(), JobError> {
        if self.spills && self.memory.can_spill() && !self.pages.is_empty() {
            self.spill()?;
        }
        Ok(())
    }

    /// Writes every page in memory to a run on disk, after those written before, and
    /// gives the pages back.
    fn spill(&mut self) -> Result<(), JobError> {
        let started = std::time::Instant::now();
        let mut out = RunWriter::create(&self.memory)?;
        // The last page may be part full (a window's rows spilled for another's room).
        let last = self.pages.len() - 1;
        for (i, page) in self.pages.iter().enumerate() {
            let rows = if i == last {
                self.filled
            } else {
                self.rows_per_page
            };
            out.push(&[&page.bytes()[..rows * self.width * 8]])?;
        }
        self.spilled.push(out.finish()?);
        for p in self.pages.drain(..) {
            self.memory.release(p);
        }
        self.filled = self.rows_per_page;
        self.memory.note_spill_work(1, started.elapsed());
        Ok(())
    }

    /// The rows page by page from the first, those on disk read back into one buffer:
    /// what each round of an iteration over records goes through.
    pub fn reader(&mut self) -> PageReader<'_> {
        let runs = std::mem::take(&mut self.spilled);
        PageReader {
            rows: self,
            runs: runs.into_iter(),
            current: None,
            done: Vec::new(),
            buffer: Vec::new(),
            page: 0,
        }
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

    /// Every row in memory, in arrival order (all of them, for rows that do not spill).
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

    /// Every row, in arrival order, to change in place.
    pub(crate) fn rows_mut(&mut self) -> impl Iterator<Item = &mut [u64]> + '_ {
        let last = self.pages.len().saturating_sub(1);
        let (filled, per_page, width) = (self.filled, self.rows_per_page, self.width);
        self.pages.iter_mut().enumerate().flat_map(move |(i, p)| {
            let rows = if i == last { filled } else { per_page };
            p.words_mut()[..rows * width].chunks_exact_mut(width)
        })
    }

    /// Every row in memory, in arrival order, to `each`, each page given back as soon as
    /// `each` has seen its rows (so that rows made from these can take the same pages);
    /// then no rows are left, as after [`clear`](Self::clear), even when `each` failed.
    pub(crate) fn drain(
        &mut self,
        mut each: impl FnMut(&[u64]) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        let pages = std::mem::take(&mut self.pages);
        let last = pages.len().saturating_sub(1);
        let mut result = Ok(());
        for (i, page) in pages.into_iter().enumerate() {
            if result.is_ok() {
                let rows = if i == last {
                    self.filled
                } else {
                    self.rows_per_page
                };
                result = page.words()[..rows * self.width]
                    .chunks_exact(self.width)
                    .try_for_each(&mut each);
            }
            self.memory.release(page);
        }
        self.clear();
        result
    }

    /// Gives every page back, and the runs on disk.
    pub(crate) fn clear(&mut self) {
        for p in self.pages.drain(..) {
            self.memory.release(p);
        }
        self.spilled.clear();
        self.filled = self.rows_per_page;
        self.len = 0;
    }
}

impl Drop for WordRows {
    fn drop(&mut self) {
        self.clear();
    }
}

/// The rows page by page, from the first: those on disk read into a buffer one page at a
/// time, then those in memory. The runs go back to the rows as they are read, so the next
/// round reads them again.
pub struct PageReader<'r> {
    rows: &'r mut WordRows,
    runs: std::vec::IntoIter<Run>,
    current: Option<RunReader>,
    done: Vec<Run>,
    buffer: Vec<u64>,
    /// The next page in memory.
    page: usize,
}

impl PageReader<'_> {
    /// The next page's rows as words, or `None` after the last.
    pub fn next_page(&mut self) -> Result<Option<&[u64]>, JobError> {
        loop {
            if let Some(reader) = &mut self.current {
                if let Some(bytes) = reader.next()? {
                    self.buffer.clear();
                    self.buffer.extend(
                        bytes
                            .chunks_exact(8)
                            .map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes"))),
                    );
                    return Ok(Some(&self.buffer));
                }
                let run = self.current.take().expect("a run being read").into_run();
                self.done.push(run);
            }
            match self.runs.next() {
                Some(run) => self.current = Some(run.read()?),
                None => break,
            }
        }
        let rows = &*self.rows;
        let at = self.page;
        if at >= rows.pages.len() {
            return Ok(None);
        }
        self.page += 1;
        let full = if at + 1 == rows.pages.len() {
            rows.filled
        } else {
            rows.rows_per_page
        };
        Ok(Some(&rows.pages[at].words()[..full * rows.width]))
    }
}

impl Drop for PageReader<'_> {
    fn drop(&mut self) {
        let mut runs = std::mem::take(&mut self.done);
        runs.extend(self.current.take().map(RunReader::into_run));
        runs.extend(self.runs.by_ref());
        self.rows.spilled = runs;
    }
}

/// The rows so far, in arrival order; on another number of workers all of them on worker
/// 0, where an iteration's records are read.
impl crate::checkpoint::Checkpointed for WordRows {
    fn save(&mut self, out: &mut crate::checkpoint::StateOut) -> Result<(), JobError> {
        out.u64(self.width as u64);
        out.u64(self.len);
        let width = self.width;
        let mut pages = self.reader();
        while let Some(page) = pages.next_page()? {
            for row in page.chunks_exact(width) {
                for w in row {
                    out.u64(*w);
                }
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
            from_part.spills = self.spills;
            from_part.load(part)?;
            if to.worker == 0 {
                super::WindowStore::append(self, &mut from_part)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SegmentPool;

    #[test]
    fn draining_gives_each_page_back_once_its_rows_are_seen() {
        let pool = SegmentPool::new(64 * 1024, 1024);
        let memory = pool.operator("iterate", "", 64);
        let mut rows = WordRows::new(memory.clone(), 2);
        for i in 0..200u64 {
            rows.push(&[i, i * 3]).unwrap();
        }
        let pages = memory.pages_in_use();
        assert_eq!(pages, 4, "64 rows of two words a 1 KiB page");
        let mut seen = Vec::new();
        let mut held = Vec::new();
        rows.drain(|row| {
            seen.push(row.to_vec());
            held.push(memory.pages_in_use());
            Ok(())
        })
        .unwrap();
        let expected: Vec<Vec<u64>> = (0..200).map(|i| vec![i, i * 3]).collect();
        assert_eq!(seen, expected);
        assert_eq!(
            (held[0], held[64], held[199]),
            (4, 3, 1),
            "a page back after its rows"
        );
        assert_eq!((memory.pages_in_use(), rows.len()), (0, 0));

        for i in 0..100u64 {
            rows.push(&[i, i]).unwrap();
        }
        let mut left = 3;
        let stopped = rows.drain(|_| {
            left -= 1;
            if left == 0 {
                Err(JobError::Config("stop".into()))
            } else {
                Ok(())
            }
        });
        assert!(stopped.is_err());
        assert_eq!(
            (memory.pages_in_use(), rows.len()),
            (0, 0),
            "every page back"
        );
    }
}
