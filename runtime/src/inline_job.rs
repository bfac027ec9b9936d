//! The value a `stream!` pipeline evaluates to: a job the program runs when it likes, in
//! its own process, with the same context (memory budgets, report) as a `.pipe` job.
//!
//! Where its workers run is part of the configuration's type: [`OneWorker`] (the
//! default) runs the job on the calling thread and asks nothing of the user's closures;
//! [`Workers`] (after [`JobConfig::parallelism`]) and [`Processes`] (after
//! [`JobConfig::cluster`]) run one copy of the job per worker, so they ask more of the
//! pipeline ([`ParallelBody`], and [`CollectedRows`] for records that travel between
//! processes), and rustc checks that only for the programs that use them.

use crate::job::{JobArgs, JobContext, JobSpec};
use crate::memory::DEFAULT_MEMORY;
use crate::parallel::{Cluster, Travel};
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
    /// The processing-time clock (as `--clock`): the system's, or the largest event time
    /// an operator has received (recorded input replayed the same on every run).
    pub clock: crate::time::ClockMode,
    /// What ends the job's followed sources (`with follow`): such a job runs until
    /// [`InputStop::stop`](crate::io::InputStop::stop) is called, from another thread.
    pub input_stop: crate::io::InputStop,
    /// The job's workers.
    pub workers: P,
}

/// One worker, on the calling thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OneWorker;

/// Worker threads in this process (as `--parallelism`). Made only by
/// [`JobConfig::parallelism`], so it never spans processes: a cluster is [`Processes`],
/// whose collected records travel to the first process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workers(Cluster);

/// This process's share of a multi-process job: its worker threads, and the other
/// processes running the same program (as `--parallelism`, `--processes`, `--process` and
/// `--hostfile`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processes(Cluster);

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

impl Placement for Processes {
    fn cluster(&self) -> Cluster {
        self.0.clone()
    }
}

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            memory: DEFAULT_MEMORY,
            spill_dir: None,
            clock: crate::time::ClockMode::System,
            input_stop: crate::io::InputStop::new(),
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

    /// The configuration running on `clock` (as `--clock`).
    pub fn clock(self, clock: crate::time::ClockMode) -> Self {
        JobConfig { clock, ..self }
    }

    /// The configuration whose followed sources end when `stop` is stopped.
    pub fn input_stop(self, stop: crate::io::InputStop) -> Self {
        JobConfig {
            input_stop: stop,
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

    /// The configuration running this process's share of a multi-process job (as
    /// `--processes`, `--process` and `--hostfile`, with `cluster.threads` as
    /// `--parallelism`): every process runs the same program; `iter(...)` sources are read
    /// by the first process only, and `collect()` returns every worker's records in the
    /// first process and empty `Vec`s in the others. Collected records then need a
    /// [`Layout`](crate::Layout), to travel.
    pub fn cluster(self, cluster: Cluster) -> JobConfig<Processes> {
        JobConfig {
            memory: self.memory,
            spill_dir: self.spill_dir,
            clock: self.clock,
            input_stop: self.input_stop,
            workers: Processes(cluster),
        }
    }
}

impl JobConfig<OneWorker> {
    /// The configuration running `threads` workers in this process (as `--parallelism`):
    /// records cross between them at every keyed operator after `key_by`, so that each
    /// worker owns a disjoint set of keys. The pipeline's closures must then be
    /// `Clone + Send` (each worker calls its own copy), the records crossing a `key_by`
    /// must have a [`Layout`](crate::Layout), and collected records must be `Send`.
    pub fn parallelism(self, threads: usize) -> JobConfig<Workers> {
        JobConfig {
            memory: self.memory,
            spill_dir: self.spill_dir,
            clock: self.clock,
            input_stop: self.input_stop,
            workers: Workers(Cluster {
                threads,
                ..Cluster::default()
            }),
        }
    }
}

impl JobConfig<Workers> {
    /// The configuration with `threads` workers instead.
    pub fn parallelism(self, threads: usize) -> JobConfig<Workers> {
        JobConfig {
            workers: Workers(Cluster {
                threads,
                ..self.workers.0
            }),
            ..self
        }
    }
}

impl JobConfig<Processes> {
    /// The configuration with `threads` workers in each process instead.
    pub fn parallelism(self, threads: usize) -> JobConfig<Processes> {
        JobConfig {
            workers: Processes(Cluster {
                threads,
                ..self.workers.0
            }),
            ..self
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
    /// thread (it reads the `iter(...)` sources), and gathers what they collected; with
    /// `travel`, what the workers of other processes collected too.
    fn run_workers(
        self,
        ctx: &mut JobContext,
        travel: Option<Travel<Self::Output>>,
    ) -> Result<Self::Output, JobError>;
}

/// Where workers run (`Self`, a [`Placement`]) that can run the job `B`. Dispatched on
/// the placement rather than the body so that rustc learns the placement from the
/// configuration passed, and reports the bound the body misses for it.
pub trait Runner<B: InlineBody> {
    /// Runs `body` in `ctx`.
    fn run(body: B, ctx: &mut JobContext) -> Result<B::Output, JobError>;
}

impl<B: InlineBody> Runner<B> for OneWorker {
    fn run(body: B, ctx: &mut JobContext) -> Result<B::Output, JobError> {
        body.run(ctx)
    }
}

impl<B: ParallelBody> Runner<B> for Workers {
    fn run(body: B, ctx: &mut JobContext) -> Result<B::Output, JobError> {
        if ctx.args().cluster.workers() > 1 {
            body.run_workers(ctx, None)
        } else {
            body.run(ctx)
        }
    }
}

impl<B> Runner<B> for Processes
where
    B: ParallelBody,
    B::Output: CollectedRows,
{
    fn run(body: B, ctx: &mut JobContext) -> Result<B::Output, JobError> {
        if ctx.args().cluster.workers() > 1 {
            let travel = Travel {
                encode: encode_rows::<B::Output>,
                decode: decode_rows::<B::Output>,
                empty: || Collected::gather(Vec::new()),
            };
            body.run_workers(ctx, Some(travel))
        } else {
            body.run(ctx)
        }
    }
}

/// Collected records that can travel between processes: each in its
/// [`Layout`](crate::Layout).
#[diagnostic::on_unimplemented(
    message = "the records `collect()` gathers cannot travel from other processes",
    note = "in a cluster, collected records travel to the first process in their binary layout: numbers, `bool`, `String`, tuples of them, or structs with `#[derive(weir::Record)]`"
)]
pub trait CollectedRows: Collected {
    /// Appends the records to `out`.
    fn encode(&self, out: &mut Vec<u8>);
    /// The records `encode` wrote at `*at` of `bytes`, moving `at` past them.
    fn decode(bytes: &[u8], at: &mut usize) -> Self;
}

fn encode_rows<T: CollectedRows>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.encode(&mut out);
    out
}

fn decode_rows<T: CollectedRows>(bytes: &[u8]) -> T {
    T::decode(bytes, &mut 0)
}

/// The little-endian `u64` at `*at`, moving past it.
fn take_len(bytes: &[u8], at: &mut usize) -> usize {
    let word: [u8; 8] = bytes[*at..*at + 8]
        .try_into()
        .expect("eight bytes a length");
    *at += 8;
    u64::from_le_bytes(word) as usize
}

impl CollectedRows for () {
    fn encode(&self, _: &mut Vec<u8>) {}
    fn decode(_: &[u8], _: &mut usize) -> Self {}
}

impl<T: crate::Layout> CollectedRows for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.len() as u64).to_le_bytes());
        let mut row = crate::layout::RecordBuilder::new();
        for record in self {
            let bytes = record.encode(&mut row);
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(bytes);
        }
    }

    fn decode(bytes: &[u8], at: &mut usize) -> Self {
        let n = take_len(bytes, at);
        let mut records = Vec::with_capacity(n);
        for _ in 0..n {
            let len = take_len(bytes, at);
            records.push(T::decode(&bytes[*at..*at + len]));
            *at += len;
        }
        records
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

macro_rules! tuple_collected_rows {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: CollectedRows),+> CollectedRows for ($($name,)+) {
            fn encode(&self, out: &mut Vec<u8>) {
                $(self.$idx.encode(out);)+
            }
            fn decode(bytes: &[u8], at: &mut usize) -> Self {
                ($(<$name as CollectedRows>::decode(bytes, at),)+)
            }
        }
    };
}

/// Invokes `$m` for tuples of one to eight collect sinks.
macro_rules! for_tuples_to_eight {
    ($m:ident) => {
        $m!(A 0);
        $m!(A 0, B 1);
        $m!(A 0, B 1, C 2);
        $m!(A 0, B 1, C 2, D 3);
        $m!(A 0, B 1, C 2, D 3, E 4);
        $m!(A 0, B 1, C 2, D 3, E 4, F 5);
        $m!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
        $m!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
    };
}

for_tuples_to_eight!(tuple_collected_rows);
for_tuples_to_eight!(tuple_collected);

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
    pub fn run_with<P>(self, config: JobConfig<P>) -> Result<B::Output, JobError>
    where
        P: Placement + Runner<B>,
    {
        let cluster = config.workers.cluster();
        cluster.check_inline()?;
        let mut args = self.args(config.memory, config.spill_dir, cluster);
        args.clock = config.clock;
        let mut ctx = JobContext::new(self.spec, args)?.with_input_stop(config.input_stop);
        let result = P::run(self.body, &mut ctx);
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
        }
    }
}
