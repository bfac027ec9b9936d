//! What every sink keeps besides its writer: its name, where it writes, and a record count
//! for the end-of-run report.

use crate::io::OutputSpec;
use crate::{JobContext, JobError};

/// A sink's name, destination and count.
#[derive(Debug)]
pub(crate) struct SinkTarget {
    name: String,
    target: String,
    /// Records written so far.
    pub(crate) records: u64,
    /// Standard output is not reported: the records are there to see.
    report: bool,
}

impl SinkTarget {
    pub(crate) fn new(name: &str, spec: &OutputSpec) -> Self {
        SinkTarget {
            name: name.to_string(),
            target: spec.display_name().to_string(),
            records: 0,
            report: *spec != OutputSpec::Stdout,
        }
    }

    /// A write failure, naming the destination.
    #[cold]
    pub(crate) fn io_error(&self, source: std::io::Error) -> JobError {
        JobError::Io {
            action: "cannot write output",
            path: self.target.clone(),
            source,
        }
    }

    /// Adds "wrote N records to X" to the run's report.
    pub(crate) fn report(&self, ctx: &mut JobContext) {
        if self.report {
            ctx.report(format!(
                "sink `{}`: wrote {} record(s) to {}",
                self.name, self.records, self.target
            ));
        }
    }
}
