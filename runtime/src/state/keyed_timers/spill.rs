//! Timers past the budget: every timer in memory goes to disk at once, in time order to a
//! run of its domain's [`TimerRuns`] (fired from there in turn), and by identity to
//! [`KeyRuns`] (where registering and deleting look a timer up).
//!
//! Memory shadows disk: an identity in memory (a timer set, or a tombstone) decides; one
//! only on disk is set if its newest copy there is. A timer on disk that fires, or is
//! deleted, leaves a tombstone in memory, which the next spill writes over the copy.

use std::time::Instant;

use super::{
    address, is_set, queued, KeyedTimers, TimeDomain, DELETED, ID_HEADER, KEY_HASH, SEQ, STATE,
};
use crate::layout::{read_u64, write_u64};
use crate::spill::{KeyRuns, TimerRuns};
use crate::JobError;

/// The timers one operator spilled.
#[derive(Debug)]
pub(super) struct TimerDisk {
    /// Per domain, the timers in order of (time, seq); payload: the identity.
    queues: [TimerRuns; 2],
    /// Identity to value (seq, key hash, state); a deletion is an empty value.
    index: KeyRuns,
}

impl TimerDisk {
    /// The (time, seq) of `domain`'s next timer on disk.
    pub(super) fn next(&self, domain: TimeDomain) -> Option<(i64, u64)> {
        self.queues[domain as usize].peek()
    }

    /// The sequence number of `id`'s newest copy on disk, if that is a timer set.
    fn newest(&mut self, id: &[u8]) -> Result<Option<u64>, JobError> {
        let value = self.index.get(crate::state::key_hash(id), id)?;
        Ok(value
            .filter(|v| !v.is_empty() && is_set(v))
            .map(|v| read_u64(v, SEQ)))
    }
}

impl KeyedTimers {
    /// Whether the timer `self.id` waits on disk (memory holds no entry of it).
    pub(super) fn pending_on_disk(&mut self) -> Result<bool, JobError> {
        match &mut self.disk {
            None => Ok(false),
            Some(disk) => Ok(disk.newest(&self.id)?.is_some()),
        }
    }

    /// Takes `domain`'s next timer on disk; `true`, with its key in `key`, when it fires
    /// (memory holds no entry of it, and it is the newest copy on disk). One that fires
    /// leaves a tombstone in memory.
    pub(super) fn pop_from_disk(
        &mut self,
        domain: TimeDomain,
        key: &mut Vec<u8>,
    ) -> Result<bool, JobError> {
        let disk = self.disk.as_mut().expect("a timer on disk");
        let Some((_, seq)) = disk.queues[domain as usize].pop(&mut self.id)? else {
            return Ok(false);
        };
        if self.map.find(&self.id).is_some() || disk.newest(&self.id)? != Some(seq) {
            return Ok(false);
        }
        key.clear();
        key.extend_from_slice(&self.id[ID_HEADER..]);
        let hash = crate::state::key_hash(key);
        let id = std::mem::take(&mut self.id);
        let tombstone = self.with_room(|t| {
            let (addr, _) = t.map.insert(&id, |_| {})?;
            let value = t.map.value_mut(addr);
            write_u64(value, KEY_HASH, hash);
            write_u64(value, STATE, DELETED);
            Ok(())
        });
        self.id = id;
        tombstone.map(|()| true)
    }

    /// Writes every timer in memory to disk and empties memory.
    pub(crate) fn spill(&mut self) -> Result<(), JobError> {
        let started = Instant::now();
        let mem = self.mem.clone();
        let disk = self.disk.get_or_insert_with(|| TimerDisk {
            queues: [TimerRuns::new(mem.clone()), TimerRuns::new(mem.clone())],
            index: KeyRuns::with_tombstones(mem),
        });
        for domain in TimeDomain::ALL {
            let d = domain as usize;
            let (queue, map) = (&mut self.queues[d], &self.map);
            disk.queues[d].add(|push| {
                while let Some(t) = queue.pop() {
                    let addr = address(&t);
                    if queued(map, addr, t.seq) {
                        push(t.time, t.seq, map.key(addr))?;
                    }
                }
                Ok(())
            })?;
        }
        // By identity, in order of (hash, identity), as the runs want them. (The order is
        // sorted outside the pool: 16 bytes a timer, for the moment of the spill.)
        let mut order: Vec<(u64, u64)> = self
            .map
            .entries()
            .map(|(addr, hash, _, _)| (hash, addr))
            .collect();
        order.sort_by(|a, b| (a.0, self.map.key(a.1)).cmp(&(b.0, self.map.key(b.1))));
        let map = &self.map;
        disk.index.add(order.len(), |push| {
            for &(hash, addr) in &order {
                let value = map.value(addr);
                let kept: &[u8] = if is_set(value) { value } else { &[] };
                push(hash, map.key(addr), kept)?;
            }
            Ok(())
        })?;
        self.map.clear();
        for d in 0..2 {
            self.queues[d].clear();
            self.live[d] = 0;
            self.stale[d] = 0;
        }
        self.mem.note_spill_work(1, started.elapsed());
        Ok(())
    }
}

/// Calls `each(key hash, identity, seq)` for every timer set on disk (its newest copy),
/// for a snapshot; identities memory holds are left out: memory decides those.
pub(super) fn pending_timers(
    timers: &mut KeyedTimers,
    mut each: impl FnMut(u64, &[u8], u64) -> Result<(), JobError>,
) -> Result<(), JobError> {
    let Some(disk) = timers.disk.as_mut() else {
        return Ok(());
    };
    let map = &timers.map;
    disk.index.visit_newest(|_, id, value| {
        if value.is_empty() || !is_set(value) || map.find(id).is_some() {
            return Ok(());
        }
        each(read_u64(value, KEY_HASH), id, read_u64(value, SEQ))
    })
}
