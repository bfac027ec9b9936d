//! How the runtime's generic parts of a job are checkpointed: counters and watermarks by
//! value, scratch buffers not at all (nothing in them outlives a record), operator states
//! through the keyed-state contract (a snapshot by key group, restored whole on one
//! worker). The parts with private state (sources, sinks, watermark generators, the clock)
//! have their impls beside their own code.

use super::{Checkpointed, Rescale, StateIn, StateOut};
use crate::parallel::DEFAULT_KEY_GROUPS;
use crate::state::contract::{KeyedState, SnapshotReader, SnapshotWriter};
use crate::JobError;

/// A job's `u64` fields are counters (records in and out, late records): on another
/// number of workers, worker 0 carries their sum, so that the run's report adds up.
impl Checkpointed for u64 {
    fn save(&mut self, out: &mut StateOut) -> Result<(), JobError> {
        out.u64(*self);
        Ok(())
    }

    fn load(&mut self, from: &mut StateIn<'_>) -> Result<(), JobError> {
        *self = from.u64()?;
        Ok(())
    }

    fn load_rescaled(&mut self, parts: &mut [StateIn<'_>], to: &Rescale) -> Result<(), JobError> {
        let mut sum = 0u64;
        for part in parts {
            sum = sum.wrapping_add(part.u64()?);
        }
        *self = if to.worker == 0 { sum } else { 0 };
        Ok(())
    }
}

/// A job's `i64` fields are watermarks: on another number of workers, the highest any
/// worker had (after the cut, every worker has seen every watermark sent before it).
impl Checkpointed for i64 {
    fn save(&mut self, out: &mut StateOut) -> Result<(), JobError> {
        out.i64(*self);
        Ok(())
    }

    fn load(&mut self, from: &mut StateIn<'_>) -> Result<(), JobError> {
        *self = from.i64()?;
        Ok(())
    }

    fn load_rescaled(&mut self, parts: &mut [StateIn<'_>], _: &Rescale) -> Result<(), JobError> {
        let mut highest = i64::MIN;
        for part in parts {
            highest = highest.max(part.i64()?);
        }
        *self = highest;
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

            fn load_rescaled(&mut self, _: &mut [StateIn<'_>], _: &Rescale) -> Result<(), JobError> {
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
    crate::state::RankedRows,
    crate::state::OrderKey,
    crate::state::Unmatched,
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

    fn load_rescaled(&mut self, parts: &mut [StateIn<'_>], to: &Rescale) -> Result<(), JobError> {
        let mut present = Vec::with_capacity(parts.len());
        for part in parts.iter_mut() {
            present.push(part.bool()?);
        }
        match (
            present.iter().all(|&p| p),
            present.iter().any(|&p| p),
            self.as_mut(),
        ) {
            (true, _, Some(t)) => t.load_rescaled(parts, to),
            // A part there on one number of workers only (a parallel run's exchange): there
            // is nothing to restore, or nothing to restore it into.
            (_, false, _) => Ok(()),
            (true, _, None) => {
                parts.iter_mut().for_each(StateIn::skip_rest);
                Ok(())
            }
            _ => Err(JobError::CheckpointMismatch(
                "its workers' states disagree on a part being there".to_string(),
            )),
        }
    }
}

/// Saves a keyed state as its snapshot by key group, streamed into `out` as it goes (a
/// state spilled far past memory never sits there whole), with its length in front.
fn save_keyed(state: &mut impl KeyedState, out: &mut StateOut) -> Result<(), JobError> {
    out.with_length(|out| {
        let mut w = SnapshotWriter::streaming(out, DEFAULT_KEY_GROUPS);
        state.snapshot(&mut w)?;
        w.finish_streamed();
        Ok(())
    })
}

/// Restores every key group of a keyed state's snapshot.
fn load_keyed(state: &mut impl KeyedState, from: &mut StateIn<'_>) -> Result<(), JobError> {
    let map = from.mapping();
    let mut r = SnapshotReader::mapped(from.bytes()?, map)?;
    let groups = r.groups();
    state.restore(&mut r, 0..groups)
}

/// Restores, from each worker's snapshot of a keyed state, the key groups worker
/// `to.worker` owns now.
fn load_keyed_groups(
    state: &mut impl KeyedState,
    parts: &mut [StateIn<'_>],
    to: &Rescale,
) -> Result<(), JobError> {
    for part in parts {
        let map = part.mapping();
        let mut r = SnapshotReader::mapped(part.bytes()?, map)?;
        if r.groups() != DEFAULT_KEY_GROUPS {
            return Err(JobError::CheckpointMismatch(format!(
                "its keyed state is in {} key groups, this job's in {DEFAULT_KEY_GROUPS}",
                r.groups()
            )));
        }
        state.restore(&mut r, to.groups.0..to.groups.1)?;
    }
    Ok(())
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

            fn load_rescaled(&mut self, parts: &mut [StateIn<'_>], to: &Rescale) -> Result<(), JobError> {
                load_keyed_groups(self, parts, to)
            }
        }
    )*};
}

keyed!(
    crate::state::SpillingTable,
    crate::state::FixedWindows,
    crate::state::SessionWindows,
    crate::state::TextSessionWindows,
    crate::state::CountGroups,
    crate::state::SeenKeys,
    crate::state::WindowJoin,
    crate::state::SessionJoin,
    crate::state::IntervalBuffers,
    crate::state::ProcessState,
    crate::state::TopRows,
    crate::state::KeyedTimers,
);
