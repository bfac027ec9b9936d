//! A graph iteration on several workers: each worker runs the vertices whose id hashes to
//! it, with their out-edges; after each round the messages it combined for other
//! workers' vertices cross to them, one (number, value) pair per vertex reached.
//!
//! Building, in phases of the iteration's channel: each edge goes to the worker running
//! its source (an undirected edge to both ends' workers, reversed for the second), and the
//! worker running a destination hears of it; each worker numbers its vertices, then asks
//! the worker running each destination it points at for that vertex's number there, so
//! that a round's messages carry numbers, never ids to look up.

use super::channel::RoundChannel;
use super::graph::{compressed_rows, Graph};
use super::numbering::Numbering;
use super::rows::WordRows;
use crate::memory::{OperatorMemory, PageRun};
use crate::parallel::{KeyGroups, DEFAULT_KEY_GROUPS};
use crate::state::AccWord;
use crate::JobError;

/// The phases of a build, and of each round.
const EDGES: u8 = 1;
const HEARD: u8 = 2;
const ASK: u8 = 3;
const ANSWER: u8 = 4;
const COUNT: u8 = 5;
const MESSAGES: u8 = 6;

/// Bytes of rows sent at once.
pub(super) const CHUNK: usize = 32 * 1024;

/// The worker running vertex `id`, of `groups`' workers.
#[inline]
pub(super) fn runner(groups: &KeyGroups, id: u64) -> usize {
    groups.worker(crate::state::key_hash(&id.to_le_bytes()))
}

/// Rows of words waiting to be sent to each worker, sent a chunk at a time.
pub(super) struct Outgoing {
    kind: u8,
    buffers: Vec<Vec<u64>>,
}

/// The words of rows that arrived, sender by sender in worker order.
pub(super) struct Arrived(pub(super) Vec<Vec<Vec<u8>>>);

impl Arrived {
    /// Each sender's words, in the order sent.
    pub(super) fn words(&self) -> impl Iterator<Item = impl Iterator<Item = u64> + '_> + '_ {
        self.0.iter().map(|rows| {
            rows.iter().flat_map(|r| {
                r.chunks_exact(8)
                    .map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes")))
            })
        })
    }
}

impl Outgoing {
    pub(super) fn new(kind: u8, peers: usize) -> Self {
        Outgoing {
            kind,
            buffers: vec![Vec::new(); peers],
        }
    }

    #[inline]
    pub(super) fn push(
        &mut self,
        channel: &mut dyn RoundChannel,
        round: u64,
        to: usize,
        words: &[u64],
    ) -> Result<(), JobError> {
        let b = &mut self.buffers[to];
        // One or two words (an id; a number and a value; an edge), pushed rather than
        // copied by a call.
        match words {
            [a] => b.push(*a),
            [a, c] => {
                b.push(*a);
                b.push(*c);
            }
            _ => b.extend_from_slice(words),
        }
        if b.len() * 8 >= CHUNK {
            channel.send(to, self.kind, round, &words_as_bytes(b))?;
            b.clear();
        }
        Ok(())
    }

    /// Sends what waits, ends the phase and gathers the others' rows.
    pub(super) fn exchange(
        mut self,
        channel: &mut dyn RoundChannel,
        round: u64,
    ) -> Result<Arrived, JobError> {
        for (to, b) in self.buffers.iter_mut().enumerate() {
            if !b.is_empty() {
                channel.send(to, self.kind, round, &words_as_bytes(b))?;
            }
        }
        Ok(Arrived(channel.gather(self.kind, round)?))
    }
}

/// Words as the little-endian bytes rows carry.
pub(super) fn words_as_bytes(words: &[u64]) -> std::borrow::Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        std::borrow::Cow::Borrowed(bytemuck::cast_slice(words))
    } else {
        std::borrow::Cow::Owned(words.iter().flat_map(|w| w.to_le_bytes()).collect())
    }
}

impl Graph {
    /// Builds this worker's part of the graph of `edges` (this worker's share of the
    /// input, each edge both ways when `undirected`) with the other workers over
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
        let width = edges.width();
        let mut mine = WordRows::new(memory.clone(), width);
        let mut heard = WordRows::new(memory.clone(), 1);
        let mut out = Outgoing::new(EDGES, peers);
        let mut notes = Outgoing::new(HEARD, peers);
        let mut reversed = vec![0u64; width];
        for row in edges.rows() {
            let (a, b) = (row[0], row[1]);
            let (to_a, to_b) = (runner(&groups, a), runner(&groups, b));
            if to_a == me {
                mine.push(row)?;
            } else {
                out.push(channel, 0, to_a, row)?;
            }
            if undirected {
                reversed.copy_from_slice(row);
                reversed.swap(0, 1);
                if to_b == me {
                    mine.push(&reversed)?;
                } else {
                    out.push(channel, 0, to_b, &reversed)?;
                }
            } else if to_b != to_a {
                if to_b == me {
                    heard.push(&[b])?;
                } else {
                    notes.push(channel, 0, to_b, &[b])?;
                }
            }
        }
        edges.clear();
        let mut row = vec![0u64; width];
        for words in out.exchange(channel, 0)?.words() {
            let mut at = 0;
            for w in words {
                row[at] = w;
                at += 1;
                if at == width {
                    mine.push(&row)?;
                    at = 0;
                }
            }
        }
        for words in notes.exchange(channel, 0)?.words() {
            for id in words {
                heard.push(&[id])?;
            }
        }
        let numbering =
            Numbering::of(&mine, Some(&heard), &memory, |id| runner(&groups, id) == me)?;
        drop(heard);
        numbering.renumber(&mut mine);
        let (remote, remote_len) = resolve(&numbering, &groups, channel, &memory)?;
        let vertices = numbering.owned();
        let all_vertices = vertices_over_workers(channel, COUNT, vertices)?;
        let graph = compressed_rows(&mine, numbering.into_ids(), vertices, false)?;
        Ok(Graph {
            remote,
            remote_len,
            all_vertices,
            ..graph
        })
    }

    /// After a round: sends the messages combined for other workers' vertices (those not
    /// `none`) to them, and combines those sent here into `out` with `combine`, sender by
    /// sender in worker order. The other workers' entries of `out` are `none` again.
    pub fn exchange_messages<T: AccWord>(
        &self,
        channel: &mut dyn RoundChannel,
        round: u64,
        out: &mut [T],
        none: T,
        combine: impl Fn(&mut T, T),
    ) -> Result<(), JobError> {
        let peers = channel.slot().peers;
        let mut sends = Outgoing::new(MESSAGES, peers);
        let nothing = none.to_word();
        let remote = &self.remote.slice::<[u32; 2]>()[..self.remote_len];
        for (slot, &[worker, number]) in out[self.vertices..].iter_mut().zip(remote) {
            let w = slot.to_word();
            if w != nothing {
                sends.push(channel, round, worker as usize, &[u64::from(number), w])?;
                *slot = none;
            }
        }
        for mut words in sends.exchange(channel, round)?.words() {
            while let (Some(number), Some(value)) = (words.next(), words.next()) {
                combine(&mut out[number as usize], T::from_word(value));
            }
        }
        Ok(())
    }
}

/// Vertices over all workers, each running `vertices`, summed in phase `kind`.
pub(super) fn vertices_over_workers(
    channel: &mut dyn RoundChannel,
    kind: u8,
    vertices: usize,
) -> Result<u64, JobError> {
    let counts = channel.all_gather(kind, 0, &(vertices as u64).to_le_bytes())?;
    Ok(counts
        .iter()
        .map(|c| u64::from_le_bytes(c[..8].try_into().expect("8 bytes")))
        .sum())
}

/// For each other worker's vertex this worker's edges point at (in number order past
/// its own), the worker running it and the vertex's number there, in a page run, and
/// how many.
fn resolve(
    numbering: &Numbering,
    groups: &KeyGroups,
    channel: &mut dyn RoundChannel,
    memory: &OperatorMemory,
) -> Result<(PageRun, usize), JobError> {
    let peers = channel.slot().peers;
    let remote = numbering.remote_ids();
    let mut ask = Outgoing::new(ASK, peers);
    let mut asked: Vec<Vec<usize>> = vec![Vec::new(); peers];
    for (k, &id) in remote.iter().enumerate() {
        let w = runner(groups, id);
        asked[w].push(k);
        ask.push(channel, 0, w, &[id])?;
    }
    let questions = ask.exchange(channel, 0)?;
    let mut answer = Outgoing::new(ANSWER, peers);
    for (from, ids) in questions.words().enumerate() {
        for id in ids {
            let n = numbering
                .number(id)
                .filter(|&n| (n as usize) < numbering.owned())
                .ok_or_else(|| {
                    JobError::Config(format!(
                        "worker {from} of an iteration asked for vertex {id}, which this worker does not run"
                    ))
                })?;
            answer.push(channel, 0, from, &[u64::from(n)])?;
        }
    }
    let answers = answer.exchange(channel, 0)?;
    let mut run = PageRun::of::<[u32; 2]>(memory, remote.len())
        .map_err(|e| e.unspillable(super::rows::GRAPH_IN_MEMORY))?;
    let remote_numbers = &mut run.slice_mut::<[u32; 2]>()[..remote.len()];
    for (w, numbers) in answers.words().enumerate() {
        let numbers: Vec<u64> = numbers.collect();
        if numbers.len() != asked[w].len() {
            return Err(JobError::Config(format!(
                "worker {w} of an iteration answered {} of {} vertices",
                numbers.len(),
                asked[w].len()
            )));
        }
        for (&k, n) in asked[w].iter().zip(numbers) {
            remote_numbers[k] = [w as u32, n as u32];
        }
    }
    Ok((run, remote.len()))
}
