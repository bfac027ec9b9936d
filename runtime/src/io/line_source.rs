//! Line-oriented sources: `text` (one record per line) and `jsonl` (one JSON object per line),
//! from a file or standard input.

use std::io::BufRead;

use crate::io::bad_records::BadRecords;
use crate::io::{BadRecordPolicy, InputReader, InputSpec, SourceProgress};
use crate::{JobContext, JobError};

/// The UTF-8 byte-order mark some editors put at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One JSON object as `T`; an error names the field that did not decode
/// (`field `price`: invalid type: string "x", expected u64 at line 1 column 30`).
pub fn decode_json<'a, T: serde::Deserialize<'a>>(line: &'a str) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_str(line);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        match path.as_str() {
            "." | "" => e.inner().to_string(),
            _ => format!("field `{path}`: {}", e.inner()),
        }
    })?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// Reads lines into one reused buffer, so a line costs no allocation. Lines that are not
/// UTF-8 are bad records under the source's policy.
#[derive(Debug)]
pub struct LineSource {
    reader: InputReader,
    buf: Vec<u8>,
    line: u64,
    skip_blank: bool,
    bad: BadRecords,
    progress: SourceProgress,
    waker: super::live::Waker,
    /// The source's name in the pipeline.
    name: String,
}

impl LineSource {
    /// Records read so far (refused ones included), for the live page.
    fn records_read(&self) -> u64 {
        self.progress.records()
    }

    /// Opens source `name`, reading `default` unless `--input name=PATH` says otherwise.
    /// `skip_blank` passes over empty lines (for JSON lines, where they carry nothing).
    pub fn open(
        ctx: &JobContext,
        name: &str,
        default: InputSpec,
        policy: BadRecordPolicy,
        skip_blank: bool,
    ) -> Result<Self, JobError> {
        let spec = ctx.input(name, default);
        let part = ctx.input_part(&spec, crate::io::Records::Lines);
        let reader = InputReader::open_part(&spec, part, ctx.input_stop())?;
        let progress = SourceProgress::new(name, reader.total(), ctx.progress_memory())
            .with_checkpoints(ctx.checkpoint_stats());
        Ok(LineSource {
            waker: super::live::Waker::new(&reader),
            bad: BadRecords::new(name, spec.display_name(), policy, ctx.outputs())?,
            reader,
            buf: Vec::with_capacity(1024),
            line: 0,
            skip_blank,
            progress,
            name: name.to_string(),
        })
    }

    /// The next line without its line ending, or `None` at the end of the input.
    #[inline]
    pub fn next_line(&mut self) -> Result<Option<&str>, JobError> {
        let (start, end) = loop {
            self.buf.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut self.buf)
                .map_err(|source| JobError::Io {
                    action: "cannot read input",
                    path: self.bad_file(),
                    source,
                })?;
            if n == 0 {
                self.progress.finish();
                return Ok(None);
            }
            self.line += 1;
            self.progress.record(self.reader.consumed());
            let mut end = self.buf.len();
            if self.buf[..end].ends_with(b"\n") {
                end -= 1;
                if self.buf[..end].ends_with(b"\r") {
                    end -= 1;
                }
            }
            // A UTF-8 byte-order mark before the first line is not part of the record.
            let start = if self.line == 1 && self.buf[..end].starts_with(BOM) {
                BOM.len()
            } else {
                0
            };
            if self.skip_blank && self.buf[start..end].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match super::utf8::utf8(&self.buf[start..end]) {
                Ok(_) => break (start, end),
                Err(e) => {
                    let message = format!("not valid UTF-8 ({e})");
                    self.bad.reject(
                        self.reader.lines_before() + self.line,
                        &self.buf[..end],
                        &message,
                    )?;
                }
            }
        };
        // SAFETY: `buf[start..end]` was checked to be UTF-8 just above and not changed since. The
        // check cannot be returned from inside the loop (the borrow would outlive the next
        // iteration's read), and checking twice would cost a second pass over every line.
        Ok(Some(unsafe {
            std::str::from_utf8_unchecked(&self.buf[start..end])
        }))
    }

    /// The current line's number in the file (1-based), also in a worker's slice.
    pub fn line_number(&self) -> u64 {
        self.reader.lines_before() + self.line
    }

    /// Refuses the current line (it decoded badly) under the source's policy.
    #[cold]
    pub fn reject(&mut self, message: &str) -> Result<(), JobError> {
        let raw = String::from_utf8_lossy(&self.buf).trim_end().to_string();
        self.bad.reject(self.line_number(), raw.as_bytes(), message)
    }

    /// Whether the job should wake up (fire processing-time windows, flush sinks) before
    /// the next line: only on live input, when it is quiet or a tick has passed.
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
        // What the reader holds, `poll` sees: nothing is buffered here besides.
        self.waker
            .due(&mut self.reader, false)
            .map_err(|source| JobError::Io {
                action: "cannot read input",
                path: self.bad_file(),
                source,
            })
    }

    /// Refuses the current line for `message` (its event time is out of range).
    #[cold]
    pub fn reject_message(&mut self, message: &str) -> Result<(), JobError> {
        self.reject(message)
    }

    /// `e`, with the place of the current record where it names one.
    #[cold]
    pub fn locate(&self, e: JobError) -> JobError {
        e.at_record(|| format!("{}:{}", self.bad.file(), self.line))
    }

    /// What a scan of this source for its largest event time found: `max` (a line always
    /// starts a record).
    pub fn scanned(&self, max: i64) -> crate::parallel::PieceScan {
        crate::parallel::PieceScan {
            max,
            quoted_line_break: false,
        }
    }

    /// Ends the source, adding its bad-record count to the run's report.
    pub fn finish(mut self, ctx: &mut JobContext) -> Result<(), JobError> {
        self.progress.finish();
        self.bad.finish(ctx)?;
        Ok(())
    }

    fn bad_file(&self) -> String {
        format!("{}:{}", self.bad.file(), self.line + 1)
    }
}

impl crate::io::Source for LineSource {
    #[inline]
    fn wake_up(&mut self) -> Result<bool, JobError> {
        self.wake()
    }

    /// The byte of the file the next line starts at, and the lines of the file before it.
    fn position(&self) -> crate::io::SourcePosition {
        crate::io::SourcePosition {
            offset: self.reader.slice_start() + self.reader.consumed(),
            lines: self.line_number(),
        }
    }

    fn seek(&mut self, position: crate::io::SourcePosition) -> Result<(), JobError> {
        let file = self.bad.file().to_string();
        let (offset, lines) =
            crate::io::source::within_part(&self.name, &file, &self.reader, position)?;
        let moved = self
            .reader
            .rewind_to(offset)
            .map_err(|source| JobError::Io {
                action: "cannot read input",
                path: self.bad_file(),
                source,
            })?;
        if !moved {
            return Err(crate::io::source::cannot_seek(&self.name, &file));
        }
        self.line = lines;
        Ok(())
    }
}

crate::io::source::checkpointed_source!(LineSource);

#[cfg(test)]
mod tests {
    use super::decode_json;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Bid {
        auction: u64,
        price: f64,
    }

    #[test]
    fn a_json_error_names_the_field() {
        let e = decode_json::<Bid>(r#"{"auction": 1, "price": "high"}"#).unwrap_err();
        assert!(e.starts_with("field `price`: invalid type"), "{e}");
        let e = decode_json::<Bid>(r#"{"auction": 1}"#).unwrap_err();
        assert!(e.contains("missing field `price`"), "{e}");
        let e = decode_json::<Bid>(r#"{"auction": 1, "price": 2} x"#).unwrap_err();
        assert!(e.contains("trailing characters"), "{e}");
        assert_eq!(
            decode_json::<Bid>(r#"{"auction": 1, "price": 2.5}"#).unwrap(),
            Bid {
                auction: 1,
                price: 2.5
            }
        );
    }
}
