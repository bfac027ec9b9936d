//! How the runtime's generic parts of a job are checkpointed: counters and watermarks by
//! value, scratch buffers not at all (nothing in them outlives a record), operator states
//! through the keyed-state contract (a snapshot by key group, restored whole on one
//! worker). The parts with private state (sources, sinks, watermark generators, the clock)
//! have their impls beside their own code.

use super::{Checkpointed, StateIn, StateOut};
use crate::parallel::DEFAULT_KEY_GROUPS;
use crate::state::contract::{KeyedState, SnapshotReader, SnapshotWriter};
use crate::JobError;

impl Checkpointed for u64 {
    fn save(&mut self, out: &mut StateOut) -> Result<(), JobError> {
        out.u64(*self);
        Ok(())
    }

    fn load(&mut self, from: &mut StateIn<'_>) -> Result<(), JobError> {
        *self = from.u64()?;
        Ok(())
    }
}

impl Checkpointed for i64 {
    fn save(&mut self, out: &mut StateOut) -> Result<(), JobError> {
        out.i64(*self);
        Ok(())
    }

    fn load(&mut self, from: &mut StateIn<'_>) -> Result<(), JobError> {
        *self = from.i64()?;
        Ok(())
    }
}

/// Scratch: buffers a record's code fills before it uses them, empty in meaning between
/// records (key and record builders, encode buffers, the interval join's partner list).
macro_rules! scratch {
    ($($t:ty),* $(,)?) => {$(
        impl Checkpointed for $t {
            fn save(&mut self, _: &mut StateOut) -> Result<(), JobError> {
                Ok(())
            }

            fn load(&mut self, _: &mut StateIn<'_>) -> Result<(), JobError> {
                Ok(())
            }
        }
    )*};
}

scratch!(
    Vec<u8>,
    Vec<String>,
    crate::layout::RecordBuilder,
    crate::state::Partners,
);

/// A state kept behind an `Option` only while it is taken out to fire is always there
/// between records; a source behind one is `None` once it has ended.
impl<T: Checkpointed> Checkpointed for Option<T> {
    fn save(&mut self, out: &mut StateOut) -> Result<(), JobError> {
        out.bool(self.is_some());
        match self {
            Some(t) => t.save(out),
            None => Ok(()),
        }
    }

    fn load(&mut self, from: &mut StateIn<'_>) -> Result<(), JobError> {
        match (from.bool()?, self.as_mut()) {
            (true, Some(t)) => t.load(from),
            (false, _) => {
                *self = None;
                Ok(())
            }
            (true, None) => Err(JobError::CheckpointMismatch(
                "it holds a part this job does not have open".to_string(),
            )),
        }
    }
}

/// Saves a keyed state as its snapshot by key group.
fn save_keyed(state: &mut impl KeyedState, out: &mut StateOut) -> Result<(), JobError> {
    let mut w = SnapshotWriter::new(DEFAULT_KEY_GROUPS);
    state.snapshot(&mut w)?;
    out.bytes(&w.finish().bytes);
    Ok(())
}

/// Restores every key group of a keyed state's snapshot.
fn load_keyed(state: &mut impl KeyedState, from: &mut StateIn<'_>) -> Result<(), JobError> {
    let mut r = SnapshotReader::new(from.bytes()?)?;
    let groups = r.groups();
    state.restore(&mut r, 0..groups)
}

macro_rules! keyed {
    ($($t:ty),* $(,)?) => {$(
        impl Checkpointed for $t {
            fn save(&mut self, out: &mut StateOut) -> Result<(), JobError> {
                save_keyed(self, out)
            }

            fn load(&mut self, from: &mut StateIn<'_>) -> Result<(), JobError> {
                load_keyed(self, from)
            }
        }
    )*};
}

keyed!(
    crate::state::SpillingTable,
    crate::state::FixedWindows,
    crate::state::SessionWindows,
    crate::state::CountGroups,
    crate::state::SeenKeys,
    crate::state::JoinWindows,
    crate::state::SessionJoin,
    crate::state::IntervalBuffers,
    crate::state::ProcessState,
    crate::state::KeyedTimers,
);
