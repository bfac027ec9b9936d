//! State that does not fit its memory budget goes to disk: the job's spill directory, the
//! checksummed run files operators write there, and the ways runs come back (merged by
//! sequence, folded per key, looked up by key, read as timers). Which state spills, and
//! how, is each state kind's business: `SpillingTable` (aggregate), `FixedWindows`,
//! `CountGroups`, `SessionWindows`, `SeenKeys` (distinct), in `state/`.

mod fold;
mod key_runs;
mod run_file;
mod seq_merge;
mod space;
mod timer_runs;

pub use fold::{partition, split_record, Fold, RecordShape, PARTITIONS};
pub use key_runs::KeyRuns;
pub use run_file::{BlockRecords, Run, RunReader, RunWriter};
pub use seq_merge::SeqMerge;
pub use space::SpillSpace;
pub use timer_runs::TimerRuns;

use crate::memory::OperatorMemory;
use crate::JobError;

/// Whether `e` is an operator's budget running out while it holds state it may write to
/// disk (it has a spill space, and something in memory): then it spills and tries again.
pub(crate) fn can_spill_after(e: &JobError, mem: &OperatorMemory, holds_state: bool) -> bool {
    matches!(e, JobError::MemoryBudget { .. }) && mem.can_spill() && holds_state
}

/// Whether an operator's state may go to disk, as the compiler decided from its
/// accumulators.
#[derive(Debug, Clone, Copy)]
pub enum SpillSupport {
    /// It may: partial results spilled apart are folded back with this, `merge(into,
    /// from)`, `from` being the later part.
    Merge(fn(&mut [u8], &[u8])),
    /// It may not, and why: the budget error says so.
    Cannot(&'static str),
}
