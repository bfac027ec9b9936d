//! A job's Nexmark source: the events of one kind in one worker's share of a run.

use super::events::{Auction, Bid, EventMaker, Person};
use super::spec::{EventKind, NexmarkSpec};
use crate::io::bad_records::BadRecords;
use crate::io::{BadRecordPolicy, SourcePosition};
use crate::{JobContext, JobError};

/// The `kind` events of a run, as one worker generates them: positions `index`,
/// `index + peers`, ... of the run's events (the crate's offset and step), keeping the
/// events of its kind. Every worker's share is in the run's order of time, so each keeps
/// its own watermark; on one worker (or where worker 0 reads every input) it is the whole
/// run.
#[derive(Debug)]
pub struct NexmarkSource {
    maker: EventMaker,
    kind: EventKind,
    /// The next position to look at; `end` when there is no share to generate.
    next: u64,
    step: u64,
    end: u64,
    /// Events of the kind handed out, for messages.
    taken: u64,
    /// Never given a record: generated events always decode. Kept for the source's
    /// checkpoint, which every source writes alike.
    bad: BadRecords,
}

impl NexmarkSource {
    /// Events this worker has generated so far, for the live page.
    fn records_read(&self) -> u64 {
        self.taken
    }

    /// Source `name`, the `kind` events of `spec`; `extra`: whether its events carry their
    /// `extra` text. On a worker that generates no share it is empty.
    pub fn open(
        ctx: &JobContext,
        name: &str,
        spec: NexmarkSpec,
        kind: EventKind,
        extra: bool,
    ) -> Result<Self, JobError> {
        if ctx.args().inputs.iter().any(|(n, _)| n == name) {
            return Err(JobError::Config(format!(
                "source `{name}` generates Nexmark events and reads no input: --input does \
                 not apply to it (--events N sets how many events a run has)"
            )));
        }
        let spec = NexmarkSpec {
            events: ctx.args().events.unwrap_or(spec.events),
            ..spec
        };
        spec.check()
            .map_err(|why| JobError::Config(format!("source `{name}`: {why}")))?;
        let (next, step, end) = match ctx.generated_share() {
            Some((index, peers)) => (index, peers, spec.events),
            None => (0, 1, 0),
        };
        Ok(NexmarkSource {
            maker: EventMaker::new(&spec, extra),
            kind,
            next,
            step,
            end,
            taken: 0,
            bad: BadRecords::new(name, "<nexmark>", BadRecordPolicy::Fail, ctx.outputs())?,
        })
    }

    /// The number of the next event of the source's kind in its share, moving past it.
    #[inline]
    fn next_number(&mut self) -> Option<u64> {
        let spec = self.maker.spec();
        while self.next < self.end {
            let number = spec.event_number(self.next);
            self.next += self.step;
            if spec.kind(number) == self.kind {
                self.taken += 1;
                return Some(number);
            }
        }
        None
    }

    /// The next person, or `None` at the end of the share.
    #[inline]
    pub fn next_person(&mut self) -> Option<&Person> {
        let n = self.next_number()?;
        Some(self.maker.person(n))
    }

    /// The next auction, or `None` at the end of the share.
    #[inline]
    pub fn next_auction(&mut self) -> Option<&Auction> {
        let n = self.next_number()?;
        Some(self.maker.auction(n))
    }

    /// The next bid, or `None` at the end of the share.
    #[inline]
    pub fn next_bid(&mut self) -> Option<&Bid> {
        let n = self.next_number()?;
        Some(self.maker.bid(n))
    }

    /// Refuses the current event for `message`: only an event time out of range could be,
    /// and generated times never are.
    #[cold]
    pub fn reject_message(&mut self, message: &str) -> Result<(), JobError> {
        self.bad.reject(self.taken, b"", message)
    }

    /// `e`, naming the current event.
    #[cold]
    pub fn locate(&self, e: JobError) -> JobError {
        let kind = self.kind.name();
        e.at_record(|| format!("<nexmark {kind}>:{}", self.taken))
    }

    /// Ends the source.
    pub fn finish(mut self, ctx: &mut JobContext) -> Result<(), JobError> {
        self.bad.finish(ctx)
    }
}

impl crate::io::Source for NexmarkSource {
    fn wake_up(&mut self) -> Result<bool, JobError> {
        Ok(false)
    }

    /// The next position of the run to look at, and the events handed out.
    fn position(&self) -> SourcePosition {
        SourcePosition {
            offset: self.next,
            lines: self.taken,
        }
    }

    /// Goes on from `position`: the events are a function of their position, so nothing
    /// before it is made again.
    fn seek(&mut self, position: SourcePosition) -> Result<(), JobError> {
        if position.offset % self.step != self.next % self.step {
            return Err(JobError::Config(format!(
                "a checkpoint of the Nexmark source stands at position {}, which is not in this worker's share",
                position.offset
            )));
        }
        self.next = position.offset;
        self.taken = position.lines;
        Ok(())
    }
}

crate::io::source::checkpointed_source!(NexmarkSource);
