//! What the live page shows, as one JSON document (`/api/job`): the job's graph with the
//! records in and out of its sources and stateful operators, memory per operator, sources'
//! bad records and watermarks, exchange fill per worker, checkpoints, and the report's
//! figures and advice once the run has ended.

use serde::Serialize;

use super::{lock, LiveBoard};
use crate::checkpoint::CheckpointStats;

/// The whole page.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    /// The pipeline's name.
    pub job: String,
    /// `running`, `succeeded` or `failed`.
    pub state: &'static str,
    /// Time since the run started, in milliseconds.
    pub uptime_ms: u64,
    /// `--memory`, in bytes.
    pub memory_bytes: u64,
    /// Managed memory held now, in bytes.
    pub managed_in_use_bytes: u64,
    /// The most managed memory held at once, in bytes.
    pub managed_peak_bytes: u64,
    /// The graph's nodes, in the compiler's order.
    pub nodes: Vec<NodeView>,
    /// Each source, its figures summed over the workers.
    pub sources: Vec<SourceView>,
    /// Each stateful operator, its figures summed over the workers.
    pub operators: Vec<OperatorView>,
    /// Each worker's outgoing exchange buffers (empty on one worker).
    pub exchange: Vec<ExchangeView>,
    /// What the run's checkpoints took, when it takes them.
    pub checkpoints: Option<CheckpointStats>,
    /// The last checkpoints, newest last.
    pub checkpoint_history: Vec<CheckpointView>,
    /// The report's advice, once the run has ended.
    pub advice: Vec<String>,
}

/// One node of the graph.
#[derive(Debug, Clone, Serialize)]
pub struct NodeView {
    /// Its number in the plan.
    pub id: usize,
    /// `source`, `filter`, `window`, ...
    pub kind: &'static str,
    /// What it does, shortened.
    pub label: &'static str,
    /// `file:line:col`.
    pub location: &'static str,
    /// The nodes it reads from.
    pub inputs: &'static [usize],
    /// Records it took in, where counted (sources and stateful operators).
    pub records_in: Option<u64>,
    /// Records it emitted, where counted.
    pub records_out: Option<u64>,
}

/// One source.
#[derive(Debug, Clone, Serialize)]
pub struct SourceView {
    /// Its name.
    pub name: String,
    /// Records read (refused ones included).
    pub records: u64,
    /// Records refused by its bad-record policy.
    pub bad: u64,
    /// Of those, the ones written to its dead-letter file.
    pub dead_letters: u64,
    /// Its watermark (event-time sources): the least over the workers reading it.
    pub watermark: Option<i64>,
    /// Wall-clock time now less the watermark, in milliseconds.
    pub watermark_lag_ms: Option<i64>,
}

/// One stateful operator.
#[derive(Debug, Clone, Serialize)]
pub struct OperatorView {
    /// Its node.
    pub id: usize,
    /// `aggregate at wordcount.pipe:11:6`.
    pub name: &'static str,
    /// Records it received.
    pub records_in: u64,
    /// Records it emitted.
    pub records_out: u64,
    /// Its share of `--memory`, in bytes.
    pub budget_bytes: u64,
    /// Managed memory it holds now, in bytes.
    pub in_use_bytes: u64,
    /// The most it held at once, in bytes.
    pub peak_bytes: u64,
    /// Times its state went to disk.
    pub spill_runs: u64,
    /// Bytes it wrote to spill files.
    pub spilled_bytes: u64,
}

/// One checkpoint the page lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointView {
    /// Its number in the run (1 the first completed).
    pub number: u64,
    /// When the page saw it, in milliseconds since the run started.
    pub at_ms: u64,
    /// How long records waited for it.
    pub pause_ms: u64,
    /// Bytes of its state.
    pub bytes: u64,
    /// It failed.
    pub failed: bool,
}

/// One worker's outgoing exchange buffers: how full they are is how far its receivers lag.
#[derive(Debug, Clone, Serialize)]
pub struct ExchangeView {
    /// The worker.
    pub worker: usize,
    /// Bytes waiting to be sent.
    pub queued_bytes: u64,
    /// What its buffers hold.
    pub capacity_bytes: u64,
}

impl JobView {
    pub(super) fn of(board: &LiveBoard) -> JobView {
        let spec = board.spec;
        let ending = lock(&board.ending).clone();
        let figures = lock(&board.figures);
        let usage = board.pool.usage();
        let operators: Vec<OperatorView> = spec
            .operators
            .iter()
            .map(|op| OperatorView::of(op, &figures, &usage, ending.as_ref()))
            .collect();
        let now_ms = crate::time::Clock::System.now();
        let sources: Vec<SourceView> = spec
            .sources
            .iter()
            .map(|name| SourceView::of(name, &figures, now_ms))
            .collect();
        let nodes = spec
            .graph
            .iter()
            .map(|n| NodeView::of(n, &sources, &operators))
            .collect();
        let exchange = figures
            .iter()
            .filter_map(|(&worker, w)| {
                w.exchange
                    .map(|(queued_bytes, capacity_bytes)| ExchangeView {
                        worker,
                        queued_bytes,
                        capacity_bytes,
                    })
            })
            .collect();
        let checkpoints = lock(&board.checkpoints).as_ref().map(|c| *lock(c));
        JobView {
            job: spec.name.to_string(),
            state: match &ending {
                None => "running",
                Some(e) if e.stats.succeeded => "succeeded",
                Some(_) => "failed",
            },
            uptime_ms: board.started.elapsed().as_millis() as u64,
            memory_bytes: board.pool.total_bytes(),
            managed_in_use_bytes: usage.iter().map(|u| u.in_use_bytes).sum(),
            managed_peak_bytes: board.pool.peak_bytes(),
            nodes,
            sources,
            operators,
            exchange,
            checkpoints: ending
                .as_ref()
                .and_then(|e| e.stats.checkpoints)
                .or(checkpoints),
            checkpoint_history: lock(&board.history).last.clone(),
            advice: ending.map(|e| e.advice).unwrap_or_default(),
        }
    }
}

type Figures = std::collections::BTreeMap<usize, super::WorkerFigures>;

impl OperatorView {
    /// Operator `op`'s figures: summed over the workers' latest, and the pool's usage of
    /// it; the report's, once there is one (the same as `--stats-json`'s).
    fn of(
        op: &crate::job::StatefulOperator,
        figures: &Figures,
        usage: &[crate::memory::OperatorUsage],
        ending: Option<&super::Ending>,
    ) -> OperatorView {
        let location = op.name.rsplit(" at ").next().unwrap_or(op.name);
        let (records_in, records_out) = figures
            .values()
            .filter_map(|w| w.operators.get(&op.id))
            .fold((0, 0), |(i, o), (a, b)| (i + a, o + b));
        let mut view = OperatorView {
            id: op.id,
            name: op.name,
            records_in,
            records_out,
            budget_bytes: 0,
            in_use_bytes: 0,
            peak_bytes: 0,
            spill_runs: 0,
            spilled_bytes: 0,
        };
        for u in usage.iter().filter(|u| u.location == location) {
            view.budget_bytes += u.budget_bytes;
            view.in_use_bytes += u.in_use_bytes;
            view.peak_bytes = view.peak_bytes.max(u.whole_peak_bytes);
            view.spill_runs += u.spill_runs;
            view.spilled_bytes += u.spilled_bytes;
        }
        if let Some(s) =
            ending.and_then(|e| e.stats.operators.iter().find(|s| s.location == location))
        {
            view.records_in = s.records_in;
            view.records_out = s.records_out;
            view.budget_bytes = s.budget_bytes;
            view.in_use_bytes = s.in_use_bytes;
            view.peak_bytes = s.peak_bytes;
            view.spill_runs = s.spill_runs;
            view.spilled_bytes = s.spilled_bytes;
        }
        view
    }
}

impl SourceView {
    /// Source `name`'s figures, summed over the workers' latest (its watermark the
    /// least of theirs), and how far its watermark is behind `now_ms`.
    fn of(name: &str, figures: &Figures, now_ms: i64) -> SourceView {
        let mut view = SourceView {
            name: name.to_string(),
            records: 0,
            bad: 0,
            dead_letters: 0,
            watermark: None,
            watermark_lag_ms: None,
        };
        for (records, bad, dead, wm) in figures.values().filter_map(|w| w.sources.get(name)) {
            view.records += records;
            view.bad += bad;
            view.dead_letters += dead;
            if let Some(wm) = wm {
                view.watermark = Some(view.watermark.map_or(*wm, |w| w.min(*wm)));
            }
        }
        view.watermark_lag_ms = view.watermark.map(|wm| now_ms.saturating_sub(wm));
        view
    }
}

impl NodeView {
    /// Graph node `n`, with the records in and out of the source or operator it is.
    fn of(n: &super::GraphNode, sources: &[SourceView], operators: &[OperatorView]) -> NodeView {
        let (records_in, records_out) = match n.kind {
            "source" => sources
                .iter()
                .find(|s| s.name == n.name)
                .map_or((None, None), |s| (Some(s.records), Some(s.records - s.bad))),
            _ => operators
                .iter()
                .find(|o| o.id == n.id)
                .map_or((None, None), |o| (Some(o.records_in), Some(o.records_out))),
        };
        NodeView {
            id: n.id,
            kind: n.kind,
            label: n.label,
            location: n.location,
            inputs: n.inputs,
            records_in,
            records_out,
        }
    }
}
