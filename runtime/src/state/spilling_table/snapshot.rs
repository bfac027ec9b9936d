//! An aggregate's state under the keyed-state contract.
//!
//! Until it first spills, a snapshot is the table's entries in first-seen order. Once it
//! has spilled, the table is spilled too and the snapshot is every spilled entry in the
//! order of its `seq`: a key's partial results appear in the order they were made, its
//! first one where the key was first seen. A restore folds them back with the operator's
//! merge function in that order, so it rebuilds the same accumulators and the same
//! first-seen order, on any subset of the key groups. The partitions' files are finished
//! into runs that stay on as the partitions' older part (`finished`), read by the fold at
//! the end. With text aggregates, an entry's value is its accumulators and then its text
//! values, as spilled records carry them.

use super::SpillingTable;
use crate::parallel::{KeyGroups, DEFAULT_KEY_GROUPS};
use crate::spill::{Run, RunReader};
use crate::state::contract::{KeyedState, SnapshotReader, SnapshotWriter};
use crate::state::key_hash;
use crate::state::SessionExtra;
use crate::JobError;

impl SpillingTable {
    /// Whether any entry went to disk.
    pub(super) fn has_spilled(&self) -> bool {
        !self.partitions.is_empty() || !self.finished.is_empty()
    }

    /// Spills the table and finishes every partition's file into a run kept in
    /// `finished`: all of the state is then in runs, oldest first within each partition.
    fn finish_runs(&mut self) -> Result<(), JobError> {
        self.spill()?;
        let writers = std::mem::take(&mut self.partitions);
        self.finished.resize_with(writers.len(), Vec::new);
        for (p, w) in writers.into_iter().enumerate() {
            self.finished[p].push(w.finish()?);
        }
        // One partition at a time, the one with the most runs: a checkpoint pauses for a
        // partition's worth of joining at the most.
        let fullest =
            (0..self.finished.len()).max_by_key(|&p| (self.finished[p].len(), usize::MAX - p));
        if let Some(p) = fullest {
            self.compact(p)?;
        }
        Ok(())
    }

    /// Brings partition `p` back under [`MOST_RUNS`] runs (each checkpoint adds one to every
    /// partition, and a run is an open file; one partition is joined per checkpoint, so
    /// each keeps at most `MOST_RUNS` plus one per partition): its newest runs become one, all but the oldest
    /// runs that outweigh everything after them, so a large run is rarely written again.
    /// A partition's runs hold increasing `seq`s, one after another, so they are joined as
    /// they are: the result is still in `seq` order. Checkpoints that linked the old runs
    /// keep them.
    fn compact(&mut self, p: usize) -> Result<(), JobError> {
        let runs = &mut self.finished[p];
        if runs.len() <= MOST_RUNS {
            return Ok(());
        }
        let mut keep = 0;
        while keep + 2 < runs.len() {
            let rest: u64 = runs[keep + 1..].iter().map(Run::bytes).sum();
            if runs[keep].bytes() < rest {
                break;
            }
            keep += 1;
        }
        let newest = runs.split_off(keep);
        let joined = Run::concatenate(newest, &self.mem)?;
        self.finished[p].push(joined);
        Ok(())
    }

    /// Links every run into checkpoint folder `folder` (a run is never written again, so
    /// the checkpoint shares it: one taken after another writes only the runs made since)
    /// and names them in the snapshot's operator state.
    fn snapshot_linked(
        &mut self,
        out: &mut SnapshotWriter,
        folder: &std::path::Path,
    ) -> Result<(), JobError> {
        self.finish_runs()?;
        let mut list = RUNS.to_vec();
        for run in self.finished.iter().flatten() {
            let name = link_run(run.path(), folder).map_err(|e| self.mem.spill_error(e))?;
            list.extend_from_slice(&(name.len() as u32).to_le_bytes());
            list.extend_from_slice(name.as_bytes());
        }
        out.operator_state(&list);
        Ok(())
    }

    /// Restores the entries of key groups `groups` from the runs a snapshot linked into its
    /// checkpoint's `folder` (`names`): merged in `seq` order and folded as a snapshot's
    /// entries are, so the same accumulators and first-seen order come back.
    fn restore_linked(
        &mut self,
        names: Vec<&[u8]>,
        folder: Option<&std::path::Path>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError> {
        let folder =
            folder.ok_or_else(|| corrupt("it names runs but was not read from a checkpoint"))?;
        let mut readers = Vec::with_capacity(names.len());
        for name in names {
            let name =
                std::str::from_utf8(name).map_err(|_| corrupt("a run's name is not UTF-8"))?;
            readers.push(Run::open_kept(&folder.join(name), &self.mem)?.read()?);
        }
        let mut live = Vec::with_capacity(readers.len());
        for r in &mut readers {
            live.push(r.advance()?);
        }
        let (acc_size, shape) = (self.acc_size, self.shape());
        let by_group = KeyGroups::new(DEFAULT_KEY_GROUPS, 1);
        let mut block = Vec::new();
        let seq = |r: &RunReader| u64::from_le_bytes(r.current()[..8].try_into().expect("8"));
        loop {
            let Some(next) = (0..readers.len())
                .filter(|&i| live[i])
                .min_by_key(|&i| seq(&readers[i]))
            else {
                return Ok(());
            };
            let record = readers[next].current();
            if record.len() < 8 + acc_size {
                return Err(corrupt("a run's record is shorter than its accumulators"));
            }
            let (_, acc, text, key) = shape.split(record);
            if groups.contains(&by_group.group(key_hash(key))) {
                self.land_part(key, (acc, text), &mut block)?;
            }
            live[next] = readers[next].advance()?;
        }
    }

    /// Writes every spilled entry, in `seq` order, to `out`, keeping the runs.
    fn snapshot_spilled(&mut self, out: &mut SnapshotWriter) -> Result<(), JobError> {
        self.finish_runs()?;
        // Each run with its partition, oldest first within each.
        let mut owners = Vec::new();
        let mut readers: Vec<RunReader> = Vec::new();
        for (p, part) in self.finished.iter_mut().enumerate() {
            for run in std::mem::take(part) {
                owners.push(p);
                readers.push(run.read()?);
            }
        }
        let mut live = Vec::with_capacity(readers.len());
        for r in &mut readers {
            live.push(r.advance()?);
        }
        let shape = self.shape();
        let mut value = Vec::new();
        let seq = |r: &RunReader| u64::from_le_bytes(r.current()[..8].try_into().expect("8"));
        let merged: Result<(), JobError> = (|| loop {
            let Some(next) = (0..readers.len())
                .filter(|&i| live[i])
                .min_by_key(|&i| seq(&readers[i]))
            else {
                return Ok(());
            };
            let (_, acc, text, key) = shape.split(readers[next].current());
            value.clear();
            value.extend_from_slice(acc);
            value.extend_from_slice(text);
            out.push(key_hash(key), key, &value);
            live[next] = readers[next].advance()?;
        })();
        // Every run goes back to its partition, in the order it was taken out.
        for (p, r) in owners.into_iter().zip(readers) {
            self.finished[p].push(r.into_run());
        }
        merged
    }
}

impl KeyedState for SpillingTable {
    fn memory(&self) -> &crate::memory::OperatorMemory {
        &self.mem
    }

    fn snapshot(&mut self, out: &mut SnapshotWriter) -> Result<(), JobError> {
        if self.has_spilled() {
            if let Some(folder) = out.folder().map(std::path::Path::to_path_buf) {
                return self.snapshot_linked(out, &folder);
            }
            return self.snapshot_spilled(out);
        }
        let mut value = Vec::new();
        for (hash, key, acc) in self.table.entries() {
            let acc = &acc[..self.acc_size];
            let Some(text) = &self.text else {
                out.push(hash, key, acc);
                continue;
            };
            value.clear();
            value.extend_from_slice(acc);
            text.copy(acc, &mut value);
            out.push(hash, key, &value);
        }
        Ok(())
    }

    fn restore(
        &mut self,
        from: &mut SnapshotReader<'_>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError> {
        if let Some(names) = linked_runs(from.operator_state())? {
            return self.restore_linked(names, from.folder(), groups);
        }
        let acc_size = self.acc_size;
        let mut block = Vec::new();
        while let Some(entry) = from.next_in(&groups)? {
            let fits = match self.text {
                None => entry.value.len() == acc_size,
                Some(_) => entry.value.len() >= acc_size,
            };
            if !fits {
                return Err(JobError::SnapshotCorrupt {
                    problem: format!(
                        "an aggregate's entry holds {} bytes of accumulators, not {acc_size}",
                        entry.value.len()
                    ),
                });
            }
            self.land_part(entry.key, entry.value.split_at(acc_size), &mut block)?;
        }
        Ok(())
    }
}

/// The most runs a partition keeps between checkpoints ([`SpillingTable::compact`]).
pub(super) const MOST_RUNS: usize = 8;

/// The operator state of a snapshot whose entries are in runs linked beside it.
const RUNS: &[u8] = b"WEIRRUNS";

/// The runs a snapshot names (`None` for one that holds its entries).
fn linked_runs(state: &[u8]) -> Result<Option<Vec<&[u8]>>, JobError> {
    let Some(mut rest) = state.strip_prefix(RUNS) else {
        return Ok(None);
    };
    let mut names = Vec::new();
    while !rest.is_empty() {
        let (len, after) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| corrupt("a run's name is cut short"))?;
        let len = u32::from_le_bytes(*len) as usize;
        let name = after
            .get(..len)
            .ok_or_else(|| corrupt("a run's name is cut short"))?;
        names.push(name);
        rest = &after[len..];
    }
    Ok(Some(names))
}

/// Links the run at `path` into `folder` under a name of its own; a copy where the two
/// are on different file systems. The name.
fn link_run(path: &std::path::Path, folder: &std::path::Path) -> std::io::Result<String> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("run-{}-{n}", std::process::id());
    let to = folder.join(&name);
    if std::fs::hard_link(path, &to).is_err() {
        std::fs::copy(path, &to)?;
    }
    Ok(name)
}

fn corrupt(problem: &str) -> JobError {
    JobError::SnapshotCorrupt {
        problem: format!("an aggregate's spilled snapshot: {problem}"),
    }
}
