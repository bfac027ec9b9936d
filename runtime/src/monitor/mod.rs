//! The live view of a running job (`--ui ADDR`, `JobConfig::ui`): a page that updates
//! itself, its JSON, and Prometheus metrics, served by a small HTTP server on a thread of
//! its own.
//!
//! Nothing is added to the record path. The workers already stop between two records when
//! their checkpoint flag is raised (`Checkpoints::due`, one load per record); with a board
//! the server's ticker raises it a few times a second, and the worker publishes its
//! operators' record counts, its sources' counts and watermarks and its exchange's fill
//! ([`LiveBoard::publish`]) before it looks at whether a checkpoint is due. A source whose
//! live input is quiet publishes when it wakes up. Memory needs no worker: the pool's
//! accounts are read as they are. At the end the board holds the run's report, the same
//! figures `--stats-json` writes.

mod metrics;
mod page;
mod server;
mod view;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use crate::checkpoint::CheckpointStats;
use crate::memory::SegmentPool;
use crate::stats::JobStats;
use crate::JobSpec;

pub use server::serve;
pub use view::{ExchangeView, JobView, OperatorView, SourceView};

/// One node of a job's graph, as the compiler describes it for the live page.
#[derive(Debug)]
pub struct GraphNode {
    /// Its number in the plan (a stateful operator's id).
    pub id: usize,
    /// `source`, `filter`, `window`, ...
    pub kind: &'static str,
    /// A source's or sink's name; empty for the others.
    pub name: &'static str,
    /// What it does, shortened (the picture's label).
    pub label: &'static str,
    /// `file:line:col`.
    pub location: &'static str,
    /// The nodes it reads from (itself, for an iteration's next round).
    pub inputs: &'static [usize],
}

/// How often the server asks the workers for their counts, in milliseconds.
pub const PUBLISH_EVERY_MS: u64 = 250;

/// What a part of a job (a source, a watermark generator) shows while the job runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LivePart {
    /// A source: records read (those refused included), records refused, and of those the
    /// ones written to a dead-letter file.
    Source {
        /// The source's name.
        name: String,
        /// Records read so far.
        records: u64,
        /// Records refused by its bad-record policy.
        bad: u64,
        /// Of those, the ones written to its dead-letter file.
        dead_letters: u64,
    },
    /// The watermark of the source before it (event-time sources have one after them).
    Watermark(i64),
}

/// One worker's latest figures.
#[derive(Debug, Default)]
struct WorkerFigures {
    /// Records in and out of each stateful operator, by id.
    operators: BTreeMap<usize, (u64, u64)>,
    /// Each source's figures, by name, and its watermark if it has event time.
    sources: BTreeMap<String, (u64, u64, u64, Option<i64>)>,
    /// Bytes waiting in the exchange's outgoing buffers, and what those buffers hold.
    exchange: Option<(u64, u64)>,
}

/// How the run ended, once it has.
#[derive(Debug, Clone)]
struct Ending {
    stats: JobStats,
    advice: Vec<String>,
}

/// What the server shows: the job's description, each worker's latest figures, the pool,
/// checkpoints, and the report once the run ends. Shared by the workers (who publish) and
/// the server thread (which reads).
#[derive(Debug)]
pub struct LiveBoard {
    spec: &'static JobSpec,
    pool: Arc<SegmentPool>,
    started: Instant,
    figures: Mutex<BTreeMap<usize, WorkerFigures>>,
    checkpoints: Mutex<Option<Arc<Mutex<CheckpointStats>>>>,
    ending: Mutex<Option<Ending>>,
    /// Each worker's flags: the one its record loop checks, and "publish" beside it.
    wakers: Mutex<Vec<(Weak<AtomicBool>, Arc<AtomicBool>)>>,
}

impl LiveBoard {
    /// A board for a run of `spec` with memory `pool`.
    pub fn new(spec: &'static JobSpec, pool: Arc<SegmentPool>) -> Arc<Self> {
        Arc::new(LiveBoard {
            spec,
            pool,
            started: Instant::now(),
            figures: Mutex::default(),
            checkpoints: Mutex::default(),
            ending: Mutex::default(),
            wakers: Mutex::default(),
        })
    }

    /// A worker's loop checks `due` between records: the ticker raises it, with the
    /// returned flag, when the board wants the worker's figures.
    pub(crate) fn register(&self, due: &Arc<AtomicBool>) -> Arc<AtomicBool> {
        let wanted = Arc::new(AtomicBool::new(true));
        lock(&self.wakers).push((Arc::downgrade(due), wanted.clone()));
        due.store(true, Ordering::Relaxed);
        wanted
    }

    /// Asks every worker for its figures (the ticker's call).
    pub(crate) fn ask(&self) {
        let mut wakers = lock(&self.wakers);
        wakers.retain(|(due, wanted)| match due.upgrade() {
            Some(due) => {
                wanted.store(true, Ordering::Relaxed);
                due.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        });
    }

    /// Worker `worker`'s figures now: its operators' `counts` (id, in, out), its sources'
    /// `parts`, and its exchange's queued bytes of its buffers' capacity.
    pub fn publish(
        &self,
        worker: usize,
        counts: &[(usize, u64, u64)],
        parts: &[LivePart],
        exchange: Option<(u64, u64)>,
    ) {
        let mut figures = lock(&self.figures);
        let mine = figures.entry(worker).or_default();
        for &(id, records_in, records_out) in counts {
            mine.operators.insert(id, (records_in, records_out));
        }
        let mut last_source: Option<String> = None;
        for part in parts {
            match part {
                LivePart::Source {
                    name,
                    records,
                    bad,
                    dead_letters,
                } => {
                    let entry = mine.sources.entry(name.clone()).or_default();
                    (entry.0, entry.1, entry.2) = (*records, *bad, *dead_letters);
                    last_source = Some(name.clone());
                }
                LivePart::Watermark(wm) => {
                    if let Some(s) = last_source.as_ref().and_then(|n| mine.sources.get_mut(n)) {
                        s.3 = Some(*wm);
                    }
                }
            }
        }
        if exchange.is_some() {
            mine.exchange = exchange;
        }
    }

    /// The run's checkpoint figures, once it takes checkpoints.
    pub fn show_checkpoints(&self, stats: Arc<Mutex<CheckpointStats>>) {
        *lock(&self.checkpoints) = Some(stats);
    }

    /// The run ended with `stats` (what `--stats-json` writes) and `advice`.
    pub fn finish(&self, stats: JobStats, advice: Vec<String>) {
        *lock(&self.ending) = Some(Ending { stats, advice });
    }

    /// Everything the page shows, now.
    pub fn view(&self) -> JobView {
        view::JobView::of(self)
    }

    /// The figures in the OpenMetrics text format.
    pub fn metrics(&self) -> String {
        metrics::encode(&self.view())
    }
}

/// A lock whose holder panicked still guards figures worth showing.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
