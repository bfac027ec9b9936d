//! The job driver: the life cycle every job shares, generic over the part the compiler
//! writes for one pipeline ([`Pipeline`]).
//!
//! A generated job is its operators' state and sinks, one method per chain, and the code
//! that hands each source's records to its chain. Everything else is here: taking the
//! worker's exchange ([`attach`]), reading a source to its end or a batch of it while
//! waking up for quiet live input and pumping the exchange (`read_to_end!`,
//! `read_batch!`, which expand around the generated code that reads one record), and the
//! end of input on one worker or several ([`end_of_input`]).

use super::JobContext;
use crate::parallel::{pump, Exchange, Exchanging};
use crate::JobError;

/// What the compiler writes for one pipeline, beyond its chains: the driver calls these.
pub trait Pipeline: Exchanging {
    /// Nodes of the plan in topological order: [`Exchanging::finish_step`] takes
    /// `0..STEPS`.
    const STEPS: usize;
    /// The exchange whose window fires on the worker that read its records, in time order
    /// (`crate::parallel::finish_in_time_order`), if the job has one.
    const TIME_ORDERED: Option<usize> = None;

    /// Takes this worker's exchange (`None` on one worker).
    fn set_exchange(&mut self, exchange: Option<Exchange>);

    /// On several workers, once the exchange is taken: what the job needs besides (its
    /// combiners).
    fn start_parallel(&mut self, ctx: &mut JobContext) -> Result<(), JobError> {
        let _ = ctx;
        Ok(())
    }

    /// A wake-up while live input is quiet: processing-time windows fire what is due,
    /// sinks write out what has waited.
    fn tick(&mut self) -> Result<(), JobError> {
        Ok(())
    }

    /// Each stateful operator's records in and out: for the run's report, and for the
    /// live page while it runs.
    fn count_records(&self, ctx: &mut dyn RecordCounts) {
        let _ = ctx;
    }
}

/// Where a job tells its stateful operators' records in and out.
pub trait RecordCounts {
    /// Operator `id` received `records_in` records and emitted `records_out`.
    fn operator_records(&mut self, id: usize, records_in: u64, records_out: u64);
}

impl RecordCounts for Vec<(usize, u64, u64)> {
    fn operator_records(&mut self, id: usize, records_in: u64, records_out: u64) {
        self.push((id, records_in, records_out));
    }
}

/// Takes this worker's exchange; with one, starts what the job needs on several workers.
pub fn attach<P: Pipeline>(
    job: &mut P,
    ctx: &mut JobContext,
    exchange: Option<Exchange>,
) -> Result<(), JobError> {
    let parallel = exchange.is_some();
    job.set_exchange(exchange);
    if parallel {
        job.start_parallel(ctx)?;
    }
    Ok(())
}

/// Reads source `$src` (a local) to its end into `$job` (a local): `$next` reads one
/// record and hands it on, and may `break` at the end of the input or `continue` past a
/// record; in it, `$job` and `$src` are `&mut` to the job and the source. A quiet live input
/// makes the job tick and pump its exchange ([`Source::wake_up`](crate::io::Source)).
///
/// A macro, not a function taking a closure: the record path must be one loop the
/// compiler sees whole. Through a closure, WordCount executed 3% more instructions (602M
/// against 583M on 10 MB), all in the per-word path.
#[macro_export]
macro_rules! read_to_end {
    // `$quiet` runs while the input is quiet, after the job ticked, with `$job` and `$src`
    // as in `$next` (the live page's figures are published there).
    ($job:ident, $src:ident, $quiet:block, $next:block) => {
        loop {
            if $crate::io::Source::wake_up(&mut $src)? {
                $crate::job::Pipeline::tick(&mut $job)?;
                $crate::parallel::pump(&mut $job, false)?;
                {
                    let $job = &mut $job;
                    let $src = &mut $src;
                    $quiet
                }
                continue;
            }
            let $job = &mut $job;
            let $src = &mut $src;
            $next
        }
    };
    ($job:ident, $src:ident, $next:block) => {
        loop {
            if $crate::io::Source::wake_up(&mut $src)? {
                $crate::job::Pipeline::tick(&mut $job)?;
                $crate::parallel::pump(&mut $job, false)?;
                continue;
            }
            let $job = &mut $job;
            let $src = &mut $src;
            $next
        }
    };
}

/// Reads up to `$batch` records of `$src` (a `&mut` to the source) into `$job` (a local),
/// as [`read_to_end!`] does, for a job reading several sources in turn: `$next` may
/// `break` at the end of the input (after noting it) or `continue` past a record; a quiet
/// live input ends the batch after the job ticks.
#[macro_export]
macro_rules! read_batch {
    ($job:ident, $src:ident, $batch:expr, $next:block) => {
        for _ in 0..$batch {
            if $crate::io::Source::wake_up(&mut *$src)? {
                $crate::job::Pipeline::tick(&mut $job)?;
                $crate::parallel::pump(&mut $job, false)?;
                break;
            }
            let $job = &mut $job;
            $next
        }
    };
}

/// Which of several sources a job reads next: the open one whose watermark is lowest, the
/// first such in declaration order. A source without event time counts as lowest, an idle
/// one as highest (so a quiet live input does not keep the others waiting). Reading the
/// one furthest behind keeps a union or a join from holding more than about a batch and
/// the disorder in memory. Generated code offers each source in turn, then reads the one
/// [`chosen`](SourcePick::chosen).
#[derive(Debug, Clone, Copy)]
pub struct SourcePick {
    pick: Option<usize>,
    low: i64,
}

impl SourcePick {
    /// No source offered yet.
    #[inline(always)]
    pub fn new() -> Self {
        SourcePick {
            pick: None,
            low: i64::MAX,
        }
    }

    /// Offers source `i`, if it is still `open`, at watermark `wm()`.
    #[inline(always)]
    pub fn offer(&mut self, i: usize, open: bool, wm: impl FnOnce() -> i64) {
        if open {
            let wm = wm();
            if self.pick.is_none() || wm < self.low {
                self.pick = Some(i);
                self.low = wm;
            }
        }
    }

    /// The source to read next; `None` once every source has ended.
    #[inline(always)]
    pub fn chosen(&self) -> Option<usize> {
        self.pick
    }
}

impl Default for SourcePick {
    fn default() -> Self {
        SourcePick::new()
    }
}

/// Sends what waits in the job's outbox when it is full (between records).
#[inline(always)]
pub fn pump_if_full<P: Pipeline>(job: &mut P) -> Result<(), JobError> {
    if job.exchange().is_some_and(|x| x.outbox.is_full()) {
        pump(job, false)?;
    }
    Ok(())
}

/// Every source has ended: on one worker, each node finishes in topological order
/// (windows still open fire, aggregates emit, sinks commit); on several, step by step
/// with the other workers (`crate::parallel::finish`).
pub fn end_of_input<P: Pipeline>(job: &mut P, ctx: &mut JobContext) -> Result<(), JobError> {
    finish_job(job, ctx, &mut |_, _| Ok(()))
}

/// [`end_of_input`] for a job that takes checkpoints: on several workers, one waiting for
/// the others takes part in their checkpoints.
pub fn end_of_input_with<P: Pipeline + crate::checkpoint::Checkpointed>(
    job: &mut P,
    ctx: &mut JobContext,
    checkpoints: &mut crate::checkpoint::Checkpoints,
) -> Result<(), JobError> {
    finish_job(job, ctx, &mut |job, done| checkpoints.at_end(job, done))
}

fn finish_job<P: Pipeline>(
    job: &mut P,
    ctx: &mut JobContext,
    waiting: &mut dyn FnMut(&mut P, bool) -> Result<(), JobError>,
) -> Result<(), JobError> {
    if job.exchange().is_none() {
        for step in 0..P::STEPS {
            job.finish_step(step, ctx)?;
        }
    } else if let Some(edge) = P::TIME_ORDERED {
        crate::parallel::finish_in_time_order(job, ctx, edge)?;
    } else {
        crate::parallel::finish(job, ctx, waiting)?;
    }
    job.count_records(ctx);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::SourcePick;

    fn pick(watermarks: &[Option<i64>]) -> Option<usize> {
        let mut p = SourcePick::new();
        for (i, wm) in watermarks.iter().enumerate() {
            p.offer(i, wm.is_some(), || wm.unwrap());
        }
        p.chosen()
    }

    #[test]
    fn the_source_furthest_behind_is_read_next_and_ended_ones_never() {
        assert_eq!(pick(&[]), None);
        assert_eq!(pick(&[None, None]), None);
        assert_eq!(
            pick(&[Some(5), Some(3), Some(3)]),
            Some(1),
            "ties: the first"
        );
        assert_eq!(pick(&[Some(i64::MAX), Some(i64::MIN)]), Some(1));
        assert_eq!(
            pick(&[None, Some(i64::MAX)]),
            Some(1),
            "an idle one still ends"
        );
    }
}
