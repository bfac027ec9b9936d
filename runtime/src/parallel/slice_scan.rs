//! Where each worker's watermark starts when the workers read one event-time file in
//! slices (`InputSplit::EventTimeSlices`): at the largest event time of the slices before
//! its own, where one worker reading every slice in order would have it. Every worker scans
//! its piece of each slice but the last for its largest event time
//! (`JobContext::scan_pieces`) and tells every other worker.
//!
//! The same scan checks where the slices of a CSV file were cut. A CSV record starts after
//! a line break that is not inside a quoted field, and finding one exactly means reading
//! the file before the cut for quotes: on 20M events, a tenth of a second on one thread
//! before any worker could start. So the first round of scans cuts the file at line
//! starts, and each piece's scan notes whether a record had a line break inside quotes.
//! If none did, no quoted field before the last cut holds a line break, and every line
//! start there is a record start: the cuts were exact. (A piece that starts inside a quoted
//! field cannot hide it: that field's line break ends the piece before it inside quotes,
//! and the scan of that piece, which starts at a true record start by the same argument,
//! notes it.) If one did, every worker scans again with the file cut at record starts.
//! Either way every worker reads its slice cut as the round that held was.

use super::{pump, Exchanging};
use crate::io::InputSpec;
use crate::{JobContext, JobError};

/// What one worker's scan of its piece of a slice found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PieceScan {
    /// The largest valid event time in the piece (`i64::MIN` for none).
    pub max: i64,
    /// Whether a record of the piece had a line break inside quotes.
    pub quoted_line_break: bool,
}

impl PieceScan {
    /// What scanning no piece found.
    pub const NOTHING: PieceScan = PieceScan {
        max: i64::MIN,
        quoted_line_break: false,
    };
}

/// Scans this worker's pieces of the slices of `input` with `scan` (the job's scan of its
/// event-time source), shares what it found with every worker, and returns where this
/// worker's watermark starts: the largest event time of the slices before its own. The
/// windows up to that time belong to the worker before it
/// ([`Exchanging::hold_windows_through`]). `i64::MIN` on one worker.
pub fn start_after_earlier_slices<J: Exchanging>(
    job: &mut J,
    ctx: &mut JobContext,
    input: &InputSpec,
    scan: impl Fn(&J, &JobContext) -> Result<PieceScan, JobError>,
) -> Result<i64, JobError> {
    if job.exchange().is_none() {
        return Ok(i64::MIN);
    }
    let (mut max, quoted_line_break) = scan_round(job, ctx, input, 0, &scan)?;
    if quoted_line_break {
        (max, _) = scan_round(job, ctx, input, 1, &scan)?;
    }
    job.hold_windows_through(max);
    Ok(max)
}

/// One round of scans: round 0 cuts the file at line starts, round 1 at record starts.
/// Waits (taking in what arrives meanwhile) until every worker has said what its pieces
/// hold; gives the largest event time before this worker's slice, and whether a piece had
/// a line break inside quotes.
fn scan_round<J: Exchanging>(
    job: &mut J,
    ctx: &mut JobContext,
    input: &InputSpec,
    round: u8,
    scan: &impl Fn(&J, &JobContext) -> Result<PieceScan, JobError>,
) -> Result<(i64, bool), JobError> {
    let scans = ctx.scan_pieces(input, round == 0, |ctx| scan(job, ctx))?;
    let exchange = job.exchange().expect("parallel");
    for (slice, found) in scans.into_iter().enumerate() {
        exchange.outbox.slice_scan(slice, round, found);
    }
    pump(job, false)?;
    loop {
        if let Some(found) = job.exchange().and_then(|x| x.slice_scans(round)) {
            return Ok(found);
        }
        pump(job, true)?;
    }
}
