//! The records of one side of an outer interval join that met no partner when they came,
//! waiting for their deadline: in buckets by time, each an append-only log in pool pages,
//! read out front to back when due. Nothing is looked up by key, so a bucket needs no
//! index, and one read back from disk is streamed, never held whole.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use crate::memory::OperatorMemory;
use crate::spill::{Run, RunReader, RunWriter};
use crate::state::storage::chunk_pages::ChunkPages;
use crate::state::storage::record_chunks::{append, RecordChunk};
use crate::JobError;

/// An entry's header: the key's length and the record's (4 bytes each), then the time.
const HEADER: usize = 16;
/// A bucket's parts on disk past which they are joined into one, so that the open files
/// stay few however often a bucket spills.
const MAX_PARTS: usize = 8;

/// A waiting record, as read out: its key, time and record.
pub(super) type Waiting<'a> = (&'a [u8], i64, &'a [u8]);

/// Records waiting for their deadline, in buckets of `size` ms by time.
///
/// An entry is `[key length][record length][time][key][record]`, 8-byte aligned in
/// memory, unpadded on disk. Past the budget, the bucket due last goes to disk whole (a
/// new part of it); a due bucket is read part by part, oldest first, then what it holds
/// in memory, which is its arrival order.
#[derive(Debug)]
pub(super) struct WaitingRecords {
    pages: ChunkPages,
    size: i64,
    buckets: BTreeMap<i64, Bucket>,
    /// The bucket being read out, and where.
    reading: Option<Reading>,
}

#[derive(Debug, Default)]
struct Bucket {
    chunks: Vec<RecordChunk>,
    parts: Vec<Run>,
}

/// Where the record read out is: the current record of the part being read, or in memory.
enum Place {
    Disk,
    Memory(u64, usize),
}

#[derive(Debug)]
struct Reading {
    start: i64,
    parts: VecDeque<Run>,
    part: Option<RunReader>,
    /// The chunk and offset in it of the next entry in memory.
    chunk: usize,
    offset: usize,
}

impl WaitingRecords {
    /// No records yet; buckets of `size` ms.
    pub(super) fn new(mem: OperatorMemory, size: i64) -> Self {
        WaitingRecords {
            pages: ChunkPages::new(mem),
            size,
            buckets: BTreeMap::new(),
            reading: None,
        }
    }

    /// Keeps `record` under `key` at `ts`. Past the budget, the bucket due last goes to
    /// disk; when no bucket holds memory, the budget error comes back for the caller to
    /// make room elsewhere.
    pub(super) fn add(&mut self, key: &[u8], ts: i64, record: &[u8]) -> Result<(), JobError> {
        let len = HEADER + key.len() + record.len();
        let need = len.next_multiple_of(8);
        if need > self.pages.page_size() {
            let (operator, location) = self.pages.memory().operator();
            return Err(JobError::RecordTooLong {
                operator: operator.to_string(),
                location: location.to_string(),
                record_bytes: key.len() + record.len(),
                limit_bytes: self.pages.page_size() - HEADER,
                record: None,
            });
        }
        let start = ts - ts.rem_euclid(self.size);
        let at = loop {
            let bucket = self.buckets.entry(start).or_default();
            match append(&mut self.pages, &mut bucket.chunks, need) {
                Ok(at) => break at,
                Err(e) => self.make_room(e)?,
            }
        };
        let bytes = self.pages.bytes_mut(at, need);
        bytes[..4].copy_from_slice(&(key.len() as u32).to_le_bytes());
        bytes[4..8].copy_from_slice(&(record.len() as u32).to_le_bytes());
        bytes[8..16].copy_from_slice(&ts.to_le_bytes());
        bytes[HEADER..HEADER + key.len()].copy_from_slice(key);
        bytes[HEADER + key.len()..len].copy_from_slice(record);
        Ok(())
    }

    /// The next record of the first bucket whose last millisecond is at or before `due`;
    /// `None` when nothing more is due. A bucket is dropped once read.
    pub(super) fn next_due(&mut self, due: i64) -> Result<Option<Waiting<'_>>, JobError> {
        Ok(match self.advance(due)? {
            None => None,
            Some(Place::Disk) => {
                let part = self.reading.as_ref().and_then(|r| r.part.as_ref());
                let part = part.expect("the part being read");
                Some(
                    entry(part.current())
                        .ok_or_else(|| part.corrupt("a waiting record cut short"))?,
                )
            }
            Some(Place::Memory(at, len)) => {
                Some(entry(self.pages.bytes(at, len)).expect("entries in memory are whole"))
            }
        })
    }

    /// Moves to the next due record: where it is.
    fn advance(&mut self, due: i64) -> Result<Option<Place>, JobError> {
        loop {
            let Some(reading) = &mut self.reading else {
                let Some((&start, _)) = self.buckets.first_key_value() else {
                    return Ok(None);
                };
                if start.saturating_add(self.size - 1) > due {
                    return Ok(None);
                }
                let bucket = self.buckets.get_mut(&start).expect("a bucket listed");
                self.reading = Some(Reading {
                    start,
                    parts: std::mem::take(&mut bucket.parts).into(),
                    part: None,
                    chunk: 0,
                    offset: 0,
                });
                continue;
            };
            if reading.part.is_none() {
                if let Some(run) = reading.parts.pop_front() {
                    reading.part = Some(run.read()?);
                }
            }
            if let Some(part) = &mut reading.part {
                if part.advance()? {
                    return Ok(Some(Place::Disk));
                }
                reading.part = None;
                continue;
            }
            match self.buckets[&reading.start].chunks.get(reading.chunk) {
                Some(chunk) if reading.offset < chunk.used => {
                    let at = chunk.addr + reading.offset as u64;
                    let len = entry_len(self.pages.bytes(at, HEADER));
                    reading.offset += len.next_multiple_of(8);
                    return Ok(Some(Place::Memory(at, len)));
                }
                Some(_) => {
                    reading.chunk += 1;
                    reading.offset = 0;
                }
                None => {
                    let start = reading.start;
                    self.reading = None;
                    self.drop_bucket(start);
                }
            }
        }
    }

    /// Spills the bucket due last that holds memory (not one being read out): whether
    /// there was one.
    pub(super) fn spill_latest(&mut self) -> Result<bool, JobError> {
        let reading = self.reading.as_ref().map(|r| r.start);
        let latest = self
            .buckets
            .iter()
            .rev()
            .find(|(&start, b)| Some(start) != reading && !b.chunks.is_empty())
            .map(|(&start, _)| start);
        let Some(start) = latest else {
            return Ok(false);
        };
        let started = Instant::now();
        let mem = self.pages.memory().clone();
        let mut out = RunWriter::create(&mem)?;
        let chunks = std::mem::take(&mut self.buckets.get_mut(&start).expect("listed").chunks);
        for_each_entry(&self.pages, &chunks, |bytes| out.push(&[bytes]))?;
        let part = out.finish()?;
        for c in chunks {
            self.pages.free(c.addr);
        }
        let bucket = self.buckets.get_mut(&start).expect("listed");
        bucket.parts.push(part);
        if bucket.parts.len() > MAX_PARTS {
            let parts = std::mem::take(&mut bucket.parts);
            bucket.parts.push(Run::concatenate(parts, &mem)?);
        }
        mem.note_spill_work(1, started.elapsed());
        Ok(true)
    }

    /// Calls `each` with every record, buckets in order of time, each in the order it is
    /// read out (its parts on disk, kept, then its chunks). Not while a bucket is read out.
    pub(super) fn each_record(
        &mut self,
        mut each: impl FnMut(Waiting<'_>) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        if self.reading.is_some() {
            return Err(JobError::Config(
                "internal error: an interval join was asked for a snapshot while it read out its unmatched records"
                    .to_string(),
            ));
        }
        for bucket in self.buckets.values_mut() {
            let parts = std::mem::take(&mut bucket.parts);
            let (kept, read) = Run::read_kept(parts, |bytes| match entry(bytes) {
                Some(waiting) => each(waiting),
                None => Err(JobError::Config(
                    "an interval join's spilled waiting record is cut short".to_string(),
                )),
            });
            bucket.parts = kept;
            read?;
            let pages = &self.pages;
            for_each_entry(pages, &bucket.chunks, |bytes| {
                each(entry(bytes).expect("entries in memory are whole"))
            })?;
        }
        Ok(())
    }

    /// After `e`: spills a bucket to make room, or `e` when it is not the budget running
    /// out, the operator may not spill, or no bucket holds memory.
    fn make_room(&mut self, e: JobError) -> Result<(), JobError> {
        if !matches!(e, JobError::MemoryBudget { .. }) || !self.pages.memory().can_spill() {
            return Err(e);
        }
        match self.spill_latest()? {
            true => Ok(()),
            false => Err(e),
        }
    }

    fn drop_bucket(&mut self, start: i64) {
        if let Some(bucket) = self.buckets.remove(&start) {
            for c in bucket.chunks {
                self.pages.free(c.addr);
            }
        }
    }
}

/// Calls `each` with the bytes of every entry in `chunks`, in order (unpadded).
fn for_each_entry(
    pages: &ChunkPages,
    chunks: &[RecordChunk],
    mut each: impl FnMut(&[u8]) -> Result<(), JobError>,
) -> Result<(), JobError> {
    for chunk in chunks {
        let mut offset = 0;
        while offset < chunk.used {
            let at = chunk.addr + offset as u64;
            let len = entry_len(pages.bytes(at, HEADER));
            each(pages.bytes(at, len))?;
            offset += len.next_multiple_of(8);
        }
    }
    Ok(())
}

/// An entry's key, time and record; `None` when it is cut short.
fn entry(bytes: &[u8]) -> Option<Waiting<'_>> {
    let head = bytes.get(..HEADER)?;
    let ts = i64::from_le_bytes(head[8..16].try_into().expect("eight bytes"));
    let rest = &bytes[HEADER..];
    if rest.len() != length(head, 0) + length(head, 4) {
        return None;
    }
    let (key, record) = rest.split_at(length(head, 0));
    Some((key, ts, record))
}

/// An entry's length from its header.
fn entry_len(head: &[u8]) -> usize {
    HEADER + length(head, 0) + length(head, 4)
}

fn length(bytes: &[u8], at: usize) -> usize {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes")) as usize
}
