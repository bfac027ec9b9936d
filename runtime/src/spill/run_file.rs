//! Spill runs: records written to a file in checksummed, page-sized blocks and read back
//! with every block verified.
//!
//! A block is `[payload length: u32][CRC-32 of the payload: u32][payload]`, little-endian;
//! the payload is records, each `[length: u32][bytes]`, never split across blocks. Records
//! are state entries in the runtime's binary layout (keys, accumulators), so nothing is
//! converted on the way out or back.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use crate::memory::OperatorMemory;
use crate::JobError;

const BLOCK_HEADER: usize = 8;

/// A spill file being written.
#[derive(Debug)]
pub struct RunWriter {
    file: File,
    path: PathBuf,
    mem: OperatorMemory,
    /// The block being filled, header space first.
    block: Vec<u8>,
    block_size: usize,
    bytes: u64,
    records: u64,
}

impl RunWriter {
    /// A new spill file of the operator that owns `mem`, in the job's spill space, in
    /// page-sized blocks (for files read from end to end).
    pub fn create(mem: &OperatorMemory) -> Result<Self, JobError> {
        Self::with_blocks(mem, mem.page_size())
    }

    /// A new spill file in blocks of about `block_size` bytes: small blocks for files read
    /// one block at a time by lookups (a record larger than a block gets a block of its
    /// own).
    pub fn with_blocks(mem: &OperatorMemory, block_size: usize) -> Result<Self, JobError> {
        let (file, path) = mem.create_spill_file()?;
        let mut block = Vec::with_capacity(block_size);
        block.resize(BLOCK_HEADER, 0);
        Ok(RunWriter {
            file,
            path,
            mem: mem.clone(),
            block,
            block_size,
            bytes: 0,
            records: 0,
        })
    }

    /// Appends one record made of `parts`, in order.
    pub fn push(&mut self, parts: &[&[u8]]) -> Result<(), JobError> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if self.block.len() > BLOCK_HEADER && self.block.len() + 4 + len > self.block_size {
            self.write_block()?;
        }
        self.block.extend_from_slice(&(len as u32).to_le_bytes());
        for part in parts {
            self.block.extend_from_slice(part);
        }
        self.records += 1;
        Ok(())
    }

    /// Like [`push`](Self::push), and gives the file offset of the block the record opens,
    /// when it is the first of its block: for an index of blocks to read one at a time
    /// ([`Run::read_block_at`]).
    pub fn push_indexed(&mut self, parts: &[&[u8]]) -> Result<Option<u64>, JobError> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let full = self.block.len() > BLOCK_HEADER && self.block.len() + 4 + len > self.block_size;
        let opens = full || self.block.len() == BLOCK_HEADER;
        // A full block is written out by `push`, before the record: its block starts after.
        let at = if full {
            self.bytes + self.block.len() as u64
        } else {
            self.bytes
        };
        self.push(parts)?;
        Ok(opens.then_some(at))
    }

    /// Records pushed so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Writes out the last block; the run can then be read back.
    pub fn finish(mut self) -> Result<Run, JobError> {
        if self.block.len() > BLOCK_HEADER {
            self.write_block()?;
        }
        self.mem.note_spill_written(self.bytes);
        Ok(Run {
            file: self.file,
            path: self.path,
            mem: self.mem,
            bytes: self.bytes,
            records: self.records,
            kept: false,
        })
    }

    fn write_block(&mut self) -> Result<(), JobError> {
        let payload = (self.block.len() - BLOCK_HEADER) as u32;
        let crc = crc32fast::hash(&self.block[BLOCK_HEADER..]);
        self.block[..4].copy_from_slice(&payload.to_le_bytes());
        self.block[4..8].copy_from_slice(&crc.to_le_bytes());
        self.file
            .write_all(&self.block)
            .map_err(|e| self.mem.spill_error(e))?;
        self.bytes += self.block.len() as u64;
        self.block.truncate(BLOCK_HEADER);
        Ok(())
    }
}

/// A finished spill file. Removed from disk when dropped, so a run read back (or no
/// longer wanted) frees its space at once.
#[derive(Debug)]
pub struct Run {
    file: File,
    path: PathBuf,
    mem: OperatorMemory,
    bytes: u64,
    records: u64,
    /// A file that is not the operator's to remove (a checkpoint's link to a run).
    kept: bool,
}

impl Run {
    /// The run at `path`, another's (a checkpoint's link to a run it shares with the
    /// operator that wrote it): read, never removed, by the operator of `mem`.
    pub fn open_kept(path: &std::path::Path, mem: &OperatorMemory) -> Result<Run, JobError> {
        let file = File::open(path).map_err(|e| mem.spill_error(e))?;
        let bytes = file.metadata().map_err(|e| mem.spill_error(e))?.len();
        Ok(Run {
            file,
            path: path.to_path_buf(),
            mem: mem.clone(),
            bytes,
            records: 0,
            kept: true,
        })
    }

    /// Where the run's file is.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Records in the run.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Bytes of the run's file.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Reads the block at file offset `at` (as [`RunWriter::push_indexed`] gave it) into
    /// `block`, verified, and gives its records.
    pub fn read_block_at<'b>(
        &self,
        at: u64,
        block: &'b mut Vec<u8>,
    ) -> Result<BlockRecords<'b>, JobError> {
        use std::os::unix::fs::FileExt;
        let corrupt = |problem| {
            let (operator, location) = self.mem.operator();
            JobError::SpillCorrupt {
                operator: operator.to_string(),
                location: location.to_string(),
                path: self.path.display().to_string(),
                offset: at,
                problem,
            }
        };
        let mut header = [0u8; BLOCK_HEADER];
        let read = |buf: &mut [u8], offset| match self.file.read_exact_at(buf, offset) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                Err(corrupt("the file ends early"))
            }
            Err(e) => Err(self.mem.spill_error(e)),
        };
        read(&mut header, at)?;
        let len = u32::from_le_bytes(header[..4].try_into().expect("four bytes")) as usize;
        let crc = u32::from_le_bytes(header[4..].try_into().expect("four bytes"));
        if at + (BLOCK_HEADER + len) as u64 > self.bytes {
            return Err(corrupt("a block length past the end of the file"));
        }
        block.resize(len, 0);
        read(block, at + BLOCK_HEADER as u64)?;
        if crc32fast::hash(block) != crc {
            return Err(corrupt("checksum mismatch"));
        }
        self.mem.note_read_back((BLOCK_HEADER + len) as u64);
        Ok(BlockRecords { block, pos: 0 })
    }

    /// One run holding the records of `parts`, in order: many parts become one open file.
    pub fn concatenate(parts: Vec<Run>, mem: &OperatorMemory) -> Result<Run, JobError> {
        let mut out = RunWriter::create(mem)?;
        for part in parts {
            let mut reader = part.read()?;
            while let Some(record) = reader.next()? {
                out.push(&[record])?;
            }
        }
        out.finish()
    }

    /// Calls `each` with every record of `runs`, in order, and gives the runs back to read
    /// again (a snapshot reads spilled state it keeps); with the first error, if any.
    pub fn read_kept(
        runs: Vec<Run>,
        mut each: impl FnMut(&[u8]) -> Result<(), JobError>,
    ) -> (Vec<Run>, Result<(), JobError>) {
        let mut kept = Vec::with_capacity(runs.len());
        let mut result = Ok(());
        for run in runs {
            if result.is_err() {
                kept.push(run);
                continue;
            }
            match run.read() {
                Ok(mut reader) => {
                    result = (|| {
                        while let Some(record) = reader.next()? {
                            each(record)?;
                        }
                        Ok(())
                    })();
                    kept.push(reader.into_run());
                }
                // A run that cannot be read from its start goes with the error, which ends
                // the job.
                Err(e) => result = Err(e),
            }
        }
        (kept, result)
    }

    /// Reads the run from its start.
    pub fn read(mut self) -> Result<RunReader, JobError> {
        self.file
            .seek(SeekFrom::Start(0))
            .map_err(|e| self.mem.spill_error(e))?;
        Ok(RunReader {
            block: Vec::with_capacity(self.mem.page_size()),
            run: self,
            pos: 0,
            blocks: 0,
            read: 0,
            current: (0, 0),
        })
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The records of one block read by [`Run::read_block_at`].
#[derive(Debug)]
pub struct BlockRecords<'b> {
    block: &'b [u8],
    pos: usize,
}

impl<'b> Iterator for BlockRecords<'b> {
    type Item = &'b [u8];

    fn next(&mut self) -> Option<&'b [u8]> {
        let len = self.block.get(self.pos..self.pos + 4)?;
        let len = u32::from_le_bytes(len.try_into().expect("four bytes")) as usize;
        let start = self.pos + 4;
        // A block that passed its checksum was written whole.
        let record = self.block.get(start..start + len)?;
        self.pos = start + len;
        Some(record)
    }
}

/// Reads a run's records in the order they were written, verifying each block.
#[derive(Debug)]
pub struct RunReader {
    run: Run,
    block: Vec<u8>,
    pos: usize,
    /// Blocks read so far.
    blocks: u64,
    /// Bytes read so far.
    read: u64,
    /// The current record's bounds in `block`.
    current: (usize, usize),
}

impl RunReader {
    /// The next record, or `None` after the last.
    #[allow(clippy::should_implement_trait)] // records borrow the reader's block
    pub fn next(&mut self) -> Result<Option<&[u8]>, JobError> {
        Ok(if self.advance()? {
            Some(self.current())
        } else {
            None
        })
    }

    /// Moves to the next record; `false` after the last.
    pub fn advance(&mut self) -> Result<bool, JobError> {
        if self.pos == self.block.len() && !self.next_block()? {
            self.current = (0, 0);
            return Ok(false);
        }
        let Some(len) = self.block.get(self.pos..self.pos + 4) else {
            return Err(self.corrupt("a record cut short"));
        };
        let len = u32::from_le_bytes(len.try_into().expect("four bytes")) as usize;
        let start = self.pos + 4;
        if start + len > self.block.len() {
            return Err(self.corrupt("a record cut short"));
        }
        self.pos = start + len;
        self.current = (start, start + len);
        Ok(true)
    }

    /// The record [`advance`](Self::advance) moved to (empty before the first and after
    /// the last).
    pub fn current(&self) -> &[u8] {
        &self.block[self.current.0..self.current.1]
    }

    /// Calls `each` with the current record and every record after it, and leaves the
    /// reader where it was (a snapshot reads what a run still holds).
    pub fn visit_rest(
        &self,
        mut each: impl FnMut(&[u8]) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        if self.current != (0, 0) {
            each(self.current())?;
        }
        for record in (BlockRecords {
            block: &self.block,
            pos: self.pos,
        }) {
            each(record)?;
        }
        let mut block = Vec::new();
        let mut at = self.read;
        while at < self.run.bytes {
            for record in self.run.read_block_at(at, &mut block)? {
                each(record)?;
            }
            at += (BLOCK_HEADER + block.len()) as u64;
        }
        Ok(())
    }

    /// Bytes of the run not read yet.
    pub fn remaining_bytes(&self) -> u64 {
        self.run.bytes - self.read
    }

    /// The run again, to read from its start.
    pub fn into_run(self) -> Run {
        self.run
    }

    /// Loads the next block; `false` at the end of the run.
    fn next_block(&mut self) -> Result<bool, JobError> {
        if self.read == self.run.bytes {
            return Ok(false);
        }
        let mut header = [0u8; BLOCK_HEADER];
        self.read_exact(&mut header)?;
        let len = u32::from_le_bytes(header[..4].try_into().expect("four bytes")) as usize;
        let crc = u32::from_le_bytes(header[4..].try_into().expect("four bytes"));
        if self.read + (BLOCK_HEADER + len) as u64 > self.run.bytes {
            return Err(self.corrupt("a block length past the end of the file"));
        }
        self.block.resize(len, 0);
        let mut block = std::mem::take(&mut self.block);
        let result = self.read_exact(&mut block);
        self.block = block;
        result?;
        if crc32fast::hash(&self.block) != crc {
            return Err(self.corrupt("checksum mismatch"));
        }
        self.read += (BLOCK_HEADER + len) as u64;
        self.run.mem.note_read_back((BLOCK_HEADER + len) as u64);
        self.blocks += 1;
        self.pos = 0;
        Ok(true)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), JobError> {
        match self.run.file.read_exact(buf) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                Err(self.corrupt("the file ends early"))
            }
            Err(e) => Err(self.run.mem.spill_error(e)),
        }
    }

    /// The error for a run that does not read back as written.
    pub(crate) fn corrupt(&self, problem: &'static str) -> JobError {
        let (operator, location) = self.run.mem.operator();
        JobError::SpillCorrupt {
            operator: operator.to_string(),
            location: location.to_string(),
            path: self.run.path.display().to_string(),
            offset: self.read,
            problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SegmentPool;
    use crate::spill::SpillSpace;

    fn memory(dir: &std::path::Path) -> OperatorMemory {
        let pool = SegmentPool::new(64 * 1024, 1024);
        pool.operator("aggregate", "t.pipe:2:3", 8)
            .with_spill(SpillSpace::new(Some(dir.to_path_buf()), "t"))
    }

    fn records(n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| (0..(i * 7) % 300).map(|b| (b ^ i) as u8).collect())
            .collect()
    }

    #[test]
    fn records_come_back_in_order_across_blocks_and_the_file_goes() {
        let dir = tempfile::tempdir().unwrap();
        let mem = memory(dir.path());
        let mut w = RunWriter::create(&mem).unwrap();
        let want = records(500);
        for r in &want {
            let (a, b) = r.split_at(r.len() / 2);
            w.push(&[a, b]).unwrap();
        }
        let run = w.finish().unwrap();
        assert_eq!(run.records(), 500);
        let path = run.path.clone();
        let mut reader = run.read().unwrap();
        let mut got = Vec::new();
        while let Some(r) = reader.next().unwrap() {
            got.push(r.to_vec());
        }
        assert_eq!(got, want);
        assert!(reader.blocks > 10, "many 1 KiB blocks: {}", reader.blocks);
        drop(reader);
        assert!(!path.exists(), "a run read back is removed");
    }

    #[test]
    fn a_changed_byte_is_a_checksum_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mem = memory(dir.path());
        let mut w = RunWriter::create(&mem).unwrap();
        for r in records(200) {
            w.push(&[&r]).unwrap();
        }
        let run = w.finish().unwrap();
        let path = run.path.clone();
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        let mut reader = run.read().unwrap();
        let err = loop {
            match reader.next() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the corruption went unnoticed"),
                Err(e) => break e.to_string(),
            }
        };
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(
            err.contains("corrupt") && err.contains("aggregate"),
            "{err}"
        );
    }

    #[test]
    fn a_truncated_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mem = memory(dir.path());
        let mut w = RunWriter::create(&mem).unwrap();
        for r in records(200) {
            w.push(&[&r]).unwrap();
        }
        let run = w.finish().unwrap();
        let len = std::fs::metadata(&run.path).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&run.path)
            .unwrap()
            .set_len(len - 10)
            .unwrap();
        let mut reader = run.read().unwrap();
        let err = loop {
            match reader.next() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the truncation went unnoticed"),
                Err(e) => break e,
            }
        };
        assert!(matches!(err, JobError::SpillCorrupt { .. }), "{err}");
    }
}
