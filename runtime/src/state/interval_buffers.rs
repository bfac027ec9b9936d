//! The state of an interval join: each side's records by key, kept while a record of the
//! other side could still meet them.

use super::join_windows::{JoinSide, JoinWindows};
use crate::memory::OperatorMemory;
use crate::JobError;

/// The shortest time bucket records are kept in, in ms.
const MIN_BUCKET: i64 = 1_000;

/// One record and the records of the other side that meet it, copied out (partners in
/// order of their event time, ties in arrival order), so the job can emit pairs while the
/// state changes.
#[derive(Debug, Default)]
pub struct Partners {
    bytes: Vec<u8>,
    own: usize,
    found: Vec<(i64, usize, usize)>,
}

impl Partners {
    /// The record the partners meet.
    pub fn own(&self) -> &[u8] {
        &self.bytes[..self.own]
    }

    /// Each partner's event time and record.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &[u8])> + '_ {
        self.found.iter().map(|&(ts, a, b)| (ts, &self.bytes[a..b]))
    }

    /// How many partners there are.
    pub fn len(&self) -> usize {
        self.found.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }
}

/// Interval join state, in pool pages: a left record at `t` meets every right record with
/// the same key and a time `s` in `[t + lower, t + upper]`.
///
/// Each side's records sit in time buckets (at least [`MIN_BUCKET`] ms, or the interval's
/// length) of a [`JoinWindows`], with their event time before the record. A record probes
/// the other side's buckets that can hold partners, then is kept itself. A record is late
/// when the watermark has reached its time (`ts <= watermark`, as Flink has it); a record
/// that is not late meets every partner, since a bucket is dropped only once the watermark
/// has passed the last time any record of it could meet a record not yet late: left
/// records at `t + max(upper, 0)`, right ones at `s - min(lower, 0)`.
#[derive(Debug)]
pub struct IntervalBuffers {
    left: JoinWindows,
    right: JoinWindows,
    lower: i64,
    upper: i64,
    bucket: i64,
    scratch: Vec<u8>,
}

impl IntervalBuffers {
    /// Empty buffers for the bounds `lower..=upper` (ms, `lower <= upper`), with keys all
    /// `key_width` bytes wide when given.
    pub fn new(
        mem: OperatorMemory,
        lower: i64,
        upper: i64,
        key_width: Option<usize>,
    ) -> Result<Self, JobError> {
        debug_assert!(lower <= upper);
        let bucket = upper
            .saturating_sub(lower)
            .saturating_add(1)
            .max(MIN_BUCKET);
        Ok(IntervalBuffers {
            left: JoinWindows::in_memory(mem.clone(), bucket, key_width)?,
            right: JoinWindows::in_memory(mem, bucket, key_width)?,
            lower,
            upper,
            bucket,
            scratch: Vec::new(),
        })
    }

    /// Copies into `out` the record `record` of `side` at `ts`, and the records of the
    /// other side under `key` that meet it.
    pub fn probe(&self, side: JoinSide, key: &[u8], ts: i64, record: &[u8], out: &mut Partners) {
        out.bytes.clear();
        out.bytes.extend_from_slice(record);
        out.own = record.len();
        out.found.clear();
        let (from, to, other) = match side {
            JoinSide::Left => (ts + self.lower, ts + self.upper, &self.right),
            JoinSide::Right => (ts - self.upper, ts - self.lower, &self.left),
        };
        let starts = self.bucket_of(from)..=self.bucket_of(to);
        other.visit(JoinSide::Left, key, starts, |stored| {
            let (time, record) = stored.split_at(8);
            let time = i64::from_le_bytes(time.try_into().expect("eight bytes"));
            if (from..=to).contains(&time) {
                let at = out.bytes.len();
                out.bytes.extend_from_slice(record);
                out.found.push((time, at, out.bytes.len()));
            }
        });
        out.found.sort_by_key(|&(time, _, _)| time);
    }

    /// Keeps `record` of `side` under `key` at time `ts`, for the other side's later
    /// records to meet.
    pub fn add(
        &mut self,
        side: JoinSide,
        key: &[u8],
        ts: i64,
        record: &[u8],
    ) -> Result<(), JobError> {
        self.scratch.clear();
        self.scratch.extend_from_slice(&ts.to_le_bytes());
        self.scratch.extend_from_slice(record);
        let start = self.bucket_of(ts);
        let buffer = match side {
            JoinSide::Left => &mut self.left,
            JoinSide::Right => &mut self.right,
        };
        buffer.add(JoinSide::Left, key, start, i64::MIN, &self.scratch)?;
        Ok(())
    }

    /// Drops the buckets no record that is not late at watermark `wm` can meet.
    pub fn expire(&mut self, wm: i64) {
        self.left.drop_through(wm.saturating_sub(self.upper.max(0)));
        self.right
            .drop_through(wm.saturating_add(self.lower.min(0)));
    }

    fn bucket_of(&self, ts: i64) -> i64 {
        ts - ts.rem_euclid(self.bucket)
    }
}

#[cfg(test)]
mod tests;
