//! A `.pipe` job compiled into a crate by `weir-build` and run from its code: the flags its
//! binary would take, set by methods, and the same life cycle as [`run_main`](super::run_main)
//! without taking the process (no signal handlers, an error returned rather than printed).

use super::{JobArgs, JobContext, JobSpec};
use crate::parallel::WorkerBody;
use crate::JobError;

/// A run of a compiled pipeline, to set up: `weir::include_pipeline!` modules wrap it in a
/// `Job` with a method for each of the pipeline's sources and sinks.
#[derive(Debug, Clone)]
pub struct PipeJob {
    spec: &'static JobSpec,
    body: WorkerBody,
    args: Vec<String>,
}

impl PipeJob {
    /// A run of the job `spec` whose workers run `body` (the generated `run`).
    pub fn new(spec: &'static JobSpec, body: WorkerBody) -> Self {
        PipeJob {
            spec,
            body,
            args: Vec::new(),
        }
    }

    /// Source `name` reads `path` (as `--input name=path`).
    pub fn input(self, name: &str, path: impl Into<String>) -> Self {
        self.arg("--input").arg(format!("{name}={}", path.into()))
    }

    /// Sink `name` writes `path` (as `--output name=path`).
    pub fn output(self, name: &str, path: impl Into<String>) -> Self {
        self.arg("--output").arg(format!("{name}={}", path.into()))
    }

    /// `bytes` of managed memory (as `--memory`).
    pub fn memory(self, bytes: u64) -> Self {
        self.arg("--memory").arg(bytes.to_string())
    }

    /// `workers` worker threads (as `--parallelism`).
    pub fn parallelism(self, workers: usize) -> Self {
        self.arg("--parallelism").arg(workers.to_string())
    }

    /// Any flag the job's binary takes, one word at a time.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Runs the job to its end. Its outputs are committed only when it succeeds; its
    /// report (skipped records, `--stats`) goes to stderr as the binary's would.
    pub fn run(self) -> Result<(), JobError> {
        let mut args = JobArgs::parse(self.args, self.spec)?;
        // The program that runs it owns the process and its signals.
        args.owns_process = false;
        let mut ctx = JobContext::new(self.spec, args)?;
        ctx.serve_ui(self.spec)?;
        let result = if ctx.args().cluster.workers() > 1 {
            crate::parallel::run_workers(&mut ctx, self.spec, self.body)
        } else {
            (self.body)(&mut ctx, None)
        };
        ctx.finish(result)
    }
}
