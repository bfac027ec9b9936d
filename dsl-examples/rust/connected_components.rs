//! Connected components inline: the twin of `dsl-examples/connected_components.pipe`.
//! Each vertex's value is the least vertex id it has heard of; a vertex whose value falls
//! tells its neighbours, until no value changes in a round.
//!
//!   cargo run --example connected_components_inline

use weir::iteration::{Combine, Round, Vertex, VertexProgram};

/// An edge of the graph (read both ways).
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Edge {
    pub src: u64,
    pub dst: u64,
}

/// A vertex's component, named by its least vertex id.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Component {
    pub node: u64,
    pub component: u64,
}

/// Label propagation: the totals count the vertices whose label fell in a round.
#[derive(Debug, Clone, Copy)]
pub struct ConnectedComponents;

impl VertexProgram for ConnectedComponents {
    type Value = u64;
    type Message = u64;
    type Edge = ();
    type Totals = u64;
    type Output = Component;
    const MESSAGES: Combine = Combine::Min;

    fn init(&self, vertex: &Vertex) -> u64 {
        vertex.id
    }

    fn round(&self, component: &mut u64, at: &mut Round<'_, Self>) {
        if at.round() == 0 {
            at.send(*component);
        } else if at.incoming() < *component {
            *component = at.incoming();
            *at.totals() += 1;
            at.send(*component);
        }
    }

    fn until(&self, round: u64, changed: &u64) -> bool {
        round > 0 && *changed == 0
    }

    fn end(&self, component: &u64, vertex: &Vertex) -> Option<Component> {
        Some(Component {
            node: vertex.id,
            component: *component,
        })
    }
}

/// Every vertex's component, on `workers` workers.
pub fn pipeline_on(workers: usize) -> Result<Vec<Component>, weir::JobError> {
    weir::stream! {
        source csv::<Edge>("dsl-examples/data/graph_edges.csv")
        |> iterate(undirected_graph(|e: &Edge| (e.src, e.dst)), rounds(1_000_000), ConnectedComponents)
        |> collect()
    }
    .run_with(weir::JobConfig::default().parallelism(workers))
}

/// Every vertex's component.
pub fn pipeline() -> Result<Vec<Component>, weir::JobError> {
    pipeline_on(1)
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    println!("node,component");
    for c in pipeline()? {
        println!("{},{}", c.node, c.component);
    }
    Ok(())
}
