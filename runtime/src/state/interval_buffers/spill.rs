//! Interval join buffers past their budget: the oldest bucket in memory (of either side)
//! goes to disk as its keys with their records, merged with what the bucket already has
//! there; records that probe it look their key up on disk.

use std::time::Instant;

use super::{IntervalBuffers, SideBuffer};
use crate::spill::KeyRuns;
use crate::state::join_records::JoinSide;
use crate::JobError;

impl IntervalBuffers {
    /// After `e` while adding to bucket `keep` of `side`: spills until a page goes back
    /// to the pool: first a bucket of records waiting for their deadline (outer joins; read
    /// once, front to back, when due), then the oldest kept bucket in memory of either side,
    /// `keep` last; `e` itself when it is not the budget running out, or nothing spilled
    /// frees a page.
    pub(super) fn make_room(
        &mut self,
        e: JobError,
        side: JoinSide,
        keep: i64,
    ) -> Result<(), JobError> {
        if !matches!(e, JobError::MemoryBudget { .. }) || !self.mem.can_spill() {
            return Err(e);
        }
        let before = self.mem.pages_in_use();
        let mem = self.mem.clone();
        let freed = move || mem.pages_in_use() < before;
        for waiting in self.waiting.iter_mut().flatten() {
            while waiting.spill_latest()? {
                if freed() {
                    return Ok(());
                }
            }
        }
        while let Some((victim, start)) = self.oldest_in_memory(side, keep) {
            let started = Instant::now();
            match victim {
                JoinSide::Left => spill_bucket(&mut self.left, start)?,
                JoinSide::Right => spill_bucket(&mut self.right, start)?,
            }
            self.mem.note_spill_work(1, started.elapsed());
            if freed() {
                return Ok(());
            }
            if start == keep && victim == side {
                break;
            }
        }
        Err(e)
    }

    /// The oldest kept bucket holding records in memory, of either side, any other before
    /// bucket `keep` of `side` (which receives a record).
    fn oldest_in_memory(&self, side: JoinSide, keep: i64) -> Option<(JoinSide, i64)> {
        [JoinSide::Left, JoinSide::Right]
            .into_iter()
            .filter_map(|s| {
                let buffer = if s == JoinSide::Left {
                    &self.left
                } else {
                    &self.right
                };
                let own = if s == side { keep } else { i64::MIN };
                buffer
                    .memory
                    .first_in_memory(own)
                    .map(|start| ((s == side && start == keep, start), s))
            })
            .min_by_key(|(order, _)| *order)
            .map(|((_, start), s)| (s, start))
    }
}

/// Writes bucket `start` of `side` to disk: one run of its keys in (hash, key) order, each
/// with the records it already had on disk followed by those in memory, so a key's
/// records stay in arrival order; then frees the bucket's memory. The bucket's records are
/// copied out of the pool once while they are written (its size, at most the budget).
fn spill_bucket(side: &mut SideBuffer, start: i64) -> Result<(), JobError> {
    let mem = side.memory.memory().clone();
    let old = side.disk.remove(&start);
    // The keys in memory, each with its records as `[length][record]` entries.
    let mut fresh: Vec<(u64, Vec<u8>, Vec<u8>)> = Vec::new();
    side.memory
        .drain_window(start, JoinSide::Left, |hash, key, records| {
            let mut value = Vec::new();
            for stored in records {
                value.extend_from_slice(&(stored.len() as u32).to_le_bytes());
                value.extend_from_slice(stored);
            }
            fresh.push((hash, key.to_vec(), value));
            Ok(())
        })?;
    let hasher = &side.memory;
    let mut runs = KeyRuns::new(mem);
    let count = fresh.len();
    let mut written = 0;
    runs.add(count, |push| {
        let mut push = |hash: u64, key: &[u8], value: &[u8]| {
            written += 1;
            push(hash, key, value)
        };
        let mut next = fresh.iter().peekable();
        if let Some(old) = old {
            old.drain_newest(|key, value| {
                let hash = hasher.hash(key);
                while let Some((h, k, v)) =
                    next.next_if(|(h, k, _)| (*h, k.as_slice()) < (hash, key))
                {
                    push(*h, k, v)?;
                }
                match next.next_if(|(h, k, _)| (*h, k.as_slice()) == (hash, key)) {
                    Some((_, _, v)) => {
                        let mut both = value.to_vec();
                        both.extend_from_slice(v);
                        push(hash, key, &both)
                    }
                    None => push(hash, key, value),
                }
            })?;
        }
        for (h, k, v) in next {
            push(*h, k, v)?;
        }
        Ok(())
    })?;
    side.disk.insert(start, runs);
    side.disk_keys.insert(start, written);
    Ok(())
}
