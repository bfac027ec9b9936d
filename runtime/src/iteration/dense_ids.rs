//! Vertex numbers for a graph on several workers whose ids are dense (below a bound not
//! much above its number of in-edges), found by bit sets: one bit per id says whether
//! this worker runs it, another whether its in-edges read it from another worker. Marking
//! a million ids touches 256 KiB, which stay in the processor's cache, where marking in a
//! table of numbers by id writes at random over 4 MiB (and the set of other workers' ids
//! needs the bits anyway, to be asked for before the numbers are known). Once every id
//! is marked, the numbers go into such a table, written in order: numbering each in-edge's
//! two ends is then one load each, which the processor overlaps, where counting bits
//! before an id is a chain of dependent steps and a branch.

use super::rows::{WordRows, GRAPH_IN_MEMORY};
use crate::memory::{OperatorMemory, PageRun};
use crate::JobError;

/// Whether the ids of a graph of `rows` in-edges whose largest id is `max` are dense
/// enough for [`DenseIds`].
pub(super) fn dense(max: u64, rows: u64) -> bool {
    max < u64::from(u32::MAX) && max <= 4 * rows + 65_536
}

/// The ids this worker runs (numbered from 0 in id order) and the other workers' ids its
/// in-edges read (numbered on from there, in id order): bit sets, then a table of numbers
/// by id.
#[derive(Debug)]
pub(super) struct DenseIds {
    /// One bit per id up to the largest: this worker runs it.
    owned: PageRun,
    /// One bit per id: another worker runs it, and an in-edge here reads it.
    remote: PageRun,
    /// By id, once counted: its number + 1, or 0 for an id in neither set.
    numbers: PageRun,
    words: usize,
    owned_len: usize,
}

impl DenseIds {
    /// The ids of rows `[destination, source]` of in-edges (ids up to `max`): every
    /// destination is this worker's, a source is as `runs` says.
    pub fn of(
        rows: &WordRows,
        max: u64,
        memory: &OperatorMemory,
        runs: impl Fn(u64) -> bool,
    ) -> Result<Self, JobError> {
        let budget = |e: JobError| e.unspillable(GRAPH_IN_MEMORY);
        let words = (max as usize + 1).div_ceil(64);
        let mut ids = DenseIds {
            owned: PageRun::of::<u64>(memory, words).map_err(budget)?,
            remote: PageRun::of::<u64>(memory, words).map_err(budget)?,
            numbers: PageRun::of::<u32>(memory, 0).map_err(budget)?,
            words,
            owned_len: 0,
        };
        let owned = &mut ids.owned.slice_mut::<u64>()[..words];
        let remote = &mut ids.remote.slice_mut::<u64>()[..words];
        for row in rows.rows() {
            let (d, s) = (row[0], row[1]);
            owned[(d / 64) as usize] |= 1 << (d % 64);
            let (word, bit) = ((s / 64) as usize, 1u64 << (s % 64));
            // Asked once an id: a source seen again is already in one set or the other.
            if (owned[word] | remote[word]) & bit == 0 {
                if runs(s) {
                    owned[word] |= bit;
                } else {
                    remote[word] |= bit;
                }
            }
        }
        Ok(ids)
    }

    /// The other workers' ids the in-edges read, ascending (the order of their numbers).
    pub fn remote_ids(&self) -> Vec<u64> {
        set_bits(&self.remote.slice::<u64>()[..self.words])
    }

    /// Adds ids this worker runs that its in-edges may not name (those other workers
    /// asked for), then numbers them all: numbers are known from here on. An id past the
    /// largest is an error that names it.
    pub fn add_owned_and_count(
        &mut self,
        ids: impl Iterator<Item = u64>,
        memory: &OperatorMemory,
        error: impl Fn(u64) -> JobError,
    ) -> Result<(), JobError> {
        let words = self.words;
        let owned = &mut self.owned.slice_mut::<u64>()[..words];
        for id in ids {
            let word = usize::try_from(id / 64)
                .ok()
                .filter(|&w| w < words)
                .ok_or_else(|| error(id))?;
            owned[word] |= 1 << (id % 64);
        }
        let owned = &self.owned.slice::<u64>()[..words];
        let remote = &self.remote.slice::<u64>()[..words];
        self.numbers =
            PageRun::of::<u32>(memory, 64 * words).map_err(|e| e.unspillable(GRAPH_IN_MEMORY))?;
        let numbers = &mut self.numbers.slice_mut::<u32>()[..64 * words];
        let mut next = 1u32;
        for (w, &word) in owned.iter().enumerate() {
            next = number_bits(word, &mut numbers[64 * w..64 * (w + 1)], next);
        }
        self.owned_len = next as usize - 1;
        for (w, &word) in remote.iter().enumerate() {
            next = number_bits(word, &mut numbers[64 * w..64 * (w + 1)], next);
        }
        Ok(())
    }

    /// Ids this worker runs.
    pub fn owned(&self) -> usize {
        self.owned_len
    }

    /// The number of `id`: this worker's from 0, the others' it reads from
    /// [`owned`](Self::owned); `None` for an id in neither.
    #[inline]
    pub fn number(&self, id: u64) -> Option<u32> {
        let n = *self.numbers.slice::<u32>().get(usize::try_from(id).ok()?)?;
        n.checked_sub(1)
    }

    /// The ids this worker runs, ascending (by number), in a page run.
    pub fn owned_ids(&self, memory: &OperatorMemory) -> Result<PageRun, JobError> {
        let ids = set_bits(&self.owned.slice::<u64>()[..self.words]);
        let mut run =
            PageRun::of::<u64>(memory, ids.len()).map_err(|e| e.unspillable(GRAPH_IN_MEMORY))?;
        run.slice_mut::<u64>()[..ids.len()].copy_from_slice(&ids);
        Ok(run)
    }
}

/// Gives the ids of `word`'s set bits, in `slots` (one per bit), numbers + 1 from `next`
/// on, and returns the next.
fn number_bits(word: u64, slots: &mut [u32], mut next: u32) -> u32 {
    let mut bits = word;
    while bits != 0 {
        slots[bits.trailing_zeros() as usize] = next;
        next += 1;
        bits &= bits - 1;
    }
    next
}

/// The positions of the set bits of `words`, ascending.
fn set_bits(words: &[u64]) -> Vec<u64> {
    let mut ids = Vec::with_capacity(words.iter().map(|w| w.count_ones() as usize).sum());
    for (w, &word) in words.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            ids.push(w as u64 * 64 + u64::from(bits.trailing_zeros()));
            bits &= bits - 1;
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SegmentPool;

    /// Numbers as a sorted list gives them: this worker's ids ascending, then the others'.
    #[test]
    fn numbers_are_the_positions_in_the_sorted_ids() {
        let pool = SegmentPool::new(4 << 20, 32 * 1024);
        let memory = pool.operator("iterate", "", 128);
        let mut rows = WordRows::new(memory.clone(), 2);
        let runs = |id: u64| id % 3 != 1;
        let mut edges = Vec::new();
        let mut x = 7u64;
        for _ in 0..5_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let d = (x >> 33) % 4_000;
            let s = (x >> 13) % 4_100;
            let d = if runs(d) { d } else { d + 1 };
            edges.push((d, s));
            rows.push(&[d, s]).unwrap();
        }
        let max = edges.iter().map(|&(d, s)| d.max(s)).max().unwrap();
        let mut ids = DenseIds::of(&rows, max, &memory, runs).unwrap();
        let mut remote: Vec<u64> = edges.iter().map(|e| e.1).filter(|&s| !runs(s)).collect();
        remote.sort_unstable();
        remote.dedup();
        assert_eq!(ids.remote_ids(), remote);
        // Other workers ask only for ids this one runs.
        let asked = [0u64, 3, (0..=max).rev().find(|&id| runs(id)).unwrap()];
        ids.add_owned_and_count(asked.iter().copied(), &memory, |id| {
            JobError::Config(format!("{id}"))
        })
        .unwrap();
        let mut owned: Vec<u64> = edges
            .iter()
            .flat_map(|&(d, s)| [d, s])
            .chain(asked)
            .filter(|&id| runs(id))
            .collect();
        owned.sort_unstable();
        owned.dedup();
        assert_eq!(ids.owned(), owned.len());
        assert_eq!(
            ids.owned_ids(&memory).unwrap().slice::<u64>()[..owned.len()],
            owned
        );
        for (n, &id) in owned.iter().chain(&remote).enumerate() {
            assert_eq!(ids.number(id), Some(n as u32), "id {id}");
        }
        assert_eq!(ids.number(max + 64 * 5), None);
        assert!(ids
            .add_owned_and_count(
                std::iter::once(max + 1_000),
                &memory,
                |id| JobError::Config(format!("{id}"))
            )
            .is_err());
    }
}
