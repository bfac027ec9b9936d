//! Starting a job's workers on timely-dataflow: threads of this process, or this process's
//! share of a multi-process job (`--processes N --process I --hostfile FILE`, as timely's
//! own `-n -p -h` take them).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::gather::Gather;
use super::{Exchange, WorkerSlot};
use crate::{InputSplit, JobContext, JobError};

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
        if self.processes > 1 && self.hostfile.is_none() {
            return Err(JobError::Config(
                "--processes above 1 needs --hostfile FILE: one `host:port` line per process"
                    .to_string(),
            ));
        }
        Ok(())
    }

    /// Starts `func` on each of this process's workers: threads, or this process's share
    /// of a cluster, connected to the other processes first ([`super::connections`]), all
    /// of which must run the job with the fingerprint `job`.
    fn start<T, F>(
        &self,
        job: u64,
        func: F,
    ) -> Result<timely::communication::WorkerGuards<T>, JobError>
    where
        T: Send + 'static,
        F: Fn(&mut timely::worker::Worker) -> T + Send + Sync + 'static,
    {
        use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
        use timely::communication::allocator::ProcessBuilder;
        use timely::communication::{AllocatorBuilder, Hooks};
        let started = |e: String| JobError::Config(format!("cannot start the job's workers: {e}"));
        let Some(hostfile) = &self.hostfile else {
            return timely::execute(timely::Config::process(self.threads), func).map_err(started);
        };
        let addresses = self.addresses(hostfile)?;
        let sockets = super::connections::connect(
            &addresses,
            self.process,
            job,
            super::connections::CONNECT_TIMEOUT,
        )?;
        let hooks = Hooks::default();
        let local = ProcessBuilder::new_typed_vector(
            self.threads,
            hooks.refill.clone(),
            hooks.spill.clone(),
        );
        let (builders, guard) =
            initialize_networking_from_sockets(local, sockets, self.process, self.threads, hooks)
                .map_err(|e| started(e.to_string()))?;
        let builders = builders.into_iter().map(AllocatorBuilder::Tcp).collect();
        timely::execute::execute_from(
            builders,
            Box::new(guard),
            timely::WorkerConfig::default(),
            func,
        )
        .map_err(started)
    }

    /// The `host:port` of each process, one per non-empty line of `hostfile`.
    fn addresses(&self, hostfile: &str) -> Result<Vec<String>, JobError> {
        let text = std::fs::read_to_string(hostfile).map_err(|source| JobError::Io {
            action: "cannot read the host file",
            path: hostfile.to_string(),
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
        Ok(addresses)
    }
}

/// The generated job's body, run once per worker.
pub type WorkerBody = fn(&mut JobContext, Option<Exchange>) -> Result<(), JobError>;

/// Runs `body` on every worker of this process, each with its own context (see
/// [`JobContext`]'s `for_worker`) and an exchange for the spec's edges; their records and
/// report lines are added to `ctx`. The first worker's error is the job's error; when one
/// fails, the others stop.
///
/// In a multi-process job, the workers of processes other than 0 then send their outputs
/// and report lines to worker 0 ([`Gather`]): process 0 commits and reports for the whole
/// job, and the others commit nothing.
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
    let (processes, threads) = (cluster.processes, cluster.threads);
    let job = fingerprint(spec, ctx.args());
    let buffer = super::exchange_buffer(ctx.args().memory, peers);
    let guards = {
        let (contexts, abort) = (contexts.clone(), abort.clone());
        cluster.start(job, move |worker| {
            let local = worker.index() - first;
            let mut wctx = contexts.lock().unwrap_or_else(|e| e.into_inner())[local]
                .take()
                .expect("each worker takes its own context once");
            let mut exchange = Exchange::new(worker, spec.exchanges, buffer, abort.clone());
            match spec.inputs {
                InputSplit::WorkerZero => exchange.only_worker_zero_reads(spec.source_fed),
                InputSplit::Slices | InputSplit::EventTimeSlices => {}
            }
            // Built on every worker alike, before any data flows: timely matches dataflows
            // by the order they are built in.
            let gather = (processes > 1).then(|| Gather::new(worker));
            let mut result = body(&mut wctx, Some(exchange));
            if result.is_err() {
                abort.store(true, Ordering::Relaxed);
            }
            let mut remote = Vec::new();
            match gather {
                Some(gather) if worker.index() == 0 => {
                    let others: Vec<usize> = (threads..threads * processes).collect();
                    match gather.receive(&wctx, &others) {
                        Ok(ended) => remote = ended,
                        Err(e) => result = result.and(Err(e)),
                    }
                }
                Some(gather) if worker.index() >= threads => gather.send(&mut wctx, &result),
                _ => {}
            }
            (result, wctx, remote)
        })?
    };
    let mut outcome = Ok(());
    for joined in guards.join() {
        let (result, wctx, remote) = joined.map_err(|e| {
            JobError::Config(format!("a worker of the job stopped unexpectedly: {e}"))
        })?;
        ctx.absorb(wctx);
        merge_outcome(&mut outcome, result);
        for ended in remote {
            ctx.absorb_report(ended.report);
            let error = ended.error.map(|e| {
                if e.stopped {
                    JobError::WorkerStopped
                } else {
                    JobError::InAnotherProcess {
                        worker: ended.worker,
                        process: ended.worker / threads,
                        message: e.message,
                        code: e.code,
                    }
                }
            });
            merge_outcome(&mut outcome, error.map_or(Ok(()), Err));
        }
    }
    outcome
}

/// What every process of a job must agree on: the job, and its arguments but `--process`
/// (the same inputs, outputs, memory and workers).
fn fingerprint(spec: &crate::JobSpec, args: &crate::JobArgs) -> u64 {
    let mut args = args.clone();
    args.cluster.process = 0;
    super::key_hash(format!("{}\n{args:?}", spec.name).as_bytes())
}

/// Keeps the first real error: one that only says a worker stopped for another's sake
/// gives way to the other's.
fn merge_outcome(outcome: &mut Result<(), JobError>, result: Result<(), JobError>) {
    match (&*outcome, result) {
        (_, Ok(())) => {}
        (Ok(()), Err(e)) | (Err(JobError::WorkerStopped), Err(e)) => *outcome = Err(e),
        (Err(_), Err(_)) => {}
    }
}
