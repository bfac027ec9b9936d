//! Timers on disk: runs of `[time][seq][payload]` records, each sorted by (time, seq), read
//! side by side so the earliest timer of all is always at hand, and merged into one when
//! they grow many. For timers of state that went to disk (session windows).

use super::{RunReader, RunWriter};
use crate::memory::OperatorMemory;
use crate::JobError;

/// Runs read side by side before they are merged: each holds one block in memory.
const MAX_RUNS: usize = 8;

/// One run being read: its reader stands on its earliest timer not yet taken.
#[derive(Debug)]
struct Head {
    reader: RunReader,
    /// The current record's (time, seq); `None` once the run is read.
    at: Option<(i64, u64)>,
}

impl Head {
    fn new(reader: RunReader) -> Result<Self, JobError> {
        let mut head = Head { reader, at: None };
        head.advance()?;
        Ok(head)
    }

    fn advance(&mut self) -> Result<(), JobError> {
        self.at = if self.reader.advance()? {
            let (time, seq, _) = split(self.reader.current());
            Some((time, seq))
        } else {
            None
        };
        Ok(())
    }
}

/// Timers spilled by one operator, earliest first.
#[derive(Debug)]
pub struct TimerRuns {
    mem: OperatorMemory,
    heads: Vec<Head>,
}

impl TimerRuns {
    /// No timers on disk yet.
    pub fn new(mem: OperatorMemory) -> Self {
        TimerRuns {
            mem,
            heads: Vec::new(),
        }
    }

    /// Writes a new run from `fill`, which must push `(time, seq, payload)` in order of
    /// (time, seq); runs are merged when there are too many.
    pub fn add(
        &mut self,
        fill: impl FnOnce(
            &mut dyn FnMut(i64, u64, &[u8]) -> Result<(), JobError>,
        ) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        let mut out = RunWriter::create(&self.mem)?;
        let mut any = false;
        fill(&mut |time, seq, payload| {
            any = true;
            out.push(&[&time.to_le_bytes(), &seq.to_le_bytes(), payload])
        })?;
        let run = out.finish()?;
        if any {
            self.heads.push(Head::new(run.read()?)?);
        }
        if self.heads.len() > MAX_RUNS {
            self.merge_smallest()?;
        }
        Ok(())
    }

    /// The (time, seq) of the earliest timer, if any.
    pub fn peek(&self) -> Option<(i64, u64)> {
        self.heads.iter().filter_map(|h| h.at).min()
    }

    /// Calls `each(time, seq, payload)` for every timer not yet taken, run by run (not in
    /// time order), and takes none.
    pub fn visit(
        &self,
        mut each: impl FnMut(i64, u64, &[u8]) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        for head in self.heads.iter().filter(|h| h.at.is_some()) {
            head.reader.visit_rest(|record| {
                let (time, seq, payload) = split(record);
                each(time, seq, payload)
            })?;
        }
        Ok(())
    }

    /// Takes the earliest timer: its (time, seq), and its payload copied into `payload`.
    pub fn pop(&mut self, payload: &mut Vec<u8>) -> Result<Option<(i64, u64)>, JobError> {
        let Some(i) = self.earliest() else {
            return Ok(None);
        };
        let head = &mut self.heads[i];
        let (time, seq, bytes) = split(head.reader.current());
        payload.clear();
        payload.extend_from_slice(bytes);
        head.advance()?;
        if head.at.is_none() {
            self.heads.swap_remove(i);
        }
        Ok(Some((time, seq)))
    }

    fn earliest(&self) -> Option<usize> {
        (0..self.heads.len())
            .filter(|&i| self.heads[i].at.is_some())
            .min_by_key(|&i| self.heads[i].at)
    }

    /// Merges what is left of the smaller runs into one: the smallest, and then the next
    /// smallest as long as it is no more than twice what is taken, so a timer is rewritten
    /// a logarithmic number of times, not at every merge.
    fn merge_smallest(&mut self) -> Result<(), JobError> {
        self.heads
            .sort_by_key(|h| std::cmp::Reverse(h.reader.remaining_bytes()));
        let mut from = self.heads.len() - 1;
        let mut bytes = self.heads[from].reader.remaining_bytes();
        while from > 0 && self.heads[from - 1].reader.remaining_bytes() <= 2 * bytes {
            from -= 1;
            bytes += self.heads[from].reader.remaining_bytes();
        }
        let mut merging = self.heads.split_off(from.min(self.heads.len() - 2));
        let mut out = RunWriter::create(&self.mem)?;
        loop {
            let earliest = (0..merging.len())
                .filter(|&i| merging[i].at.is_some())
                .min_by_key(|&i| merging[i].at);
            let Some(i) = earliest else { break };
            out.push(&[merging[i].reader.current()])?;
            merging[i].advance()?;
        }
        self.heads.push(Head::new(out.finish()?.read()?)?);
        Ok(())
    }
}

/// A record's time, sequence number and payload.
fn split(record: &[u8]) -> (i64, u64, &[u8]) {
    let time = i64::from_le_bytes(record[..8].try_into().expect("eight bytes"));
    let seq = u64::from_le_bytes(record[8..16].try_into().expect("eight bytes"));
    (time, seq, &record[16..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SegmentPool;
    use crate::spill::SpillSpace;

    #[test]
    fn timers_come_out_earliest_first_across_runs_and_merges() {
        let dir = tempfile::tempdir().unwrap();
        let pool = SegmentPool::new(64 * 1024, 1024);
        let mem = pool
            .operator("window", "t.pipe:1:1", 8)
            .with_spill(SpillSpace::new(Some(dir.path().to_path_buf()), "t"));
        let mut timers = TimerRuns::new(mem);
        let mut all = Vec::new();
        let mut seq = 0u64;
        for round in 0..12i64 {
            let mut batch: Vec<(i64, u64)> = (0..100)
                .map(|i| {
                    seq += 1;
                    ((i * 37 + round * 11) % 500, seq)
                })
                .collect();
            batch.sort();
            timers
                .add(|push| {
                    for &(t, s) in &batch {
                        push(t, s, &s.to_le_bytes())?;
                    }
                    Ok(())
                })
                .unwrap();
            all.extend(batch);
            // Take a few between spills, as a job does.
            let mut payload = Vec::new();
            for _ in 0..20 {
                let want = all.iter().min().copied().unwrap();
                all.retain(|x| *x != want);
                let got = timers.pop(&mut payload).unwrap().unwrap();
                assert_eq!(got, want);
                assert_eq!(payload, want.1.to_le_bytes());
            }
        }
        assert!(timers.heads.len() <= MAX_RUNS + 1);
        all.sort();
        let mut payload = Vec::new();
        for want in all {
            assert_eq!(timers.peek(), Some(want));
            assert_eq!(timers.pop(&mut payload).unwrap(), Some(want));
        }
        assert_eq!(timers.pop(&mut payload).unwrap(), None);
    }
}
