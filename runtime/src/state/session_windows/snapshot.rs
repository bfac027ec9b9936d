//! Session windows under the keyed-state contract.
//!
//! A snapshot has two kinds of entry, both under the key they belong to: a key's sessions
//! (`[0]` and the sessions as a spilled key holds them, extra data included), from memory
//! or, for a key memory does not hold, from disk; then each timer (`[1][time][seq][cleanup
//! flag][start][end]`), from the queue in memory or the runs on disk, naming its session
//! by bounds as a timer on disk does. A restore takes the sessions back, then binds each
//! timer to the session with its bounds (one whose session has since changed is stale, as
//! it would have been when it fired); sequence numbers are kept, so timers fire in the
//! order they would have.

use super::spill::{encode_sessions, SESSION_HEADER};
use super::{
    node_of, NoExtra, SessionExtra, SessionWindows, CLEANUP, END, HEAD, KEY, META, START,
    VERSION_MASK,
};
use crate::layout::read_u64;
use crate::memory::OperatorMemory;
use crate::spill::can_spill_after;
use crate::state::contract::{KeyedState, SnapshotReader, SnapshotWriter};
use crate::state::Timer;
use crate::JobError;

/// An entry's kind: a key's sessions.
const SESSIONS: u8 = 0;
/// An entry's kind: one timer.
const TIMER: u8 = 1;
/// Bytes of a timer entry after its kind.
const TIMER_BYTES: usize = 40;

fn corrupt(problem: &str) -> JobError {
    JobError::SnapshotCorrupt {
        problem: format!("session windows: {problem}"),
    }
}

impl SessionWindows {
    /// [`KeyedState::snapshot`] of sessions that own `extra` data (copied, kept).
    pub fn snapshot_with(
        &mut self,
        extra: &dyn SessionExtra,
        out: &mut SnapshotWriter,
    ) -> Result<(), JobError> {
        let (mut body, mut value) = (Vec::new(), Vec::new());
        for (hash, key, links) in self.keys.entries() {
            let head = node_of(read_u64(links, HEAD));
            if head.is_none() {
                continue;
            }
            encode_sessions(&self.nodes, self.acc_size, head, &mut body, |acc, out| {
                extra.copy(acc, out);
                Ok(())
            })?;
            tagged(&mut value, SESSIONS, &body);
            out.push(hash, key, &value);
        }
        let keys = &self.keys;
        if let Some(disk) = &mut self.disk {
            disk.sessions.visit_newest(|hash, key, stored| {
                if !stored.is_empty() && keys.find(key).is_none() {
                    tagged(&mut value, SESSIONS, stored);
                    out.push(hash, key, &value);
                }
                Ok(())
            })?;
        }
        let nodes = &self.nodes;
        self.timers.for_each(|t| {
            let node = nodes.get(t.node);
            if read_u64(node, META) as u32 & VERSION_MASK != t.version & VERSION_MASK {
                return; // stale
            }
            let addr = read_u64(node, KEY);
            let cleanup = u64::from(t.version & CLEANUP);
            timer_value(&mut value, t.time, t.seq, cleanup, &node[START..END + 8]);
            out.push(keys.hash_at(addr), keys.key_at(addr), &value);
        });
        if let Some(disk) = &self.disk {
            disk.timers.visit(|time, seq, payload| {
                // `[cleanup][start][end][key]`, as spilled.
                let key = &payload[24..];
                timer_value(&mut value, time, seq, read_u64(payload, 0), &payload[8..24]);
                out.push(crate::state::key_hash(key), key, &value);
                Ok(())
            })?;
        }
        Ok(())
    }

    /// [`KeyedState::restore`] of sessions that own `extra` data.
    pub fn restore_with(
        &mut self,
        extra: &mut dyn SessionExtra,
        from: &mut SnapshotReader<'_>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError> {
        while let Some(entry) = from.next_in(&groups)? {
            match entry.value.split_first() {
                Some((&SESSIONS, stored)) => self.restore_key(entry.key, stored, extra)?,
                Some((&TIMER, timer)) => self.restore_timer(entry.key, timer, extra)?,
                _ => return Err(corrupt("an entry of unknown kind")),
            }
        }
        Ok(())
    }

    fn restore_key(
        &mut self,
        key: &[u8],
        stored: &[u8],
        extra: &mut dyn SessionExtra,
    ) -> Result<(), JobError> {
        self.check_stored(stored)?;
        if self.keys.find(key).is_some() {
            return Err(corrupt("a key's sessions twice"));
        }
        match self.bring_back(key, stored, extra) {
            Err(e) if can_spill_after(&e, &self.mem, true) => {
                self.spill_all(extra)?;
                self.bring_back(key, stored, extra)?;
            }
            result => {
                result?;
            }
        }
        Ok(())
    }

    fn restore_timer(
        &mut self,
        key: &[u8],
        timer: &[u8],
        extra: &mut dyn SessionExtra,
    ) -> Result<(), JobError> {
        if timer.len() != TIMER_BYTES {
            return Err(corrupt("a timer of the wrong length"));
        }
        let word = |i: usize| read_u64(timer, i * 8);
        let (time, seq, cleanup) = (word(0) as i64, word(1), word(2) != 0);
        let (start, end) = (word(3) as i64, word(4) as i64);
        self.seq = self.seq.max(seq);
        let addr = self.prepare(key, extra)?;
        let mut cur = node_of(read_u64(self.keys.acc_at(addr), HEAD));
        while let Some(n) = cur {
            if self.start(n) == start && self.end(n) == end {
                let flag = if cleanup { CLEANUP } else { 0 };
                self.timers.push(Timer {
                    time,
                    seq,
                    node: n,
                    version: self.version_of(n) | flag,
                })?;
                return Ok(());
            }
            cur = self.next(n);
        }
        Ok(()) // its session changed since: stale
    }

    /// A corrupt-snapshot error unless `stored` is a whole list of spilled sessions.
    fn check_stored(&self, stored: &[u8]) -> Result<(), JobError> {
        let record = SESSION_HEADER + self.acc_size;
        let mut rest = stored;
        while !rest.is_empty() {
            let extra_len = rest
                .get(record..record + 8)
                .map(|b| read_u64(b, 0) as usize)
                .ok_or_else(|| corrupt("a session cut short"))?;
            rest = rest
                .get(record + 8..)
                .and_then(|r| r.get(extra_len..))
                .ok_or_else(|| corrupt("a session's data cut short"))?;
        }
        Ok(())
    }
}

/// `value` = `kind` followed by `body`.
fn tagged(value: &mut Vec<u8>, kind: u8, body: &[u8]) {
    value.clear();
    value.push(kind);
    value.extend_from_slice(body);
}

/// A timer's entry value; `bounds` is the session's start and end, 16 bytes.
fn timer_value(value: &mut Vec<u8>, time: i64, seq: u64, cleanup: u64, bounds: &[u8]) {
    value.clear();
    value.push(TIMER);
    value.extend_from_slice(&time.to_le_bytes());
    value.extend_from_slice(&seq.to_le_bytes());
    value.extend_from_slice(&u64::from(cleanup != 0).to_le_bytes());
    value.extend_from_slice(bounds);
}

impl KeyedState for SessionWindows {
    fn memory(&self) -> &OperatorMemory {
        &self.mem
    }

    fn snapshot(&mut self, out: &mut SnapshotWriter) -> Result<(), JobError> {
        self.snapshot_with(&NoExtra, out)
    }

    fn restore(
        &mut self,
        from: &mut SnapshotReader<'_>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError> {
        self.restore_with(&mut NoExtra, from, groups)
    }
}
