//! Starting a job's workers on timely-dataflow: threads of this process, or this process's
//! share of a multi-process job (`--processes N --process I --hostfile FILE`, as timely's
//! own `-n -p -h` take them).

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use timely::communication::AllocatorBuilder;

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

    /// Whether a cluster an inline job was given is one the command line could give: as
    /// many workers as the flags allow, and flags that agree.
    pub(crate) fn check_inline(&self) -> Result<(), JobError> {
        for (what, n, least) in [
            ("parallelism", self.threads, 1),
            ("processes", self.processes, 1),
        ] {
            if n < least || n > 1024 {
                return Err(JobError::Config(format!(
                    "{what} takes a number from {least} to 1024, not {n}"
                )));
            }
        }
        self.check()
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

    /// The communication of this process's workers, one builder per worker thread (built
    /// on that thread), and what must live until they are done: nothing for threads alone,
    /// or the connections to the other processes of a cluster
    /// ([`super::connections`]), all of which must run the job with the fingerprint `job`.
    fn builders(&self, job: u64) -> Result<(Vec<AllocatorBuilder>, Box<dyn Any + Send>), JobError> {
        use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
        use timely::communication::allocator::ProcessBuilder;
        use timely::communication::Hooks;
        let started = |e: String| JobError::Config(format!("cannot start the job's workers: {e}"));
        let Some(hostfile) = &self.hostfile else {
            return timely::CommunicationConfig::Process(self.threads)
                .try_build()
                .map_err(started);
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
        Ok((builders, Box::new(guard)))
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

/// Runs a `.pipe` job's `body` on every worker of this process: [`run_workers_with`],
/// each worker running the same body.
pub fn run_workers(
    ctx: &mut JobContext,
    spec: &'static crate::JobSpec,
    body: WorkerBody,
) -> Result<(), JobError> {
    let others = vec![body; ctx.args().cluster.threads.saturating_sub(1)];
    run_workers_with(ctx, spec, body, others, None).map(|_| ())
}

/// Runs `lead` on this process's first worker, on the calling thread, and each of
/// `others` on one of the rest, on scoped threads (so the bodies may borrow what the
/// caller holds, and `lead` need not be `Send`: an inline job's iterators stay on the
/// thread that made them). Each worker has its own context (see [`JobContext`]'s
/// `for_worker`) and an exchange for the spec's edges; their records and report lines are
/// added to `ctx`. Returns each worker's value in worker order. The first worker's error
/// is the job's error; when one fails, the others stop.
///
/// In a multi-process job, the workers of processes other than 0 then send their outputs
/// and report lines to worker 0 ([`Gather`]): process 0 commits and reports for the whole
/// job, and the others commit nothing. With `travel`, their values go too: process 0
/// returns every worker's value, the others `travel.empty` for each of their workers.
pub fn run_workers_with<T, L, W>(
    ctx: &mut JobContext,
    spec: &'static crate::JobSpec,
    lead: L,
    others: Vec<W>,
    travel: Option<Travel<T>>,
) -> Result<Vec<T>, JobError>
where
    T: Send,
    L: FnOnce(&mut JobContext, Option<Exchange>) -> Result<T, JobError>,
    W: FnOnce(&mut JobContext, Option<Exchange>) -> Result<T, JobError> + Send,
{
    let cluster = ctx.args().cluster.clone();
    assert_eq!(
        others.len() + 1,
        cluster.threads,
        "a body for every worker of the process"
    );
    let peers = cluster.workers();
    let first = cluster.process * cluster.threads;
    let contexts: Vec<JobContext> = (first..first + cluster.threads)
        .map(|index| ctx.for_worker(WorkerSlot { index, peers }))
        .collect::<Result<_, _>>()?;
    let (builders, network) = cluster.builders(fingerprint(spec, ctx.args()))?;
    let run = WorkerRun {
        spec,
        travel,
        panicked: AtomicBool::new(false),
        abort: Arc::new(AtomicBool::new(false)),
        buffer: super::exchange_buffer(ctx.args().memory, peers),
        processes: cluster.processes,
        threads: cluster.threads,
    };
    let ended = std::thread::scope(|scope| {
        let mut builders = builders.into_iter();
        let mut contexts = contexts.into_iter();
        let (lead_builder, lead_ctx) = (builders.next(), contexts.next());
        let handles: Vec<_> = others
            .into_iter()
            .zip(builders.zip(contexts))
            .enumerate()
            .map(|(i, (body, (builder, wctx)))| {
                let run = &run;
                std::thread::Builder::new()
                    .name(format!("weir-worker-{}", first + i + 1))
                    .spawn_scoped(scope, move || run.worker(builder, wctx, body))
            })
            .collect();
        if handles.iter().any(Result::is_err) {
            // A worker that never started would be waited for forever.
            run.abort.store(true, Ordering::Relaxed);
        }
        let lead_builder = lead_builder.expect("a builder per worker");
        let lead_ctx = lead_ctx.expect("a context per worker");
        let mut ended = Vec::new();
        let mut panicked = None;
        match run.worker(lead_builder, lead_ctx, lead) {
            Ok(one) => ended.push(one),
            Err(payload) => panicked = Some(payload),
        }
        let mut not_started = None;
        for handle in handles {
            match handle.map(|h| h.join().and_then(|one| one)) {
                Ok(Ok(one)) => ended.push(one),
                // A panic in the user's code (an inline job's closure) goes on as the
                // panic it was, as on one worker; its exchange told the others to stop.
                Ok(Err(payload)) => panicked = panicked.or(Some(payload)),
                Err(e) => {
                    not_started = not_started.or_else(|| {
                        Some(JobError::Config(format!(
                            "cannot start a worker thread: {e}"
                        )))
                    })
                }
            }
        }
        (ended, panicked, not_started)
    });
    let (ended, panicked, not_started) = ended;
    if let Some(payload) = panicked {
        std::panic::resume_unwind(payload);
    }
    if let Some(e) = not_started {
        return Err(e);
    }
    // The connections to other processes close once every worker is done with them.
    drop(network);
    let decode = run.travel.as_ref().map(|t| t.decode);
    values_of(ctx, ended, decode, cluster.threads)
}

/// The workers' values, in worker order, once every worker has `ended` (those of other
/// processes as worker 0 received them, `decode`d): their reports absorbed into `ctx`, and
/// the first error, if any, as the run's.
fn values_of<T>(
    ctx: &mut JobContext,
    ended: Vec<Ended<T>>,
    decode: Option<fn(&[u8]) -> T>,
    threads: usize,
) -> Result<Vec<T>, JobError> {
    let mut outcome = Ok(());
    let mut values = Vec::with_capacity(ended.len());
    for (result, wctx, remote) in ended {
        ctx.absorb(wctx);
        match result {
            Ok(v) => values.push(v),
            Err(e) => merge_outcome(&mut outcome, Err(e)),
        }
        for ended in remote {
            ctx.absorb_report(ended.report);
            if let (Some(bytes), Some(decode)) = (&ended.collected, &decode) {
                values.push(decode(bytes));
            }
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
    outcome.map(|()| values)
}

/// How one worker ended: its value or error, its context, and (worker 0 of a cluster)
/// what the other processes' workers sent it.
type Ended<T> = (Result<T, JobError>, JobContext, Vec<super::gather::Outcome>);

/// How the values of a run's workers in other processes travel to worker 0: an inline
/// job's collected records ([`crate::inline_job::CollectedRows`]).
#[derive(Debug, Clone, Copy)]
pub struct Travel<T> {
    /// The value as bytes.
    pub encode: fn(&T) -> Vec<u8>,
    /// The value of bytes `encode` made.
    pub decode: fn(&[u8]) -> T,
    /// What a worker whose value travelled returns in its own process.
    pub empty: fn() -> T,
}

/// What every worker of a run shares.
struct WorkerRun<T> {
    travel: Option<Travel<T>>,
    /// Set when a worker's body panicked: the others leave timely without waiting for it.
    panicked: AtomicBool,
    spec: &'static crate::JobSpec,
    abort: Arc<AtomicBool>,
    buffer: usize,
    processes: usize,
    threads: usize,
}

impl<T> WorkerRun<T> {
    /// One worker: its timely worker and exchange built, `body` run, and, in a cluster,
    /// its outcome gathered to worker 0; then timely stepped until every message is out.
    fn worker(
        &self,
        builder: AllocatorBuilder,
        mut wctx: JobContext,
        body: impl FnOnce(&mut JobContext, Option<Exchange>) -> Result<T, JobError>,
    ) -> std::thread::Result<Ended<T>> {
        let mut worker = timely::worker::Worker::new(
            timely::WorkerConfig::default(),
            allocator(builder),
            Some(std::time::Instant::now()),
        );
        let mut exchange = Exchange::new(
            &mut worker,
            self.spec.exchanges,
            self.buffer,
            self.abort.clone(),
        );
        match self.spec.inputs {
            InputSplit::WorkerZero => exchange.only_worker_zero_reads(self.spec.source_fed),
            InputSplit::Slices | InputSplit::EventTimeSlices => {}
        }
        // Built on every worker alike, before any data flows: timely matches dataflows by
        // the order they are built in.
        let gather = (self.processes > 1).then(|| Gather::new(&mut worker));
        // A panic in the user's code (an inline job's closure): its exchange, dropped on
        // the way, told this process's workers to stop; none waits for this one below.
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            body(&mut wctx, Some(exchange))
        }));
        let mut result = match run {
            Ok(result) => result,
            Err(payload) => {
                self.panicked.store(true, Ordering::Relaxed);
                return Err(payload);
            }
        };
        if result.is_err() {
            self.abort.store(true, Ordering::Relaxed);
        }
        let mut remote = Vec::new();
        let (threads, processes) = (self.threads, self.processes);
        match gather {
            Some(gather) if worker.index() == 0 => {
                let others: Vec<usize> = (threads..threads * processes).collect();
                match gather.receive(&wctx, &others) {
                    Ok(ended) => remote = ended,
                    Err(e) => {
                        if result.is_ok() {
                            result = Err(e);
                        }
                    }
                }
            }
            Some(gather) if worker.index() >= threads => {
                let (sent, collected) = match (&result, &self.travel) {
                    (Ok(value), Some(travel)) => (Ok(()), Some((travel.encode)(value))),
                    (Ok(_), None) => (Ok(()), None),
                    (Err(e), _) => (Err(e), None),
                };
                gather.send(&mut wctx, sent, collected);
                if let (Ok(value), Some(travel)) = (&mut result, &self.travel) {
                    *value = (travel.empty)();
                }
            }
            // Closed now: timely steps below until every worker's dataflows are done.
            unused => drop(unused),
        }
        while worker.has_dataflows() && !self.panicked.load(Ordering::Relaxed) {
            worker.step_or_park(Some(std::time::Duration::from_millis(1)));
        }
        Ok((result, wctx, remote))
    }
}

/// The worker's allocator from its builder, on the worker's own thread. (timely's own
/// `build` is behind a crate-private trait; its variants' builders are public.)
fn allocator(builder: AllocatorBuilder) -> timely::communication::Allocator {
    use timely::communication::Allocator;
    match builder {
        AllocatorBuilder::Thread(_) => Allocator::Thread(Default::default()),
        AllocatorBuilder::Process(p) => Allocator::Process(p.build()),
        AllocatorBuilder::Tcp(t) => Allocator::Tcp(t.build()),
    }
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
