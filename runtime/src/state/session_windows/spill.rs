//! Session windows past their budget: every key's sessions, and every timer, go to disk;
//! a key's sessions come back when a record or a timer of the key needs them.
//!
//! A spilled key is `[start][end][flags][accumulators][extra length][extra]` per session
//! (the extra is what the session owns outside its accumulators, see [`SessionExtra`]), in
//! start order
//! ([`KeyRuns`], newest copy wins; a key left with no session is written empty when an
//! older copy with sessions must be hidden, and not at all otherwise). A spilled timer names its session by key and bounds
//! (`[flags][start][end][key]` in [`TimerRuns`]), since node numbers do not survive: a
//! session's bounds only grow, so a timer whose session no longer has those bounds is
//! stale, as a version mismatch makes an in-memory timer stale. A session brought back
//! keeps its timers on disk until its bounds change, when it gets new ones in memory.

use std::time::Instant;

use super::{
    node_of, SessionExtra, SessionWindows, CLEANUP, END, FIRED, HEAD, KEY, KEY_FLAGS, META, NEXT,
    ON_DISK, START, VERSION_MASK,
};
use crate::layout::{read_u64, write_u64};
use crate::spill::{can_spill_after, KeyRuns, TimerRuns};
use crate::state::fired_window::{FiredWindow, WindowSlot};
use crate::JobError;

/// Bytes of a spilled session before its accumulators: start, end, flags.
pub(super) const SESSION_HEADER: usize = 24;

/// What a session-window operator has on disk.
#[derive(Debug)]
pub(super) struct SessionDisk {
    pub(super) sessions: KeyRuns,
    pub(super) timers: TimerRuns,
}

impl SessionWindows {
    /// The entry of `key` in memory, its sessions brought back from disk if they went
    /// there, with room reserved for one new session and its two timers. Past the budget,
    /// everything in memory goes to disk first (once); if even then the key does not fit,
    /// the budget error stands.
    pub(super) fn prepare(
        &mut self,
        key: &[u8],
        extra: &mut dyn SessionExtra,
    ) -> Result<u64, JobError> {
        match self.try_prepare(key, extra) {
            Err(e) if can_spill_after(&e, &self.mem, true) => {
                self.spill_all(extra)?;
                self.try_prepare(key, extra)
            }
            result => result,
        }
    }

    /// Writes every session (with its `extra` data) and timer to disk, to make room for
    /// what the sessions own outside their accumulators; `e` when spilling is not allowed.
    pub fn spill_everything(
        &mut self,
        e: JobError,
        extra: &mut dyn SessionExtra,
    ) -> Result<(), JobError> {
        if !can_spill_after(&e, &self.mem, true) {
            return Err(e);
        }
        self.spill_all(extra)
    }

    fn try_prepare(&mut self, key: &[u8], extra: &mut dyn SessionExtra) -> Result<u64, JobError> {
        self.nodes.reserve(1)?;
        self.timers.reserve(2)?;
        if let Some(addr) = self.keys.find(key) {
            return Ok(addr);
        }
        let hash = self.keys.hash_of(key);
        let mut stored = std::mem::take(&mut self.scratch_disk);
        stored.clear();
        if let Some(disk) = &mut self.disk {
            if let Some(value) = disk.sessions.get(hash, key)? {
                stored.extend_from_slice(value);
            }
        }
        let result = self.bring_back(key, &stored, extra);
        self.scratch_disk = stored;
        result
    }

    /// Makes the entry of `key` and links the sessions of `stored` (as spilled) to it,
    /// each taking back its `extra` data.
    pub(super) fn bring_back(
        &mut self,
        key: &[u8],
        stored: &[u8],
        extra: &mut dyn SessionExtra,
    ) -> Result<u64, JobError> {
        let record = SESSION_HEADER + self.acc_size;
        self.nodes.reserve(1 + stored.len() / (record + 8))?;
        self.room_for_extra(stored, extra)?;
        let addr = self.keys.upsert_entry(key, |a| a.fill(0))?;
        if !stored.is_empty() {
            write_u64(self.keys.acc_at_mut(addr), KEY_FLAGS, ON_DISK);
        }
        let mut tail = None;
        let mut rest = stored;
        while !rest.is_empty() {
            let (session, after) = rest.split_at(record);
            let extra_len = read_u64(after, 0) as usize;
            let (data, after) = after[8..].split_at(extra_len);
            rest = after;
            let start = read_u64(session, 0) as i64;
            let end = read_u64(session, 8) as i64;
            let n = self.link(addr, start, end, tail, None)?;
            if read_u64(session, 16) & FIRED != 0 {
                let version = self.version_of(n);
                write_u64(self.nodes.get_mut(n), META, u64::from(version) | FIRED);
            }
            let acc = &session[SESSION_HEADER..];
            self.node_acc_mut(n).copy_from_slice(acc);
            if let Err(e) = extra.restore(self.node_acc_mut(n), data) {
                self.take_back(addr, n, extra);
                return Err(e);
            }
            tail = Some(n);
        }
        Ok(addr)
    }

    /// Undoes a key brought back in part, whose session `failed` did not take its extra
    /// data back (which takes nothing when it fails): the sessions before it let theirs go,
    /// and all are unlinked, so that the key is on disk alone again, whole. Its entry
    /// stays, empty and not marked as on disk, until the spill that follows drains it
    /// (`prepare`): it hides nothing.
    fn take_back(&mut self, addr: u64, failed: u32, extra: &mut dyn SessionExtra) {
        self.remove(failed);
        while let Some(n) = node_of(read_u64(self.keys.acc_at(addr), HEAD)) {
            extra.release(self.acc(n));
            self.remove(n);
        }
        write_u64(self.keys.acc_at_mut(addr), KEY_FLAGS, 0);
    }

    /// A budget error unless the pool has room for the extra data of every session in
    /// `stored`: the pages are taken and given back, so nothing changes either way.
    fn room_for_extra(&self, stored: &[u8], extra: &dyn SessionExtra) -> Result<(), JobError> {
        let record = SESSION_HEADER + self.acc_size;
        let (mut rest, mut bytes) = (stored, 0u64);
        while !rest.is_empty() {
            let after = &rest[record..];
            let extra_len = read_u64(after, 0) as usize;
            bytes += extra.restore_bytes(&after[8..8 + extra_len]);
            rest = &after[8 + extra_len..];
        }
        if bytes == 0 {
            return Ok(());
        }
        // Each extra's estimate counts what its storage wastes (see restore_bytes).
        let pages = bytes.div_ceil(self.mem.page_size() as u64);
        for p in self.mem.allocate_many(pages)? {
            self.mem.release(p);
        }
        Ok(())
    }

    /// Writes every live timer and every key's sessions to disk, and frees them all.
    pub(super) fn spill_all(&mut self, extra: &mut dyn SessionExtra) -> Result<(), JobError> {
        let started = Instant::now();
        let mem = self.mem.clone();
        let disk = self.disk.get_or_insert_with(|| SessionDisk {
            sessions: KeyRuns::with_tombstones(mem.clone()),
            timers: TimerRuns::new(mem.clone()),
        });
        let (timers, nodes, keys) = (&mut self.timers, &self.nodes, &mut self.keys);
        let mut buf = Vec::new();
        disk.timers.add(|push| {
            while let Some(t) = timers.pop() {
                let node = nodes.get(t.node);
                if read_u64(node, META) as u32 & VERSION_MASK != t.version & VERSION_MASK {
                    continue; // stale
                }
                buf.clear();
                buf.extend_from_slice(&u64::from(t.version & CLEANUP).to_le_bytes());
                buf.extend_from_slice(&node[START..START + 8]);
                buf.extend_from_slice(&node[END..END + 8]);
                buf.extend_from_slice(keys.key_at(read_u64(node, KEY)));
                push(t.time, t.seq, &buf)?;
            }
            Ok(())
        })?;
        let acc_size = self.acc_size;
        let keys_in_memory = keys.len();
        disk.sessions.add(keys_in_memory, |push| {
            keys.drain_by_hash(|hash, key, links| {
                let head = node_of(read_u64(links, HEAD));
                if head.is_none() && read_u64(links, KEY_FLAGS) & ON_DISK == 0 {
                    return Ok(()); // nothing here, nothing older on disk to hide
                }
                encode_sessions(nodes, acc_size, head, &mut buf, |acc, out| {
                    extra.spill(acc, out)
                })?;
                push(hash, key, &buf)
            })
        })?;
        self.nodes.clear();
        extra.all_spilled();
        self.mem.note_spill_work(1, started.elapsed());
        Ok(())
    }

    /// Takes the earliest timer on disk and acts on its session: fires it (copying it into
    /// `out`), drops it at its cleanup, or nothing when the timer is stale.
    pub(super) fn spilled_timer(
        &mut self,
        out: &mut Vec<u8>,
        extra: &mut dyn SessionExtra,
    ) -> Result<Option<FiredWindow>, JobError> {
        let mut payload = std::mem::take(&mut self.scratch_timer);
        let disk = self.disk.as_mut().expect("timers on disk");
        disk.timers.pop(&mut payload)?;
        let result = self.act_on(&payload, out, extra);
        self.scratch_timer = payload;
        result
    }

    fn act_on(
        &mut self,
        timer: &[u8],
        out: &mut Vec<u8>,
        extra: &mut dyn SessionExtra,
    ) -> Result<Option<FiredWindow>, JobError> {
        let cleanup = read_u64(timer, 0) != 0;
        let (start, end) = (read_u64(timer, 8) as i64, read_u64(timer, 16) as i64);
        let addr = self.prepare(&timer[24..], extra)?;
        let mut cur = node_of(read_u64(self.keys.acc_at(addr), HEAD));
        while let Some(n) = cur {
            if self.start(n) == start && self.end(n) == end {
                if cleanup {
                    extra.release(self.acc(n));
                    self.remove(n);
                    return Ok(None);
                }
                let fired = self.copy_window_with(extra, WindowSlot::session_node(n), out);
                if self.lateness == 0 {
                    extra.release(self.acc(n));
                    self.remove(n);
                } else {
                    let version = self.version_of(n);
                    write_u64(self.nodes.get_mut(n), META, u64::from(version) | FIRED);
                }
                return Ok(Some(fired));
            }
            cur = self.next(n);
        }
        Ok(None) // the session merged or grew since: the timer is stale
    }
}

/// Writes into `out` the sessions of the list starting at `head`, as a spilled key holds
/// them, each session's extra data written by `extra(acc, out)`.
pub(super) fn encode_sessions(
    nodes: &crate::state::PagedArena,
    acc_size: usize,
    head: Option<u32>,
    out: &mut Vec<u8>,
    mut extra: impl FnMut(&[u8], &mut Vec<u8>) -> Result<(), JobError>,
) -> Result<(), JobError> {
    out.clear();
    let mut cur = head;
    while let Some(n) = cur {
        let node = nodes.get(n);
        out.extend_from_slice(&node[START..START + 8]);
        out.extend_from_slice(&node[END..END + 8]);
        out.extend_from_slice(&(read_u64(node, META) & FIRED).to_le_bytes());
        let acc = &node[super::NODE_HEADER..super::NODE_HEADER + acc_size];
        out.extend_from_slice(acc);
        // The extra data's length, filled in once it is written.
        let length_at = out.len();
        out.extend_from_slice(&0u64.to_le_bytes());
        extra(acc, out)?;
        let length = (out.len() - length_at - 8) as u64;
        out[length_at..length_at + 8].copy_from_slice(&length.to_le_bytes());
        cur = node_of(read_u64(node, NEXT));
    }
    Ok(())
}
