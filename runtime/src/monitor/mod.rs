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
mod watch;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use crate::checkpoint::CheckpointStats;
use crate::memory::SegmentPool;
use crate::stats::JobStats;
use crate::JobSpec;

pub use server::serve;
pub use view::{CheckpointView, ExchangeView, JobView, OperatorView, SourceView};
pub use watch::Watch;

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

/// How many checkpoints the page lists.
pub const HISTORY: usize = 20;

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

/// The checkpoints seen so far: how many completed and failed, and the last of them.
#[derive(Debug, Default)]
struct History {
    taken: u64,
    failed: u64,
    last: Vec<view::CheckpointView>,
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
    /// The checkpoints seen complete or fail, newest last ([`HISTORY`] at most).
    history: Mutex<History>,
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
            history: Mutex::default(),
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

    /// Asks every worker for its figures, and notes the checkpoints completed or failed
    /// since the last call (the ticker's call).
    pub(crate) fn ask(&self) {
        self.note_checkpoints();
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

    /// Adds what the run's checkpoint figures say happened since they were last read: each
    /// newly completed checkpoint with its pause and size (the last one's, which is exact
    /// when the ticker sees every checkpoint; it reads four times a second), each failure.
    fn note_checkpoints(&self) {
        let Some(now) = lock(&self.checkpoints).as_ref().map(|c| *lock(c)) else {
            return;
        };
        let mut history = lock(&self.history);
        let at_ms = self.started.elapsed().as_millis() as u64;
        for number in history.taken + 1..=now.taken {
            history.last.push(view::CheckpointView {
                number,
                at_ms,
                pause_ms: now.last_pause_ms,
                bytes: now.last_bytes,
                failed: false,
            });
        }
        for _ in history.failed..now.failed {
            history.last.push(view::CheckpointView {
                number: now.taken + 1,
                at_ms,
                pause_ms: 0,
                bytes: 0,
                failed: true,
            });
        }
        (history.taken, history.failed) = (now.taken, now.failed);
        let excess = history.last.len().saturating_sub(HISTORY);
        history.last.drain(..excess);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::DEFAULT_PAGE_SIZE;

    const SPEC: JobSpec = JobSpec::bare(&["in"], &["out"]);

    fn board() -> Arc<LiveBoard> {
        LiveBoard::new(&SPEC, SegmentPool::new(1 << 20, DEFAULT_PAGE_SIZE))
    }

    #[test]
    fn each_checkpoint_seen_is_listed_once_and_the_list_is_kept_short() {
        let board = board();
        let stats = Arc::new(Mutex::new(CheckpointStats::default()));
        board.show_checkpoints(stats.clone());
        board.ask();
        assert!(board.view().checkpoint_history.is_empty());
        *lock(&stats) = CheckpointStats {
            taken: 2,
            failed: 1,
            last_bytes: 4096,
            last_pause_ms: 3,
            longest_pause_ms: 5,
        };
        board.ask();
        board.ask();
        let listed = board.view().checkpoint_history;
        let numbers: Vec<(u64, bool)> = listed.iter().map(|c| (c.number, c.failed)).collect();
        assert_eq!(numbers, vec![(1, false), (2, false), (3, true)]);
        assert_eq!(listed[1].bytes, 4096);
        lock(&stats).taken = 2 + HISTORY as u64;
        board.ask();
        let listed = board.view().checkpoint_history;
        assert_eq!(listed.len(), HISTORY);
        assert_eq!(listed.last().map(|c| c.number), Some(2 + HISTORY as u64));
        assert!(board
            .metrics()
            .contains("weir_checkpoints_total{job=\"t\"} 22"));
    }

    #[test]
    fn workers_figures_add_up_and_a_watermark_is_the_least() {
        let board = board();
        let source = |records, wm| {
            [
                LivePart::Source {
                    name: "in".into(),
                    records,
                    bad: 1,
                    dead_letters: 0,
                },
                LivePart::Watermark(wm),
            ]
        };
        board.publish(0, &[], &source(10, 500), Some((10, 100)));
        board.publish(1, &[], &source(5, 200), Some((0, 100)));
        let view = board.view();
        assert_eq!(view.sources[0].records, 15);
        assert_eq!(view.sources[0].bad, 2);
        assert_eq!(view.sources[0].watermark, Some(200));
        assert_eq!(view.exchange.len(), 2);
        assert_eq!(view.state, "running");
    }
}
