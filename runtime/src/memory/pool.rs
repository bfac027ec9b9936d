//! The segment pool: the one owner of managed memory, with a hard budget and per-operator
//! accounting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::MemorySegment;
use crate::spill::SpillSpace;
use crate::JobError;

/// Owns all managed memory of a job: fixed-size pages carved from one budget given at start.
///
/// The pool never grows past its budget: an allocation beyond it is an error, and so is an
/// allocation beyond the budget of the operator asking. Pages given back are zeroed and
/// reused. The pool is shared by reference count so that, with several workers, each
/// operator instance can hold its own [`OperatorMemory`] slice of it.
#[derive(Debug)]
pub struct SegmentPool {
    page_size: usize,
    total_pages: u64,
    pages_in_use: AtomicU64,
    peak_pages: AtomicU64,
    free: Mutex<Vec<MemorySegment>>,
    operators: Mutex<Vec<Arc<OperatorAccount>>>,
}

/// What one operator holds over all its instances (the workers of a parallel run, and its
/// combiners): its peak is the most they held at the same moment, never more than the
/// pool's own peak, where a sum of each worker's peak (reached at other moments) could be.
#[derive(Debug, Default)]
struct WholeOperator {
    in_use: AtomicU64,
    peak: AtomicU64,
}

/// Pages in use and peak pages of one operator, and what it spilled.
#[derive(Debug)]
struct OperatorAccount {
    name: String,
    location: String,
    budget_pages: u64,
    in_use: AtomicU64,
    peak: AtomicU64,
    spill_runs: AtomicU64,
    spilled_bytes: AtomicU64,
    read_back_bytes: AtomicU64,
    spill_nanos: AtomicU64,
    /// What the state would have needed in memory not to spill (0: not known).
    unspilled_need: AtomicU64,
    /// The operator over all its instances: the accounts of one name and location share it.
    whole: Arc<WholeOperator>,
}

/// A snapshot of one operator's memory use, for reports and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorUsage {
    /// The operator's name, e.g. `aggregate`.
    pub name: String,
    /// Where the operator is written, e.g. `wordcount.pipe:7:6`.
    pub location: String,
    /// Its budget in bytes.
    pub budget_bytes: u64,
    /// Bytes it holds now.
    pub in_use_bytes: u64,
    /// The most bytes this instance ever held.
    pub peak_bytes: u64,
    /// The most bytes all instances of the operator (same name and location: the workers
    /// of a parallel run, and combiners) held at the same moment.
    pub whole_peak_bytes: u64,
    /// Times its state went to disk.
    pub spill_runs: u64,
    /// Bytes it wrote to spill files.
    pub spilled_bytes: u64,
    /// Bytes it read back from spill files.
    pub read_back_bytes: u64,
    /// Time spent spilling and merging spilled state back.
    pub spill_time: std::time::Duration,
    /// For an operator that spilled, about the memory its state would have needed not to
    /// (`None` when it did not spill, or cannot tell).
    pub unspilled_need_bytes: Option<u64>,
}

impl SegmentPool {
    /// A pool of `total_bytes` (rounded down to whole pages) in pages of `page_size` bytes,
    /// a power of two.
    pub fn new(total_bytes: u64, page_size: usize) -> Arc<Self> {
        // A power of two, so that state addresses split into page and offset by a shift;
        // at least a cache line, the unit pages are aligned and allocated in.
        assert!(
            page_size >= 64 && page_size.is_power_of_two(),
            "page size must be a power of two of at least 64 bytes"
        );
        Arc::new(SegmentPool {
            page_size,
            total_pages: total_bytes / page_size as u64,
            pages_in_use: AtomicU64::new(0),
            peak_pages: AtomicU64::new(0),
            free: Mutex::new(Vec::new()),
            operators: Mutex::new(Vec::new()),
        })
    }

    /// The page size in bytes.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// The pool's budget in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.total_pages * self.page_size as u64
    }

    /// Bytes handed out and not yet given back.
    pub fn in_use_bytes(&self) -> u64 {
        self.pages_in_use.load(Ordering::Relaxed) * self.page_size as u64
    }

    /// The most bytes ever handed out at once.
    pub fn peak_bytes(&self) -> u64 {
        self.peak_pages.load(Ordering::Relaxed) * self.page_size as u64
    }

    /// Registers a stateful operator with its own budget of `budget_pages` pages. `location`
    /// says where the user wrote it, so that a budget error can point there.
    pub fn operator(
        self: &Arc<Self>,
        name: &str,
        location: &str,
        budget_pages: u64,
    ) -> OperatorMemory {
        let mut operators = self.operators.lock().expect("pool lock poisoned");
        let whole = operators
            .iter()
            .find(|a| a.name == name && a.location == location)
            .map_or_else(Arc::default, |a| a.whole.clone());
        let account = Arc::new(OperatorAccount {
            name: name.to_string(),
            location: location.to_string(),
            budget_pages,
            in_use: AtomicU64::new(0),
            peak: AtomicU64::new(0),
            spill_runs: AtomicU64::new(0),
            spilled_bytes: AtomicU64::new(0),
            read_back_bytes: AtomicU64::new(0),
            spill_nanos: AtomicU64::new(0),
            unspilled_need: AtomicU64::new(0),
            whole,
        });
        operators.push(account.clone());
        drop(operators);
        OperatorMemory {
            pool: self.clone(),
            account,
            spill: None,
        }
    }

    /// Bytes all operators have written to spill files so far.
    pub fn spilled_bytes(&self) -> u64 {
        self.operators
            .lock()
            .expect("pool lock poisoned")
            .iter()
            .map(|a| a.spilled_bytes.load(Ordering::Relaxed))
            .sum()
    }

    /// Memory use of every registered operator, in registration order.
    pub fn usage(&self) -> Vec<OperatorUsage> {
        let page = self.page_size as u64;
        self.operators
            .lock()
            .expect("pool lock poisoned")
            .iter()
            .map(|a| OperatorUsage {
                name: a.name.clone(),
                location: a.location.clone(),
                budget_bytes: a.budget_pages * page,
                in_use_bytes: a.in_use.load(Ordering::Relaxed) * page,
                peak_bytes: a.peak.load(Ordering::Relaxed) * page,
                whole_peak_bytes: a.whole.peak.load(Ordering::Relaxed) * page,
                spill_runs: a.spill_runs.load(Ordering::Relaxed),
                spilled_bytes: a.spilled_bytes.load(Ordering::Relaxed),
                read_back_bytes: a.read_back_bytes.load(Ordering::Relaxed),
                spill_time: std::time::Duration::from_nanos(a.spill_nanos.load(Ordering::Relaxed)),
                unspilled_need_bytes: Some(a.unspilled_need.load(Ordering::Relaxed))
                    .filter(|&b| b > 0),
            })
            .collect()
    }

    /// A page, zeroed when `zeroed` (a page given back keeps what it held until taken).
    fn take_page(&self, zeroed: bool) -> Option<MemorySegment> {
        if !self.reserve(1) {
            return None;
        }
        let recycled = self.free.lock().expect("pool lock poisoned").pop();
        Some(match recycled {
            Some(mut page) => {
                if zeroed {
                    page.clear();
                }
                page
            }
            None => MemorySegment::zeroed(self.page_size),
        })
    }

    /// Counts `count` pages as handed out, if the budget has them (memory held in one
    /// piece, a `PageRun`, rather than as pages).
    fn reserve(&self, count: u64) -> bool {
        let mut used = self.pages_in_use.load(Ordering::Relaxed);
        loop {
            if used + count > self.total_pages {
                return false;
            }
            match self.pages_in_use.compare_exchange_weak(
                used,
                used + count,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    self.peak_pages.fetch_max(used + count, Ordering::Relaxed);
                    return true;
                }
                Err(now) => used = now,
            }
        }
    }

    /// Takes `page` back as it is: it is zeroed when next taken for a user that needs
    /// zeroes, so one that overwrites what it reads (record chunks) or a page never taken
    /// again costs no zeroing.
    fn give_back(&self, page: MemorySegment) {
        self.free.lock().expect("pool lock poisoned").push(page);
        self.pages_in_use.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One stateful operator's slice of the [`SegmentPool`]: allocations are checked against the
/// operator's own budget first, then the pool's. With a [`SpillSpace`], the operator may
/// also write state it has no room for to disk.
#[derive(Debug, Clone)]
pub struct OperatorMemory {
    pool: Arc<SegmentPool>,
    account: Arc<OperatorAccount>,
    spill: Option<SpillSpace>,
}

impl OperatorMemory {
    /// The same slice, allowed to spill into `space`.
    pub fn with_spill(self, space: SpillSpace) -> Self {
        OperatorMemory {
            spill: Some(space),
            ..self
        }
    }

    /// Whether the operator may spill (the job has a spill space).
    pub fn can_spill(&self) -> bool {
        self.spill.is_some()
    }

    /// A new spill file of this operator, with its path.
    pub(crate) fn create_spill_file(
        &self,
    ) -> Result<(std::fs::File, std::path::PathBuf), JobError> {
        let space = self.spill.as_ref().ok_or_else(|| {
            JobError::Config(format!(
                "operator `{}` at {} has no spill space",
                self.account.name, self.account.location
            ))
        })?;
        space.create(&self.account.name, &self.account.location)
    }

    /// An I/O error on this operator's spill files, naming the spill directory.
    pub(crate) fn spill_error(&self, source: std::io::Error) -> JobError {
        let dir = self.spill.as_ref().and_then(SpillSpace::dir);
        JobError::Spill {
            operator: self.account.name.clone(),
            location: self.account.location.clone(),
            dir: dir.map_or_else(
                || "the spill directory".to_string(),
                |d| d.display().to_string(),
            ),
            source,
        }
    }

    /// Counts `bytes` written to spill files.
    pub(crate) fn note_spill_written(&self, bytes: u64) {
        self.account
            .spilled_bytes
            .fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts `runs` spills (times the state went to disk) and `busy`, the time spent
    /// spilling and merging spilled state back.
    pub(crate) fn note_spill_work(&self, runs: u64, busy: std::time::Duration) {
        self.account.spill_runs.fetch_add(runs, Ordering::Relaxed);
        let nanos = u64::try_from(busy.as_nanos()).unwrap_or(u64::MAX);
        self.account.spill_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Records about how much memory the state would have needed not to spill.
    pub(crate) fn note_unspilled_need(&self, bytes: u64) {
        self.account.unspilled_need.store(bytes, Ordering::Relaxed);
    }

    /// Counts `bytes` read back from spill files.
    pub(crate) fn note_read_back(&self, bytes: u64) {
        self.account
            .read_back_bytes
            .fetch_add(bytes, Ordering::Relaxed);
    }

    /// The page size in bytes.
    #[inline]
    pub fn page_size(&self) -> usize {
        self.pool.page_size
    }

    /// The operator's name and where it is written, for messages.
    pub fn operator(&self) -> (&str, &str) {
        (&self.account.name, &self.account.location)
    }

    /// Times this operator's state went to disk so far.
    pub fn spill_runs(&self) -> u64 {
        self.account.spill_runs.load(Ordering::Relaxed)
    }

    /// The operator's budget in bytes.
    pub fn budget_bytes(&self) -> u64 {
        self.account.budget_pages * self.pool.page_size as u64
    }

    /// Pages this operator could still take: what is left of its budget, or of the pool's
    /// if that is less.
    pub fn pages_free(&self) -> u64 {
        let own = self
            .account
            .budget_pages
            .saturating_sub(self.pages_in_use());
        let pool = self
            .pool
            .total_pages
            .saturating_sub(self.pool.pages_in_use.load(Ordering::Relaxed));
        own.min(pool)
    }

    /// Pages this operator holds now.
    pub fn pages_in_use(&self) -> u64 {
        self.account.in_use.load(Ordering::Relaxed)
    }

    /// A zeroed page, or a [`JobError::MemoryBudget`] naming this operator when its budget
    /// (or the pool's) is spent.
    pub fn allocate(&self) -> Result<MemorySegment, JobError> {
        self.allocate_many(1)
            .map(|mut v| v.pop().expect("one page"))
    }

    /// `count` zeroed pages at once, or none: either all fit the budget or the error says
    /// how many bytes the operator would need.
    pub fn allocate_many(&self, count: u64) -> Result<Vec<MemorySegment>, JobError> {
        self.take_pages(count, true)
    }

    /// A page holding whatever it held last (zeroes if it is new): for a user that zeroes
    /// what it needs zeroed itself. Budgeted as [`OperatorMemory::allocate`].
    pub fn allocate_unzeroed(&self) -> Result<MemorySegment, JobError> {
        self.take_pages(1, false)
            .map(|mut v| v.pop().expect("one page"))
    }

    fn take_pages(&self, count: u64, zeroed: bool) -> Result<Vec<MemorySegment>, JobError> {
        let in_use = self.account.in_use.load(Ordering::Relaxed);
        if in_use + count > self.account.budget_pages {
            return Err(self.budget_error(count));
        }
        let mut pages = Vec::with_capacity(count as usize);
        for _ in 0..count {
            match self.pool.take_page(zeroed) {
                Some(p) => pages.push(p),
                None => {
                    for p in pages {
                        self.pool.give_back(p);
                    }
                    return Err(self.budget_error(count));
                }
            }
        }
        self.count_taken(count);
        Ok(pages)
    }

    /// Counts `count` pages taken, in this instance's account and the whole operator's.
    fn count_taken(&self, count: u64) {
        let now = self.account.in_use.fetch_add(count, Ordering::AcqRel) + count;
        self.account.peak.fetch_max(now, Ordering::AcqRel);
        let whole = &self.account.whole;
        let together = whole.in_use.fetch_add(count, Ordering::AcqRel) + count;
        whole.peak.fetch_max(together, Ordering::AcqRel);
    }

    /// Counts `count` pages against the operator's budget and the pool's, for memory held
    /// in one piece (`PageRun`), or the error [`OperatorMemory::allocate`] gives.
    pub(crate) fn reserve_run(&self, count: u64) -> Result<(), JobError> {
        let in_use = self.account.in_use.load(Ordering::Relaxed);
        if in_use + count > self.account.budget_pages || !self.pool.reserve(count) {
            return Err(self.budget_error(count));
        }
        self.count_taken(count);
        Ok(())
    }

    /// Gives back `count` pages a run held.
    pub(crate) fn release_run(&self, count: u64) {
        self.account.in_use.fetch_sub(count, Ordering::AcqRel);
        self.account.whole.in_use.fetch_sub(count, Ordering::AcqRel);
        self.pool.pages_in_use.fetch_sub(count, Ordering::AcqRel);
    }

    /// Gives a page back to the pool.
    pub fn release(&self, page: MemorySegment) {
        self.account.in_use.fetch_sub(1, Ordering::AcqRel);
        self.account.whole.in_use.fetch_sub(1, Ordering::AcqRel);
        self.pool.give_back(page);
    }

    fn budget_error(&self, wanted_pages: u64) -> JobError {
        let page = self.pool.page_size as u64;
        let needed = (self.pages_in_use() + wanted_pages) * page;
        let budget = self.budget_bytes().max(page);
        // The state may grow to the end of the input, so no amount is known to suffice:
        // suggest twice --memory (at least what scaling the total to this need gives),
        // rounded up to a whole MiB so it never reads as the amount that just failed.
        let total = self.pool.total_bytes();
        let scaled = (u128::from(total) * u128::from(needed)).div_ceil(u128::from(budget));
        let suggested = scaled.max(2 * u128::from(total)).next_multiple_of(1 << 20);
        JobError::MemoryBudget {
            operator: self.account.name.clone(),
            location: self.account.location.clone(),
            budget_bytes: self.budget_bytes(),
            total_memory: total,
            needed_bytes: needed,
            suggested_memory: u64::try_from(suggested).unwrap_or(u64::MAX),
            cannot_spill: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_budget_is_a_hard_limit() {
        let pool = SegmentPool::new(10 * 1024, 1024);
        let op = pool.operator("aggregate", "job.pipe:3:4", 2);
        let a = op.allocate().unwrap();
        let _b = op.allocate().unwrap();
        match op.allocate() {
            Err(JobError::MemoryBudget {
                operator,
                budget_bytes,
                needed_bytes,
                ..
            }) => {
                assert_eq!(operator, "aggregate");
                assert_eq!(budget_bytes, 2048);
                assert_eq!(needed_bytes, 3072);
            }
            other => panic!("expected a budget error, got {other:?}"),
        }
        op.release(a);
        assert!(op.allocate().is_ok());
        let usage = pool.usage();
        assert_eq!(usage[0].peak_bytes, 2048);
        assert_eq!(usage[0].in_use_bytes, 2048);
    }

    #[test]
    fn pool_budget_is_a_hard_limit_across_operators() {
        let pool = SegmentPool::new(3 * 1024, 1024);
        let a = pool.operator("a", "", 3);
        let b = pool.operator("b", "", 3);
        let _pages = a.allocate_many(2).unwrap();
        assert!(b.allocate_many(2).is_err());
        assert_eq!(
            pool.in_use_bytes(),
            2048,
            "a failed allocation holds nothing"
        );
        assert!(b.allocate().is_ok());
        assert!(b.allocate().is_err());
    }

    #[test]
    fn released_pages_come_back_zeroed() {
        let pool = SegmentPool::new(1024, 1024);
        let op = pool.operator("a", "", 1);
        let mut p = op.allocate().unwrap();
        p.bytes_mut()[5] = 7;
        op.release(p);
        assert!(op.allocate().unwrap().bytes().iter().all(|&b| b == 0));
    }

    #[test]
    fn an_operators_peak_over_its_workers_is_what_they_held_at_once() {
        let pool = SegmentPool::new(16 * 1024, 1024);
        let first = pool.operator("aggregate", "a.pipe:3:4", 8);
        let second = pool.operator("aggregate", "a.pipe:3:4", 8);
        let other = pool.operator("window", "a.pipe:5:4", 8);
        let pages = first.allocate_many(3).unwrap();
        for p in pages {
            first.release(p);
        }
        let held = second.allocate_many(2).unwrap();
        let _w = other.allocate_many(1).unwrap();
        let usage = pool.usage();
        assert_eq!(usage[0].peak_bytes + usage[1].peak_bytes, 5 * 1024);
        assert_eq!(usage[0].whole_peak_bytes, 3 * 1024, "never 5 pages at once");
        assert_eq!(usage[1].whole_peak_bytes, 3 * 1024);
        assert_eq!(usage[2].whole_peak_bytes, 1024);
        assert!(usage[0].whole_peak_bytes <= pool.peak_bytes());
        drop(held);
    }
}
