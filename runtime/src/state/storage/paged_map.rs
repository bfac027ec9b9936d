//! A hash map with removal whose entries live in pool pages: keys of any length up to
//! about a page, values of one fixed size. What state that comes and goes per key needs
//! (timers, process state), where [`super::KeyedTable`] only grows.

use super::keyed_table::same_key;
use super::slot_index::SlotIndex;
use super::PagedArena;
use crate::layout::{read_u32, read_u64, write_u64};
use crate::memory::OperatorMemory;
use crate::JobError;

/// Entry header: the key's hash (8 bytes), the key's length (4) and a live mark (4), which
/// a removed entry's slot has zero.
const HEADER: usize = 16;
/// The smallest entry slot; slot sizes are powers of two from here to a page.
const SMALLEST: usize = 32;

/// A hash map from byte keys to `value_size`-byte values, every byte in pages of the
/// operator's [`OperatorMemory`].
///
/// The index is an open-addressing array of 64-bit slots in pool pages (linear probing, a
/// 16-bit hash tag per slot); a removal shifts the entries after it back, so there are no
/// tombstones and probes stay short however many keys come and go. It grows at half
/// full, or at a quarter for [`PagedMap::sparse`] (not three quarters, as
/// [`super::KeyedTable`]): its keys come and go, so most lookups miss (a process's record
/// for a key with no state), and a miss probes about 8 slots at three quarters full, 2.5
/// at half, 1.4 at a quarter, each slot a branch. Entries live in
/// [`PagedArena`]s, one per power-of-two size, and a removed entry's slot is reused by the
/// next entry of its size. An entry's address (`class << 32 | slot`) is stable until it
/// is removed. Keys hash with the one key hash ([`super::key_hash`]).
#[derive(Debug)]
pub struct PagedMap {
    mem: OperatorMemory,
    value_size: usize,
    index: SlotIndex,
    /// The index grows when more than one slot in `1 << sparseness` would be used.
    sparseness: u32,
    len: usize,
    /// Entry slots of `SMALLEST << c` bytes in `classes[c]`.
    classes: Vec<PagedArena>,
}

impl PagedMap {
    /// An empty map with `value_size`-byte values (rounded up to 8). Takes its first index
    /// page at once, so a budget too small for any state fails at start.
    pub fn new(mem: OperatorMemory, value_size: usize) -> Result<Self, JobError> {
        Self::with_sparseness(mem, value_size, 1)
    }

    /// [`PagedMap::new`] with an index at most a quarter full: for the map looked up at
    /// every record whose lookups mostly miss (a process's state), 8 bytes a key more of
    /// index for a probe that nearly always ends at its first slot (a tenth off the
    /// fraud-detection job's time).
    pub fn sparse(mem: OperatorMemory, value_size: usize) -> Result<Self, JobError> {
        Self::with_sparseness(mem, value_size, 2)
    }

    fn with_sparseness(
        mem: OperatorMemory,
        value_size: usize,
        sparseness: u32,
    ) -> Result<Self, JobError> {
        Ok(PagedMap {
            value_size: value_size.next_multiple_of(8),
            index: SlotIndex::new(&mem)?,
            sparseness,
            len: 0,
            classes: Vec::new(),
            mem,
        })
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the map holds no key.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entry of `key`, if the map holds it.
    #[inline]
    pub fn find(&self, key: &[u8]) -> Option<u64> {
        self.find_hashed(key, super::key_hash(key))
    }

    /// [`PagedMap::find`] of a key whose hash the caller has (it must be
    /// [`super::key_hash`] of `key`).
    #[inline]
    pub fn find_hashed(&self, key: &[u8], hash: u64) -> Option<u64> {
        debug_assert_eq!(hash, super::key_hash(key));
        self.probe(key, hash).ok()
    }

    /// The entry of `key`, inserting it with a value prepared by `init` if it is new; and
    /// whether it is new. Nothing changes when the budget runs out.
    pub fn insert(
        &mut self,
        key: &[u8],
        init: impl FnOnce(&mut [u8]),
    ) -> Result<(u64, bool), JobError> {
        let hash = super::key_hash(key);
        if let Ok(addr) = self.probe(key, hash) {
            return Ok((addr, false));
        }
        if (self.len + 1) << self.sparseness > self.index.capacity() {
            let classes = &self.classes;
            self.index
                .grow(&self.mem, |addr| entry_hash(classes, addr))?;
        }
        let addr = self.alloc_entry(key, hash)?;
        init(self.value_mut(addr));
        self.index.place(hash, addr);
        self.len += 1;
        Ok((addr, true))
    }

    /// Removes the entry at `addr` (which must be live).
    pub fn remove(&mut self, addr: u64) {
        let classes = &self.classes;
        self.index
            .remove(entry_hash(classes, addr), addr, |a| entry_hash(classes, a));
        let (class, slot) = split(addr);
        let bytes = self.classes[class].get_mut(slot);
        bytes[12..16].fill(0);
        self.classes[class].free(slot);
        self.len -= 1;
    }

    /// Whether `addr` is a live entry: an address once handed out by
    /// [`insert`](Self::insert), since removed, is not (until it is handed out again).
    #[inline]
    pub fn is_live(&self, addr: u64) -> bool {
        let (class, slot) = split(addr);
        self.classes
            .get(class)
            .is_some_and(|a| (slot as usize) < a.slots_used() && read_u32(a.get(slot), 12) != 0)
    }

    /// The key of the entry at `addr`.
    #[inline]
    pub fn key(&self, addr: u64) -> &[u8] {
        let bytes = self.entry(addr);
        let len = read_u32(bytes, 8) as usize;
        let start = HEADER + self.value_size;
        &bytes[start..start + len]
    }

    /// The key's hash of the entry at `addr` ([`super::key_hash`] of its key).
    #[inline]
    pub fn hash(&self, addr: u64) -> u64 {
        entry_hash(&self.classes, addr)
    }

    /// The value of the entry at `addr`.
    #[inline]
    pub fn value(&self, addr: u64) -> &[u8] {
        &self.entry(addr)[HEADER..HEADER + self.value_size]
    }

    /// The value of the entry at `addr`, to change.
    #[inline]
    pub fn value_mut(&mut self, addr: u64) -> &mut [u8] {
        let size = self.value_size;
        let (class, slot) = split(addr);
        &mut self.classes[class].get_mut(slot)[HEADER..HEADER + size]
    }

    /// Every entry as `(address, hash, key, value)`, in address order: the same for the
    /// same operations.
    pub fn entries(&self) -> impl Iterator<Item = (u64, u64, &[u8], &[u8])> + '_ {
        self.classes.iter().enumerate().flat_map(move |(c, arena)| {
            (0..arena.slots_used() as u32).filter_map(move |slot| {
                let bytes = arena.get(slot);
                (read_u32(bytes, 12) != 0).then(|| {
                    let addr = (c as u64) << 32 | u64::from(slot);
                    (addr, self.hash(addr), self.key(addr), self.value(addr))
                })
            })
        })
    }

    /// Removes every entry and gives back every page but the index's first.
    pub fn clear(&mut self) {
        for arena in &mut self.classes {
            arena.clear();
        }
        self.index.clear(&self.mem);
        self.len = 0;
    }

    /// The entry of `key` (whose hash is `hash`), or the empty slot its probe ends at.
    #[inline]
    fn probe(&self, key: &[u8], hash: u64) -> Result<u64, usize> {
        self.index.probe(hash, |addr| same_key(self.key(addr), key))
    }

    /// A live entry for `key`, its value zeroed, not yet in the index.
    fn alloc_entry(&mut self, key: &[u8], hash: u64) -> Result<u64, JobError> {
        let page = self.mem.page_size();
        let len = HEADER + self.value_size + key.len();
        if len > page {
            let (operator, location) = self.mem.operator();
            return Err(JobError::KeyTooLong {
                operator: operator.to_string(),
                location: location.to_string(),
                key_bytes: key.len(),
                limit_bytes: page - HEADER - self.value_size,
                record: None,
            });
        }
        let class = (len.max(SMALLEST).next_power_of_two() / SMALLEST).trailing_zeros() as usize;
        while self.classes.len() <= class {
            let size = SMALLEST << self.classes.len();
            self.classes.push(PagedArena::new(self.mem.clone(), size));
        }
        let slot = self.classes[class].alloc()?;
        let bytes = self.classes[class].get_mut(slot);
        write_u64(bytes, 0, hash);
        bytes[8..12].copy_from_slice(&(key.len() as u32).to_le_bytes());
        bytes[12..16].copy_from_slice(&1u32.to_le_bytes());
        bytes[HEADER + self.value_size..len].copy_from_slice(key);
        Ok((class as u64) << 32 | u64::from(slot))
    }

    #[inline]
    fn entry(&self, addr: u64) -> &[u8] {
        let (class, slot) = split(addr);
        self.classes[class].get(slot)
    }
}

/// An entry address's size class and slot.
#[inline]
fn split(addr: u64) -> (usize, u32) {
    ((addr >> 32) as usize, addr as u32)
}

/// The key's hash stored with the entry at `addr` of `classes`.
#[inline]
fn entry_hash(classes: &[PagedArena], addr: u64) -> u64 {
    let (class, slot) = split(addr);
    read_u64(classes[class].get(slot), 0)
}

impl Drop for PagedMap {
    fn drop(&mut self) {
        self.index.release(&self.mem);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SegmentPool;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// Inserts and removals against a `HashMap`: the same answers, every entry found,
        /// and every page given back once all keys are gone.
        #[test]
        fn behaves_as_a_hash_map(
            ops in proptest::collection::vec((any::<bool>(), 0u16..300, 0usize..90), 0..3000)
        ) {
            let pool = SegmentPool::new(512 * 1024, 1024);
            let mem = pool.operator("op", "t.pipe:1:1", 512);
            let mut map = PagedMap::new(mem, 8).unwrap();
            let mut model: HashMap<Vec<u8>, u64> = HashMap::new();
            for (i, &(insert, k, pad)) in ops.iter().enumerate() {
                let key: Vec<u8> = format!("{k}:{}", "x".repeat(pad)).into_bytes();
                if insert {
                    let (addr, fresh) = map
                        .insert(&key, |v| v.copy_from_slice(&(i as u64).to_le_bytes()))
                        .unwrap();
                    prop_assert_eq!(fresh, !model.contains_key(&key));
                    model.entry(key.clone()).or_insert(i as u64);
                    prop_assert_eq!(map.key(addr), &key[..]);
                } else if let Some(addr) = map.find(&key) {
                    prop_assert!(model.remove(&key).is_some());
                    map.remove(addr);
                } else {
                    prop_assert!(!model.contains_key(&key));
                }
                prop_assert_eq!(map.len(), model.len());
            }
            for (key, &v) in &model {
                let addr = map.find(key).expect("every key found");
                prop_assert_eq!(read_u64(map.value(addr), 0), v);
            }
            let listed: HashMap<Vec<u8>, u64> = map
                .entries()
                .map(|(_, hash, k, v)| {
                    assert_eq!(hash, crate::state::key_hash(k));
                    (k.to_vec(), read_u64(v, 0))
                })
                .collect();
            prop_assert_eq!(&listed, &model);
            let keys: Vec<Vec<u8>> = model.keys().cloned().collect();
            for key in keys {
                let addr = map.find(&key).unwrap();
                map.remove(addr);
            }
            prop_assert!(map.is_empty());
            prop_assert_eq!(map.entries().count(), 0);
            map.clear();
            prop_assert_eq!(pool.usage()[0].in_use_bytes, 1024, "only the first index page is kept");
        }
    }

    #[test]
    fn a_key_longer_than_a_page_is_refused_and_the_budget_error_changes_nothing() {
        let pool = SegmentPool::new(4 * 256, 256);
        let mut map = PagedMap::new(pool.operator("op", "t.pipe:1:1", 4), 8).unwrap();
        let err = map.insert(&[7u8; 300], |_| {}).unwrap_err();
        assert!(matches!(err, JobError::KeyTooLong { .. }), "{err}");
        let mut inserted = Vec::new();
        let err = (0u32..)
            .find_map(|i| {
                let key = i.to_le_bytes();
                match map.insert(&key, |_| {}) {
                    Ok(_) => {
                        inserted.push(key);
                        None
                    }
                    Err(e) => Some(e),
                }
            })
            .unwrap();
        assert!(matches!(err, JobError::MemoryBudget { .. }), "{err}");
        assert_eq!(map.len(), inserted.len());
        for key in &inserted {
            assert!(map.find(key).is_some());
        }
    }
}
