//! A checkpoint written while records flow, on one worker: the job's state is saved into
//! memory between two records (its outputs' commit points not fsynced yet), and a thread
//! writes it, fsyncs the outputs' parts, writes the manifest and prunes, while the job
//! reads on. Records wait only for the copy. The checkpoint is complete when its manifest
//! is, as any other; one is written at a time, and the run waits for it before it ends.
//!
//! A state larger than [`super::codec`]'s limit for a copy streams to its file while
//! records wait, as before (a spilled state is read back from disk: copying it to memory
//! first would take memory the job was not given). A job that follows a file writes its
//! checkpoints while records wait too: it publishes each one's output right after.

use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;

use super::store::{self, Manifest};
use crate::io::PendingOutputs;
use crate::JobError;

/// A checkpoint being written by its thread.
#[derive(Debug)]
pub(super) struct Writing {
    id: u64,
    /// How long records waited for it.
    pause: Duration,
    handle: JoinHandle<Result<u64, JobError>>,
}

impl Writing {
    /// Writes checkpoint `manifest.id` of `state` into `dir` on a thread of its own: the
    /// state, the outputs' parts fsynced, the manifest; its folder removed if that fails.
    pub(super) fn start(
        dir: PathBuf,
        manifest: Manifest,
        state: Vec<u8>,
        outputs: PendingOutputs,
        pause: Duration,
    ) -> Writing {
        let id = manifest.id;
        let handle = std::thread::spawn(move || {
            let written = store::write_state(&store::folder(&dir, id), 0, &state)
                .and_then(|sum| outputs.sync_parts().map(|()| sum));
            store::finish(&dir, manifest, written)
        });
        Writing { id, pause, handle }
    }

    /// Whether it is written (or failed).
    pub(super) fn is_done(&self) -> bool {
        self.handle.is_finished()
    }

    /// Waits for it: its number, the pause it caused, and its bytes or why it failed.
    pub(super) fn wait(self) -> (u64, Duration, Result<u64, JobError>) {
        let written = self.handle.join().unwrap_or_else(|_| {
            Err(JobError::Config(
                "the thread writing a checkpoint panicked".to_string(),
            ))
        });
        (self.id, self.pause, written)
    }
}
