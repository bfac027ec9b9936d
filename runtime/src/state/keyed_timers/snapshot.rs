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

impl KeyedState for KeyedTimers {
    fn memory(&self) -> &OperatorMemory {
        &self.mem
    }

    fn snapshot(&mut self, out: &mut SnapshotWriter) -> Result<(), JobError> {
        for (_, _, id, value) in self.map.entries() {
            if is_set(value) {
                let seq = read_u64(value, SEQ);
                out.push(
                    read_u64(value, KEY_HASH),
                    &id[ID_HEADER..],
                    &snapshot_value(id, seq),
                );
            }
        }
        pending_timers(self, |hash, id, seq| {
            out.push(hash, &id[ID_HEADER..], &snapshot_value(id, seq));
            Ok(())
        })
    }

    fn restore(
        &mut self,
        from: &mut SnapshotReader<'_>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError> {
        while let Some(entry) = from.next_in(&groups)? {
            if entry.value.len() != 17 {
                return Err(JobError::SnapshotCorrupt {
                    problem: format!("a timer's entry of {} bytes, not 17", entry.value.len()),
                });
            }
            let domain = TimeDomain::from_byte(entry.value[0])?;
            let time = time_of(entry.value);
            let seq = read_u64(entry.value, ID_HEADER);
            self.seq = self.seq.max(seq);
            self.with_room(|t| t.try_register(domain, entry.key, time, seq))?;
        }
        Ok(())
    }
}
