//! The stable identity of each part of a job whose state a savepoint holds, and the layout
//! of that state: what a savepoint is matched against when a job, perhaps edited since,
//! starts from it (`weir_runtime::checkpoint::savepoint`).
//!
//! A stateful operator named with a `uid` step is known by that name. Otherwise its
//! identity is its kind, its key, the sources its records come from
//! and the sinks its results reach: `window(auction) bids -> bids_per_5s, late_bids`. None
//! of that changes when an unrelated operator is added, removed or reordered (a `map`
//! before or after it, another branch, a statement moved), and node numbers, which do
//! change, play no part. Two operators with the same identity are told apart by their
//! order (`#2`). A sink's identity is its name. The layout is the operator as `weir
//! explain` describes it (window, aggregates, process state) and its key's types (a
//! sink's: its columns): a savepoint restores only into a part of the same layout.

use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::ir::{Partitioning, Plan, SinkOp, SourceOp, StateKind};
use petgraph::graph::NodeIndex;

/// One part of the job with state: its node, identity and layout.
pub(crate) struct Identity {
    pub(crate) node: usize,
    pub(crate) uid: String,
    pub(crate) layout: String,
}

/// The identities of the plan's stateful operators and sinks, in topological order.
pub(crate) fn identities(plan: &Plan) -> Vec<Identity> {
    let mut out: Vec<Identity> = Vec::new();
    for n in plan.topo_order() {
        let node = &plan.graph[n];
        if let Some(sink) = node.op.payload::<SinkOp>() {
            // What it has committed is rows of these columns.
            let columns: Vec<String> = node
                .schema
                .fields
                .iter()
                .map(|f| format!("{}: {}", f.name, f.ty))
                .collect();
            out.push(Identity {
                node: n.index(),
                uid: format!("sink {}", sink.name),
                layout: format!("rows of ({})", columns.join(", ")),
            });
            continue;
        }
        if node.state == StateKind::Stateless {
            continue;
        }
        let (key, key_types) = key_of(plan, n);
        let layout = format!("{} keyed by ({key_types})", node.op);
        if let Some(uid) = &node.uid {
            out.push(Identity {
                node: n.index(),
                uid: uid.clone(),
                layout,
            });
            continue;
        }
        let base = format!(
            "{}({key}) {} -> {}",
            node.op.kind(),
            names(plan, n, Direction::Incoming).join(", "),
            names(plan, n, Direction::Outgoing).join(", ")
        );
        let same = out
            .iter()
            .filter(|i| i.uid == base || i.uid.starts_with(&format!("{base} #")))
            .count();
        let uid = match same {
            0 => base,
            k => format!("{base} #{}", k + 1),
        };
        out.push(Identity {
            node: n.index(),
            uid,
            layout,
        });
    }
    out
}

/// The key of node `n`'s input (the fields of its hash edges) and their types.
fn key_of(plan: &Plan, n: NodeIndex) -> (String, String) {
    let mut keys = Vec::new();
    let mut types = Vec::new();
    for e in plan.graph.edges_directed(n, Direction::Incoming) {
        let Partitioning::Hash(fields) = &e.weight().partitioning else {
            continue;
        };
        let schema = &plan.graph[e.source()].schema;
        for f in fields {
            let ty = schema
                .index_of(f)
                .map_or_else(|| "?".to_string(), |i| schema.fields[i].ty.to_string());
            keys.push(f.clone());
            types.push(format!("{f}: {ty}"));
        }
    }
    (keys.join(", "), types.join(", "))
}

/// The names of the sources upstream of `n` (`Incoming`) or of the sinks downstream of it
/// (`Outgoing`), sorted.
fn names(plan: &Plan, n: NodeIndex, direction: Direction) -> Vec<String> {
    let mut seen = vec![n];
    let mut stack = vec![n];
    let mut found = Vec::new();
    while let Some(at) = stack.pop() {
        let node = &plan.graph[at];
        if let Some(s) = node.op.payload::<SourceOp>() {
            found.push(s.name.clone());
        }
        if let Some(s) = node.op.payload::<SinkOp>() {
            found.push(s.name.clone());
        }
        for next in plan.graph.neighbors_directed(at, direction) {
            if !seen.contains(&next) {
                seen.push(next);
                stack.push(next);
            }
        }
    }
    found.sort();
    found.dedup();
    found
}
