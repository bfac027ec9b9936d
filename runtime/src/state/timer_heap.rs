//! A min-heap of timers in pool pages.

use crate::memory::{MemorySegment, OperatorMemory};
use crate::JobError;

/// A timer: at `time`, act on window node `node` if it still has `version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    /// When it is due (event or processing time).
    pub time: i64,
    /// Ties on `time` go in `seq` order, so firing order is deterministic.
    pub seq: u64,
    /// The window node.
    pub node: u32,
    /// The node's version when the timer was set; a different version means stale.
    pub version: u32,
}

const WORDS: usize = 3;

/// Timers ordered by `(time, seq)`, three 64-bit words each, in pool pages.
#[derive(Debug)]
pub struct TimerHeap {
    mem: OperatorMemory,
    per_page: usize,
    pages: Vec<MemorySegment>,
    len: usize,
}

impl TimerHeap {
    /// An empty heap drawing pages from `mem`.
    pub fn new(mem: OperatorMemory) -> Self {
        let per_page = mem.page_size() / 8 / WORDS;
        TimerHeap {
            mem,
            per_page,
            pages: Vec::new(),
            len: 0,
        }
    }

    /// Timers waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none is waiting.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The earliest timer.
    #[inline]
    pub fn peek(&self) -> Option<Timer> {
        (self.len > 0).then(|| self.read(0))
    }

    /// Adds a timer.
    pub fn push(&mut self, t: Timer) -> Result<(), JobError> {
        if self.len == self.pages.len() * self.per_page {
            self.pages.push(self.mem.allocate()?);
        }
        let mut i = self.len;
        self.len += 1;
        while i > 0 {
            let parent = (i - 1) / 2;
            let p = self.read(parent);
            if key(&p) <= key(&t) {
                break;
            }
            self.write(i, p);
            i = parent;
        }
        self.write(i, t);
        Ok(())
    }

    /// Removes and returns the earliest timer.
    pub fn pop(&mut self) -> Option<Timer> {
        if self.len == 0 {
            return None;
        }
        let top = self.read(0);
        self.len -= 1;
        if self.len > 0 {
            let last = self.read(self.len);
            let mut i = 0;
            loop {
                let (l, r) = (2 * i + 1, 2 * i + 2);
                if l >= self.len {
                    break;
                }
                let child = if r < self.len && key(&self.read(r)) < key(&self.read(l)) {
                    r
                } else {
                    l
                };
                let c = self.read(child);
                if key(&last) <= key(&c) {
                    break;
                }
                self.write(i, c);
                i = child;
            }
            self.write(i, last);
        }
        // Give back a page once two pages' worth of room is free.
        while self.pages.len() > 1
            && self.len + 2 * self.per_page <= self.pages.len() * self.per_page
        {
            let page = self.pages.pop().expect("more than one page");
            self.mem.release(page);
        }
        Some(top)
    }

    fn read(&self, i: usize) -> Timer {
        let w = &self.pages[i / self.per_page].words()[(i % self.per_page) * WORDS..];
        Timer {
            time: w[0] as i64,
            seq: w[1],
            node: (w[2] >> 32) as u32,
            version: w[2] as u32,
        }
    }

    fn write(&mut self, i: usize, t: Timer) {
        let w = &mut self.pages[i / self.per_page].words_mut()[(i % self.per_page) * WORDS..];
        w[0] = t.time as u64;
        w[1] = t.seq;
        w[2] = (u64::from(t.node) << 32) | u64::from(t.version);
    }
}

fn key(t: &Timer) -> (i64, u64) {
    (t.time, t.seq)
}

impl Drop for TimerHeap {
    fn drop(&mut self) {
        for page in self.pages.drain(..) {
            self.mem.release(page);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SegmentPool;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn pops_in_time_then_seq_order(times in proptest::collection::vec(-50i64..50, 0..600)) {
            let pool = SegmentPool::new(64 * 256, 256);
            let mut heap = TimerHeap::new(pool.operator("w", "", 64));
            for (seq, &time) in times.iter().enumerate() {
                heap.push(Timer { time, seq: seq as u64, node: seq as u32, version: 7 }).unwrap();
            }
            let mut expected: Vec<(i64, u64)> = times.iter().enumerate().map(|(s, &t)| (t, s as u64)).collect();
            expected.sort();
            let got: Vec<(i64, u64)> = std::iter::from_fn(|| heap.pop()).map(|t| (t.time, t.seq)).collect();
            prop_assert_eq!(got, expected);
            prop_assert!(pool.in_use_bytes() <= 256, "pages are given back as it empties");
        }
    }
}
