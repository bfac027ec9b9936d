//! The state of a keyed session-window operator: each key's open sessions with their
//! accumulators, and the timers that fire and clean them, all in pool pages.

use super::{KeyedTable, PagedArena, Timer, TimerHeap};
use crate::layout::{read_u64, write_u64};
use crate::memory::OperatorMemory;
use crate::JobError;

use super::fired_window::{FiredWindow, WindowOutcome, WindowSlot};

mod extra;
mod snapshot;
mod spill;
mod with_text;

pub use extra::{NoExtra, SessionExtra};
pub use with_text::{TextOutcome, TextSessionWindows};

// A window node: next and prev (index + 1, 0 = none), start, end, the key's entry address
// in the key table, meta (version in the low 31 bits, the fired flag in bit 32), then the
// accumulator block. A key's entry holds the first and the last node of its list.
const NEXT: usize = 0;
const PREV: usize = 8;
const START: usize = 16;
const END: usize = 24;
const KEY: usize = 32;
const META: usize = 40;
const NODE_HEADER: usize = 48;
/// In a key's entry: the first (oldest start) and last (newest start) node, and flags.
const HEAD: usize = 0;
const TAIL: usize = 8;
const KEY_FLAGS: usize = 16;
/// In a key's flags: the newest copy of the key on disk holds sessions, so the key must
/// be written again (if only empty) when it spills, to hide that copy.
const ON_DISK: u64 = 1;
const FIRED: u64 = 1 << 32;
const VERSION_MASK: u32 = 0x7fff_ffff;
/// Set in a timer's version for a cleanup timer (drop the window) rather than a firing.
const CLEANUP: u32 = 0x8000_0000;

/// A link as stored: the node's index + 1, or 0 for none.
#[inline]
fn link_word(n: Option<u32>) -> u64 {
    n.map_or(0, |x| u64::from(x) + 1)
}

#[inline]
fn node_of(word: u64) -> Option<u32> {
    (word != 0).then(|| (word - 1) as u32)
}

/// Open session windows per key, in pool pages.
///
/// Each key (in a [`KeyedTable`]) holds a doubly linked list of session nodes sorted by
/// start: a record finds the sessions it bridges from the front, and a merged-away session
/// is unlinked in one step. (Tumbling and sliding windows, whose bounds do not move, live
/// in [`super::FixedWindows`].)
/// A window fires when the watermark reaches its last millisecond (`end - 1`), as in Flink;
/// with allowed lateness it is kept until `end - 1 + lateness`, and a late record that
/// still lands in it makes it fire again with the updated result.
///
/// Timers are ordered by time, then by creation, so windows fire in order of their end and,
/// for equal ends, in the order they were opened: the same input always gives the same
/// output order.
///
/// Past the budget every key's sessions and every timer go to disk, and a key's sessions
/// come back when a record or a timer needs them (`spill.rs`): sessions move whole, so
/// any accumulator spills, and the output is the same, order included.
#[derive(Debug)]
pub struct SessionWindows {
    keys: KeyedTable,
    nodes: PagedArena,
    timers: TimerHeap,
    acc_size: usize,
    lateness: i64,
    seq: u64,
    version: u32,
    scratch_nodes: Vec<u32>,
    scratch_acc: Vec<u8>,
    mem: OperatorMemory,
    /// Sessions and timers spilled to disk (see `spill.rs`), once the budget ran out.
    disk: Option<spill::SessionDisk>,
    /// A spilled key's sessions, read back.
    scratch_disk: Vec<u8>,
    /// A spilled timer, read back.
    scratch_timer: Vec<u8>,
}

impl SessionWindows {
    /// Empty state with `acc_size`-byte accumulators, keeping windows `lateness` ms past
    /// their end.
    pub fn new(mem: OperatorMemory, acc_size: usize, lateness: i64) -> Result<Self, JobError> {
        let acc_size = acc_size.next_multiple_of(8);
        Ok(SessionWindows {
            keys: KeyedTable::new(mem.clone(), 24)?,
            nodes: PagedArena::new(mem.clone(), NODE_HEADER + acc_size),
            timers: TimerHeap::new(mem.clone()),
            mem,
            disk: None,
            scratch_disk: Vec::new(),
            scratch_timer: Vec::new(),
            acc_size,
            lateness: lateness.max(0),
            seq: 0,
            version: 0,
            scratch_nodes: Vec::new(),
            scratch_acc: Vec::new(),
        })
    }

    /// The time of the earliest timer, if any: nothing fires below it.
    #[inline]
    pub fn next_timer(&self) -> Option<i64> {
        let spilled = self
            .disk
            .as_ref()
            .and_then(|d| d.timers.peek())
            .map(|(t, _)| t);
        let in_memory = self.timers.peek().map(|t| t.time);
        match (spilled, in_memory) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The session window of `key` that a record at `ts` joins, with inactivity `gap`: the
    /// record's own window `[ts, ts + gap)` merges with every session it touches, combining
    /// their accumulators with `merge(into, from)`. `None` when the record's window is past
    /// its allowed lateness. Update and finish as with [`open`](Self::open).
    #[allow(clippy::too_many_arguments)]
    pub fn open_session(
        &mut self,
        key: &[u8],
        ts: i64,
        gap: i64,
        wm: i64,
        init: impl FnOnce(&mut [u8]),
        merge: impl FnMut(&mut [u8], &[u8]) -> Result<(), JobError>,
    ) -> Result<Option<WindowSlot>, JobError> {
        self.open_session_with(&mut NoExtra, key, (ts, gap, wm), init, merge)
    }

    /// [`open_session`](Self::open_session) for sessions that own `extra` data, which
    /// follows them to disk and back and merges with them.
    pub fn open_session_with(
        &mut self,
        extra: &mut dyn SessionExtra,
        key: &[u8],
        (ts, gap, wm): (i64, i64, i64),
        init: impl FnOnce(&mut [u8]),
        mut merge: impl FnMut(&mut [u8], &[u8]) -> Result<(), JobError>,
    ) -> Result<Option<WindowSlot>, JobError> {
        let end = ts.saturating_add(gap);
        if self.expired(end, wm) {
            return Ok(None);
        }
        // The key's sessions in memory (from disk if they went there), with room for a new
        // session and its timers: nothing below can run out of memory halfway.
        let key_addr = self.prepare(key, extra)?;
        // Sessions that touch [ts, end], in start order (Flink merges windows that touch).
        self.scratch_nodes.clear();
        let mut prev: Option<u32> = None;
        let mut cur = self.head(key_addr);
        while let Some(n) = cur {
            if self.start(n) > end {
                break;
            }
            if self.end(n) >= ts {
                self.scratch_nodes.push(n);
            } else {
                prev = Some(n);
            }
            cur = self.next(n);
        }
        let Some(&target) = self.scratch_nodes.first() else {
            let n = self.link(key_addr, ts, end, prev, cur)?;
            init(self.node_acc_mut(n));
            self.schedule(n, end, wm)?;
            return Ok(Some(WindowSlot::session_node(n)));
        };
        let (mut new_start, mut new_end) = (ts.min(self.start(target)), end.max(self.end(target)));
        let others: Vec<u32> = self.scratch_nodes[1..].to_vec();
        for other in others {
            new_start = new_start.min(self.start(other));
            new_end = new_end.max(self.end(other));
            let mut from = std::mem::take(&mut self.scratch_acc);
            from.clear();
            from.extend_from_slice(self.acc(other));
            let merged = merge(self.node_acc_mut(target), &from);
            extra.merge(self.node_acc_mut(target), &from);
            self.scratch_acc = from;
            merged?;
            self.remove(other);
        }
        if new_start != self.start(target) || new_end != self.end(target) {
            let node = self.nodes.get_mut(target);
            write_u64(node, START, new_start as u64);
            write_u64(node, END, new_end as u64);
            self.set_meta(target, 0);
            self.schedule(target, new_end, wm)?;
        }
        Ok(Some(WindowSlot::session_node(target)))
    }

    /// The accumulator block of window node `n`.
    #[inline]
    pub fn acc_mut(&mut self, slot: WindowSlot) -> &mut [u8] {
        self.node_acc_mut(slot.node())
    }

    #[inline]
    fn node_acc_mut(&mut self, n: u32) -> &mut [u8] {
        let size = self.acc_size;
        &mut self.nodes.get_mut(n)[NODE_HEADER..NODE_HEADER + size]
    }

    /// After a record landed in window `n` at watermark `wm`: a window whose time has
    /// already passed fires at once, with the updated result.
    #[inline]
    pub fn after_update(&mut self, slot: WindowSlot, wm: i64) -> WindowOutcome {
        let n = slot.node();
        if self.end(n).saturating_sub(1) <= wm {
            let version = self.version_of(n);
            let node = self.nodes.get_mut(n);
            write_u64(node, META, u64::from(version) | FIRED);
            WindowOutcome::Refire(slot)
        } else {
            WindowOutcome::Added
        }
    }

    /// The next window due at watermark `wm`, copied into `out`, or `None` when nothing more
    /// is due. Windows without allowed lateness are dropped as they fire. Timers of spilled
    /// sessions are read from disk, and their sessions brought back.
    pub fn next_due(
        &mut self,
        wm: i64,
        out: &mut Vec<u8>,
    ) -> Result<Option<FiredWindow>, JobError> {
        self.next_due_with(&mut NoExtra, wm, out)
    }

    /// [`next_due`](Self::next_due) for sessions that own `extra` data: a session read
    /// back from disk to fire takes its data back.
    pub fn next_due_with(
        &mut self,
        extra: &mut dyn SessionExtra,
        wm: i64,
        out: &mut Vec<u8>,
    ) -> Result<Option<FiredWindow>, JobError> {
        loop {
            let in_memory = self.timers.peek();
            let spilled = self.disk.as_ref().and_then(|d| d.timers.peek());
            let from_disk = match (in_memory, spilled) {
                (Some(m), Some(d)) => d < (m.time, m.seq),
                (None, Some(_)) => true,
                (_, None) => false,
            };
            if from_disk {
                let (time, _) = spilled.expect("a timer on disk");
                if time > wm {
                    return Ok(None);
                }
                match self.spilled_timer(out, extra)? {
                    Some(fired) => return Ok(Some(fired)),
                    None => continue,
                }
            }
            let Some(t) = in_memory else {
                return Ok(None);
            };
            if t.time > wm {
                return Ok(None);
            }
            self.timers.pop();
            let n = t.node;
            if self.version_of(n) != t.version & VERSION_MASK {
                continue; // the window merged or closed since
            }
            if t.version & CLEANUP != 0 {
                extra.release(self.acc(n));
                self.remove(n);
                continue;
            }
            let fired = self.copy_window_with(extra, WindowSlot::session_node(n), out);
            if self.lateness == 0 {
                extra.release(self.acc(n));
                self.remove(n);
            } else {
                // Same version: the window's cleanup timer must stay valid.
                write_u64(self.nodes.get_mut(n), META, u64::from(t.version) | FIRED);
            }
            return Ok(Some(fired));
        }
    }

    /// Copies window node `n` (key and accumulators) into `out` for emitting.
    pub fn copy_window(&self, slot: WindowSlot, out: &mut Vec<u8>) -> FiredWindow {
        self.copy_window_with(&NoExtra, slot, out)
    }

    /// [`copy_window`](Self::copy_window) for sessions that own `extra` data: what its
    /// results need of it follows the accumulators ([`SessionExtra::fired`]).
    pub fn copy_window_with(
        &self,
        extra: &dyn SessionExtra,
        slot: WindowSlot,
        out: &mut Vec<u8>,
    ) -> FiredWindow {
        let n = slot.node();
        let key = self.keys.key_at(read_u64(self.nodes.get(n), KEY));
        out.clear();
        out.extend_from_slice(key);
        out.extend_from_slice(self.acc(n));
        extra.fired(self.acc(n), out);
        FiredWindow {
            start: self.start(n),
            end: self.end(n),
            key_len: key.len(),
        }
    }

    /// Whether a window ending at `end` is past its allowed lateness at `wm`.
    #[inline]
    fn expired(&self, end: i64, wm: i64) -> bool {
        end.saturating_sub(1).saturating_add(self.lateness) <= wm
    }

    /// A new node `[start, end)` for the key at `key_addr`, linked between `prev` and `next`.
    fn link(
        &mut self,
        key_addr: u64,
        start: i64,
        end: i64,
        prev: Option<u32>,
        next: Option<u32>,
    ) -> Result<u32, JobError> {
        let n = self.nodes.alloc()?;
        let node = self.nodes.get_mut(n);
        write_u64(node, NEXT, link_word(next));
        write_u64(node, PREV, link_word(prev));
        write_u64(node, START, start as u64);
        write_u64(node, END, end as u64);
        write_u64(node, KEY, key_addr);
        self.set_meta(n, 0);
        self.join(key_addr, prev, Some(n));
        self.join(key_addr, Some(n), next);
        Ok(n)
    }

    /// Sets timers for node `n` ending at `end`: its firing (unless already due, when the
    /// caller fires it at once) and, with allowed lateness, its cleanup.
    fn schedule(&mut self, n: u32, end: i64, wm: i64) -> Result<(), JobError> {
        let version = self.version_of(n);
        let last = end.saturating_sub(1);
        if last > wm {
            self.seq += 1;
            self.timers.push(Timer {
                time: last,
                seq: self.seq,
                node: n,
                version,
            })?;
        }
        if self.lateness > 0 {
            self.seq += 1;
            let time = last.saturating_add(self.lateness);
            self.timers.push(Timer {
                time,
                seq: self.seq,
                node: n,
                version: version | CLEANUP,
            })?;
        }
        Ok(())
    }

    /// Makes `b` follow `a` in the list of the key at `key_addr`; `None` for `a` makes `b`
    /// the first, `None` for `b` makes `a` the last.
    fn join(&mut self, key_addr: u64, a: Option<u32>, b: Option<u32>) {
        match a {
            Some(a) => write_u64(self.nodes.get_mut(a), NEXT, link_word(b)),
            None => write_u64(self.keys.acc_at_mut(key_addr), HEAD, link_word(b)),
        }
        match b {
            Some(b) => write_u64(self.nodes.get_mut(b), PREV, link_word(a)),
            None => write_u64(self.keys.acc_at_mut(key_addr), TAIL, link_word(a)),
        }
    }

    /// Unlinks and frees node `n`.
    fn remove(&mut self, n: u32) {
        let key_addr = read_u64(self.nodes.get(n), KEY);
        let (prev, next) = (self.prev(n), self.next(n));
        self.join(key_addr, prev, next);
        // A fresh version makes every timer still pointing here stale.
        self.set_meta(n, 0);
        self.nodes.free(n);
    }

    /// Gives node `n` a fresh version (so its old timers go stale) with `flags`.
    fn set_meta(&mut self, n: u32, flags: u64) {
        self.version = (self.version + 1) & VERSION_MASK;
        let version = self.version;
        write_u64(self.nodes.get_mut(n), META, u64::from(version) | flags);
    }

    #[inline]
    fn head(&self, key_addr: u64) -> Option<u32> {
        node_of(read_u64(self.keys.acc_at(key_addr), HEAD))
    }

    #[inline]
    fn next(&self, n: u32) -> Option<u32> {
        node_of(read_u64(self.nodes.get(n), NEXT))
    }

    #[inline]
    fn prev(&self, n: u32) -> Option<u32> {
        node_of(read_u64(self.nodes.get(n), PREV))
    }

    #[inline]
    fn start(&self, n: u32) -> i64 {
        read_u64(self.nodes.get(n), START) as i64
    }

    #[inline]
    fn end(&self, n: u32) -> i64 {
        read_u64(self.nodes.get(n), END) as i64
    }

    #[inline]
    fn version_of(&self, n: u32) -> u32 {
        read_u64(self.nodes.get(n), META) as u32 & VERSION_MASK
    }

    #[inline]
    fn acc(&self, n: u32) -> &[u8] {
        &self.nodes.get(n)[NODE_HEADER..NODE_HEADER + self.acc_size]
    }
}

#[cfg(test)]
mod tests;
