//! A combiner, as Flink's local aggregation: on a parallel run, a plain aggregate whose
//! partial results merge exactly is first folded on the worker that read the records, and
//! only each key's partial result crosses to the key's worker, which merges it. WordCount
//! then exchanges one row per word and worker instead of one per occurrence.

use super::{key_hash, Outbox};
use crate::memory::OperatorMemory;
use crate::state::KeyedTable;
use crate::JobError;

/// The most pages a combiner has (8 MiB): enough for a vocabulary of about 250,000 words,
/// so that WordCount sends each word once per worker.
const MOST_PAGES: u64 = 256;
/// The least: a combiner this small still folds repeated keys.
const LEAST_PAGES: u64 = 4;

/// Pages each of `combined` combiners has on each of `workers` workers, out of `memory`:
/// together a sixteenth of it, within [4, 256] pages each. They are set aside from
/// `--memory` with the exchange buffers; when a combiner is full, its partial results go
/// out and it starts again empty.
pub fn combiner_pages(memory: u64, workers: usize, combined: usize) -> u64 {
    if combined == 0 || workers <= 1 {
        return 0;
    }
    let each = memory / 16 / (workers * combined) as u64 / crate::memory::DEFAULT_PAGE_SIZE as u64;
    each.clamp(LEAST_PAGES, MOST_PAGES)
}

/// One worker's partial results for one exchange edge.
#[derive(Debug)]
pub struct Combiner {
    table: KeyedTable,
    edge: usize,
    row: Vec<u8>,
}

impl Combiner {
    /// An empty combiner for exchange `edge`, with `acc_size`-byte accumulators in `mem`.
    pub fn new(mem: OperatorMemory, acc_size: usize, edge: usize) -> Result<Self, JobError> {
        Ok(Combiner {
            table: KeyedTable::new(mem, acc_size)?,
            edge,
            row: Vec::new(),
        })
    }

    /// The accumulators of `key`, prepared by `init` if the key is new. A full combiner
    /// first sends its partial results (to `outbox`) and empties.
    #[inline]
    pub fn fold(
        &mut self,
        outbox: &mut Outbox,
        key: &[u8],
        mut init: impl FnMut(&mut [u8]),
    ) -> Result<&mut [u8], JobError> {
        let addr = match self.table.upsert_entry(key, &mut init) {
            Ok(addr) => addr,
            Err(JobError::MemoryBudget { .. }) if !self.table.is_empty() => {
                self.flush(outbox)?;
                self.table.upsert_entry(key, &mut init)?
            }
            Err(e) => return Err(e),
        };
        Ok(self.table.acc_at_mut(addr))
    }

    /// Sends every partial result to its key's worker, as `[key length: u32][key][acc]`.
    /// (`Result` as [`super::WindowCombiner::flush`]'s: the generated code calls either.)
    pub fn flush(&mut self, outbox: &mut Outbox) -> Result<(), JobError> {
        let mut drain = self.table.drain();
        while let Some((key, acc)) = drain.next_entry() {
            self.row.clear();
            self.row
                .extend_from_slice(&(key.len() as u32).to_le_bytes());
            self.row.extend_from_slice(key);
            self.row.extend_from_slice(acc);
            outbox.row(self.edge, key_hash(key), i64::MIN, &self.row);
        }
        Ok(())
    }
}

/// A checkpoint holds a combiner's partial results as they are, in the order its keys
/// came: sending them at the cut instead would change the order keys first reach their
/// aggregate, and so the order of its output.
impl crate::checkpoint::Checkpointed for Combiner {
    fn save(&mut self, out: &mut crate::checkpoint::StateOut) -> Result<(), JobError> {
        out.u64(self.table.len() as u64);
        for (_, key, acc) in self.table.entries() {
            out.bytes(key);
            out.bytes(acc);
        }
        Ok(())
    }

    fn load(&mut self, from: &mut crate::checkpoint::StateIn<'_>) -> Result<(), JobError> {
        for _ in 0..from.u64()? {
            let key = from.bytes()?;
            let acc = from.bytes()?;
            let addr = self.table.upsert_entry(key, |into: &mut [u8]| {
                let n = into.len().min(acc.len());
                into[..n].copy_from_slice(&acc[..n]);
            })?;
            if self.table.acc_at_mut(addr).len() < acc.len() {
                return Err(JobError::CheckpointMismatch(
                    "a combiner's partial results are longer than this job's".to_string(),
                ));
            }
        }
        Ok(())
    }
}

/// A partial result's key and accumulators, from a row [`Combiner::flush`] sent.
pub fn partial(row: &[u8]) -> (&[u8], &[u8]) {
    let len = u32::from_le_bytes(row[..4].try_into().expect("4 bytes")) as usize;
    (&row[4..4 + len], &row[4 + len..])
}
