//! `count_distinct(e)`'s sets: every distinct value of a slot, exactly, as an entry of one
//! hash map per state ([`PagedMap`]) keyed by `[set id][value]`, so that a value is
//! looked up in one probe however big its set is. A set's entries are also a list, each
//! entry's value naming the next, so a set can be written out, merged and let go without
//! a scan of the map. The slot's three words are the first entry's address, the count
//! (`NONE`: no value yet) and the set's id (ids are the state's own and never written
//! out: a set restored gets a new one).
//!
//! A set's member is a value's bytes after a tag 0, or, for a value longer than
//! [`long_value`] bytes, its SHA-256 digest after a tag 1: a digest stands for its value
//! as exactly as the bytes would (no two values known have one), and keeps every key
//! within a page.
//!
//! Merging moves each of the later set's entries into the earlier set by removing it and
//! inserting it again under the other id: the freed slot is the one the new entry takes
//! and the map holds no more keys than before, so a merge takes no memory and cannot fail.

use sha2::{Digest, Sha256};

use super::NONE;
use crate::memory::OperatorMemory;
use crate::state::storage::{acc_get, acc_set, PagedMap};
use crate::JobError;

/// Accumulator words a set takes.
pub(crate) const WORDS: usize = 3;

const HEAD: usize = 0;
const COUNT: usize = 8;
const ID: usize = 16;
/// The next address of a set's last entry.
const END: u64 = u64::MAX;
/// An entry's bytes besides its value: the index slot, header, key length and next link,
/// about; for estimating what a restore takes.
const ENTRY_OVERHEAD: usize = 8 + 16 + 8 + 8;

/// The sets of one state's `count_distinct` slots.
#[derive(Debug)]
pub(super) struct DistinctSets {
    mem: OperatorMemory,
    /// Made at the first value, and dropped (its pages going back) when the last set is
    /// let go.
    map: Option<PagedMap>,
    next_id: u64,
    /// A key being built: `[set id][value]`.
    key: Vec<u8>,
}

impl DistinctSets {
    pub(super) fn new(mem: OperatorMemory) -> Self {
        DistinctSets {
            mem,
            map: None,
            next_id: 0,
            key: Vec::new(),
        }
    }

    /// How many distinct values the set at `off` of `acc` holds.
    pub(super) fn count(acc: &[u8], off: usize) -> u64 {
        match acc_get::<u64>(acc, off + COUNT) {
            NONE => 0,
            n => n,
        }
    }

    /// Whether the set at `off` of `acc` holds `value`.
    pub(super) fn contains(&mut self, acc: &[u8], off: usize, value: &[u8]) -> bool {
        let (Some(map), false) = (&self.map, acc_get::<u64>(acc, off + COUNT) == NONE) else {
            return false;
        };
        let long = long_value(self.mem.page_size());
        let key = key_of(
            &mut self.key,
            acc_get(acc, off + ID),
            Member::of(value, long),
        );
        map.find(key).is_some()
    }

    /// An entry for `value`, not yet in the set at `off` of `acc` (which must not hold
    /// it): [`link`](Self::link) makes it the set's, [`discard`](Self::discard) takes it
    /// back. An empty set gets its id here.
    pub(super) fn add_entry(
        &mut self,
        acc: &mut [u8],
        off: usize,
        value: &[u8],
    ) -> Result<u64, JobError> {
        let long = long_value(self.mem.page_size());
        self.add_member(acc, off, Member::of(value, long))
    }

    /// [`add_entry`](Self::add_entry) of a member as [`Member::of`] makes it.
    fn add_member(
        &mut self,
        acc: &mut [u8],
        off: usize,
        member: Member<'_>,
    ) -> Result<u64, JobError> {
        if acc_get::<u64>(acc, off + COUNT) == NONE {
            acc_set(acc, off + ID, self.next_id);
            acc_set(acc, off + HEAD, END);
            self.next_id += 1;
        }
        let map = match &mut self.map {
            Some(map) => map,
            None => self.map.insert(PagedMap::new(self.mem.clone(), 8)?),
        };
        let key = key_of(&mut self.key, acc_get(acc, off + ID), member);
        let (addr, fresh) = map.insert(key, |_| {})?;
        debug_assert!(fresh, "a value the set did not hold");
        Ok(addr)
    }

    /// Makes entry `addr` (from [`add_entry`](Self::add_entry)) one of the set at `off`.
    pub(super) fn link(&mut self, acc: &mut [u8], off: usize, addr: u64) {
        let map = self.map.as_mut().expect("an entry was added");
        let head = match acc_get::<u64>(acc, off + COUNT) {
            NONE => END,
            _ => acc_get(acc, off + HEAD),
        };
        map.value_mut(addr).copy_from_slice(&head.to_le_bytes());
        acc_set(acc, off + HEAD, addr);
        acc_set(acc, off + COUNT, Self::count(acc, off) + 1);
    }

    /// Takes back entry `addr` from [`add_entry`](Self::add_entry), never linked.
    pub(super) fn discard(&mut self, addr: u64) {
        if let Some(map) = &mut self.map {
            map.remove(addr);
        }
        self.drop_if_empty();
    }

    /// Writes the set at `off` of `acc` out after `out`: each member (tag and value or
    /// digest) as `[length: u32][bytes]`.
    pub(super) fn write(&self, acc: &[u8], off: usize, out: &mut Vec<u8>) {
        let Some(map) = &self.map else {
            return;
        };
        let mut at = acc_get::<u64>(acc, off + HEAD);
        while at != END {
            let value = &map.key(at)[8..];
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
            out.extend_from_slice(value);
            at = next(map, at);
        }
    }

    /// Bytes of memory taking back a set written out as `written` needs at most: each
    /// entry's slot, and its share of an index that grows at half full (both the old and
    /// the new index held while it grows).
    pub(super) fn restore_bytes(written: &[u8]) -> u64 {
        let mut bytes = 0;
        for value in values(written) {
            bytes += (ENTRY_OVERHEAD + value.len()).next_power_of_two() as u64 + 48;
        }
        bytes
    }

    /// Takes back a set written out by [`write`](Self::write) into the slot at `off` of
    /// `acc`; all or nothing.
    pub(super) fn restore(
        &mut self,
        acc: &mut [u8],
        off: usize,
        written: &[u8],
    ) -> Result<(), JobError> {
        acc_set(acc, off + COUNT, NONE);
        for member in values(written) {
            let added = self.add_member(acc, off, Member::Written(member));
            match added {
                Ok(addr) => self.link(acc, off, addr),
                Err(e) => {
                    self.release(acc, off);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Set `from` at `off` merged into set `into` at `off`: `from`'s values `into` lacks
    /// become its, the rest go. Takes no memory (see the module's documentation).
    pub(super) fn merge(&mut self, into: &mut [u8], from: &[u8], off: usize) {
        if acc_get::<u64>(from, off + COUNT) == NONE {
            return;
        }
        if acc_get::<u64>(into, off + COUNT) == NONE {
            into[off..off + WORDS * 8].copy_from_slice(&from[off..off + WORDS * 8]);
            return;
        }
        let map = self.map.as_mut().expect("sets with values");
        let into_id = acc_get::<u64>(into, off + ID);
        let mut at = acc_get::<u64>(from, off + HEAD);
        let mut value = Vec::new();
        while at != END {
            let following = next(map, at);
            value.clear();
            value.extend_from_slice(&map.key(at)[8..]);
            map.remove(at);
            let key = key_of(&mut self.key, into_id, Member::Written(&value));
            if map.find(key).is_none() {
                // The slot just freed is of this key's size, and the map holds one key
                // fewer than it did: the insert takes no memory.
                let (addr, _) = map
                    .insert(key, |_| {})
                    .expect("an entry in the slot of the one removed");
                let head = acc_get::<u64>(into, off + HEAD);
                map.value_mut(addr).copy_from_slice(&head.to_le_bytes());
                acc_set(into, off + HEAD, addr);
                acc_set(into, off + COUNT, Self::count(into, off) + 1);
            }
            at = following;
        }
    }

    /// Lets every value of the set at `off` of `acc` go, and marks it empty.
    pub(super) fn release(&mut self, acc: &mut [u8], off: usize) {
        self.release_set(acc, off);
        acc_set(acc, off + COUNT, NONE);
    }

    /// Lets every value of the set at `off` of `acc` go (the block itself is dropped).
    pub(super) fn release_set(&mut self, acc: &[u8], off: usize) {
        if acc_get::<u64>(acc, off + COUNT) == NONE {
            return;
        }
        let Some(map) = &mut self.map else {
            return;
        };
        let mut at = acc_get::<u64>(acc, off + HEAD);
        while at != END {
            let following = next(map, at);
            map.remove(at);
            at = following;
        }
        self.drop_if_empty();
    }

    /// Drops every set, and the map's pages.
    pub(super) fn clear(&mut self) {
        self.map = None;
    }

    fn drop_if_empty(&mut self) {
        if self.map.as_ref().is_some_and(PagedMap::is_empty) {
            self.map = None;
        }
    }
}

/// The entry after `at` in its set.
fn next(map: &PagedMap, at: u64) -> u64 {
    u64::from_le_bytes(map.value(at).try_into().expect("a link"))
}

/// Values longer than this, in pages of `page` bytes, are members by their digest: a
/// key must fit in a page with its entry's header.
pub(super) fn long_value(page: usize) -> usize {
    (page / 8).min(1024)
}

/// A set's member, as a key holds it after the set's id.
#[derive(Debug, Clone, Copy)]
enum Member<'v> {
    /// A value, tag 0.
    Value(&'v [u8]),
    /// A long value's digest, tag 1.
    Digest([u8; 32]),
    /// A member as written out: its tag and bytes.
    Written(&'v [u8]),
}

impl<'v> Member<'v> {
    /// The member standing for `value`, which is long past `long` bytes.
    fn of(value: &'v [u8], long: usize) -> Self {
        if value.len() <= long {
            Member::Value(value)
        } else {
            Member::Digest(Sha256::digest(value).into())
        }
    }
}

/// `[id][member]` in `key`.
fn key_of<'k>(key: &'k mut Vec<u8>, id: u64, member: Member<'_>) -> &'k [u8] {
    key.clear();
    key.extend_from_slice(&id.to_le_bytes());
    match member {
        Member::Value(value) => {
            key.push(0);
            key.extend_from_slice(value);
        }
        Member::Digest(digest) => {
            key.push(1);
            key.extend_from_slice(&digest);
        }
        Member::Written(member) => key.extend_from_slice(member),
    }
    key
}

/// The values of a set written out.
fn values(mut written: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (len, rest) = written.split_first_chunk::<4>()?;
        let (value, rest) = rest.split_at(u32::from_le_bytes(*len) as usize);
        written = rest;
        Some(value)
    })
}
