//! The maps of an iteration's model and aggregates by key.

/// A map kept as a vector sorted by key: an iteration's model and aggregates by key are
/// small (centroids, classes) and read for every element of every round, where a lookup
/// over a few contiguous entries costs a fraction of a tree's. Keys that are the numbers
/// 0, 1, 2, ... (clusters, classes) sit at their own index, found there at once; others
/// by binary search. Gone through in key order, as the `.pipe` language's maps are.
#[derive(Debug, Clone, PartialEq)]
pub struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap {
            entries: Vec::new(),
        }
    }
}

/// A key a [`SortedMap`] may find at its own index.
pub trait MapKey: Ord {
    /// The index the key has in a map of the keys 0 to n - 1, if it is such a number.
    fn index(&self) -> Option<usize>;
}

impl MapKey for u64 {
    #[inline]
    fn index(&self) -> Option<usize> {
        usize::try_from(*self).ok()
    }
}

impl MapKey for i64 {
    #[inline]
    fn index(&self) -> Option<usize> {
        usize::try_from(*self).ok()
    }
}

impl MapKey for bool {
    #[inline]
    fn index(&self) -> Option<usize> {
        Some(usize::from(*self))
    }
}

impl MapKey for String {
    #[inline]
    fn index(&self) -> Option<usize> {
        None
    }
}

impl<K: MapKey, V> SortedMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    #[inline]
    fn find(&self, k: &K) -> Result<usize, usize> {
        if let Some(i) = k.index() {
            if self.entries.get(i).is_some_and(|(e, _)| e == k) {
                return Ok(i);
            }
        }
        self.entries.binary_search_by(|(e, _)| e.cmp(k))
    }

    /// The value of `k`.
    #[inline]
    pub fn get(&self, k: &K) -> Option<&V> {
        // The fast path checks the index against the length itself, so that the
        // access needs no second check.
        if let Some(i) = k.index() {
            if i < self.entries.len() && self.entries[i].0 == *k {
                return Some(&self.entries[i].1);
            }
        }
        self.find(k).ok().map(|i| &self.entries[i].1)
    }

    /// Whether `k` has a value.
    #[inline]
    pub fn contains_key(&self, k: &K) -> bool {
        self.find(k).is_ok()
    }

    /// Entries in the map.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sets `k`'s value, returning the one it had.
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        match self.find(&k) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, v)),
            Err(i) => {
                self.entries.insert(i, (k, v));
                None
            }
        }
    }

    /// Removes `k`, returning its value.
    pub fn remove(&mut self, k: &K) -> Option<V> {
        self.find(k).ok().map(|i| self.entries.remove(i).1)
    }

    /// `k`'s value, set to `none` first if it had none: where an aggregate folds a value.
    #[inline]
    pub fn slot(&mut self, k: K, none: V) -> &mut V {
        if let Some(i) = k.index() {
            if i < self.entries.len() && self.entries[i].0 == k {
                return &mut self.entries[i].1;
            }
        }
        let i = match self.find(&k) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (k, none));
                i
            }
        };
        &mut self.entries[i].1
    }

    /// Empties the map.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<K, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::SortedMap;

    #[test]
    fn a_sorted_map_keeps_its_keys_in_order_as_a_tree_would() {
        let mut m = SortedMap::new();
        let mut tree = std::collections::BTreeMap::new();
        for (i, k) in [5u64, 1, 9, 1, 3, 7, 5, 0].into_iter().enumerate() {
            assert_eq!(m.insert(k, i), tree.insert(k, i));
        }
        *m.slot(4, 0) += 10;
        *tree.entry(4).or_insert(0) += 10;
        *m.slot(9, 0) += 10;
        *tree.entry(9).or_insert(0) += 10;
        assert_eq!(m.remove(&3), tree.remove(&3));
        assert_eq!(m.remove(&3), None);
        let got: Vec<(u64, usize)> = m.iter().map(|(k, v)| (*k, *v)).collect();
        let want: Vec<(u64, usize)> = tree.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(got, want);
        assert_eq!(m.get(&9), tree.get(&9));
        assert!(m.contains_key(&0) && !m.contains_key(&2));
        assert_eq!(m.len(), tree.len());
        assert_eq!(
            m.into_iter().collect::<Vec<_>>(),
            tree.into_iter().collect::<Vec<_>>()
        );
    }
}
