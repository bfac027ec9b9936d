//! Tumbling and sliding windows whose aggregates include text (`first(page)`,
//! `collect_list(name)`): the values live in a [`TextAccumulators`] beside the window
//! tables, in chunks carved in time order, so that a window dropped or spilled gives its
//! values' pages back as it gives its table's. A key's values go wherever its accumulators
//! go: after them in spilled records (`RecordShape`), in snapshots and in the copy of a
//! fired window.

use super::FixedWindows;
use crate::spill::SpillSupport;
use crate::state::storage::window_table::{EntryCursor, WindowTable};
use crate::state::{SessionExtra, TextAccumulators, TextOutcome, TextSlot, WindowSlot};
use crate::JobError;

impl FixedWindows {
    /// The same windows, whose accumulator blocks hold the text slots `slots` (new blocks
    /// must mark them empty, [`TextAccumulators::empty`]).
    pub fn with_text(mut self, slots: &'static [TextSlot]) -> Self {
        let mem = self.pages.memory().clone();
        self.text = Some(Box::new(TextAccumulators::in_time_order(mem, slots)));
        self
    }

    /// The accumulators of the entry at `slot`, as [`open`](Self::open) handed them.
    #[inline]
    pub fn acc_mut(&mut self, slot: WindowSlot) -> &mut [u8] {
        self.pages.bytes_mut(slot.entry, self.format.acc_size)
    }

    /// Offers the text slots of window `slot` the values of a record at `ts`. Past the
    /// budget, other windows go to disk first; when that is not enough the record's own
    /// window goes too, and the error comes back as [`TextOutcome::Moved`]: the caller
    /// opens the window again (a new part of it in memory) and offers the same values
    /// again. If they still do not fit, the budget error stands.
    pub fn update_text(
        &mut self,
        slot: WindowSlot,
        values: &[&[u8]],
        ts: i64,
    ) -> Result<TextOutcome, JobError> {
        let moved = std::mem::take(&mut self.moved);
        loop {
            let text = self.text.as_mut().expect("windows with text slots");
            let acc = self.pages.bytes_mut(slot.entry, self.format.acc_size);
            let e = match text.update(acc, values, ts) {
                Ok(()) => return Ok(TextOutcome::Updated),
                Err(e) => e,
            };
            if !matches!(e, JobError::MemoryBudget { .. }) || !self.pages.memory().can_spill() {
                return Err(e);
            }
            if let SpillSupport::Cannot(why) = self.spill {
                return Err(e.unspillable(why));
            }
            if let Some(victim) = self.victim(Some(slot.window)) {
                self.spill_window(victim)?;
                continue;
            }
            let window = &self.windows[&slot.window];
            if window.fired {
                return Err(e.unspillable(
                    "a fired window is kept in memory for its allowed lateness, and this one's values do not fit",
                ));
            }
            if moved {
                return Err(e);
            }
            self.spill_window(slot.window)?;
            self.moved = true;
            return Ok(TextOutcome::Moved);
        }
    }

    /// Lets the text values of `table`'s entries go: it is dropped, or its entries went
    /// to disk.
    pub(super) fn release_text(&mut self, table: &WindowTable) {
        let Some(text) = &mut self.text else {
            return;
        };
        let mut at = EntryCursor::default();
        while let Some((entry, next)) = table.entry_at(&self.pages, &self.format, at) {
            text.release(self.pages.bytes(entry, self.format.acc_size));
            at = next;
        }
    }

    /// Brings text values copied out of a window (after a key's accumulators, in a
    /// spilled record or a snapshot) back into pages, for the copy `block` of its
    /// accumulators; room is made by spilling windows (the copy is in none of them).
    pub(super) fn restore_text(&mut self, block: &mut [u8], copied: &[u8]) -> Result<(), JobError> {
        loop {
            let Some(text) = &mut self.text else {
                return Ok(());
            };
            match text.restore(block, copied) {
                Ok(()) => return Ok(()),
                Err(e) => self.make_room(e, None)?,
            }
        }
    }
}
