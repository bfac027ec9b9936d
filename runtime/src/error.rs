//! Errors that end a job, each naming where it happened.

use crate::memory::format_bytes;

/// Why a job stopped before the end of its input.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// A file could not be opened, read or written.
    #[error("{action} `{path}`: {source}")]
    Io {
        /// What was being done, e.g. "cannot read".
        action: &'static str,
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A record that could not be decoded, under the `fail` policy.
    #[error("bad record in source `{source_name}` at {file}:{line}: {message}\n  record: {record}\n  (add `with on_error(skip)` or `with on_error(dead_letter(\"path\"))` to the source to go on past bad records)")]
    BadRecord {
        /// The source's name in the pipeline.
        source_name: String,
        /// The file it was read from (`<stdin>` for standard input).
        file: String,
        /// 1-based line (record) number.
        line: u64,
        /// What is wrong with it.
        message: String,
        /// The record as read, quoted for the user.
        record: String,
    },
    /// A key longer than a state page can hold.
    #[error("operator `{operator}` at {location}: a key of {key_bytes} bytes is longer than the {limit_bytes} bytes a key may take (a state page, less the entry's header and accumulators){}", record.as_ref().map(|r| format!("; the record is at {r}")).unwrap_or_default())]
    KeyTooLong {
        /// The operator's name.
        operator: String,
        /// Where the operator is written in the pipeline.
        location: String,
        /// The key's length.
        key_bytes: usize,
        /// The longest key the operator takes.
        limit_bytes: usize,
        /// Where the record with that key was read (`file:line`), once its source knows.
        record: Option<String>,
    },
    /// A record longer than a state page can hold, in an operator that keeps whole records
    /// (a join's windows).
    #[error("operator `{operator}` at {location}: a record of {record_bytes} bytes is longer than the {limit_bytes} bytes a record kept in state may take (a state page, less its header){}", record.as_ref().map(|r| format!("; the record is at {r}")).unwrap_or_default())]
    RecordTooLong {
        /// The operator's name.
        operator: String,
        /// Where the operator is written in the pipeline.
        location: String,
        /// The record's length in the binary layout.
        record_bytes: usize,
        /// The longest record the operator takes.
        limit_bytes: usize,
        /// Where the record was read (`file:line`), once its source knows.
        record: Option<String>,
    },
    /// Standard output, or a pipe a sink writes, was closed by its reader (`weir run ...
    /// | head`): the job stops quietly, as Unix tools do.
    #[error("an output pipe was closed by its reader")]
    OutputClosed,
    /// A CSV source's header does not fit its schema (no policy can skip a header).
    #[error("source `{source_name}`: the header of {file} {message}\n  header: {header}")]
    Header {
        /// The source's name in the pipeline.
        source_name: String,
        /// The file it was read from.
        file: String,
        /// What is wrong with it.
        message: String,
        /// The header as read.
        header: String,
    },
    /// Another worker of a parallel job failed, so this one stopped; the other worker's
    /// error is the one reported.
    #[error("stopped: another worker of the job failed")]
    WorkerStopped,
    /// A worker of another process of a multi-process job failed: its error as that
    /// process put it, reported by process 0 for the whole job.
    #[error("worker {worker} (process {process}) failed: {message}")]
    InAnotherProcess {
        /// The failed worker.
        worker: usize,
        /// Its process.
        process: usize,
        /// Its error.
        message: String,
        /// The exit code its error gives.
        code: u8,
    },
    /// A stateful operator needed more memory than its budget.
    #[error("operator `{operator}` at {location} ran out of its memory budget of {budget} (its share of --memory {total}){}; how much its state needs in all is known only at the end of the input, so weir cannot say what would suffice: rerun with more, such as --memory {suggested}", cannot_spill.map(|why| format!(" and cannot spill to disk: {why}")).unwrap_or_default(), budget = format_bytes(*.budget_bytes), total = format_bytes(*.total_memory), suggested = crate::memory::format_bytes_arg(*.suggested_memory))]
    MemoryBudget {
        /// The operator's name.
        operator: String,
        /// Where the operator is written in the pipeline.
        location: String,
        /// Its budget in bytes.
        budget_bytes: u64,
        /// The job's `--memory`, of which the budget is a share.
        total_memory: u64,
        /// What it needed when it failed (a lower bound).
        needed_bytes: u64,
        /// A `--memory` that would give it that much.
        suggested_memory: u64,
        /// Why the operator could not spill instead, when that is why it stopped.
        cannot_spill: Option<&'static str>,
    },
    /// A stateful operator could not write or read its spill files.
    #[error(
        "operator `{operator}` at {location} cannot spill to {dir}: {source}; {}",
        spill_advice(source)
    )]
    Spill {
        /// The operator's name.
        operator: String,
        /// Where the operator is written in the pipeline.
        location: String,
        /// The spill directory (or its parent, when it could not be made).
        dir: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A state snapshot read back is not one weir wrote, or was changed since.
    #[error("a state snapshot is corrupt: {problem}")]
    SnapshotCorrupt {
        /// What is wrong with it.
        problem: String,
    },
    /// A spill file read back did not match what was written: the disk or another process
    /// changed it. The job stops rather than give a wrong result.
    #[error("operator `{operator}` at {location}: spill file {path} is corrupt ({problem} in the block at byte {offset}); it was changed after weir wrote it, so the job stops rather than give a wrong result")]
    SpillCorrupt {
        /// The operator's name.
        operator: String,
        /// Where the operator is written in the pipeline.
        location: String,
        /// The spill file.
        path: String,
        /// Where the block that failed starts in the file.
        offset: u64,
        /// What failed: the checksum, or the block's framing.
        problem: &'static str,
    },
    /// An expression could not be evaluated for a record, e.g. a division by zero.
    #[error("{location}: {message}")]
    Eval {
        /// Where the expression is written in the pipeline.
        location: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The job was started with arguments it cannot use.
    #[error("{0}")]
    Config(String),
    /// The checkpoint to resume from was not written by this pipeline (or by this version
    /// of one of its operators): resuming would read state into the wrong place.
    #[error("cannot resume from the checkpoint: {0}")]
    CheckpointMismatch(String),
}

impl JobError {
    /// The error with the place of the record it happened at (`file:line`), for errors a
    /// record causes downstream of its source (a key too long for state).
    pub fn at_record(self, place: impl FnOnce() -> String) -> Self {
        match self {
            JobError::KeyTooLong {
                operator,
                location,
                key_bytes,
                limit_bytes,
                record: None,
            } => JobError::KeyTooLong {
                operator,
                location,
                key_bytes,
                limit_bytes,
                record: Some(place()),
            },
            JobError::RecordTooLong {
                operator,
                location,
                record_bytes,
                limit_bytes,
                record: None,
            } => JobError::RecordTooLong {
                operator,
                location,
                record_bytes,
                limit_bytes,
                record: Some(place()),
            },
            other => other,
        }
    }

    /// A budget error that says why the operator could not spill instead.
    pub fn unspillable(self, why: &'static str) -> Self {
        match self {
            JobError::MemoryBudget {
                operator,
                location,
                budget_bytes,
                total_memory,
                needed_bytes,
                suggested_memory,
                ..
            } => JobError::MemoryBudget {
                operator,
                location,
                budget_bytes,
                total_memory,
                needed_bytes,
                suggested_memory,
                cannot_spill: Some(why),
            },
            other => other,
        }
    }

    /// The process exit code for this error: 2 for bad arguments, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            JobError::Config(_) | JobError::CheckpointMismatch(_) => 2,
            JobError::InAnotherProcess { code, .. } => *code,
            _ => 1,
        }
    }
}

/// What to do about a spill directory that failed with `e`: free space is the answer only
/// when space ran out.
fn spill_advice(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            "free space there, or name another directory with --spill-dir"
        }
        std::io::ErrorKind::NotFound => {
            "it does not exist: create it, or name another directory with --spill-dir"
        }
        _ => "name another directory with --spill-dir",
    }
}
