//! State that does not fit its memory budget goes to disk: the job's spill directory and the
//! checksummed run files operators write there. Which state spills, and how it comes back,
//! is each state kind's business (`state::SpillingTable` for keyed aggregation).

mod fold;
mod run_file;
mod seq_merge;
mod space;

pub use fold::{partition, split_record, Fold, PARTITIONS};
pub use run_file::{Run, RunReader, RunWriter};
pub use seq_merge::SeqMerge;
pub use space::SpillSpace;
