//! Key groups, as Flink has them: a key's hash picks one of a fixed number of groups (the
//! job's maximum parallelism), and each worker owns a contiguous range of groups. State
//! can then move between parallelisms group by group (what a checkpoint restored at
//! another parallelism will do), and a key's owner depends only on its group.

/// The default number of key groups: the most workers a job's keyed state can be spread
/// over.
pub const DEFAULT_KEY_GROUPS: usize = 128;

/// Groups and their assignment to `workers` workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyGroups {
    groups: usize,
    workers: usize,
}

impl KeyGroups {
    /// `groups` key groups over `workers` workers (both at least 1; more workers than
    /// groups leaves the extra workers without keys).
    pub fn new(groups: usize, workers: usize) -> Self {
        KeyGroups {
            groups: groups.max(1),
            workers: workers.max(1),
        }
    }

    /// The group of a key whose hash is `hash`. The hash is mixed first, since the low bits
    /// of a table's hash also pick its slots.
    #[inline]
    pub fn group(&self, hash: u64) -> usize {
        let mixed = (hash ^ (hash >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        // A mask for a power of two (the default 128), not a division: this runs for
        // every record that crosses and every edge a graph iteration routes.
        match self.groups.is_power_of_two() {
            true => (mixed >> 32) as usize & (self.groups - 1),
            false => ((mixed >> 32) % self.groups as u64) as usize,
        }
    }

    /// The worker owning `group`: groups `[w * G / W, (w + 1) * G / W)` belong to worker `w`.
    #[inline]
    pub fn worker_of_group(&self, group: usize) -> usize {
        match self.groups.is_power_of_two() {
            true => (group * self.workers) >> self.groups.trailing_zeros(),
            false => group * self.workers / self.groups,
        }
    }

    /// The worker owning the key whose hash is `hash`.
    #[inline]
    pub fn worker(&self, hash: u64) -> usize {
        self.worker_of_group(self.group(hash))
    }

    /// The groups worker `w` owns.
    pub fn range(&self, w: usize) -> std::ops::Range<usize> {
        let start = (w * self.groups).div_ceil(self.workers);
        let end = ((w + 1) * self.groups).div_ceil(self.workers);
        start..end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_has_one_owner_and_ranges_are_contiguous() {
        for workers in 1..=10 {
            let kg = KeyGroups::new(DEFAULT_KEY_GROUPS, workers);
            let mut next = 0;
            for w in 0..workers {
                let range = kg.range(w);
                assert_eq!(range.start, next, "contiguous");
                for g in range.clone() {
                    assert_eq!(kg.worker_of_group(g), w, "group {g} of {workers}");
                }
                next = range.end;
            }
            assert_eq!(next, DEFAULT_KEY_GROUPS);
        }
    }

    /// Groups and workers of a power of two of groups (by mask and shift) are those the
    /// general rule (remainder and division) gives: a key's owner never depends on it.
    #[test]
    fn a_power_of_two_of_groups_maps_keys_as_division_does() {
        for (groups, workers) in [(128, 1), (128, 2), (128, 3), (128, 7), (64, 5), (1, 1)] {
            let kg = KeyGroups::new(groups, workers);
            for k in 0u64..5_000 {
                let hash = crate::state::key_hash(&k.to_ne_bytes()).rotate_left(k as u32);
                let mixed = (hash ^ (hash >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                let group = ((mixed >> 32) % groups as u64) as usize;
                assert_eq!(kg.group(hash), group);
                assert_eq!(kg.worker(hash), group * workers / groups);
            }
        }
    }

    #[test]
    fn keys_spread_over_workers() {
        let kg = KeyGroups::new(DEFAULT_KEY_GROUPS, 3);
        let mut counts = [0usize; 3];
        for k in 0u64..30_000 {
            counts[kg.worker(crate::state::key_hash(&k.to_ne_bytes()))] += 1;
        }
        for c in counts {
            assert!((8_000..12_000).contains(&c), "{counts:?}");
        }
    }
}
