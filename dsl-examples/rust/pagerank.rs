//! PageRank inline: the twin of `dsl-examples/pagerank.pipe`. The program is a type of
//! the program's own implementing `VertexProgram`, as a Gelly compute function is a
//! class: each vertex's value is its rank; a round reads the rank sent to it, and sends
//! its own along its out-edges; the totals are the rank of vertices without out-edges
//! (spread over all) and the round's change, which ends the rounds.
//!
//!   cargo run --example pagerank_inline

use weir::iteration::{Combine, Round, Totals, Vertex, VertexProgram};

/// An edge of the graph.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Edge {
    pub src: u64,
    pub dst: u64,
}

/// A vertex's rank.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Rank {
    pub node: u64,
    pub rank: f64,
}

/// PageRank with damping 0.85, until the ranks change by less than 1e-10 in a round.
#[derive(Debug, Clone, Copy)]
pub struct PageRank;

/// What a round adds up over the vertices.
#[derive(Debug, Clone, Default, PartialEq, weir::StateValue)]
pub struct RankTotals {
    /// The rank of vertices without out-edges.
    pub dangling: f64,
    /// How much the ranks changed.
    pub change: f64,
}

impl Totals for RankTotals {
    fn merge(&mut self, part: &Self) {
        self.dangling += part.dangling;
        self.change += part.change;
    }
}

impl VertexProgram for PageRank {
    type Value = f64;
    type Message = f64;
    type Edge = ();
    type Totals = RankTotals;
    type Output = Rank;
    const MESSAGES: Combine = Combine::Sum;

    fn init(&self, vertex: &Vertex) -> f64 {
        1.0 / vertex.vertices as f64
    }

    fn round(&self, rank: &mut f64, at: &mut Round<'_, Self>) {
        let n = at.vertices() as f64;
        if at.round() > 0 {
            let next = 0.15 / n + 0.85 * (at.incoming() + at.last().dangling / n);
            at.totals().change += (next - *rank).abs();
            *rank = next;
        }
        if at.out_degree() == 0 {
            at.totals().dangling += *rank;
        } else {
            let share = *rank / at.out_degree() as f64;
            at.send(share);
        }
    }

    fn until(&self, round: u64, totals: &RankTotals) -> bool {
        round > 0 && totals.change < 1e-10
    }

    fn end(&self, rank: &f64, vertex: &Vertex) -> Option<Rank> {
        Some(Rank {
            node: vertex.id,
            rank: *rank,
        })
    }
}

/// Every vertex's rank, on `workers` workers.
pub fn pipeline_on(workers: usize) -> Result<Vec<Rank>, weir::JobError> {
    weir::stream! {
        source csv::<Edge>("dsl-examples/data/graph_edges.csv")
        |> iterate(graph(|e: &Edge| (e.src, e.dst)), rounds(200), PageRank)
        |> collect()
    }
    .run_with(weir::JobConfig::default().parallelism(workers))
}

/// Every vertex's rank.
pub fn pipeline() -> Result<Vec<Rank>, weir::JobError> {
    pipeline_on(1)
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    println!("node,rank");
    for r in pipeline()? {
        println!("{},{}", r.node, r.rank);
    }
    Ok(())
}
