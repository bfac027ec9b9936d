//! What every source offers besides its records: where it stands in its input, and going
//! back there, so a job can resume; and waking up a job whose live input is quiet.
//!
//! A source's records are typed by the pipeline (a CSV row, a line, an item of the user's
//! iterator), so reading the next one is each source's own method, called from the
//! generated code that decodes it; this trait is what the driver and checkpoints need of
//! every source alike.

use crate::JobError;

/// Where a source stands: the start of the next record it would read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SourcePosition {
    /// Bytes of the input before the next record (for an iterator: items taken).
    pub offset: u64,
    /// Lines (for an iterator: items) before it, so messages keep naming records by the
    /// line they are on after a seek.
    pub lines: u64,
}

impl SourcePosition {
    /// Writes the position into a checkpoint.
    pub(crate) fn save(self, out: &mut crate::checkpoint::StateOut) {
        out.u64(self.offset);
        out.u64(self.lines);
    }

    /// Reads back what [`save`](Self::save) wrote.
    pub(crate) fn load(from: &mut crate::checkpoint::StateIn<'_>) -> Result<Self, JobError> {
        Ok(SourcePosition {
            offset: from.u64()?,
            lines: from.u64()?,
        })
    }
}

/// A source as the driver and checkpoints see it.
pub trait Source {
    /// Whether a quiet live input woke the job up (the job ticks, and reads on after):
    /// only on standard input.
    fn wake_up(&mut self) -> Result<bool, JobError>;

    /// The start of the next record.
    fn position(&self) -> SourcePosition;

    /// Goes to `position`, a [`position`](Self::position) this source's input gave, to
    /// read on from there. Standard input cannot go back: an error names it.
    fn seek(&mut self, position: SourcePosition) -> Result<(), JobError>;
}

/// Implements `Checkpointed` for a source with a `bad` field (its `BadRecords`): a
/// checkpoint holds where it stands and its bad records; restored, it seeks back there.
macro_rules! checkpointed_source {
    ($source:ty) => {
        impl crate::checkpoint::Checkpointed for $source {
            fn save(
                &mut self,
                out: &mut crate::checkpoint::StateOut,
            ) -> Result<(), crate::JobError> {
                crate::io::Source::position(self).save(out);
                self.bad.save(out)
            }

            fn load(
                &mut self,
                from: &mut crate::checkpoint::StateIn<'_>,
            ) -> Result<(), crate::JobError> {
                crate::io::Source::seek(self, crate::io::SourcePosition::load(from)?)?;
                self.bad.load(from)
            }

            fn live(&self) -> Option<crate::monitor::LivePart> {
                Some(self.bad.live(self.records_read()))
            }
        }
    };
}

pub(crate) use checkpointed_source;

/// `position` within the part of a file `input` reads: its offset and lines from the
/// part's start, or the error for a position before it.
pub(crate) fn within_part(
    source: &str,
    file: &str,
    input: &crate::io::InputReader,
    position: SourcePosition,
) -> Result<(u64, u64), JobError> {
    let (start, before) = (input.slice_start(), input.lines_before());
    let within = |offset: &u64| input.total().is_none_or(|total| *offset <= total);
    match (
        position.offset.checked_sub(start).filter(within),
        position.lines.checked_sub(before),
    ) {
        (Some(offset), Some(lines)) => Ok((offset, lines)),
        _ => Err(JobError::Config(format!(
            "source `{source}` cannot go to byte {} of {file}: its part of the file is bytes {start} to {} \
             (a checkpoint resumed from another input than it read?)",
            position.offset,
            start + input.total().unwrap_or(0)
        ))),
    }
}

/// The error for a source that cannot be sought.
pub(crate) fn cannot_seek(source: &str, input: &str) -> JobError {
    JobError::Config(format!(
        "source `{source}` reads {input}, which cannot go back to where it stood: a job \
         reading it cannot resume"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{BadRecordPolicy, CsvSource, InputSpec, IterSource, LineSource};
    use crate::job::{JobArgs, JobContext, JobSpec};

    const SPEC: JobSpec = JobSpec::bare(&["in"], &[]);

    fn context(path: &std::path::Path) -> JobContext {
        let args = ["--input".to_string(), format!("in={}", path.display())];
        JobContext::new(&SPEC, JobArgs::parse(args, &SPEC).unwrap()).unwrap()
    }

    fn csv(ctx: &JobContext) -> CsvSource {
        CsvSource::open(
            ctx,
            "in",
            InputSpec::Stdin,
            BadRecordPolicy::Skip,
            true,
            b',',
            &["k", "n"],
        )
        .unwrap()
    }

    /// Every record of `src` from where it stands, with the position before each.
    fn rest_csv(src: &mut CsvSource) -> Vec<(SourcePosition, String)> {
        let mut out = Vec::new();
        loop {
            let at = src.position();
            let Some(row) = src.next_record().unwrap() else {
                return out;
            };
            let record = format!("{}={}", row.str(0, "k").unwrap(), row.str(1, "n").unwrap());
            out.push((at, record));
        }
    }

    #[test]
    fn a_csv_source_read_from_any_position_it_gave_reads_the_same_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        let mut text = String::from("k,n\n");
        for i in 0..300 {
            match i % 7 {
                // A quoted field with a line break inside, and a blank line.
                0 => text.push_str(&format!("\"a\nb{i}\",{i}\n\n")),
                3 => text.push_str(&format!("k{i},{i}\r\n")),
                _ => text.push_str(&format!("k{},{i}\n", "x".repeat(i % 50))),
            }
        }
        std::fs::write(&path, &text).unwrap();
        let ctx = context(&path);
        let all = rest_csv(&mut csv(&ctx));
        assert_eq!(all.len(), 300);
        for i in [0, 1, 7, 8, 150, 299] {
            let mut src = csv(&ctx);
            src.seek(all[i].0).unwrap();
            let rest = rest_csv(&mut src);
            assert_eq!(rest, all[i..], "from record {i}");
        }
        // Back to an earlier position after reading on.
        let mut src = csv(&ctx);
        let _ = rest_csv(&mut src);
        src.seek(all[42].0).unwrap();
        assert_eq!(rest_csv(&mut src), all[42..]);
        // A position past the file's end is no position of it.
        let past = SourcePosition {
            offset: text.len() as u64 + 1,
            lines: 0,
        };
        let err = csv(&ctx).seek(past).unwrap_err().to_string();
        assert!(err.contains("cannot go to byte"), "{err}");
    }

    fn rest_lines(src: &mut LineSource) -> Vec<(SourcePosition, String)> {
        let mut out = Vec::new();
        loop {
            let at = src.position();
            let Some(line) = src.next_line().unwrap() else {
                return out;
            };
            out.push((at, line.to_string()));
        }
    }

    #[test]
    fn a_line_source_read_from_any_position_it_gave_reads_the_same_rest_and_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        let text: String = (0..200)
            .map(|i| {
                if i % 9 == 0 {
                    "\n".to_string()
                } else {
                    format!("{{\"n\":{i}}}\n")
                }
            })
            .collect();
        std::fs::write(&path, &text).unwrap();
        let ctx = context(&path);
        let open =
            || LineSource::open(&ctx, "in", InputSpec::Stdin, BadRecordPolicy::Skip, true).unwrap();
        let all = rest_lines(&mut open());
        for i in [0, 5, 100, all.len() - 1] {
            let mut src = open();
            src.seek(all[i].0).unwrap();
            let mut rest = Vec::new();
            loop {
                let at = src.position();
                let Some(line) = src.next_line().unwrap() else {
                    break;
                };
                rest.push((at, line.to_string(), src.line_number()));
            }
            let want: Vec<(SourcePosition, String, u64)> = {
                let mut src = open();
                let mut v = Vec::new();
                loop {
                    let at = src.position();
                    let Some(line) = src.next_line().unwrap() else {
                        break;
                    };
                    v.push((at, line.to_string(), src.line_number()));
                }
                v.split_off(i)
            };
            assert_eq!(rest, want, "from line {i}");
        }
    }

    #[test]
    fn an_iterator_source_seeks_by_passing_over_the_items_before() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(&dir.path().join("unused"));
        let mut src = IterSource::open(&ctx, "in", BadRecordPolicy::Skip).unwrap();
        src.seek(SourcePosition {
            offset: 3,
            lines: 3,
        })
        .unwrap();
        let read: Vec<i32> = (0..6).filter(|_| src.next_item()).collect();
        assert_eq!(read, [3, 4, 5]);
        assert_eq!(src.position().offset, 6);
        let err = src.seek(SourcePosition::default()).unwrap_err().to_string();
        assert!(err.contains("only before its first item"), "{err}");
    }
}
