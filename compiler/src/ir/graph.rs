//! The graph itself: nodes are operators with their output schema, edges are streams with
//! their partitioning. One struct serves every stage; passes fill in chains and budgets.

use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use serde::Serialize;
use weir_runtime::memory::MemoryDemand;

use super::{Operator, Schema};
use crate::diagnostics::SourceFile;
use crate::diagnostics::Span;

/// Whether a node keeps state between records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StateKind {
    /// No state.
    Stateless,
    /// State per key, in pool pages.
    Keyed,
    /// An iteration's records and the state of its rounds, in pool pages.
    Iteration,
}

impl StateKind {
    /// How plans and graphs name it.
    pub fn name(self) -> &'static str {
        match self {
            StateKind::Stateless => "stateless",
            StateKind::Keyed => "keyed",
            StateKind::Iteration => "iteration",
        }
    }
}

/// One operator in the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What it does.
    pub op: Operator,
    /// The schema of the records it emits (for a sink: of those it writes).
    pub schema: Arc<Schema>,
    /// Whether it keeps state.
    pub state: StateKind,
    /// Where it is written: a byte range of the `.pipe` file; for a `stream!` node,
    /// `i..i` with `i` the index of the step's tokens in the inline front-end's span table.
    pub span: Span,
    /// `file:line:col` of `span`, for messages at run time.
    pub location: String,
    /// The chain it was fused into (set by the chaining pass).
    pub chain: Option<usize>,
    /// What it asks of memory (set by the memory pass, stateful nodes only).
    pub memory: Option<MemoryDemand>,
    /// The name a `uid` step gave it: its identity in savepoints.
    pub uid: Option<String>,
}

/// How records travel along an edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Partitioning {
    /// To the same worker, in order: can be fused into a chain.
    Forward,
    /// To the worker that owns the record's key (the named fields).
    Hash(Vec<String>),
}

/// What an edge is to the graph's order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum EdgeKind {
    /// Records flow downstream: the graph without feedback edges is acyclic, and is run
    /// in topological order.
    #[default]
    Stream,
    /// Records go back upstream, closing a loop (an iteration's feedback, as timely's
    /// `feedback` and Flink's `closeWith`): left out of the order, and of a node's inputs
    /// and outputs. `iterate` writes one from its node to itself: each round's state goes
    /// into the next round.
    Feedback,
}

impl EdgeKind {
    /// Whether this is an ordinary downstream edge (not written in graph JSON).
    pub fn is_stream(&self) -> bool {
        *self == EdgeKind::Stream
    }
}

/// A stream from one node's output port to another's input port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// Downstream, or feedback.
    #[serde(skip_serializing_if = "EdgeKind::is_stream")]
    pub kind: EdgeKind,
    /// How records are routed.
    pub partitioning: Partitioning,
    /// Which output of the source this is: 0 for results, 1 for a side output (a window's
    /// late records).
    pub from_port: usize,
    /// Which input of the target this is (0 for single-input operators; a union's inputs
    /// are numbered in the order written, a join's left is 0 and right 1).
    pub port: usize,
}

/// The schema of the records leaving output `port` of node `n` of `graph`.
pub fn output_schema(graph: &DiGraph<Node, Edge>, n: NodeIndex, port: usize) -> Arc<Schema> {
    graph[n].op.def().output_schema(graph, n, port)
}

/// The schema of the records arriving at input `port` of node `n` of `graph`, if connected.
pub fn input_schema(graph: &DiGraph<Node, Edge>, n: NodeIndex, port: usize) -> Option<Arc<Schema>> {
    graph
        .edges_directed(n, Direction::Incoming)
        .find(|e| e.weight().kind.is_stream() && e.weight().port == port)
        .map(|e| output_schema(graph, e.source(), e.weight().from_port))
}

/// A chain: nodes fused into one loop, head first, joined by forward edges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chain {
    /// The chain's number.
    pub id: usize,
    /// Its nodes in record order; the first is the head.
    pub nodes: Vec<NodeIndex>,
}

/// A pipeline as an operator graph, from checking through code generation.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The pipeline's name (the file stem).
    pub name: String,
    /// The source text it came from.
    pub file: SourceFile,
    /// The graph.
    pub graph: DiGraph<Node, Edge>,
    /// Chains, in topological order of their heads (empty before the chaining pass).
    pub chains: Vec<Chain>,
    /// How it runs on several workers (`None` before the physical planning pass).
    pub physical: Option<super::PhysicalPlan>,
    /// For an inline pipeline: the user's Rust code and the types standing for its types.
    pub rust: Option<super::RustCode>,
}

impl Plan {
    /// Every file the pipeline reads or writes, as written in it, with who uses it
    /// (`source `bids``, `the dead-letter file of source `bids``, `sink `out``).
    pub fn file_uses(&self) -> Vec<(String, String)> {
        self.graph
            .node_weights()
            .flat_map(|node| node.op.def().files())
            .collect()
    }

    /// The nodes feeding `n`, in port order (a feedback edge is the node's own business,
    /// not an input records arrive on).
    pub fn inputs(&self, n: NodeIndex) -> Vec<(NodeIndex, &Edge)> {
        let mut v: Vec<_> = self
            .graph
            .edges_directed(n, Direction::Incoming)
            .filter(|e| e.weight().kind.is_stream())
            .map(|e| (e.source(), e.weight()))
            .collect();
        v.sort_by_key(|(_, e)| e.port);
        v
    }

    /// The nodes `n` feeds from output `port`, in the order the edges were made.
    pub fn outputs(&self, n: NodeIndex, port: usize) -> Vec<(NodeIndex, &Edge)> {
        let mut all = self.all_outputs(n);
        all.retain(|(_, e)| e.from_port == port);
        all
    }

    /// The nodes `n` feeds from any output, in the order the edges were made (feedback
    /// edges left out).
    pub fn all_outputs(&self, n: NodeIndex) -> Vec<(NodeIndex, &Edge)> {
        let mut v: Vec<_> = self
            .graph
            .edges_directed(n, Direction::Outgoing)
            .filter(|e| e.weight().kind.is_stream())
            .map(|e| (e.target(), e.weight(), e.id()))
            .collect();
        v.sort_by_key(|(_, _, id)| *id);
        v.into_iter().map(|(t, w, _)| (t, w)).collect()
    }

    /// The schema of the records leaving output `port` of `n`.
    pub fn output_schema(&self, n: NodeIndex, port: usize) -> Arc<Schema> {
        output_schema(&self.graph, n, port)
    }

    /// The schema of the records arriving at input `port` of `n`, if connected.
    pub fn input_schema(&self, n: NodeIndex, port: usize) -> Option<Arc<Schema>> {
        input_schema(&self.graph, n, port)
    }

    /// Nodes in topological order, taking the lowest-numbered ready node first, so the
    /// order (and with it chain numbers and budgets) follows the program text. Feedback
    /// edges are left out; a cycle of stream edges is an error naming its nodes (no
    /// front-end writes one, so it is an internal error: [`crate::passes::optimize`]
    /// reports it before anything else orders the graph).
    pub fn try_topo_order(&self) -> Result<Vec<NodeIndex>, GraphCycle> {
        let streams = |n: NodeIndex, dir: Direction| {
            self.graph
                .edges_directed(n, dir)
                .filter(|e| e.weight().kind == EdgeKind::Stream)
        };
        let mut waiting: Vec<usize> = self
            .graph
            .node_indices()
            .map(|n| streams(n, Direction::Incoming).count())
            .collect();
        let mut ready: std::collections::BTreeSet<NodeIndex> = self
            .graph
            .node_indices()
            .filter(|n| waiting[n.index()] == 0)
            .collect();
        let mut order = Vec::with_capacity(waiting.len());
        while let Some(n) = ready.pop_first() {
            order.push(n);
            for e in streams(n, Direction::Outgoing) {
                let t = e.target();
                waiting[t.index()] -= 1;
                if waiting[t.index()] == 0 {
                    ready.insert(t);
                }
            }
        }
        if order.len() == waiting.len() {
            return Ok(order);
        }
        Err(GraphCycle::in_plan(self, &waiting))
    }

    /// The physical plan, once `passes::PhysicalPlanningPass` has made it.
    pub fn physical(&self) -> &super::PhysicalPlan {
        self.physical
            .as_ref()
            .expect("the physical planning pass runs before anything reads its plan")
    }

    /// [`Plan::try_topo_order`], for a plan the passes have checked.
    pub fn topo_order(&self) -> Vec<NodeIndex> {
        self.try_topo_order()
            .unwrap_or_else(|cycle| panic!("{cycle} (passes::optimize reports this first)"))
    }

    /// Stateful nodes in topological order: the order of memory budgets in a job.
    pub fn stateful_nodes(&self) -> Vec<NodeIndex> {
        self.topo_order()
            .into_iter()
            .filter(|&n| self.graph[n].state != StateKind::Stateless)
            .collect()
    }
}

/// A cycle of stream edges in a plan: the nodes on it, in order around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphCycle {
    /// The nodes on the cycle.
    pub nodes: Vec<NodeIndex>,
    /// Each as `kind at file:line:col`.
    pub names: Vec<String>,
}

impl GraphCycle {
    /// The cycle among the nodes the ordering could not place (`waiting` above zero): from
    /// one of them, follow stream edges to nodes still waiting until one repeats.
    fn in_plan(plan: &Plan, waiting: &[usize]) -> GraphCycle {
        let stuck = |n: NodeIndex| waiting[n.index()] > 0;
        let Some(start) = plan.graph.node_indices().find(|&n| stuck(n)) else {
            return GraphCycle {
                nodes: Vec::new(),
                names: Vec::new(),
            };
        };
        // Walking backwards along stuck inputs never ends at a source, so it must repeat.
        let mut path = vec![start];
        let cycle_start = loop {
            let here = *path.last().expect("not empty");
            let back = plan
                .graph
                .edges_directed(here, Direction::Incoming)
                .filter(|e| e.weight().kind == EdgeKind::Stream)
                .map(|e| e.source())
                .find(|&up| stuck(up))
                .expect("a node still waiting has an input still waiting");
            if let Some(at) = path.iter().position(|&n| n == back) {
                break at;
            }
            path.push(back);
        };
        // Walked against the flow: turn it round, starting at the node written first.
        let mut nodes: Vec<NodeIndex> = path[cycle_start..].to_vec();
        nodes.reverse();
        if let Some(first) = (0..nodes.len()).min_by_key(|&i| nodes[i]) {
            nodes.rotate_left(first);
        }
        let names = nodes
            .iter()
            .map(|&n| format!("{} at {}", plan.graph[n].op.kind(), plan.graph[n].location))
            .collect();
        GraphCycle { nodes, names }
    }
}

impl std::fmt::Display for GraphCycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "internal error: the operator graph has a cycle without a feedback edge: {}",
            self.names.join(" -> ")
        )
    }
}
