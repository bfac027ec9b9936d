//! How an inline job runs: [`JobConfig`], whose type says where its workers run (`P`) and
//! whether it takes checkpoints (`C`), so that rustc asks of the pipeline only what the
//! configuration needs.

use std::path::PathBuf;
use std::time::Duration;

use crate::checkpoint::CheckpointConfig;
use crate::memory::DEFAULT_MEMORY;
use crate::parallel::Cluster;

/// How an inline job runs: its memory, where it spills, on which workers (`P`) and
/// whether it takes checkpoints (`C`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobConfig<P = OneWorker, C = NoCheckpoints> {
    /// Managed memory in bytes, divided among the stateful operators (as `--memory`).
    pub memory: u64,
    /// Where state past its budget is spilled (as `--spill-dir`): a fresh directory is
    /// made in it, and removed when the job ends. The system's temporary directory when
    /// `None`.
    pub spill_dir: Option<PathBuf>,
    /// The processing-time clock (as `--clock`): the system's, or the largest event time
    /// an operator has received (recorded input replayed the same on every run).
    pub clock: crate::time::ClockMode,
    /// What ends the job's followed sources (`with follow`): such a job runs until
    /// [`InputStop::stop`](crate::io::InputStop::stop) is called, from another thread.
    pub input_stop: crate::io::InputStop,
    /// The job's workers.
    pub workers: P,
    /// Its checkpoints: [`NoCheckpoints`], or [`Checkpointing`] after
    /// [`JobConfig::checkpoints`].
    pub checkpoints: C,
    /// Where to serve the live page (as `--ui`): `None` serves none.
    pub ui: Option<String>,
}

/// One worker, on the calling thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OneWorker;

/// Worker threads in this process (as `--parallelism`). Made only by
/// [`JobConfig::parallelism`], so it never spans processes: a cluster is [`Processes`],
/// whose collected records travel to the first process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workers(pub(super) Cluster);

/// This process's share of a multi-process job: its worker threads, and the other
/// processes running the same program (as `--parallelism`, `--processes`, `--process` and
/// `--hostfile`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processes(pub(super) Cluster);

/// Where a job's workers run: [`OneWorker`], [`Workers`] or [`Processes`].
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

/// A job that takes no checkpoints: a failed run starts over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoCheckpoints;

/// A job that takes checkpoints, as `--checkpoint-dir` and the flags beside it give them
/// to a `.pipe` job: run again with the same configuration after a crash, it resumes from
/// the newest complete checkpoint in the directory and returns what an uninterrupted run
/// would have returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpointing(pub CheckpointConfig);

/// Whether a job takes checkpoints: [`NoCheckpoints`] or [`Checkpointing`].
pub trait CheckpointChoice {
    /// The checkpoints, as `--checkpoint-dir` would give them.
    fn config(&self) -> Option<CheckpointConfig>;
}

impl CheckpointChoice for NoCheckpoints {
    fn config(&self) -> Option<CheckpointConfig> {
        None
    }
}

impl CheckpointChoice for Checkpointing {
    fn config(&self) -> Option<CheckpointConfig> {
        Some(self.0.clone())
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
            checkpoints: NoCheckpoints,
            ui: None,
        }
    }
}

impl<P, C> JobConfig<P, C> {
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

    /// The configuration serving a live page of the run at `addr` (as `--ui`; e.g.
    /// `127.0.0.1:8080`, port 0 for a free one): its graph, records, memory, watermarks
    /// and checkpoints, with `/api/job` (JSON) and `/metrics` (OpenMetrics).
    pub fn ui(self, addr: impl Into<String>) -> Self {
        JobConfig {
            ui: Some(addr.into()),
            ..self
        }
    }

    /// The configuration spilling under `dir`.
    pub fn spill_dir(self, dir: impl Into<PathBuf>) -> Self {
        JobConfig {
            spill_dir: Some(dir.into()),
            ..self
        }
    }

    /// The same configuration on `workers`.
    fn placed<Q>(self, workers: Q) -> JobConfig<Q, C> {
        JobConfig {
            memory: self.memory,
            spill_dir: self.spill_dir,
            clock: self.clock,
            input_stop: self.input_stop,
            workers,
            checkpoints: self.checkpoints,
            ui: self.ui,
        }
    }

    /// The configuration running this process's share of a multi-process job (as
    /// `--processes`, `--process` and `--hostfile`, with `cluster.threads` as
    /// `--parallelism`): every process runs the same program; `iter(...)` sources are read
    /// by the first process only, and `collect()` returns every worker's records in the
    /// first process and empty `Vec`s in the others. Collected records then need a
    /// [`Layout`](crate::Layout), to travel.
    pub fn cluster(self, cluster: Cluster) -> JobConfig<Processes, C> {
        self.placed(Processes(cluster))
    }
}

impl<C> JobConfig<OneWorker, C> {
    /// The configuration running `threads` workers in this process (as `--parallelism`):
    /// records cross between them at every keyed operator after `key_by`, so that each
    /// worker owns a disjoint set of keys. The pipeline's closures must then be
    /// `Clone + Send` (each worker calls its own copy), the records crossing a `key_by`
    /// must have a [`Layout`](crate::Layout), and collected records must be `Send`.
    pub fn parallelism(self, threads: usize) -> JobConfig<Workers, C> {
        self.placed(Workers(Cluster {
            threads,
            ..Cluster::default()
        }))
    }
}

impl<C> JobConfig<Workers, C> {
    /// The configuration with `threads` workers instead.
    pub fn parallelism(self, threads: usize) -> JobConfig<Workers, C> {
        let cluster = Cluster {
            threads,
            ..self.workers.0.clone()
        };
        self.placed(Workers(cluster))
    }
}

impl<C> JobConfig<Processes, C> {
    /// The configuration with `threads` workers in each process instead.
    pub fn parallelism(self, threads: usize) -> JobConfig<Processes, C> {
        let cluster = Cluster {
            threads,
            ..self.workers.0.clone()
        };
        self.placed(Processes(cluster))
    }
}

impl<P> JobConfig<P, NoCheckpoints> {
    /// The configuration taking a checkpoint every second into `dir` (as
    /// `--checkpoint-dir`): run again with it after a crash, the job resumes from the
    /// newest complete one there. Collected records must then have a
    /// [`Layout`](crate::Layout) (a checkpoint holds what was collected so far), and
    /// `iter(...)` sources must give the same items on every run (a resumed job passes
    /// over as many as it had read).
    pub fn checkpoints(self, dir: impl Into<PathBuf>) -> JobConfig<P, Checkpointing> {
        self.checkpoint_config(CheckpointConfig::new(dir.into()))
    }

    /// The configuration taking checkpoints as `config` says: its interval, the failures
    /// in a row it bears, and its savepoints (`--savepoint-on-stop`, `--from-savepoint`,
    /// `--allow-non-restored-state`).
    pub fn checkpoint_config(self, config: CheckpointConfig) -> JobConfig<P, Checkpointing> {
        JobConfig {
            memory: self.memory,
            spill_dir: self.spill_dir,
            clock: self.clock,
            input_stop: self.input_stop,
            workers: self.workers,
            checkpoints: Checkpointing(config),
            ui: self.ui,
        }
    }
}

impl<P> JobConfig<P, Checkpointing> {
    /// The configuration with `interval` between two checkpoints (as
    /// `--checkpoint-interval`).
    pub fn checkpoint_interval(mut self, interval: Duration) -> Self {
        self.checkpoints.0.interval = interval;
        self
    }
}
