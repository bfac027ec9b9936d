//! Interval joins under the keyed-state contract: a snapshot is each side's kept records,
//! `[side][time][record]` under their key, its buckets on disk first (older), then those in
//! memory, each key's records in arrival order; a restore keeps them again in that order,
//! so every record meets the same partners in the same order afterwards. An outer join's
//! records waiting for a partner follow, as `[2 + side][time][record]`.

use super::IntervalBuffers;
use crate::state::contract::{KeyedState, SnapshotReader, SnapshotWriter};
use crate::state::join_records::JoinSide;
use crate::JobError;

impl KeyedState for IntervalBuffers {
    fn memory(&self) -> &crate::memory::OperatorMemory {
        &self.mem
    }

    fn snapshot(&mut self, out: &mut SnapshotWriter) -> Result<(), JobError> {
        let mut value = Vec::new();
        for (side, buffer) in [(0u8, &mut self.left), (1, &mut self.right)] {
            for runs in buffer.disk.values_mut() {
                runs.visit_newest(|hash, key, mut records| {
                    // `[length][time][record]` entries, in arrival order.
                    while let Some((len, rest)) = records.split_first_chunk::<4>() {
                        let (stored, rest) = rest.split_at(u32::from_le_bytes(*len) as usize);
                        value.clear();
                        value.push(side);
                        value.extend_from_slice(stored);
                        out.push(hash, key, &value);
                        records = rest;
                    }
                    Ok(())
                })?;
            }
            buffer.memory.each_record_in_memory(|_, _, key, stored| {
                value.clear();
                value.push(side);
                value.extend_from_slice(stored);
                out.push(crate::state::key_hash(key), key, &value);
                Ok(())
            })?;
        }
        for (side, waiting) in (2u8..).zip(self.waiting.iter_mut()) {
            if let Some(waiting) = waiting {
                waiting.each_record(|(key, ts, record)| {
                    value.clear();
                    value.push(side);
                    value.extend_from_slice(&ts.to_le_bytes());
                    value.extend_from_slice(record);
                    out.push(crate::state::key_hash(key), key, &value);
                    Ok(())
                })?;
            }
        }
        Ok(())
    }

    fn restore(
        &mut self,
        from: &mut SnapshotReader<'_>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError> {
        while let Some(entry) = from.next_in(&groups)? {
            let Some(([side], stored)) = entry.value.split_first_chunk::<1>() else {
                return Err(corrupt());
            };
            let Some((time, record)) = stored.split_first_chunk::<8>() else {
                return Err(corrupt());
            };
            let (ts, key) = (i64::from_le_bytes(*time), entry.key);
            match side {
                0 => self.add(JoinSide::Left, key, ts, record)?,
                1 => self.add(JoinSide::Right, key, ts, record)?,
                2 | 3 => {
                    let side = if *side == 2 {
                        JoinSide::Left
                    } else {
                        JoinSide::Right
                    };
                    if !self.emits_unmatched(side) {
                        return Err(corrupt());
                    }
                    self.await_partner(side, key, ts, record)?
                }
                _ => return Err(corrupt()),
            }
        }
        Ok(())
    }
}

fn corrupt() -> JobError {
    JobError::SnapshotCorrupt {
        problem: "an interval join's record has no side (of this join) or time".to_string(),
    }
}
