//! The state of a session window join: sessions formed by the records of both sides of a
//! key together, each holding its records from each side until it fires.

use super::join_records::JoinSide;
use super::session_windows::SessionExtra;
use super::storage::chunk_pages::ChunkPages;
use super::SessionWindows;
use crate::memory::OperatorMemory;
use crate::state::contract::{KeyedState, SnapshotReader, SnapshotWriter};
use crate::JobError;

/// A session's accumulator block: the first and last record of each side, as
/// `address + 1` (0: none).
const LEFT_HEAD: usize = 0;
const LEFT_TAIL: usize = 8;
const RIGHT_HEAD: usize = 16;
const RIGHT_TAIL: usize = 24;
const ENDS: usize = 32;
/// A kept record's header: the next record of its session and side (`address + 1`), its
/// length, and its arrival number.
const NEXT: usize = 0;
const LEN: usize = 8;
const SEQ: usize = 16;
const HEADER: usize = 24;

/// Session window joins, in pool pages.
///
/// The sessions are a [`SessionWindows`] whose accumulators are the ends of the two sides'
/// lists of records, so a key's records of either side open, extend and merge its sessions
/// exactly as records of one stream do in a session window: a record's own window `[t, t +
/// gap)` merges with every session of the key it touches, and is late when it has already
/// passed the watermark. Merging two sessions joins their lists. The records themselves are
/// chunks of [`ChunkPages`], each numbered on arrival, so a fired session gives each side's
/// records in arrival order however its parts merged. A session's records go back to the
/// pool once the job has read its pairs.
///
/// Past the budget every session goes to disk with its records (they are the sessions'
/// [`SessionExtra`]), and comes back with them when a record or a timer of its key needs it.
#[derive(Debug)]
pub struct SessionJoin {
    sessions: SessionWindows,
    lists: RecordLists,
    gap: i64,
    seq: u64,
    fired: Vec<u8>,
    left: Vec<(u64, u64)>,
    right: Vec<(u64, u64)>,
    /// Records of the session handed out last, freed at the next call.
    done: Vec<u64>,
}

/// One fired session of a key: its records from each side, in arrival order, read where
/// they are in the state's pages.
#[derive(Debug, Clone, Copy)]
pub struct SessionGroup<'a> {
    /// The session's start (its first record's time).
    pub start: i64,
    /// Its end (its last record's time plus the gap), exclusive.
    pub end: i64,
    records: &'a ChunkPages,
    left: &'a [(u64, u64)],
    right: &'a [(u64, u64)],
}

impl<'a> SessionGroup<'a> {
    /// The session's left records, in arrival order.
    pub fn left(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let records = self.records;
        self.left.iter().map(move |&(_, at)| record(records, at))
    }

    /// The session's right records, in arrival order.
    pub fn right(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let records = self.records;
        self.right.iter().map(move |&(_, at)| record(records, at))
    }

    /// Whether the session has no left record.
    pub fn no_left(&self) -> bool {
        self.left.is_empty()
    }

    /// Whether the session has no right record.
    pub fn no_right(&self) -> bool {
        self.right.is_empty()
    }
}

fn record(records: &ChunkPages, at: u64) -> &[u8] {
    let len = word(records.bytes(at, HEADER), LEN) as usize;
    records.bytes(at + HEADER as u64, len)
}

impl SessionJoin {
    /// Empty state for sessions closing after `gap` ms without a record of their key.
    pub fn new(mem: OperatorMemory, gap: i64) -> Result<Self, JobError> {
        let mut records = ChunkPages::new(mem.clone());
        let first = records.alloc(8)?;
        records.free(first);
        Ok(SessionJoin {
            sessions: SessionWindows::new(mem, ENDS, 0)?,
            lists: RecordLists { records },
            gap,
            seq: 0,
            fired: Vec::new(),
            left: Vec::new(),
            right: Vec::new(),
            done: Vec::new(),
        })
    }

    /// Keeps `record` of `side` with key `key` at time `ts` in its session, unless its own
    /// window `[ts, ts + gap)` has already passed watermark `wm`: then `false` (late).
    pub fn add(
        &mut self,
        side: JoinSide,
        key: &[u8],
        ts: i64,
        wm: i64,
        record: &[u8],
    ) -> Result<bool, JobError> {
        let records = &mut self.lists.records;
        let need = (HEADER + record.len()).next_multiple_of(8);
        if need > records.page_size() {
            let (operator, location) = records.memory().operator();
            return Err(JobError::RecordTooLong {
                operator: operator.to_string(),
                location: location.to_string(),
                record_bytes: record.len(),
                limit_bytes: records.page_size() - HEADER,
                record: None,
            });
        }
        if ts.saturating_add(self.gap).saturating_sub(1) <= wm {
            return Ok(false);
        }
        // The record first, so that its session, once found, cannot move to disk before
        // the record is in its list.
        let at = match self.lists.records.alloc(need) {
            Ok(at) => at,
            Err(e) => {
                self.sessions.spill_everything(e, &mut self.lists)?;
                self.lists.records.alloc(need)?
            }
        };
        let block = self.lists.records.bytes_mut(at, need);
        block[NEXT..NEXT + 8].fill(0);
        block[LEN..LEN + 8].copy_from_slice(&(record.len() as u64).to_le_bytes());
        block[SEQ..SEQ + 8].copy_from_slice(&self.seq.to_le_bytes());
        block[HEADER..HEADER + record.len()].copy_from_slice(record);
        self.seq += 1;
        let slot = self.sessions.open_session_with(
            &mut self.lists,
            key,
            (ts, self.gap, wm),
            |ends| ends.fill(0),
            |_, _| Ok(()),
        );
        let slot = match slot {
            Ok(Some(slot)) => slot,
            // Not reached (the same check is made above), but a late record is harmless.
            Ok(None) => {
                self.lists.records.free(at);
                return Ok(false);
            }
            Err(e) => {
                self.lists.records.free(at);
                return Err(e);
            }
        };
        let (head, tail) = ends_of(side);
        let link = (at + 1).to_le_bytes();
        let ends = self.sessions.acc_mut(slot);
        let last = word(ends, tail);
        ends[tail..tail + 8].copy_from_slice(&link);
        if last == 0 {
            ends[head..head + 8].copy_from_slice(&link);
        } else {
            self.lists
                .records
                .bytes_mut(last - 1 + NEXT as u64, 8)
                .copy_from_slice(&link);
        }
        // The session ends after `ts`, which the watermark has not reached: never a re-fire.
        let _ = self.sessions.after_update(slot, wm);
        Ok(true)
    }

    /// The time of the next firing, if any session is open.
    pub fn next_timer(&self) -> Option<i64> {
        self.sessions.next_timer()
    }

    /// The next session due at watermark `wm` (in order of end, then of opening); `None`
    /// when nothing more is due. The records of the session returned before go back to
    /// the pool.
    pub fn next_group(&mut self, wm: i64) -> Result<Option<SessionGroup<'_>>, JobError> {
        for at in self.done.drain(..) {
            self.lists.records.free(at);
        }
        let Some(fired) = self
            .sessions
            .next_due_with(&mut self.lists, wm, &mut self.fired)?
        else {
            return Ok(None);
        };
        let ends = &self.fired[fired.key_len..];
        let records = &self.lists.records;
        for (list, head) in [(&mut self.left, LEFT_HEAD), (&mut self.right, RIGHT_HEAD)] {
            list.clear();
            let mut at = word(ends, head);
            while at != 0 {
                let header = records.bytes(at - 1, HEADER);
                list.push((word(header, SEQ), at - 1));
                self.done.push(at - 1);
                at = word(header, NEXT);
            }
            list.sort_unstable();
        }
        Ok(Some(SessionGroup {
            start: fired.start,
            end: fired.end,
            records,
            left: &self.left,
            right: &self.right,
        }))
    }
}

/// Snapshots are the sessions' (`SessionWindows::snapshot_with`), records included; the
/// operator's own state is the arrival count, so records arriving after a restore come
/// after every record restored.
impl KeyedState for SessionJoin {
    fn memory(&self) -> &OperatorMemory {
        self.lists.records.memory()
    }

    fn snapshot(&mut self, out: &mut SnapshotWriter) -> Result<(), JobError> {
        self.sessions.snapshot_with(&self.lists, out)?;
        out.operator_state(&self.seq.to_le_bytes());
        Ok(())
    }

    fn restore(
        &mut self,
        from: &mut SnapshotReader<'_>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError> {
        self.sessions.restore_with(&mut self.lists, from, groups)?;
        let seq: [u8; 8] =
            from.operator_state()
                .try_into()
                .map_err(|_| JobError::SnapshotCorrupt {
                    problem: "a session join's arrival count is not 8 bytes".to_string(),
                })?;
        self.seq = self.seq.max(u64::from_le_bytes(seq));
        Ok(())
    }
}

/// The sessions' records: what a session owns besides its accumulator block (the ends of
/// its two lists), moved to disk and back with it.
#[derive(Debug)]
struct RecordLists {
    records: ChunkPages,
}

impl SessionExtra for RecordLists {
    /// Each side's records as a count, then `[seq][length, 4 bytes][record]` each, in list
    /// order; their chunks go back to the pool.
    fn spill(&mut self, acc: &[u8], out: &mut Vec<u8>) -> Result<(), JobError> {
        self.copy(acc, out);
        for head in [LEFT_HEAD, RIGHT_HEAD] {
            let mut at = word(acc, head);
            while at != 0 {
                let next = word(self.records.bytes(at - 1, HEADER), NEXT);
                self.records.free(at - 1);
                at = next;
            }
        }
        Ok(())
    }

    fn copy(&self, acc: &[u8], out: &mut Vec<u8>) {
        for head in [LEFT_HEAD, RIGHT_HEAD] {
            let count_at = out.len();
            out.extend_from_slice(&0u32.to_le_bytes());
            let (mut count, mut at) = (0u32, word(acc, head));
            while at != 0 {
                let header = self.records.bytes(at - 1, HEADER);
                let (next, len, seq) = (
                    word(header, NEXT),
                    word(header, LEN) as usize,
                    word(header, SEQ),
                );
                out.extend_from_slice(&seq.to_le_bytes());
                out.extend_from_slice(&(len as u32).to_le_bytes());
                out.extend_from_slice(self.records.bytes(at - 1 + HEADER as u64, len));
                count += 1;
                at = next;
            }
            out[count_at..count_at + 4].copy_from_slice(&count.to_le_bytes());
        }
    }

    /// Chunks are carved from pages in order and never span two, so up to half of each
    /// page can go unused: twice the records' bytes.
    fn restore_bytes(&self, data: &[u8]) -> u64 {
        let (mut rest, mut bytes) = (data, 0u64);
        for _ in 0..2 {
            let count = u32::from_le_bytes(rest[..4].try_into().expect("four bytes"));
            rest = &rest[4..];
            for _ in 0..count {
                let len = u32::from_le_bytes(rest[8..12].try_into().expect("four bytes")) as usize;
                bytes += (HEADER + len).next_multiple_of(8) as u64;
                rest = &rest[12 + len..];
            }
        }
        2 * bytes
    }

    fn restore(&mut self, acc: &mut [u8], data: &[u8]) -> Result<(), JobError> {
        let mut rest = data;
        for (head, tail) in [(LEFT_HEAD, LEFT_TAIL), (RIGHT_HEAD, RIGHT_TAIL)] {
            acc[head..head + 8].fill(0);
            acc[tail..tail + 8].fill(0);
            let count = u32::from_le_bytes(rest[..4].try_into().expect("four bytes"));
            rest = &rest[4..];
            for _ in 0..count {
                let seq = &rest[..8];
                let len = u32::from_le_bytes(rest[8..12].try_into().expect("four bytes")) as usize;
                let record = &rest[12..12 + len];
                rest = &rest[12 + len..];
                let need = (HEADER + len).next_multiple_of(8);
                let at = self.records.alloc(need)?;
                let block = self.records.bytes_mut(at, need);
                block[NEXT..NEXT + 8].fill(0);
                block[LEN..LEN + 8].copy_from_slice(&(len as u64).to_le_bytes());
                block[SEQ..SEQ + 8].copy_from_slice(seq);
                block[HEADER..HEADER + len].copy_from_slice(record);
                let link = (at + 1).to_le_bytes();
                let last = word(acc, tail);
                if last == 0 {
                    acc[head..head + 8].copy_from_slice(&link);
                } else {
                    self.records
                        .bytes_mut(last - 1 + NEXT as u64, 8)
                        .copy_from_slice(&link);
                }
                acc[tail..tail + 8].copy_from_slice(&link);
            }
        }
        Ok(())
    }

    fn merge(&mut self, into: &mut [u8], from: &[u8]) {
        concat(&mut self.records, into, from, LEFT_HEAD, LEFT_TAIL);
        concat(&mut self.records, into, from, RIGHT_HEAD, RIGHT_TAIL);
    }
}

/// The head and tail words of `side`'s list in a session's block.
fn ends_of(side: JoinSide) -> (usize, usize) {
    match side {
        JoinSide::Left => (LEFT_HEAD, LEFT_TAIL),
        JoinSide::Right => (RIGHT_HEAD, RIGHT_TAIL),
    }
}

/// Appends the list (`head`, `tail` words) of session block `from` to that of `into`.
fn concat(records: &mut ChunkPages, into: &mut [u8], from: &[u8], head: usize, tail: usize) {
    let (from_head, from_tail) = (word(from, head), word(from, tail));
    if from_head == 0 {
        return;
    }
    let last = word(into, tail);
    if last == 0 {
        into[head..head + 8].copy_from_slice(&from_head.to_le_bytes());
    } else {
        records
            .bytes_mut(last - 1 + NEXT as u64, 8)
            .copy_from_slice(&from_head.to_le_bytes());
    }
    into[tail..tail + 8].copy_from_slice(&from_tail.to_le_bytes());
}

#[inline]
fn word(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
}

#[cfg(test)]
mod tests;
