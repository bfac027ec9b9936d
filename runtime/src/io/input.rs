//! Opening an input: a file or standard input, behind one buffered reader type.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};

use crate::JobError;

/// Where a source reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSpec {
    /// A file path.
    File(String),
    /// Standard input.
    Stdin,
}

impl InputSpec {
    /// The name used in messages: the path, or `<stdin>`.
    pub fn display_name(&self) -> &str {
        match self {
            InputSpec::File(p) => p,
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
}

#[derive(Debug)]
enum ReaderKind {
    File(BufReader<File>),
    Stdin(super::stdin::StdinChunks),
}

const BUFFER: usize = 256 * 1024;

impl InputReader {
    /// Opens `spec`.
    pub fn open(spec: &InputSpec) -> Result<Self, JobError> {
        match spec {
            InputSpec::File(path) => {
                let file = File::open(path).map_err(|source| JobError::Io {
                    action: "cannot open input",
                    path: path.clone(),
                    source,
                })?;
                let total = file.metadata().ok().map(|m| m.len());
                Ok(InputReader {
                    inner: ReaderKind::File(BufReader::with_capacity(BUFFER, file)),
                    consumed: 0,
                    total,
                })
            }
            InputSpec::Stdin => Ok(InputReader {
                inner: ReaderKind::Stdin(super::stdin::StdinChunks::start()),
                consumed: 0,
                total: None,
            }),
        }
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
            ReaderKind::File(_) => Ok(true),
            ReaderKind::Stdin(r) => r.poll(timeout),
        }
    }

    /// Bytes read from the input and not yet consumed, without reading more.
    #[inline]
    pub fn buffer(&self) -> &[u8] {
        match &self.inner {
            ReaderKind::File(r) => r.buffer(),
            ReaderKind::Stdin(r) => r.buffer(),
        }
    }

    /// Whether this input is live (standard input): the job wakes up while it is quiet.
    pub fn is_live(&self) -> bool {
        matches!(self.inner, ReaderKind::Stdin(_))
    }
}

impl Read for InputReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match &mut self.inner {
            ReaderKind::File(r) => r.read(buf)?,
            ReaderKind::Stdin(r) => r.read(buf)?,
        };
        self.consumed += n as u64;
        Ok(n)
    }
}

impl BufRead for InputReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match &mut self.inner {
            ReaderKind::File(r) => r.fill_buf(),
            ReaderKind::Stdin(r) => r.fill_buf(),
        }
    }

    fn consume(&mut self, amt: usize) {
        self.consumed += amt as u64;
        match &mut self.inner {
            ReaderKind::File(r) => r.consume(amt),
            ReaderKind::Stdin(r) => r.consume(amt),
        }
    }
}
