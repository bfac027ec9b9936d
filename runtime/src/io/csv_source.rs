//! The `csv` source: delimited records, with or without a header row.

use crate::io::bad_records::BadRecords;
use crate::io::csv_records::{CsvFields, CsvRecords};
use crate::io::decimal::short_integer;
use crate::io::{
    BadRecordPolicy, FieldError, InputPart, InputReader, InputSpec, Records, SourceProgress,
};
use crate::{JobContext, JobError};

/// Reads CSV records through [`CsvRecords`], so a record costs no allocation.
///
/// With a header, columns are matched to schema fields by name (in any order; columns the
/// schema does not name are read past, and a name the header gives twice is an error);
/// without one, the schema's fields are the columns in order. A row with fewer fields than
/// the schema needs, or more than the header (or schema) has, is a bad record.
#[derive(Debug)]
pub struct CsvSource {
    records: CsvRecords,
    columns: Vec<usize>,
    needed: usize,
    /// Fields a row has: the header's, or the schema's without one; more are refused.
    width: usize,
    bad: BadRecords,
    progress: SourceProgress,
    waker: super::live::Waker,
    file: String,
    /// The source's name in the pipeline.
    name: String,
}

/// One CSV record, with its columns arranged in schema order.
#[derive(Debug, Clone, Copy)]
pub struct CsvRow<'r> {
    fields: CsvFields<'r>,
    columns: &'r [usize],
}

impl CsvSource {
    /// Records read so far (refused ones included), for the live page.
    fn records_read(&self) -> u64 {
        self.progress.records()
    }

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
        let part = ctx.input_part(&spec, Records::Csv(delimiter));
        let input = InputReader::open_part(&spec, part, ctx.input_stop())?;
        // A slice after the first starts past the header: it reads the header on its own.
        let header_apart = header && input.slice_start() > 0;
        let progress = SourceProgress::new(name, input.total(), ctx.progress_memory())
            .with_checkpoints(ctx.checkpoint_stats());
        let waker = super::live::Waker::new(&input);
        let mut records = CsvRecords::new(input, delimiter);
        let file = spec.display_name().to_string();
        let read_error = |source| JobError::Io {
            action: "cannot read CSV input",
            path: file.clone(),
            source,
        };
        let mut columns: Vec<usize> = (0..fields.len()).collect();
        let mut header_width = fields.len();
        if header_apart {
            let mut whole = CsvRecords::new(InputReader::open(&spec, ctx.input_stop())?, delimiter);
            if whole.advance().map_err(read_error)? {
                let head = whole.fields();
                columns = match_header(name, &file, &head, fields)?;
                header_width = head.len();
            }
        // A worker that reads nothing of the input has no header to read either.
        } else if header && part != InputPart::Nothing && records.advance().map_err(read_error)? {
            let head = records.fields();
            columns = match_header(name, &file, &head, fields)?;
            header_width = head.len();
        }
        let needed = columns.iter().max().map_or(0, |m| m + 1);
        let width = if header { header_width } else { fields.len() };
        Ok(CsvSource {
            records,
            columns,
            needed,
            width,
            bad: BadRecords::new(name, &file, policy, ctx.outputs())?,
            progress,
            waker,
            file,
            name: name.to_string(),
        })
    }

    /// The next record, or `None` at the end of the input. Records with too few fields are
    /// refused under the source's policy.
    #[inline(always)]
    pub fn next_record(&mut self) -> Result<Option<CsvRow<'_>>, JobError> {
        loop {
            let more = self.records.advance().map_err(|source| JobError::Io {
                action: "cannot read CSV input",
                path: format!("{}:{}", self.file, self.records.line() + 1),
                source,
            })?;
            if !more {
                self.progress.finish();
                return Ok(None);
            }
            self.progress.record(self.records.position());
            let found = self.records.fields().len();
            if found >= self.needed && found <= self.width {
                break;
            }
            let message = if let Some(line) = self.records.unterminated_at() {
                format!("unterminated quoted field starting at line {line}")
            } else if found > self.width {
                format!(
                    "expected {} fields, found {found}: extra fields",
                    self.width
                )
            } else {
                format!("expected at least {} fields, found {found}", self.needed)
            };
            let line = self.records.line();
            self.bad.reject(line, self.records.raw(), &message)?;
        }
        Ok(Some(CsvRow {
            fields: self.records.fields(),
            columns: &self.columns,
        }))
    }

    /// The next record that may have an event time above `ts` in schema field `field`:
    /// records whose field is an integer of at most `ts` are passed over unread, which makes
    /// the scan for a slice's largest event time a fraction of a full read. Bad records are
    /// refused as by [`CsvSource::next_record`] only if they are read.
    #[inline(always)]
    pub fn next_record_later_than(
        &mut self,
        field: usize,
        ts: i64,
    ) -> Result<Option<CsvRow<'_>>, JobError> {
        // A read error is met again, and reported, by the full read.
        let _ = self
            .records
            .pass_over_not_later_than(self.columns[field], ts);
        self.next_record()
    }

    /// What a scan of this source for its largest event time found: `max`, and whether a
    /// record had a line break inside quotes (then a line start is not always a record
    /// start: `JobContext::scan_pieces`).
    pub fn scanned(&self, max: i64) -> crate::parallel::PieceScan {
        crate::parallel::PieceScan {
            max,
            quoted_line_break: self.records.met_quoted_line_break(),
        }
    }

    /// Refuses the current record (a field did not decode) under the source's policy.
    #[cold]
    pub fn reject(&mut self, error: FieldError) -> Result<(), JobError> {
        let line = self.records.line();
        self.bad.reject(line, self.records.raw(), &error.message)
    }

    /// Whether the job should wake up (fire processing-time windows, flush sinks) before
    /// the next record: only on live input, when it is quiet or a tick has passed.
    #[inline]
    fn wake(&mut self) -> Result<bool, JobError> {
        if !self.waker.is_live() {
            return Ok(false);
        }
        self.wake_live()
    }

    /// [`wake`](Self::wake) on live input, out of the record path of a file: inlined,
    /// it cost the window join 60M instructions of 3,220M on 1M events a side, when its
    /// `run` reads two sources.
    #[cold]
    #[inline(never)]
    fn wake_live(&mut self) -> Result<bool, JobError> {
        let (records, waker) = (&mut self.records, &mut self.waker);
        waker
            .due(records.input_mut(), false)
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
        self.bad.finish(ctx)?;
        Ok(())
    }

    fn line(&self) -> u64 {
        self.records.line()
    }
}

impl<'r> CsvRow<'r> {
    #[inline]
    fn field(&self, i: usize) -> &'r [u8] {
        self.fields.get(self.columns[i])
    }

    /// Schema field `i` (named `name`) as a string.
    #[inline]
    pub fn str(&self, i: usize, name: &str) -> Result<&'r str, FieldError> {
        let raw = self.field(i);
        super::utf8::utf8(raw).map_err(|_| FieldError::parse(name, raw, "UTF-8 text"))
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

    /// Schema field `i` as a timestamp: milliseconds since the Unix epoch, or RFC 3339
    /// text (`crate::time::text`, out of line: numbers cost what they did).
    #[inline]
    pub fn timestamp(&self, i: usize, name: &str) -> Result<i64, FieldError> {
        self.integer_or(i, |raw| timestamp_text(raw, name))
    }

    /// Schema field `i` as a timestamp written as an integer in `unit`, or as RFC 3339 text.
    #[inline]
    pub fn timestamp_in(
        &self,
        i: usize,
        name: &str,
        unit: crate::time::TimeUnit,
    ) -> Result<i64, FieldError> {
        match self.integer_or(i, |raw| Err(FieldError::parse(name, raw, "timestamp"))) {
            Ok(v) => unit.read(v, name),
            Err(_) => self.integer_or(i, |raw| timestamp_text(raw, name)),
        }
    }

    /// An integer read from the field's bytes: digits with an optional sign, surrounded by
    /// optional spaces, and nothing else.
    #[inline(always)]
    fn integer<T>(&self, i: usize, name: &str, ty: &str) -> Result<T, FieldError>
    where
        T: atoi::FromRadix10SignedChecked + TryFrom<i64>,
    {
        self.integer_or(i, |raw| Err(FieldError::parse(name, raw, ty)))
    }

    /// The integer field `i` holds, or what `otherwise` makes of its bytes. `otherwise`
    /// gets the bytes, not the row: a row handed out of line would be kept in memory for
    /// it, which cost the windows job 10 instructions a record.
    #[inline(always)]
    fn integer_or<T>(
        &self,
        i: usize,
        otherwise: impl FnOnce(&[u8]) -> Result<T, FieldError>,
    ) -> Result<T, FieldError>
    where
        T: atoi::FromRadix10SignedChecked + TryFrom<i64>,
    {
        let (raw, rest) = self.fields.get_with_rest(self.columns[i]);
        let word_at = |k: usize| {
            rest.get(k..k + 8)
                .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
        };
        if let Some(v) = short_integer(raw, word_at).and_then(|v| T::try_from(v).ok()) {
            return Ok(v);
        }
        let digits = raw.trim_ascii();
        match T::from_radix_10_signed_checked(digits) {
            (Some(v), used) if used == digits.len() && used > 0 => Ok(v),
            _ => otherwise(raw),
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
        super::utf8::utf8(raw.trim_ascii())
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| FieldError::parse(name, raw, ty))
    }
}

/// A timestamp field's bytes read as RFC 3339 text, or why they are no timestamp. Cold and
/// out of line: an integer field never comes here.
#[cold]
#[inline(never)]
fn timestamp_text(raw: &[u8], name: &str) -> Result<i64, FieldError> {
    crate::time::text::parse_millis(raw).ok_or_else(|| {
        FieldError::parse(
            name,
            raw,
            &format!(
                "timestamp (milliseconds since the epoch, or {})",
                crate::time::text::TEXT_FORMS
            ),
        )
    })
}

fn match_header(
    source: &str,
    file: &str,
    head: &CsvFields<'_>,
    fields: &[&str],
) -> Result<Vec<usize>, JobError> {
    let names: Vec<String> = head
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
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

impl crate::io::Source for CsvSource {
    #[inline]
    fn wake_up(&mut self) -> Result<bool, JobError> {
        self.wake()
    }

    /// The byte of the file the next record starts at, and the lines of the file before
    /// it (a worker's slice counts the lines before it too).
    fn position(&self) -> crate::io::SourcePosition {
        let input = self.records.input();
        crate::io::SourcePosition {
            offset: input.slice_start() + self.records.position(),
            lines: input.lines_before() + self.records.lines(),
        }
    }

    fn seek(&mut self, position: crate::io::SourcePosition) -> Result<(), JobError> {
        let (offset, lines) =
            crate::io::source::within_part(&self.name, &self.file, self.records.input(), position)?;
        let moved = self
            .records
            .seek(offset, lines)
            .map_err(|source| JobError::Io {
                action: "cannot read CSV input",
                path: self.file.clone(),
                source,
            })?;
        if !moved {
            return Err(crate::io::source::cannot_seek(&self.name, &self.file));
        }
        Ok(())
    }
}

crate::io::source::checkpointed_source!(CsvSource);
