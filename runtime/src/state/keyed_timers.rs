//! The keyed timer service: timers kept by key, time and time domain, in pool pages, as a
//! keyed process function registers them (Flink's `TimerService`).

use super::{PagedMap, Timer, TimerHeap};
use crate::layout::{read_u64, write_u64};
use crate::memory::OperatorMemory;
use crate::spill::can_spill_after;
use crate::JobError;

mod snapshot;
mod spill;

/// Which clock a timer follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeDomain {
    /// Fires when the watermark reaches its time.
    EventTime = 0,
    /// Fires when the job's clock reaches its time.
    ProcessingTime = 1,
}

impl TimeDomain {
    /// Both domains, in the order of their queues.
    pub const ALL: [TimeDomain; 2] = [TimeDomain::EventTime, TimeDomain::ProcessingTime];

    fn from_byte(b: u8) -> Result<Self, JobError> {
        match b {
            0 => Ok(TimeDomain::EventTime),
            1 => Ok(TimeDomain::ProcessingTime),
            _ => Err(JobError::SnapshotCorrupt {
                problem: format!("a timer of unknown time domain {b}"),
            }),
        }
    }
}

/// In an entry's value: the timer's sequence number, its key's hash, and its state.
const SEQ: usize = 0;
const KEY_HASH: usize = 8;
const STATE: usize = 16;
const VALUE: usize = 24;
/// A timer waiting to fire.
const LIVE: u64 = 1;
/// No timer, where disk says there is one (a timer deleted, or fired, after it went
/// there): hides the copy on disk until the next spill writes this over it.
const DELETED: u64 = 2;
/// A timer waiting to fire, set again over a copy on disk that is no longer one: when it
/// fires or is deleted it becomes [`DELETED`], to go on hiding that copy.
const LIVE_OVER_DISK: u64 = 3;
/// An identity's bytes before the key: the domain and the time.
const ID_HEADER: usize = 9;
/// Stale queue entries tolerated before a queue is rebuilt from the live timers.
const STALE_SLACK: usize = 256;

/// Timers by key, time and domain.
///
/// * **One per key, time and domain**, as in Flink: registering a timer that is already
///   set does nothing.
/// * **Deletion**: a timer can be deleted by its key, time and domain.
/// * **Order**: timers fire in order of time, then of registration, so the same input
///   always fires them in the same order.
/// * **Memory**: each timer is an entry of a [`PagedMap`] (its identity: domain, time and
///   key) and a place in its domain's [`TimerHeap`], the queue window state also uses. A
///   deleted timer's place in the queue goes stale and is passed over; a queue with more
///   stale places than timers is rebuilt.
/// * **Spilling** (`spill.rs`): past the budget every timer goes to disk, in time order to
///   the [`crate::spill::TimerRuns`] session windows also use, and by identity to a
///   [`crate::spill::KeyRuns`] where registering and deleting look it up.
/// * **Snapshot by key group** (`snapshot.rs`): through the keyed-state contract.
#[derive(Debug)]
pub struct KeyedTimers {
    map: PagedMap,
    queues: [TimerHeap; 2],
    /// Live timers in memory, per domain.
    live: [usize; 2],
    /// Stale places in each queue.
    stale: [usize; 2],
    seq: u64,
    mem: OperatorMemory,
    disk: Option<spill::TimerDisk>,
    /// The identity being looked up.
    id: Vec<u8>,
}

impl KeyedTimers {
    /// No timers yet. Takes its first page at once, so a budget too small for any state
    /// fails at start.
    pub fn new(mem: OperatorMemory) -> Result<Self, JobError> {
        Ok(KeyedTimers {
            map: PagedMap::new(mem.clone(), VALUE)?,
            queues: [TimerHeap::new(mem.clone()), TimerHeap::new(mem.clone())],
            live: [0; 2],
            stale: [0; 2],
            seq: 0,
            mem,
            disk: None,
            id: Vec::new(),
        })
    }

    /// Sets a timer for `key` at `time` in `domain`; `false` when it was already set.
    pub fn register(
        &mut self,
        domain: TimeDomain,
        key: &[u8],
        time: i64,
    ) -> Result<bool, JobError> {
        self.seq += 1;
        let seq = self.seq;
        self.with_room(|t| t.try_register(domain, key, time, seq))
    }

    /// Deletes the timer of `key` at `time` in `domain`; `false` when none was set.
    pub fn delete(&mut self, domain: TimeDomain, key: &[u8], time: i64) -> Result<bool, JobError> {
        self.with_room(|t| t.try_delete(domain, key, time))
    }

    /// The time of the earliest timer of `domain`, if any: none fires before it.
    #[inline]
    pub fn next_time(&self, domain: TimeDomain) -> Option<i64> {
        let in_memory = self.queues[domain as usize].next_time();
        let on_disk = self
            .disk
            .as_ref()
            .and_then(|d| d.next(domain))
            .map(|(t, _)| t);
        match (in_memory, on_disk) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Takes the earliest timer of `domain` due at `now` (its time at most `now`): its key
    /// in `key` and its time. `None` when no timer is due.
    pub fn pop_due(
        &mut self,
        domain: TimeDomain,
        now: i64,
        key: &mut Vec<u8>,
    ) -> Result<Option<i64>, JobError> {
        let d = domain as usize;
        loop {
            let in_memory = self.queues[d].peek();
            let on_disk = self.disk.as_ref().and_then(|disk| disk.next(domain));
            let from_disk = match (in_memory, on_disk) {
                (Some(m), Some(o)) => o < (m.time, m.seq),
                (None, Some(_)) => true,
                (_, None) => false,
            };
            if from_disk {
                let (time, _) = on_disk.expect("a timer on disk");
                if time > now {
                    return Ok(None);
                }
                if self.pop_from_disk(domain, key)? {
                    return Ok(Some(time));
                }
                continue;
            }
            let Some(t) = in_memory else {
                return Ok(None);
            };
            if t.time > now {
                return Ok(None);
            }
            self.queues[d].pop();
            let addr = address(&t);
            if !self.is_queued(addr, t.seq) {
                self.stale[d] -= 1;
                continue;
            }
            key.clear();
            key.extend_from_slice(&self.map.key(addr)[ID_HEADER..]);
            self.unset(addr);
            self.live[d] -= 1;
            return Ok(Some(t.time));
        }
    }

    /// Whether memory holds any timer entry (set, or hiding one on disk): what a spill
    /// would free.
    pub(crate) fn holds_entries(&self) -> bool {
        !self.map.is_empty()
    }

    /// Timers set in memory (those on disk are not counted).
    pub fn len_in_memory(&self) -> usize {
        self.live[0] + self.live[1]
    }

    fn try_register(
        &mut self,
        domain: TimeDomain,
        key: &[u8],
        time: i64,
        seq: u64,
    ) -> Result<bool, JobError> {
        identity(&mut self.id, domain, time, key);
        let d = domain as usize;
        let found = self.map.find(&self.id);
        let set = match found {
            Some(addr) if is_set(self.map.value(addr)) => return Ok(false),
            // Deleted or fired over a copy on disk, which it must go on hiding.
            Some(_) => LIVE_OVER_DISK,
            None if self.pending_on_disk()? => return Ok(false),
            None => LIVE,
        };
        // Room in the queue first: nothing below can fail halfway.
        self.queues[d].reserve(1)?;
        let addr = match found {
            Some(addr) => addr,
            None => self.map.insert(&self.id, |_| {})?.0,
        };
        let hash = super::key_hash(key);
        let value = self.map.value_mut(addr);
        write_u64(value, SEQ, seq);
        write_u64(value, KEY_HASH, hash);
        write_u64(value, STATE, set);
        self.queues[d].push(timer(time, seq, addr))?;
        self.live[d] += 1;
        Ok(true)
    }

    fn try_delete(&mut self, domain: TimeDomain, key: &[u8], time: i64) -> Result<bool, JobError> {
        identity(&mut self.id, domain, time, key);
        let d = domain as usize;
        match self.map.find(&self.id) {
            Some(addr) if is_set(self.map.value(addr)) => {
                self.unset(addr);
                self.live[d] -= 1;
                self.stale[d] += 1;
                self.compact(domain)?;
                Ok(true)
            }
            Some(_) => Ok(false),
            None if self.pending_on_disk()? => {
                let hash = super::key_hash(key);
                let (addr, _) = self.map.insert(&self.id, |_| {})?;
                let value = self.map.value_mut(addr);
                write_u64(value, KEY_HASH, hash);
                write_u64(value, STATE, DELETED);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Whether the queue place of `seq` at `addr` is a live timer (not since deleted,
    /// fired, or registered again).
    fn is_queued(&self, addr: u64, seq: u64) -> bool {
        queued(&self.map, addr, seq)
    }

    /// The timer at `addr` is gone (fired or deleted): its entry goes, or stays as a
    /// tombstone where it hides a copy on disk.
    fn unset(&mut self, addr: u64) {
        if state(self.map.value(addr)) == LIVE_OVER_DISK {
            write_u64(self.map.value_mut(addr), STATE, DELETED);
        } else {
            self.map.remove(addr);
        }
    }

    /// Rebuilds `domain`'s queue from the live timers once most of its places are stale,
    /// so deleting timers that never fire does not grow it without end.
    fn compact(&mut self, domain: TimeDomain) -> Result<(), JobError> {
        let d = domain as usize;
        if self.stale[d] < STALE_SLACK || self.stale[d] < self.live[d] {
            return Ok(());
        }
        self.queues[d].clear();
        self.stale[d] = 0;
        let mut timers: Vec<Timer> = Vec::with_capacity(self.live[d]);
        for (addr, _, id, value) in self.map.entries() {
            if id[0] == domain as u8 && is_set(value) {
                timers.push(timer(time_of(id), read_u64(value, SEQ), addr));
            }
        }
        // In order, so each goes to the queue's in-order run.
        timers.sort_by_key(|t| (t.time, t.seq));
        for t in timers {
            self.queues[d].push(t)?;
        }
        Ok(())
    }

    /// Runs `op`; when the budget runs out and the operator may spill, spills every timer
    /// and runs it again.
    fn with_room<T>(
        &mut self,
        mut op: impl FnMut(&mut Self) -> Result<T, JobError>,
    ) -> Result<T, JobError> {
        match op(self) {
            Err(e) if can_spill_after(&e, &self.mem, !self.map.is_empty()) => {
                self.spill()?;
                op(self)
            }
            done => done,
        }
    }
}

/// A timer's identity, `[domain][time][key]`, into `out`.
fn identity(out: &mut Vec<u8>, domain: TimeDomain, time: i64, key: &[u8]) {
    out.clear();
    out.push(domain as u8);
    out.extend_from_slice(&time.to_le_bytes());
    out.extend_from_slice(key);
}

fn time_of(id: &[u8]) -> i64 {
    i64::from_le_bytes(id[1..ID_HEADER].try_into().expect("eight bytes"))
}

fn state(value: &[u8]) -> u64 {
    read_u64(value, STATE)
}

/// Whether an entry's value is a timer waiting to fire.
fn is_set(value: &[u8]) -> bool {
    matches!(state(value), LIVE | LIVE_OVER_DISK)
}

/// Whether the queue place of `seq` at `addr` of `map` is a timer waiting to fire.
fn queued(map: &PagedMap, addr: u64, seq: u64) -> bool {
    map.is_live(addr) && {
        let value = map.value(addr);
        is_set(value) && read_u64(value, SEQ) == seq
    }
}

/// A queue place for the timer at `addr`: the heap's node and version words carry the
/// address.
fn timer(time: i64, seq: u64, addr: u64) -> Timer {
    Timer {
        time,
        seq,
        node: (addr >> 32) as u32,
        version: addr as u32,
    }
}

fn address(t: &Timer) -> u64 {
    u64::from(t.node) << 32 | u64::from(t.version)
}

#[cfg(test)]
mod tests;
