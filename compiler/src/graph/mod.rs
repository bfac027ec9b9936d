//! Graph inspection: one view of a plan at a stage, written as DOT, Mermaid, JSON, an SVG
//! picture or an HTML page by one [`GraphWriter`] trait.

mod dot;
#[cfg(feature = "cli")]
mod html;
mod json;
mod mermaid;
mod short_label;
#[cfg(feature = "cli")]
mod svg;

pub use dot::Dot;
#[cfg(feature = "cli")]
pub use html::Html;
pub use json::Json;
pub use mermaid::Mermaid;
pub use short_label::short_label;
#[cfg(feature = "cli")]
pub use svg::Svg;

use serde::Serialize;

use crate::ir::{Partitioning, Plan};

/// Which stage of compilation a graph shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Stage {
    /// As checked: operators and streams.
    Logical,
    /// After the passes: chains as clusters, with memory demands.
    Optimized,
}

/// Writes a [`GraphView`] in one format.
pub trait GraphWriter {
    /// The graph as text.
    fn write(&self, view: &GraphView) -> String;
}

/// What every format shows of a plan.
#[derive(Debug, Clone, Serialize)]
pub struct GraphView {
    /// The pipeline's name.
    pub name: String,
    /// `logical` or `optimized`.
    pub stage: &'static str,
    /// Operators.
    pub nodes: Vec<NodeView>,
    /// Streams.
    pub edges: Vec<EdgeView>,
    /// Chains (optimized stage only).
    pub chains: Vec<ChainView>,
}

/// One operator.
#[derive(Debug, Clone, Serialize)]
pub struct NodeView {
    /// Its index.
    pub id: usize,
    /// `filter`, `map`, ...
    pub kind: &'static str,
    /// One line saying what it does.
    pub detail: String,
    /// The schema it emits.
    pub schema: String,
    /// `stateless` or `keyed`.
    pub state: &'static str,
    /// `file:line:col`.
    pub location: String,
    /// Its chain (optimized stage only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<usize>,
    /// Weight and minimum pages (optimized stage, stateful operators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<weir_runtime::memory::MemoryDemand>,
}

/// One stream, from an output port to an input port.
#[derive(Debug, Clone, Serialize)]
pub struct EdgeView {
    /// Producer.
    pub from: usize,
    /// The producer's output port (1: a side output, such as a window's late records).
    pub from_port: usize,
    /// Consumer.
    pub to: usize,
    /// The consumer's input port (a union's inputs in order; a join's left 0, right 1).
    pub to_port: usize,
    /// `forward` or `hash(k, ...)`.
    pub partitioning: String,
    /// A feedback edge: an iteration's rounds, each going into the next.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub feedback: bool,
}

impl NodeView {
    /// The node's label in drawings (Mermaid, DOT): what it does, wrapped, and the line
    /// and column it is written at, which tells two operators of one kind apart (two joins
    /// of one stream). The schema is left to the JSON view.
    pub fn drawing_label(&self) -> Vec<String> {
        let mut lines = crate::explain::wrap(&self.detail, 60);
        // `file:line:col`: the line and column (a Windows path has a colon of its own).
        let mut parts = self.location.rsplitn(3, ':');
        let place = match (parts.next(), parts.next()) {
            (Some(col), Some(line)) => format!("{line}:{col}"),
            _ => self.location.clone(),
        };
        lines.push(format!("at {place}"));
        lines
    }
}

impl EdgeView {
    /// The edge's label in drawings: its partitioning, with its ports where they say
    /// something (a side output, a second input).
    pub fn label(&self) -> String {
        if self.feedback {
            return "next round".into();
        }
        let mut label = self.partitioning.clone();
        if self.from_port != 0 {
            label = format!("out {}: {label}", self.from_port);
        }
        if self.to_port != 0 {
            label.push_str(&format!(" -> in {}", self.to_port));
        }
        label
    }
}

/// One chain.
#[derive(Debug, Clone, Serialize)]
pub struct ChainView {
    /// Its number.
    pub id: usize,
    /// Its nodes, head first.
    pub nodes: Vec<usize>,
}

impl GraphView {
    /// The view of `plan` at `stage`.
    pub fn new(plan: &Plan, stage: Stage) -> Self {
        let optimized = stage == Stage::Optimized;
        let nodes = plan
            .graph
            .node_indices()
            .map(|n| {
                let node = &plan.graph[n];
                NodeView {
                    id: n.index(),
                    kind: node.op.kind(),
                    detail: node.op.to_string(),
                    schema: node.schema.describe(),
                    state: node.state.name(),
                    location: node.location.clone(),
                    chain: node.chain.filter(|_| optimized),
                    memory: node.memory.filter(|_| optimized),
                }
            })
            .collect();
        let edges = plan
            .graph
            .edge_indices()
            .map(|e| {
                let (a, b) = plan.graph.edge_endpoints(e).expect("edge exists");
                let edge = &plan.graph[e];
                EdgeView {
                    from: a.index(),
                    from_port: edge.from_port,
                    to: b.index(),
                    to_port: edge.port,
                    partitioning: match &edge.partitioning {
                        Partitioning::Forward => "forward".into(),
                        Partitioning::Hash(k) => format!("hash({})", k.join(", ")),
                    },
                    feedback: !edge.kind.is_stream(),
                }
            })
            .collect();
        let chains = if optimized {
            plan.chains
                .iter()
                .map(|c| ChainView {
                    id: c.id,
                    nodes: c.nodes.iter().map(|n| n.index()).collect(),
                })
                .collect()
        } else {
            Vec::new()
        };
        GraphView {
            name: plan.name.clone(),
            stage: if optimized { "optimized" } else { "logical" },
            nodes,
            edges,
            chains,
        }
    }

    /// The nodes not in any chain (all of them at the logical stage).
    fn unchained(&self) -> impl Iterator<Item = &NodeView> {
        self.nodes.iter().filter(|n| n.chain.is_none())
    }
}
