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
use super::dense_ids::{dense, DenseIds};
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
        let (mine, max) = route(edges, undirected, channel, &groups)?;
        if dense(max, mine.len()) {
            let mut ids = DenseIds::of(&mine, max, &memory, runs)?;
            let asked = ask(channel, &groups, &ids.remote_ids())?;
            ids.add_owned_and_count(asked.questions.iter().flatten().copied(), &memory, |id| {
                not_run_here(me, id)
            })?;
            Self::numbered(mine, ids, asked, channel)
        } else {
            let remote = remote_sources(&mine, runs);
            let asked = ask(channel, &groups, &remote)?;
            let mut heard = WordRows::new(memory.clone(), 1);
            for &id in asked.questions.iter().flatten() {
                heard.push(&[id])?;
            }
            let numbering = Numbering::of(&mine, Some(&heard), &memory, runs)?;
            drop(heard);
            Self::numbered(mine, numbering, asked, channel)
        }
    }

    /// The rest of the build, once every vertex this worker's in-edges name and every
    /// vertex other workers asked for has its number in `numbers`.
    fn numbered(
        mut mine: WordRows,
        numbers: impl VertexNumbers,
        asked: Asked,
        channel: &mut dyn RoundChannel,
    ) -> Result<Self, JobError> {
        let memory = mine.memory().clone();
        let me = channel.slot().index;
        let vertices = numbers.owned();
        let remote_len = asked.fills.iter().map(Vec::len).sum();
        let (reads, read_ends) = flattened(&memory, &asked.questions, |from, &id| {
            numbers
                .number(id)
                .filter(|&n| (n as usize) < vertices)
                .ok_or_else(|| {
                    JobError::Config(format!(
                        "worker {from} of an iteration asked worker {me} for vertex {id}, which it does not run"
                    ))
                })
        })?;
        let (fills, fill_ends) = flattened(&memory, &asked.fills, |_, &k| Ok(k))?;
        let mut degrees = renumbered(&mut mine, &numbers, vertices + remote_len)?;
        out_degrees(
            &mut degrees,
            vertices,
            channel,
            (&fills, &fill_ends),
            (&reads, &read_ends),
        )?;
        let all_vertices = vertices_over_workers(channel, COUNT, vertices)?;
        let rows = compressed_rows(&mine, numbers.into_ids(&memory)?, vertices, false)?;
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
/// reversed, to its source's), those that the others sent here added; and the largest id
/// the rows name.
fn route(
    edges: &mut WordRows,
    undirected: bool,
    channel: &mut dyn RoundChannel,
    groups: &KeyGroups,
) -> Result<(WordRows, u64), JobError> {
    let slot = channel.slot();
    let (me, peers) = (slot.index, slot.peers);
    let mut mine = WordRows::new(edges.memory().clone(), 2);
    let mut out = Outgoing::new(IN_EDGES, peers);
    let ways: &[(usize, usize)] = if undirected {
        &[(1, 0), (0, 1)]
    } else {
        &[(1, 0)]
    };
    let mut max = 0;
    // The input's pages go back as they are read, for this worker's rows to take.
    edges.drain(|row| {
        for &(to, from) in ways {
            let (d, s) = (row[to], row[from]);
            let w = runner(groups, d);
            if w == me {
                max = max.max(d).max(s);
                mine.push(&[d, s])?;
            } else {
                out.push(channel, 0, w, &[d, s])?;
            }
        }
        Ok(())
    })?;
    for mut words in out.exchange(channel, 0)?.words() {
        while let (Some(d), Some(s)) = (words.next(), words.next()) {
            max = max.max(d).max(s);
            mine.push(&[d, s])?;
        }
    }
    Ok((mine, max))
}

/// The sources of rows `[destination, source]` that `runs` says other workers run, each
/// once, ascending (the order [`Numbering`] numbers them in), for ids too sparse for
/// [`DenseIds`].
fn remote_sources(mine: &WordRows, runs: impl Fn(u64) -> bool) -> Vec<u64> {
    let mut ids: Vec<u64> = mine.rows().map(|r| r[1]).filter(|&s| !runs(s)).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// What the workers asked each other for: the ids each other worker asked this one for
/// (in the order asked), and where each of the values this worker asked each other worker
/// for goes (an index into its other workers' vertices, in the order asked).
struct Asked {
    questions: Vec<Vec<u64>>,
    fills: Vec<Vec<u32>>,
}

/// Asks the worker running each of `remote` (ascending) for it, and gathers what the
/// other workers asked this one for.
fn ask(
    channel: &mut dyn RoundChannel,
    groups: &KeyGroups,
    remote: &[u64],
) -> Result<Asked, JobError> {
    let peers = channel.slot().peers;
    let mut out = Outgoing::new(ASK, peers);
    let mut fills: Vec<Vec<u32>> = vec![Vec::new(); peers];
    for (k, &id) in remote.iter().enumerate() {
        let w = runner(groups, id);
        fills[w].push(k as u32);
        out.push(channel, 0, w, &[id])?;
    }
    let questions = out.exchange(channel, 0)?;
    Ok(Asked {
        questions: questions.words().map(Iterator::collect).collect(),
        fills,
    })
}

/// The error of a worker asked for a vertex it does not run.
fn not_run_here(me: usize, id: u64) -> JobError {
    JobError::Config(format!(
        "worker {me} of an iteration was asked for vertex {id}, which it does not run"
    ))
}

/// A numbering of the vertices of this worker's in-edges: [`DenseIds`] or [`Numbering`].
trait VertexNumbers {
    /// Vertices this worker runs (numbers below it).
    fn owned(&self) -> usize;
    /// The number of `id`.
    fn number(&self, id: u64) -> Option<u32>;
    /// The ids this worker runs, by number.
    fn into_ids(self, memory: &OperatorMemory) -> Result<PageRun, JobError>;
}

impl VertexNumbers for DenseIds {
    fn owned(&self) -> usize {
        DenseIds::owned(self)
    }

    #[inline]
    fn number(&self, id: u64) -> Option<u32> {
        DenseIds::number(self, id)
    }

    fn into_ids(self, memory: &OperatorMemory) -> Result<PageRun, JobError> {
        self.owned_ids(memory)
    }
}

impl VertexNumbers for Numbering {
    fn owned(&self) -> usize {
        Numbering::owned(self)
    }

    #[inline]
    fn number(&self, id: u64) -> Option<u32> {
        Numbering::number(self, id)
    }

    fn into_ids(self, _: &OperatorMemory) -> Result<PageRun, JobError> {
        Ok(Numbering::into_ids(self))
    }
}

/// Writes each row's ends as vertex numbers, and counts how many of the in-edges come
/// from each sender (`senders` numbers): this worker's part of the out-degrees.
fn renumbered(
    mine: &mut WordRows,
    numbers: &impl VertexNumbers,
    senders: usize,
) -> Result<PageRun, JobError> {
    let budget = |e: JobError| e.unspillable(GRAPH_IN_MEMORY);
    let mut degrees = PageRun::of::<u64>(mine.memory(), senders).map_err(budget)?;
    let d = &mut degrees.slice_mut::<u64>()[..senders];
    // Folded rather than a `for` over the rows: a loop of `next` through the pages' flat
    // map did not become a loop over each page's rows, and took five times as long.
    mine.rows_mut().for_each(|row| {
        let to = numbers.number(row[0]).expect("every end was numbered");
        let from = numbers.number(row[1]).expect("every end was numbered");
        row[0] = u64::from(to);
        row[1] = u64::from(from);
        d[from as usize] += 1;
    });
    Ok(degrees)
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

/// The out-degrees of this worker's vertices over the whole graph: `degrees` holds what
/// its own in-edges count for every sender; the other workers' counts for this worker's
/// vertices are added, each worker told how many of this worker's in-edges come from each
/// of its vertices (in the order of `fills`; theirs arrive in the order of `reads`).
fn out_degrees(
    degrees: &mut PageRun,
    vertices: usize,
    channel: &mut dyn RoundChannel,
    (fills, fill_ends): (&PageRun, &[usize]),
    (reads, read_ends): (&PageRun, &[usize]),
) -> Result<(), JobError> {
    let d = degrees.slice_mut::<u64>();
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
    Ok(())
}
