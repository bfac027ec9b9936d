//! Outer interval joins: a record that met no partner when it came waits, in a time
//! bucket of [`WAITING_BUCKET`] ms, until the watermark says no partner can come any more
//! (a left record at `t` once it has passed `t + upper`, a right one at `s` once it has
//! passed `s - lower`). It then looks for partners once more, among the other side's
//! records kept meanwhile, and is emitted alone if it still has none.
//!
//! Nothing is marked when a pair is made: the other side's records are kept long enough
//! for the second look (`linger`), so a record that found a partner later finds it again.
//! The waiting records are a [`WaitingRecords`] per side: past the budget the bucket due
//! last goes to disk, and is streamed back when it is due.

use super::waiting::WaitingRecords;
use super::{Interval, IntervalBuffers, JoinSide};
use crate::JobError;

/// The span of a waiting bucket: a record is emitted alone at most this much of event
/// time after the watermark passed its deadline (`t + upper`).
const WAITING_BUCKET: i64 = 1_000;

/// Bytes of unmatched records copied out at a time.
const BATCH_BYTES: usize = 64 * 1024;

/// The records of one side found to have no partner, copied out so the job can
/// emit them while the state changes.
#[derive(Debug, Default)]
pub struct Unmatched {
    side: Option<JoinSide>,
    bytes: Vec<u8>,
    found: Vec<(i64, usize, usize)>,
}

impl Unmatched {
    /// The side the records came from.
    pub fn side(&self) -> JoinSide {
        self.side.unwrap_or(JoinSide::Left)
    }

    /// Each record with its deadline: the time after which no partner could meet it
    /// (`t + upper` for a left record, `s - lower` for a right one).
    pub fn iter(&self) -> impl Iterator<Item = (i64, &[u8])> + '_ {
        self.found
            .iter()
            .map(|&(deadline, a, b)| (deadline, &self.bytes[a..b]))
    }

    fn clear(&mut self, side: JoinSide) {
        self.side = Some(side);
        self.bytes.clear();
        self.found.clear();
    }
}

impl IntervalBuffers {
    /// Makes the buffers of an outer join: records of the sides in `alone` (left, right)
    /// that never meet a partner are emitted alone ([`next_unmatched`](Self::next_unmatched)).
    pub fn emitting_unmatched(mut self, alone: [bool; 2]) -> Result<Self, JobError> {
        for (waiting, alone) in self.waiting.iter_mut().zip(alone) {
            if alone {
                *waiting = Some(WaitingRecords::new(self.mem.clone(), WAITING_BUCKET));
            }
        }
        Ok(self)
    }

    /// Whether records of `side` that meet no partner are emitted alone.
    pub fn emits_unmatched(&self, side: JoinSide) -> bool {
        self.waiting[side as usize].is_some()
    }

    /// Keeps `record` of `side` under `key` at `ts`, which met no partner when it came,
    /// until its deadline; past the budget, waiting or kept buckets go to disk.
    pub fn await_partner(
        &mut self,
        side: JoinSide,
        key: &[u8],
        ts: i64,
        record: &[u8],
    ) -> Result<(), JobError> {
        loop {
            let Some(waiting) = self.waiting[side as usize].as_mut() else {
                return Err(JobError::Config(
                    "internal error: an interval join kept an unmatched record of a side it does not emit alone"
                        .to_string(),
                ));
            };
            // The waiting records spill their own buckets when they can; when they cannot,
            // the kept buckets make room.
            match waiting.add(key, ts, record) {
                Ok(()) => return Ok(()),
                Err(e) => self.make_room(e, side, i64::MIN)?,
            }
        }
    }

    /// Copies into `out` the next records of one side that are due at watermark `wm`
    /// (`i64::MAX`: all of them, at the end of input) and still have no partner; `false`
    /// once nothing more is due. Call it until `false` before [`expire`](Self::expire).
    pub fn next_unmatched(&mut self, wm: i64, out: &mut Unmatched) -> Result<bool, JobError> {
        let (bounds, bucket) = ((self.lower, self.upper), self.bucket);
        for side in [JoinSide::Left, JoinSide::Right] {
            // A record is due once the watermark has passed its deadline: `t + upper` for a
            // left record, `s - lower` for a right one; its bucket, its last millisecond's.
            let deadline = |t: i64| match side {
                JoinSide::Left => t.saturating_add(bounds.1),
                JoinSide::Right => t.saturating_sub(bounds.0),
            };
            let due = match side {
                _ if wm == i64::MAX => i64::MAX,
                JoinSide::Left => wm.saturating_sub(bounds.1),
                JoinSide::Right => wm.saturating_add(bounds.0),
            };
            let Some(waiting) = self.waiting[side as usize].as_mut() else {
                continue;
            };
            let other = match side {
                JoinSide::Left => &mut self.right,
                JoinSide::Right => &mut self.left,
            };
            out.clear(side);
            let mut read = false;
            while out.bytes.len() < BATCH_BYTES {
                let Some((key, t, record)) = waiting.next_due(due)? else {
                    break;
                };
                read = true;
                let looked = &mut self.looked;
                looked.bytes.clear();
                looked.found.clear();
                other.find_partners(key, Interval::of(side, t, bounds, bucket), looked)?;
                if looked.is_empty() {
                    let at = out.bytes.len();
                    out.bytes.extend_from_slice(record);
                    out.found.push((deadline(t), at, out.bytes.len()));
                }
            }
            if read {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// How much longer than an inner join each side's kept records must stay, for the
    /// records waiting on the other side (`[left waits, right waits]`): a left record at
    /// `t` looks once more at `t + upper` (up to a waiting bucket later) for right records
    /// as early as `t + lower`, so right records stay `upper - lower` and a bucket longer.
    pub(super) fn linger(&self) -> [i64; 2] {
        let span = self
            .upper
            .saturating_sub(self.lower)
            .saturating_add(WAITING_BUCKET - 1);
        [0, 1].map(|side| {
            if self.waiting[side].is_some() {
                span
            } else {
                0
            }
        })
    }
}
