//! Checkpoints: a consistent cut of a running job, written durably at an interval, from
//! which a job killed at any moment resumes with the output it would have written had it
//! never stopped.
//!
//! A checkpoint is taken between two records, where nothing is in flight inside the job
//! (one worker: the cut is the state of every part at that moment). It holds every field
//! of the generated job, each saved by its [`Checkpointed`] impl (operator states by key
//! group through the keyed-state contract, watermarks, late and record counters, each
//! sink's commit point), then each source's position, bad-record count and watermark
//! generator. Sinks write to a part file beside their target that survives the run
//! (`io::commit`); a checkpoint records how far it is committed, and a resumed job cuts
//! it back there and writes on, so no record is written twice or lost.
//!
//! `store.rs` keeps them on disk (manifest last, fsynced, renamed; the last three kept),
//! `codec.rs` is the bytes, `coordinator.rs` takes and restores them for a run,
//! `impls.rs` says how the runtime's generic parts are saved, and `inspect.rs` reports
//! what one holds (`weir checkpoint inspect`).

mod background;
mod codec;
mod config;
mod coordinator;
mod cut;
mod impls;
mod inspect;
mod job_codec;
pub mod savepoint;
pub mod store;

pub use codec::{StateIn, StateOut};
pub use config::{CheckpointConfig, SavepointConfig, DEFAULT_MAX_FAILURES};
pub use coordinator::{CheckpointStats, Checkpoints};
pub use inspect::inspect;
pub use job_codec::{missing_codec, JobCodec};

use crate::JobError;

/// A part of a job whose state a checkpoint holds: it writes that state, and reads it
/// back into a part freshly made for the same pipeline.
pub trait Checkpointed {
    /// Writes the part's state; anything buffered toward an output is written out first
    /// (a sink's commit point).
    fn save(&mut self, out: &mut StateOut) -> Result<(), JobError>;

    /// Reads back what [`save`](Self::save) wrote, into a part that has seen no record.
    fn load(&mut self, from: &mut StateIn<'_>) -> Result<(), JobError>;

    /// Reads back what the workers of a run on another number of workers wrote (`parts`,
    /// one per worker that wrote the checkpoint, in worker order), into this part of
    /// worker `to.worker`: keyed state takes the entries of the key groups that worker now
    /// owns from every part (see [`Rescale`] for the rest). A part that cannot move
    /// between parallelisms says so, naming itself.
    fn load_rescaled(&mut self, parts: &mut [StateIn<'_>], to: &Rescale) -> Result<(), JobError> {
        let _ = parts;
        Err(JobError::CheckpointMismatch(format!(
            "{} cannot be restored on another number of workers than wrote it ({} now)",
            std::any::type_name::<Self>(),
            to.peers
        )))
    }

    /// What this part shows on the live page while the job runs: a source's counts, a
    /// watermark generator's watermark; nothing for the others.
    fn live(&self) -> Option<crate::monitor::LivePart> {
        None
    }
}

/// Which worker a part restored at another parallelism now belongs to, and so what it
/// takes of the workers' states: its key groups' entries of every keyed state; counters
/// summed on worker 0 (so that the run's report adds up) and zero elsewhere; watermarks
/// the highest any worker had (after the cut every worker has seen every watermark sent
/// before it); sinks' committed output all on worker 0 (`io::sink`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rescale {
    /// The worker restored.
    pub worker: usize,
    /// Workers now.
    pub peers: usize,
    /// The key groups it owns.
    pub groups: (usize, usize),
}

impl Rescale {
    /// Worker `worker` of `peers`.
    pub fn new(worker: usize, peers: usize) -> Self {
        let range = crate::parallel::KeyGroups::new(crate::parallel::DEFAULT_KEY_GROUPS, peers)
            .range(worker);
        Rescale {
            worker,
            peers,
            groups: (range.start, range.end),
        }
    }
}

/// A job a checkpoint is taken of: its state, and on several workers its exchange, through
/// which the cut goes (`cut.rs`). Every generated `.pipe` job is one.
pub trait CutJob: Checkpointed + crate::parallel::Exchanging {
    /// Each stateful operator's records in and out so far (for the live page).
    fn live_counts(&self, counts: &mut dyn crate::job::RecordCounts);
}

impl<T: Checkpointed + crate::job::Pipeline> CutJob for T {
    fn live_counts(&self, counts: &mut dyn crate::job::RecordCounts) {
        self.count_records(counts);
    }
}

/// Implements [`Checkpointed`] for a struct, field by field: each field in a section of
/// its own named after it, saved and restored by its type's impl (so a field whose type
/// has none does not compile). The generated job's impl is this one line. The form
/// `checkpointed_fields!(fn { ... })` gives the same three functions as inherent methods
/// (`weir_save`, `weir_load`, `weir_load_rescaled`), for an inline job's [`JobCodec`].
#[macro_export]
macro_rules! checkpointed_fields {
    (fn { $($field:ident),* $(,)? }) => {
        $crate::checkpointed_fields!(@fns weir_save, weir_load, weir_load_rescaled { $($field),* });
    };
    ($ty:ty { $($field:ident),* $(,)? }) => {
        impl $crate::checkpoint::Checkpointed for $ty {
            $crate::checkpointed_fields!(@fns save, load, load_rescaled { $($field),* });
        }
    };
    (@fns $save:ident, $load:ident, $rescaled:ident { $($field:ident),* }) => {
        fn $save(
            &mut self,
            out: &mut $crate::checkpoint::StateOut,
        ) -> ::core::result::Result<(), $crate::JobError> {
            $(out.section(::core::stringify!($field), |o| {
                $crate::checkpoint::Checkpointed::save(&mut self.$field, o)
            })?;)*
            ::core::result::Result::Ok(())
        }

        fn $load(
            &mut self,
            from: &mut $crate::checkpoint::StateIn<'_>,
        ) -> ::core::result::Result<(), $crate::JobError> {
            $(from.section(::core::stringify!($field), |i| {
                $crate::checkpoint::Checkpointed::load(&mut self.$field, i)
            })?;)*
            ::core::result::Result::Ok(())
        }

        fn $rescaled(
            &mut self,
            parts: &mut [$crate::checkpoint::StateIn<'_>],
            to: &$crate::checkpoint::Rescale,
        ) -> ::core::result::Result<(), $crate::JobError> {
            $($crate::checkpoint::StateIn::sections(parts, ::core::stringify!($field), |p| {
                $crate::checkpoint::Checkpointed::load_rescaled(&mut self.$field, p, to)
            })?;)*
            ::core::result::Result::Ok(())
        }
    };
}
