//! The `csv` source: delimited records, with or without a header row.

use crate::io::bad_records::BadRecords;
use crate::io::{BadRecordPolicy, FieldError, InputReader, InputSpec, SourceProgress};
use crate::{JobContext, JobError};

/// Reads CSV records into one reused `ByteRecord`, so a record costs no allocation.
///
/// With a header, columns are matched to schema fields by name (in any order; columns the
/// schema does not name are read past, and a name the header gives twice is an error);
/// without one, the schema's fields are the columns in order. A row with fewer fields than
/// the schema needs, or more than the header (or schema) has, is a bad record.
#[derive(Debug)]
pub struct CsvSource {
    reader: csv::Reader<InputReader>,
    record: csv::ByteRecord,
    columns: Vec<usize>,
    needed: usize,
    /// Fields a row has: the header's, or the schema's without one; more are refused.
    width: usize,
    delimiter: u8,
    bad: BadRecords,
    progress: SourceProgress,
    waker: super::stdin::Waker,
    file: String,
}

/// One CSV record, with its columns arranged in schema order.
#[derive(Debug, Clone, Copy)]
pub struct CsvRow<'r> {
    record: &'r csv::ByteRecord,
    columns: &'r [usize],
}

impl CsvSource {
    /// Opens source `name` with schema `fields`, reading `default` unless
    /// `--input name=PATH` says otherwise.
    pub fn open(
        ctx: &JobContext,
        name: &str,
        default: InputSpec,
        policy: BadRecordPolicy,
        header: bool,
        delimiter: u8,
        fields: &[&str],
    ) -> Result<Self, JobError> {
        let spec = ctx.input(name, default);
        let input = InputReader::open(&spec)?;
        let progress = SourceProgress::new(name, input.total(), ctx.progress_enabled());
        let waker = super::stdin::Waker::new(&input);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .buffer_capacity(256 * 1024)
            .from_reader(input);
        let file = spec.display_name().to_string();
        let mut columns: Vec<usize> = (0..fields.len()).collect();
        let mut header_width = fields.len();
        if header {
            let mut head = csv::ByteRecord::new();
            let has = reader
                .read_byte_record(&mut head)
                .map_err(|e| csv_error(&file, e))?;
            if has {
                columns = match_header(name, &file, &head, fields)?;
                header_width = head.len();
            }
        }
        let needed = columns.iter().max().map_or(0, |m| m + 1);
        let width = if header { header_width } else { fields.len() };
        Ok(CsvSource {
            reader,
            record: csv::ByteRecord::new(),
            columns,
            needed,
            width,
            delimiter,
            bad: BadRecords::new(name, &file, policy, ctx.outputs())?,
            progress,
            waker,
            file,
        })
    }

    /// The next record, or `None` at the end of the input. Records with too few fields are
    /// refused under the source's policy.
    #[inline]
    pub fn next_record(&mut self) -> Result<Option<CsvRow<'_>>, JobError> {
        loop {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| csv_error(&self.file, e))?;
            if !more {
                self.progress.finish();
                return Ok(None);
            }
            self.progress.record(self.reader.position().byte());
            let found = self.record.len();
            if found >= self.needed && found <= self.width {
                break;
            }
            if found == 1 && self.record[0].is_empty() {
                continue; // a blank line
            }
            let message = if found > self.width {
                format!(
                    "expected {} fields, found {found}: extra fields",
                    self.width
                )
            } else {
                format!("expected at least {} fields, found {found}", self.needed)
            };
            let raw = raw(&self.record, self.delimiter);
            self.bad.reject(self.line(), &raw, &message)?;
        }
        Ok(Some(CsvRow {
            record: &self.record,
            columns: &self.columns,
        }))
    }

    /// Refuses the current record (a field did not decode) under the source's policy.
    #[cold]
    pub fn reject(&mut self, error: FieldError) -> Result<(), JobError> {
        let raw = raw(&self.record, self.delimiter);
        self.bad.reject(self.line(), &raw, &error.message)
    }

    /// Whether the job should wake up (fire processing-time windows, flush sinks) before
    /// the next record: only on live input, when it is quiet or a tick has passed.
    #[inline]
    pub fn wake_up(&mut self) -> Result<bool, JobError> {
        if !self.waker.is_live() {
            return Ok(false);
        }
        // Bytes the CSV reader took from the input but has not parsed are read without
        // waiting.
        let buffered = self.reader.position().byte() < self.reader.get_ref().consumed();
        let (reader, waker) = (&mut self.reader, &mut self.waker);
        waker
            .due(reader.get_mut(), buffered)
            .map_err(|source| JobError::Io {
                action: "cannot read CSV input",
                path: self.file.clone(),
                source,
            })
    }

    /// Refuses the current record for `message` (its event time is out of range) under the
    /// source's policy.
    #[cold]
    pub fn reject_message(&mut self, message: &str) -> Result<(), JobError> {
        self.reject(FieldError::other(message))
    }

    /// `e`, with the place of the current record where it names one.
    #[cold]
    pub fn locate(&self, e: JobError) -> JobError {
        e.at_record(|| format!("{}:{}", self.file, self.line()))
    }

    /// Ends the source, adding its bad-record count to the run's report.
    pub fn finish(mut self, ctx: &mut JobContext) -> Result<(), JobError> {
        self.progress.finish();
        if let Some(line) = self.bad.finish()? {
            ctx.report(line);
        }
        Ok(())
    }

    fn line(&self) -> u64 {
        self.record.position().map_or(0, |p| p.line())
    }
}

impl<'r> CsvRow<'r> {
    #[inline]
    fn field(&self, i: usize) -> &'r [u8] {
        &self.record[self.columns[i]]
    }

    /// Schema field `i` (named `name`) as a string.
    #[inline]
    pub fn str(&self, i: usize, name: &str) -> Result<&'r str, FieldError> {
        let raw = self.field(i);
        std::str::from_utf8(raw).map_err(|_| FieldError::parse(name, raw, "UTF-8 text"))
    }

    /// Schema field `i` as a `u64`.
    #[inline]
    pub fn u64(&self, i: usize, name: &str) -> Result<u64, FieldError> {
        self.integer(i, name, "u64")
    }

    /// Schema field `i` as an `i64`.
    #[inline]
    pub fn i64(&self, i: usize, name: &str) -> Result<i64, FieldError> {
        self.integer(i, name, "i64")
    }

    /// Schema field `i` as a timestamp (milliseconds since the Unix epoch).
    #[inline]
    pub fn timestamp(&self, i: usize, name: &str) -> Result<i64, FieldError> {
        self.integer(i, name, "timestamp (milliseconds since the epoch)")
    }

    /// An integer read from the field's bytes: digits with an optional sign, surrounded by
    /// optional spaces, and nothing else.
    #[inline]
    fn integer<T>(&self, i: usize, name: &str, ty: &str) -> Result<T, FieldError>
    where
        T: atoi::FromRadix10SignedChecked,
    {
        let raw = self.field(i);
        let digits = raw.trim_ascii();
        match T::from_radix_10_signed_checked(digits) {
            (Some(v), used) if used == digits.len() && used > 0 => Ok(v),
            _ => Err(FieldError::parse(name, raw, ty)),
        }
    }

    /// Schema field `i` as an `f64`.
    #[inline]
    pub fn f64(&self, i: usize, name: &str) -> Result<f64, FieldError> {
        self.parse(i, name, "f64")
    }

    /// Schema field `i` as a `bool` (`true`/`false`, any case, or `1`/`0`).
    #[inline]
    pub fn bool(&self, i: usize, name: &str) -> Result<bool, FieldError> {
        let raw = self.field(i);
        match raw.trim_ascii() {
            b"1" => Ok(true),
            b"0" => Ok(false),
            t if t.eq_ignore_ascii_case(b"true") => Ok(true),
            t if t.eq_ignore_ascii_case(b"false") => Ok(false),
            _ => Err(FieldError::parse(name, raw, "bool")),
        }
    }

    #[inline]
    fn parse<T: std::str::FromStr>(&self, i: usize, name: &str, ty: &str) -> Result<T, FieldError> {
        let raw = self.field(i);
        std::str::from_utf8(raw.trim_ascii())
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| FieldError::parse(name, raw, ty))
    }
}

fn match_header(
    source: &str,
    file: &str,
    head: &csv::ByteRecord,
    fields: &[&str],
) -> Result<Vec<usize>, JobError> {
    let names: Vec<String> = head
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = if i == 0 {
                h.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(h)
            } else {
                h
            };
            String::from_utf8_lossy(h).trim().to_string()
        })
        .collect();
    let error = |message: String| JobError::Header {
        source_name: source.to_string(),
        file: file.to_string(),
        message,
        header: names.join(","),
    };
    fields
        .iter()
        .map(|f| {
            let mut at = names
                .iter()
                .enumerate()
                .filter(|(_, n)| n == f)
                .map(|(i, _)| i);
            match (at.next(), at.next()) {
                (Some(i), None) => Ok(i),
                (Some(_), Some(_)) => Err(error(format!("names column `{f}` twice"))),
                (None, _) => Err(error(format!("has no column `{f}` for the schema's field"))),
            }
        })
        .collect()
}

/// The record as CSV again, quoted where needed, so a dead letter can be read back as the
/// row it was (`4,"x,y",bad` stays so).
fn raw(record: &csv::ByteRecord, delimiter: u8) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to memory fails only for a record the reader itself produced: never.
    let _ = w.write_byte_record(record);
    let mut out = w.into_inner().unwrap_or_default();
    if out.last() == Some(&b'\n') {
        out.pop();
    }
    out
}

fn csv_error(file: &str, e: csv::Error) -> JobError {
    let line = e.position().map_or(0, |p| p.line());
    JobError::Io {
        action: "cannot read CSV input",
        path: format!("{file}:{line}"),
        source: std::io::Error::other(e.to_string()),
    }
}
