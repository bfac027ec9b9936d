//! Count windows whose aggregates keep values outside the accumulators (`first(page)`,
//! `collect_list(name)`, `count_distinct(user)`): the values live in a
//! [`TextAccumulators`] beside the table, in chunks carved in order, so that the values of
//! the groups spilled give their pages back while values being landed stay. A group's
//! values go wherever its block goes: after it in the copies on disk
//! (`[seq][block][text]`), in snapshots, and in the copy of a group that fires.

use super::{CountGroups, SEQ};
use crate::spill::can_spill_after;
use crate::state::{SessionExtra, TextAccumulators, TextOutcome, TextSlot};
use crate::JobError;

impl CountGroups {
    /// The same groups, whose blocks hold the text slots `slots` (new blocks must mark
    /// them empty, [`TextAccumulators::empty`]).
    pub fn with_text(mut self, slots: &'static [TextSlot]) -> Self {
        self.text = Some(Box::new(TextAccumulators::in_time_order(
            self.mem.clone(),
            slots,
        )));
        self
    }

    /// [`group`](Self::group) with text values: a group on disk comes back with its
    /// values, which come into pages before the group takes a place in the table.
    pub(super) fn group_with_text(
        &mut self,
        key: &[u8],
        init: &mut dyn FnMut(&mut [u8]),
    ) -> Result<u64, JobError> {
        if let Some(addr) = self.table.find(key) {
            return Ok(addr);
        }
        let hash = self.table.hash_of(key);
        let stored = match &mut self.disk {
            Some(disk) => disk.get(hash, key)?.map(<[u8]>::to_vec),
            None => None,
        };
        let Some(stored) = stored else {
            let seq = self.next_seq.to_le_bytes();
            let addr = self.upsert(key, &mut |entry| {
                entry[..SEQ].copy_from_slice(&seq);
                init(&mut entry[SEQ..]);
            })?;
            self.next_seq += 1;
            self.key_bytes += key.len() as u64;
            return Ok(addr);
        };
        let mut entry = Vec::new();
        self.bring_in(&stored, &mut entry)?;
        self.upsert(key, &mut |e| e.copy_from_slice(&entry))
    }

    /// The entry `[seq][block]` of a group stored as `[seq][block][text]`, in `entry`,
    /// its text values in pages; room is made by spilling the table.
    pub(super) fn bring_in(&mut self, stored: &[u8], entry: &mut Vec<u8>) -> Result<(), JobError> {
        let (head, text) = stored.split_at(SEQ + self.block_size);
        entry.clear();
        entry.extend_from_slice(head);
        while let Some(values) = &mut self.text {
            match values.restore(&mut entry[SEQ..], text) {
                Ok(()) => break,
                Err(e) => self.spill_for(e)?,
            }
        }
        Ok(())
    }

    /// The entry of `key`, inserted with `make` if new; the table spills first if it
    /// has no room.
    pub(super) fn upsert(
        &mut self,
        key: &[u8],
        make: &mut dyn FnMut(&mut [u8]),
    ) -> Result<u64, JobError> {
        match self.table.upsert_entry(key, &mut *make) {
            Ok(addr) => Ok(addr),
            Err(e) => {
                self.spill_for(e)?;
                self.table.upsert_entry(key, make)
            }
        }
    }

    /// Offers the text slots of the group at `addr` the values of a record at `ts`. Past
    /// the budget the table goes to disk and the error comes back as
    /// [`TextOutcome::Moved`]: the caller looks the group up again (it comes back from
    /// disk) and offers the same values again; if they still do not fit, the budget
    /// error stands.
    pub fn update_text(
        &mut self,
        addr: u64,
        values: &[&[u8]],
        ts: i64,
    ) -> Result<TextOutcome, JobError> {
        let moved = std::mem::take(&mut self.moved);
        let text = self.text.as_mut().expect("count windows with text slots");
        let e = match text.update(&mut self.table.acc_at_mut(addr)[SEQ..], values, ts) {
            Ok(()) => return Ok(TextOutcome::Updated),
            Err(e) => e,
        };
        if moved || !can_spill_after(&e, &self.mem, true) {
            return Err(e);
        }
        self.spill()?;
        self.moved = true;
        Ok(TextOutcome::Moved)
    }

    /// Appends the text values of the group at `addr`, as its results read them, to `out`
    /// (after its key and block).
    pub fn copy_text(&self, addr: u64, out: &mut Vec<u8>) {
        if let Some(text) = &self.text {
            text.fired(self.block(addr), out);
        }
    }

    /// Lets the text values of the group at `addr` go and marks its slots empty: it
    /// fired and starts again.
    pub fn clear_text(&mut self, addr: u64) {
        if let Some(text) = &mut self.text {
            let block = &mut self.table.acc_at_mut(addr)[SEQ..];
            text.release(block);
            TextAccumulators::empty(text.slots(), block);
        }
    }

    /// A group's `[seq][block]` and text values written out, as disk and snapshots hold
    /// it, in `out`.
    pub(super) fn stored(text: Option<&TextAccumulators>, entry: &[u8], out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(entry);
        if let Some(text) = text {
            text.copy(&entry[SEQ..], out);
        }
    }
}
