//! What a source does with a record it cannot decode: fail, skip and count, or write it to a
//! dead-letter file. Nothing is dropped without a count.

use std::io::Write;

use crate::io::{OutputSpec, OutputWriter, PendingOutputs};
use crate::JobError;

/// A source's policy for records it cannot decode (`with on_error(...)` in a pipeline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadRecordPolicy {
    /// Stop the job with an error that quotes the record and says where it is.
    Fail,
    /// Skip the record and count it; the count is reported at the end.
    Skip,
    /// Append the record, with where it was and why it was refused, as one JSON line to the
    /// file at this path; the count is reported at the end.
    DeadLetter(String),
}

/// Why one field of a record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// What is wrong, naming the field.
    pub message: String,
}

impl FieldError {
    /// A field that does not parse as the schema's type.
    #[cold]
    pub fn parse(field: &str, raw: &[u8], ty: &str) -> Self {
        FieldError {
            message: format!(
                "field `{field}`: cannot read {:?} as {ty}",
                String::from_utf8_lossy(raw)
            ),
        }
    }

    /// Any other problem, in words.
    #[cold]
    pub fn other(message: impl Into<String>) -> Self {
        FieldError {
            message: message.into(),
        }
    }
}

/// Applies a [`BadRecordPolicy`] for one source and keeps its count.
#[derive(Debug)]
pub struct BadRecords {
    source_name: String,
    file: String,
    policy: BadRecordPolicy,
    dead_letter: Option<OutputWriter>,
    count: u64,
    first: Option<String>,
}

impl BadRecords {
    /// The handler for source `source_name` reading `file`; a dead-letter file is opened
    /// at once (so an unwritable one is found before any record), as an output committed
    /// with the job's others.
    pub fn new(
        source_name: &str,
        file: &str,
        policy: BadRecordPolicy,
        outputs: &PendingOutputs,
    ) -> Result<Self, JobError> {
        let dead_letter = match &policy {
            BadRecordPolicy::DeadLetter(path) => Some(OutputWriter::create(
                &OutputSpec::File(path.clone()),
                outputs,
            )?),
            BadRecordPolicy::Fail | BadRecordPolicy::Skip => None,
        };
        Ok(BadRecords {
            source_name: source_name.to_string(),
            file: file.to_string(),
            policy,
            dead_letter,
            count: 0,
            first: None,
        })
    }

    /// The source's figures for the live page, with `records` read so far.
    pub fn live(&self, records: u64) -> crate::monitor::LivePart {
        crate::monitor::LivePart::Source {
            name: self.source_name.clone(),
            records,
            bad: self.count,
            dead_letters: if self.dead_letter.is_some() {
                self.count
            } else {
                0
            },
        }
    }

    /// The file being read, as messages name it.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Handles the bad record `raw` at `line` refused for `message`.
    #[cold]
    pub fn reject(&mut self, line: u64, raw: &[u8], message: &str) -> Result<(), JobError> {
        let record = String::from_utf8_lossy(raw).into_owned();
        if self.first.is_none() {
            self.first = Some(format!("{}:{line}: {message}", self.file));
        }
        match &self.policy {
            BadRecordPolicy::Fail => {
                return Err(JobError::BadRecord {
                    source_name: self.source_name.clone(),
                    file: self.file.clone(),
                    line,
                    message: message.to_string(),
                    record,
                })
            }
            BadRecordPolicy::Skip => {}
            BadRecordPolicy::DeadLetter(path) => {
                let mut entry = serde_json::json!({
                    "source": self.source_name,
                    "file": self.file,
                    "line": line,
                    "error": message,
                    "record": record,
                });
                // `record` shows bytes that are not UTF-8 as U+FFFD: the exact bytes go
                // beside it, so the record can still be replayed.
                if std::str::from_utf8(raw).is_err() {
                    use base64::Engine;
                    entry["record_base64"] =
                        base64::engine::general_purpose::STANDARD.encode(raw).into();
                }
                let Some(w) = self.dead_letter.as_mut() else {
                    return Err(JobError::Config(format!(
                        "source `{}`: its dead-letter file is not open",
                        self.source_name
                    )));
                };
                let io_err = |source| JobError::Io {
                    action: "cannot write dead-letter file",
                    path: path.clone(),
                    source,
                };
                serde_json::to_writer(&mut *w, &entry)
                    .map_err(|e| io_err(std::io::Error::other(e)))?;
                w.write_all(b"\n").map_err(io_err)?;
            }
        }
        self.count += 1;
        Ok(())
    }

    /// Flushes the dead-letter file and, if any record was refused, adds their count to the
    /// end-of-run report.
    pub fn finish(&mut self, ctx: &mut crate::JobContext) -> Result<(), JobError> {
        if let (Some(w), BadRecordPolicy::DeadLetter(path)) =
            (self.dead_letter.as_mut(), &self.policy)
        {
            w.flush().map_err(|source| JobError::Io {
                action: "cannot write dead-letter file",
                path: path.clone(),
                source,
            })?;
        }
        if self.count == 0 {
            return Ok(());
        }
        let first = self.first.as_deref().unwrap_or("");
        let before = format!("source `{}`: ", self.source_name);
        let after = match &self.policy {
            BadRecordPolicy::DeadLetter(path) => {
                format!(" bad record(s) written to dead-letter file {path}")
            }
            _ => " bad record(s)".to_string(),
        };
        let skipped = if matches!(self.policy, BadRecordPolicy::DeadLetter(_)) {
            before
        } else {
            before + "skipped "
        };
        ctx.report_count(&skipped, self.count, &after, &format!(" (first: {first})"));
        Ok(())
    }
}

/// In a checkpoint: the count, the first bad record's place, and how far the dead-letter
/// file is written (cut back there on resuming, as a sink's output is).
impl crate::checkpoint::Checkpointed for BadRecords {
    fn save(&mut self, out: &mut crate::checkpoint::StateOut) -> Result<(), JobError> {
        out.u64(self.count);
        out.str(self.first.as_deref().unwrap_or(""));
        let written = match &mut self.dead_letter {
            Some(w) => w
                .commit_point(!out.defers_sync())
                .map_err(|e| self.dead_letter_error(e))?,
            None => None,
        };
        out.u64(written.unwrap_or(0));
        Ok(())
    }

    fn load(&mut self, from: &mut crate::checkpoint::StateIn<'_>) -> Result<(), JobError> {
        self.count = from.u64()?;
        self.first = Some(from.str()?.to_string()).filter(|f| !f.is_empty());
        let written = from.u64()?;
        if let Some(w) = &mut self.dead_letter {
            w.cut_back(written).map_err(|e| self.dead_letter_error(e))?;
        }
        Ok(())
    }
}

impl BadRecords {
    fn dead_letter_error(&self, source: std::io::Error) -> JobError {
        let path = match &self.policy {
            BadRecordPolicy::DeadLetter(path) => path.clone(),
            _ => self.file.clone(),
        };
        JobError::Io {
            action: "cannot write dead-letter file",
            path,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> crate::JobContext {
        const SPEC: crate::JobSpec = crate::JobSpec::bare(&["bids"], &[]);
        let args = crate::JobArgs::parse(Vec::<String>::new(), &SPEC).unwrap();
        crate::JobContext::new(&SPEC, args).unwrap()
    }

    #[test]
    fn fail_quotes_the_record_and_its_place() {
        let outputs = PendingOutputs::default();
        let mut b = BadRecords::new("bids", "bids.csv", BadRecordPolicy::Fail, &outputs).unwrap();
        let e = b.reject(12, b"1,x", "field `price`: bad").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("bids.csv:12"), "{text}");
        assert!(text.contains("1,x"), "{text}");
    }

    #[test]
    fn skip_counts() {
        let outputs = PendingOutputs::default();
        let mut b = BadRecords::new("bids", "bids.csv", BadRecordPolicy::Skip, &outputs).unwrap();
        b.reject(3, b"a", "bad").unwrap();
        b.reject(9, b"b", "bad").unwrap();
        let mut ctx = context();
        b.finish(&mut ctx).unwrap();
        let report = ctx.report_lines(true).join("\n");
        assert!(
            report.contains("source `bids`: skipped 2 bad record(s)"),
            "{report}"
        );
        assert!(report.contains("bids.csv:3"), "{report}");
    }

    #[test]
    fn dead_letter_writes_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dead/letters.jsonl");
        let policy = BadRecordPolicy::DeadLetter(path.to_string_lossy().into_owned());
        let outputs = PendingOutputs::default();
        let mut b = BadRecords::new("bids", "bids.csv", policy, &outputs).unwrap();
        b.reject(4, b"4,oops", "field `price`: bad").unwrap();
        b.finish(&mut context()).unwrap();
        assert!(!path.exists(), "written only when the job commits");
        outputs.commit().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["line"], 4);
        assert_eq!(v["record"], "4,oops");
        assert!(
            v.get("record_base64").is_none(),
            "only for bytes that are not UTF-8"
        );
    }

    #[test]
    fn a_dead_letter_that_is_not_utf8_keeps_its_exact_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("letters.jsonl");
        let policy = BadRecordPolicy::DeadLetter(path.to_string_lossy().into_owned());
        let outputs = PendingOutputs::default();
        let mut b = BadRecords::new("bids", "bids.csv", policy, &outputs).unwrap();
        let raw = b"4,\xff\xfe,6";
        b.reject(3, raw, "field `b`: bad").unwrap();
        b.finish(&mut context()).unwrap();
        outputs.commit().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(v["record_base64"].as_str().unwrap())
            .unwrap();
        assert_eq!(bytes, raw);
        assert_eq!(v["record"], "4,\u{fffd}\u{fffd},6");
    }
}
