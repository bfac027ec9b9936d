//! Event-time windows folded on the worker that read their records, as the aggregate's
//! [`Combiner`](super::Combiner) folds keys: when every worker reads a slice of the job's
//! one event-time source (`InputSplit::EventTimeSlices`), a tumbling or sliding window's
//! records are folded into partial results per key and window on the reading worker, and
//! only those cross to the key's worker.
//!
//! The reading worker judges lateness by its own watermark, which is the one a single
//! worker would have at that record; it sends a window's partial results on before its
//! watermark reaches the window's last instant, so they reach the key's worker before its
//! watermark (the least over the workers) fires the window there. On 20M events of the
//! windows benchmark, 10 records per key and window, this sends a tenth of the rows.

use super::{key_hash, Outbox};
use crate::checkpoint::Checkpointed;
use crate::state::FixedWindows;
use crate::JobError;

/// One worker's partial window results for one exchange edge: a [`FixedWindows`] of its
/// own (so a record costs what it costs the window itself, and past its memory it spills
/// as the window does), whose due windows go to the outbox instead of firing.
#[derive(Debug)]
pub struct WindowCombiner {
    windows: FixedWindows,
    edge: usize,
    row: Vec<u8>,
    scratch: Vec<u8>,
}

impl WindowCombiner {
    /// The combiner for exchange `edge`, folding into `windows` (made like the window's
    /// state, without allowed lateness).
    pub fn new(windows: FixedWindows, edge: usize) -> Self {
        WindowCombiner {
            windows,
            edge,
            row: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// This worker's watermark on the combiner's edge: what its records are judged by.
    #[inline]
    pub fn watermark(&self, outbox: &Outbox) -> i64 {
        outbox.sent_watermark(self.edge)
    }

    /// The accumulators of window `[start, end)` of `key`, opened with `init` if new;
    /// `None` when the record is late for it at watermark `wm`.
    #[inline(always)]
    pub fn fold(
        &mut self,
        key: &[u8],
        start: i64,
        end: i64,
        wm: i64,
        init: impl FnMut(&mut [u8]),
    ) -> Result<Option<&mut [u8]>, JobError> {
        Ok(self
            .windows
            .open(key, start, end, wm, init)?
            .map(|(_, acc)| acc))
    }

    /// Sends the partial results of every window that fires at `wm` to its keys' workers,
    /// as `[key length + 8: u32][key][start][acc]` ([`super::window_key`] splits the
    /// key): call before this worker's watermark `wm` goes on.
    pub fn flush_due(&mut self, outbox: &mut Outbox, wm: i64) -> Result<(), JobError> {
        if self.windows.next_timer().is_none_or(|t| t > wm) {
            return Ok(());
        }
        while let Some(f) = self.windows.next_due(wm, &mut self.scratch)? {
            let (key, acc) = self.scratch.split_at(f.key_len);
            partial_row(&mut self.row, key, f.start, acc);
            outbox.row(self.edge, key_hash(key), i64::MIN, &self.row);
        }
        Ok(())
    }

    /// Sends every partial result still held (at the end of input).
    pub fn flush(&mut self, outbox: &mut Outbox) -> Result<(), JobError> {
        self.flush_due(outbox, i64::MAX)
    }
}

/// Writes the partial result of `key`'s window at `start` into `row`:
/// `[key length + 8: u32][key][start][acc]`, what [`super::partial`] and [`window_key`]
/// take apart.
pub(crate) fn partial_row(row: &mut Vec<u8>, key: &[u8], start: i64, acc: &[u8]) {
    row.clear();
    row.extend_from_slice(&(key.len() as u32 + 8).to_le_bytes());
    row.extend_from_slice(key);
    row.extend_from_slice(&start.to_le_bytes());
    row.extend_from_slice(acc);
}

/// A window's partial result key ([`WindowCombiner::flush_due`]): the window's key and
/// start.
pub fn window_key(key: &[u8]) -> (&[u8], i64) {
    let (key, start) = key.split_at(key.len() - 8);
    (key, i64::from_le_bytes(start.try_into().expect("8 bytes")))
}

/// A checkpoint holds the combiner's partial windows as its windows' state is held (by key
/// group, through the keyed-state contract): sending them at the cut instead would change
/// the order keys first reach the window.
impl Checkpointed for WindowCombiner {
    fn save(&mut self, out: &mut crate::checkpoint::StateOut) -> Result<(), JobError> {
        self.windows.save(out)
    }

    fn load(&mut self, from: &mut crate::checkpoint::StateIn<'_>) -> Result<(), JobError> {
        self.windows.load(from)
    }

    fn load_rescaled(
        &mut self,
        parts: &mut [crate::checkpoint::StateIn<'_>],
        to: &crate::checkpoint::Rescale,
    ) -> Result<(), JobError> {
        self.windows.load_rescaled(parts, to)
    }
}
