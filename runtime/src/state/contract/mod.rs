//! The keyed-state contract: what every stateful operator's state offers the job around
//! it, whatever it keeps (aggregates, windows, joins, seen keys, process state).
//!
//! * **Memory**: the state's pages come from its operator's [`OperatorMemory`], which
//!   holds them against the operator's budget and counts what was spilled and read back.
//! * **Spilling**: past its budget the state moves what it must to disk and reads it back
//!   when needed, giving the answers it gives in memory (each state's own business, behind
//!   the same budget error: `spill::can_spill_after`).
//! * **Snapshot by key group**: [`KeyedState::snapshot`] writes every key's state, tagged
//!   with its key group (from the one key hash, `state::key_hash`), to a
//!   [`SnapshotWriter`]; the state goes on as if nothing happened.
//! * **Restore a subset**: [`KeyedState::restore`] takes in the entries of the key groups it
//!   is given, so a job restored at another parallelism gives each worker its range.
//! * **What changed**: each snapshot carries a digest per key group
//!   ([`GroupDigests::changed_since`]), so a checkpoint can write only the groups that
//!   changed since the one before.
//!
//! `conformance.rs` runs every state kind that implements it through the same checks:
//! random operations under a tiny budget (so it spills), snapshot, restore whole or split
//! into 2 and 3 key-group ranges, continue, and compare with a run that never stopped
//! (`cargo test -p weir-runtime conformance`).

mod snapshot;

#[cfg(test)]
mod conformance;

pub use snapshot::{GroupDigests, Snapshot, SnapshotEntry, SnapshotReader, SnapshotWriter};

use crate::memory::OperatorMemory;
use crate::spill::SpillSupport;
use crate::JobError;

/// The contract of a keyed operator state (see the module's doc).
pub trait KeyedState {
    /// The operator's memory: pages held against its budget, and what it spilled.
    fn memory(&self) -> &OperatorMemory;

    /// Writes the state of every key to `out`, in the order the state lists its keys; the
    /// state's later answers are the same as without the snapshot.
    fn snapshot(&mut self, out: &mut SnapshotWriter) -> Result<(), JobError>;

    /// Takes in the entries of `from` whose key group is in `groups`, into a state that
    /// has seen no record yet.
    fn restore(
        &mut self,
        from: &mut SnapshotReader<'_>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError>;
}

/// Folds `part`, a later partial result of a key restored again, into `into` with the
/// operator's merge function, as bringing spilled parts back does; a state whose partial
/// results do not merge never spilled, so never has two parts of one key in a snapshot.
pub(crate) fn fold_part(
    spill: &SpillSupport,
    into: &mut [u8],
    part: &[u8],
) -> Result<(), JobError> {
    match spill {
        SpillSupport::Merge(merge) => {
            merge(into, part);
            Ok(())
        }
        SpillSupport::Cannot(_) => Err(JobError::SnapshotCorrupt {
            problem: "a key repeats in the state of an operator whose partial results do not merge"
                .to_string(),
        }),
    }
}
