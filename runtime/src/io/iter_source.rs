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
    /// Items to pass over from the start (after a seek): the iterator is given again from
    /// its start, and read on from where the source stood.
    skip_to: u64,
}

impl IterSource {
    /// Items taken so far, for the live page.
    fn records_read(&self) -> u64 {
        self.items
    }

    /// Source `name` with `policy`.
    pub fn open(ctx: &JobContext, name: &str, policy: BadRecordPolicy) -> Result<Self, JobError> {
        Ok(IterSource {
            bad: BadRecords::new(name, "<iterator>", policy, ctx.outputs())?,
            items: 0,
            skip_to: 0,
        })
    }

    /// Counts the next item; `false` while items are passed over to reach the position
    /// of a [`seek`](crate::io::Source::seek).
    #[inline]
    pub fn next_item(&mut self) -> bool {
        self.items += 1;
        self.items > self.skip_to
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

impl crate::io::Source for IterSource {
    fn wake_up(&mut self) -> Result<bool, JobError> {
        Ok(false)
    }

    /// Items taken so far; while a resumed source still passes over the items before its
    /// position, that position: a checkpoint taken then holds the state of every item up
    /// to it (restored), so it must not send a later run back to replay them.
    fn position(&self) -> crate::io::SourcePosition {
        let at = self.items.max(self.skip_to);
        crate::io::SourcePosition {
            offset: at,
            lines: at,
        }
    }

    /// An iterator cannot go back: a seek is to a fresh iterator, from its start, to the
    /// item the source stood at, and the items before it are passed over.
    fn seek(&mut self, position: crate::io::SourcePosition) -> Result<(), JobError> {
        if self.items > 0 {
            return Err(JobError::Config(
                "an iterator source can seek only before its first item: give the job its iterator again from the start".to_string(),
            ));
        }
        self.skip_to = position.offset;
        Ok(())
    }
}

// In a checkpoint: the items taken, and the bad records; restored, the source passes over
// that many items of the iterator it is given again.
crate::io::source::checkpointed_source!(IterSource);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::Source;

    /// A resumed source passing over the items before its position stands at that
    /// position: a checkpoint taken meanwhile must not send a later run back (the state
    /// restored already holds those items), which counted records twice.
    #[test]
    fn while_passing_over_items_a_resumed_source_stands_at_its_position() {
        let bad = BadRecords::new(
            "s",
            "<iterator>",
            BadRecordPolicy::Fail,
            &crate::io::PendingOutputs::default(),
        )
        .unwrap();
        let mut src = IterSource {
            bad,
            items: 0,
            skip_to: 0,
        };
        src.seek(crate::io::SourcePosition {
            offset: 5,
            lines: 5,
        })
        .unwrap();
        for _ in 0..3 {
            assert!(!src.next_item());
        }
        assert_eq!(src.position().offset, 5);
        assert!(!src.next_item() && !src.next_item());
        assert!(src.next_item());
        assert_eq!(src.position().offset, 6);
    }
}
