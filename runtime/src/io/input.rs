//! Opening an input: a file or standard input, behind one buffered reader type.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};

use super::follow::{follow, InputStop};
use super::live::LiveChunks;
use super::slices::{part_start, Records};
use crate::parallel::WorkerSlot;

use crate::JobError;

/// Where a source reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSpec {
    /// A file path.
    File(String),
    /// A file path, followed as `tail -f` does (`with follow`): read by one worker, whole,
    /// until the job is asked to stop ([`InputStop`]).
    Follow(String),
    /// Standard input.
    Stdin,
}

impl InputSpec {
    /// The name used in messages: the path, or `<stdin>`.
    pub fn display_name(&self) -> &str {
        match self {
            InputSpec::File(p) | InputSpec::Follow(p) => p,
            InputSpec::Stdin => "<stdin>",
        }
    }
}

/// A buffered reader over a file or standard input that counts the bytes it hands out.
///
/// An enum rather than a trait object, so reads are statically dispatched.
#[derive(Debug)]
pub struct InputReader {
    inner: ReaderKind,
    consumed: u64,
    total: Option<u64>,
    /// A slice of a file: the file, and where the slice starts.
    slice: Option<(String, u64)>,
    /// Lines of the file before the slice, counted when first asked (for messages).
    lines_before: std::cell::OnceCell<u64>,
    /// A followed file's path and stop, to follow it again from elsewhere.
    followed: Option<Box<(String, InputStop)>>,
}

#[derive(Debug)]
enum ReaderKind {
    /// A file, or a worker's slice of one.
    File(BufReader<io::Take<File>>),
    /// Standard input, or a followed file (whose path and stop are in `InputReader::
    /// followed`, out of the enum: a larger variant made every read of the hot path decode
    /// the discriminant, 22 more instructions a record on the window benchmark).
    Live(LiveChunks),
    /// Another worker reads this input.
    Nothing,
}

/// Which part of an input a worker reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputPart {
    /// All of it.
    Whole,
    /// The worker's slice of a file: the file cut into as many ranges as there are
    /// workers (of as many bytes, or for CSV of about as many records), each moved to the
    /// start of a record (the record holding a range's first byte belongs to the range
    /// before; [`super::slices`]), so every record is read by exactly one worker. Standard
    /// input cannot be cut: a slice of it is empty.
    Slice(WorkerSlot, Records),
    /// Piece `piece` of the slice of worker `slice` (an [`InputPart::Slice`] cut again into
    /// as many pieces as there are workers, also at record starts): the workers share the
    /// scan of a slice for its largest event time, each reading one piece of it.
    Piece {
        /// The slice.
        slice: WorkerSlot,
        /// Which piece of it, from 0 to `slice.peers - 1`.
        piece: usize,
        /// What the file's records are.
        records: Records,
    },
    /// None of it: another worker reads it.
    Nothing,
}

const BUFFER: usize = 256 * 1024;

impl InputReader {
    /// Opens `spec` (a followed file follows until `stop`).
    pub fn open(spec: &InputSpec, stop: &InputStop) -> Result<Self, JobError> {
        Self::open_part(spec, InputPart::Whole, stop)
    }

    /// Opens `part` of `spec` (see [`InputPart`]); a followed file follows until `stop`.
    pub fn open_part(
        spec: &InputSpec,
        part: InputPart,
        stop: &InputStop,
    ) -> Result<Self, JobError> {
        match (spec, part) {
            (_, InputPart::Nothing)
            | (
                InputSpec::Stdin | InputSpec::Follow(_),
                InputPart::Slice(..) | InputPart::Piece { .. },
            ) => Ok(InputReader {
                inner: ReaderKind::Nothing,
                consumed: 0,
                total: Some(0),
                slice: None,
                lines_before: std::cell::OnceCell::new(),
                followed: None,
            }),
            (InputSpec::File(path), part) => {
                let error = |source| JobError::Io {
                    action: "cannot open input",
                    path: path.clone(),
                    source,
                };
                let mut file = File::open(path).map_err(error)?;
                let meta = file.metadata().map_err(error)?;
                // A named pipe or a device says nothing of its length: read to its end.
                let len = if meta.is_file() { meta.len() } else { u64::MAX };
                // Where part `i` of `n` of `from..to` starts (`slices::part_start`).
                let mut cut = |from: u64, to: u64, i: usize, n: usize, records| {
                    part_start(path, &mut file, (from, to), (i, n), len, records).map_err(error)
                };
                let (start, end) = match part {
                    InputPart::Slice(slot, records) if !slot.is_single() => (
                        cut(0, len, slot.index, slot.peers, records)?,
                        cut(0, len, slot.index + 1, slot.peers, records)?,
                    ),
                    InputPart::Piece {
                        slice,
                        piece,
                        records,
                    } => {
                        let from = cut(0, len, slice.index, slice.peers, records)?;
                        let to = cut(0, len, slice.index + 1, slice.peers, records)?;
                        (
                            cut(from, to, piece, slice.peers, records)?,
                            cut(from, to, piece + 1, slice.peers, records)?,
                        )
                    }
                    _ => (0, len),
                };
                // Finding the cuts moved the file's position. (A named pipe, read whole,
                // cannot seek, and was not moved.)
                if meta.is_file() {
                    file.seek(io::SeekFrom::Start(start)).map_err(error)?;
                }
                Ok(InputReader {
                    inner: ReaderKind::File(BufReader::with_capacity(
                        BUFFER,
                        file.take(end - start),
                    )),
                    consumed: 0,
                    total: meta.is_file().then_some(end - start),
                    slice: (start > 0).then(|| (path.clone(), start)),
                    lines_before: std::cell::OnceCell::new(),
                    followed: None,
                })
            }
            (InputSpec::Follow(path), InputPart::Whole) => Ok(InputReader {
                inner: ReaderKind::Live(follow(path, 0, stop).map_err(|source| JobError::Io {
                    action: "cannot open input",
                    path: path.clone(),
                    source,
                })?),
                consumed: 0,
                total: None,
                slice: None,
                lines_before: std::cell::OnceCell::new(),
                followed: Some(Box::new((path.clone(), stop.clone()))),
            }),
            (InputSpec::Stdin, InputPart::Whole) => Ok(InputReader {
                inner: ReaderKind::Live(LiveChunks::stdin()),
                consumed: 0,
                total: None,
                slice: None,
                lines_before: std::cell::OnceCell::new(),
                followed: None,
            }),
        }
    }

    /// Goes back to byte `offset` of this reader's part of a file, to read on from there;
    /// `false` (and nothing changed) for standard input, which cannot go back.
    pub fn rewind_to(&mut self, offset: u64) -> io::Result<bool> {
        if let Some(followed) = &self.followed {
            // A followed file restarts there; what it held past `offset` is read again.
            let (path, stop) = &**followed;
            self.inner = ReaderKind::Live(follow(path, offset, stop)?);
            self.consumed = offset;
            return Ok(true);
        }
        if matches!(self.inner, ReaderKind::Nothing) {
            // Another worker reads this input: this one stays where it is, at nothing.
            return Ok(offset == self.consumed);
        }
        // A named pipe (a file without a length) cannot go back.
        let Some(total) = self.total else {
            return Ok(false);
        };
        if !matches!(self.inner, ReaderKind::File(_)) || offset > total {
            return Ok(false);
        }
        let ReaderKind::File(reader) = std::mem::replace(&mut self.inner, ReaderKind::Nothing)
        else {
            unreachable!("matched above")
        };
        let mut take = reader.into_inner();
        let at = self.slice_start() + offset;
        let moved = take.get_mut().seek(io::SeekFrom::Start(at));
        take.set_limit(total - offset);
        self.inner = ReaderKind::File(BufReader::with_capacity(BUFFER, take));
        moved?;
        self.consumed = offset;
        Ok(true)
    }

    /// Where this worker's slice of a file starts (0 for a whole input).
    pub fn slice_start(&self) -> u64 {
        self.slice.as_ref().map_or(0, |(_, start)| *start)
    }

    /// Lines of the file before this worker's slice of it (0 for a whole input), so that
    /// messages name a record by its line in the file. Counted once, when first asked: only
    /// messages about bad records need it.
    pub fn lines_before(&self) -> u64 {
        let Some((path, start)) = &self.slice else {
            return 0;
        };
        *self.lines_before.get_or_init(|| {
            let count = || -> io::Result<u64> {
                let mut file = File::open(path)?.take(*start);
                let mut buf = vec![0u8; 256 * 1024];
                let mut lines = 0;
                loop {
                    let n = file.read(&mut buf)?;
                    if n == 0 {
                        return Ok(lines);
                    }
                    lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
                }
            };
            // The file was opened a moment ago; if it cannot be read again, the line is
            // counted within the slice.
            count().unwrap_or(0)
        })
    }

    /// Bytes handed out so far.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// The input's size, when it is a file.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// Whether there is input (or its end) to read, waiting at most `timeout`: a file
    /// always has; standard input may keep a job waiting.
    pub fn poll(&mut self, timeout: std::time::Duration) -> io::Result<bool> {
        match &mut self.inner {
            ReaderKind::File(_) | ReaderKind::Nothing => Ok(true),
            ReaderKind::Live(r) => r.poll(timeout),
        }
    }

    /// Bytes read from the input and not yet consumed, without reading more.
    #[inline]
    pub fn buffer(&self) -> &[u8] {
        match &self.inner {
            ReaderKind::File(r) => r.buffer(),
            ReaderKind::Live(r) => r.buffer(),
            ReaderKind::Nothing => &[],
        }
    }

    /// Whether this input is live (standard input, a followed file): the job wakes up
    /// while it is quiet.
    pub fn is_live(&self) -> bool {
        matches!(self.inner, ReaderKind::Live(_))
    }
}

impl Read for InputReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match &mut self.inner {
            ReaderKind::File(r) => r.read(buf)?,
            ReaderKind::Live(r) => r.read(buf)?,
            ReaderKind::Nothing => 0,
        };
        self.consumed += n as u64;
        Ok(n)
    }
}

impl BufRead for InputReader {
    #[inline]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match &mut self.inner {
            ReaderKind::File(r) => r.fill_buf(),
            ReaderKind::Live(r) => r.fill_buf(),
            ReaderKind::Nothing => Ok(&[]),
        }
    }

    #[inline]
    fn consume(&mut self, amt: usize) {
        self.consumed += amt as u64;
        match &mut self.inner {
            ReaderKind::File(r) => r.consume(amt),
            ReaderKind::Live(r) => r.consume(amt),
            ReaderKind::Nothing => {}
        }
    }
}
