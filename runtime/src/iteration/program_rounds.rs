//! The rounds of a `stream!` iteration: its program's methods called over the state the
//! `.pipe` rounds keep (vertex values and messages in page runs, indexed by vertex
//! number; records in pool pages), with the same order of work, so that the two
//! front-ends give the same numbers. On several workers a graph's messages to other
//! workers' vertices cross after each round, and the totals are merged in worker order.

use std::marker::PhantomData;

use super::program::{
    EdgeValue, GraphEdge, MessageValue, RecordsProgram, Round, Totals, Vertex, VertexProgram,
};
use super::{EncodedRows, Graph, Messages, RoundChannel, WordRows};
use crate::memory::PageRun;
use crate::{JobError, Layout};

/// The phase in which workers trade a round's totals (after the graph's own phases).
const TOTALS: u8 = 7;

/// Words in a row of a graph program's edges: the two ends and what the edge carries.
pub fn edge_width<P: VertexProgram>() -> usize {
    2 + <P::Edge as EdgeValue>::WORDS
}

/// Keeps `edge` (what the step's `graph(|e| ...)` closure made of a record).
#[inline]
pub fn push_edge<G: GraphEdge>(rows: &mut WordRows, edge: &G) -> Result<(), JobError> {
    let (src, dst) = edge.ends();
    match edge.value().word() {
        Some(w) => rows.push(&[src, dst, w]),
        None => rows.push(&[src, dst]),
    }
}

/// A graph program's vertices after its last round: the graph and each vertex's value,
/// for [`VertexRounds::end`].
pub struct VertexRounds<P: VertexProgram> {
    graph: Graph,
    values: PageRun,
    rounds: u64,
    program: PhantomData<fn() -> P>,
}

impl<P: VertexProgram> VertexRounds<P> {
    /// This worker's vertices.
    pub fn vertices(&self) -> usize {
        self.graph.vertices()
    }

    /// This worker's edges.
    pub fn edges(&self) -> usize {
        self.graph.edges()
    }

    /// Rounds run.
    pub fn rounds(&self) -> u64 {
        self.rounds
    }

    /// What vertex `v` (of this worker's, from 0) emits.
    pub fn end(&self, program: &P, v: usize) -> Option<P::Output> {
        let value = &self.values.slice::<P::Value>()[v];
        program.end(value, &vertex(&self.graph, v))
    }
}

fn vertex(graph: &Graph, v: usize) -> Vertex {
    let offsets = graph.offsets();
    Vertex {
        id: graph.ids()[v],
        out_degree: offsets[v + 1] - offsets[v],
        vertices: graph.all_vertices(),
    }
}

/// Builds the graph of `edges` (each both ways when `undirected`; with the other
/// workers over `channel` when there are several) and runs `program`'s rounds over it:
/// at most `rounds`, fewer when its `until` says so.
pub fn run_vertex_program<P: VertexProgram>(
    program: &P,
    edges: &mut WordRows,
    undirected: bool,
    rounds: u64,
    mut channel: Option<&mut dyn RoundChannel>,
) -> Result<VertexRounds<P>, JobError> {
    fits_a_page_run::<P>()?;
    let memory = edges.memory().clone();
    let graph = match channel.as_deref_mut() {
        Some(c) => Graph::build_on_workers(edges, undirected, c)?,
        None => Graph::build(edges, undirected)?,
    };
    let n = graph.vertices();
    let mut values = PageRun::of::<P::Value>(&memory, n)?;
    for (v, value) in values.slice_mut::<P::Value>()[..n].iter_mut().enumerate() {
        *value = program.init(&vertex(&graph, v));
    }
    let none = P::Message::none(P::MESSAGES);
    let mut messages = Messages::<P::Message>::new(&memory, graph.targets_len(), none)?;
    let mut last = P::Totals::default();
    let mut round = 0;
    loop {
        let mut totals = one_round(program, &graph, &mut values, &mut messages, &last, round);
        if let Some(c) = channel.as_deref_mut() {
            let (_, out) = messages.split();
            graph.exchange_messages(c, round, out, none, |slot, x| {
                P::Message::combine(P::MESSAGES, slot, x)
            })?;
            totals = merged_over_workers(c, round, &totals)?;
        }
        let stop = program.until(round, &totals);
        last = totals;
        round += 1;
        if stop || round >= rounds {
            break;
        }
        messages.next_round();
    }
    Ok(VertexRounds {
        graph,
        values,
        rounds: round,
        program: PhantomData,
    })
}

/// Whether `P`'s vertex values can be kept in a page run (an array of 64-bit words): a
/// value of no bytes (`()`) or aligned past 8 bytes (`u128`) cannot.
fn fits_a_page_run<P: VertexProgram>() -> Result<(), JobError> {
    let (size, align) = (
        std::mem::size_of::<P::Value>(),
        std::mem::align_of::<P::Value>(),
    );
    if size == 0 || align > 8 {
        return Err(JobError::Config(format!(
            "the vertex program `{}` keeps a value of {size} bytes aligned to {align} per vertex; a vertex value is a number (`f64`, `u64`, `u32`, `u8`, ...) or an array of numbers",
            std::any::type_name::<P>()
        )));
    }
    Ok(())
}

/// Every vertex of this worker in one round; the round's totals.
fn one_round<P: VertexProgram>(
    program: &P,
    graph: &Graph,
    values: &mut PageRun,
    messages: &mut Messages<P::Message>,
    last: &P::Totals,
    round: u64,
) -> P::Totals {
    let n = graph.vertices();
    let (ids, offsets, targets) = (graph.ids(), graph.offsets(), graph.targets());
    let column = (<P::Edge as EdgeValue>::WORDS > 0).then(|| graph.column(0));
    let all = graph.all_vertices();
    let values = &mut values.slice_mut::<P::Value>()[..n];
    let (incoming, out) = messages.split();
    let mut totals = P::Totals::default();
    for v in 0..n {
        let (start, end) = (offsets[v] as usize, offsets[v + 1] as usize);
        let mut at = Round::<P> {
            round,
            vertex: Vertex {
                id: ids[v],
                out_degree: (end - start) as u64,
                vertices: all,
            },
            incoming: incoming[v],
            last,
            totals: &mut totals,
            targets: &targets[start..end],
            edge_words: column.map(|c| &c[start..end]),
            out: &mut *out,
        };
        program.round(&mut values[v], &mut at);
    }
    totals
}

/// The totals of every worker's part, merged in worker order (the same on each).
fn merged_over_workers<T: Totals>(
    channel: &mut dyn RoundChannel,
    round: u64,
    part: &T,
) -> Result<T, JobError> {
    let mut bytes = Vec::new();
    part.put(&mut bytes);
    let mut all = T::default();
    for worker_part in channel.all_gather(TOTALS, round, &bytes)? {
        all.merge(&T::take(&mut worker_part.as_slice())?);
    }
    Ok(all)
}

/// A records program's model after its last round, and the rounds run.
pub struct RecordsRounds<M> {
    /// The model.
    pub model: M,
    /// Rounds run.
    pub rounds: u64,
}

/// Runs `program`'s rounds over `records` (each round reads them all, in arrival
/// order): at most `rounds`, fewer when its `until` says so.
pub fn run_records_program<R: Layout, P: RecordsProgram<R>>(
    program: &P,
    records: &mut EncodedRows,
    rounds: u64,
) -> Result<RecordsRounds<P::Model>, JobError> {
    let mut model = program.model();
    let mut round = 0;
    loop {
        let mut totals = P::Totals::default();
        let mut position = 0;
        records.visit(|bytes| {
            program.round(&R::decode(bytes), position, round, &model, &mut totals);
            position += 1;
            Ok(())
        })?;
        program.round_end(round, &mut model, &totals);
        let stop = program.until(round, &model, &totals);
        round += 1;
        if stop || round >= rounds {
            break;
        }
    }
    Ok(RecordsRounds {
        model,
        rounds: round,
    })
}
