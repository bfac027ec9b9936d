//! Keys on disk that are looked up one at a time: runs of keys sorted by hash, each with a
//! sparse index of its blocks, newest first, merged into one when they grow many (a small
//! log-structured merge tree). For state whose every record asks "was this key seen?",
//! such as `distinct`'s.

use super::{Run, RunReader, RunWriter};
use crate::memory::OperatorMemory;
use crate::JobError;

/// Runs kept before they are merged into one: a lookup reads at most one block per run.
const MAX_RUNS: usize = 8;

/// One run of `[hash: u64 LE][key]` records sorted by (hash, key), and the hash each of its
/// blocks starts with.
#[derive(Debug)]
struct IndexedRun {
    run: Run,
    /// (first hash, file offset) per block, in order.
    blocks: Vec<(u64, u64)>,
}

/// Keys spilled by one operator.
///
/// The sparse indexes are outside the pool: 16 bytes per 32 KiB block on disk, about
/// 1/2000 of what was spilled.
#[derive(Debug)]
pub struct KeyRuns {
    mem: OperatorMemory,
    runs: Vec<IndexedRun>,
    /// The block a lookup reads into.
    block: Vec<u8>,
}

impl KeyRuns {
    /// No keys on disk yet.
    pub fn new(mem: OperatorMemory) -> Self {
        KeyRuns {
            mem,
            runs: Vec::new(),
            block: Vec::new(),
        }
    }

    /// Writes a new run from `fill`, which must push `(hash, key)` pairs in order of
    /// (hash, key) to the writer it is given; runs are merged when there are too many.
    pub fn add(
        &mut self,
        fill: impl FnOnce(&mut dyn FnMut(u64, &[u8]) -> Result<(), JobError>) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        let mut out = IndexedWriter::new(&self.mem)?;
        fill(&mut |hash, key| out.push(hash, key))?;
        self.runs.push(out.finish()?);
        if self.runs.len() > MAX_RUNS {
            self.merge_all()?;
        }
        Ok(())
    }

    /// Whether `key` (whose hash is `hash`) is in any run.
    pub fn contains(&mut self, hash: u64, key: &[u8]) -> Result<bool, JobError> {
        for run in self.runs.iter().rev() {
            // The last block starting below `hash`: the key's records may begin in it.
            let first = run
                .blocks
                .partition_point(|&(h, _)| h < hash)
                .saturating_sub(1);
            for &(block_hash, at) in &run.blocks[first..] {
                if block_hash > hash {
                    break;
                }
                for record in run.run.read_block_at(at, &mut self.block)? {
                    let (h, k) = split(record);
                    if h > hash {
                        break;
                    }
                    if h == hash && k == key {
                        return Ok(true);
                    }
                }
            }
        }
        Ok(false)
    }

    /// Merges every run into one, dropping keys found twice (a key looked up on disk is
    /// kept in memory again, and may be spilled again).
    fn merge_all(&mut self) -> Result<(), JobError> {
        let runs = std::mem::take(&mut self.runs);
        let mut readers: Vec<RunReader> = runs
            .into_iter()
            .map(|r| r.run.read())
            .collect::<Result<_, _>>()?;
        let mut live: Vec<bool> = Vec::with_capacity(readers.len());
        for r in &mut readers {
            live.push(r.advance()?);
        }
        let mut out = IndexedWriter::new(&self.mem)?;
        let mut last: Option<(u64, Vec<u8>)> = None;
        loop {
            let smallest = (0..readers.len())
                .filter(|&i| live[i])
                .min_by(|&a, &b| split(readers[a].current()).cmp(&split(readers[b].current())));
            let Some(i) = smallest else { break };
            let (hash, key) = split(readers[i].current());
            if last
                .as_ref()
                .is_none_or(|(h, k)| (*h, k.as_slice()) != (hash, key))
            {
                out.push(hash, key)?;
                last = Some((hash, key.to_vec()));
            }
            live[i] = readers[i].advance()?;
        }
        self.runs.push(out.finish()?);
        Ok(())
    }
}

/// A run being written, with its block index.
struct IndexedWriter {
    out: RunWriter,
    blocks: Vec<(u64, u64)>,
}

impl IndexedWriter {
    fn new(mem: &OperatorMemory) -> Result<Self, JobError> {
        Ok(IndexedWriter {
            out: RunWriter::create(mem)?,
            blocks: Vec::new(),
        })
    }

    fn push(&mut self, hash: u64, key: &[u8]) -> Result<(), JobError> {
        if let Some(at) = self.out.push_indexed(&[&hash.to_le_bytes(), key])? {
            self.blocks.push((hash, at));
        }
        Ok(())
    }

    fn finish(self) -> Result<IndexedRun, JobError> {
        Ok(IndexedRun {
            run: self.out.finish()?,
            blocks: self.blocks,
        })
    }
}

/// A record's hash and key.
fn split(record: &[u8]) -> (u64, &[u8]) {
    let (hash, key) = record.split_at(8);
    (
        u64::from_le_bytes(hash.try_into().expect("eight bytes")),
        key,
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
            runs.add(|push| {
                for (h, k) in &batch {
                    push(*h, k)?;
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
}
