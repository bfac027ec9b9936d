//! Window joins past their budget: the window furthest from firing goes to disk, its
//! records in arrival order, and is read back whole when the watermark reaches it.

use std::time::Instant;

use super::{block_len, each_record, JoinSide, WindowJoin};
use crate::spill::{Run, RunWriter};
use crate::JobError;

/// A window's parts on disk past which they are joined into one, so that the open files
/// stay few however often a window spills.
const MAX_PARTS: usize = 8;

impl WindowJoin {
    /// After `e` while adding to window `keep`: spills the window with records in memory
    /// that fires last, other than `keep` (or `keep` itself when it is the only one); `e`
    /// itself when it is not the budget running out, or nothing can spill.
    pub(super) fn make_room(&mut self, e: JobError, keep: i64) -> Result<(), JobError> {
        if !matches!(e, JobError::MemoryBudget { .. }) || !self.pages.memory().can_spill() {
            return Err(e);
        }
        let own = self
            .windows
            .iter()
            .position(|w| w.start == keep && !w.chunks.is_empty());
        match self.victim(keep).or(own) {
            Some(at) => self.spill_window(at),
            None => Err(e),
        }
    }

    /// The position of the window with records in memory that fires last, other than
    /// `keep` and the window being read out.
    fn victim(&self, keep: i64) -> Option<usize> {
        let firing = self.firing.as_ref().map(|f| f.start);
        self.windows
            .iter()
            .rposition(|w| w.start != keep && Some(w.start) != firing && !w.chunks.is_empty())
    }

    /// Writes the records in memory of the window at position `at` to a new part on disk
    /// (`[side][key length, 4 bytes][key][record]` each, in arrival order), and frees
    /// their memory.
    fn spill_window(&mut self, at: usize) -> Result<(), JobError> {
        let started = Instant::now();
        let mut out = RunWriter::create(self.pages.memory())?;
        each_record(
            &self.pages,
            &self.windows[at].chunks,
            |side, key, record| {
                out.push(&[&[side], &(key.len() as u32).to_le_bytes(), key, record])
            },
        )?;
        let part = out.finish()?;
        let mem = self.pages.memory().clone();
        let window = &mut self.windows[at];
        let chunks = std::mem::take(&mut window.chunks);
        let bytes = chunks.iter().map(|c| c.len as u64).sum::<u64>();
        window.spilled_bytes += bytes;
        window.parts.push(part);
        if window.parts.len() > MAX_PARTS {
            let parts = std::mem::take(&mut window.parts);
            window.parts.push(Run::concatenate(parts, &mem)?);
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

    /// Reads the first window's parts back into memory, its records in arrival order (its
    /// records in memory, which came after the parts, go to disk first). Other windows
    /// spill to make room; the window itself must fit.
    pub(super) fn bring_back(&mut self) -> Result<(), JobError> {
        let started = Instant::now();
        if !self.windows[0].chunks.is_empty() {
            self.spill_window(0)?;
        }
        let window = &mut self.windows[0];
        let (start, parts) = (window.start, std::mem::take(&mut window.parts));
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
                let need = block_len(key, record);
                while let Err(e) = self.try_add(side, key, start, record, need) {
                    self.room_for_first(
                        e,
                        "a window join's window is read back whole when it fires, and this one does not fit",
                    )?;
                }
            }
        }
        self.pages.memory().note_spill_work(0, started.elapsed());
        Ok(())
    }

    /// After `e` while indexing the first window to fire: spills another window to make
    /// room, as [`bring_back`](Self::bring_back) does.
    pub(super) fn room_to_fire(&mut self, e: JobError) -> Result<(), JobError> {
        self.room_for_first(
            e,
            "a window join's window is indexed whole when it fires, and this one does not fit",
        )
    }

    fn room_for_first(&mut self, e: JobError, why: &'static str) -> Result<(), JobError> {
        if !matches!(e, JobError::MemoryBudget { .. }) || !self.pages.memory().can_spill() {
            return Err(e);
        }
        let first = self.windows[0].start;
        match self.victim(first) {
            Some(victim) => self.spill_window(victim),
            None => Err(e.unspillable(why)),
        }
    }
}
