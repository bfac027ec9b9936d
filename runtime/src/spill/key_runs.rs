//! Keys on disk, each with a value, looked up one at a time: runs of keys sorted by hash,
//! each with a sparse index of its blocks and a Bloom filter, searched newest first; past
//! 8 runs the newest ones of about one size are merged (a small log-structured merge tree
//! with size tiers). For state whose records each ask for their key's state: `distinct`'s
//! seen keys (no value), a count window's groups, a session window's sessions.

use super::{Run, RunReader, RunWriter};
use crate::memory::OperatorMemory;
use crate::JobError;

/// Runs kept before they are merged into one: a lookup reads at most one block per run.
const MAX_RUNS: usize = 8;
/// Bytes per block: a lookup reads one, so blocks are small; the sparse index has an entry
/// per block (16 bytes per 4 KiB spilled).
const BLOCK: usize = 4096;
/// Bits of a run's Bloom filter per key, and the most bits one filter takes (128 KiB):
/// past that many keys the filter answers "maybe" more often, never wrongly.
const BLOOM_BITS_PER_KEY: usize = 10;
const BLOOM_MAX_BITS: usize = 1 << 20;

/// One run of `[hash: u64 LE][key length: u32 LE][key][value]` records sorted by (hash,
/// key), and the hash each of its blocks starts with.
#[derive(Debug)]
struct IndexedRun {
    run: Run,
    /// (first hash, file offset) per block, in order.
    blocks: Vec<(u64, u64)>,
    /// Which hashes may be in the run: a lookup of a key that is not reads no block.
    bloom: Bloom,
    keys: usize,
}

/// A Bloom filter over 64-bit hashes: three probes derived from the hash itself.
#[derive(Debug)]
struct Bloom {
    words: Vec<u64>,
}

impl Bloom {
    fn new(keys: usize) -> Self {
        let bits = (keys * BLOOM_BITS_PER_KEY)
            .clamp(64, BLOOM_MAX_BITS)
            .next_power_of_two();
        Bloom {
            words: vec![0; bits / 64],
        }
    }

    fn probes(&self, hash: u64) -> [usize; 3] {
        let mask = self.words.len() * 64 - 1;
        let step = hash.rotate_left(29) | 1;
        [0u64, 1, 2].map(|i| (hash.wrapping_add(i.wrapping_mul(step)) as usize) & mask)
    }

    fn insert(&mut self, hash: u64) {
        for bit in self.probes(hash) {
            self.words[bit / 64] |= 1 << (bit % 64);
        }
    }

    fn may_contain(&self, hash: u64) -> bool {
        self.probes(hash)
            .iter()
            .all(|bit| self.words[bit / 64] & (1 << (bit % 64)) != 0)
    }
}

/// Keys spilled by one operator.
///
/// The sparse indexes and Bloom filters are outside the pool: 16 bytes per 4 KiB block on
/// disk (about 1/256 of what was spilled), and at most 128 KiB of filter per run, at most
/// nine runs.
#[derive(Debug)]
pub struct KeyRuns {
    mem: OperatorMemory,
    /// Whether an empty value means "no state": merging every run then drops the key.
    empty_is_gone: bool,
    runs: Vec<IndexedRun>,
    /// The block a lookup reads into.
    block: Vec<u8>,
}

impl KeyRuns {
    /// No keys on disk yet.
    pub fn new(mem: OperatorMemory) -> Self {
        KeyRuns {
            mem,
            empty_is_gone: false,
            runs: Vec::new(),
            block: Vec::new(),
        }
    }

    /// Writes a new run from `fill`, which must push `(hash, key, value)` in order of
    /// (hash, key) to the writer it is given; runs are merged when there are too many. A
    /// key's value in a newer run replaces its value in older ones. `keys` is about how
    /// many keys `fill` pushes (it sizes the run's Bloom filter).
    pub fn add(
        &mut self,
        keys: usize,
        fill: impl FnOnce(
            &mut dyn FnMut(u64, &[u8], &[u8]) -> Result<(), JobError>,
        ) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        let mut out = IndexedWriter::new(&self.mem, keys)?;
        fill(&mut |hash, key, value| out.push(hash, key, value))?;
        self.runs.push(out.finish()?);
        if self.runs.len() > MAX_RUNS {
            self.merge_newest(self.tier())?;
        }
        Ok(())
    }

    /// No keys on disk yet, for state where an empty value is a key with nothing left (a
    /// tombstone over older runs), which merging all runs drops.
    pub fn with_tombstones(mem: OperatorMemory) -> Self {
        KeyRuns {
            empty_is_gone: true,
            ..KeyRuns::new(mem)
        }
    }

    /// Whether `key` (whose hash is `hash`) is in any run.
    pub fn contains(&mut self, hash: u64, key: &[u8]) -> Result<bool, JobError> {
        Ok(self.get(hash, key)?.is_some())
    }

    /// The newest value of `key` (whose hash is `hash`), if any run holds it.
    pub fn get(&mut self, hash: u64, key: &[u8]) -> Result<Option<&[u8]>, JobError> {
        for run in self.runs.iter().rev() {
            if !run.bloom.may_contain(hash) {
                continue;
            }
            // The last block starting below `hash`: the key's records may begin in it.
            let first = run
                .blocks
                .partition_point(|&(h, _)| h < hash)
                .saturating_sub(1);
            for &(block_hash, at) in &run.blocks[first..] {
                if block_hash > hash {
                    break;
                }
                let mut found = None;
                let mut offset = 0;
                for record in run.run.read_block_at(at, &mut self.block)? {
                    let (h, k, v) = split(record);
                    if h > hash {
                        break;
                    }
                    if h == hash && k == key {
                        // Where the value lies in the block, to hand it out after the loop.
                        found = Some((offset + record.len() - v.len(), v.len()));
                        break;
                    }
                    offset += 4 + record.len();
                }
                if let Some((start, len)) = found {
                    let start = start + 4;
                    return Ok(Some(&self.block[start..start + len]));
                }
            }
        }
        Ok(None)
    }

    /// Calls `each(key, value)` for every key's newest value, in order of (hash, key), and
    /// empties the store.
    pub fn drain_newest(
        mut self,
        mut each: impl FnMut(&[u8], &[u8]) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        if self.runs.is_empty() {
            return Ok(());
        }
        self.merge_newest(0)?;
        let run = self.runs.pop().expect("merged into one").run;
        let mut reader = run.read()?;
        while let Some(record) = reader.next()? {
            let (_, key, value) = split(record);
            each(key, value)?;
        }
        Ok(())
    }

    /// Calls `each(hash, key, value)` for every key's newest value, in order of (hash,
    /// key), and keeps them: the runs are merged into one first (as a lookup would find
    /// them, tombstones dropped), which is read through and kept.
    pub fn visit_newest(
        &mut self,
        mut each: impl FnMut(u64, &[u8], &[u8]) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        if self.runs.is_empty() {
            return Ok(());
        }
        if self.runs.len() > 1 || self.empty_is_gone {
            self.merge_newest(0)?;
        }
        let IndexedRun {
            run,
            blocks,
            bloom,
            keys,
        } = self.runs.pop().expect("merged into one");
        let mut reader = run.read()?;
        let visited = (|| {
            while let Some(record) = reader.next()? {
                let (hash, key, value) = split(record);
                each(hash, key, value)?;
            }
            Ok(())
        })();
        self.runs.push(IndexedRun {
            run: reader.into_run(),
            blocks,
            bloom,
            keys,
        });
        visited
    }

    /// Where the newest runs of about one size begin: runs are merged in tiers (the newest
    /// ones, as long as the next older is no more than twice what they hold together), so
    /// a key is rewritten a logarithmic number of times, not at every merge.
    fn tier(&self) -> usize {
        let mut from = self.runs.len() - 1;
        let mut bytes = self.runs[from].run.bytes();
        while from > 0 && self.runs[from - 1].run.bytes() <= 2 * bytes {
            from -= 1;
            bytes += self.runs[from].run.bytes();
        }
        // At least two runs, so that a merge always lowers the count.
        from.min(self.runs.len() - 2)
    }

    /// Merges the runs from `from` on (the newest ones) into one, keeping each key's value
    /// from the newest run that has it (a key looked up on disk is kept in memory again,
    /// and may be spilled again). Tombstones go only when every run is merged.
    fn merge_newest(&mut self, from: usize) -> Result<(), JobError> {
        let runs = self.runs.split_off(from);
        let drop_empty = self.empty_is_gone && from == 0;
        let keys = runs.iter().map(|r| r.keys).sum();
        let mut readers: Vec<RunReader> = runs
            .into_iter()
            .map(|r| r.run.read())
            .collect::<Result<_, _>>()?;
        let mut live: Vec<bool> = Vec::with_capacity(readers.len());
        for r in &mut readers {
            live.push(r.advance()?);
        }
        let mut out = IndexedWriter::new(&self.mem, keys)?;
        loop {
            // The smallest (hash, key); among equal ones the newest run, which comes last.
            let mut best: Option<usize> = None;
            for i in (0..readers.len()).filter(|&i| live[i]) {
                let (h, k, _) = split(readers[i].current());
                let better = best.is_none_or(|b| {
                    let (bh, bk, _) = split(readers[b].current());
                    (h, k) <= (bh, bk)
                });
                if better {
                    best = Some(i);
                }
            }
            let Some(b) = best else { break };
            let (hash, key, value) = split(readers[b].current());
            if !(drop_empty && value.is_empty()) {
                out.push(hash, key, value)?;
            }
            let key = key.to_vec();
            // Older copies of the key are passed over.
            for i in 0..readers.len() {
                while live[i] && {
                    let (h, k, _) = split(readers[i].current());
                    h == hash && k == key.as_slice()
                } {
                    live[i] = readers[i].advance()?;
                }
            }
        }
        self.runs.push(out.finish()?);
        Ok(())
    }
}

/// A run being written, with its block index.
struct IndexedWriter {
    out: RunWriter,
    blocks: Vec<(u64, u64)>,
    bloom: Bloom,
    keys: usize,
}

impl IndexedWriter {
    /// A run for about `keys` keys.
    fn new(mem: &OperatorMemory, keys: usize) -> Result<Self, JobError> {
        Ok(IndexedWriter {
            out: RunWriter::with_blocks(mem, BLOCK)?,
            blocks: Vec::new(),
            bloom: Bloom::new(keys),
            keys: 0,
        })
    }

    fn push(&mut self, hash: u64, key: &[u8], value: &[u8]) -> Result<(), JobError> {
        let len = (key.len() as u32).to_le_bytes();
        if let Some(at) = self
            .out
            .push_indexed(&[&hash.to_le_bytes(), &len, key, value])?
        {
            self.blocks.push((hash, at));
        }
        self.bloom.insert(hash);
        self.keys += 1;
        Ok(())
    }

    fn finish(self) -> Result<IndexedRun, JobError> {
        Ok(IndexedRun {
            run: self.out.finish()?,
            blocks: self.blocks,
            bloom: self.bloom,
            keys: self.keys,
        })
    }
}

/// A record's hash, key and value.
fn split(record: &[u8]) -> (u64, &[u8], &[u8]) {
    let (hash, rest) = record.split_at(8);
    let (len, rest) = rest.split_at(4);
    let len = u32::from_le_bytes(len.try_into().expect("four bytes")) as usize;
    let (key, value) = rest.split_at(len);
    (
        u64::from_le_bytes(hash.try_into().expect("eight bytes")),
        key,
        value,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SegmentPool;
    use crate::spill::SpillSpace;

    #[test]
    fn keys_are_found_in_any_run_and_after_merging() {
        let dir = tempfile::tempdir().unwrap();
        let pool = SegmentPool::new(64 * 1024, 1024);
        let mem = pool
            .operator("distinct", "t.pipe:1:1", 8)
            .with_spill(SpillSpace::new(Some(dir.path().to_path_buf()), "t"));
        let mut runs = KeyRuns::new(mem);
        // Hashes with many collisions, so keys of one hash span blocks.
        let hash = |k: u64| (k % 97) << 56 | (k % 5);
        let mut stored = Vec::new();
        for round in 0..12u64 {
            let mut batch: Vec<(u64, Vec<u8>)> = (0..300)
                .map(|i| {
                    let k = round * 1000 + i * 3;
                    (hash(k), format!("key-{k}").into_bytes())
                })
                .collect();
            batch.sort();
            runs.add(batch.len(), |push| {
                for (h, k) in &batch {
                    push(*h, k, &round.to_le_bytes())?;
                }
                Ok(())
            })
            .unwrap();
            stored.extend(batch);
        }
        assert!(
            runs.runs.len() <= MAX_RUNS,
            "runs were merged: {}",
            runs.runs.len()
        );
        for (h, k) in &stored {
            assert!(
                runs.contains(*h, k).unwrap(),
                "{}",
                String::from_utf8_lossy(k)
            );
        }
        for k in [1u64, 2, 4, 11_999, 500_000] {
            let key = format!("key-{k}").into_bytes();
            assert!(
                !runs.contains(hash(k), &key).unwrap(),
                "key-{k} was never stored"
            );
        }
    }

    #[test]
    fn the_newest_value_wins_in_lookups_and_in_the_merged_drain() {
        let dir = tempfile::tempdir().unwrap();
        let pool = SegmentPool::new(64 * 1024, 1024);
        let mem = pool
            .operator("window", "t.pipe:1:1", 8)
            .with_spill(SpillSpace::new(Some(dir.path().to_path_buf()), "t"));
        let mut runs = KeyRuns::new(mem);
        let hash = |k: u64| k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 8;
        let mut newest = std::collections::BTreeMap::new();
        // Twelve rounds over overlapping key ranges: later rounds overwrite earlier ones.
        for round in 0..12u64 {
            let mut batch: Vec<(u64, Vec<u8>)> = (round * 50..round * 50 + 400)
                .map(|k| (hash(k), format!("k{k}").into_bytes()))
                .collect();
            batch.sort();
            runs.add(batch.len(), |push| {
                for (h, k) in &batch {
                    push(*h, k, &round.to_le_bytes())?;
                }
                Ok(())
            })
            .unwrap();
            for (h, k) in batch {
                newest.insert((h, k), round);
            }
        }
        for ((h, k), round) in &newest {
            let got = runs
                .get(*h, k)
                .unwrap()
                .map(|v| u64::from_le_bytes(v.try_into().unwrap()));
            assert_eq!(got, Some(*round), "{}", String::from_utf8_lossy(k));
        }
        let mut drained = Vec::new();
        runs.drain_newest(|k, v| {
            drained.push((k.to_vec(), u64::from_le_bytes(v.try_into().unwrap())));
            Ok(())
        })
        .unwrap();
        let want: Vec<(Vec<u8>, u64)> = newest.into_iter().map(|((_, k), r)| (k, r)).collect();
        assert_eq!(
            drained, want,
            "each key once, newest value, in (hash, key) order"
        );
    }
}
