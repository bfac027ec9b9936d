//! A checkpoint across several workers: a consistent cut, taken with markers in the
//! streams between workers, as Flink's aligned checkpoint barriers are.
//!
//! Every worker sends every other its records, watermarks and ends in one ordered stream
//! (`parallel::Outbox`), so a marker in a stream divides what the sender sent before the
//! cut from what it sends after. A worker whose checkpoint is due (or that sees another's
//! marker) stops reading its sources and sends marker round 0 to every worker. It keeps
//! taking in what arrives (records sent before the cut, which may make records of its own
//! for a later exchange) until round 0's marker has come from every worker: then every
//! record read before the cut has crossed the first exchange, and it sends round 1. After
//! as many rounds as the job has exchanges, a record read before the cut has crossed
//! every exchange it will cross and reached its state: the streams are empty, and each
//! worker writes its own state (`state-W` in the checkpoint's folder). A last round says
//! each worker's state is written (with its length and CRC-32); worker 0 then writes the
//! manifest, and only then does a worker read on, so no record read after the cut can
//! reach a worker before it has written its state.
//!
//! Rounds rather than Flink's per-channel alignment keep a worker from holding back one
//! sender's stream while it waits for the others: nobody sends records read after the cut
//! until everyone has written its state. The price is that records wait for the slowest
//! worker's write: the checkpoint's pause.
//!
//! A worker at the end of its input joins cuts while it waits for the others
//! (`parallel::finish`), with its sources' state as it was where the last one ended; one
//! done with the whole job keeps joining them until every worker is done (marker 0).
//! timely-dataflow's own frontiers could play the markers' part, but the streams carry
//! watermarks as messages (event time is out of order), and markers fit beside them.

use std::time::{Duration, Instant, SystemTime};

use super::coordinator::{operators, Active};
use super::store::{self, Manifest};
use super::{Checkpointed, CutJob, StateOut};
use crate::parallel::{pump, Exchange};
use crate::JobError;

/// How often a worker of several looks for a cut another began, at the most.
pub(super) const POLL: Duration = Duration::from_millis(10);

/// The sources a cut holds: open ones, or, at the end of input, as they were where the
/// last one ended.
pub(super) enum CutSources<'a, 'b> {
    /// The run's sources, as `take` lists them.
    Open(&'a mut [&'b mut dyn Checkpointed]),
    /// Every source has ended.
    Ended,
}

/// The sources' sections of a checkpoint's state.
pub(super) fn save_sources(sources: &mut [&mut dyn Checkpointed]) -> Result<Vec<u8>, JobError> {
    let mut out = StateOut::new();
    for (i, s) in sources.iter_mut().enumerate() {
        out.section(&format!("source {i}"), |o| s.save(o))?;
    }
    Ok(out.finish())
}

/// Streams worker `worker`'s state into checkpoint folder `at` (created): the job's fields,
/// then its sources' (`ended`: as they were where the last one ended, for a worker at its
/// end of input). The file's length and CRC-32.
pub(super) fn write_state(
    at: &std::path::Path,
    worker: usize,
    job: &mut dyn CutJob,
    sources: CutSources<'_, '_>,
    ended: Option<&[u8]>,
) -> Result<(u64, u32), JobError> {
    let (mut out, path) = store::state_writer(at, worker)?;
    out.section("job", |o| job.save(o))?;
    match sources {
        CutSources::Open(sources) => out.raw(&save_sources(sources)?),
        CutSources::Ended => out.raw(ended.ok_or_else(|| {
            JobError::Config("a worker at its end of input kept no sources".to_string())
        })?),
    }
    out.finish_file(&path)
}

/// When the next checkpoint after `now` is due on every worker alike: the next multiple of
/// `interval` since the Unix epoch, so that workers in other processes begin together.
pub(super) fn next_due(now: SystemTime, interval: Duration) -> SystemTime {
    let since = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let step = interval.as_nanos().max(1);
    let next = (since.as_nanos() / step + 1) * step;
    let next = u64::try_from(next).unwrap_or(u64::MAX);
    SystemTime::UNIX_EPOCH + Duration::from_nanos(next)
}

fn exchange(job: &mut dyn CutJob) -> Result<&mut Exchange, JobError> {
    job.exchange().ok_or_else(|| {
        JobError::Config("a checkpoint across workers needs the job's exchange".to_string())
    })
}

impl Active {
    /// The cut this worker takes part in now, if any: one another worker began, or its own
    /// once one is due.
    pub(super) fn cut_to_take(
        &mut self,
        job: &mut dyn CutJob,
        now: Instant,
    ) -> Result<Option<u64>, JobError> {
        pump(job, false)?;
        if let Some(id) = exchange(job)?.markers.requested() {
            return Ok(Some(id));
        }
        if now < self.quiet_until || SystemTime::now() < self.next_due {
            return Ok(None);
        }
        Ok(Some(self.next_id))
    }

    /// Takes part in the cut of checkpoint `id` (see the module's doc): the bytes of the
    /// checkpoint's state, or why it failed (on every worker alike, if one could not write
    /// its state).
    pub(super) fn cut(
        &mut self,
        job: &mut dyn CutJob,
        sources: CutSources<'_, '_>,
        id: u64,
    ) -> Result<u64, JobError> {
        if id != self.next_id {
            return Err(JobError::Config(format!(
                "worker {} was asked for checkpoint {id} while the next in {} is {}: the \
                 processes of a job must share its checkpoint directory",
                self.slot.index,
                self.config.dir.display(),
                self.next_id
            )));
        }
        self.next_id = id + 1;
        let peers = self.slot.peers;
        let last = exchange(job)?.markers.last_round();
        for round in 0..last {
            exchange(job)?.outbox.marker(id, round, None);
            wait_for_round(job, id, round, peers)?;
        }
        let folder = store::folder(&self.config.dir, id);
        let ended = self.ended_sources.as_deref();
        let written = write_state(&folder, self.slot.index, job, sources, ended);
        exchange(job)?
            .outbox
            .marker(id, last, written.as_ref().ok().copied());
        wait_for_round(job, id, last, peers)?;
        let x = exchange(job)?;
        let mut sums = x.markers.written(id).to_vec();
        x.markers.finish(id);
        self.next_due = next_due(SystemTime::now(), self.config.interval);
        sums.sort_unstable_by_key(|(worker, _)| *worker);
        let completed = written.and_then(|_| self.complete(id, &sums));
        if completed.is_err() && self.slot.index == 0 {
            store::complete(&self.config.dir, id, true)?;
        }
        completed
    }

    /// Every worker's state of checkpoint `id` is written (`sums`, by worker): worker 0
    /// writes the manifest. The bytes of the whole state.
    fn complete(&self, id: u64, sums: &[(usize, Option<(u64, u32)>)]) -> Result<u64, JobError> {
        let mut states = Vec::with_capacity(sums.len());
        for (worker, sum) in sums {
            let sum = sum.ok_or_else(|| {
                JobError::Config(format!("worker {worker} could not write its state"))
            })?;
            states.push(sum);
        }
        if states.len() != self.slot.peers {
            return Err(JobError::Config(format!(
                "{} of {} workers wrote their state",
                states.len(),
                self.slot.peers
            )));
        }
        let bytes = states.iter().map(|(b, _)| b).sum();
        if self.slot.index == 0 {
            let mut manifest = Manifest::new(
                id,
                self.spec.name,
                self.spec.pipeline,
                operators(self.spec),
                self.slot.peers,
            );
            (manifest.state_bytes, manifest.state_crc) = states[0];
            manifest.worker_states = states[1..].to_vec();
            store::write_manifest(&store::folder(&self.config.dir, id), &manifest)?;
            store::complete(&self.config.dir, id, false)?;
        }
        Ok(bytes)
    }

    /// This worker is done with the whole job: it says so to every worker, and joins the
    /// cuts others begin until every worker has said so.
    pub(super) fn serve_until_all_done(&mut self, job: &mut dyn CutJob) -> Result<(), JobError> {
        exchange(job)?.outbox.marker(0, 0, None);
        loop {
            pump(job, true)?;
            let x = exchange(job)?;
            if let Some(id) = x.markers.requested() {
                let started = Instant::now();
                let written = self.cut(job, CutSources::Ended, id);
                self.taken(id, started.elapsed(), written)?;
            } else if x.markers.count(0, 0) >= self.slot.peers {
                return Ok(());
            }
        }
    }
}

/// Waits, taking in what arrives, until every one of `peers` workers has reached `round` of
/// checkpoint `id`.
fn wait_for_round(job: &mut dyn CutJob, id: u64, round: u8, peers: usize) -> Result<(), JobError> {
    loop {
        pump(job, true)?;
        if exchange(job)?.markers.count(id, round) >= peers {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_worker_reckons_the_same_moment_for_the_next_checkpoint() {
        let at = |ms: u64| SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
        let second = Duration::from_secs(1);
        assert_eq!(next_due(at(10_200), second), at(11_000));
        assert_eq!(next_due(at(10_999), second), at(11_000));
        assert_eq!(next_due(at(11_000), second), at(12_000));
        assert_eq!(
            next_due(at(5), Duration::ZERO),
            SystemTime::UNIX_EPOCH + Duration::from_nanos(5_000_001)
        );
    }
}
