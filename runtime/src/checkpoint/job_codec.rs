//! How an inline job is checkpointed: by functions handed to it at run time.
//!
//! A `.pipe` job's fields are all of the runtime's types, so its `Checkpointed` impl is
//! always there. An inline job's `collect()` sinks hold the program's own records, which
//! a checkpoint can hold only if they have a [`Layout`](crate::Layout): a program that
//! collects other records must still compile, as long as it asks for no checkpoints. So
//! the generated job saves itself through a [`JobCodec`] it is given only when the
//! program asks for checkpoints (`JobConfig::checkpoints`), where rustc checks the
//! bounds (`CheckpointedBody`).

use super::{Rescale, StateIn, StateOut};
use crate::JobError;

/// The generated functions that save and restore a job of type `J`, field by field
/// (`checkpointed_fields!(fn { ... })`).
pub struct JobCodec<J> {
    /// As [`Checkpointed::save`](super::Checkpointed::save).
    pub save: fn(&mut J, &mut StateOut) -> Result<(), JobError>,
    /// As [`Checkpointed::load`](super::Checkpointed::load).
    pub load: fn(&mut J, &mut StateIn<'_>) -> Result<(), JobError>,
    /// As [`Checkpointed::load_rescaled`](super::Checkpointed::load_rescaled).
    pub load_rescaled: fn(&mut J, &mut [StateIn<'_>], &Rescale) -> Result<(), JobError>,
}

// By hand: derived, they would ask `J: Clone`, and a job is not.
impl<J> Clone for JobCodec<J> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<J> Copy for JobCodec<J> {}

impl<J> std::fmt::Debug for JobCodec<J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JobCodec")
    }
}

/// What a job without its codec says when asked for a checkpoint: never, as a run takes
/// checkpoints only when the program asked for them, which hands the codec over.
#[cold]
pub fn missing_codec() -> JobError {
    JobError::Config(
        "this inline job was run without checkpoints, so it cannot save or restore its state"
            .to_string(),
    )
}
