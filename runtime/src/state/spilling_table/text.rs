//! A keyed aggregate whose aggregates include text (`first(page)`, `collect_list(name)`):
//! the values live in a [`TextAccumulators`] beside the table, in chunks carved in order,
//! so that the values of the entries spilled give their pages back while values being
//! landed stay. A key's values go wherever its accumulators go: after them in spilled
//! records (`RecordShape`) and snapshots, and in the output.

use super::SpillingTable;
use crate::spill::{can_spill_after, SpillSupport};
use crate::state::contract::fold_part;
use crate::state::{SessionExtra, TextAccumulators, TextOutcome, TextSlot};
use crate::JobError;

impl SpillingTable {
    /// The same table, whose accumulator blocks hold the text slots `slots` (new blocks
    /// must mark them empty, [`TextAccumulators::empty`]).
    pub fn with_text(mut self, slots: &'static [TextSlot]) -> Self {
        self.text = Some(Box::new(TextAccumulators::in_time_order(
            self.mem.clone(),
            slots,
        )));
        self
    }

    /// The entry of `key` (an address for [`acc_at_mut`](Self::acc_at_mut) until the
    /// table next changes), inserting the key with a block prepared by `init` if it is
    /// new; the table spills first if it has no room.
    pub fn upsert_entry(
        &mut self,
        key: &[u8],
        mut init: impl FnMut(&mut [u8]),
    ) -> Result<u64, JobError> {
        match self.table.upsert_entry(key, &mut init) {
            Ok(addr) => Ok(addr),
            Err(e) => {
                self.spill_for(e)?;
                self.table.upsert_entry(key, &mut init)
            }
        }
    }

    /// The accumulators of the entry at `addr`.
    #[inline]
    pub fn acc_at_mut(&mut self, addr: u64) -> &mut [u8] {
        self.table.acc_at_mut(addr)
    }

    /// Offers the text slots of the entry at `addr` the values of a record at `ts`. Past
    /// the budget the table goes to disk and the error comes back as
    /// [`TextOutcome::Moved`]: the caller looks the key up again (a new part of it) and
    /// offers the same values again; if they still do not fit, the budget error stands.
    pub fn update_text(
        &mut self,
        addr: u64,
        values: &[&[u8]],
        ts: i64,
    ) -> Result<TextOutcome, JobError> {
        let moved = std::mem::take(&mut self.moved);
        let text = self.text.as_mut().expect("an aggregate with text slots");
        let e = match text.update(self.table.acc_at_mut(addr), values, ts) {
            Ok(()) => return Ok(TextOutcome::Updated),
            Err(e) => e,
        };
        if moved || !can_spill_after(&e, &self.mem, true) {
            return Err(e);
        }
        if let SpillSupport::Cannot(why) = self.spill {
            return Err(e.unspillable(why));
        }
        self.spill()?;
        self.moved = true;
        Ok(TextOutcome::Moved)
    }

    /// Lands a part of `key`'s result (a snapshot's or a spilled run's): its accumulators
    /// `acc` and the text values copied after them, `text`. The values come into pages
    /// first, for a copy of the accumulators (in `block`) that the entry takes or merges.
    pub(super) fn land_part(
        &mut self,
        key: &[u8],
        (acc, text): (&[u8], &[u8]),
        block: &mut Vec<u8>,
    ) -> Result<(), JobError> {
        let acc_size = self.acc_size;
        block.clear();
        block.extend_from_slice(acc);
        while let Some(values) = &mut self.text {
            match values.restore(block, text) {
                Ok(()) => break,
                Err(e) => self.spill_for(e)?,
            }
        }
        let mut fresh = false;
        let addr = self.upsert_entry(key, |entry| {
            fresh = true;
            entry[..acc_size].copy_from_slice(block);
        })?;
        if !fresh {
            let into = &mut self.table.acc_at_mut(addr)[..acc_size];
            fold_part(&self.spill, into, block)?;
            if let Some(values) = &mut self.text {
                values.merge(into, block);
            }
        }
        Ok(())
    }
}
