//! A graph iteration's graph: its edges in compressed sparse rows, built once the input
//! has ended (on several workers, each worker's part: `partitioned.rs`).

use super::numbering::Numbering;
use super::rows::{WordRows, GRAPH_IN_MEMORY};
use crate::memory::PageRun;
use crate::JobError;

/// The graph of a graph iteration, in compressed sparse rows: the vertices this worker
/// runs numbered 0..n in the order of their ids, each one's out-edges together (in
/// arrival order), their targets as 32-bit vertex numbers, and each edge column beside
/// them. On several workers, targets past n are other workers' vertices, whose messages
/// cross to them after each round (`remote`). All of it in page runs under the operator's
/// budget.
#[derive(Debug)]
pub struct Graph {
    pub(super) ids: PageRun,
    pub(super) offsets: PageRun,
    pub(super) targets: PageRun,
    pub(super) columns: Vec<PageRun>,
    /// Vertices this worker runs.
    pub(super) vertices: usize,
    /// Per target number past `vertices`: the worker running it, and its number there
    /// (`[u32; 2]`s, `remote_len` of them).
    pub(super) remote: PageRun,
    pub(super) remote_len: usize,
    /// Vertices over all workers.
    pub(super) all_vertices: u64,
    pub(super) edges: usize,
}

impl Graph {
    /// Builds the graph of `edges` (each both ways when `undirected`) on one worker,
    /// giving the rows' pages back.
    pub fn build(edges: &mut WordRows, undirected: bool) -> Result<Self, JobError> {
        let memory = edges.memory().clone();
        let numbering = Numbering::of(edges, None, &memory, |_| true)?;
        numbering.renumber(edges);
        let vertices = numbering.owned();
        let graph = compressed_rows(edges, numbering.into_ids(), vertices, undirected)?;
        edges.clear();
        Ok(Graph {
            all_vertices: vertices as u64,
            ..graph
        })
    }

    /// Vertices this worker runs.
    #[inline]
    pub fn vertices(&self) -> usize {
        self.vertices
    }

    /// Vertex numbers a message may go to: this worker's, then other workers' it sends to.
    #[inline]
    pub fn targets_len(&self) -> usize {
        self.vertices + self.remote_len
    }

    /// Vertices over all workers.
    #[inline]
    pub fn all_vertices(&self) -> u64 {
        self.all_vertices
    }

    /// Edges this worker holds (twice the edges read, for an undirected graph).
    #[inline]
    pub fn edges(&self) -> usize {
        self.edges
    }

    /// Each vertex's id, by number (ascending).
    #[inline]
    pub fn ids(&self) -> &[u64] {
        &self.ids.slice::<u64>()[..self.vertices]
    }

    /// Where each vertex's out-edges start, by number, and where the last ends.
    #[inline]
    pub fn offsets(&self) -> &[u64] {
        &self.offsets.slice::<u64>()[..self.vertices + 1]
    }

    /// Each edge's target vertex number.
    #[inline]
    pub fn targets(&self) -> &[u32] {
        &self.targets.slice::<u32>()[..self.edges]
    }

    /// Each edge's column `c`, as words.
    #[inline]
    pub fn column(&self, c: usize) -> &[u64] {
        &self.columns[c].slice::<u64>()[..self.edges]
    }
}

/// The compressed sparse rows of `edges`, whose ends are vertex numbers (sources below
/// `vertices`), each both ways when `undirected`.
pub(super) fn compressed_rows(
    edges: &WordRows,
    ids: PageRun,
    vertices: usize,
    undirected: bool,
) -> Result<Graph, JobError> {
    let memory = edges.memory().clone();
    let budget = |e: JobError| e.unspillable(GRAPH_IN_MEMORY);
    let each_way = if undirected { 2 } else { 1 };
    let total = usize::try_from(edges.len())
        .unwrap_or(usize::MAX)
        .saturating_mul(each_way);
    let mut offsets = PageRun::of::<u64>(&memory, vertices + 1).map_err(budget)?;
    {
        let o = &mut offsets.slice_mut::<u64>()[..vertices + 1];
        edges.rows().for_each(|row| {
            o[row[0] as usize + 1] += 1;
            if undirected {
                o[row[1] as usize + 1] += 1;
            }
        });
        for v in 0..vertices {
            o[v + 1] += o[v];
        }
    }
    let mut targets = PageRun::of::<u32>(&memory, total).map_err(budget)?;
    let columns_count = edges.width() - 2;
    let mut columns = Vec::with_capacity(columns_count);
    for _ in 0..columns_count {
        columns.push(PageRun::of::<u64>(&memory, total).map_err(budget)?);
    }
    {
        let mut cursor = PageRun::of::<u64>(&memory, vertices).map_err(budget)?;
        let next = &mut cursor.slice_mut::<u64>()[..vertices];
        next.copy_from_slice(&offsets.slice::<u64>()[..vertices]);
        let t = &mut targets.slice_mut::<u32>()[..total];
        if columns_count == 0 {
            // The common case, kept to the two stores it needs.
            edges.rows().for_each(|row| {
                let (s, d) = (row[0] as usize, row[1] as usize);
                t[next[s] as usize] = d as u32;
                next[s] += 1;
                if undirected {
                    t[next[d] as usize] = s as u32;
                    next[d] += 1;
                }
            });
        } else {
            for row in edges.rows() {
                let (s, d) = (row[0] as usize, row[1] as usize);
                for (from, to) in [(s, d), (d, s)].into_iter().take(each_way) {
                    let at = next[from] as usize;
                    next[from] += 1;
                    t[at] = to as u32;
                    for (c, run) in columns.iter_mut().enumerate() {
                        run.slice_mut::<u64>()[at] = row[2 + c];
                    }
                }
            }
        }
    }
    Ok(Graph {
        ids,
        offsets,
        targets,
        columns,
        vertices,
        remote: PageRun::of::<[u32; 2]>(&memory, 0).map_err(budget)?,
        remote_len: 0,
        all_vertices: vertices as u64,
        edges: total,
    })
}
