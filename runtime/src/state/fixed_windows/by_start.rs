//! The open windows of a [`FixedWindows`](super::FixedWindows), in order of start.
//!
//! Nearly every record goes to the newest window (the rest to one a little older, within
//! the watermark's disorder). So the windows are a vector in order of start: the newest is
//! checked first, any other found by binary search. (Taking the oldest from the front
//! moves the others, a few at a time: windows are few, and each closes once. A deque's
//! wrapped indexing cost more at every record than that.) A `BTreeMap` search here was 14
//! instructions a record on the window benchmark.

/// Windows by start: see the module's doc.
#[derive(Debug)]
pub(crate) struct WindowsByStart<W> {
    list: Vec<(i64, W)>,
}

impl<W> Default for WindowsByStart<W> {
    fn default() -> Self {
        WindowsByStart { list: Vec::new() }
    }
}

impl<W> WindowsByStart<W> {
    /// Where the window starting at `start` is (`Ok`), or would go (`Err`).
    #[inline(always)]
    fn find(&self, start: i64) -> Result<usize, usize> {
        match self.list.last() {
            Some((newest, _)) if *newest == start => Ok(self.list.len() - 1),
            Some((newest, _)) if *newest < start => Err(self.list.len()),
            _ => self.list.binary_search_by_key(&start, |(s, _)| *s),
        }
    }

    /// The window starting at `start`.
    #[inline(always)]
    pub fn get_mut(&mut self, start: &i64) -> Option<&mut W> {
        let at = self.find(*start).ok()?;
        Some(&mut self.list[at].1)
    }

    /// The window starting at `start`.
    pub fn get(&self, start: &i64) -> Option<&W> {
        let at = self.find(*start).ok()?;
        Some(&self.list[at].1)
    }

    /// Whether a window starts at `start`.
    pub fn contains_key(&self, start: &i64) -> bool {
        self.find(*start).is_ok()
    }

    /// Adds window `w` at `start`, replacing (and returning) one already there.
    pub fn insert(&mut self, start: i64, w: W) -> Option<W> {
        match self.find(start) {
            Ok(at) => Some(std::mem::replace(&mut self.list[at].1, w)),
            Err(at) => {
                self.list.insert(at, (start, w));
                None
            }
        }
    }

    /// Takes out the window starting at `start`.
    pub fn remove(&mut self, start: &i64) -> Option<W> {
        let at = self.find(*start).ok()?;
        Some(self.list.remove(at).1)
    }

    /// The oldest window.
    pub fn first_key_value(&self) -> Option<(&i64, &W)> {
        self.list.first().map(|(s, w)| (s, w))
    }

    /// Whether no window is open.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The windows, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&i64, &W)> {
        self.list.iter().map(|(s, w)| (s, w))
    }

    /// The windows starting at `from` or later, oldest first.
    pub fn range_from(&self, from: i64) -> impl Iterator<Item = (&i64, &W)> {
        let at = self.list.partition_point(|(s, _)| *s < from);
        self.list[at..].iter().map(|(s, w)| (s, w))
    }

    /// The windows, oldest first.
    pub fn values(&self) -> impl Iterator<Item = &W> {
        self.list.iter().map(|(_, w)| w)
    }

    /// The windows' starts, oldest first.
    pub fn keys(&self) -> impl Iterator<Item = &i64> {
        self.list.iter().map(|(s, _)| s)
    }
}

impl<W> std::ops::Index<&i64> for WindowsByStart<W> {
    type Output = W;

    fn index(&self, start: &i64) -> &W {
        match self.get(start) {
            Some(w) => w,
            None => panic!("no window starts at {start}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    proptest! {
        /// Any mix of inserts, lookups and removes answers as a `BTreeMap` does.
        #[test]
        fn answers_as_a_btree_map_does(ops in proptest::collection::vec((0u8..4, -20i64..20), 0..200)) {
            let (mut ours, mut model) = (WindowsByStart::default(), BTreeMap::new());
            for (i, (op, start)) in ops.into_iter().enumerate() {
                match op {
                    0 => prop_assert_eq!(ours.insert(start, i), model.insert(start, i)),
                    1 => prop_assert_eq!(ours.remove(&start), model.remove(&start)),
                    2 => prop_assert_eq!(ours.get_mut(&start).copied(), model.get_mut(&start).copied()),
                    _ => prop_assert_eq!(ours.contains_key(&start), model.contains_key(&start)),
                }
                prop_assert_eq!(ours.first_key_value(), model.first_key_value());
                let from: Vec<_> = ours.range_from(start).collect();
                let want: Vec<_> = model.range(start..).collect();
                prop_assert_eq!(from, want);
                prop_assert!(ours.iter().eq(model.iter()));
            }
        }
    }
}
