//! A worker's side of timely-dataflow: a one-operator dataflow that carries [`Batch`]es to
//! the worker they name, and the loop that feeds what arrives to the generated job.
//!
//! timely is the transport and the scheduler of the workers (threads of one process, or
//! processes over TCP); weir's own code decides what goes where (key groups), and carries
//! watermarks and the end of each edge as messages. Event time is out of order, so
//! holding a timely capability per watermark would cost more than a message per pump;
//! timely keeps the messages of one sender to one receiver in order, which is all the
//! watermarks and ends need.

use std::cell::RefCell;
use std::rc::Rc;

use timely::container::CapacityContainerBuilder;
use timely::dataflow::{InputHandle, ProbeHandle};

use super::outbox::Entry;
use super::{Batch, KeyGroups, Outbox, WorkerSlot};
use crate::job::Pipeline;
use crate::time::CombinedWatermark;
use crate::JobError;

type Message = (u32, Batch);

/// One worker's exchange: its outbox, the timely input it sends through, and what has
/// arrived. The generated job owns it (`None` when the job runs on one worker).
pub struct Exchange {
    worker: timely::worker::Worker,
    input: Option<InputHandle<u64, CapacityContainerBuilder<Vec<Message>>>>,
    inbox: Rc<RefCell<Vec<Message>>>,
    /// Done when every worker has closed its input and everything sent has arrived.
    probe: ProbeHandle<u64>,
    /// What this worker sends.
    pub outbox: Outbox,
    slot: WorkerSlot,
    /// Per edge: the senders' watermarks, combined.
    watermarks: Vec<CombinedWatermark>,
    /// Per edge: senders that have ended it, how many and which.
    ended: Vec<usize>,
    ended_by: Vec<Vec<bool>>,
    /// Rows that arrived on an edge whose rows wait until this worker is ready for them
    /// ([`Exchange::defer_rows`]), with their edge and time; `None` when none wait.
    deferred: Option<Vec<(u32, i64, Vec<u8>)>>,
    /// The edge whose rows wait, if any.
    deferred_edge: Option<u32>,
    /// Per round of slice scans, per slice of the input but the last: what the workers
    /// that have said so far found in their pieces of it.
    slice_scans: [Vec<SliceReports>; 2],
    /// Set when a worker of this process failed: the others stop rather than wait for
    /// messages it will never send.
    abort: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The checkpoint cuts' markers that arrived.
    pub(crate) markers: super::markers::CutMarkers,
    /// The edges fed from sources only worker 0 reads ([`Exchange::only_worker_zero_reads`]).
    worker_zero_fed: Vec<usize>,
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange")
            .field("slot", &self.slot)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl Exchange {
    /// Builds the worker's dataflow for `edges` exchange edges, sending buffers of
    /// `buffer` bytes ([`super::exchange_buffer`]).
    pub fn new(
        worker: &mut timely::worker::Worker,
        edges: usize,
        buffer: usize,
        abort: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> Self {
        let slot = WorkerSlot {
            index: worker.index(),
            peers: worker.peers(),
        };
        let routed =
            super::routed::Routed::new(worker, "weir-inbox", |(to, _): &Message| u64::from(*to));
        let never_idle = vec![None; slot.peers];
        Exchange {
            worker: worker.clone(),
            input: routed.input,
            inbox: routed.inbox,
            probe: routed.probe,
            outbox: Outbox::new(
                slot.index,
                slot.peers,
                edges,
                KeyGroups::new(super::key_groups::DEFAULT_KEY_GROUPS, slot.peers),
                buffer,
            ),
            slot,
            watermarks: (0..edges)
                .map(|_| CombinedWatermark::new(&never_idle, 0))
                .collect(),
            ended: vec![0; edges],
            ended_by: vec![vec![false; slot.peers]; edges],
            deferred: None,
            deferred_edge: None,
            slice_scans: std::array::from_fn(|_| {
                vec![SliceReports::default(); slot.peers.saturating_sub(1)]
            }),
            abort,
            markers: super::markers::CutMarkers::new(edges),
            worker_zero_fed: Vec::new(),
        }
    }

    /// Worker 0 reads every source: on the exchanges `source_fed` (fed from sources with
    /// no exchange before them) the other workers never send a row, so their watermarks
    /// are counted as the highest from the start. Otherwise a row from worker 0 could
    /// arrive before another worker's first watermark and be judged against a watermark
    /// a single worker would not have had.
    pub fn only_worker_zero_reads(&mut self, source_fed: &[usize]) {
        self.worker_zero_fed = source_fed.to_vec();
        for &edge in source_fed {
            for from in 1..self.slot.peers {
                self.watermarks[edge].update(from, crate::time::MAX_WATERMARK, 0);
            }
        }
    }

    /// What round `round` of slice scans found, once every worker has said it for its
    /// piece of every slice: the largest event time before this worker's slice
    /// (`i64::MIN` on worker 0, or when they hold no event time), and whether a piece had
    /// a line break inside quotes.
    pub(super) fn slice_scans(&self, round: u8) -> Option<(i64, bool)> {
        let peers = self.slot.peers;
        let reports = &self.slice_scans[usize::from(round)];
        if reports.iter().any(|r| r.said < peers) {
            return None;
        }
        let max = reports[..self.slot.index]
            .iter()
            .map(|r| r.max)
            .fold(i64::MIN, i64::max);
        Some((max, reports.iter().any(|r| r.quoted_line_break)))
    }

    /// Sends what the outbox holds, lets timely move messages (waiting up to a millisecond
    /// for some when `wait`), and returns what has arrived.
    fn exchange(&mut self, wait: bool) -> Vec<Batch> {
        if let Some(input) = &mut self.input {
            let messages = self.outbox.take();
            if !messages.is_empty() {
                for message in messages {
                    input.send(message);
                }
                // timely's exchange holds a partial buffer per receiver until the epoch
                // moves on: a new epoch per pump sends everything now.
                let next = input.time() + 1;
                input.advance_to(next);
            }
        }
        if wait {
            self.worker
                .step_or_park(Some(std::time::Duration::from_millis(1)));
        } else {
            self.worker.step();
        }
        let arrived = std::mem::take(&mut *self.inbox.borrow_mut());
        arrived.into_iter().map(|(_, batch)| batch).collect()
    }

    /// Whether every worker has ended `edge` and everything it sent has arrived.
    pub fn is_done(&self, edge: usize) -> bool {
        self.ended[edge] == self.slot.peers
    }

    /// Whether worker `from` has ended `edge` and everything it sent on it has arrived.
    pub fn is_done_by(&self, edge: usize, from: usize) -> bool {
        self.ended_by[edge][from]
    }

    /// Keeps the rows arriving on `edge` until [`take_deferred`](Self::take_deferred):
    /// windows handed over in time order must merge after this worker's own records
    /// (`super::time_order`), and a worker reading a short slice may hand them over before
    /// the worker before it has begun reading.
    pub fn defer_rows(&mut self, edge: usize) {
        self.deferred_edge = Some(edge as u32);
        self.deferred = Some(Vec::new());
    }

    /// The rows kept so far; rows arrive as usual from now on.
    pub(crate) fn take_deferred(&mut self) -> Vec<(u32, i64, Vec<u8>)> {
        self.deferred_edge = None;
        self.deferred.take().unwrap_or_default()
    }

    /// Which worker this is, of how many.
    pub fn slot(&self) -> WorkerSlot {
        self.slot
    }

    /// Closes this worker's input and steps until timely has delivered everything, so
    /// that the other workers can finish.
    fn shut_down(&mut self) {
        self.input = None;
        while !self.probe.done() && !self.abort.load(std::sync::atomic::Ordering::Relaxed) {
            self.worker
                .step_or_park(Some(std::time::Duration::from_millis(1)));
        }
    }
}

impl Drop for Exchange {
    /// A worker whose job stopped before the end (an error) tells every other worker, in
    /// this process or another, to stop rather than wait for what it will never send.
    fn drop(&mut self) {
        let Some(input) = &mut self.input else {
            return;
        };
        if std::thread::panicking() {
            // A panic in the user's code (an inline job's closure): the workers of this
            // process stop waiting for this one, and the panic goes on to the caller.
            self.abort.store(true, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        self.outbox.abort();
        for message in self.outbox.take() {
            input.send(message);
        }
        let next = input.time() + 1;
        input.advance_to(next);
        // Closing the input lets the dataflow complete once the others close theirs;
        // timely steps the worker until then after the job's body returns.
        self.input = None;
        self.worker.step();
    }
}

/// What a generated job does with arriving rows and watermarks. The compiler writes it for
/// every job with exchange edges.
pub trait Exchanging {
    /// The job's exchange, if it runs on more than one worker.
    fn exchange(&mut self) -> Option<&mut Exchange>;
    /// A row arrived on `edge`: decode it and push it into the chain the edge feeds. (A
    /// job without exchanges receives none.)
    fn receive(&mut self, edge: u32, ts: i64, row: &[u8]) -> Result<(), JobError> {
        let _ = (ts, row);
        unreachable!("a job without exchanges received a row on edge {edge}")
    }
    /// The combined watermark of `edge` moved to `wm`.
    fn receive_watermark(&mut self, edge: u32, wm: i64) -> Result<(), JobError> {
        let _ = wm;
        unreachable!("a job without exchanges received a watermark on edge {edge}")
    }
    /// Runs the end-of-input code of node number `step` (in topological order).
    fn finish_step(&mut self, step: usize, ctx: &mut crate::JobContext) -> Result<(), JobError>;
    /// Per node in topological order: the exchange edges that must have ended before it
    /// finishes, and those it ends once it has; nodes past the end wait for none and end
    /// none (all of them, in a job without exchanges).
    fn finish_plan(&self) -> &'static [(&'static [u32], &'static [u32])] {
        &[]
    }
    /// Windows in time order (`super::time_order`): the slices before this worker's end
    /// at event time `before`, and the windows starting by then are the earlier workers'
    /// to fire. Jobs that do not run windows in time order have nothing to do.
    fn hold_windows_through(&mut self, before: i64) {
        let _ = before;
    }
    /// Windows in time order, at the end of input, once the worker after this one has
    /// handed over its part of this worker's windows: hands the windows this worker holds
    /// for the one before it to worker `earlier`, and fires the rest.
    fn settle_windows(&mut self, earlier: Option<usize>) -> Result<(), JobError> {
        let _ = earlier;
        Ok(())
    }
}

/// Sends what waits in `job`'s outbox, and hands what arrived to the job: rows to their
/// chains, watermarks combined over the senders. Does nothing on one worker.
pub fn pump<J: Exchanging + ?Sized>(job: &mut J, wait: bool) -> Result<(), JobError> {
    let Some(exchange) = job.exchange() else {
        return Ok(());
    };
    if exchange.abort.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(JobError::WorkerStopped);
    }
    for batch in exchange.exchange(wait) {
        for entry in batch.entries() {
            match entry {
                Entry::Row { edge, ts, row } => {
                    let exchange = job.exchange().expect("still parallel");
                    match &mut exchange.deferred {
                        Some(kept) if exchange.deferred_edge == Some(edge) => {
                            kept.push((edge, ts, row.to_vec()));
                        }
                        _ => job.receive(edge, ts, row)?,
                    }
                }
                Entry::Watermark { edge, wm } => {
                    let exchange = job.exchange().expect("still parallel");
                    let combined = &mut exchange.watermarks[edge as usize];
                    if let Some(wm) = combined.update(batch.from as usize, wm, 0) {
                        job.receive_watermark(edge, wm)?;
                    }
                }
                Entry::End { edge } => {
                    let exchange = job.exchange().expect("still parallel");
                    exchange.ended[edge as usize] += 1;
                    exchange.ended_by[edge as usize][batch.from as usize] = true;
                }
                Entry::Abort => return Err(JobError::WorkerStopped),
                Entry::Marker { id, round, written } => {
                    let exchange = job.exchange().expect("still parallel");
                    exchange
                        .markers
                        .arrived(batch.from as usize, id, round, written);
                }
                Entry::SliceScan {
                    slice,
                    round,
                    max,
                    quoted_line_break,
                } => {
                    let exchange = job.exchange().expect("still parallel");
                    let report =
                        &mut exchange.slice_scans[usize::from(round.min(1))][slice as usize];
                    report.said += 1;
                    report.max = report.max.max(max);
                    report.quoted_line_break |= quoted_line_break;
                }
            }
        }
        job.exchange()
            .expect("still parallel")
            .outbox
            .recycle(batch.bytes);
    }
    Ok(())
}

/// A checkpoint holds what the worker's exchange knows of the others: each edge's
/// watermarks as each sender last sent them, and the watermark this worker last sent on
/// each. (Rows in flight are none: the cut drains them first.)
impl crate::checkpoint::Checkpointed for Exchange {
    fn save(&mut self, out: &mut crate::checkpoint::StateOut) -> Result<(), JobError> {
        out.u64(self.watermarks.len() as u64);
        for combined in &mut self.watermarks {
            combined.save(out)?;
        }
        for &sent in self.outbox.sent_watermarks().iter() {
            out.i64(sent);
        }
        Ok(())
    }

    fn load(&mut self, from: &mut crate::checkpoint::StateIn<'_>) -> Result<(), JobError> {
        if from.u64()? != self.watermarks.len() as u64 {
            return Err(JobError::CheckpointMismatch(
                "its number of exchanges differs".to_string(),
            ));
        }
        for combined in &mut self.watermarks {
            combined.load(from)?;
        }
        for sent in self.outbox.sent_watermarks().iter_mut() {
            *sent = from.i64()?;
        }
        Ok(())
    }

    /// On another number of workers the senders are others: each edge starts with every
    /// sender at the lowest watermark any worker had combined there, and this worker has
    /// sent nothing yet, so it sends its watermarks again (receivers keep the highest, so
    /// one sent twice changes nothing; one held back because the worker of its number had
    /// sent it would leave the others waiting).
    fn load_rescaled(
        &mut self,
        parts: &mut [crate::checkpoint::StateIn<'_>],
        _: &crate::checkpoint::Rescale,
    ) -> Result<(), JobError> {
        let edges = self.watermarks.len();
        let mut combined = vec![i64::MAX; edges];
        for part in parts.iter_mut() {
            if part.u64()? != edges as u64 {
                return Err(JobError::CheckpointMismatch(
                    "its number of exchanges differs".to_string(),
                ));
            }
            for c in combined.iter_mut() {
                *c = (*c).min(CombinedWatermark::saved_current(part)?);
            }
            for _ in 0..edges {
                part.i64()?;
            }
        }
        for (watermarks, c) in self.watermarks.iter_mut().zip(combined) {
            watermarks.set_all(c);
        }
        // The workers that read nothing still count as done there from the start.
        let fed = std::mem::take(&mut self.worker_zero_fed);
        self.only_worker_zero_reads(&fed);
        Ok(())
    }
}

/// What the workers said of their pieces of one slice in one round of slice scans.
#[derive(Debug, Clone, Copy)]
struct SliceReports {
    /// How many have said.
    said: usize,
    /// The largest event time they found.
    max: i64,
    /// Whether one met a line break inside quotes.
    quoted_line_break: bool,
}

impl Default for SliceReports {
    fn default() -> Self {
        SliceReports {
            said: 0,
            max: i64::MIN,
            quoted_line_break: false,
        }
    }
}

/// The end of input on a worker whose sources have all ended: each node finishes (in
/// topological order) once every exchange edge into it has ended on every worker, then
/// ends the edges it feeds; last, the worker stays in the dataflow until the others are
/// done with what it sent. `waiting` is called whenever the worker waits for the others
/// (`false`) and once it is done (`true`): it takes part in their checkpoints
/// (`crate::checkpoint::Checkpoints::at_end`).
pub fn finish<J: Pipeline>(
    job: &mut J,
    ctx: &mut crate::JobContext,
    waiting: &mut dyn FnMut(&mut J, bool) -> Result<(), JobError>,
) -> Result<(), JobError> {
    let plan = job.finish_plan();
    for step in 0..J::STEPS {
        let (waits, ends) = plan.get(step).copied().unwrap_or((&[], &[]));
        loop {
            pump(job, false)?;
            let exchange = job.exchange().expect("parallel");
            if waits.iter().all(|&e| exchange.is_done(e as usize)) {
                break;
            }
            waiting(job, false)?;
            pump(job, true)?;
        }
        job.finish_step(step, ctx)?;
        let exchange = job.exchange().expect("parallel");
        for &edge in ends.iter() {
            exchange.outbox.end(edge as usize);
        }
    }
    pump(job, false)?;
    waiting(job, true)?;
    job.exchange().expect("parallel").shut_down();
    Ok(())
}
