//! The `csv` sink (also `stdout()`): a header row, then one row per record.

use crate::io::sink_target::SinkTarget;
use crate::io::{OutputSpec, OutputWriter};
use crate::{JobContext, JobError};

/// Writes records as CSV through a buffered writer. Generated code pushes a record's fields
/// into one reused row, then ends the record; numbers are formatted without allocating.
pub struct CsvSink {
    target: SinkTarget,
    writer: csv::Writer<OutputWriter>,
    row: csv::ByteRecord,
    ints: itoa::Buffer,
    floats: ryu::Buffer,
}

impl std::fmt::Debug for CsvSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvSink")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl CsvSink {
    /// Opens sink `name` writing to `default` unless `--output name=PATH` says otherwise,
    /// and writes the header row `fields`.
    pub fn create(
        ctx: &JobContext,
        name: &str,
        default: OutputSpec,
        fields: &[&str],
    ) -> Result<Self, JobError> {
        let spec = ctx.output(name, default);
        let writer = OutputWriter::create(&spec, ctx.outputs())?;
        let mut sink = CsvSink {
            target: SinkTarget::new(ctx, name, &spec),
            writer: csv::WriterBuilder::new()
                .buffer_capacity(64 * 1024)
                .from_writer(writer),
            row: csv::ByteRecord::new(),
            ints: itoa::Buffer::new(),
            floats: ryu::Buffer::new(),
        };
        for f in fields {
            sink.row.push_field(f.as_bytes());
        }
        sink.write_row()?;
        Ok(sink)
    }

    /// Adds a string field to the current row.
    #[inline]
    pub fn field_str(&mut self, v: &str) {
        self.row.push_field(v.as_bytes());
    }

    /// Adds a `u64` field.
    #[inline]
    pub fn field_u64(&mut self, v: u64) {
        self.row.push_field(self.ints.format(v).as_bytes());
    }

    /// Adds an `i64` (or timestamp) field.
    #[inline]
    pub fn field_i64(&mut self, v: i64) {
        self.row.push_field(self.ints.format(v).as_bytes());
    }

    /// Adds an `f64` field, in the shortest form that reads back to the same value.
    #[inline]
    pub fn field_f64(&mut self, v: f64) {
        self.row.push_field(self.floats.format(v).as_bytes());
    }

    /// Adds a `bool` field.
    #[inline]
    pub fn field_bool(&mut self, v: bool) {
        self.row.push_field(if v { b"true" } else { b"false" });
    }

    /// Ends the current row and writes it.
    #[inline]
    pub fn end_record(&mut self) -> Result<(), JobError> {
        self.target.wrote();
        self.write_row()
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
        self.target.report(ctx);
        Ok(())
    }

    #[inline]
    fn write_row(&mut self) -> Result<(), JobError> {
        let result = self.writer.write_byte_record(&self.row);
        self.row.clear();
        result.map_err(|e| {
            let io = match e.into_kind() {
                csv::ErrorKind::Io(io) => io,
                other => std::io::Error::other(format!("{other:?}")),
            };
            self.target.io_error(io)
        })
    }
}
