//! Taking a run's checkpoints and resuming from one.
//!
//! The generated `run` opens [`Checkpoints`] before it makes the job (so that sinks open
//! their durable parts), restores the job's fields right after making it and each
//! source once all are open, and between two records asks [`Checkpoints::due`] (a flag a
//! timer thread raises every interval: one load per record) and then
//! [`Checkpoints::take`]. A checkpoint that fails (a full disk, say) is reported and
//! the job goes on; after `--checkpoint-failures` in a row (default
//! [`DEFAULT_MAX_FAILURES`](super::DEFAULT_MAX_FAILURES)) the job stops.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod resume;

use super::config::CheckpointConfig;
use super::store::{self, Manifest};
use super::{Checkpointed, CutJob, StateOut};
use crate::parallel::WorkerSlot;
use crate::{InputSplit, JobContext, JobError, JobSpec};
use resume::{check_pipeline, check_workers};

/// A run's checkpoints: none when the job takes none.
#[derive(Debug)]
pub struct Checkpoints {
    /// Raised when one is due; never, without checkpoints. Kept here, not in `active`:
    /// the check runs at every record.
    due: Arc<AtomicBool>,
    active: Option<Box<Active>>,
    /// The live page this worker publishes to (`--ui`), when it has one.
    watch: Option<Box<crate::monitor::Watch>>,
}

#[derive(Debug)]
pub(super) struct Active {
    pub(super) config: CheckpointConfig,
    pub(super) spec: &'static JobSpec,
    /// This worker, of how many.
    pub(super) slot: WorkerSlot,
    pub(super) next_id: u64,
    /// The checkpoint being resumed from, and where this worker's sources' part starts.
    resume: Option<(store::Found, usize)>,
    failed_in_row: u32,
    /// Shared with the job's context, for its report.
    stats: Arc<Mutex<CheckpointStats>>,
    /// The job's outputs, published at each checkpoint when the job follows a file.
    outputs: crate::io::PendingOutputs,
    stop: crate::io::InputStop,
    /// No checkpoint before this: records get at least [`WORK_PER_PAUSE`] times the last
    /// pause, whatever the interval (Flink's minimum pause between checkpoints).
    pub(super) quiet_until: Instant,
    /// On several workers, the state of this worker's sources where the last one ended:
    /// what the cuts it joins at the end of input hold of them (`cut.rs`).
    pub(super) ended_sources: Option<Vec<u8>>,
    /// On several workers, when this one begins its next cut, unless another began one
    /// first (`cut.rs`).
    pub(super) next_due: std::time::SystemTime,
    /// The savepoint the run starts from, if it does.
    savepoint: Option<super::savepoint::Loaded>,
    /// Where the job's file sinks keep their parts (a savepoint copies what they committed).
    pub(super) sink_parts: super::savepoint::SinkParts,
    /// Raised by SIGUSR1 when the run has a `--savepoint-dir`.
    savepoint_requested: Arc<AtomicBool>,
    /// Raised with `due` by the checkpoint timer alone: with a live page, which raises
    /// `due` too, one worker takes a checkpoint only when this says one is due.
    timer_fired: Arc<AtomicBool>,
    /// The checkpoint a thread is writing, if any (`background.rs`).
    writing: Option<super::background::Writing>,
}

/// Time records get, at the least, for each unit of time a checkpoint stops them: a state
/// slow to copy (a large one spilled to disk, read back whole) stretches the interval
/// instead of stopping the job for good (WordCount over 1 GB under 16 MB with 1 s
/// checkpoints did not end in 300 s, against 14 s without).
const WORK_PER_PAUSE: u32 = 9;

/// What a run's checkpoints took, for its report (`--stats`, `--stats-json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CheckpointStats {
    /// Checkpoints completed.
    pub taken: u64,
    /// Checkpoints that failed.
    pub failed: u64,
    /// The longest time records waited for one (the state copied and written), in ms.
    pub longest_pause_ms: u64,
    /// Bytes of the last one's state.
    pub last_bytes: u64,
    /// How long records waited for the last one, in ms.
    pub last_pause_ms: u64,
}

impl Checkpoints {
    /// The checkpoints of a run of `spec` with `ctx`'s arguments: none without
    /// `--checkpoint-dir`. With one, finds the newest complete checkpoint there (passing
    /// over damaged ones with a warning) and refuses one of another pipeline; from here on
    /// outputs are durable parts, kept as they are when the run resumes.
    pub fn open(ctx: &mut JobContext, spec: &'static JobSpec) -> Result<Self, JobError> {
        let due = Arc::new(AtomicBool::new(false));
        let watch = ctx
            .monitor()
            .map(|board| Box::new(crate::monitor::Watch::new(board, &due, ctx.worker().index)));
        let Some(config) = ctx.args().checkpoint.clone() else {
            return Ok(Checkpoints {
                due,
                active: None,
                watch,
            });
        };
        let slot = ctx.worker();
        if !slot.is_single() && spec.inputs == InputSplit::EventTimeSlices {
            return Err(JobError::Config(format!(
                "job `{}` reads its input in event-time slices on {} workers, which \
                 checkpoints do not cover yet: run it with --parallelism 1, or without \
                 --checkpoint-dir",
                spec.name, slot.peers
            )));
        }
        std::fs::create_dir_all(&config.dir).map_err(|source| JobError::Io {
            action: "cannot create the checkpoint directory",
            path: config.dir.display().to_string(),
            source,
        })?;
        let found = store::latest(&config.dir, |w| {
            if slot.index == 0 {
                eprintln!("warning: {w}");
            }
        })?;
        if let Some(found) = &found {
            check_pipeline(&found.manifest, spec, &config.dir)?;
            check_workers(&found.manifest, spec, slot)?;
        }
        let sink_parts = super::savepoint::run::sink_parts(ctx, spec);
        let savepoint = match (&found, &config.savepoints.from) {
            (None, Some(from)) => Some(super::savepoint::run::start_from_savepoint(
                from,
                &config,
                spec,
                slot,
                &sink_parts,
            )?),
            _ => None,
        };
        ctx.outputs_mut()
            .durable(found.is_some() || savepoint.is_some());
        let owns_process = ctx.args().owns_process;
        let savepoint_requested =
            super::savepoint::run::savepoint_signal(&config, slot, &due, owns_process)?;
        let next_id = store::next_id(&config.dir)?;
        // On several workers the timer only wakes the worker up to look for a cut another
        // one began (`cut.rs`); when one is due is reckoned in `take`.
        let poll = if slot.is_single() {
            config.interval
        } else {
            config.interval.min(super::cut::POLL)
        };
        let timer_fired = Arc::new(AtomicBool::new(false));
        start_timer(&due, &timer_fired, poll);
        let next_due = super::cut::next_due(std::time::SystemTime::now(), config.interval);
        let stats = Arc::new(Mutex::new(CheckpointStats::default()));
        ctx.report_checkpoints(stats.clone());
        if let Some(w) = &watch {
            w.show_checkpoints(stats.clone());
        }
        let (outputs, stop) = (ctx.outputs().clone(), ctx.input_stop().clone());
        Ok(Checkpoints {
            due,
            watch,
            active: Some(Box::new(Active {
                config,
                spec,
                slot,
                next_id,
                resume: found.map(|f| (f, 0)),
                failed_in_row: 0,
                stats,
                outputs,
                stop,
                quiet_until: Instant::now(),
                ended_sources: None,
                savepoint,
                sink_parts,
                savepoint_requested,
                timer_fired,
                writing: None,
                next_due,
            })),
        })
    }

    /// Whether a checkpoint is due.
    #[inline(always)]
    pub fn due(&self) -> bool {
        self.due.load(Ordering::Relaxed)
    }

    /// Takes a checkpoint of `job` and `sources` (each source, then its watermark
    /// generator, in the order `run` opened them), between two records. Out of line and
    /// cold: it sits in the record loop, which must stay as it was without it.
    #[cold]
    #[inline(never)]
    pub fn take(
        &mut self,
        job: &mut dyn CutJob,
        sources: &mut [&mut dyn Checkpointed],
    ) -> Result<(), JobError> {
        self.due.store(false, Ordering::Relaxed);
        if let Some(w) = &self.watch {
            w.publish_if_wanted(job, sources);
        }
        let Some(a) = self.active.as_mut() else {
            return Ok(());
        };
        let started = Instant::now();
        if a.savepoint_requested.swap(false, Ordering::Relaxed) {
            match a.config.savepoints.dir.clone() {
                Some(dir) => a.write_savepoint(job, sources, Some(dir))?,
                None => eprintln!(
                    "warning: job `{}` was asked for a savepoint (SIGUSR1) but has nowhere to \
                     write it: start it with --savepoint-dir DIR",
                    a.spec.name
                ),
            }
        }
        if !a.slot.is_single() {
            let Some(id) = a.cut_to_take(job, started)? else {
                return Ok(());
            };
            let written = a.cut(job, super::cut::CutSources::Open(sources), id);
            return a.taken(id, started.elapsed(), written);
        }
        // The live page raises `due` too: one worker checks that the timer did.
        let timed = a.timer_fired.swap(false, Ordering::Relaxed);
        if started < a.quiet_until || (self.watch.is_some() && !timed) {
            return Ok(());
        }
        if let Some(writing) = a.writing.take() {
            if !writing.is_done() {
                // One at a time: this one is skipped.
                a.writing = Some(writing);
                return Ok(());
            }
            let (id, pause, written) = writing.wait();
            a.taken(id, pause, written)?;
        }
        let id = a.next_id;
        a.next_id += 1;
        if a.stop.is_following() {
            let written = a.write(id, job, sources);
            return a.taken(id, started.elapsed(), written);
        }
        a.write_in_background(id, job, sources, started)
    }

    /// While a live input is quiet (no record, so no [`take`](Self::take)): publishes the
    /// job's figures to the live page if it asked for them, and takes no checkpoint.
    #[cold]
    #[inline(never)]
    pub fn publish(&mut self, job: &mut dyn CutJob, sources: &mut [&mut dyn Checkpointed]) {
        if let Some(w) = &self.watch {
            w.publish_if_wanted(job, sources);
        }
    }

    /// At the end of input on one of several workers, waiting for the others: joins the
    /// cut another worker began, if any; once this worker is `done` with the whole job,
    /// keeps joining cuts until every worker is (`cut.rs`).
    pub fn at_end(&mut self, job: &mut dyn CutJob, done: bool) -> Result<(), JobError> {
        let Some(a) = self.active.as_mut() else {
            return Ok(());
        };
        if a.slot.is_single() {
            return Ok(());
        }
        if done {
            return a.serve_until_all_done(job);
        }
        let requested = job.exchange().and_then(|x| x.markers.requested());
        if let Some(id) = requested {
            let started = Instant::now();
            let written = a.cut(job, super::cut::CutSources::Ended, id);
            a.taken(id, started.elapsed(), written)?;
        }
        Ok(())
    }
}

impl Active {
    /// Counts checkpoint `id`, begun at `started`, as taken (`written` its bytes) or failed;
    /// the error of one failure too many.
    pub(super) fn taken(
        &mut self,
        id: u64,
        pause: Duration,
        written: Result<u64, JobError>,
    ) -> Result<(), JobError> {
        let a = self;
        a.quiet_until = Instant::now() + pause * WORK_PER_PAUSE;
        let mut stats = a.stats.lock().unwrap_or_else(|e| e.into_inner());
        match written {
            Ok(bytes) => {
                a.failed_in_row = 0;
                stats.taken += 1;
                stats.last_bytes = bytes;
                let pause = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX);
                stats.longest_pause_ms = stats.longest_pause_ms.max(pause);
                stats.last_pause_ms = pause;
                Ok(())
            }
            Err(e) => {
                a.failed_in_row += 1;
                stats.failed += 1;
                if a.failed_in_row >= a.config.max_failures {
                    eprintln!(
                        "weir: {} checkpoint(s) in a row failed; job `{}` stops",
                        a.failed_in_row, a.spec.name
                    );
                    return Err(e);
                }
                if a.slot.index == 0 {
                    eprintln!(
                        "warning: checkpoint {id} of job `{}` failed: {e}",
                        a.spec.name
                    );
                }
                Ok(())
            }
        }
    }
}

/// A run's end waits for the checkpoint its thread is writing: the job then clears its
/// checkpoints or resumes from them, and none may appear after.
impl Drop for Checkpoints {
    fn drop(&mut self) {
        let Some(a) = self.active.as_mut() else {
            return;
        };
        if let Some(writing) = a.writing.take() {
            let (id, pause, written) = writing.wait();
            if let Err(e) = a.taken(id, pause, written) {
                eprintln!("warning: {e}");
            }
        }
    }
}

impl Checkpoints {
    /// Whether the run stops here, its followed inputs having been stopped (SIGINT or
    /// SIGTERM) while it takes checkpoints: then it takes a last checkpoint where the input
    /// stopped (its outputs then hold what it committed) and ends without firing what is
    /// still open or committing its parts, so that the next run resumes where it stopped,
    /// as if it had never stopped. Called where a source has ended, with `job` and every
    /// source as [`take`](Self::take) has them.
    #[cold]
    #[inline(never)]
    pub fn stopped(
        &mut self,
        ctx: &mut JobContext,
        job: &mut dyn CutJob,
        sources: &mut [&mut dyn Checkpointed],
    ) -> Result<bool, JobError> {
        let Some(a) = self.active.as_mut() else {
            return Ok(false);
        };
        if !a.slot.is_single() {
            a.ended_sources = Some(super::cut::save_sources(sources)?);
        }
        if !a.stop.is_stopped() {
            return Ok(false);
        }
        let id = a.next_id;
        a.next_id += 1;
        if let Some(writing) = a.writing.take() {
            let (id, pause, written) = writing.wait();
            a.taken(id, pause, written)?;
        }
        let bytes = a.write(id, job, sources)?;
        {
            let mut stats = a.stats.lock().unwrap_or_else(|e| e.into_inner());
            stats.taken += 1;
            stats.last_bytes = bytes;
        }
        ctx.keep_for_resuming();
        eprintln!(
            "weir: job `{}` stopped at checkpoint {id}; the same command resumes it",
            a.spec.name
        );
        a.write_savepoint(job, sources, a.config.savepoints.on_stop.clone())?;
        Ok(true)
    }
}

impl Active {
    /// Writes checkpoint `id`; the bytes of its state.
    fn write(
        &mut self,
        id: u64,
        job: &mut dyn CutJob,
        sources: &mut [&mut dyn Checkpointed],
    ) -> Result<u64, JobError> {
        let at = store::folder(&self.config.dir, id);
        let state =
            super::cut::write_state(&at, 0, job, super::cut::CutSources::Open(sources), None);
        let bytes = store::finish(&self.config.dir, self.manifest(id), state)?;
        self.publish()?;
        Ok(bytes)
    }

    /// Takes checkpoint `id` (begun at `started`) written in the background
    /// (`background.rs`): the state saved into memory now, written by a thread; or, too
    /// large for a copy, streamed to its file now.
    fn write_in_background(
        &mut self,
        id: u64,
        job: &mut dyn CutJob,
        sources: &mut [&mut dyn Checkpointed],
        started: Instant,
    ) -> Result<(), JobError> {
        let at = store::folder(&self.config.dir, id);
        let path = store::state_file(&at, 0);
        let saved = std::fs::create_dir_all(&at)
            .map_err(|source| JobError::Io {
                action: "cannot create checkpoint folder",
                path: at.display().to_string(),
                source,
            })
            .and_then(|()| {
                let mut out = StateOut::kept(path.clone());
                out.section("job", |o| job.save(o))?;
                out.raw(&super::cut::save_sources(sources)?);
                Ok(out)
            });
        let manifest = self.manifest(id);
        let streamed = match saved.map(StateOut::in_memory) {
            Ok(Ok(state)) => {
                self.writing = Some(super::background::Writing::start(
                    self.config.dir.clone(),
                    manifest,
                    state,
                    self.outputs.clone(),
                    started.elapsed(),
                ));
                return Ok(());
            }
            Ok(Err(out)) => out,
            Err(e) => {
                store::complete(&self.config.dir, id, true)?;
                return self.taken(id, started.elapsed(), Err(e));
            }
        };
        let state = streamed
            .finish_file(&path)
            .and_then(|sum| self.outputs.sync_parts().map(|()| sum));
        let written = store::finish(&self.config.dir, manifest, state);
        self.taken(id, started.elapsed(), written)
    }

    /// The manifest of checkpoint `id` of this job on one worker (its state's length and
    /// CRC-32 filled in when it is written).
    fn manifest(&self, id: u64) -> Manifest {
        Manifest::new(
            id,
            self.spec.name,
            self.spec.pipeline,
            operators(self.spec),
            1,
        )
    }

    /// A job that follows a file shows what each checkpoint committed in its outputs at
    /// once (a bounded job's appear whole at its end). The sinks wrote out everything at
    /// the checkpoint, and nothing since: each part holds just what it committed.
    pub(super) fn publish(&self) -> Result<(), JobError> {
        if self.stop.is_following() {
            self.outputs.publish()?;
        }
        Ok(())
    }
}

pub(super) fn operators(spec: &JobSpec) -> Vec<String> {
    spec.operators.iter().map(|o| o.name.to_string()).collect()
}

/// Raises `due` and `fired` every `interval` for as long as the run holds `due`.
fn start_timer(due: &Arc<AtomicBool>, fired: &Arc<AtomicBool>, interval: Duration) {
    let weak = Arc::downgrade(due);
    let fired = fired.clone();
    std::thread::spawn(move || loop {
        std::thread::sleep(interval);
        match weak.upgrade() {
            Some(due) => {
                fired.store(true, Ordering::Relaxed);
                due.store(true, Ordering::Relaxed);
            }
            None => return,
        }
    });
}
