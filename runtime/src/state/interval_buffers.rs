//! The state of an interval join: each side's records by key, kept while a record of the
//! other side could still meet them.

use std::collections::BTreeMap;

use super::join_records::JoinSide;
use super::keyed_buckets::KeyedBuckets;
use crate::memory::OperatorMemory;
use crate::spill::KeyRuns;
use crate::JobError;

mod snapshot;
mod spill;
mod unmatched;
mod waiting;

pub use unmatched::Unmatched;

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
/// length) of a [`KeyedBuckets`], with their event time before the record. A record probes
/// the other side's buckets that can hold partners, then is kept itself. A record is late
/// when the watermark has reached its time (`ts <= watermark`, as Flink has it); a record
/// that is not late meets every partner, since a bucket is dropped only once the watermark
/// has passed the last time any record of it could meet a record not yet late: left
/// records at `t + max(upper, 0)`, right ones at `s - min(lower, 0)`.
///
/// Past the budget the oldest bucket in memory goes to disk, its keys looked up there by
/// the records that probe it (see `spill.rs`).
#[derive(Debug)]
pub struct IntervalBuffers {
    left: SideBuffer,
    right: SideBuffer,
    lower: i64,
    upper: i64,
    bucket: i64,
    /// Records of each side (left, right) that met no partner when they came, waiting to
    /// be emitted alone once none can come: for the sides an outer join emits alone.
    waiting: [Option<waiting::WaitingRecords>; 2],
    /// The partners a waiting record found at its deadline.
    looked: Partners,
    scratch: Vec<u8>,
    mem: OperatorMemory,
}

/// One side's buckets: in memory, and on disk (each key's records of a bucket, as
/// `[length, 4 bytes][time][record]`, in arrival order).
#[derive(Debug)]
struct SideBuffer {
    memory: KeyedBuckets,
    disk: BTreeMap<i64, KeyRuns>,
    /// The keys each bucket on disk holds.
    disk_keys: BTreeMap<i64, usize>,
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
        let side = |mem: &OperatorMemory| -> Result<SideBuffer, JobError> {
            Ok(SideBuffer {
                memory: KeyedBuckets::new(mem.clone(), bucket, key_width)?,
                disk: BTreeMap::new(),
                disk_keys: BTreeMap::new(),
            })
        };
        Ok(IntervalBuffers {
            left: side(&mem)?,
            right: side(&mem)?,
            lower,
            upper,
            bucket,
            waiting: [None, None],
            looked: Partners::default(),
            scratch: Vec::new(),
            mem,
        })
    }

    /// Copies into `out` the record `record` of `side` at `ts`, and the records of the
    /// other side under `key` that meet it (read from disk for buckets that spilled).
    pub fn probe(
        &mut self,
        side: JoinSide,
        key: &[u8],
        ts: i64,
        record: &[u8],
        out: &mut Partners,
    ) -> Result<(), JobError> {
        out.bytes.clear();
        out.bytes.extend_from_slice(record);
        out.own = record.len();
        out.found.clear();
        let range = Interval::of(side, ts, (self.lower, self.upper), self.bucket);
        let (from, to) = (*range.times.start(), *range.times.end());
        self.probe_times(side, key, from, to, out)
    }

    /// Copies into `out` the records of the other side of `side` under `key` kept at times
    /// from `from` to `to` (inclusive), after `record`, whatever the join's bounds (an
    /// overlap join keeps records at their interval's end and asks for ends after a
    /// start).
    pub fn probe_range(
        &mut self,
        side: JoinSide,
        key: &[u8],
        (from, to): (i64, i64),
        record: &[u8],
        out: &mut Partners,
    ) -> Result<(), JobError> {
        out.bytes.clear();
        out.bytes.extend_from_slice(record);
        out.own = record.len();
        out.found.clear();
        self.probe_times(side, key, from, to, out)
    }

    /// The loop of both probes (and of `SideBuffer::find_partners`), written out here and
    /// inlined: the hot path keeps its bounds in registers (a call costs a probe about 60
    /// instructions more).
    #[inline(always)]
    fn probe_times(
        &mut self,
        side: JoinSide,
        key: &[u8],
        from: i64,
        to: i64,
        out: &mut Partners,
    ) -> Result<(), JobError> {
        let starts = self.bucket_of(from)..=self.bucket_of(to);
        let other = match side {
            JoinSide::Left => &mut self.right,
            JoinSide::Right => &mut self.left,
        };
        let mut meet = |stored: &[u8]| {
            let (time, record) = stored.split_at(8);
            let time = i64::from_le_bytes(time.try_into().expect("eight bytes"));
            if (from..=to).contains(&time) {
                let at = out.bytes.len();
                out.bytes.extend_from_slice(record);
                out.found.push((time, at, out.bytes.len()));
            }
        };
        // A bucket's records on disk came before those in memory: with the stable sort by
        // time below, partners at one time stay in arrival order.
        if !other.disk.is_empty() {
            let hash = other.memory.hash(key);
            for runs in other.disk.range_mut(starts.clone()).map(|(_, r)| r) {
                if let Some(mut value) = runs.get(hash, key)? {
                    while let Some((len, rest)) = value.split_first_chunk::<4>() {
                        let (stored, rest) = rest.split_at(u32::from_le_bytes(*len) as usize);
                        meet(stored);
                        value = rest;
                    }
                }
            }
        }
        other.memory.visit(JoinSide::Left, key, starts, meet);
        out.found.sort_by_key(|&(time, _, _)| time);
        Ok(())
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
        loop {
            let buffer = match side {
                JoinSide::Left => &mut self.left,
                JoinSide::Right => &mut self.right,
            };
            match buffer
                .memory
                .add(JoinSide::Left, key, start, i64::MIN, &self.scratch)
            {
                Ok(_) => return Ok(()),
                Err(e) => self.make_room(e, side, start)?,
            }
        }
    }

    /// Drops the buckets no record that is not late at watermark `wm` can meet, and that
    /// no record waiting for a partner still looks into; how many keys they held (a key
    /// counts once per bucket and side).
    pub fn expire(&mut self, wm: i64) -> usize {
        let mut keys = 0;
        let bucket = self.bucket;
        let [left_waits, right_waits] = self.linger();
        for (side, through) in [
            (
                &mut self.left,
                wm.saturating_sub(self.upper.max(0).max(right_waits)),
            ),
            (
                &mut self.right,
                wm.saturating_sub(self.lower.saturating_neg().max(0).max(left_waits)),
            ),
        ] {
            keys += side.drop_through(through, bucket);
        }
        keys
    }

    /// Drops every bucket of both sides whose times are all at or before `through`,
    /// whatever the bounds (an overlap join's records at their interval's end); how many
    /// keys they held.
    pub fn drop_through(&mut self, through: i64) -> usize {
        let bucket = self.bucket;
        let mut keys = 0;
        for side in [&mut self.left, &mut self.right] {
            keys += side.drop_through(through, bucket);
        }
        keys
    }

    fn bucket_of(&self, ts: i64) -> i64 {
        bucket_of(ts, self.bucket)
    }
}

/// The start of the bucket of `size` ms holding `ts`.
fn bucket_of(ts: i64, size: i64) -> i64 {
    ts - ts.rem_euclid(size)
}

/// Times a partner must have, and the buckets (of `bucket` ms) that can hold them.
struct Interval {
    times: std::ops::RangeInclusive<i64>,
    bucket: i64,
}

impl Interval {
    /// Where the partners of a record of `side` at `ts` are, for bounds `(lower, upper)`.
    fn of(side: JoinSide, ts: i64, (lower, upper): (i64, i64), bucket: i64) -> Self {
        let times = match side {
            JoinSide::Left => ts.saturating_add(lower)..=ts.saturating_add(upper),
            JoinSide::Right => ts.saturating_sub(upper)..=ts.saturating_sub(lower),
        };
        Interval { times, bucket }
    }
}

impl SideBuffer {
    /// Drops the buckets (of `bucket` ms) whose times are all at or before `through`, in
    /// memory and on disk; how many keys they held.
    fn drop_through(&mut self, through: i64, bucket: i64) -> usize {
        let mut keys = self.memory.drop_through(through);
        let kept = |start: &i64| start.saturating_add(bucket).saturating_sub(1) > through;
        self.disk.retain(|start, _| kept(start));
        self.disk_keys.retain(|start, held| {
            let keep = kept(start);
            if !keep {
                keys += *held;
            }
            keep
        });
        keys
    }

    /// Adds to `out` each record under `key` whose time is in `range`, with that time:
    /// buckets in order, a bucket's records on disk (which came first) before those in
    /// memory, each part in arrival order: [`IntervalBuffers::probe`]'s loop, for the
    /// second look of a record waiting for its deadline.
    fn find_partners(
        &mut self,
        key: &[u8],
        range: Interval,
        out: &mut Partners,
    ) -> Result<(), JobError> {
        let (from, to) = (*range.times.start(), *range.times.end());
        let starts = bucket_of(from, range.bucket)..=bucket_of(to, range.bucket);
        let mut meet = |stored: &[u8]| {
            let (time, record) = stored.split_at(8);
            let time = i64::from_le_bytes(time.try_into().expect("eight bytes"));
            if (from..=to).contains(&time) {
                let at = out.bytes.len();
                out.bytes.extend_from_slice(record);
                out.found.push((time, at, out.bytes.len()));
            }
        };
        if !self.disk.is_empty() {
            let hash = self.memory.hash(key);
            for runs in self.disk.range_mut(starts.clone()).map(|(_, r)| r) {
                if let Some(mut value) = runs.get(hash, key)? {
                    while let Some((len, rest)) = value.split_first_chunk::<4>() {
                        let (stored, rest) = rest.split_at(u32::from_le_bytes(*len) as usize);
                        meet(stored);
                        value = rest;
                    }
                }
            }
        }
        self.memory.visit(JoinSide::Left, key, starts, meet);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
