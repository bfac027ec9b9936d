//! Vertex ids to vertex numbers, while a graph is built: the vertices a worker runs
//! numbered 0..n in id order, then the other workers' vertices its edges point at.

use super::rows::{WordRows, GRAPH_IN_MEMORY};
use crate::memory::{OperatorMemory, PageRun};
use crate::JobError;

/// The numbers of a graph's vertex ids.
pub(super) struct Numbering {
    /// The ids this worker runs, ascending.
    owned: PageRun,
    owned_len: usize,
    /// The other workers' ids its edges point at, ascending.
    remote: PageRun,
    remote_len: usize,
    /// A table by id (number + 1; 0 for an id not in the graph), when ids are below a
    /// bound not much above the number of edge ends; else ids are found by binary search.
    table: Option<PageRun>,
}

impl Numbering {
    /// The numbering of the ends of `edges` and of the ids of `extra` (rows of one id):
    /// this worker runs every edge's source and every id of `extra`; `runs(id)` says
    /// whether it runs a destination.
    pub fn of(
        edges: &WordRows,
        extra: Option<&WordRows>,
        memory: &OperatorMemory,
        runs: impl Fn(u64) -> bool,
    ) -> Result<Self, JobError> {
        let ids = || {
            edges
                .rows()
                .flat_map(|r| [r[0], r[1]])
                .chain(extra.into_iter().flat_map(|x| x.rows().map(|r| r[0])))
        };
        let mut max = 0u64;
        let mut ends = 0usize;
        for id in ids() {
            max = max.max(id);
            ends += 1;
        }
        // A table by id costs 4 bytes an id up to the largest: taken when that is no more
        // than a few times what sorting the ids would take.
        if ends == 0 || (max < u64::from(u32::MAX) && max <= 4 * ends as u64 + 65_536) {
            let slots = if ends == 0 { 0 } else { max as usize + 1 };
            Self::by_table(edges, extra, memory, runs, slots)
        } else {
            Self::by_sorting(edges, extra, memory, runs)
        }
    }

    /// The numbering by a table of `slots` entries, one per id up to the largest.
    fn by_table(
        edges: &WordRows,
        extra: Option<&WordRows>,
        memory: &OperatorMemory,
        runs: impl Fn(u64) -> bool,
        slots: usize,
    ) -> Result<Self, JobError> {
        let budget = |e: JobError| e.unspillable(GRAPH_IN_MEMORY);
        let mut table = PageRun::of::<u32>(memory, slots).map_err(budget)?;
        let t = &mut table.slice_mut::<u32>()[..slots];
        for row in edges.rows() {
            t[row[0] as usize] = 1;
            let d = row[1] as usize;
            if t[d] == 0 {
                t[d] = if runs(row[1]) { 1 } else { 2 };
            }
        }
        for row in extra.into_iter().flat_map(|x| x.rows()) {
            t[row[0] as usize] = 1;
        }
        let owned_len = t.iter().filter(|&&x| x == 1).count();
        let remote_len = t.iter().filter(|&&x| x == 2).count();
        let mut owned = PageRun::of::<u64>(memory, owned_len).map_err(budget)?;
        let mut remote = PageRun::of::<u64>(memory, remote_len).map_err(budget)?;
        let (o, r) = (owned.slice_mut::<u64>(), remote.slice_mut::<u64>());
        let (mut n, mut m) = (0usize, 0usize);
        for (id, slot) in t.iter_mut().enumerate() {
            match *slot {
                1 => {
                    o[n] = id as u64;
                    n += 1;
                    *slot = n as u32;
                }
                2 => {
                    r[m] = id as u64;
                    m += 1;
                    *slot = (owned_len + m) as u32;
                }
                _ => {}
            }
        }
        Ok(Numbering {
            owned,
            owned_len,
            remote,
            remote_len,
            table: Some(table),
        })
    }

    /// The numbering by the ids sorted, each found again by binary search.
    fn by_sorting(
        edges: &WordRows,
        extra: Option<&WordRows>,
        memory: &OperatorMemory,
        runs: impl Fn(u64) -> bool,
    ) -> Result<Self, JobError> {
        let budget = |e: JobError| e.unspillable(GRAPH_IN_MEMORY);
        // Sources and `extra` are this worker's; destinations as `runs` says.
        let runs = &runs;
        let picked = |pick: bool| {
            edges
                .rows()
                .flat_map(move |r| [(r[0], true), (r[1], false)])
                .chain(
                    extra
                        .into_iter()
                        .flat_map(|x| x.rows().map(|r| (r[0], true))),
                )
                .filter(move |&(id, mine)| (mine || runs(id)) == pick)
                .map(|(id, _)| id)
        };
        let sorted = |pick: bool| -> Result<(PageRun, usize), JobError> {
            let count = picked(pick).count();
            let mut run = PageRun::of::<u64>(memory, count).map_err(budget)?;
            let a = &mut run.slice_mut::<u64>()[..count];
            for (slot, id) in a.iter_mut().zip(picked(pick)) {
                *slot = id;
            }
            a.sort_unstable();
            let mut len = 0usize;
            for i in 0..a.len() {
                if i == 0 || a[i] != a[i - 1] {
                    a[len] = a[i];
                    len += 1;
                }
            }
            Ok((run, len))
        };
        let (owned, owned_len) = sorted(true)?;
        let (remote, remote_len) = sorted(false)?;
        if owned_len + remote_len >= u32::MAX as usize {
            return Err(JobError::Config(format!(
                "a graph iteration takes fewer than {} vertices a worker; this one has {}",
                u32::MAX,
                owned_len + remote_len
            )));
        }
        Ok(Numbering {
            owned,
            owned_len,
            remote,
            remote_len,
            table: None,
        })
    }

    /// Vertices this worker runs.
    pub fn owned(&self) -> usize {
        self.owned_len
    }

    /// The other workers' vertex ids its edges point at, in the order of their numbers.
    pub fn remote_ids(&self) -> &[u64] {
        &self.remote.slice::<u64>()[..self.remote_len]
    }

    /// The number of `id`, if it is in the graph.
    #[inline]
    pub fn number(&self, id: u64) -> Option<u32> {
        match &self.table {
            Some(t) => t
                .slice::<u32>()
                .get(usize::try_from(id).ok()?)
                .filter(|&&n| n != 0)
                .map(|n| n - 1),
            None => {
                let owned = &self.owned.slice::<u64>()[..self.owned_len];
                match owned.binary_search(&id) {
                    Ok(i) => Some(i as u32),
                    Err(_) => self
                        .remote_ids()
                        .binary_search(&id)
                        .ok()
                        .map(|j| (self.owned_len + j) as u32),
                }
            }
        }
    }

    /// Writes each row's ends as vertex numbers (nothing to do where ids are the numbers
    /// 0..n of one worker's whole graph).
    pub fn renumber(&self, edges: &mut WordRows) {
        let identity = self.remote_len == 0
            && self.table.as_ref().is_some_and(|_| {
                self.owned.slice::<u64>()[..self.owned_len]
                    .last()
                    .is_none_or(|&l| l as usize + 1 == self.owned_len)
            });
        if identity {
            return;
        }
        for row in edges.rows_mut() {
            for end in &mut row[..2] {
                *end = u64::from(self.number(*end).expect("every end was numbered"));
            }
        }
    }

    /// The ids this worker runs, by number.
    pub fn into_ids(self) -> PageRun {
        self.owned
    }
}
