//! Opening an output: a file (parent folders created) or standard output, buffered.

use std::fs::File;
use std::io::{self, BufWriter, Write};

use crate::io::PendingOutputs;
use crate::JobError;

/// Where a sink writes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputSpec {
    /// A file path.
    File(String),
    /// Standard output.
    Stdout,
}

/// Whether `path` names this process's standard output (`/dev/stdout`, `/dev/fd/1`,
/// `/proc/self/fd/1`): a sink given it writes standard output, as with `-`. Written as a
/// file it would be a temporary file renamed over the link, which replaces `/dev/stdout`
/// itself when standard output is a regular file.
pub fn names_standard_output(path: &str) -> bool {
    matches!(path, "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1")
}

impl OutputSpec {
    /// The output at `path`: standard output where the path names it
    /// ([`names_standard_output`]), else the file.
    pub fn at(path: &str) -> OutputSpec {
        if names_standard_output(path) {
            OutputSpec::Stdout
        } else {
            OutputSpec::File(path.to_string())
        }
    }

    /// The name used in messages: the path, or `<stdout>`.
    pub fn display_name(&self) -> &str {
        match self {
            OutputSpec::File(p) => p,
            OutputSpec::Stdout => "<stdout>",
        }
    }
}

/// A buffered writer to a file or standard output; an enum so writes are statically
/// dispatched.
#[derive(Debug)]
pub enum OutputWriter {
    /// A file.
    File(BufWriter<File>),
    /// A device, named pipe or descriptor, written as it goes: like standard output, it
    /// cannot take back what it wrote.
    Stream(BufWriter<File>),
    /// Standard output.
    Stdout(BufWriter<io::Stdout>),
}

const BUFFER: usize = 256 * 1024;

impl OutputWriter {
    /// Opens `spec` for writing. A file is written as a temporary file beside it, which
    /// `pending` renames over it when the job succeeds.
    pub fn create(spec: &OutputSpec, pending: &PendingOutputs) -> Result<Self, JobError> {
        match spec {
            OutputSpec::File(path) => {
                let (file, stream) = pending.open(path)?;
                let writer = BufWriter::with_capacity(BUFFER, file);
                Ok(if stream {
                    OutputWriter::Stream(writer)
                } else {
                    OutputWriter::File(writer)
                })
            }
            // Worker 0 of a parallel run writes standard output; the others write parts
            // that go out after it, at commit.
            OutputSpec::Stdout => Ok(match pending.stdout_part()? {
                Some(part) => OutputWriter::File(BufWriter::with_capacity(BUFFER, part)),
                None => OutputWriter::Stdout(BufWriter::with_capacity(BUFFER, io::stdout())),
            }),
        }
    }
}

impl OutputWriter {
    /// Whether it can be cut back to a commit point: a file can, a stream cannot.
    pub fn takes_back(&self) -> bool {
        matches!(self, OutputWriter::File(_))
    }

    /// Writes out what is buffered, fsynced with `sync` (a checkpoint written in the
    /// background fsyncs the file itself before it completes); the bytes of a file written
    /// so far, `None` for standard output or another stream (which cannot be cut back).
    pub fn commit_point(&mut self, sync: bool) -> io::Result<Option<u64>> {
        use std::io::Seek;
        self.flush()?;
        match self {
            // On disk before a checkpoint that counts on it is complete.
            OutputWriter::File(w) => {
                let file = w.get_mut();
                if sync {
                    file.sync_data()?;
                }
                file.stream_position().map(Some)
            }
            OutputWriter::Stream(_) | OutputWriter::Stdout(_) => Ok(None),
        }
    }

    /// Cuts a file back to its first `bytes`, to write on from there; `false` (nothing
    /// done) for standard output or another stream.
    pub fn cut_back(&mut self, bytes: u64) -> io::Result<bool> {
        use std::io::Seek;
        match self {
            OutputWriter::File(w) => {
                w.flush()?;
                let file = w.get_mut();
                // What the file holds: more than this run wrote when it resumes a part
                // an earlier run wrote.
                let written = file.metadata()?.len().max(file.stream_position()?);
                if bytes > written {
                    // Cutting "back" past the end would pad the output with zeros.
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("byte {bytes} is past the {written} bytes written: not a commit point of this output"),
                    ));
                }
                file.set_len(bytes)?;
                file.seek(io::SeekFrom::Start(bytes))?;
                Ok(true)
            }
            OutputWriter::Stream(_) | OutputWriter::Stdout(_) => Ok(false),
        }
    }
}

impl Write for OutputWriter {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            OutputWriter::File(w) | OutputWriter::Stream(w) => w.write(buf),
            OutputWriter::Stdout(w) => w.write(buf),
        }
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            OutputWriter::File(w) | OutputWriter::Stream(w) => w.write_all(buf),
            OutputWriter::Stdout(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            OutputWriter::File(w) | OutputWriter::Stream(w) => w.flush(),
            OutputWriter::Stdout(w) => w.flush(),
        }
    }
}
