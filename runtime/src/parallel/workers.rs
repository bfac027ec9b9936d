//! Starting a job's workers on timely-dataflow: threads of this process, or this process's
//! share of a multi-process job (`--processes N --process I --hostfile FILE`, as timely's
//! own `-n -p -h` take them).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::{Exchange, WorkerSlot};
use crate::{JobContext, JobError};

/// How many workers a job runs, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Worker threads in this process (`--parallelism`).
    pub threads: usize,
    /// Processes in the job (`--processes`).
    pub processes: usize,
    /// This process's index (`--process`).
    pub process: usize,
    /// `host:port` of each process in order, one per line (`--hostfile`).
    pub hostfile: Option<String>,
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster {
            threads: 1,
            processes: 1,
            process: 0,
            hostfile: None,
        }
    }
}

impl Cluster {
    /// Workers in the whole job.
    pub fn workers(&self) -> usize {
        self.threads * self.processes
    }

    /// Reads one of the flags `--parallelism`, `--processes`, `--process`, `--hostfile`.
    pub(crate) fn set(&mut self, flag: &str, value: &str) -> Result<(), JobError> {
        let count = |least: usize| {
            value
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= least && *n <= 1024)
                .ok_or_else(|| {
                    JobError::Config(format!(
                        "{flag} takes a number from {least} to 1024, not `{value}`"
                    ))
                })
        };
        match flag {
            "--parallelism" => self.threads = count(1)?,
            "--processes" => self.processes = count(1)?,
            "--process" => self.process = count(0)?,
            _ => self.hostfile = Some(value.to_string()),
        }
        Ok(())
    }

    /// Whether the flags agree with one another.
    pub(crate) fn check(&self) -> Result<(), JobError> {
        if self.process >= self.processes {
            return Err(JobError::Config(format!(
                "--process {} is not one of the job's {} process(es): they are numbered from 0",
                self.process, self.processes
            )));
        }
        if self.processes > 1 {
            // Each process would commit its own workers' parts over the same files: a
            // multi-process run needs its sinks gathered to one process first.
            return Err(JobError::Config(
                "--processes above 1 is not supported yet: the processes' outputs are not joined into one file; run one process with --parallelism N".to_string(),
            ));
        }
        if self.processes > 1 && self.hostfile.is_none() {
            return Err(JobError::Config(
                "--processes above 1 needs --hostfile FILE: one `host:port` line per process"
                    .to_string(),
            ));
        }
        Ok(())
    }

    /// The timely configuration: threads, or this process of a cluster.
    fn timely(&self) -> Result<timely::Config, JobError> {
        let Some(hostfile) = &self.hostfile else {
            return Ok(timely::Config::process(self.threads));
        };
        let text = std::fs::read_to_string(hostfile).map_err(|source| JobError::Io {
            action: "cannot read the host file",
            path: hostfile.clone(),
            source,
        })?;
        let addresses: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        if addresses.len() != self.processes {
            return Err(JobError::Config(format!(
                "{hostfile} lists {} address(es) for --processes {}: it needs one `host:port` line per process",
                addresses.len(),
                self.processes
            )));
        }
        Ok(timely::Config {
            communication: timely::CommunicationConfig::Cluster {
                threads: self.threads,
                process: self.process,
                addresses,
                report: false,
                zerocopy: false,
            },
            worker: timely::WorkerConfig::default(),
        })
    }
}

/// The generated job's body, run once per worker.
pub type WorkerBody = fn(&mut JobContext, Option<Exchange>) -> Result<(), JobError>;

/// Runs `body` on every worker of this process, each with its own context (see
/// [`JobContext`]'s `for_worker`) and an exchange for the spec's edges; their records and
/// report lines are added to `ctx`. The first worker's error is the job's error; when one
/// fails, the others stop.
pub fn run_workers(
    ctx: &mut JobContext,
    spec: &'static crate::JobSpec,
    body: WorkerBody,
) -> Result<(), JobError> {
    let cluster = ctx.args().cluster.clone();
    let peers = cluster.workers();
    let first = cluster.process * cluster.threads;
    let contexts: Vec<Option<JobContext>> = (first..first + cluster.threads)
        .map(|index| ctx.for_worker(WorkerSlot { index, peers }).map(Some))
        .collect::<Result<_, _>>()?;
    let contexts = Arc::new(Mutex::new(contexts));
    let abort = Arc::new(AtomicBool::new(false));
    let config = cluster.timely()?;
    let guards = {
        let (contexts, abort) = (contexts.clone(), abort.clone());
        timely::execute(config, move |worker| {
            let local = worker.index() - first;
            let mut wctx = contexts.lock().unwrap_or_else(|e| e.into_inner())[local]
                .take()
                .expect("each worker takes its own context once");
            let mut exchange = Exchange::new(worker, spec.exchanges, abort.clone());
            if !spec.split_inputs {
                exchange.only_worker_zero_reads(spec.source_fed);
            }
            let result = body(&mut wctx, Some(exchange));
            if result.is_err() {
                abort.store(true, Ordering::Relaxed);
            }
            (result, wctx)
        })
        .map_err(|e| JobError::Config(format!("cannot start the job's workers: {e}")))?
    };
    let mut outcome = Ok(());
    for joined in guards.join() {
        let (result, wctx) = joined.map_err(|e| {
            JobError::Config(format!("a worker of the job stopped unexpectedly: {e}"))
        })?;
        ctx.absorb(wctx);
        match (&outcome, result) {
            (_, Ok(())) => {}
            (Ok(()), Err(e)) | (Err(JobError::WorkerStopped), Err(e)) => outcome = Err(e),
            (Err(_), Err(_)) => {}
        }
    }
    outcome
}
