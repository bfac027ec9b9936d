//! The physical planning pass: decides, once, how the job runs on several workers, and
//! writes it on the plan (`Plan::physical`), where codegen and `weir explain` read it.
//!
//! * **Exchanges.** A keyed edge (`Partitioning::Hash`) is an exchange when the operator
//!   it feeds asks for its records by key group (`OperatorNode::input_distribution`); in an
//!   inline pipeline a keyed edge into a stateless step (a `map` after `key_by`) keeps its
//!   records on their worker until the keyed operator after it. Every other edge is
//!   forward.
//! * **Reading.** Every worker reads a slice of every file when no node's results depend
//!   on arrival order; a slice of the one event-time file when every node's results stay
//!   one worker's that way; otherwise worker 0 reads everything.
//! * **Combiners.** Records are folded before they cross where the job reads in slices and
//!   the operator's partial results merge exactly (`OperatorNode::partial_results`); a
//!   window's only where its reading worker judges lateness as one worker would.
//! * **Time order.** A job whose one exchange feeds such a window, its only stateful
//!   operator, fires the window on the worker that read its records instead.
//! * **Rounds.** A node with a feedback edge (an iteration) gets a channel of its own,
//!   numbered after the exchanges, for what its workers tell each other between rounds.

use std::collections::HashSet;

use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;

use super::Pass;
use crate::diagnostics::Diagnostics;
use crate::ir::{
    Crossing, Exchange, InputDistribution, InputSplit, KeySpec, PartialResults, Partitioning,
    PhysicalPlan, Plan, SourceFormat, SourceOp, StateKind,
};

/// See the module documentation.
pub struct PhysicalPlanningPass;

impl Pass for PhysicalPlanningPass {
    fn name(&self) -> &'static str {
        "physical planning"
    }

    fn run(&self, plan: &mut Plan) -> Diagnostics {
        plan.physical = Some(physical_plan(plan));
        Diagnostics::new()
    }
}

/// The physical plan of `plan`.
fn physical_plan(plan: &Plan) -> PhysicalPlan {
    let inputs = input_split(plan);
    let mut exchanges = keyed_exchanges(plan);
    let fed = source_fed(plan, &exchanges);
    for (x, source_fed) in exchanges.iter_mut().zip(fed) {
        x.source_fed = source_fed;
        x.crossing = crossing(plan, inputs, x);
    }
    if let Some(window) = time_ordered(plan, inputs, &exchanges) {
        exchanges[window].crossing = Crossing::TimeOrdered;
    }
    let rounds = plan
        .graph
        .edge_indices()
        .filter(|&e| !plan.graph[e].kind.is_stream())
        .filter_map(|e| plan.graph.edge_endpoints(e).map(|(_, to)| to))
        .collect();
    PhysicalPlan {
        inputs,
        exchanges,
        rounds,
    }
}

/// How `plan`'s sources are read on several workers.
fn input_split(plan: &Plan) -> InputSplit {
    let g = &plan.graph;
    let unordered = g.node_weights().all(|n| !n.op.def().order_sensitive());
    let sources = || g.node_weights().filter_map(|n| n.op.payload::<SourceOp>());
    if sources().any(|s| s.follow) {
        // A followed file has no end to cut slices by: one worker reads it as it grows.
        return InputSplit::WorkerZero;
    }
    if sources().all(|s| matches!(s.format, SourceFormat::Nexmark(_))) {
        // Each worker generates its share of a Nexmark run, in the run's order of time,
        // so every worker's watermark holds for its own events (no slice scan is needed:
        // every share starts at the run's start).
        let exact = g
            .node_indices()
            .all(|n| g[n].op.def().exact_on_ordered_shares(plan, n));
        return if unordered || exact {
            InputSplit::Slices
        } else {
            InputSplit::WorkerZero
        };
    }
    if plan.rust.is_some() {
        // An inline pipeline's iterators are the calling thread's, so worker 0 reads them;
        // its files may be read in slices where order does not matter. (The event-time
        // slice scan decodes `.pipe` records only.)
        let iterators = sources().any(|s| matches!(s.format, SourceFormat::Iter(_)));
        return if !iterators && unordered {
            InputSplit::Slices
        } else {
            InputSplit::WorkerZero
        };
    }
    if unordered {
        InputSplit::Slices
    } else if sources().count() == 1
        && g.node_indices()
            .all(|n| g[n].op.def().exact_in_event_time_slices(plan, n))
    {
        InputSplit::EventTimeSlices
    } else {
        InputSplit::WorkerZero
    }
}

/// The exchanges of `plan`, in edge order, with records crossing one by one.
fn keyed_exchanges(plan: &Plan) -> Vec<Exchange> {
    let mut edges: Vec<_> = plan.graph.edge_references().collect();
    edges.sort_by_key(|e| e.id());
    edges
        .into_iter()
        .filter_map(|e| {
            let Partitioning::Hash(names) = &e.weight().partitioning else {
                return None;
            };
            let (to, to_port) = (e.target(), e.weight().port);
            let InputDistribution::ByKeyGroup(key) =
                plan.graph[to].op.def().input_distribution(to_port)
            else {
                return None;
            };
            let schema = plan.input_schema(to, to_port)?;
            let key = match &schema.rust {
                Some(_) => key.clone(),
                None => KeySpec::Fields(
                    names
                        .iter()
                        .map(|n| schema.index_of(n))
                        .collect::<Option<Vec<usize>>>()?,
                ),
            };
            Some(Exchange {
                from: e.source(),
                from_port: e.weight().from_port,
                to,
                to_port,
                key,
                crossing: Crossing::Records,
                source_fed: false,
            })
        })
        .collect()
}

/// For each exchange, whether only sources feed it: no exchange is upstream of it.
fn source_fed(plan: &Plan, exchanges: &[Exchange]) -> Vec<bool> {
    let mut behind = HashSet::new();
    let mut todo: Vec<NodeIndex> = exchanges.iter().map(|x| x.to).collect();
    while let Some(n) = todo.pop() {
        if behind.insert(n) {
            todo.extend(
                plan.graph
                    .neighbors_directed(n, petgraph::Direction::Outgoing),
            );
        }
    }
    exchanges
        .iter()
        .map(|x| !behind.contains(&x.from))
        .collect()
}

/// What crosses exchange `x`: partial results where the job reads in slices and they
/// merge exactly (a window's only where the reading worker's watermark judges lateness as
/// one worker would: event-time slices, straight from the source). An inline pipeline's
/// aggregates fold with the user's closures, which the combiners' generated code does
/// not call.
fn crossing(plan: &Plan, inputs: InputSplit, x: &Exchange) -> Crossing {
    if inputs == InputSplit::WorkerZero || plan.rust.is_some() {
        return Crossing::Records;
    }
    match plan.graph[x.to].op.def().partial_results(plan, x.to) {
        Some(PartialResults::PerKey) => Crossing::Folded(PartialResults::PerKey),
        Some(PartialResults::PerWindow)
            if inputs == InputSplit::EventTimeSlices && x.source_fed =>
        {
            Crossing::Folded(PartialResults::PerWindow)
        }
        _ => Crossing::Records,
    }
}

/// The exchange whose window runs in time order (`weir_runtime::parallel::finish_in_time_order`
/// explains how): the job reads its one event-time source in slices, and its only
/// exchange folds into a tumbling or sliding window, its only stateful operator.
fn time_ordered(plan: &Plan, inputs: InputSplit, exchanges: &[Exchange]) -> Option<usize> {
    let [x] = exchanges else {
        return None;
    };
    let alone = plan
        .graph
        .node_indices()
        .all(|n| n == x.to || plan.graph[n].state == StateKind::Stateless);
    let windowed = x.crossing == Crossing::Folded(PartialResults::PerWindow);
    (inputs == InputSplit::EventTimeSlices && alone && windowed).then_some(0)
}

#[cfg(test)]
mod tests {
    use crate::diagnostics::SourceFile;
    use crate::ir::{Crossing, InputSplit, PartialResults, PhysicalPlan};

    /// The physical plan of the job `steps` applies to `source b: B = csv(...)` + `options`.
    fn physical(options: &str, steps: &str) -> PhysicalPlan {
        let text = format!(
            "schema B {{ a: u64, p: i64, x: f64, ts: timestamp }}\n\
             source b: B = csv(\"b.csv\"){options};\n\
             b |> key_by(a) |> {steps} |> sink csv(\"o.csv\");"
        );
        let file = SourceFile::new("t.pipe", &text);
        let (mut plan, _) = crate::logical(&file).expect("checks");
        assert!(!crate::passes::optimize(&mut plan).has_errors());
        plan.physical().clone()
    }

    fn split(options: &str, steps: &str) -> InputSplit {
        physical(options, steps).inputs
    }

    const TIMED: &str = " with event_time(ts), watermark(bounded 1s)";

    /// How the job `program` (over Nexmark sources) is read on several workers.
    fn nexmark_split(program: &str) -> InputSplit {
        let file = SourceFile::new("t.pipe", program);
        let (mut plan, _) = crate::logical(&file).expect("checks");
        assert!(!crate::passes::optimize(&mut plan).has_errors());
        plan.physical().inputs
    }

    #[test]
    fn each_worker_generates_its_share_of_nexmark_where_the_results_stay_one_workers() {
        let bids = "source bid = nexmark(bid);\nsource person = nexmark(person);\n";
        let shares = [
            "bid |> filter(price > 10) |> sink csv(\"o.csv\");",
            "bid |> key_by(auction) |> window(sliding 10s every 2s) |> aggregate { n: count() } |> sink csv(\"o.csv\");",
            "let p = person |> key_by(id);\nbid |> key_by(bidder) |> window(tumbling 10s) |> join(p) |> sink csv(\"o.csv\");",
            "let p = person |> key_by(id);\nbid |> key_by(bidder) |> interval_join(p, between -1s and 1s) |> sink csv(\"o.csv\");",
            "bid |> key_by(bidder) |> window(tumbling 10s, processing_time) |> aggregate { n: count() } |> sink csv(\"o.csv\");",
        ];
        for program in shares {
            assert_eq!(
                nexmark_split(&format!("{bids}{program}")),
                InputSplit::Slices,
                "{program}"
            );
        }
        let worker_zero = [
            "bid |> key_by(bidder) |> window(session gap 10s) |> aggregate { n: count() } |> sink csv(\"o.csv\");",
            "bid |> key_by(bidder) |> distinct() |> sink csv(\"o.csv\");",
        ];
        for program in worker_zero {
            assert_eq!(
                nexmark_split(&format!("{bids}{program}")),
                InputSplit::WorkerZero,
                "{program}"
            );
        }
    }

    #[test]
    fn event_time_windows_read_in_slices_only_where_one_workers_lateness_survives() {
        let sliced = |options, steps| split(options, steps) == InputSplit::EventTimeSlices;
        assert_eq!(
            split("", "aggregate { n: count(), m: avg(p) }"),
            InputSplit::Slices
        );
        assert!(sliced(
            TIMED,
            "window(tumbling 10s) |> aggregate { n: count(), s: sum(p) }"
        ));
        assert!(sliced(
            TIMED,
            "window(sliding 10s every 5s) |> aggregate { hi: max(p), m: avg(p) }"
        ));
        let one_worker = [
            // Order decides the value, or a float's last bits.
            "window(tumbling 10s) |> aggregate { f: first(p) }",
            "window(tumbling 10s) |> aggregate { s: sum(x) }",
            // A late record would update a window that several workers fire later.
            "window(tumbling 10s, allowed_lateness 1s) |> aggregate { n: count() }",
            "window(session gap 5s) |> aggregate { n: count() }",
            "window(count 3) |> aggregate { n: count() }",
            "distinct()",
        ];
        for steps in one_worker {
            assert_eq!(split(TIMED, steps), InputSplit::WorkerZero, "{steps}");
        }
        assert_eq!(
            split(
                " with event_time(ts), watermark(bounded 1s, idle 5s)",
                "window(tumbling 10s) |> aggregate { n: count() }"
            ),
            InputSplit::WorkerZero,
            "idleness is processing time"
        );
    }

    #[test]
    fn records_fold_before_crossing_only_where_partial_results_merge_exactly() {
        let crossing = |options, steps| {
            let p = physical(options, steps);
            assert_eq!(p.exchanges.len(), 1, "{steps}");
            p.exchanges[0].crossing
        };
        assert_eq!(
            crossing("", "aggregate { n: count(), s: sum(p) }"),
            Crossing::Folded(PartialResults::PerKey)
        );
        // avg is a float: read in slices, but not folded.
        assert_eq!(
            crossing("", "aggregate { n: count(), m: avg(p) }"),
            Crossing::Records
        );
        // Read by worker 0 alone: nothing to fold.
        assert_eq!(crossing("", "aggregate { f: first(p) }"), Crossing::Records);
        // The window is the job's only stateful operator: it fires where it was read.
        assert_eq!(
            crossing(TIMED, "window(tumbling 10s) |> aggregate { n: count() }"),
            Crossing::TimeOrdered
        );
    }

    #[test]
    fn a_window_behind_another_exchange_folds_nothing() {
        let p = physical(
            TIMED,
            "window(tumbling 10s) |> aggregate { n: count() } |> key_by(n) \
             |> window(tumbling 10s) |> aggregate { m: count() }",
        );
        assert_eq!(p.inputs, InputSplit::EventTimeSlices);
        let crossings: Vec<(bool, Crossing)> = p
            .exchanges
            .iter()
            .map(|x| (x.source_fed, x.crossing))
            .collect();
        assert_eq!(
            crossings,
            [
                (true, Crossing::Folded(PartialResults::PerWindow)),
                (false, Crossing::Records)
            ]
        );
    }
}
