//! Shortest paths inline: the twin of `dsl-examples/shortest_paths.pipe`. The edges carry
//! their weight (`graph(|e| (e.src, e.dst, e.weight))`); each vertex's value is its
//! distance from vertex 0 so far, and a vertex whose distance falls offers each
//! neighbour its distance plus the edge's weight, until no distance changes.
//!
//!   cargo run --example shortest_paths_inline

use weir::iteration::{Combine, Round, Vertex, VertexProgram};

/// A weighted directed edge.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Edge {
    pub src: u64,
    pub dst: u64,
    pub weight: f64,
}

/// A vertex reachable from vertex 0, and how far it is.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Distance {
    pub node: u64,
    pub distance: f64,
}

/// Bellman-Ford by rounds, from vertex 0; the totals count the distances that fell.
#[derive(Debug, Clone, Copy)]
pub struct ShortestPaths;

impl VertexProgram for ShortestPaths {
    type Value = f64;
    type Message = f64;
    type Edge = f64;
    type Totals = u64;
    type Output = Distance;
    const MESSAGES: Combine = Combine::Min;

    fn init(&self, vertex: &Vertex) -> f64 {
        if vertex.id == 0 {
            0.0
        } else {
            f64::INFINITY
        }
    }

    fn round(&self, distance: &mut f64, at: &mut Round<'_, Self>) {
        if at.round() == 0 {
            if at.id() == 0 {
                let d = *distance;
                at.send_each(|weight| d + weight);
            }
        } else if at.incoming() < *distance {
            *distance = at.incoming();
            *at.totals() += 1;
            let d = *distance;
            at.send_each(|weight| d + weight);
        }
    }

    fn until(&self, round: u64, changed: &u64) -> bool {
        round > 0 && *changed == 0
    }

    fn end(&self, distance: &f64, vertex: &Vertex) -> Option<Distance> {
        (*distance < f64::INFINITY).then_some(Distance {
            node: vertex.id,
            distance: *distance,
        })
    }
}

/// The distance of every vertex reachable from vertex 0, on `workers` workers.
pub fn pipeline_on(workers: usize) -> Result<Vec<Distance>, weir::JobError> {
    weir::stream! {
        source csv::<Edge>("dsl-examples/data/weighted_edges.csv")
        |> iterate(graph(|e: &Edge| (e.src, e.dst, e.weight)), rounds(1_000_000), ShortestPaths)
        |> collect()
    }
    .run_with(weir::JobConfig::default().parallelism(workers))
}

/// The distance of every vertex reachable from vertex 0.
pub fn pipeline() -> Result<Vec<Distance>, weir::JobError> {
    pipeline_on(1)
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    println!("node,distance");
    for d in pipeline()? {
        println!("{},{}", d.node, d.distance);
    }
    Ok(())
}
