//! The `jsonl` sink: one JSON object per line.

use std::io::Write;

use crate::io::sink_target::SinkTarget;
use crate::io::{OutputSpec, OutputWriter};
use crate::{JobContext, JobError};

/// Writes each record as one JSON object on its own line, through a buffered writer.
#[derive(Debug)]
pub struct JsonlSink {
    target: SinkTarget,
    writer: OutputWriter,
}

impl JsonlSink {
    /// Opens sink `name` writing to `default` unless `--output name=PATH` says otherwise.
    pub fn create(ctx: &JobContext, name: &str, default: OutputSpec) -> Result<Self, JobError> {
        let spec = ctx.output(name, default);
        Ok(JsonlSink {
            target: SinkTarget::new(ctx, name, &spec),
            writer: OutputWriter::create(&spec, ctx.outputs())?,
        })
    }

    /// Writes one record.
    #[inline]
    pub fn write<T: serde::Serialize>(&mut self, record: &T) -> Result<(), JobError> {
        self.target.wrote();
        serde_json::to_writer(&mut self.writer, record)
            .map_err(std::io::Error::other)
            .and_then(|()| self.writer.write_all(b"\n"))
            .map_err(|e| self.target.io_error(e))
    }

    /// Writes `record` with its timestamp fields `stamps` as RFC 3339 text in UTC
    /// (`timestamps: rfc3339`).
    pub fn write_with_text_times<T: serde::Serialize>(
        &mut self,
        record: &T,
        stamps: &[&str],
    ) -> Result<(), JobError> {
        let mut value =
            serde_json::to_value(record).map_err(|e| JobError::Config(e.to_string()))?;
        for name in stamps {
            let Some(field) = value.get_mut(*name) else {
                continue;
            };
            let Some(ms) = field.as_i64() else {
                continue;
            };
            let mut text = Vec::new();
            if !crate::time::text::write_rfc3339(ms, &mut text) {
                return Err(JobError::Config(format!(
                    "field `{name}`: timestamp {ms} is outside the years -9999 to 9999 that RFC 3339 text can show (timestamps: rfc3339)"
                )));
            }
            *field = serde_json::Value::String(String::from_utf8_lossy(&text).into_owned());
        }
        self.write(&value)
    }

    /// Writes out what waits in the buffer if it has waited longer than the flush interval
    /// (`--flush-every`), so a live job's output appears as it goes.
    pub fn flush_if_due(&mut self) -> Result<(), JobError> {
        if self.target.flush_due() {
            self.writer.flush().map_err(|e| self.target.io_error(e))?;
        }
        Ok(())
    }

    /// Flushes the output and reports how many records were written.
    pub fn finish(&mut self, ctx: &mut JobContext) -> Result<(), JobError> {
        self.writer.flush().map_err(|e| self.target.io_error(e))?;
        self.target.report(ctx, &self.writer);
        Ok(())
    }
}

impl JsonlSink {
    /// Resumes from the commit points of a checkpoint written by another number of workers
    /// (see `SinkTarget::resume_rescaled`).
    pub(crate) fn resume_rescaled(
        &mut self,
        points: &[crate::io::SinkPosition],
        to: &crate::checkpoint::Rescale,
    ) -> Result<(), JobError> {
        self.target.resume_rescaled(&mut self.writer, points, to)
    }

    /// Resumes at `point`, a commit point of a checkpoint (see `SinkTarget::resume_at`).
    pub(crate) fn resume_at(&mut self, point: crate::io::SinkPosition) -> Result<(), JobError> {
        self.target.resume_at(&mut self.writer, point)
    }
}

impl crate::io::Sink for JsonlSink {
    fn commit_point(&mut self, sync: bool) -> Result<crate::io::SinkPosition, JobError> {
        let bytes = self.writer.commit_point(sync);
        self.target.commit_point(bytes)
    }

    fn abort_to(&mut self, point: crate::io::SinkPosition) -> Result<(), JobError> {
        self.target.abort_to(&mut self.writer, point)
    }
}
