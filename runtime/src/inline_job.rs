//! The value a `stream!` pipeline evaluates to: a job the program runs when it likes, in
//! its own process, with the same context (memory budgets, report) as a `.pipe` job.

use crate::job::{JobArgs, JobContext, JobSpec};
use crate::memory::DEFAULT_MEMORY;
use crate::JobError;

/// How an inline job runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobConfig {
    /// Managed memory in bytes, divided among the stateful operators (as `--memory`).
    pub memory: u64,
    /// Where state past its budget is spilled (as `--spill-dir`): a fresh directory is
    /// made in it, and removed when the job ends. The system's temporary directory when
    /// `None`.
    pub spill_dir: Option<std::path::PathBuf>,
}

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            memory: DEFAULT_MEMORY,
            spill_dir: None,
        }
    }
}

impl JobConfig {
    /// The configuration with `bytes` of managed memory.
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
}

/// A compiled inline pipeline, not yet run. `run` consumes it: its sources are iterators
/// and files read once.
#[must_use = "a stream! job does nothing until it is run"]
pub struct InlineJob<F> {
    spec: &'static JobSpec,
    body: F,
}

impl<F> std::fmt::Debug for InlineJob<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineJob")
            .field("spec", self.spec)
            .finish()
    }
}

impl<T, F> InlineJob<F>
where
    F: FnOnce(&mut JobContext) -> Result<T, JobError>,
{
    /// Wraps generated code: `body` runs the job in a context made for `spec`.
    pub fn new(spec: &'static JobSpec, body: F) -> Self {
        InlineJob { spec, body }
    }

    /// The job's stateful operators, each at its place in the program's source
    /// (`aggregate at src/main.rs:12:9`), with its memory budget under `config`.
    pub fn explain(&self, config: &JobConfig) -> Result<String, JobError> {
        self.spec.budgets(config.memory)
    }

    /// Runs the job with the default configuration and returns what its `collect()` sinks
    /// gathered (`()` without one, a tuple for several).
    pub fn run(self) -> Result<T, JobError> {
        self.run_with(JobConfig::default())
    }

    /// Runs the job with `config`. What a `.pipe` job reports at its end (skipped records,
    /// dropped late records) goes to stderr here too.
    pub fn run_with(self, config: JobConfig) -> Result<T, JobError> {
        let args = JobArgs {
            memory: config.memory,
            inputs: Vec::new(),
            outputs: Vec::new(),
            stats: false,
            stats_json: None,
            flush_every: crate::job::DEFAULT_FLUSH,
            spill_dir: config.spill_dir,
            cluster: crate::parallel::Cluster::default(),
        };
        let mut ctx = JobContext::new(self.spec, args)?;
        let result = (self.body)(&mut ctx);
        let result = ctx.commit_or_discard(result);
        let reported = ctx.print_report(result.is_ok());
        result.and_then(|v| reported.map(|()| v))
    }
}
