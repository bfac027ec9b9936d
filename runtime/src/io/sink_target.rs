//! What every sink keeps besides its writer: its name, where it writes, and a record count
//! for the end-of-run report.

use crate::io::OutputSpec;
use crate::{JobContext, JobError};

/// A sink's name, destination and count.
#[derive(Debug)]
pub(crate) struct SinkTarget {
    name: String,
    target: String,
    /// Records written so far.
    pub(crate) records: u64,
    /// Whether it writes standard output: not reported (the records are there to see),
    /// and its reader may go away.
    stdout: bool,
    /// Records written since the last flush, and when that was.
    unflushed: bool,
    last_flush: std::time::Instant,
    flush_every: std::time::Duration,
}

impl SinkTarget {
    pub(crate) fn new(ctx: &JobContext, name: &str, spec: &OutputSpec) -> Self {
        SinkTarget {
            name: name.to_string(),
            target: spec.display_name().to_string(),
            records: 0,
            stdout: *spec == OutputSpec::Stdout,
            unflushed: false,
            last_flush: std::time::Instant::now(),
            flush_every: ctx.flush_every(),
        }
    }

    /// The sink's name, for messages.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Counts a record written to the sink's buffer.
    #[inline]
    pub(crate) fn wrote(&mut self) {
        self.records += 1;
        self.unflushed = true;
    }

    /// Whether records wait in the buffer longer than the flush interval; if so, they are
    /// taken to be flushed now.
    pub(crate) fn flush_due(&mut self) -> bool {
        if !self.unflushed || self.last_flush.elapsed() < self.flush_every {
            return false;
        }
        self.unflushed = false;
        self.last_flush = std::time::Instant::now();
        true
    }

    /// A write failure, naming the destination; standard output or a pipe closed by its
    /// reader is not a failure but the end of the job.
    #[cold]
    pub(crate) fn io_error(&self, source: std::io::Error) -> JobError {
        // Only a pipe says EPIPE: standard output's reader or a named pipe's went away
        // (`| head`, `>(head)`).
        if source.kind() == std::io::ErrorKind::BrokenPipe {
            return JobError::OutputClosed;
        }
        JobError::Io {
            action: "cannot write output",
            path: self.target.clone(),
            source,
        }
    }

    /// Where the output stands, given the bytes `writer` reported at its commit point.
    pub(crate) fn commit_point(
        &self,
        bytes: std::io::Result<Option<u64>>,
    ) -> Result<crate::io::SinkPosition, JobError> {
        let bytes = bytes.map_err(|e| self.io_error(e))?;
        Ok(crate::io::SinkPosition {
            records: self.records,
            bytes: bytes.unwrap_or(0),
        })
    }

    /// Cuts `writer` back to `point`, counting its records again.
    pub(crate) fn abort_to(
        &mut self,
        writer: &mut crate::io::OutputWriter,
        point: crate::io::SinkPosition,
    ) -> Result<(), JobError> {
        if !writer.cut_back(point.bytes).map_err(|e| self.io_error(e))? {
            let what = if self.stdout {
                "standard output"
            } else {
                &self.target
            };
            return Err(JobError::Config(format!(
                "sink `{}` writes {what}, which cannot take back what it wrote",
                self.name
            )));
        }
        self.records = point.records;
        Ok(())
    }

    /// Resumes at `point` of a checkpoint: the output is cut back there, but standard
    /// output or another stream (a device, pipe or descriptor), already read, keeps what
    /// it has (it is at-least-once).
    pub(crate) fn resume_at(
        &mut self,
        writer: &mut crate::io::OutputWriter,
        point: crate::io::SinkPosition,
    ) -> Result<(), JobError> {
        if !writer.takes_back() {
            self.records = point.records;
            return Ok(());
        }
        self.abort_to(writer, point).map_err(|e| match e {
            JobError::Io { source, .. } if source.kind() == std::io::ErrorKind::InvalidInput => {
                JobError::CheckpointMismatch(format!(
                    "the part of output `{}` beside {} holds less than the checkpoint \
                     committed ({} bytes): it was changed or removed since",
                    self.name, self.target, point.bytes
                ))
            }
            other => other,
        })
    }

    /// Resumes from the commit points `points` of a checkpoint written by another number of
    /// workers (one per worker, in order): worker 0's part becomes what each of their
    /// parts committed, joined in their order (their records counted), and the others'
    /// parts start empty. Their parts stay as they were, for a run killed meanwhile.
    pub(crate) fn resume_rescaled(
        &mut self,
        writer: &mut crate::io::OutputWriter,
        points: &[crate::io::SinkPosition],
        to: &crate::checkpoint::Rescale,
    ) -> Result<(), JobError> {
        let total = points.iter().map(|p| p.records).sum();
        let records = if to.worker == 0 { total } else { 0 };
        if self.stdout {
            self.records = records;
            return Ok(());
        }
        self.abort_to(writer, crate::io::SinkPosition::default())?;
        if to.worker == 0 {
            for (w, point) in points.iter().enumerate() {
                let part = crate::io::commit::part_path(
                    std::path::Path::new(&self.target),
                    w,
                    points.len(),
                );
                self.copy_part(writer, &part, point.bytes)?;
            }
        }
        self.records = records;
        Ok(())
    }

    /// Writes the first `bytes` of `part` to `writer`.
    fn copy_part(
        &self,
        writer: &mut crate::io::OutputWriter,
        part: &std::path::Path,
        bytes: u64,
    ) -> Result<(), JobError> {
        use std::io::Read;
        let short = || {
            JobError::CheckpointMismatch(format!(
                "the part {} of output `{}` holds less than the checkpoint committed ({bytes} \
                 bytes): it was changed or removed since",
                part.display(),
                self.name
            ))
        };
        let file = std::fs::File::open(part).map_err(|_| short())?;
        let copied = std::io::copy(&mut file.take(bytes), writer).map_err(|e| self.io_error(e))?;
        if copied < bytes {
            return Err(short());
        }
        Ok(())
    }

    /// Adds "wrote N records to X" to the run's report (`writer`: whether X is a file or
    /// a stream).
    pub(crate) fn report(&self, ctx: &mut JobContext, writer: &crate::io::OutputWriter) {
        if !self.stdout {
            ctx.report_sink(&self.name, &self.target, self.records, !writer.takes_back());
        }
    }
}
