//! Fixed windows past their budget: the window furthest from firing goes to disk, and comes
//! back, folded, when the watermark reaches it.

use std::time::Instant;

use super::{FixedWindows, OpenWindow};
use crate::spill::{Fold, Run, RunReader, RunWriter, SpillSupport};
use crate::state::storage::window_table::{EntryCursor, WindowTable};
use crate::state::SessionExtra;
use crate::JobError;

/// A window's parts on disk past which they are joined into one, so that the open files
/// stay few however often a window spills (each part holds its file open).
const MAX_PARTS: usize = 8;

/// Why a fired window that does not fit is an error.
const FIRED_KEPT: &str =
    "a fired window is kept in memory for its allowed lateness, and this one does not fit";

/// Pages a fold needs free to start: its table's index and a data page, with room for the
/// index to grow once.
const FOLD_PAGES: u64 = 4;

impl FixedWindows {
    /// After `e`, spills the unfired window furthest from firing (other than `keep`) to
    /// make room; `e` itself when it is not the budget running out, or nothing can spill.
    #[cold]
    pub(super) fn make_room(&mut self, e: JobError, keep: Option<i64>) -> Result<(), JobError> {
        if !matches!(e, JobError::MemoryBudget { .. }) {
            return Err(e);
        }
        if let SpillSupport::Cannot(why) = self.spill {
            return Err(e.unspillable(why));
        }
        if !self.pages.memory().can_spill() {
            return Err(e);
        }
        match self.victim(keep) {
            Some(start) => self.spill_window(start),
            None => Err(e),
        }
    }

    /// The unfired window with keys in memory that starts last, other than `keep` and the
    /// window being emitted.
    pub(super) fn victim(&self, keep: Option<i64>) -> Option<i64> {
        let firing = match &self.firing {
            Some(super::Firing::Table(start, _) | super::Firing::Spilled(start, _)) => Some(*start),
            None => None,
        };
        self.windows
            .iter()
            .rev()
            .find(|(&start, w)| {
                !w.fired && w.in_memory() > 0 && Some(start) != keep && Some(start) != firing
            })
            .map(|(&start, _)| start)
    }

    /// Writes window `start`'s keys in memory to a new part on disk, in opening order, and
    /// frees their memory.
    pub(super) fn spill_window(&mut self, start: i64) -> Result<(), JobError> {
        let started = Instant::now();
        let window = self.windows.get_mut(&start).expect("a window to spill");
        let table = window.table.take().expect("a window with keys in memory");
        let mut out = RunWriter::create(self.pages.memory())?;
        let mut at = EntryCursor::default();
        let mut seq = window.next_seq;
        let (mut text, mut text_bytes) = (Vec::new(), 0);
        let written = loop {
            let Some((entry, next)) = table.entry_at(&self.pages, &self.format, at) else {
                break Ok(());
            };
            let acc = self.pages.bytes(entry, self.format.acc_size);
            let key = self.format.key(&self.pages, entry);
            let pushed = match &self.text {
                None => out.push(&[&seq.to_le_bytes(), acc, key]),
                Some(values) => {
                    text.clear();
                    values.copy(acc, &mut text);
                    text_bytes += text.len() as u64;
                    let len = (text.len() as u32).to_le_bytes();
                    out.push(&[&seq.to_le_bytes(), acc, &len, &text, key])
                }
            };
            if let Err(e) = pushed {
                break Err(e);
            }
            seq += 1;
            at = next;
        };
        let run = written.and_then(|()| out.finish());
        match run {
            Ok(run) => {
                window.segments.push(run);
                if window.segments.len() > MAX_PARTS {
                    // Parts number their records on from one another: joined, they stay
                    // in opening order.
                    let parts = std::mem::take(&mut window.segments);
                    window
                        .segments
                        .push(Run::concatenate(parts, self.pages.memory())?);
                }
                window.next_seq = seq;
                let bytes = table.memory_bytes(&self.pages) + text_bytes;
                window.spilled_bytes += bytes;
                self.spilled_bytes += bytes;
                // The budget was full: what it held, plus everything on disk, is about
                // what memory alone would have needed at this point.
                let budget = self.pages.memory().budget_bytes();
                self.unspilled_need = self.unspilled_need.max(budget + self.spilled_bytes - bytes);
                self.pages.memory().note_unspilled_need(self.unspilled_need);
                self.release_text(&table);
                table.free(&mut self.pages);
                self.pages.memory().note_spill_work(1, started.elapsed());
                Ok(())
            }
            Err(e) => {
                window.table = Some(table);
                Err(e)
            }
        }
    }

    /// Folds window `start`'s parts (its keys in memory spilled first, as the last part)
    /// into one run of its keys in opening order, and opens it for emitting.
    pub(super) fn bring_back(&mut self, start: i64) -> Result<RunReader, JobError> {
        let started = Instant::now();
        if self.windows[&start].in_memory() > 0 {
            self.spill_window(start)?;
        }
        if let Some(table) = self.windows.get_mut(&start).and_then(|w| w.table.take()) {
            self.release_text(&table);
            table.free(&mut self.pages);
        }
        // A key's text values come into memory whole while its parts fold: with text, the
        // fold gets every page other windows can give.
        let need = match self.text {
            Some(_) => u64::MAX,
            None => FOLD_PAGES,
        };
        while self.pages.memory().pages_free() < need {
            match self.victim(Some(start)) {
                Some(victim) => self.spill_window(victim)?,
                None => break, // the fold itself says if it cannot start
            }
        }
        let SpillSupport::Merge(merge) = self.spill else {
            unreachable!("a window that cannot spill has no parts on disk");
        };
        let mut merge = merge;
        let window = self.windows.get_mut(&start).expect("the window firing");
        let segments = std::mem::take(&mut window.segments);
        self.spilled_bytes -= std::mem::take(&mut window.spilled_bytes);
        let mem = self.pages.memory().clone();
        let mut fold = Fold::new(&mem, self.format.acc_size, &mut merge);
        if let Some(text) = &self.text {
            fold = fold.with_text(text.slots());
        }
        let run = fold.fold(segments, 0)?;
        mem.note_spill_work(0, started.elapsed());
        run.read()
    }

    /// Room for fired window `start` to come back into memory, by spilling others.
    fn room_for_fired(&mut self, e: JobError, start: i64) -> Result<(), JobError> {
        self.make_room(e, Some(start))
            .map_err(|e| e.unspillable(FIRED_KEPT))
    }

    /// A window emitted from its spilled parts: dropped, or, with allowed lateness, loaded
    /// back into memory from `reader`'s run, since a late record must update it.
    pub(super) fn spilled_window_done(
        &mut self,
        start: i64,
        reader: RunReader,
    ) -> Result<(), JobError> {
        if self.lateness == 0 {
            self.drop_window(start);
            return Ok(());
        }
        let mut reader = reader.into_run().read()?;
        let mut table = None;
        let mut block = Vec::new();
        while let Some(record) = reader.next()? {
            let (_, acc, text, key) = self.shape().split(record);
            block.clear();
            block.extend_from_slice(acc);
            self.restore_text(&mut block, text)
                .map_err(|e| e.unspillable(FIRED_KEPT))?;
            let hash = self.format.hash(key);
            loop {
                let t: &mut WindowTable = match &mut table {
                    Some(t) => t,
                    None => match WindowTable::new(&mut self.pages, &self.format, 0) {
                        Ok(t) => table.insert(t),
                        Err(e) => {
                            self.room_for_fired(e, start)?;
                            continue;
                        }
                    },
                };
                let copy = |entry: &mut [u8]| entry.copy_from_slice(&block);
                match t.find_or_insert(&mut self.pages, &self.format, key, hash, copy) {
                    Ok(_) => break,
                    Err(e) => self.room_for_fired(e, start)?,
                }
            }
        }
        let window = self.windows.get_mut(&start).expect("the window fired");
        *window = OpenWindow::new(table, true);
        Ok(())
    }
}
