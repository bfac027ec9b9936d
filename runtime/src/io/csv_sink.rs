//! The `csv` sink (also `stdout()`): a header row, then one row per record.

use std::io::Write;

use crate::io::sink_target::SinkTarget;
use crate::io::{OutputSpec, OutputWriter};
use crate::{JobContext, JobError};

/// Rows wait in the sink's own buffer until it holds this much, then go to the output in
/// one write.
const BATCH: usize = 64 * 1024;

/// Writes records as CSV (RFC 4180, as the `csv` crate writes it). Generated code appends a
/// record's fields to one reused buffer, then ends the record. Numbers and booleans never
/// need quotes, so they are formatted straight into the buffer without allocating; a
/// string is quoted when it holds a comma, a quote or a line break, with quotes doubled.
/// A row of one empty field is written `""`, so that it does not read back as a blank line.
pub struct CsvSink {
    target: SinkTarget,
    writer: OutputWriter,
    /// Finished rows, then the row being built from `row_start`.
    buf: Vec<u8>,
    row_start: usize,
    fields: usize,
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
    /// and writes the header row `fields` (on worker 0 of a parallel run).
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
            writer,
            buf: Vec::with_capacity(BATCH + 4096),
            row_start: 0,
            fields: 0,
            ints: itoa::Buffer::new(),
            floats: ryu::Buffer::new(),
        };
        // Worker 0's part comes first in the joined output: it alone has the header.
        if ctx.worker().index == 0 {
            for f in fields {
                sink.field_str(f);
            }
            sink.end_row()?;
        }
        Ok(sink)
    }

    /// Starts the next field: a comma unless it is the row's first.
    #[inline]
    fn separate(&mut self) {
        if self.fields > 0 {
            self.buf.push(b',');
        }
        self.fields += 1;
    }

    /// Adds a field that never needs quotes.
    #[inline]
    fn field_plain(&mut self, bytes: &[u8]) {
        self.separate();
        self.buf.extend_from_slice(bytes);
    }

    /// Adds a string field to the current row.
    #[inline]
    pub fn field_str(&mut self, v: &str) {
        self.separate();
        let bytes = v.as_bytes();
        if bytes
            .iter()
            .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        {
            self.quoted(bytes);
        } else {
            self.buf.extend_from_slice(bytes);
        }
    }

    #[cold]
    fn quoted(&mut self, bytes: &[u8]) {
        self.buf.push(b'"');
        for part in bytes.split_inclusive(|&b| b == b'"') {
            self.buf.extend_from_slice(part);
            if part.last() == Some(&b'"') {
                self.buf.push(b'"');
            }
        }
        self.buf.push(b'"');
    }

    /// Adds a `u64` field.
    #[inline]
    pub fn field_u64(&mut self, v: u64) {
        self.separate();
        self.buf.extend_from_slice(self.ints.format(v).as_bytes());
    }

    /// Adds an `i64` (or timestamp) field.
    #[inline]
    pub fn field_i64(&mut self, v: i64) {
        self.separate();
        self.buf.extend_from_slice(self.ints.format(v).as_bytes());
    }

    /// Adds a timestamp field as RFC 3339 text in UTC (`2024-07-15T16:24:59.120Z`); one
    /// outside the years -9999 to 9999 has no such text and fails the job, naming it.
    #[inline]
    pub fn field_rfc3339(&mut self, ms: i64) -> Result<(), JobError> {
        self.separate();
        if crate::time::text::write_rfc3339(ms, &mut self.buf) {
            return Ok(());
        }
        Err(JobError::Config(format!(
            "sink `{}`: timestamp {ms} is outside the years -9999 to 9999 that RFC 3339 text can show (timestamps: rfc3339)",
            self.target.name()
        )))
    }

    /// Adds an `f64` field, in the shortest form that reads back to the same value.
    #[inline]
    pub fn field_f64(&mut self, v: f64) {
        self.separate();
        self.buf.extend_from_slice(self.floats.format(v).as_bytes());
    }

    /// Adds a `bool` field.
    #[inline]
    pub fn field_bool(&mut self, v: bool) {
        self.field_plain(if v { b"true" } else { b"false" });
    }

    /// Ends the current row and writes it.
    #[inline]
    pub fn end_record(&mut self) -> Result<(), JobError> {
        self.target.wrote();
        self.end_row()
    }

    /// Writes out what waits in the buffer if it has waited longer than the flush interval
    /// (`--flush-every`), so a live job's output appears as it goes.
    pub fn flush_if_due(&mut self) -> Result<(), JobError> {
        if self.target.flush_due() {
            self.write_out()?;
            self.writer.flush().map_err(|e| self.target.io_error(e))?;
        }
        Ok(())
    }

    /// Flushes the output and reports how many records were written.
    pub fn finish(&mut self, ctx: &mut JobContext) -> Result<(), JobError> {
        self.write_out()?;
        self.writer.flush().map_err(|e| self.target.io_error(e))?;
        self.target.report(ctx, &self.writer);
        Ok(())
    }

    #[inline]
    fn end_row(&mut self) -> Result<(), JobError> {
        if self.fields == 1 && self.buf.len() == self.row_start {
            self.buf.extend_from_slice(b"\"\"");
        }
        self.buf.push(b'\n');
        self.fields = 0;
        self.row_start = self.buf.len();
        if self.buf.len() >= BATCH {
            self.write_out()?;
        }
        Ok(())
    }

    /// Hands the finished rows to the output.
    fn write_out(&mut self) -> Result<(), JobError> {
        let result = self.writer.write_all(&self.buf);
        self.buf.clear();
        self.row_start = 0;
        result.map_err(|e| self.target.io_error(e))
    }
}

impl CsvSink {
    /// Resumes from the commit points of a checkpoint written by another number of workers
    /// (see `SinkTarget::resume_rescaled`).
    pub(crate) fn resume_rescaled(
        &mut self,
        points: &[crate::io::SinkPosition],
        to: &crate::checkpoint::Rescale,
    ) -> Result<(), JobError> {
        self.buf.clear();
        self.row_start = 0;
        self.fields = 0;
        self.target.resume_rescaled(&mut self.writer, points, to)
    }

    /// Resumes at `point`, a commit point of a checkpoint (see `SinkTarget::resume_at`).
    pub(crate) fn resume_at(&mut self, point: crate::io::SinkPosition) -> Result<(), JobError> {
        // The header row of a sink just made is in the part already.
        self.buf.clear();
        self.row_start = 0;
        self.fields = 0;
        self.target.resume_at(&mut self.writer, point)
    }
}

impl crate::io::Sink for CsvSink {
    fn commit_point(&mut self, sync: bool) -> Result<crate::io::SinkPosition, JobError> {
        self.write_out()?;
        let bytes = self.writer.commit_point(sync);
        self.target.commit_point(bytes)
    }

    fn abort_to(&mut self, point: crate::io::SinkPosition) -> Result<(), JobError> {
        // Rows not yet written out are after every commit point.
        self.buf.clear();
        self.row_start = 0;
        self.fields = 0;
        self.target.abort_to(&mut self.writer, point)
    }
}

impl Drop for CsvSink {
    /// Rows already written stay written when the job fails: standard output gets them
    /// (a file sink's temporary file is discarded anyway), as a `BufWriter` would do.
    fn drop(&mut self) {
        let _ = self.writer.write_all(&self.buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SPEC: crate::JobSpec = crate::JobSpec::bare(&[], &["out"]);

    /// What the sink writes for `rows` of string fields.
    fn written(rows: &[Vec<String>]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let spec = OutputSpec::File(path.display().to_string());
        let args = crate::job::JobArgs {
            memory: 1 << 20,
            inputs: Vec::new(),
            outputs: Vec::new(),
            stats: false,
            stats_json: None,
            flush_every: crate::job::DEFAULT_FLUSH,
            spill_dir: None,
            cluster: crate::parallel::Cluster::default(),
            clock: crate::time::ClockMode::System,
            checkpoint: None,
            owns_process: true,
            events: None,
            ui: None,
        };
        let mut ctx = JobContext::new(&SPEC, args).unwrap();
        let width = rows.first().map_or(1, Vec::len);
        let header: Vec<String> = (0..width).map(|i| format!("c{i}")).collect();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let mut sink = CsvSink::create(&ctx, "out", spec, &header).unwrap();
        for row in rows {
            for f in row {
                sink.field_str(f);
            }
            sink.end_record().unwrap();
        }
        sink.finish(&mut ctx).unwrap();
        ctx.finish(Ok(())).unwrap();
        std::fs::read(&path).unwrap()
    }

    /// The same rows written by the `csv` crate.
    fn reference(rows: &[Vec<String>]) -> Vec<u8> {
        let width = rows.first().map_or(1, Vec::len);
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record((0..width).map(|i| format!("c{i}"))).unwrap();
        for row in rows {
            w.write_record(row).unwrap();
        }
        w.into_inner().unwrap()
    }

    #[test]
    fn quotes_what_needs_quotes_and_nothing_else() {
        let rows = vec![
            vec!["plain".to_string(), "a,b".to_string()],
            vec!["say \"hi\"".to_string(), "two\nlines".to_string()],
            vec!["".to_string(), "cr\r".to_string()],
        ];
        assert_eq!(
            String::from_utf8(written(&rows)).unwrap(),
            "c0,c1\nplain,\"a,b\"\n\"say \"\"hi\"\"\",\"two\nlines\"\n,\"cr\r\"\n"
        );
    }

    #[test]
    fn a_sink_taken_back_to_a_commit_point_writes_on_from_there() {
        use crate::io::Sink;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let spec = OutputSpec::File(path.display().to_string());
        let args = crate::job::JobArgs::parse(Vec::<String>::new(), &SPEC).unwrap();
        let mut ctx = JobContext::new(&SPEC, args).unwrap();
        let mut sink = CsvSink::create(&ctx, "out", spec, &["n"]).unwrap();
        let row = |sink: &mut CsvSink, n: u64| {
            sink.field_u64(n);
            sink.end_record().unwrap();
        };
        row(&mut sink, 1);
        row(&mut sink, 2);
        let point = sink.commit_point(true).unwrap();
        assert_eq!(
            point,
            crate::io::SinkPosition {
                records: 2,
                bytes: 6
            }
        );
        for n in 3..2000 {
            row(&mut sink, n); // past the write-out batch: some reach the file
        }
        let past = crate::io::SinkPosition {
            records: 9999,
            bytes: 1 << 40,
        };
        let err = sink.abort_to(past).unwrap_err().to_string();
        assert!(err.contains("not a commit point"), "{err}");
        sink.abort_to(point).unwrap();
        row(&mut sink, 9);
        sink.finish(&mut ctx).unwrap();
        ctx.finish(Ok(())).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "n\n1\n2\n9\n");
    }

    #[test]
    fn a_row_of_one_empty_field_is_not_a_blank_line() {
        let rows = vec![vec![String::new()], vec!["x".to_string()]];
        assert_eq!(written(&rows), b"c0\n\"\"\nx\n");
    }

    proptest! {
        #[test]
        fn writes_what_the_csv_crate_writes(
            width in 1usize..4,
            cells in proptest::collection::vec("[a-c,\"\\r\\n ]{0,4}", 0..40),
        ) {
            let rows: Vec<Vec<String>> = cells.chunks_exact(width).map(<[String]>::to_vec).collect();
            prop_assert_eq!(written(&rows), reference(&rows));
        }
    }
}
