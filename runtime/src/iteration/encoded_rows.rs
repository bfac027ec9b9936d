//! The records of a `stream!` iteration over records, as their [`Layout`] bytes, while
//! the input lasts and through every round: each round reads them front to back, so past
//! the budget full pages go to disk, and each round reads the disk's first.

use crate::layout::RecordBuilder;
use crate::memory::{MemorySegment, OperatorMemory};
use crate::spill::{Run, RunReader, RunWriter};
use crate::{JobError, Layout};

/// Bytes before each record: its length.
const LENGTH: usize = 4;

/// Records in arrival order, each its length then its [`Layout`] bytes, in pool pages.
#[derive(Debug)]
pub struct EncodedRows {
    memory: OperatorMemory,
    /// Pages in memory, each with the bytes its records take.
    pages: Vec<(MemorySegment, usize)>,
    len: u64,
    /// Pages on disk, a run record per page, before the pages in memory.
    spilled: Vec<Run>,
    builder: RecordBuilder,
}

impl EncodedRows {
    /// No records yet.
    pub fn new(memory: OperatorMemory) -> Self {
        EncodedRows {
            memory,
            pages: Vec::new(),
            len: 0,
            spilled: Vec::new(),
            builder: RecordBuilder::new(),
        }
    }

    /// Adds `record`.
    pub fn push<R: Layout>(&mut self, record: &R) -> Result<(), JobError> {
        let mut builder = std::mem::take(&mut self.builder);
        let pushed = self.push_bytes(record.encode(&mut builder));
        self.builder = builder;
        pushed
    }

    /// Adds a record's bytes (its layout).
    pub(crate) fn push_bytes(&mut self, bytes: &[u8]) -> Result<(), JobError> {
        let page_size = self.memory.page_size();
        let need = LENGTH + bytes.len();
        if need > page_size {
            let (operator, location) = self.memory.operator();
            return Err(JobError::RecordTooLong {
                operator: operator.to_string(),
                location: location.to_string(),
                record_bytes: bytes.len(),
                limit_bytes: page_size - LENGTH,
                record: None,
            });
        }
        let filled = self.pages.last().map_or(page_size, |(_, used)| *used);
        if filled + need > page_size {
            let page = match self.memory.allocate_unzeroed() {
                Ok(page) => page,
                Err(JobError::MemoryBudget { .. })
                    if self.memory.can_spill() && !self.pages.is_empty() =>
                {
                    self.spill()?;
                    self.memory.allocate_unzeroed()?
                }
                Err(e) => return Err(e),
            };
            self.pages.push((page, 0));
        }
        let (page, used) = self.pages.last_mut().expect("a page was taken");
        let at = *used;
        let page = page.bytes_mut();
        page[at..at + LENGTH].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
        page[at + LENGTH..at + need].copy_from_slice(bytes);
        *used += need;
        self.len += 1;
        Ok(())
    }

    /// Writes the pages in memory to disk, when the job can spill, giving them back (a
    /// window's records, when another window needs the room).
    pub(crate) fn spill_pages(&mut self) -> Result<(), JobError> {
        if self.memory.can_spill() && !self.pages.is_empty() {
            self.spill()?;
        }
        Ok(())
    }

    /// Writes every page in memory to a run on disk, after those written before, and
    /// gives the pages back.
    fn spill(&mut self) -> Result<(), JobError> {
        let started = std::time::Instant::now();
        let mut out = RunWriter::create(&self.memory)?;
        for (page, used) in &self.pages {
            out.push(&[&page.bytes()[..*used]])?;
        }
        self.spilled.push(out.finish()?);
        for (p, _) in self.pages.drain(..) {
            self.memory.release(p);
        }
        self.memory.note_spill_work(1, started.elapsed());
        Ok(())
    }

    /// Records added.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no record was added.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The operator's memory.
    pub fn memory(&self) -> &OperatorMemory {
        &self.memory
    }

    /// Calls `visit` with every record's bytes in arrival order, those on disk first;
    /// the runs stay, for the next round.
    pub fn visit(
        &mut self,
        mut visit: impl FnMut(&[u8]) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        let runs = std::mem::take(&mut self.spilled);
        let mut done = Vec::with_capacity(runs.len());
        let mut result = Ok(());
        for run in runs {
            if result.is_ok() {
                let mut reader: RunReader = match run.read() {
                    Ok(r) => r,
                    Err(e) => {
                        result = Err(e);
                        continue;
                    }
                };
                result = (|| {
                    while let Some(page) = reader.next()? {
                        records(page, &mut visit)?;
                    }
                    Ok(())
                })();
                done.push(reader.into_run());
            } else {
                done.push(run);
            }
        }
        self.spilled = done;
        result?;
        for (page, used) in &self.pages {
            records(&page.bytes()[..*used], &mut visit)?;
        }
        Ok(())
    }
}

/// Each record of `page` (its records one after another) to `visit`.
fn records(
    page: &[u8],
    visit: &mut impl FnMut(&[u8]) -> Result<(), JobError>,
) -> Result<(), JobError> {
    let mut at = 0;
    while at + LENGTH <= page.len() {
        let len = u32::from_le_bytes(page[at..at + LENGTH].try_into().expect("4 bytes")) as usize;
        visit(&page[at + LENGTH..at + LENGTH + len])?;
        at += LENGTH + len;
    }
    Ok(())
}

impl Drop for EncodedRows {
    fn drop(&mut self) {
        for (p, _) in self.pages.drain(..) {
            self.memory.release(p);
        }
    }
}

/// The records so far, in arrival order; on another number of workers all of them on
/// worker 0, where an iteration's records are read.
impl crate::checkpoint::Checkpointed for EncodedRows {
    fn save(&mut self, out: &mut crate::checkpoint::StateOut) -> Result<(), JobError> {
        out.u64(self.len);
        self.visit(|record| {
            out.bytes(record);
            Ok(())
        })
    }

    fn load(&mut self, from: &mut crate::checkpoint::StateIn<'_>) -> Result<(), JobError> {
        let records = from.u64()?;
        for _ in 0..records {
            self.push_bytes(from.bytes()?)?;
        }
        Ok(())
    }

    fn load_rescaled(
        &mut self,
        parts: &mut [crate::checkpoint::StateIn<'_>],
        to: &crate::checkpoint::Rescale,
    ) -> Result<(), JobError> {
        for part in parts {
            let records = part.u64()?;
            for _ in 0..records {
                let record = part.bytes()?;
                if to.worker == 0 {
                    self.push_bytes(record)?;
                }
            }
        }
        Ok(())
    }
}
