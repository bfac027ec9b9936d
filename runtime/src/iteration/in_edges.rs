//! A graph iteration on several workers whose message is the same along every out-edge of
//! a vertex (PageRank's `send rank / out_degree`, components' `send label`): each worker
//! keeps the *in*-edges of the vertices it runs, a round's sends fold into one value per
//! vertex, those values cross once to the workers whose in-edges read them, and each
//! worker then gathers every one of its vertices' messages from its in-edges.
//!
//! Scattering along out-edges instead makes each worker add into an array of nearly every
//! vertex of the graph (its edges reach them all), and send the other workers a partial
//! sum for each of theirs, with its number. A gather reads at random but writes in order,
//! and what crosses is one value per vertex a worker's in-edges come from, in an order
//! both sides agreed on when the graph was built (no vertex numbers travel). On this
//! project's two-core machine the rounds gain only 6% by it: both are bound by their
//! random reads, and the two workers share the L3 (`docs/performance.md`).
//!
//! Building, in phases of the iteration's channel: each edge goes to the worker running
//! its destination (an undirected edge also to its source's, reversed); each worker asks
//! the workers running the sources it reads for them (so that a vertex with no in-edges
//! is still run by its worker), numbers its vertices, and tells each source's worker how
//! many of its in-edges come from each of that worker's vertices: their out-degrees.

use super::channel::RoundChannel;
use super::graph::{compressed_rows, Graph};
use super::numbering::Numbering;
use super::partitioned::{runner, vertices_over_workers, words_as_bytes, Arrived, Outgoing, CHUNK};
use super::rows::{WordRows, GRAPH_IN_MEMORY};
use crate::memory::{OperatorMemory, PageRun};
use crate::parallel::{KeyGroups, DEFAULT_KEY_GROUPS};
use crate::state::AccWord;
use crate::JobError;

/// The phases of a build, and of each round (apart from those of `partitioned.rs`).
const IN_EDGES: u8 = 11;
const ASK: u8 = 12;
const DEGREES: u8 = 13;
const COUNT: u8 = 14;
const SENT: u8 = 15;

/// This worker's part of a graph by in-edges: the vertices it runs numbered 0..n in id
/// order, each one's in-edges together in compressed sparse rows (a [`Graph`] whose
/// targets are the in-edges' sources, as 32-bit numbers: this worker's below n, other
/// workers' past it), each vertex's out-degree over the whole graph, and which values
/// cross between the workers after each round. All in page runs under the operator's
/// budget.
#[derive(Debug)]
pub struct InEdges {
    rows: Graph,
    degrees: PageRun,
    /// Other workers' vertices the in-edges come from (numbers `vertices..`).
    remote_len: usize,
    /// This worker's vertex numbers each other worker reads, worker after worker:
    /// worker `w`'s are `reads[read_ends[w]..read_ends[w + 1]]`, in the order it asked.
    reads: PageRun,
    read_ends: Vec<usize>,
    /// Where the values from each other worker go (`vertices +` these), worker after
    /// worker as `reads`: in the order this worker asked.
    fills: PageRun,
    fill_ends: Vec<usize>,
}

impl InEdges {
    /// Builds this worker's part of the graph of `edges` (this worker's share of the
    /// input; each edge both ways when `undirected`) with the other workers over
    /// `channel`, giving the rows' pages back.
    pub fn build_on_workers(
        edges: &mut WordRows,
        undirected: bool,
        channel: &mut dyn RoundChannel,
    ) -> Result<Self, JobError> {
        let slot = channel.slot();
        let (me, peers) = (slot.index, slot.peers);
        let groups = KeyGroups::new(DEFAULT_KEY_GROUPS, peers);
        let memory = edges.memory().clone();
        let runs = |id: u64| runner(&groups, id) == me;
        let mut mine = route(edges, undirected, channel, &groups)?;
        // The sources this worker reads from other workers, ascending, each asked for.
        let remote = remote_sources(&mine, &memory, runs)?;
        let remote_len = remote.len();
        let mut ask = Outgoing::new(ASK, peers);
        let mut fills_by_worker: Vec<Vec<u32>> = vec![Vec::new(); peers];
        for (k, &id) in remote.iter().enumerate() {
            let w = runner(&groups, id);
            fills_by_worker[w].push(k as u32);
            ask.push(channel, 0, w, &[id])?;
        }
        drop(remote);
        let questions = ask.exchange(channel, 0)?;
        let mut heard = WordRows::new(memory.clone(), 1);
        for ids in questions.words() {
            for id in ids {
                heard.push(&[id])?;
            }
        }
        let numbering = Numbering::of(&mine, Some(&heard), &memory, runs)?;
        drop(heard);
        let vertices = numbering.owned();
        let asked: Vec<Vec<u64>> = questions.words().map(Iterator::collect).collect();
        let (reads, read_ends) = flattened(&memory, &asked, |from, &id| {
            numbering
                .number(id)
                .filter(|&n| (n as usize) < vertices)
                .ok_or_else(|| {
                    JobError::Config(format!(
                        "worker {from} of an iteration asked for vertex {id}, which this worker does not run"
                    ))
                })
        })?;
        let (fills, fill_ends) = flattened(&memory, &fills_by_worker, |_, &k| Ok(k))?;
        numbering.renumber(&mut mine);
        let degrees = out_degrees(
            &mine,
            vertices,
            remote_len,
            channel,
            (&fills, &fill_ends),
            (&reads, &read_ends),
        )?;
        let all_vertices = vertices_over_workers(channel, COUNT, vertices)?;
        let rows = compressed_rows(&mine, numbering.into_ids(), vertices, false)?;
        Ok(InEdges {
            rows: Graph {
                all_vertices,
                ..rows
            },
            degrees,
            remote_len,
            reads,
            read_ends,
            fills,
            fill_ends,
        })
    }

    /// Vertices this worker runs.
    #[inline]
    pub fn vertices(&self) -> usize {
        self.rows.vertices()
    }

    /// Vertex numbers a message may come from: this worker's, then other workers'.
    #[inline]
    pub fn senders(&self) -> usize {
        self.vertices() + self.remote_len
    }

    /// Vertices over all workers.
    #[inline]
    pub fn all_vertices(&self) -> u64 {
        self.rows.all_vertices()
    }

    /// In-edges this worker holds (twice the edges read, for an undirected graph).
    #[inline]
    pub fn edges(&self) -> usize {
        self.rows.edges()
    }

    /// Each vertex's id, by number (ascending).
    #[inline]
    pub fn ids(&self) -> &[u64] {
        self.rows.ids()
    }

    /// Each vertex's out-edges over the whole graph, by number.
    #[inline]
    pub fn out_degrees(&self) -> &[u64] {
        &self.degrees.slice::<u64>()[..self.vertices()]
    }

    /// After a round: sends each other worker the values `sent` holds for the vertices
    /// it reads, and puts theirs in `sent` past this worker's vertices.
    pub fn exchange_sent<T: AccWord>(
        &self,
        channel: &mut dyn RoundChannel,
        round: u64,
        sent: &mut [T],
    ) -> Result<(), JobError> {
        let peers = channel.slot().peers;
        let reads = self.reads.slice::<u32>();
        // Each worker's values gathered into one buffer, then sent a chunk at a time (a
        // push per value cost a third of a round's crossing).
        let mut words: Vec<u64> = Vec::new();
        for w in 0..peers {
            let read = &reads[self.read_ends[w]..self.read_ends[w + 1]];
            words.clear();
            words.extend(read.iter().map(|&n| sent[n as usize].to_word()));
            for chunk in words.chunks(CHUNK / 8) {
                channel.send(w, SENT, round, &words_as_bytes(chunk))?;
            }
        }
        let fills = self.fills.slice::<u32>();
        for (w, values) in Arrived(channel.gather(SENT, round)?).words().enumerate() {
            let expected = &fills[self.fill_ends[w]..self.fill_ends[w + 1]];
            let mut got = 0;
            for (&k, value) in expected.iter().zip(values) {
                sent[self.vertices() + k as usize] = T::from_word(value);
                got += 1;
            }
            if got != expected.len() {
                return Err(JobError::Config(format!(
                    "worker {w} of an iteration sent {got} of {} values in round {round}",
                    expected.len()
                )));
            }
        }
        Ok(())
    }

    /// Each vertex's messages of a round, from what its in-edges' sources `sent`,
    /// combined from `none` by `combine`, into `incoming`.
    #[inline]
    pub fn gather<T: Copy>(
        &self,
        sent: &[T],
        incoming: &mut [T],
        none: T,
        combine: impl Fn(&mut T, T),
    ) {
        let (offsets, sources) = (self.rows.offsets(), self.rows.targets());
        let sent = &sent[..self.senders()];
        for (t, slot) in incoming[..self.vertices()].iter_mut().enumerate() {
            // Two folds, of the even and the odd in-edges, so that each waits on half the
            // loads (a sum of floating-point numbers in another order: PageRank's ranks
            // move in their last bits).
            let (mut even, mut odd) = (none, none);
            let edges = &sources[offsets[t] as usize..offsets[t + 1] as usize];
            let mut pairs = edges.chunks_exact(2);
            for pair in &mut pairs {
                combine(&mut even, sent[pair[0] as usize]);
                combine(&mut odd, sent[pair[1] as usize]);
            }
            if let [last] = pairs.remainder() {
                combine(&mut even, sent[*last as usize]);
            }
            combine(&mut even, odd);
            *slot = even;
        }
    }
}

/// This worker's share of the input as rows `[destination, source]` of the vertices it
/// runs: each edge sent to the worker running its destination (an undirected edge also,
/// reversed, to its source's), those that the others sent here added.
fn route(
    edges: &mut WordRows,
    undirected: bool,
    channel: &mut dyn RoundChannel,
    groups: &KeyGroups,
) -> Result<WordRows, JobError> {
    let slot = channel.slot();
    let (me, peers) = (slot.index, slot.peers);
    let mut mine = WordRows::new(edges.memory().clone(), 2);
    let mut out = Outgoing::new(IN_EDGES, peers);
    let ways: &[(usize, usize)] = if undirected {
        &[(1, 0), (0, 1)]
    } else {
        &[(1, 0)]
    };
    // The input's pages go back as they are read, for this worker's rows to take.
    edges.drain(|row| {
        for &(to, from) in ways {
            let (d, s) = (row[to], row[from]);
            let w = runner(groups, d);
            if w == me {
                mine.push(&[d, s])?;
            } else {
                out.push(channel, 0, w, &[d, s])?;
            }
        }
        Ok(())
    })?;
    for mut words in out.exchange(channel, 0)?.words() {
        while let (Some(d), Some(s)) = (words.next(), words.next()) {
            mine.push(&[d, s])?;
        }
    }
    Ok(mine)
}

/// The sources of rows `[destination, source]` that `runs` says other workers run, each
/// once, ascending (the order [`Numbering`] numbers them in). Ids below a bound not much
/// above the number of rows are marked in bit sets by id (two bits an id, where the
/// numbering's table takes 32); others are sorted.
fn remote_sources(
    mine: &WordRows,
    memory: &OperatorMemory,
    runs: impl Fn(u64) -> bool,
) -> Result<Vec<u64>, JobError> {
    let budget = |e: JobError| e.unspillable(GRAPH_IN_MEMORY);
    let max = mine.rows().map(|r| r[1]).max().unwrap_or(0);
    if max > 4 * mine.len() + 65_536 {
        let mut ids: Vec<u64> = mine.rows().map(|r| r[1]).filter(|&s| !runs(s)).collect();
        ids.sort_unstable();
        ids.dedup();
        return Ok(ids);
    }
    let words = (max as usize + 1).div_ceil(64);
    let (mut seen, mut remote) = (
        PageRun::of::<u64>(memory, words).map_err(budget)?,
        PageRun::of::<u64>(memory, words).map_err(budget)?,
    );
    let (seen, remote) = (
        seen.slice_mut::<u64>(),
        &mut remote.slice_mut::<u64>()[..words],
    );
    for row in mine.rows() {
        let (word, bit) = ((row[1] / 64) as usize, 1u64 << (row[1] % 64));
        if seen[word] & bit == 0 {
            seen[word] |= bit;
            if !runs(row[1]) {
                remote[word] |= bit;
            }
        }
    }
    let mut ids = Vec::with_capacity(remote.iter().map(|w| w.count_ones() as usize).sum());
    for (w, &word) in remote.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            ids.push(w as u64 * 64 + u64::from(bits.trailing_zeros()));
            bits &= bits - 1;
        }
    }
    Ok(ids)
}

/// `lists` (one per worker) as one page run of numbers, each made by `number(worker,
/// item)`, and where each worker's end.
fn flattened<T>(
    memory: &OperatorMemory,
    lists: &[Vec<T>],
    number: impl Fn(usize, &T) -> Result<u32, JobError>,
) -> Result<(PageRun, Vec<usize>), JobError> {
    let total = lists.iter().map(Vec::len).sum();
    let mut run = PageRun::of::<u32>(memory, total).map_err(|e| e.unspillable(GRAPH_IN_MEMORY))?;
    let all = &mut run.slice_mut::<u32>()[..total];
    let mut ends = vec![0];
    let mut at = 0;
    for (w, list) in lists.iter().enumerate() {
        for item in list {
            all[at] = number(w, item)?;
            at += 1;
        }
        ends.push(at);
    }
    Ok((run, ends))
}

/// The out-degrees of this worker's vertices over the whole graph: from its own in-edges
/// (rows of numbers), and from what the other workers counted of theirs, each told how
/// many of this worker's in-edges come from each of its vertices (in the order of
/// `fills`; theirs arrive in the order of `reads`).
fn out_degrees(
    mine: &WordRows,
    vertices: usize,
    remote_len: usize,
    channel: &mut dyn RoundChannel,
    (fills, fill_ends): (&PageRun, &[usize]),
    (reads, read_ends): (&PageRun, &[usize]),
) -> Result<PageRun, JobError> {
    let budget = |e: JobError| e.unspillable(GRAPH_IN_MEMORY);
    let mut degrees = PageRun::of::<u64>(mine.memory(), vertices + remote_len).map_err(budget)?;
    let d = &mut degrees.slice_mut::<u64>()[..vertices + remote_len];
    for row in mine.rows() {
        d[row[1] as usize] += 1;
    }
    let peers = channel.slot().peers;
    let fills = fills.slice::<u32>();
    let mut counts = Outgoing::new(DEGREES, peers);
    for w in 0..peers {
        for &k in &fills[fill_ends[w]..fill_ends[w + 1]] {
            counts.push(channel, 0, w, &[d[vertices + k as usize]])?;
        }
    }
    let reads = reads.slice::<u32>();
    for (w, counts) in counts.exchange(channel, 0)?.words().enumerate() {
        for (&n, c) in reads[read_ends[w]..read_ends[w + 1]].iter().zip(counts) {
            d[n as usize] += c;
        }
    }
    Ok(degrees)
}
