//! Process state under the keyed-state contract: a snapshot lists each key's value (from
//! memory, or its newest copy on disk) and each timer, told apart by a first byte; a
//! restore takes those of its key groups.

use super::{ProcessState, CLEARED, HANDLE, LEN};
use crate::layout::read_u64;
use crate::memory::OperatorMemory;
use crate::state::contract::{KeyedState, SnapshotReader, SnapshotWriter};
use crate::JobError;

/// The first byte of a snapshot entry's value: what follows is the key's state.
const VALUE: u8 = 0;
/// What follows is one of the key's timers.
const TIMER: u8 = 1;

impl KeyedState for ProcessState {
    fn memory(&self) -> &OperatorMemory {
        &self.mem
    }

    fn snapshot(&mut self, out: &mut SnapshotWriter) -> Result<(), JobError> {
        let mut tagged = Vec::new();
        let mut push = |out: &mut SnapshotWriter, hash: u64, key: &[u8], tag: u8, v: &[u8]| {
            tagged.clear();
            tagged.push(tag);
            tagged.extend_from_slice(v);
            out.push(hash, key, &tagged);
        };
        let mut scratch = Vec::new();
        for (_, hash, key, entry) in self.index.entries() {
            let len = read_u64(entry, LEN);
            if len != CLEARED {
                let value = self
                    .values
                    .get(read_u64(entry, HANDLE), len as usize, &mut scratch);
                push(out, hash, key, VALUE, value);
            }
        }
        if let Some(disk) = &mut self.disk {
            let index = &self.index;
            disk.visit_newest(|hash, key, value| {
                if !value.is_empty() && index.find(key).is_none() {
                    push(out, hash, key, VALUE, value);
                }
                Ok(())
            })?;
        }
        self.timers
            .snapshot_entries(|hash, key, value| push(out, hash, key, TIMER, value))
    }

    fn restore(
        &mut self,
        from: &mut SnapshotReader<'_>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError> {
        while let Some(entry) = from.next_in(&groups)? {
            match entry.value.split_first() {
                Some((&VALUE, value)) if !value.is_empty() => self.put(entry.key, value)?,
                Some((&TIMER, timer)) => {
                    self.with_room(|s| s.timers.restore_entry(entry.key, timer))?
                }
                _ => {
                    return Err(JobError::SnapshotCorrupt {
                        problem: "a process state entry that is neither a value nor a timer"
                            .to_string(),
                    })
                }
            }
        }
        Ok(())
    }
}
