//! The state of a keyed process function: each key's values (its scalars, lists and maps,
//! encoded together by the generated code) and its timers, in pool pages under the
//! operator's budget, spilling past it.

use std::time::Instant;

use super::storage::BlobStore;
use super::{KeyedTimers, PagedMap, TimeDomain};
use crate::layout::{read_u64, write_u64};
use crate::memory::OperatorMemory;
use crate::spill::{can_spill_after, KeyRuns};
use crate::JobError;

mod codec;
mod snapshot;

pub use codec::StateValue;

/// In an index entry's value: the length of the key's value and its handle in the store.
const LEN: usize = 0;
const HANDLE: usize = 8;
const ENTRY: usize = 16;
/// The length of a key cleared in memory whose older value may be on disk: hides it until
/// the next spill writes the clearing over it.
const CLEARED: u64 = u64::MAX;

/// Each key's process state, and the keys' timers.
///
/// * **Values**: a key's state is one byte string (the generated code's encoding of its
///   scalars, lists and maps); the empty string is a key with nothing kept, which takes no
///   memory. An index ([`PagedMap`]) finds each key's value in a [`BlobStore`].
/// * **Timers**: a [`KeyedTimers`] under the same budget.
/// * **Spilling**: past the budget every value in memory goes to disk as a run sorted by
///   hash ([`KeyRuns`], where a cleared key is an empty value over older ones); a key not
///   in memory is looked up there. Memory shadows disk.
/// * **Snapshot by key group** (`snapshot.rs`): values and timers, through the keyed-state
///   contract.
#[derive(Debug)]
pub struct ProcessState {
    index: PagedMap,
    values: BlobStore,
    timers: KeyedTimers,
    mem: OperatorMemory,
    disk: Option<KeyRuns>,
    /// A chained value gathered, or a value read from disk.
    scratch: Vec<u8>,
    /// Timers set (not counting one set again at its time) and fired, for `--stats`.
    timers_set: u64,
    timers_fired: u64,
}

impl ProcessState {
    /// No key has state yet. Takes its first pages at once, so a budget too small for any
    /// state fails at start.
    pub fn new(mem: OperatorMemory) -> Result<Self, JobError> {
        Ok(ProcessState {
            index: PagedMap::sparse(mem.clone(), ENTRY)?,
            values: BlobStore::new(mem.clone()),
            timers: KeyedTimers::new(mem.clone())?,
            mem,
            disk: None,
            scratch: Vec::new(),
            timers_set: 0,
            timers_fired: 0,
        })
    }

    /// The state of `key`; `None` when it has none (never set, or cleared).
    #[inline]
    pub fn get(&mut self, key: &[u8]) -> Result<Option<&[u8]>, JobError> {
        self.get_hashed(key, super::key_hash(key))
    }

    /// [`ProcessState::get`] of a key whose hash the caller has (it must be
    /// [`super::key_hash`] of `key`; generated code reads a string key's from the
    /// record, [`super::str_key_hash`]).
    #[inline]
    pub fn get_hashed(&mut self, key: &[u8], hash: u64) -> Result<Option<&[u8]>, JobError> {
        if let Some(addr) = self.index.find_hashed(key, hash) {
            let entry = self.index.value(addr);
            let len = read_u64(entry, LEN);
            if len == CLEARED {
                return Ok(None);
            }
            let handle = read_u64(entry, HANDLE);
            return Ok(Some(self.values.get(
                handle,
                len as usize,
                &mut self.scratch,
            )));
        }
        let Some(disk) = &mut self.disk else {
            return Ok(None);
        };
        match disk.get(hash, key)? {
            Some(v) if !v.is_empty() => {
                self.scratch.clear();
                self.scratch.extend_from_slice(v);
                Ok(Some(&self.scratch))
            }
            _ => Ok(None),
        }
    }

    /// Sets the state of `key` to `value`; an empty `value` clears it.
    #[inline]
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), JobError> {
        self.with_room(|s| s.try_put(key, value))
    }

    /// Sets a timer for `key` at `time` in `domain`; `false` when it was already set.
    pub fn register_timer(
        &mut self,
        domain: TimeDomain,
        key: &[u8],
        time: i64,
    ) -> Result<bool, JobError> {
        let set = self.with_room(|s| s.timers.register(domain, key, time))?;
        self.timers_set += u64::from(set);
        Ok(set)
    }

    /// Deletes the timer of `key` at `time` in `domain`; `false` when none was set.
    pub fn delete_timer(
        &mut self,
        domain: TimeDomain,
        key: &[u8],
        time: i64,
    ) -> Result<bool, JobError> {
        self.with_room(|s| s.timers.delete(domain, key, time))
    }

    /// Runs `op`; when the budget runs out and the operator may spill, spills what memory
    /// holds (values and timers share the budget: either may hold the pages the other
    /// needs) and runs it again.
    fn with_room<T>(
        &mut self,
        mut op: impl FnMut(&mut Self) -> Result<T, JobError>,
    ) -> Result<T, JobError> {
        match op(self) {
            Err(e) if can_spill_after(&e, &self.mem, self.holds_entries()) => {
                if !self.index.is_empty() {
                    self.spill()?;
                }
                if self.timers.holds_entries() {
                    self.timers.spill()?;
                }
                op(self)
            }
            done => done,
        }
    }

    fn holds_entries(&self) -> bool {
        !self.index.is_empty() || self.timers.holds_entries()
    }

    /// Takes the earliest timer of `domain` due at `now`: its key into `key`, and its time.
    pub fn pop_due_timer(
        &mut self,
        domain: TimeDomain,
        now: i64,
        key: &mut Vec<u8>,
    ) -> Result<Option<i64>, JobError> {
        let due = self.timers.pop_due(domain, now, key)?;
        self.timers_fired += u64::from(due.is_some());
        Ok(due)
    }

    /// Timers set over the run (a timer set again at its time counts once) and fired.
    pub fn timer_counts(&self) -> (u64, u64) {
        (self.timers_set, self.timers_fired)
    }

    /// The time of the earliest timer of `domain`, if any.
    #[inline]
    pub fn next_timer(&self, domain: TimeDomain) -> Option<i64> {
        self.timers.next_time(domain)
    }

    /// Keys with state in memory (those only on disk are not counted).
    pub fn keys_in_memory(&self) -> usize {
        self.index.len()
    }

    /// Timers set in memory.
    pub fn timers_in_memory(&self) -> usize {
        self.timers.len_in_memory()
    }

    /// Bytes of values in memory.
    pub fn value_bytes(&self) -> u64 {
        self.values.bytes()
    }

    fn try_put(&mut self, key: &[u8], value: &[u8]) -> Result<(), JobError> {
        let found = self.index.find(key);
        if value.is_empty() {
            match found {
                Some(addr) => self.clear_entry(addr),
                // Only a value on disk could be hidden: memory is the newest word.
                None if self.disk.is_some() => {
                    let (addr, _) = self.index.insert(key, |_| {})?;
                    write_u64(self.index.value_mut(addr), LEN, CLEARED);
                }
                None => {}
            }
            return Ok(());
        }
        if let Some(addr) = found {
            let entry = self.index.value(addr);
            let (len, handle) = (read_u64(entry, LEN), read_u64(entry, HANDLE));
            if len == value.len() as u64 {
                self.values.overwrite(handle, value);
                return Ok(());
            }
            // The new value first: when the budget runs out, the old one is still there.
            let new = self.values.put(value)?;
            if len != CLEARED {
                self.values.free(handle, len as usize);
            }
            let entry = self.index.value_mut(addr);
            write_u64(entry, LEN, value.len() as u64);
            write_u64(entry, HANDLE, new);
            return Ok(());
        }
        let new = self.values.put(value)?;
        match self.index.insert(key, |_| {}) {
            Ok((addr, _)) => {
                let entry = self.index.value_mut(addr);
                write_u64(entry, LEN, value.len() as u64);
                write_u64(entry, HANDLE, new);
                Ok(())
            }
            Err(e) => {
                self.values.free(new, value.len());
                Err(e)
            }
        }
    }

    /// Clears the key at `addr`: its entry goes, or stays as a clearing where disk may
    /// hold an older value.
    fn clear_entry(&mut self, addr: u64) {
        let entry = self.index.value(addr);
        let (len, handle) = (read_u64(entry, LEN), read_u64(entry, HANDLE));
        if len != CLEARED {
            self.values.free(handle, len as usize);
        }
        if self.disk.is_some() {
            write_u64(self.index.value_mut(addr), LEN, CLEARED);
        } else {
            self.index.remove(addr);
        }
    }

    /// Writes every value in memory to disk, in order of (hash, key), and empties memory.
    #[cold]
    fn spill(&mut self) -> Result<(), JobError> {
        let started = Instant::now();
        let disk = self
            .disk
            .get_or_insert_with(|| KeyRuns::with_tombstones(self.mem.clone()));
        // Sorted outside the pool: 16 bytes a key, for the moment of the spill.
        let mut order: Vec<(u64, u64)> = self
            .index
            .entries()
            .map(|(addr, hash, _, _)| (hash, addr))
            .collect();
        let index = &self.index;
        order.sort_by(|a, b| (a.0, index.key(a.1)).cmp(&(b.0, index.key(b.1))));
        let (values, scratch) = (&self.values, &mut self.scratch);
        disk.add(order.len(), |push| {
            for &(hash, addr) in &order {
                let entry = index.value(addr);
                let len = read_u64(entry, LEN);
                let value: &[u8] = if len == CLEARED {
                    &[]
                } else {
                    values.get(read_u64(entry, HANDLE), len as usize, scratch)
                };
                push(hash, index.key(addr), value)?;
            }
            Ok(())
        })?;
        self.index.clear();
        self.values.clear();
        self.mem.note_spill_work(1, started.elapsed());
        Ok(())
    }
}

#[cfg(test)]
mod tests;
