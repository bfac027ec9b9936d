//! An inline `collect()` sink: the records a worker gathered, for `run` to return.
//!
//! A checkpoint holds every record gathered so far (in its binary layout), so a resumed
//! job returns what an uninterrupted run would have: the records gathered before the
//! checkpoint from it, the rest as they come. The sink is the job's output, so it is saved
//! whole at each checkpoint, not as a change: a job that gathers more than it can hold
//! in memory wants a file sink instead.

use crate::checkpoint::{Checkpointed, Rescale, StateIn, StateOut};
use crate::layout::RecordBuilder;
use crate::{JobError, Layout};

/// The records a `collect()` sink gathered, in the order it got them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectSink<T> {
    rows: Vec<T>,
}

impl<T> Default for CollectSink<T> {
    fn default() -> Self {
        CollectSink { rows: Vec::new() }
    }
}

impl<T> CollectSink<T> {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gathers `record`.
    #[inline]
    pub fn push(&mut self, record: T) {
        self.rows.push(record);
    }

    /// What it gathered.
    pub fn into_rows(self) -> Vec<T> {
        self.rows
    }
}

impl<T: Layout> CollectSink<T> {
    fn load_rows(&mut self, from: &mut StateIn<'_>) -> Result<(), JobError> {
        let n = from.u64()?;
        for _ in 0..n {
            self.rows.push(T::decode(from.bytes()?));
        }
        Ok(())
    }
}

/// Each record in its [`Layout`], after their count.
impl<T: Layout> Checkpointed for CollectSink<T> {
    fn save(&mut self, out: &mut StateOut) -> Result<(), JobError> {
        out.u64(self.rows.len() as u64);
        let mut row = RecordBuilder::new();
        for record in &self.rows {
            out.bytes(record.encode(&mut row));
        }
        Ok(())
    }

    fn load(&mut self, from: &mut StateIn<'_>) -> Result<(), JobError> {
        self.rows.clear();
        self.load_rows(from)
    }

    /// On another number of workers, worker 0 returns what every worker had gathered
    /// (worker by worker, as `run` returns them), the others start empty.
    fn load_rescaled(&mut self, parts: &mut [StateIn<'_>], to: &Rescale) -> Result<(), JobError> {
        self.rows.clear();
        for part in parts {
            if to.worker == 0 {
                self.load_rows(part)?;
            } else {
                part.skip_rest();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_sink_loads_back_the_same_records_in_order() {
        let mut sink = CollectSink::new();
        for i in 0..100u64 {
            sink.push((format!("k{i}"), i, -(i as i64)));
        }
        let mut out = StateOut::new();
        sink.save(&mut out).unwrap();
        let bytes = out.finish();
        let mut back = CollectSink::new();
        back.push(("stale".to_string(), 0, 0));
        back.load(&mut StateIn::new(&bytes)).unwrap();
        assert_eq!(back, sink);
    }

    #[test]
    fn rescaled_rows_all_go_to_worker_zero_in_worker_order() {
        let parts: Vec<Vec<u8>> = [vec![1u64, 2], vec![3], vec![]]
            .iter()
            .map(|rows| {
                let mut sink = CollectSink::new();
                rows.iter().for_each(|&r| sink.push(r));
                let mut out = StateOut::new();
                sink.save(&mut out).unwrap();
                out.finish()
            })
            .collect();
        for worker in 0..2 {
            let mut ins: Vec<StateIn<'_>> = parts.iter().map(|p| StateIn::new(p)).collect();
            let mut sink = CollectSink::<u64>::new();
            sink.load_rescaled(&mut ins, &Rescale::new(worker, 2))
                .unwrap();
            let expected: Vec<u64> = if worker == 0 { vec![1, 2, 3] } else { vec![] };
            assert_eq!(sink.into_rows(), expected);
            assert!(ins.iter().all(StateIn::at_end));
        }
    }
}
