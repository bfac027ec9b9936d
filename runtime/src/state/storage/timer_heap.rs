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

/// Words per timer: three used, padded to four so a timer's place is a shift, not a division.
const WORDS: usize = 4;

/// Timers ordered by `(time, seq)`, in pool pages.
///
/// Windows are mostly opened in order of their end, so most timers arrive already sorted:
/// those go to a FIFO run in O(1), and only timers earlier than the run's last go to a
/// binary heap. The earliest timer is the smaller of the run's front and the heap's top.
#[derive(Debug)]
pub struct TimerHeap {
    heap: PagedTimers,
    run: PagedTimers,
    /// Index in `run` of its front (earlier slots are consumed).
    run_front: usize,
}

/// Timers in pool pages, addressed by index. Pages before `base` have been consumed and
/// given back (the FIFO run drops pages from its front as it goes).
#[derive(Debug)]
struct PagedTimers {
    mem: OperatorMemory,
    per_page: usize,
    shift: u32,
    pages: std::collections::VecDeque<MemorySegment>,
    base: usize,
    len: usize,
}

impl TimerHeap {
    /// An empty heap drawing pages from `mem`.
    pub fn new(mem: OperatorMemory) -> Self {
        TimerHeap {
            heap: PagedTimers::new(mem.clone()),
            run: PagedTimers::new(mem),
            run_front: 0,
        }
    }

    /// Timers waiting.
    pub fn len(&self) -> usize {
        self.heap.len + self.run.len - self.run_front
    }

    /// Whether none is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The earliest timer.
    #[inline]
    pub fn peek(&self) -> Option<Timer> {
        let run = (self.run_front < self.run.len).then(|| self.run.read(self.run_front));
        let heap = (self.heap.len > 0).then(|| self.heap.read(0));
        match (run, heap) {
            (Some(r), Some(h)) => Some(if key(&r) <= key(&h) { r } else { h }),
            (r, h) => r.or(h),
        }
    }

    /// The earliest timer's time: `peek` without reading the rest of two timers (a
    /// process asks at every watermark).
    #[inline]
    pub fn next_time(&self) -> Option<i64> {
        let run = (self.run_front < self.run.len).then(|| self.run.time(self.run_front));
        let heap = (self.heap.len > 0).then(|| self.heap.time(0));
        match (run, heap) {
            (Some(r), Some(h)) => Some(r.min(h)),
            (r, h) => r.or(h),
        }
    }

    /// Calls `each` with every timer waiting, in no particular order.
    pub fn for_each(&self, mut each: impl FnMut(Timer)) {
        for i in self.run_front..self.run.len {
            each(self.run.read(i));
        }
        for i in 0..self.heap.len {
            each(self.heap.read(i));
        }
    }

    /// Drops every timer and gives every page back.
    pub fn clear(&mut self) {
        for timers in [&mut self.heap, &mut self.run] {
            timers.len = 0;
            timers.base = 0;
            timers.shrink();
        }
        self.run_front = 0;
    }

    /// Makes sure the next `n` pushes take no new page (they cannot fail).
    pub fn reserve(&mut self, n: usize) -> Result<(), JobError> {
        self.run.reserve(n)?;
        self.heap.reserve(n)
    }

    /// Adds a timer.
    pub fn push(&mut self, t: Timer) -> Result<(), JobError> {
        let in_order =
            self.run.len == self.run_front || key(&self.run.read(self.run.len - 1)) <= key(&t);
        if in_order {
            self.run.append(t)
        } else {
            self.heap.sift_up(t)
        }
    }

    /// Removes and returns the earliest timer.
    pub fn pop(&mut self) -> Option<Timer> {
        let run = (self.run_front < self.run.len).then(|| self.run.read(self.run_front));
        let heap = (self.heap.len > 0).then(|| self.heap.read(0));
        let from_run = match (run, heap) {
            (Some(r), Some(h)) => key(&r) <= key(&h),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        if from_run {
            self.run_front += 1;
            if self.run_front == self.run.len {
                // Consumed: start the run again from nothing.
                self.run.len = 0;
                self.run.base = 0;
                self.run_front = 0;
                self.run.shrink();
            } else if self.run_front - self.run.base >= self.run.per_page {
                let page = self.run.pages.pop_front().expect("a consumed page");
                self.run.mem.release(page);
                self.run.base += self.run.per_page;
            }
            run
        } else {
            self.heap.sift_down()
        }
    }
}

impl PagedTimers {
    fn new(mem: OperatorMemory) -> Self {
        let per_page = floor_power_of_two(mem.page_size() / 8 / WORDS);
        PagedTimers {
            mem,
            shift: per_page.trailing_zeros(),
            per_page,
            pages: std::collections::VecDeque::new(),
            base: 0,
            len: 0,
        }
    }

    fn reserve_one(&mut self) -> Result<(), JobError> {
        self.reserve(1)
    }

    fn reserve(&mut self, n: usize) -> Result<(), JobError> {
        while self.len + n > self.base + self.pages.len() * self.per_page {
            self.pages.push_back(self.mem.allocate()?);
        }
        Ok(())
    }

    fn append(&mut self, t: Timer) -> Result<(), JobError> {
        self.reserve_one()?;
        self.write(self.len, t);
        self.len += 1;
        Ok(())
    }

    fn sift_up(&mut self, t: Timer) -> Result<(), JobError> {
        self.reserve_one()?;
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

    fn sift_down(&mut self) -> Option<Timer> {
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
        self.shrink();
        Some(top)
    }

    /// Gives back pages once two pages' worth of room is free.
    fn shrink(&mut self) {
        while self.pages.len() > 1
            && self.len + 2 * self.per_page <= self.base + self.pages.len() * self.per_page
        {
            let page = self.pages.pop_back().expect("more than one page");
            self.mem.release(page);
        }
        if self.len == 0 {
            for page in self.pages.drain(..) {
                self.mem.release(page);
            }
        }
    }

    #[inline]
    fn read(&self, i: usize) -> Timer {
        let i = i - self.base;
        let w = &self.pages[i >> self.shift].words()[(i & (self.per_page - 1)) * WORDS..];
        Timer {
            time: w[0] as i64,
            seq: w[1],
            node: (w[2] >> 32) as u32,
            version: w[2] as u32,
        }
    }

    /// The time of timer `i`.
    #[inline]
    fn time(&self, i: usize) -> i64 {
        let i = i - self.base;
        self.pages[i >> self.shift].words()[(i & (self.per_page - 1)) * WORDS] as i64
    }

    #[inline]
    fn write(&mut self, i: usize, t: Timer) {
        let i = i - self.base;
        let w = &mut self.pages[i >> self.shift].words_mut()[(i & (self.per_page - 1)) * WORDS..];
        w[0] = t.time as u64;
        w[1] = t.seq;
        w[2] = (u64::from(t.node) << 32) | u64::from(t.version);
    }
}

/// The largest power of two not above `n` (at least 1).
pub(crate) fn floor_power_of_two(n: usize) -> usize {
    1 << (usize::BITS - 1 - n.max(1).leading_zeros())
}

fn key(t: &Timer) -> (i64, u64) {
    (t.time, t.seq)
}

impl Drop for PagedTimers {
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

    #[test]
    fn a_long_running_queue_gives_back_consumed_pages() {
        let pool = SegmentPool::new(16 * 256, 256);
        let mut heap = TimerHeap::new(pool.operator("w", "", 16));
        for i in 0..100_000u64 {
            heap.push(Timer {
                time: i as i64,
                seq: i,
                node: 0,
                version: 0,
            })
            .unwrap();
            if i >= 100 {
                assert_eq!(heap.pop().map(|t| t.seq), Some(i - 100));
            }
        }
        assert!(pool.in_use_bytes() <= 14 * 256, "{}", pool.in_use_bytes());
    }

    proptest! {
        #[test]
        fn pops_in_time_then_seq_order(times in proptest::collection::vec(prop_oneof![-50i64..50, Just(60i64)], 0..600)) {
            let pool = SegmentPool::new(128 * 256, 256);
            let mut heap = TimerHeap::new(pool.operator("w", "", 128));
            for (seq, &time) in times.iter().enumerate() {
                heap.push(Timer { time, seq: seq as u64, node: seq as u32, version: 7 }).unwrap();
            }
            let mut expected: Vec<(i64, u64)> = times.iter().enumerate().map(|(s, &t)| (t, s as u64)).collect();
            expected.sort();
            let got: Vec<(i64, u64)> = std::iter::from_fn(|| heap.pop()).map(|t| (t.time, t.seq)).collect();
            prop_assert_eq!(got, expected);
            prop_assert_eq!(pool.in_use_bytes(), 0, "pages are given back as it empties");
        }
    }
}
