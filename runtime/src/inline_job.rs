//! The value a `stream!` pipeline evaluates to: a job the program runs when it likes, in
//! its own process, with the same context (memory budgets, report) as a `.pipe` job.
//!
//! Where its workers run is part of the configuration's type: [`OneWorker`] (the
//! default) runs the job on the calling thread and asks nothing of the user's closures;
//! [`Workers`] (after [`JobConfig::parallelism`] or [`JobConfig::cluster`]) runs one copy
//! of the job per worker, so it asks more of the pipeline ([`ParallelBody`]), and rustc
//! checks that only for the programs that use it.

use crate::job::{JobArgs, JobContext, JobSpec};
use crate::memory::DEFAULT_MEMORY;
use crate::parallel::Cluster;
use crate::JobError;

/// How an inline job runs: its memory, where it spills, and on which workers (`P`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobConfig<P = OneWorker> {
    /// Managed memory in bytes, divided among the stateful operators (as `--memory`).
    pub memory: u64,
    /// Where state past its budget is spilled (as `--spill-dir`): a fresh directory is
    /// made in it, and removed when the job ends. The system's temporary directory when
    /// `None`.
    pub spill_dir: Option<std::path::PathBuf>,
    /// The job's workers.
    pub workers: P,
}

/// One worker, on the calling thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OneWorker;

/// Worker threads in this process, and, in a cluster, the other processes running the
/// same program (as `--parallelism`, `--processes`, `--process` and `--hostfile`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workers(pub Cluster);

/// Where a job's workers run: [`OneWorker`] or [`Workers`].
pub trait Placement {
    /// The workers as the command line would give them.
    fn cluster(&self) -> Cluster;
}

impl Placement for OneWorker {
    fn cluster(&self) -> Cluster {
        Cluster::default()
    }
}

impl Placement for Workers {
    fn cluster(&self) -> Cluster {
        self.0.clone()
    }
}

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            memory: DEFAULT_MEMORY,
            spill_dir: None,
            workers: OneWorker,
        }
    }
}

impl<P: Placement> JobConfig<P> {
    /// The configuration with `bytes` of managed memory (shared by all the workers of
    /// this process, as `--memory` is).
    pub fn memory(self, bytes: u64) -> Self {
        JobConfig {
            memory: bytes,
            ..self
        }
    }

    /// The configuration spilling under `dir`.
    pub fn spill_dir(self, dir: impl Into<std::path::PathBuf>) -> Self {
        JobConfig {
            spill_dir: Some(dir.into()),
            ..self
        }
    }

    /// The configuration running `threads` workers in this process (as `--parallelism`):
    /// records cross between them at every `key_by`, so that each worker owns a disjoint
    /// set of keys. The pipeline's closures must then be `Clone + Send` (each worker calls
    /// its own copy) and the records crossing a `key_by` must have a
    /// [`Layout`](crate::Layout).
    pub fn parallelism(self, threads: usize) -> JobConfig<Workers> {
        let cluster = Cluster {
            threads,
            ..self.workers.cluster()
        };
        self.cluster(cluster)
    }

    /// The configuration running this process's share of a multi-process job (as
    /// `--processes`, `--process` and `--hostfile`): every process runs the same program;
    /// `iter(...)` sources are read by the first process only, and `collect()` returns
    /// every worker's records in the first process and nothing in the others.
    pub fn cluster(self, cluster: Cluster) -> JobConfig<Workers> {
        JobConfig {
            memory: self.memory,
            spill_dir: self.spill_dir,
            workers: Workers(cluster),
        }
    }
}

/// The generated part of an inline job: its closures and iterators, and the code that
/// runs it on one worker.
pub trait InlineBody: Sized {
    /// What its `collect()` sinks gathered: `()` without one, a `Vec` for one, a tuple of
    /// them for several.
    type Output: Collected;
    /// Runs the job on the calling thread as its only worker.
    fn run(self, ctx: &mut JobContext) -> Result<Self::Output, JobError>;
}

/// An inline job that can run on several workers.
#[diagnostic::on_unimplemented(
    message = "this `stream!` job cannot run on several workers",
    label = "its closures must be `Clone + Send`, the records crossing a `key_by` must have a `Layout`, and collected records must be `Send`",
    note = "`JobConfig::parallelism` and `JobConfig::cluster` give each worker its own copy of the closures"
)]
pub trait ParallelBody: InlineBody {
    /// Runs the job on this process's workers (`ctx`'s cluster), the first on the calling
    /// thread (it reads the `iter(...)` sources), and gathers what they collected.
    fn run_workers(self, ctx: &mut JobContext) -> Result<Self::Output, JobError>;
}

/// A body that runs on the workers `P` places.
pub trait RunsOn<P>: InlineBody {
    /// Runs the job in `ctx`.
    fn run_on(self, ctx: &mut JobContext) -> Result<Self::Output, JobError>;
}

impl<B: InlineBody> RunsOn<OneWorker> for B {
    fn run_on(self, ctx: &mut JobContext) -> Result<Self::Output, JobError> {
        self.run(ctx)
    }
}

impl<B: ParallelBody> RunsOn<Workers> for B {
    fn run_on(self, ctx: &mut JobContext) -> Result<Self::Output, JobError> {
        if ctx.args().cluster.workers() > 1 {
            self.run_workers(ctx)
        } else {
            self.run(ctx)
        }
    }
}

/// What `collect()` sinks gathered, as one worker's part or all of them.
pub trait Collected: Sized {
    /// The parts of the workers of this process, in worker order, as one: each key's
    /// records stay in the order its one worker collected them.
    fn gather(parts: Vec<Self>) -> Self;
}

impl Collected for () {
    fn gather(_: Vec<Self>) -> Self {}
}

impl<T> Collected for Vec<T> {
    fn gather(parts: Vec<Self>) -> Self {
        let mut all = Vec::with_capacity(parts.iter().map(Vec::len).sum());
        for part in parts {
            all.extend(part);
        }
        all
    }
}

macro_rules! tuple_collected {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Collected),+> Collected for ($($name,)+) {
            fn gather(parts: Vec<Self>) -> Self {
                #[allow(non_snake_case)]
                let ($(mut $name,)+) = ($(Vec::<$name>::with_capacity(parts.len()),)+);
                for part in parts {
                    $($name.push(part.$idx);)+
                }
                ($(<$name as Collected>::gather($name),)+)
            }
        }
    };
}

tuple_collected!(A 0);
tuple_collected!(A 0, B 1);
tuple_collected!(A 0, B 1, C 2);
tuple_collected!(A 0, B 1, C 2, D 3);
tuple_collected!(A 0, B 1, C 2, D 3, E 4);
tuple_collected!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_collected!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_collected!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

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
    /// process, for the whole job).
    pub fn run_with<P: Placement>(self, config: JobConfig<P>) -> Result<B::Output, JobError>
    where
        B: RunsOn<P>,
    {
        let cluster = config.workers.cluster();
        cluster.check_inline()?;
        let args = self.args(config.memory, config.spill_dir, cluster);
        let mut ctx = JobContext::new(self.spec, args)?;
        let result = self.body.run_on(&mut ctx);
        let result = ctx.commit_or_discard(result);
        let reported = if ctx.args().cluster.process == 0 {
            ctx.print_report(result.is_ok())
        } else {
            Ok(())
        };
        result.and_then(|v| reported.map(|()| v))
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
        }
    }
}
