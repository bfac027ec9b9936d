//! What an inline `iter(...)` source keeps besides its iterator: the item count, so a
//! refused item (an event time out of range) is named by its position, and the source's
//! bad-record policy.

use crate::io::bad_records::BadRecords;
use crate::io::BadRecordPolicy;
use crate::{JobContext, JobError};

/// The bookkeeping of an iterator source; generated code drives the iterator itself.
#[derive(Debug)]
pub struct IterSource {
    bad: BadRecords,
    items: u64,
}

impl IterSource {
    /// Source `name` with `policy`.
    pub fn open(ctx: &JobContext, name: &str, policy: BadRecordPolicy) -> Result<Self, JobError> {
        Ok(IterSource {
            bad: BadRecords::new(name, "<iterator>", policy, ctx.outputs())?,
            items: 0,
        })
    }

    /// Counts the next item.
    #[inline]
    pub fn next_item(&mut self) {
        self.items += 1;
    }

    /// Refuses the current item for `message` under the source's policy.
    #[cold]
    pub fn reject_message(&mut self, message: &str) -> Result<(), JobError> {
        self.bad.reject(self.items, b"", message)
    }

    /// `e`, with the place of the current record where it names one.
    #[cold]
    pub fn locate(&self, e: JobError) -> JobError {
        e.at_record(|| format!("<iterator>:{}", self.items))
    }

    /// What a scan of this source for its largest event time found: `max`.
    pub fn scanned(&self, max: i64) -> crate::parallel::PieceScan {
        crate::parallel::PieceScan {
            max,
            quoted_line_break: false,
        }
    }

    /// Ends the source, adding its bad-record count to the run's report.
    pub fn finish(mut self, ctx: &mut JobContext) -> Result<(), JobError> {
        self.bad.finish(ctx)?;
        Ok(())
    }
}
