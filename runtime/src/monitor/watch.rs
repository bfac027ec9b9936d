//! A worker's part of the live page: when the board wants figures, the worker's job and
//! sources are read between two records (from `Checkpoints::take`, or `publish` while a
//! live input is quiet) and published.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::{LiveBoard, LivePart};
use crate::checkpoint::{CheckpointStats, Checkpointed, CutJob};

/// The board, the flag saying it wants this worker's figures, and which worker this is.
#[derive(Debug)]
pub struct Watch {
    board: Arc<LiveBoard>,
    wanted: Arc<AtomicBool>,
    worker: usize,
}

impl Watch {
    /// Worker `worker`'s watch, woken through `due`, the flag its record loop checks.
    pub(crate) fn new(board: Arc<LiveBoard>, due: &Arc<AtomicBool>, worker: usize) -> Self {
        Watch {
            wanted: board.register(due),
            board,
            worker,
        }
    }

    /// Shows the run's checkpoint figures on the page.
    pub(crate) fn show_checkpoints(&self, stats: Arc<Mutex<CheckpointStats>>) {
        self.board.show_checkpoints(stats);
    }

    /// Publishes the job's record counts, its sources' figures and its exchange's fill, if
    /// the board asked for them since the last time.
    #[cold]
    pub(crate) fn publish_if_wanted(
        &self,
        job: &mut dyn CutJob,
        sources: &[&mut dyn Checkpointed],
    ) {
        if !self.wanted.swap(false, Ordering::Relaxed) {
            return;
        }
        let mut counts: Vec<(usize, u64, u64)> = Vec::new();
        job.live_counts(&mut counts);
        let parts: Vec<LivePart> = sources.iter().filter_map(|s| s.live()).collect();
        let exchange = job.exchange().map(|x| x.outbox.queued());
        self.board.publish(self.worker, &counts, &parts, exchange);
    }
}
