//! Windows in time order: the parallel plan of a job whose one stateful operator is a
//! tumbling or sliding event-time window over one file read in event-time slices
//! (`InputSplit::EventTimeSlices`).
//!
//! Slice `k` of the file holds the records after slice `k - 1`'s, and so, with bounded
//! disorder, mostly later event times. Each worker keeps the windows of the records it
//! reads and fires them itself, as one worker would, instead of sending partial results
//! to the workers that own their keys: on the window benchmark that second stage (copy
//! out, send, merge, fire elsewhere) cost a third of the work. Let `c_k` be the largest
//! event time of the slices before slice `k` (the slice scan finds it; `i64::MIN` for
//! slice 0). What makes the plan exact:
//! - Worker `k` judges lateness by the watermark one worker would have had: its slice's
//!   own, starting from `c_k`'s.
//! - A window starting after `c_k` gets no record from an earlier slice, and none on time
//!   from a later slice once worker `k`'s watermark has passed it (a later slice's
//!   watermark is at least as far). So worker `k` fires the windows starting after `c_k`
//!   as its watermark passes them, and holds those starting at or before `c_k`
//!   (`FixedWindows::hold_through`): they belong to the worker before it.
//! - At the end of input, from the last worker back to worker 0, each worker waits for the
//!   next one to hand over the windows it held ([`hand_over_windows`]), merges them into
//!   its own, hands its own held windows to the worker before it, and fires the rest.
//!
//! Worker `k` thus fires exactly the windows starting in `(c_k, c_(k+1)]`, in window order:
//! the part files joined in worker order give each key's results in the order one worker
//! gives them (and every result in window order). A worker holds only the windows its
//! slice shares with the one before, so memory stays what one worker needs.

use super::window_combiner::partial_row;
use super::{finish, pump, Outbox};
use crate::state::FixedWindows;
use crate::JobError;

/// Sends the windows `windows` holds for the worker before this one
/// ([`FixedWindows::hold_through`]) to worker `to` on `edge`, as partial results it merges
/// into its own (`[key length + 8][key][start][acc]`, the rows a
/// [`super::WindowCombiner`] sends), in window order.
pub fn hand_over_windows(
    windows: &mut FixedWindows,
    outbox: &mut Outbox,
    edge: usize,
    to: usize,
    scratch: &mut Vec<u8>,
) -> Result<(), JobError> {
    let Some(through) = windows.release_held() else {
        return Ok(());
    };
    let mut row = Vec::new();
    while let Some(f) = windows.next_starting_by(through, scratch)? {
        let (key, acc) = scratch.split_at(f.key_len);
        partial_row(&mut row, key, f.start, acc);
        outbox.row_to(edge, to, i64::MIN, &row);
    }
    Ok(())
}

/// The end of input of a job running its windows in time order on `edge`: waits for the
/// worker after this one to hand over the windows it held for this one (they arrive on
/// `edge`, kept until now if they came early: `Exchange::defer_rows`, and merge after
/// this worker's own records, as on one worker), settles this worker's windows
/// ([`Exchanging::settle_windows`]), then finishes as every parallel job does
/// ([`finish`]).
pub fn finish_in_time_order<J: crate::job::Pipeline>(
    job: &mut J,
    ctx: &mut crate::JobContext,
    edge: usize,
) -> Result<(), JobError> {
    let slot = job.exchange().expect("parallel").slot();
    for (edge, ts, row) in job.exchange().expect("parallel").take_deferred() {
        job.receive(edge, ts, &row)?;
    }
    if slot.index + 1 < slot.peers {
        loop {
            pump(job, false)?;
            let exchange = job.exchange().expect("parallel");
            if exchange.is_done_by(edge, slot.index + 1) {
                break;
            }
            pump(job, true)?;
        }
    }
    job.settle_windows(slot.index.checked_sub(1))?;
    // Jobs in time order take no checkpoints on several workers (`Checkpoints::open`).
    finish(job, ctx, &mut |_, _| Ok(()))
}
