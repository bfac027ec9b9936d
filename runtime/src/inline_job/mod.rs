//! The value a `stream!` pipeline evaluates to: a job the program runs when it likes, in
//! its own process, with the same context (memory budgets, report) as a `.pipe` job.
//!
//! Where its workers run is part of the configuration's type: [`OneWorker`] (the
//! default) runs the job on the calling thread and asks nothing of the user's closures;
//! [`Workers`] (after [`JobConfig::parallelism`]) and [`Processes`] (after
//! [`JobConfig::cluster`]) run one copy of the job per worker, so they ask more of the
//! pipeline ([`ParallelBody`], and [`CollectedRows`] for records that travel between
//! processes), and rustc checks that only for the programs that use them. So is whether
//! it takes checkpoints ([`Checkpointing`], after [`JobConfig::checkpoints`]), which asks
//! for [`CheckpointedBody`].

mod collected;
mod config;

pub use collected::{Collected, CollectedRows};
pub use config::{
    CheckpointChoice, Checkpointing, JobConfig, NoCheckpoints, OneWorker, Placement, Processes,
    Workers,
};

use crate::checkpoint::JobCodec;
use crate::job::{JobArgs, JobContext, JobSpec};
use crate::parallel::{Cluster, Travel};
use crate::JobError;

/// The generated part of an inline job: its closures and iterators, and the code that
/// runs it on one worker.
pub trait InlineBody: Sized {
    /// What its `collect()` sinks gathered: `()` without one, a `Vec` for one, a tuple of
    /// them for several.
    type Output: Collected;
    /// The generated job one worker runs.
    type Job;
    /// Runs the job on the calling thread as its only worker; with `codec`, the job can
    /// be checkpointed.
    fn run(
        self,
        ctx: &mut JobContext,
        codec: Option<JobCodec<Self::Job>>,
    ) -> Result<Self::Output, JobError>;
}

/// An inline job that can be checkpointed: its collected records have a
/// [`Layout`](crate::Layout), so a checkpoint can hold them.
#[diagnostic::on_unimplemented(
    message = "this `stream!` job cannot take checkpoints",
    label = "a checkpoint holds what `collect()` gathered so far, so collected records need a binary layout",
    note = "numbers, `bool`, `String`, tuples of them, and structs with `#[derive(weir::Record)]` have one; a `for_each` or file sink asks nothing"
)]
pub trait CheckpointedBody: InlineBody {
    /// How the job saves and restores its state.
    fn codec() -> JobCodec<Self::Job>;
}

/// An inline job that can run on several workers.
#[diagnostic::on_unimplemented(
    message = "this `stream!` job cannot run on several workers",
    label = "its closures must be `Clone + Send`, the records crossing a `key_by` must have a `Layout`, and collected records must be `Send`",
    note = "`JobConfig::parallelism` and `JobConfig::cluster` give each worker its own copy of the closures"
)]
pub trait ParallelBody: InlineBody {
    /// Runs the job on this process's workers (`ctx`'s cluster), the first on the calling
    /// thread (it reads the `iter(...)` sources), and gathers what they collected; with
    /// `travel`, what the workers of other processes collected too.
    fn run_workers(
        self,
        ctx: &mut JobContext,
        travel: Option<Travel<Self::Output>>,
        codec: Option<JobCodec<Self::Job>>,
    ) -> Result<Self::Output, JobError>;
}

/// Whether a job of body `B` is checkpointed (`Self`, a [`CheckpointChoice`]): with
/// [`Checkpointing`], the body's codec, which only a [`CheckpointedBody`] has.
pub trait CodecFor<B: InlineBody>: CheckpointChoice {
    /// The codec the job runs with.
    fn codec() -> Option<JobCodec<B::Job>>;
}

impl<B: InlineBody> CodecFor<B> for NoCheckpoints {
    fn codec() -> Option<JobCodec<B::Job>> {
        None
    }
}

impl<B: CheckpointedBody> CodecFor<B> for Checkpointing {
    fn codec() -> Option<JobCodec<B::Job>> {
        Some(B::codec())
    }
}

/// Where workers run (`Self`, a [`Placement`]) that can run the job `B`. Dispatched on
/// the placement rather than the body so that rustc learns the placement from the
/// configuration passed, and reports the bound the body misses for it.
pub trait Runner<B: InlineBody> {
    /// Runs `body` in `ctx`, checkpointed with `codec`.
    fn run(
        body: B,
        ctx: &mut JobContext,
        codec: Option<JobCodec<B::Job>>,
    ) -> Result<B::Output, JobError>;
}

impl<B: InlineBody> Runner<B> for OneWorker {
    fn run(
        body: B,
        ctx: &mut JobContext,
        codec: Option<JobCodec<B::Job>>,
    ) -> Result<B::Output, JobError> {
        body.run(ctx, codec)
    }
}

impl<B: ParallelBody> Runner<B> for Workers {
    fn run(
        body: B,
        ctx: &mut JobContext,
        codec: Option<JobCodec<B::Job>>,
    ) -> Result<B::Output, JobError> {
        if ctx.args().cluster.workers() > 1 {
            body.run_workers(ctx, None, codec)
        } else {
            body.run(ctx, codec)
        }
    }
}

impl<B> Runner<B> for Processes
where
    B: ParallelBody,
    B::Output: CollectedRows,
{
    fn run(
        body: B,
        ctx: &mut JobContext,
        codec: Option<JobCodec<B::Job>>,
    ) -> Result<B::Output, JobError> {
        if ctx.args().cluster.workers() > 1 {
            body.run_workers(ctx, Some(collected::travel::<B::Output>()), codec)
        } else {
            body.run(ctx, codec)
        }
    }
}

/// A compiled inline pipeline, not yet run. `run` consumes it: its sources are iterators
/// and files read once.
#[must_use = "a stream! job does nothing until it is run"]
pub struct InlineJob<B> {
    spec: &'static JobSpec,
    body: B,
}

impl<B> std::fmt::Debug for InlineJob<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineJob")
            .field("spec", self.spec)
            .finish()
    }
}

impl<B: InlineBody> InlineJob<B> {
    /// Wraps generated code: `body` runs the job in a context made for `spec`.
    pub fn new(spec: &'static JobSpec, body: B) -> Self {
        InlineJob { spec, body }
    }

    /// The job's stateful operators, each at its place in the program's source
    /// (`aggregate at src/main.rs:12:9`), with its memory budget under `config`; on
    /// several workers, each worker's share and the exchange buffers.
    pub fn explain<P: Placement>(&self, config: &JobConfig<P>) -> Result<String, JobError> {
        let workers = config.workers.cluster().workers();
        self.spec.budgets_on(config.memory, workers)
    }

    /// Runs the job with the default configuration and returns what its `collect()` sinks
    /// gathered (`()` without one, a tuple for several).
    pub fn run(self) -> Result<B::Output, JobError> {
        self.run_with(JobConfig::default())
    }

    /// Runs the job with `config`. What a `.pipe` job reports at its end (skipped records,
    /// dropped late records) goes to stderr here too (in a cluster, from the first
    /// process, for the whole job). With checkpoints, a run that finds one of this
    /// pipeline in their directory resumes from it.
    pub fn run_with<P, C>(self, config: JobConfig<P, C>) -> Result<B::Output, JobError>
    where
        P: Placement + Runner<B>,
        C: CodecFor<B>,
    {
        let cluster = config.workers.cluster();
        cluster.check_inline()?;
        let mut args = self.args(config.memory, config.spill_dir, cluster);
        args.clock = config.clock;
        args.checkpoint = config.checkpoints.config();
        if let Some(c) = &args.checkpoint {
            if c.interval.is_zero() {
                return Err(JobError::Config(
                    "checkpoints need an interval above zero".to_string(),
                ));
            }
        }
        args.ui = config.ui;
        let mut ctx = JobContext::new(self.spec, args)?.with_input_stop(config.input_stop);
        ctx.serve_ui(self.spec)?;
        let result = P::run(self.body, &mut ctx, C::codec());
        ctx.finish(result)
    }

    fn args(
        &self,
        memory: u64,
        spill_dir: Option<std::path::PathBuf>,
        cluster: Cluster,
    ) -> JobArgs {
        JobArgs {
            memory,
            inputs: Vec::new(),
            outputs: Vec::new(),
            stats: false,
            stats_json: None,
            flush_every: crate::job::DEFAULT_FLUSH,
            spill_dir,
            cluster,
            clock: crate::time::ClockMode::System,
            checkpoint: None,
            owns_process: false,
            events: None,
            ui: None,
        }
    }
}
