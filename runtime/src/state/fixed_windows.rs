//! The state of a keyed tumbling or sliding window operator: per window, a hash table from
//! key to accumulators, all in pool pages.

use super::fired_window::{FiredWindow, WindowOutcome, WindowSlot};
use super::storage::chunk_pages::ChunkPages;
use super::storage::window_table::{EntryCursor, EntryFormat, WindowTable};
use super::{SessionExtra, TextAccumulators};
use crate::memory::OperatorMemory;
use crate::spill::{RecordShape, Run, RunReader, SpillSupport};
use crate::JobError;

mod by_start;
mod snapshot;
mod spill;
mod text;

use by_start::WindowsByStart;

/// A window that has keys: its table, its spilled parts, and whether it has fired (it
/// stays, for allowed lateness, until its cleanup).
#[derive(Debug)]
struct OpenWindow {
    /// Its keys in memory; `None` once spilled, until a key arrives again.
    table: Option<WindowTable>,
    fired: bool,
    /// Parts of the window spilled to disk, oldest first: `[seq][accumulators][key]`
    /// records, `seq` counting the window's entries in opening order across parts.
    segments: Vec<Run>,
    /// The `seq` of the next entry spilled.
    next_seq: u64,
    /// What its spilled parts took in memory.
    spilled_bytes: u64,
}

impl OpenWindow {
    fn new(table: Option<WindowTable>, fired: bool) -> Self {
        OpenWindow {
            table,
            fired,
            segments: Vec::new(),
            next_seq: 0,
            spilled_bytes: 0,
        }
    }

    /// Keys held in memory.
    fn in_memory(&self) -> usize {
        self.table.as_ref().map_or(0, WindowTable::len)
    }
}

/// A window being emitted, and where its emission stands.
#[derive(Debug)]
enum Firing {
    /// From its table in memory.
    Table(i64, EntryCursor),
    /// From its spilled parts, folded into one run.
    Spilled(i64, RunReader),
}

/// Tumbling and sliding windows per key, in pool pages.
///
/// Every window of the operator has the same length, so windows end in the order they
/// start. Each window has its own small hash table from key to accumulators (a
/// [`WindowTable`]), and a deque by start (`WindowsByStart`) holds them and is the operator's timer: a
/// record costs one map lookup and one probe of its window's table, whatever the number
/// of windows its key has open, and only the windows receiving records need to be in the
/// cache. A window fires when the watermark reaches its last millisecond (`end - 1`), as
/// in Flink, emitting its keys in the order they opened it. With allowed lateness a fired
/// window is kept until `end - 1 + lateness`; a late record that still lands in it makes
/// that key's result fire again. A window's memory goes back whole when it is done.
///
/// The tables live in chunks of pool pages ([`ChunkPages`]), so a window with a few keys
/// takes a few hundred bytes, not a page.
///
/// Past the budget, the unfired window furthest from firing is written to disk (its
/// entries in opening order) and its memory freed; records that reach it later start a
/// new part in memory. When the watermark reaches a spilled window, its parts are folded
/// back ([`Fold`](crate::spill::Fold), the accumulators merged) into its keys in opening
/// order, so results are those of an unspilled run, byte for byte. See `spill.rs`.
///
/// The values of text aggregates (`first(page)`) live beside the tables, in chunks carved
/// in time order, and go wherever their key's accumulators go (`text.rs`).
#[derive(Debug)]
pub struct FixedWindows {
    pages: ChunkPages,
    size: i64,
    lateness: i64,
    format: EntryFormat,
    spill: SpillSupport,
    windows: WindowsByStart<OpenWindow>,
    /// No unfired window starts before this.
    fire_from: i64,
    firing: Option<Firing>,
    /// What the windows' spilled parts took in memory, and the most that memory and those
    /// parts ever added up to: about the budget that would not have spilled.
    spilled_bytes: u64,
    unspilled_need: u64,
    /// Keys of the window dropped last: how big a new window's index starts.
    expected_keys: usize,
    /// Windows starting at or before this do not fire until released: on a worker reading
    /// a later slice of the input, they belong to the worker before it
    /// (`parallel::time_order`).
    held_through: Option<i64>,
    /// The values of the operator's text aggregates, if it has any.
    text: Option<Box<TextAccumulators>>,
    /// Whether the window being updated went to disk for the record being landed: if its
    /// values still do not fit, nothing more can be moved.
    moved: bool,
}

impl FixedWindows {
    /// Empty state for windows `size` ms long with `acc_size`-byte accumulators, keeping
    /// windows `lateness` ms past their end. `key_width` is the width of every key when
    /// keys are of one fixed width (then their length is not stored); `spill` says whether
    /// and how windows may spill. Takes its first page at once, so a budget too small for
    /// any state fails at start.
    pub fn new(
        mem: OperatorMemory,
        size: i64,
        acc_size: usize,
        lateness: i64,
        key_width: Option<usize>,
        spill: SpillSupport,
    ) -> Result<Self, JobError> {
        let mut pages = ChunkPages::new(mem);
        // The first page: a window's first chunks come from it.
        let first = pages.alloc(8)?;
        pages.free(first);
        Ok(FixedWindows {
            pages,
            size,
            lateness: lateness.max(0),
            format: EntryFormat {
                acc_size: acc_size.next_multiple_of(8),
                key_width,
            },
            spill,
            windows: WindowsByStart::default(),
            fire_from: i64::MIN,
            firing: None,
            spilled_bytes: 0,
            unspilled_need: 0,
            expected_keys: 0,
            held_through: None,
            text: None,
            moved: false,
        })
    }

    /// Holds the windows starting at or before `start`: they do not fire until
    /// [`release_held`](Self::release_held).
    pub fn hold_through(&mut self, start: i64) {
        self.held_through = Some(start);
    }

    /// Lets the held windows fire again, and says which were held (those starting at or
    /// before the time returned).
    pub fn release_held(&mut self) -> Option<i64> {
        // Later windows may have fired past them.
        self.fire_from = i64::MIN;
        self.held_through.take()
    }

    /// The next result of the windows starting at or before `through`, as
    /// [`next_due`](Self::next_due) gives them.
    pub fn next_starting_by(
        &mut self,
        through: i64,
        out: &mut Vec<u8>,
    ) -> Result<Option<FiredWindow>, JobError> {
        self.next_due(self.last_ms(through), out)
    }

    /// The first window not fired (nor held), if any.
    fn first_unfired(&self) -> Option<i64> {
        let from = match self.held_through {
            Some(held) => self.fire_from.max(held.saturating_add(1)),
            None => self.fire_from,
        };
        self.windows
            .range_from(from)
            .find(|(_, w)| !w.fired)
            .map(|(&start, _)| start)
    }

    /// The time of the next firing or cleanup, if any: nothing is due below it.
    pub fn next_timer(&self) -> Option<i64> {
        if self.firing.is_some() {
            return Some(i64::MIN);
        }
        let unfired = self.first_unfired().map(|start| self.last_ms(start));
        let cleanup = self
            .windows
            .first_key_value()
            .filter(|(_, w)| w.fired)
            .map(|(&start, _)| self.last_ms(start).saturating_add(self.lateness));
        match (unfired, cleanup) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The window `[start, end)` of `key` at watermark `wm`, opened with `init` if new,
    /// and its accumulators to update; `None` when the window is past its allowed lateness
    /// (the record is late for it). `end` must be `start + size`. After updating, call
    /// [`after_update`](Self::after_update).
    #[inline(always)]
    pub fn open(
        &mut self,
        key: &[u8],
        start: i64,
        end: i64,
        wm: i64,
        mut init: impl FnMut(&mut [u8]),
    ) -> Result<Option<(WindowSlot, &mut [u8])>, JobError> {
        debug_assert_eq!(end, start.saturating_add(self.size));
        if end.saturating_sub(1).saturating_add(self.lateness) <= wm {
            return Ok(None);
        }
        if self.format.entry_len(key) > self.pages.page_size() {
            return Err(self.key_too_long(key));
        }
        let hash = self.format.hash(key);
        let (entry, at) = loop {
            match self.try_open(key, hash, start, wm, &mut init) {
                Ok(found) => break found,
                // Other windows go first: this one is receiving records.
                Err(e) => match self.victim(Some(start)) {
                    Some(_) => self.make_room(e, Some(start))?,
                    None => self.make_room(e, None)?,
                },
            }
        };
        // SAFETY: `at` points at the entry `try_open` found or made just now, in a chunk of
        // `self.pages` that its table holds; an entry starts with `acc_size` accumulator
        // bytes. Nothing has touched the pages since, and the slice borrows `self`
        // mutably, so it is the only access while it lives. (Taken from the probe rather
        // than looked up again by address: that page lookup was a twentieth of a record's
        // instructions on the window benchmark.)
        let acc = unsafe { std::slice::from_raw_parts_mut(at, self.format.acc_size) };
        Ok(Some((
            WindowSlot {
                window: start,
                entry,
            },
            acc,
        )))
    }

    /// [`open`](Self::open) without spilling: a budget error comes back as it is.
    #[inline(always)]
    fn try_open(
        &mut self,
        key: &[u8],
        hash: u64,
        start: i64,
        wm: i64,
        init: &mut impl FnMut(&mut [u8]),
    ) -> Result<(u64, *mut u8), JobError> {
        if let Some(OpenWindow {
            table: Some(table), ..
        }) = self.windows.get_mut(&start)
        {
            return table.find_or_insert(&mut self.pages, &self.format, key, hash, init);
        }
        if !self.windows.contains_key(&start) {
            self.open_window(start, wm);
        }
        // Once the budget is tight, a window's index grows only as its keys come.
        let expected = if self.spilled_bytes == 0 && self.unspilled_need == 0 {
            self.expected_keys
        } else {
            0
        };
        let table = WindowTable::new(&mut self.pages, &self.format, expected)?;
        let window = self.windows.get_mut(&start).expect("the window is open");
        let table = window.table.insert(table);
        table.find_or_insert(&mut self.pages, &self.format, key, hash, init)
    }

    /// After a record landed in `slot` at watermark `wm`: a window whose time has already
    /// passed fires at once, with the updated result.
    #[inline]
    pub fn after_update(&mut self, slot: WindowSlot, wm: i64) -> WindowOutcome {
        if self.last_ms(slot.window) <= wm {
            WindowOutcome::Refire(slot)
        } else {
            WindowOutcome::Added
        }
    }

    /// The next result due at watermark `wm`, copied into `out`, or `None` when nothing
    /// more is due: windows in order of start (and so of end), each one's keys in the order
    /// they opened it. Without allowed lateness, a window is dropped once emitted. A
    /// spilled window is folded back first, which reads its spill files.
    pub fn next_due(
        &mut self,
        wm: i64,
        out: &mut Vec<u8>,
    ) -> Result<Option<FiredWindow>, JobError> {
        let shape = self.shape();
        loop {
            match &mut self.firing {
                Some(Firing::Table(start, at)) => {
                    let start = *start;
                    let table = self.windows[&start].table.as_ref();
                    let next = table.and_then(|t| t.entry_at(&self.pages, &self.format, *at));
                    if let Some((entry, next)) = next {
                        self.firing = Some(Firing::Table(start, next));
                        return Ok(Some(self.copy_window(
                            WindowSlot {
                                window: start,
                                entry,
                            },
                            out,
                        )));
                    }
                    self.firing = None;
                    self.window_done(start);
                    continue;
                }
                Some(Firing::Spilled(start, reader)) => {
                    let start = *start;
                    if reader.advance()? {
                        let (_, acc, text, key) = shape.split(reader.current());
                        out.clear();
                        out.extend_from_slice(key);
                        out.extend_from_slice(acc);
                        out.extend_from_slice(text);
                        return Ok(Some(FiredWindow {
                            start,
                            end: start.saturating_add(self.size),
                            key_len: key.len(),
                        }));
                    }
                    let Some(Firing::Spilled(_, reader)) = self.firing.take() else {
                        unreachable!("matched above");
                    };
                    self.spilled_window_done(start, reader)?;
                    continue;
                }
                None => {}
            }
            self.clean_up(wm);
            let Some(start) = self.first_unfired() else {
                return Ok(None);
            };
            if self.last_ms(start) > wm {
                return Ok(None);
            }
            self.fire_from = start;
            self.firing = Some(if self.windows[&start].segments.is_empty() {
                Firing::Table(start, EntryCursor::default())
            } else {
                Firing::Spilled(start, self.bring_back(start)?)
            });
        }
    }

    /// A window emitted from memory: dropped, or kept as fired for allowed lateness.
    fn window_done(&mut self, start: i64) {
        if self.lateness == 0 {
            self.drop_window(start);
        } else if let Some(w) = self.windows.get_mut(&start) {
            w.fired = true;
        }
    }

    /// Copies the entry at `slot` (key and accumulators) into `out` for emitting.
    pub fn copy_window(&self, slot: WindowSlot, out: &mut Vec<u8>) -> FiredWindow {
        let key = self.format.key(&self.pages, slot.entry);
        out.clear();
        out.extend_from_slice(key);
        let acc = self.pages.bytes(slot.entry, self.format.acc_size);
        out.extend_from_slice(acc);
        if let Some(values) = &self.text {
            values.fired(acc, out);
        }
        FiredWindow {
            start: slot.window,
            end: slot.window.saturating_add(self.size),
            key_len: key.len(),
        }
    }

    /// Keys held in memory in all windows.
    pub fn len(&self) -> usize {
        self.windows.values().map(OpenWindow::in_memory).sum()
    }

    /// Whether no window holds a key.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// A new window starting at `start`, with no table yet; one already due at `wm` counts
    /// as fired (its record re-fires it at once).
    fn open_window(&mut self, start: i64, wm: i64) {
        let due = self.last_ms(start) <= wm;
        if !due && start < self.fire_from {
            self.fire_from = start;
        }
        self.windows.insert(start, OpenWindow::new(None, due));
    }

    /// Drops fired windows whose allowed lateness has passed at `wm`.
    fn clean_up(&mut self, wm: i64) {
        while let Some((&start, w)) = self.windows.first_key_value() {
            if !w.fired || self.last_ms(start).saturating_add(self.lateness) > wm {
                return;
            }
            self.drop_window(start);
        }
    }

    fn drop_window(&mut self, start: i64) {
        if let Some(w) = self.windows.remove(&start) {
            if let Some(table) = w.table {
                self.expected_keys = table.len();
                self.release_text(&table);
                table.free(&mut self.pages);
            }
        }
    }

    /// How its spilled records divide.
    #[inline]
    fn shape(&self) -> RecordShape {
        RecordShape {
            acc_size: self.format.acc_size,
            text: self.text.is_some(),
        }
    }

    fn key_too_long(&self, key: &[u8]) -> JobError {
        let (operator, location) = self.pages.memory().operator();
        let empty_entry = self.format.entry_len(&[]);
        JobError::KeyTooLong {
            operator: operator.to_string(),
            location: location.to_string(),
            key_bytes: key.len(),
            limit_bytes: self.pages.page_size() - empty_entry,
            record: None,
        }
    }

    /// The last millisecond of the window starting at `start`: it fires when the
    /// watermark reaches it.
    #[inline]
    fn last_ms(&self, start: i64) -> i64 {
        start.saturating_add(self.size).saturating_sub(1)
    }
}

#[cfg(test)]
mod tests;
