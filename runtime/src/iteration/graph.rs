//! A graph iteration's graph: its edges in compressed sparse rows, built once the input
//! has ended.

use super::rows::{WordRows, ITERATION_IN_MEMORY};
use crate::memory::{OperatorMemory, PageRun};
use crate::JobError;

/// The graph of a graph iteration, in compressed sparse rows: the vertices numbered
/// 0..n in the order of their ids, each vertex's out-edges together (in arrival order),
/// their targets as 32-bit vertex numbers, and each edge column beside them. All of it in
/// page runs under the operator's budget.
#[derive(Debug)]
pub struct Graph {
    ids: PageRun,
    offsets: PageRun,
    targets: PageRun,
    columns: Vec<PageRun>,
    vertices: usize,
    edges: usize,
}

impl Graph {
    /// Builds the graph of `edges` (each both ways when `undirected`), giving the list's
    /// pages back.
    pub fn build(edges: &mut WordRows, undirected: bool) -> Result<Self, JobError> {
        let memory = edges.memory().clone();
        let budget = |e: JobError| e.unspillable(ITERATION_IN_MEMORY);
        // From here on each row's ends are vertex numbers.
        let (ids, vertices) = number_vertices(edges, &memory)?;
        let each_way = if undirected { 2 } else { 1 };
        let total = usize::try_from(edges.len())
            .unwrap_or(usize::MAX)
            .saturating_mul(each_way);
        let mut offsets = PageRun::of::<u64>(&memory, vertices + 1).map_err(budget)?;
        {
            let o = &mut offsets.slice_mut::<u64>()[..vertices + 1];
            for row in edges.rows() {
                o[row[0] as usize + 1] += 1;
                if undirected {
                    o[row[1] as usize + 1] += 1;
                }
            }
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
                for row in edges.rows() {
                    let (s, d) = (row[0] as usize, row[1] as usize);
                    t[next[s] as usize] = d as u32;
                    next[s] += 1;
                    if undirected {
                        t[next[d] as usize] = s as u32;
                        next[d] += 1;
                    }
                }
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
        edges.clear();
        Ok(Graph {
            ids,
            offsets,
            targets,
            columns,
            vertices,
            edges: total,
        })
    }

    /// Vertices in the graph.
    #[inline]
    pub fn vertices(&self) -> usize {
        self.vertices
    }

    /// Edges in the graph (twice the edges read, for an undirected one).
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

/// The sorted distinct vertex ids of `edges` and their number; each row's ends become
/// vertex numbers (left as they are when the ids are 0 to n - 1, as they often are).
fn number_vertices(
    edges: &mut WordRows,
    memory: &OperatorMemory,
) -> Result<(PageRun, usize), JobError> {
    let budget = |e: JobError| e.unspillable(ITERATION_IN_MEMORY);
    let mut max = 0u64;
    for row in edges.rows() {
        max = max.max(row[0]).max(row[1]);
    }
    let ends = usize::try_from(edges.len())
        .unwrap_or(usize::MAX)
        .saturating_mul(2);
    // A table by id costs 4 bytes an id up to the largest: taken when that is no more
    // than a few times what sorting the ids would take.
    let dense = edges.is_empty() || (max < u64::from(u32::MAX) && max <= 4 * ends as u64 + 65_536);
    if dense {
        let slots = if edges.is_empty() {
            0
        } else {
            max as usize + 1
        };
        let mut table = PageRun::of::<u32>(memory, slots).map_err(budget)?;
        let t = &mut table.slice_mut::<u32>()[..slots];
        for row in edges.rows() {
            t[row[0] as usize] = 1;
            t[row[1] as usize] = 1;
        }
        let vertices = t.iter().filter(|&&x| x != 0).count();
        let mut ids = PageRun::of::<u64>(memory, vertices).map_err(budget)?;
        let out = ids.slice_mut::<u64>();
        let mut n = 0u32;
        for (id, slot) in t.iter_mut().enumerate() {
            if *slot != 0 {
                out[n as usize] = id as u64;
                *slot = n;
                n += 1;
            }
        }
        if vertices != slots {
            for row in edges.rows_mut() {
                row[0] = u64::from(t[row[0] as usize]);
                row[1] = u64::from(t[row[1] as usize]);
            }
        }
        return Ok((ids, vertices));
    }
    let mut all = PageRun::of::<u64>(memory, ends).map_err(budget)?;
    let a = all.slice_mut::<u64>();
    for (i, row) in edges.rows().enumerate() {
        a[2 * i] = row[0];
        a[2 * i + 1] = row[1];
    }
    let a = &mut a[..ends];
    a.sort_unstable();
    let mut vertices = 0usize;
    for i in 0..a.len() {
        if i == 0 || a[i] != a[i - 1] {
            a[vertices] = a[i];
            vertices += 1;
        }
    }
    if vertices >= u32::MAX as usize {
        return Err(JobError::Config(format!(
            "a graph iteration takes fewer than {} vertices; this graph has {vertices}",
            u32::MAX
        )));
    }
    let mut ids = PageRun::of::<u64>(memory, vertices).map_err(budget)?;
    ids.slice_mut::<u64>()[..vertices].copy_from_slice(&a[..vertices]);
    drop(all);
    let sorted = &ids.slice::<u64>()[..vertices];
    for row in edges.rows_mut() {
        for end in &mut row[..2] {
            *end = sorted.binary_search(end).expect("every id was numbered") as u64;
        }
    }
    Ok((ids, vertices))
}
