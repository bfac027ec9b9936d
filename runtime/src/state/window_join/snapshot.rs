//! Window joins under the keyed-state contract: a snapshot is every window's records in
//! arrival order (its parts on disk first, oldest first, then its chunks in memory), each
//! as `[start][side][record]` under its key (the format of the window join's state before
//! it was indexed at firing, so savepoints taken then restore); a restore adds them in
//! that order, which gives each window its records in the order they came. Windows are
//! taken between firings, never while one is being read out.

use super::{each_record, JoinSide, WindowJoin};
use crate::state::contract::{KeyedState, SnapshotReader, SnapshotWriter};
use crate::state::key_hash;
use crate::JobError;

/// `[start: i64][side: u8]` before each record.
const HEAD: usize = 9;

impl WindowJoin {
    /// Writes the records of the window at position `at` to `out`, its parts on disk read
    /// and kept.
    fn snapshot_window(&mut self, at: usize, out: &mut SnapshotWriter) -> Result<(), JobError> {
        let mut value = self.windows[at].start.to_le_bytes().to_vec();
        let parts = std::mem::take(&mut self.windows[at].parts);
        let (kept, read) = crate::spill::Run::read_kept(parts, |stored| {
            let key_len = u32::from_le_bytes(stored[1..5].try_into().expect("4")) as usize;
            let (key, record) = stored[5..].split_at(key_len);
            value.truncate(HEAD - 1);
            value.push(stored[0]);
            value.extend_from_slice(record);
            out.push(key_hash(key), key, &value);
            Ok(())
        });
        self.windows[at].parts = kept;
        read?;
        each_record(
            &self.pages,
            &self.windows[at].chunks,
            |side, key, record| {
                value.truncate(HEAD - 1);
                value.push(side);
                value.extend_from_slice(record);
                out.push(key_hash(key), key, &value);
                Ok(())
            },
        )
    }
}

impl KeyedState for WindowJoin {
    fn memory(&self) -> &crate::memory::OperatorMemory {
        self.pages.memory()
    }

    fn snapshot(&mut self, out: &mut SnapshotWriter) -> Result<(), JobError> {
        if self.firing.is_some() {
            return Err(JobError::Config(
                "internal error: a window join was asked for a snapshot while it read out a window"
                    .to_string(),
            ));
        }
        for at in 0..self.windows.len() {
            self.snapshot_window(at, out)?;
        }
        Ok(())
    }

    fn restore(
        &mut self,
        from: &mut SnapshotReader<'_>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError> {
        while let Some(entry) = from.next_in(&groups)? {
            let Some((head, record)) = entry.value.split_at_checked(HEAD) else {
                return Err(JobError::SnapshotCorrupt {
                    problem: "a window join's record has no window".to_string(),
                });
            };
            let start = i64::from_le_bytes(head[..8].try_into().expect("8"));
            let side = if head[8] == 1 {
                JoinSide::Right
            } else {
                JoinSide::Left
            };
            // Nothing is late at the lowest watermark: every record of the snapshot lands.
            self.add(side, entry.key, start, i64::MIN, record)?;
        }
        Ok(())
    }
}
