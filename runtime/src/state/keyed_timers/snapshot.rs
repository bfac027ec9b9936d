//! The timers under the keyed-state contract: a snapshot lists every timer set, in memory
//! or on disk, by its key's group; a restore sets those of its groups again, keeping their
//! order.

use super::{
    is_set, spill::pending_timers, time_of, KeyedTimers, TimeDomain, ID_HEADER, KEY_HASH, SEQ,
};
use crate::layout::read_u64;
use crate::memory::OperatorMemory;
use crate::state::contract::{KeyedState, SnapshotReader, SnapshotWriter};
use crate::JobError;

/// A timer's value in a snapshot: its domain, time and sequence number.
fn snapshot_value(id: &[u8], seq: u64) -> [u8; 17] {
    let mut value = [0u8; 17];
    value[..ID_HEADER].copy_from_slice(&id[..ID_HEADER]);
    value[ID_HEADER..].copy_from_slice(&seq.to_le_bytes());
    value
}

impl KeyedTimers {
    /// Calls `each(key hash, key, value)` for every timer set, in memory or on disk: what
    /// a snapshot holds of them (a process state's snapshot has them beside its values).
    pub(crate) fn snapshot_entries(
        &mut self,
        mut each: impl FnMut(u64, &[u8], &[u8]),
    ) -> Result<(), JobError> {
        for (_, _, id, value) in self.map.entries() {
            if is_set(value) {
                let seq = read_u64(value, SEQ);
                each(
                    read_u64(value, KEY_HASH),
                    &id[ID_HEADER..],
                    &snapshot_value(id, seq),
                );
            }
        }
        pending_timers(self, |hash, id, seq| {
            each(hash, &id[ID_HEADER..], &snapshot_value(id, seq));
            Ok(())
        })
    }

    /// Sets again the timer of `key` a snapshot entry's `value` describes, with its order.
    pub(crate) fn restore_entry(&mut self, key: &[u8], value: &[u8]) -> Result<(), JobError> {
        if value.len() != 17 {
            return Err(JobError::SnapshotCorrupt {
                problem: format!("a timer's entry of {} bytes, not 17", value.len()),
            });
        }
        let domain = TimeDomain::from_byte(value[0])?;
        let time = time_of(value);
        let seq = read_u64(value, ID_HEADER);
        self.seq = self.seq.max(seq);
        self.with_room(|t| t.try_register(domain, key, time, seq))?;
        Ok(())
    }
}

impl KeyedState for KeyedTimers {
    fn memory(&self) -> &OperatorMemory {
        &self.mem
    }

    fn snapshot(&mut self, out: &mut SnapshotWriter) -> Result<(), JobError> {
        self.snapshot_entries(|hash, key, value| out.push(hash, key, value))
    }

    fn restore(
        &mut self,
        from: &mut SnapshotReader<'_>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError> {
        while let Some(entry) = from.next_in(&groups)? {
            self.restore_entry(entry.key, entry.value)?;
        }
        Ok(())
    }
}
