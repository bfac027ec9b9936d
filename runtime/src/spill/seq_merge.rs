//! A k-way merge of spill runs whose records start with a sequence number, each run in
//! increasing order: the records of all runs, in sequence order.

use super::{Run, RunReader, RunWriter};
use crate::memory::OperatorMemory;
use crate::JobError;

/// Merges runs of records `[seq: u64 LE][...]`, each run sorted by `seq` and no `seq` in two
/// runs. The runs are few (a spilling operator's partitions), so the smallest head is found
/// by a scan; each open run holds one block in memory.
#[derive(Debug)]
pub struct SeqMerge {
    readers: Vec<RunReader>,
    /// Each reader's current sequence number; `u64::MAX` once it is exhausted.
    heads: Vec<u64>,
    /// The reader whose record was handed out last, to advance before the next.
    taken: Option<usize>,
}

impl SeqMerge {
    /// Opens `runs` for merging.
    pub fn new(runs: Vec<Run>) -> Result<Self, JobError> {
        let mut readers = Vec::with_capacity(runs.len());
        let mut heads = Vec::with_capacity(runs.len());
        for run in runs {
            let mut reader = run.read()?;
            heads.push(head(&mut reader)?);
            readers.push(reader);
        }
        Ok(SeqMerge {
            readers,
            heads,
            taken: None,
        })
    }

    /// The next record in sequence order (its sequence number included), or `None`.
    #[allow(clippy::should_implement_trait)] // records borrow the merge's blocks
    pub fn next(&mut self) -> Result<Option<&[u8]>, JobError> {
        if let Some(i) = self.taken.take() {
            self.heads[i] = head(&mut self.readers[i])?;
        }
        let Some((i, _)) = self
            .heads
            .iter()
            .enumerate()
            .filter(|(_, &h)| h != u64::MAX)
            .min_by_key(|(_, &h)| h)
        else {
            return Ok(None);
        };
        self.taken = Some(i);
        Ok(Some(self.readers[i].current()))
    }

    /// Writes the whole merge into one new run of the operator owning `mem`.
    pub fn into_run(mut self, mem: &OperatorMemory) -> Result<Run, JobError> {
        let mut out = RunWriter::create(mem)?;
        while let Some(record) = self.next()? {
            out.push(&[record])?;
        }
        out.finish()
    }
}

/// Advances `reader` and gives its record's sequence number, or `u64::MAX` at its end.
fn head(reader: &mut RunReader) -> Result<u64, JobError> {
    if !reader.advance()? {
        return Ok(u64::MAX);
    }
    match reader.current().get(..8) {
        Some(b) => Ok(u64::from_le_bytes(b.try_into().expect("eight bytes"))),
        None => Err(reader.corrupt("a record without its sequence number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SegmentPool;
    use crate::spill::SpillSpace;

    #[test]
    fn runs_interleave_by_sequence_number() {
        let dir = tempfile::tempdir().unwrap();
        let pool = SegmentPool::new(64 * 1024, 1024);
        let mem = pool
            .operator("aggregate", "t.pipe:1:1", 8)
            .with_spill(SpillSpace::new(Some(dir.path().to_path_buf()), "t"));
        // Sequence numbers 0..3000 dealt to five runs by a scrambled rule.
        let mut writers: Vec<RunWriter> =
            (0..5).map(|_| RunWriter::create(&mem).unwrap()).collect();
        for seq in 0..3000u64 {
            let w = (seq * 7 + seq / 13) as usize % 5;
            writers[w].push(&[&seq.to_le_bytes(), b"payload"]).unwrap();
        }
        let runs = writers.into_iter().map(|w| w.finish().unwrap()).collect();
        let merged = SeqMerge::new(runs).unwrap().into_run(&mem).unwrap();
        let mut reader = merged.read().unwrap();
        let mut want = 0u64;
        while let Some(r) = reader.next().unwrap() {
            assert_eq!(u64::from_le_bytes(r[..8].try_into().unwrap()), want);
            assert_eq!(&r[8..], b"payload");
            want += 1;
        }
        assert_eq!(want, 3000);
    }
}
