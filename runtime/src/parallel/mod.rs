//! Parallel execution: N workers run the same generated job, each over its slice of the
//! input, and exchange records at every hash edge through timely-dataflow.
//!
//! * A worker ([`WorkerSlot`]) builds its own `WeirJob`: its own state (each stateful
//!   operator gets its budget divided by the number of workers), its own slice of each
//!   file source (byte ranges cut at line starts, [`crate::io::InputReader::open_part`]) and
//!   its own part of each file sink (parts joined in worker order at commit,
//!   [`crate::io::PendingOutputs`]).
//! * At a hash edge, a record is encoded in the row layout into the [`Outbox`] buffer of
//!   the worker owning its key's group ([`KeyGroups`]); full buffers, watermarks and the
//!   end of each edge go out through timely ([`Exchange`]), and arriving rows are decoded
//!   and handed to the next chain on the receiving worker.
//! * A job whose one stateful operator is an event-time window over a file read in
//!   event-time slices runs it in time order instead: each worker fires its slice's
//!   windows and only the windows two slices share cross, at the end (`time_order.rs`).
//! * Watermarks travel as messages: each worker sends its own on every edge, and a
//!   receiver combines them per edge, the least over all sending workers
//!   ([`crate::time::CombinedWatermark`]). A worker whose sources have ended sends
//!   `MAX_WATERMARK`, so an empty slice never holds windows back.

mod combiner;
mod connections;
mod exchange;
mod gather;
mod key_groups;
mod markers;
mod outbox;
mod routed;
mod slice_scan;
mod time_order;
mod window_combiner;
mod workers;

pub use combiner::{combiner_pages, partial, Combiner};
pub use exchange::{finish, pump, Exchange, Exchanging};
pub use key_groups::{KeyGroups, DEFAULT_KEY_GROUPS};
pub use outbox::{exchange_buffer, Batch, Entry, Outbox};
pub use slice_scan::{start_after_earlier_slices, PieceScan};
pub use time_order::{finish_in_time_order, hand_over_windows};
pub use window_combiner::{window_key, WindowCombiner};
pub use workers::{run_workers, run_workers_with, Cluster, Travel, WorkerBody};

/// Bytes a parallel run of `workers` workers sets aside from `memory` for a job with
/// `exchanges` exchange edges, `combined` of them with a combiner: each worker keeps a
/// page-sized buffer per receiving worker filling, and as much again sent and not yet
/// taken in (or taken in and kept to fill again), and [`combiner_pages`] per combiner.
/// Nothing with one worker or no exchange.
pub fn exchange_memory(workers: usize, exchanges: usize, combined: usize, memory: u64) -> u64 {
    if workers <= 1 || exchanges == 0 {
        return 0;
    }
    let page = crate::memory::DEFAULT_PAGE_SIZE as u64;
    let buffer = exchange_buffer(memory, workers) as u64;
    let w = workers as u64;
    w * w * 2 * buffer + w * combined as u64 * combiner_pages(memory, workers, combined) * page
}

/// The hash that routes a key (its bytes in the row layout) to its key group: the one key
/// hash, which state tables file keys under too.
pub use crate::state::key_hash;

/// Which of the job's workers this is, and how many there are in all (over every
/// process of a cluster).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerSlot {
    /// This worker's index, from 0.
    pub index: usize,
    /// Workers in the job.
    pub peers: usize,
}

impl WorkerSlot {
    /// The one worker of a job run without parallelism.
    pub const SINGLE: WorkerSlot = WorkerSlot { index: 0, peers: 1 };

    /// Whether this is the only worker.
    pub fn is_single(&self) -> bool {
        self.peers == 1
    }
}
