//! The `jsonl` sink: one JSON object per line.

use std::io::Write;

use crate::io::{OutputSpec, OutputWriter};
use crate::{JobContext, JobError};

/// Writes each record as one JSON object on its own line, through a buffered writer.
#[derive(Debug)]
pub struct JsonlSink {
    name: String,
    target: String,
    writer: OutputWriter,
    records: u64,
    report: bool,
}

impl JsonlSink {
    /// Opens sink `name` writing to `default` unless `--output name=PATH` says otherwise.
    pub fn create(ctx: &JobContext, name: &str, default: OutputSpec) -> Result<Self, JobError> {
        let spec = ctx.output(name, default);
        Ok(JsonlSink {
            name: name.to_string(),
            target: spec.display_name().to_string(),
            writer: OutputWriter::create(&spec)?,
            records: 0,
            report: spec != OutputSpec::Stdout,
        })
    }

    /// Writes one record.
    #[inline]
    pub fn write<T: serde::Serialize>(&mut self, record: &T) -> Result<(), JobError> {
        self.records += 1;
        serde_json::to_writer(&mut self.writer, record)
            .map_err(std::io::Error::other)
            .and_then(|()| self.writer.write_all(b"\n"))
            .map_err(|e| self.io_error(e))
    }

    /// Flushes the output and reports how many records were written.
    pub fn finish(&mut self, ctx: &mut JobContext) -> Result<(), JobError> {
        self.writer.flush().map_err(|e| self.io_error(e))?;
        if self.report {
            ctx.report(format!(
                "sink `{}`: wrote {} record(s) to {}",
                self.name, self.records, self.target
            ));
        }
        Ok(())
    }

    #[cold]
    fn io_error(&self, source: std::io::Error) -> JobError {
        JobError::Io {
            action: "cannot write output",
            path: self.target.clone(),
            source,
        }
    }
}
