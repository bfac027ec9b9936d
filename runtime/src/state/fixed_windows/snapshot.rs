//! Tumbling and sliding windows under the keyed-state contract.
//!
//! A snapshot is every window's entries, windows in order of start, each window's keys in
//! the order they opened it (its spilled parts first, oldest first, then its table), as
//! `[start][fired][accumulators][text values]` per key (text values only for text
//! aggregates, as [`SessionExtra::copy`] writes them); a key spilled and then seen again appears once
//! per part, and a restore merges its parts in turn, as bringing the window back does. The
//! operator's own state is where firing stands (`fire_from`, `held_through`). A snapshot is
//! taken between records, never while a window is being emitted.

use super::{FixedWindows, OpenWindow};
use crate::state::contract::{fold_part, KeyedState, SnapshotReader, SnapshotWriter};
use crate::state::key_hash;
use crate::state::storage::window_table::EntryCursor;
use crate::state::SessionExtra;
use crate::JobError;

/// `[start: i64][fired: u8]` before each entry's accumulators.
const HEAD: usize = 9;

fn corrupt(problem: &str) -> JobError {
    JobError::SnapshotCorrupt {
        problem: problem.to_string(),
    }
}

impl FixedWindows {
    /// The operator's own state: where firing stands.
    fn operator_bytes(&self) -> Vec<u8> {
        let mut op = self.fire_from.to_le_bytes().to_vec();
        op.push(u8::from(self.held_through.is_some()));
        op.extend_from_slice(&self.held_through.unwrap_or(0).to_le_bytes());
        op
    }

    fn read_operator_bytes(&mut self, op: &[u8]) -> Result<(), JobError> {
        let [fire_from @ .., held, h0, h1, h2, h3, h4, h5, h6, h7] = op else {
            return Err(corrupt("a window operator's state is not 17 bytes"));
        };
        let fire_from: [u8; 8] = fire_from
            .try_into()
            .map_err(|_| corrupt("a window operator's state is not 17 bytes"))?;
        self.fire_from = i64::from_le_bytes(fire_from);
        let held_through = i64::from_le_bytes([*h0, *h1, *h2, *h3, *h4, *h5, *h6, *h7]);
        self.held_through = (*held != 0).then_some(held_through);
        Ok(())
    }

    /// Writes window `start`'s entries to `out`: its spilled parts (read and kept), then
    /// its table.
    fn snapshot_window(&mut self, start: i64, out: &mut SnapshotWriter) -> Result<(), JobError> {
        let (acc_size, shape) = (self.format.acc_size, self.shape());
        let window = self.windows.get_mut(&start).expect("a window listed");
        let mut head = start.to_le_bytes().to_vec();
        head.push(u8::from(window.fired));
        let mut value = head.clone();
        let segments = std::mem::take(&mut window.segments);
        let (kept, read) = crate::spill::Run::read_kept(segments, |record| {
            let (_, acc, text, key) = shape.split(record);
            value.truncate(HEAD);
            value.extend_from_slice(acc);
            value.extend_from_slice(text);
            out.push(key_hash(key), key, &value);
            Ok(())
        });
        let window = self.windows.get_mut(&start).expect("a window listed");
        window.segments = kept;
        read?;
        let Some(table) = &window.table else {
            return Ok(());
        };
        let mut at = EntryCursor::default();
        while let Some((entry, next)) = table.entry_at(&self.pages, &self.format, at) {
            let key = self.format.key(&self.pages, entry);
            value.truncate(HEAD);
            let acc = self.pages.bytes(entry, acc_size);
            value.extend_from_slice(acc);
            if let Some(text) = &self.text {
                text.copy(acc, &mut value);
            }
            out.push(key_hash(key), key, &value);
            at = next;
        }
        Ok(())
    }
}

impl KeyedState for FixedWindows {
    fn memory(&self) -> &crate::memory::OperatorMemory {
        self.pages.memory()
    }

    fn snapshot(&mut self, out: &mut SnapshotWriter) -> Result<(), JobError> {
        if self.firing.is_some() {
            return Err(JobError::Config(
                "internal error: a window operator was asked for a snapshot while it emitted a window".to_string(),
            ));
        }
        out.operator_state(&self.operator_bytes());
        let starts: Vec<i64> = self.windows.keys().copied().collect();
        for start in starts {
            self.snapshot_window(start, out)?;
        }
        Ok(())
    }

    fn restore(
        &mut self,
        from: &mut SnapshotReader<'_>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError> {
        self.read_operator_bytes(from.operator_state())?;
        let acc_size = self.format.acc_size;
        let spill = self.spill;
        let mut block = Vec::new();
        while let Some(entry) = from.next_in(&groups)? {
            let fits = match self.text {
                None => entry.value.len() == HEAD + acc_size,
                Some(_) => entry.value.len() >= HEAD + acc_size,
            };
            if !fits {
                return Err(corrupt(
                    "a window entry's accumulators are not the operator's",
                ));
            }
            let (head, value) = entry.value.split_at(HEAD);
            let (acc, text) = value.split_at(acc_size);
            let start = i64::from_le_bytes(head[..8].try_into().expect("8"));
            let fired = head[8] != 0;
            // The text values in pages first, for a copy of the accumulators: a fresh
            // entry takes the copy, an existing one merges it.
            block.clear();
            block.extend_from_slice(acc);
            self.restore_text(&mut block, text)?;
            let mut fresh = false;
            // Nothing is late at the lowest watermark: every entry of the snapshot lands.
            let end = start.saturating_add(self.size);
            let Some((slot, _)) = self.open(entry.key, start, end, i64::MIN, |a| {
                fresh = true;
                a.copy_from_slice(&block);
            })?
            else {
                return Err(corrupt("a window entry is late at the lowest watermark"));
            };
            if !fresh {
                let into = self.pages.bytes_mut(slot.entry, acc_size);
                fold_part(&spill, into, &block)?;
                if let Some(text) = &mut self.text {
                    text.merge(into, &block);
                }
            }
            if fired {
                if let Some(OpenWindow { fired, .. }) = self.windows.get_mut(&start) {
                    *fired = true;
                }
            }
        }
        Ok(())
    }
}
