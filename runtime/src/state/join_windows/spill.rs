//! Window joins past their budget: the window furthest from firing goes to disk, its
//! records in arrival order, and is read back whole when the watermark reaches it.

use std::time::Instant;

use super::{word, JoinSide, JoinWindows, KeptRecords, ENTRY_ACC, LEFT_HEAD, RIGHT_HEAD};
use crate::spill::{Run, RunWriter};
use crate::state::storage::window_table::EntryCursor;
use crate::JobError;

/// A window's parts on disk past which they are joined into one, so that the open files
/// stay few however often a window spills.
const MAX_PARTS: usize = 8;

impl JoinWindows {
    /// After `e` while adding to window `keep`: spills the window with records in memory
    /// that fires last, other than `keep` (or `keep` itself when it is the only one); `e`
    /// itself when it is not the budget running out, or nothing can spill.
    pub(super) fn make_room(&mut self, e: JobError, keep: i64) -> Result<(), JobError> {
        if !matches!(e, JobError::MemoryBudget { .. })
            || !self.spills
            || !self.pages.memory().can_spill()
        {
            return Err(e);
        }
        let own = self
            .windows
            .get(&keep)
            .is_some_and(|w| !w.chunks.is_empty());
        match self.victim(keep).or(own.then_some(keep)) {
            Some(start) => self.spill_window(start),
            None => Err(e),
        }
    }

    /// The window with records in memory that fires last, other than `keep` and the
    /// window being read out.
    fn victim(&self, keep: i64) -> Option<i64> {
        let firing = self.firing.map(|(start, _)| start);
        self.windows
            .iter()
            .rev()
            .find(|(&start, w)| start != keep && Some(start) != firing && !w.chunks.is_empty())
            .map(|(&start, _)| start)
    }

    /// Writes window `start`'s records in memory to a new part on disk, key by key
    /// ([`records_in_memory`](Self::records_in_memory): `[side][key length, 4 bytes][key]
    /// [record]`), and frees their memory.
    fn spill_window(&mut self, start: i64) -> Result<(), JobError> {
        let started = Instant::now();
        let mut out = RunWriter::create(self.pages.memory())?;
        self.records_in_memory(start, |side, key, record| {
            out.push(&[&[side], &(key.len() as u32).to_le_bytes(), key, record])
        })?;
        let part = out.finish()?;
        let mem = self.pages.memory().clone();
        let window = self.windows.get_mut(&start).expect("a window to spill");
        let (keys, chunks) = (window.keys.take(), std::mem::take(&mut window.chunks));
        let bytes = keys.as_ref().map_or(0, |k| k.memory_bytes(&self.pages))
            + chunks.iter().map(|c| c.len as u64).sum::<u64>();
        window.spilled_bytes += bytes;
        window.parts.push(part);
        if window.parts.len() > MAX_PARTS {
            let parts = std::mem::take(&mut window.parts);
            window.parts.push(Run::concatenate(parts, &mem)?);
        }
        if let Some(keys) = keys {
            keys.free(&mut self.pages);
        }
        for c in chunks {
            self.pages.free(c.addr);
        }
        // The budget was full: what it held, plus what was on disk before, is about what
        // memory alone would have needed at this point.
        self.unspilled_need = self
            .unspilled_need
            .max(mem.budget_bytes() + self.spilled_bytes);
        self.spilled_bytes += bytes;
        mem.note_unspilled_need(self.unspilled_need);
        mem.note_spill_work(1, started.elapsed());
        Ok(())
    }

    /// Calls `each(start, side, key, record)` for every record in memory, windows in order
    /// of start, each window's as [`records_in_memory`](Self::records_in_memory) has them
    /// (what an interval join's buckets in memory hold).
    pub(crate) fn each_record_in_memory(
        &self,
        mut each: impl FnMut(i64, u8, &[u8], &[u8]) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        for &start in self.windows.keys() {
            self.records_in_memory(start, |side, key, record| each(start, side, key, record))?;
        }
        Ok(())
    }

    /// Calls `each(side, key, record)` for window `start`'s records in memory: its keys in
    /// the order they opened the window, each key's left records then its right ones, in
    /// arrival order (`side` 1 for the right side). Replayed in this order, they make the
    /// same keys, in the same order, with the same lists: nothing observes how the records
    /// of different keys interleaved. (Records are found from their key's lists, never the
    /// other way: a table of fixed-width keys moves its entries when it grows.)
    pub(super) fn records_in_memory(
        &self,
        start: i64,
        mut each: impl FnMut(u8, &[u8], &[u8]) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        let Some(keys) = self.windows[&start].keys.as_ref() else {
            return Ok(());
        };
        let mut at = EntryCursor::default();
        while let Some((entry, next)) = keys.entry_at(&self.pages, &self.format, at) {
            let key = self.format.key(&self.pages, entry);
            for (side, head) in [(0u8, LEFT_HEAD), (1, RIGHT_HEAD)] {
                let records = KeptRecords {
                    pages: &self.pages,
                    at: word(self.pages.bytes(entry, ENTRY_ACC), head),
                };
                for record in records {
                    each(side, key, record)?;
                }
            }
            at = next;
        }
        Ok(())
    }

    /// Reads window `start`'s parts back into memory, replaying its records in arrival
    /// order, so its keys and lists are those of a window that never spilled. Other
    /// windows spill to make room; the window itself must fit.
    pub(super) fn bring_back(&mut self, start: i64) -> Result<(), JobError> {
        let started = Instant::now();
        if self.windows[&start].keys.is_some() {
            self.spill_window(start)?;
        }
        let window = self.windows.get_mut(&start).expect("the window firing");
        let parts = std::mem::take(&mut window.parts);
        self.spilled_bytes -= std::mem::take(&mut window.spilled_bytes);
        for part in parts {
            let mut reader = part.read()?;
            while let Some(stored) = reader.next()? {
                let side = if stored[0] == 1 {
                    JoinSide::Right
                } else {
                    JoinSide::Left
                };
                let key_len =
                    u32::from_le_bytes(stored[1..5].try_into().expect("four bytes")) as usize;
                let (key, record) = stored[5..].split_at(key_len);
                while let Err(e) = self.try_add(side, key, start, record) {
                    self.room_to_bring_back(e, start)?;
                }
            }
        }
        self.pages.memory().note_spill_work(0, started.elapsed());
        Ok(())
    }

    fn room_to_bring_back(&mut self, e: JobError, start: i64) -> Result<(), JobError> {
        if !matches!(e, JobError::MemoryBudget { .. }) {
            return Err(e);
        }
        match self.victim(start) {
            Some(victim) => self.spill_window(victim),
            None => Err(e.unspillable(
                "a window join's window is read back whole when it fires, and this one does not fit",
            )),
        }
    }
}
