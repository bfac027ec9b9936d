//! Session windows whose aggregates include text (`first(page)`, `max(name)`): the
//! sessions of [`SessionWindows`] owning their text values in [`TextAccumulators`], which
//! follow them to disk and back, merge with them, go into snapshots and into each fired
//! window's copy after its accumulators.

use super::{SessionWindows, WindowOutcome, WindowSlot};
use crate::memory::OperatorMemory;
use crate::spill::can_spill_after;
use crate::state::contract::{KeyedState, SnapshotReader, SnapshotWriter};
use crate::state::text_accumulators::{TextAccumulators, TextSlot};
use crate::state::FiredWindow;
use crate::JobError;

/// Session windows with text slots in their accumulators; otherwise as [`SessionWindows`].
#[derive(Debug)]
pub struct TextSessionWindows {
    windows: SessionWindows,
    text: TextAccumulators,
    /// Whether every session went to disk for the record being landed: if its values
    /// still do not fit, nothing more can be moved.
    moved: bool,
}

impl TextSessionWindows {
    /// Empty state with `acc_size`-byte accumulators holding `slots`, keeping windows
    /// `lateness` ms past their end.
    pub fn new(
        mem: OperatorMemory,
        acc_size: usize,
        lateness: i64,
        slots: &'static [TextSlot],
    ) -> Result<Self, JobError> {
        Ok(TextSessionWindows {
            text: TextAccumulators::new(mem.clone(), slots),
            windows: SessionWindows::new(mem, acc_size, lateness)?,
            moved: false,
        })
    }

    /// See [`SessionWindows::next_timer`].
    #[inline]
    pub fn next_timer(&self) -> Option<i64> {
        self.windows.next_timer()
    }

    /// See [`SessionWindows::open_session`]; a new session's text slots start empty, and
    /// merged sessions' values merge as their aggregates say.
    pub fn open_session(
        &mut self,
        key: &[u8],
        ts: i64,
        gap: i64,
        wm: i64,
        init: impl FnOnce(&mut [u8]),
        merge: impl FnMut(&mut [u8], &[u8]) -> Result<(), JobError>,
    ) -> Result<Option<WindowSlot>, JobError> {
        let slots = self.text.slots();
        let init = |acc: &mut [u8]| {
            init(acc);
            TextAccumulators::empty(slots, acc);
        };
        self.windows
            .open_session_with(&mut self.text, key, (ts, gap, wm), init, merge)
    }

    /// Offers session `slot`'s text slots the values of a record at `ts`. Past the budget
    /// every session goes to disk and the error comes back as [`TextOutcome::Moved`]: the
    /// caller opens the record's session again (which brings its key's sessions back) and
    /// offers the same values again; if they still do not fit, the budget error stands.
    pub fn update_text(
        &mut self,
        slot: WindowSlot,
        values: &[&[u8]],
        ts: i64,
    ) -> Result<TextOutcome, JobError> {
        let acc = self.windows.acc_mut(slot);
        let moved = std::mem::take(&mut self.moved);
        match self.text.update(acc, values, ts) {
            Ok(()) => Ok(TextOutcome::Updated),
            Err(e) if !moved && can_spill_after(&e, self.windows.memory(), true) => {
                self.windows.spill_all(&mut self.text)?;
                self.moved = true;
                Ok(TextOutcome::Moved)
            }
            Err(e) => Err(e),
        }
    }

    /// See [`SessionWindows::acc_mut`].
    #[inline]
    pub fn acc_mut(&mut self, slot: WindowSlot) -> &mut [u8] {
        self.windows.acc_mut(slot)
    }

    /// See [`SessionWindows::after_update`].
    #[inline]
    pub fn after_update(&mut self, slot: WindowSlot, wm: i64) -> WindowOutcome {
        self.windows.after_update(slot, wm)
    }

    /// See [`SessionWindows::next_due`]; the window's text values follow its accumulators
    /// in `out` (read them with [`TextAccumulators::read`]).
    pub fn next_due(
        &mut self,
        wm: i64,
        out: &mut Vec<u8>,
    ) -> Result<Option<FiredWindow>, JobError> {
        self.windows.next_due_with(&mut self.text, wm, out)
    }

    /// See [`SessionWindows::copy_window`], with the text values as in
    /// [`next_due`](Self::next_due).
    pub fn copy_window(&self, slot: WindowSlot, out: &mut Vec<u8>) -> FiredWindow {
        self.windows.copy_window_with(&self.text, slot, out)
    }
}

/// What offering a record's text values did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOutcome {
    /// The slots took what they keep of the values.
    Updated,
    /// The budget ran out, and every session went to disk to make room: open the
    /// record's session again and offer the values again.
    Moved,
}

impl KeyedState for TextSessionWindows {
    fn memory(&self) -> &OperatorMemory {
        self.windows.memory()
    }

    fn snapshot(&mut self, out: &mut SnapshotWriter) -> Result<(), JobError> {
        self.windows.snapshot_with(&self.text, out)
    }

    fn restore(
        &mut self,
        from: &mut SnapshotReader<'_>,
        groups: std::ops::Range<usize>,
    ) -> Result<(), JobError> {
        self.windows.restore_with(&mut self.text, from, groups)
    }
}
