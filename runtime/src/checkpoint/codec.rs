//! The bytes of a job's checkpointed state: a run of named sections, one per field of the
//! generated job and per source, each holding what that part's [`Checkpointed`] impl
//! wrote with the primitives here. Sections are read back in the order they were written,
//! and each is checked by name, so a checkpoint of another pipeline is refused at its
//! first difference rather than read into the wrong field.
//!
//! ```text
//! section: name length u16 | name | body length u64 | body
//! ```
//!
//! A checkpoint streams its state to its file ([`StateOut::to_file`]): a buffer of
//! [`FLUSH_AT`] bytes goes out as it fills, and each section's length is written back in
//! place once its body is done, so a state far larger than memory (an aggregate spilled to
//! disk) never sits in memory whole.
//!
//! [`Checkpointed`]: super::Checkpointed

use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::JobError;

/// Bytes a streamed state collects before they go to its file.
const FLUSH_AT: usize = 4 << 20;

/// Bytes a state kept in memory for a write in the background may take before it streams
/// to its file after all (a large state is written while records wait, in bounded memory).
const KEEP_AT_MOST: usize = 16 << 20;

/// Where a job's parts write their state: memory, or a file it streams to.
#[derive(Debug)]
pub struct StateOut {
    /// What is not in the file yet (all of it, in memory).
    bytes: Vec<u8>,
    /// The file, and how many bytes it holds.
    file: Option<(File, u64)>,
    /// The first failure writing the file: reported by [`finish_file`](Self::finish_file).
    failed: Option<std::io::Error>,
    /// The buffer goes to the file once it holds this much.
    flush_at: usize,
    /// A file to create and stream to once the buffer passes [`KEEP_AT_MOST`]
    /// ([`StateOut::kept`]).
    later: Option<std::path::PathBuf>,
    /// Outputs' commit points need no fsync now: the checkpoint fsyncs them before it
    /// completes ([`defers_sync`](Self::defers_sync)).
    defer_sync: bool,
    /// The folder the state goes into: a spilled state links its runs there
    /// ([`folder`](Self::folder)).
    folder: Option<std::path::PathBuf>,
}

impl Default for StateOut {
    fn default() -> Self {
        StateOut {
            bytes: Vec::new(),
            file: None,
            failed: None,
            flush_at: usize::MAX,
            later: None,
            defer_sync: false,
            folder: None,
        }
    }
}

/// Reads back what a [`StateOut`] wrote.
#[derive(Debug)]
pub struct StateIn<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The mapped state file the bytes are in, whose pages a restore gives back as it
    /// reads them.
    map: Option<&'a super::store::MappedState>,
}

impl StateOut {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// A writer that streams to `file` (empty, open to read and write).
    pub fn to_file(file: File) -> Self {
        StateOut {
            bytes: Vec::with_capacity(FLUSH_AT + 4096),
            file: Some((file, 0)),
            flush_at: FLUSH_AT,
            ..StateOut::default()
        }
    }

    /// A writer that keeps the state in memory, to be written in the background while
    /// records flow ([`in_memory`](Self::in_memory)), unless it outgrows
    /// [`KEEP_AT_MOST`]: then it streams to `path` from there on. Outputs' commit points
    /// are not fsynced meanwhile ([`defers_sync`](Self::defers_sync)).
    pub(crate) fn kept(path: std::path::PathBuf) -> Self {
        StateOut {
            folder: path.parent().map(std::path::Path::to_path_buf),
            flush_at: KEEP_AT_MOST,
            later: Some(path),
            defer_sync: true,
            ..StateOut::default()
        }
    }

    /// The checkpoint folder the state goes into, if it goes into one: a state spilled to
    /// disk links its runs (files it will not change) there rather than copy them, so a
    /// checkpoint writes only what is new since the last.
    pub fn folder(&self) -> Option<&std::path::Path> {
        self.folder.as_deref()
    }

    /// The same writer, its state going into checkpoint folder `folder`.
    pub(crate) fn in_folder(mut self, folder: &std::path::Path) -> Self {
        self.folder = Some(folder.to_path_buf());
        self
    }

    /// Whether outputs' commit points are fsynced by the checkpoint itself, later, rather
    /// than by each output as it saves its commit point.
    pub fn defers_sync(&self) -> bool {
        self.defer_sync
    }

    /// The whole state, if it stayed in memory ([`kept`](Self::kept)); the writer back if
    /// it went to its file.
    pub(crate) fn in_memory(self) -> Result<Vec<u8>, StateOut> {
        match self.file {
            None if self.failed.is_none() => Ok(self.bytes),
            _ => Err(self),
        }
    }

    /// Writes section `name`, whose body `write` writes.
    pub fn section(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut StateOut) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        let name_len = u16::try_from(name.len()).expect("a section name under 64 KiB");
        self.put(&name_len.to_le_bytes());
        self.put(name.as_bytes());
        self.with_length(write)
    }

    /// Writes a length (u64), then what `write` writes, then puts the length of that in
    /// front of it.
    pub(crate) fn with_length(
        &mut self,
        write: impl FnOnce(&mut StateOut) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        let len_at = self.position();
        self.put(&0u64.to_le_bytes());
        write(self)?;
        let len = self.position() - len_at - 8;
        self.write_back(len_at, &len.to_le_bytes());
        Ok(())
    }

    /// Bytes written so far.
    pub(crate) fn position(&self) -> u64 {
        self.file.as_ref().map_or(0, |(_, flushed)| *flushed) + self.bytes.len() as u64
    }

    /// Writes `bytes` over what was written at `at`.
    fn write_back(&mut self, at: u64, bytes: &[u8]) {
        let flushed = self.file.as_ref().map_or(0, |(_, flushed)| *flushed);
        if at >= flushed {
            let at = (at - flushed) as usize;
            self.bytes[at..at + bytes.len()].copy_from_slice(bytes);
            return;
        }
        if let Some((file, _)) = &self.file {
            // A length never straddles the flush: the buffer goes out whole, after it.
            if let Err(e) = file.write_all_at(bytes, at) {
                self.failed.get_or_insert(e);
            }
        }
    }

    /// Appends `bytes`, sending the buffer to the file once it is full.
    #[inline]
    pub(crate) fn put(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
        if self.bytes.len() >= self.flush_at {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if let Some(path) = self.later.take() {
            // Kept in memory until now: too large for that, it streams from here on.
            let opened = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path);
            match opened {
                Ok(file) => self.file = Some((file, 0)),
                Err(e) => self.failed = Some(e),
            }
            self.flush_at = FLUSH_AT;
        }
        let Some((file, flushed)) = &mut self.file else {
            return;
        };
        if self.failed.is_none() {
            match std::io::Write::write_all(file, &self.bytes) {
                Ok(()) => *flushed += self.bytes.len() as u64,
                Err(e) => self.failed = Some(e),
            }
        }
        self.bytes.clear();
    }

    /// Writes `v`.
    pub fn u64(&mut self, v: u64) {
        self.put(&v.to_le_bytes());
    }

    /// Writes `v`.
    pub fn i64(&mut self, v: i64) {
        self.put(&v.to_le_bytes());
    }

    /// Writes `v`.
    pub fn bool(&mut self, v: bool) {
        self.put(&[u8::from(v)]);
    }

    /// Writes `v` with its length.
    pub fn bytes(&mut self, v: &[u8]) {
        self.u64(v.len() as u64);
        self.put(v);
    }

    /// Writes `v` with its length.
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }

    /// Appends `bytes` another writer wrote (whole sections).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.put(bytes);
    }

    /// Everything written, of a writer in memory.
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }

    /// Ends a writer streaming to a file: the rest written out and fsynced; the file's
    /// length and CRC-32 (read back: lengths were written in place after their bodies).
    /// `path` names the file in an error.
    pub fn finish_file(mut self, path: &std::path::Path) -> Result<(u64, u32), JobError> {
        self.flush();
        let io_error = |source| JobError::Io {
            action: "cannot write checkpoint file",
            path: path.display().to_string(),
            source,
        };
        if let Some(e) = self.failed.take() {
            return Err(io_error(e));
        }
        let Some((file, len)) = self.file.take() else {
            return Ok((0, 0));
        };
        file.sync_all().map_err(io_error)?;
        let mut crc = crc32fast::Hasher::new();
        let mut buffer = std::mem::take(&mut self.bytes);
        buffer.resize(FLUSH_AT, 0);
        let mut at = 0u64;
        while at < len {
            let n = (len - at).min(FLUSH_AT as u64) as usize;
            file.read_exact_at(&mut buffer[..n], at).map_err(io_error)?;
            crc.update(&buffer[..n]);
            at += n as u64;
        }
        Ok((len, crc.finalize()))
    }
}

impl<'a> StateIn<'a> {
    /// A reader of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        StateIn {
            bytes,
            at: 0,
            map: None,
        }
    }

    /// A reader of a checkpoint's mapped state, from byte `at`.
    pub fn mapped(state: &'a super::store::MappedState, at: usize) -> Self {
        StateIn {
            bytes: state.get(at..).unwrap_or(&[]),
            at: 0,
            map: Some(state),
        }
    }

    /// The mapped state these bytes are in, if any: a keyed state's snapshot gives back its
    /// pages as it is restored.
    pub(crate) fn mapping(&self) -> Option<&'a super::store::MappedState> {
        self.map
    }

    /// Reads section `name` with `read`, which must read all of its body: a section of
    /// another name, or one read short or past its end, means the checkpoint is not of
    /// this job.
    pub fn section(
        &mut self,
        name: &str,
        read: impl FnOnce(&mut StateIn<'a>) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        let mut inner = self.open_section(name)?;
        read(&mut inner)?;
        inner.read_whole(name)
    }

    /// Reads the same section `name` of each of `parts` (the states of the workers that
    /// wrote a checkpoint) with `read`, which must read all of each.
    pub fn sections(
        parts: &mut [StateIn<'a>],
        name: &str,
        read: impl FnOnce(&mut [StateIn<'a>]) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        let mut inner = parts
            .iter_mut()
            .map(|p| p.open_section(name))
            .collect::<Result<Vec<_>, _>>()?;
        read(&mut inner)?;
        inner.iter().try_for_each(|i| i.read_whole(name))
    }

    /// The body of section `name`, next.
    fn open_section(&mut self, name: &str) -> Result<StateIn<'a>, JobError> {
        let found_len = u16::from_le_bytes(self.array()?) as usize;
        let found = self.take(found_len)?;
        if found != name.as_bytes() {
            return Err(JobError::CheckpointMismatch(format!(
                "it holds `{}` where this job has `{name}`",
                String::from_utf8_lossy(found)
            )));
        }
        let len = usize::try_from(self.u64()?).map_err(|_| corrupt("a section's length"))?;
        Ok(StateIn {
            bytes: self.take(len)?,
            at: 0,
            map: self.map,
        })
    }

    /// Whether section `name`'s body was read to its end.
    fn read_whole(&self, name: &str) -> Result<(), JobError> {
        if self.at != self.bytes.len() {
            return Err(JobError::CheckpointMismatch(format!(
                "the state of `{name}` has {} bytes this job does not read: it was written by another version of the operator",
                self.bytes.len() - self.at
            )));
        }
        Ok(())
    }

    /// The next section, whatever its name: its name and body (for a report of what a
    /// checkpoint holds).
    pub fn any_section(&mut self) -> Result<(&'a str, &'a [u8]), JobError> {
        let name_len = u16::from_le_bytes(self.array()?) as usize;
        let name = std::str::from_utf8(self.take(name_len)?).map_err(|_| corrupt("a name"))?;
        let len = usize::try_from(self.u64()?).map_err(|_| corrupt("a section's length"))?;
        Ok((name, self.take(len)?))
    }

    /// Passes over what is left unread: a part with nothing to restore into.
    pub fn skip_rest(&mut self) {
        self.at = self.bytes.len();
    }

    /// Bytes read so far.
    pub fn consumed(&self) -> usize {
        self.at
    }

    /// Whether everything was read.
    pub fn at_end(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// Reads a `u64`.
    pub fn u64(&mut self) -> Result<u64, JobError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Reads an `i64`.
    pub fn i64(&mut self) -> Result<i64, JobError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// Reads a `bool`.
    pub fn bool(&mut self) -> Result<bool, JobError> {
        match self.take(1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(corrupt("a flag")),
        }
    }

    /// Reads bytes written with their length.
    pub fn bytes(&mut self) -> Result<&'a [u8], JobError> {
        let len = usize::try_from(self.u64()?).map_err(|_| corrupt("a length"))?;
        self.take(len)
    }

    /// Reads a string written with its length.
    pub fn str(&mut self) -> Result<&'a str, JobError> {
        std::str::from_utf8(self.bytes()?).map_err(|_| corrupt("a name"))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], JobError> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], JobError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| corrupt("its end"))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }
}

/// The error for a checkpoint cut short or garbled where `what` was expected. (The files'
/// checksums catch damage first; this is what a checksum that matched garbage would give.)
pub(crate) fn corrupt(what: &str) -> JobError {
    JobError::SnapshotCorrupt {
        problem: format!("the checkpoint's state ends or breaks off at {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_read_back_in_order_and_a_wrong_name_or_length_is_refused() {
        let mut out = StateOut::new();
        out.section("a", |o| {
            o.u64(7);
            o.str("x");
            Ok(())
        })
        .unwrap();
        out.section("b", |o| {
            o.i64(-3);
            o.bool(true);
            Ok(())
        })
        .unwrap();
        let bytes = out.finish();
        let mut input = StateIn::new(&bytes);
        input
            .section("a", |i| {
                assert_eq!((i.u64()?, i.str()?), (7, "x"));
                Ok(())
            })
            .unwrap();
        input
            .section("b", |i| {
                assert_eq!((i.i64()?, i.bool()?), (-3, true));
                Ok(())
            })
            .unwrap();
        assert!(input.at_end());

        let err = StateIn::new(&bytes)
            .section("c", |_| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("holds `a` where this job has `c`"), "{err}");
        let err = StateIn::new(&bytes)
            .section("a", |i| i.u64().map(drop))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bytes this job does not read"), "{err}");
        let err = StateIn::new(&bytes[..5])
            .section("a", |_| Ok(()))
            .unwrap_err();
        assert!(matches!(err, JobError::SnapshotCorrupt { .. }), "{err}");
    }

    /// A state streamed to a file is the bytes one written in memory has, with their
    /// checksum, however far its sections outgrow the buffer.
    #[test]
    fn a_streamed_state_is_the_same_bytes_as_one_in_memory() {
        let write = |out: &mut StateOut| {
            out.section("small", |o| {
                o.u64(1);
                Ok(())
            })?;
            out.section("large", |o| {
                o.section("inner", |o| {
                    for i in 0..(3 * FLUSH_AT as u64 / 8) {
                        o.u64(i);
                    }
                    Ok(())
                })?;
                o.bytes(&vec![7u8; FLUSH_AT + 5]);
                Ok(())
            })?;
            out.section("after", |o| {
                o.str("end");
                Ok(())
            })
        };
        let mut memory = StateOut::new();
        write(&mut memory).unwrap();
        let memory = memory.finish();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        let mut streamed = StateOut::to_file(file);
        write(&mut streamed).unwrap();
        let (len, crc) = streamed.finish_file(&path).unwrap();
        let on_disk = std::fs::read(&path).unwrap();
        assert!(on_disk == memory, "the same bytes");
        assert_eq!((len, crc), (memory.len() as u64, crc32fast::hash(&memory)));
    }
}
