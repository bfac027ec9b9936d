//! The end of a multi-process run: the workers of every other process send their parts of
//! the job's outputs, and their part of the report, to worker 0, whose process commits
//! every output and prints the one report. Processes need not share a file system; only
//! the job's inputs must be readable at the same paths on each.
//!
//! A second timely dataflow carries it, built by every worker of every process (timely
//! matches dataflows by the order they are built in), and used only when the job has more
//! than one process.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::{InputHandle, ProbeHandle};

use crate::job::WorkerReport;
use crate::{JobContext, JobError};

/// Bytes of an output part in one message.
const CHUNK: usize = 1 << 20;
/// Messages a sender lets travel before it waits for worker 0 to take them in, so that a
/// large output does not pile up in timely's buffers.
const IN_FLIGHT: u64 = 4;

/// What a worker of another process sends worker 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Gathered {
    /// The next bytes of the sender's part of an output (`None`: standard output).
    Part {
        target: Option<String>,
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// The sender is done: its report, or the error its job stopped with.
    Done(Box<Outcome>),
}

/// How a worker of another process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Outcome {
    /// The sending worker.
    pub worker: usize,
    /// Its error, unless it succeeded.
    pub error: Option<RemoteError>,
    /// Its part of the report.
    pub report: WorkerReport,
    /// What an inline job's `collect()` sinks gathered on it, encoded
    /// ([`crate::inline_job::CollectedRows`]).
    #[serde(with = "serde_bytes")]
    pub collected: Option<Vec<u8>>,
}

/// A worker's error, sent to process 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RemoteError {
    /// As the error prints.
    pub message: String,
    /// The exit code it gives.
    pub code: u8,
    /// Whether the worker only stopped because another failed.
    pub stopped: bool,
}

impl RemoteError {
    fn new(e: &JobError) -> Self {
        RemoteError {
            message: e.to_string(),
            code: e.exit_code(),
            stopped: matches!(e, JobError::WorkerStopped),
        }
    }
}

type Message = (u32, Gathered);

/// A worker's end of the gather dataflow.
pub(crate) struct Gather {
    worker: timely::worker::Worker,
    input: Option<InputHandle<u64, CapacityContainerBuilder<Vec<Message>>>>,
    probe: ProbeHandle<u64>,
    inbox: Rc<RefCell<Vec<Message>>>,
}

impl Gather {
    /// Builds the gather dataflow on `worker`: everything sent reaches worker 0.
    pub fn new(worker: &mut timely::worker::Worker) -> Self {
        let routed = super::routed::Routed::new(worker, "weir-gather", |_: &Message| 0);
        Gather {
            worker: worker.clone(),
            input: routed.input,
            probe: routed.probe,
            inbox: routed.inbox,
        }
    }

    /// On a worker of a process other than 0: sends its parts of the outputs (unless its
    /// job failed) and then how it ended, with what it collected. Its parts leave this process's outputs, so this
    /// process commits nothing.
    pub fn send(
        mut self,
        ctx: &mut JobContext,
        result: Result<(), &JobError>,
        collected: Option<Vec<u8>>,
    ) {
        let from = ctx.worker().index;
        let mut outcome = Outcome {
            worker: from,
            error: result.err().map(RemoteError::new),
            report: ctx.take_report(),
            collected,
        };
        if result.is_ok() {
            if let Err(e) = self.send_parts(ctx) {
                outcome.error = Some(RemoteError::new(&e));
            }
        }
        self.push(from, Gathered::Done(Box::new(outcome)));
        self.input = None;
        while !self.probe.done() {
            self.worker
                .step_or_park(Some(std::time::Duration::from_millis(1)));
        }
    }

    fn send_parts(&mut self, ctx: &JobContext) -> Result<(), JobError> {
        let from = ctx.worker().index;
        for (target, part) in ctx.outputs().take_part(from) {
            let target = target.map(|t| t.display().to_string());
            let read_error = |source| JobError::Io {
                action: "cannot read back a part of an output at",
                path: part.as_ref().display().to_string(),
                source,
            };
            let mut file = File::open(part.as_ref()).map_err(read_error)?;
            loop {
                let mut bytes = Vec::with_capacity(CHUNK);
                let read = (&mut file)
                    .take(CHUNK as u64)
                    .read_to_end(&mut bytes)
                    .map_err(read_error)?;
                if read == 0 {
                    break;
                }
                self.push(
                    from,
                    Gathered::Part {
                        target: target.clone(),
                        bytes,
                    },
                );
            }
        }
        Ok(())
    }

    /// Sends one message in an epoch of its own, waiting first until worker 0 has taken
    /// in all but the last few.
    fn push(&mut self, from: usize, message: Gathered) {
        let input = self.input.as_mut().expect("open until done");
        input.send((from as u32, message));
        let next = input.time() + 1;
        input.advance_to(next);
        while next > IN_FLIGHT && self.probe.less_than(&(next - IN_FLIGHT)) {
            self.worker
                .step_or_park(Some(std::time::Duration::from_millis(1)));
        }
    }

    /// On worker 0: takes in what the `expected` workers of the other processes send,
    /// writing their parts of the outputs as this process's parts of the same number,
    /// and returns how they ended. A worker that ends without saying so is an error.
    pub fn receive(
        mut self,
        ctx: &JobContext,
        expected: &[usize],
    ) -> Result<Vec<Outcome>, JobError> {
        self.input = None;
        let mut parts: HashMap<(usize, Option<String>), File> = HashMap::new();
        let mut ended = Vec::new();
        let mut failed = None;
        loop {
            let done = self.probe.done();
            let arrived = std::mem::take(&mut *self.inbox.borrow_mut());
            for (from, message) in arrived {
                let from = from as usize;
                match message {
                    Gathered::Part { target, bytes } => {
                        if failed.is_some() {
                            continue;
                        }
                        if let Err(e) = write_part(ctx, &mut parts, from, target, &bytes) {
                            failed = Some(e);
                        }
                    }
                    Gathered::Done(outcome) => ended.push(*outcome),
                }
            }
            if done {
                break;
            }
            self.worker
                .step_or_park(Some(std::time::Duration::from_millis(1)));
        }
        if let Some(e) = failed {
            return Err(e);
        }
        if let Some(missing) = expected
            .iter()
            .find(|w| !ended.iter().any(|o| o.worker == **w))
        {
            return Err(JobError::Config(format!(
                "worker {missing} of the job ended without sending its outputs: its process stopped"
            )));
        }
        Ok(ended)
    }
}

/// Appends `bytes` to worker `from`'s part of `target`, creating the part at its first bytes.
fn write_part(
    ctx: &JobContext,
    parts: &mut HashMap<(usize, Option<String>), File>,
    from: usize,
    target: Option<String>,
    bytes: &[u8],
) -> Result<(), JobError> {
    let key = (from, target);
    if !parts.contains_key(&key) {
        let outputs = ctx.outputs().part(from, ctx.worker().peers);
        let file = match &key.1 {
            Some(target) => outputs.create_received(target)?,
            None => outputs
                .stdout_part()?
                .expect("a part of another worker than 0"),
        };
        parts.insert(key.clone(), file);
    }
    let file = parts.get_mut(&key).expect("inserted above");
    file.write_all(bytes).map_err(|source| JobError::Io {
        action: "cannot write a part of an output sent by another process for",
        path: key.1.clone().unwrap_or_else(|| "<stdout>".to_string()),
        source,
    })
}
