//! What every generated job shares: its command line, its context (inputs, outputs, memory,
//! report) and its `main`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use crate::io::files::{self, FileRole, ResolvedUse};
use crate::io::{InputSpec, OutputSpec, PendingOutputs};
use crate::memory::{OperatorMemory, SegmentPool, DEFAULT_PAGE_SIZE};
use crate::spill::SpillSpace;
use crate::JobError;

mod args;
mod driver;
mod memory_plan;
mod pipe_job;
mod report;
mod spec;

pub(crate) use report::WorkerReport;

use args::{overridden, resolve};
pub use args::{JobArgs, DEFAULT_FLUSH};
pub use driver::{
    attach, end_of_input, end_of_input_with, pump_if_full, Pipeline, RecordCounts, SourcePick,
};
pub use pipe_job::PipeJob;
pub use spec::{Identity, InputSplit, JobSpec, StatefulOperator};

/// What a running job's operators reach: inputs and outputs after overrides, each stateful
/// operator's slice of the memory pool, and the end-of-run report.
#[derive(Debug)]
pub struct JobContext {
    args: JobArgs,
    pool: Arc<SegmentPool>,
    /// Each stateful operator's id and budget in pages.
    budgets: Vec<(usize, u64)>,
    /// Each stateful operator's id and least budget in pages.
    mins: Vec<(usize, u64)>,
    /// The ids of operators given memory, in the order the pool registered them (shared by
    /// the workers of a parallel run, which register into one pool).
    registered: Arc<std::sync::Mutex<Vec<usize>>>,
    /// Records in and out of each operator, by id, as counted at the end.
    records: Vec<(usize, u64, u64)>,
    started: std::time::Instant,
    name: &'static str,
    /// Outputs written but not yet committed.
    outputs: PendingOutputs,
    /// Where operators spill; removed when the context is dropped.
    spill: SpillSpace,
    report: Vec<report::ReportLine>,
    /// Records each file sink wrote, by sink and target (summed over workers).
    sinks: Vec<report::SinkCount>,
    progress: bool,
    /// Which worker this context serves.
    slot: crate::parallel::WorkerSlot,
    /// The spec's `inputs`.
    inputs: InputSplit,
    /// Pages of each combiner (`parallel::combiner_pages`).
    combiner_pages: u64,
    /// The slice whose piece this worker is scanning ([`JobContext::scan_pieces`]).
    scanning: Option<usize>,
    /// The file whose slices are cut at line starts, also when it is CSV (checked by the
    /// slice scans: `parallel::start_after_earlier_slices`).
    line_start_cuts: Option<String>,
    /// Ends the job's followed inputs (shared by its workers).
    input_stop: crate::io::InputStop,
    /// What the run's checkpoints took, kept up to date by its `Checkpoints`.
    checkpoint_stats: Option<Arc<std::sync::Mutex<crate::checkpoint::CheckpointStats>>>,
    /// The run stopped at a checkpoint to be resumed: its outputs stay parts, and its
    /// checkpoints stay.
    resumable: bool,
    /// The live page's board (`--ui`), shared by every worker.
    monitor: Option<Arc<crate::monitor::LiveBoard>>,
}

impl JobContext {
    /// A context for `spec` run with `args`; fails when `--memory` is below what the
    /// stateful operators need at the least.
    pub fn new(spec: &'static JobSpec, args: JobArgs) -> Result<Self, JobError> {
        // A parallel run's exchange buffers come out of --memory first; every shortfall,
        // per worker too, is found here before a record is read.
        let budgets = memory_plan::budgets(spec, args.memory, args.cluster.workers())?;
        let (args_memory, workers) = (args.memory, args.cluster.workers());
        let mut uses: Vec<ResolvedUse> = spec.files.iter().map(|u| resolve(u, &args)).collect();
        // The report is one more file the run writes: it may not be an input or an output.
        uses.extend(args.stats_json.iter().map(|path| ResolvedUse {
            role: FileRole::Report,
            name: "--stats-json".to_string(),
            path: Some(path.clone()),
        }));
        files::check(&uses)?;
        let spill = SpillSpace::new(args.spill_dir.clone(), spec.name);
        if args.spill_dir.is_some() || !spec.operators.is_empty() {
            spill.probe()?;
        }
        Ok(JobContext {
            pool: SegmentPool::new(args.memory, DEFAULT_PAGE_SIZE),
            budgets,
            mins: spec
                .operators
                .iter()
                .map(|o| (o.id, o.demand.min_pages))
                .collect(),
            registered: Arc::default(),
            records: Vec::new(),
            started: std::time::Instant::now(),
            name: spec.name,
            outputs: PendingOutputs::default(),
            spill,
            args,
            report: Vec::new(),
            sinks: Vec::new(),
            progress: std::io::stderr().is_terminal(),
            slot: crate::parallel::WorkerSlot::SINGLE,
            inputs: spec.inputs,
            combiner_pages: crate::parallel::combiner_pages(args_memory, workers, spec.combined),
            scanning: None,
            line_start_cuts: None,
            input_stop: crate::io::InputStop::new(),
            checkpoint_stats: None,
            resumable: false,
            monitor: None,
        })
    }

    /// With `--ui ADDR`, starts serving the live page of this run of `spec` there (and
    /// says where on stderr).
    pub fn serve_ui(&mut self, spec: &'static JobSpec) -> Result<(), JobError> {
        let Some(addr) = self.args.ui.clone() else {
            return Ok(());
        };
        let board = crate::monitor::LiveBoard::new(spec, self.pool.clone());
        let bound = crate::monitor::serve(board.clone(), &addr)?;
        eprintln!("job `{}`: live page at http://{bound}/", spec.name);
        self.monitor = Some(board);
        Ok(())
    }

    /// The live page's board, when the run has one.
    pub(crate) fn monitor(&self) -> Option<Arc<crate::monitor::LiveBoard>> {
        self.monitor.clone()
    }

    /// The context of worker `slot` of a parallel run: the same inputs, outputs (written
    /// as the worker's parts), pool and spill space, and each operator's budget divided
    /// among the workers (`JobContext::new` made sure no share is below its minimum).
    pub(crate) fn for_worker(&self, slot: crate::parallel::WorkerSlot) -> Result<Self, JobError> {
        // `JobContext::new` checked that each share is at least the operator's minimum.
        let peers = slot.peers as u64;
        let budgets = self
            .budgets
            .iter()
            .map(|&(id, pages)| (id, pages / peers))
            .collect();
        Ok(JobContext {
            args: self.args.clone(),
            pool: self.pool.clone(),
            budgets,
            mins: self.mins.clone(),
            registered: self.registered.clone(),
            records: Vec::new(),
            started: self.started,
            name: self.name,
            outputs: self.outputs.part(slot.index, slot.peers),
            spill: self.spill.clone(),
            report: Vec::new(),
            sinks: Vec::new(),
            // One progress line per worker would overwrite the others' on the terminal.
            progress: self.progress && slot.index == 0,
            slot,
            inputs: self.inputs,
            combiner_pages: self.combiner_pages,
            scanning: None,
            line_start_cuts: None,
            input_stop: self.input_stop.clone(),
            checkpoint_stats: None,
            resumable: false,
            monitor: self.monitor.clone(),
        })
    }

    /// The job's outputs, to make them durable parts (checkpoints are on).
    pub(crate) fn outputs_mut(&mut self) -> &mut PendingOutputs {
        &mut self.outputs
    }

    /// The run's checkpoint figures, when it takes checkpoints (for the progress line).
    pub(crate) fn checkpoint_stats(
        &self,
    ) -> Option<Arc<std::sync::Mutex<crate::checkpoint::CheckpointStats>>> {
        self.checkpoint_stats.clone()
    }

    /// The run stopped at a checkpoint: at its end, nothing is committed and the
    /// checkpoints stay, for the next run to resume from.
    pub(crate) fn keep_for_resuming(&mut self) {
        self.resumable = true;
    }

    /// Where the run's checkpoints keep their figures, for its report.
    pub(crate) fn report_checkpoints(
        &mut self,
        stats: Arc<std::sync::Mutex<crate::checkpoint::CheckpointStats>>,
    ) {
        self.checkpoint_stats = Some(stats);
    }

    /// What ends the job's followed inputs (`with follow`).
    pub fn input_stop(&self) -> &crate::io::InputStop {
        &self.input_stop
    }

    /// The same context, its followed inputs ended by `stop`.
    pub fn with_input_stop(mut self, stop: crate::io::InputStop) -> Self {
        self.input_stop = stop;
        self
    }

    /// Which share of a generated input (a Nexmark run) this worker makes: `(index, peers)`
    /// takes positions `index`, `index + peers`, ...; `None` for none. Every worker makes
    /// its own share unless the job's spec has worker 0 read every input.
    pub fn generated_share(&self) -> Option<(u64, u64)> {
        if self.slot.is_single() || self.inputs == InputSplit::WorkerZero {
            return (self.slot.index == 0).then_some((0, 1));
        }
        Some((self.slot.index as u64, self.slot.peers as u64))
    }

    /// The part of `input` this worker reads: all of it on one worker; in a parallel run,
    /// a slice of each file when the job's spec allows it (cut where `records` start),
    /// else everything on worker 0 and nothing elsewhere (standard input, a named pipe or
    /// a device is always read by worker 0 alone: it cannot be cut).
    pub fn input_part(
        &self,
        input: &InputSpec,
        records: crate::io::Records,
    ) -> crate::io::InputPart {
        use crate::io::InputPart;
        let records = match (input, records) {
            (InputSpec::File(path), crate::io::Records::Csv(_))
                if self.line_start_cuts.as_ref() == Some(path) =>
            {
                crate::io::Records::CsvLines
            }
            _ => records,
        };
        if self.slot.is_single() {
            InputPart::Whole
        } else if let (Some(slice), true) = (self.scanning, sliceable(input)) {
            InputPart::Piece {
                slice: crate::parallel::WorkerSlot {
                    index: slice,
                    peers: self.slot.peers,
                },
                piece: self.slot.index,
                records,
            }
        } else if self.inputs != InputSplit::WorkerZero && sliceable(input) {
            InputPart::Slice(self.slot, records)
        } else if self.slot.index == 0 {
            InputPart::Whole
        } else {
            InputPart::Nothing
        }
    }

    /// What this worker's piece of each slice of `input` but the last holds
    /// ([`InputSplit::EventTimeSlices`]), found by `scan` (given a context whose sources open
    /// that piece): the workers after a slice start their watermarks where one worker
    /// reading every slice before theirs would have it, and all workers share the scans
    /// (`parallel::start_after_earlier_slices`). With `at_line_starts`, the slices and
    /// pieces of a CSV file are cut at line starts rather than record starts, from now on:
    /// the scans check that the two are the same. [`PieceScan::NOTHING`] for each slice when
    /// `input` is not a file cut into slices; nothing on one worker.
    ///
    /// [`PieceScan::NOTHING`]: crate::parallel::PieceScan::NOTHING
    pub fn scan_pieces(
        &mut self,
        input: &InputSpec,
        at_line_starts: bool,
        mut scan: impl FnMut(&JobContext) -> Result<crate::parallel::PieceScan, JobError>,
    ) -> Result<Vec<crate::parallel::PieceScan>, JobError> {
        let slices = self.slot.peers.saturating_sub(1);
        let (InputSpec::File(path), InputSplit::EventTimeSlices, true) =
            (input, self.inputs, sliceable(input))
        else {
            return Ok(vec![crate::parallel::PieceScan::NOTHING; slices]);
        };
        self.line_start_cuts = at_line_starts.then(|| path.clone());
        // A pass over the input before the real one would show the progress twice.
        let shown = std::mem::replace(&mut self.progress, false);
        let mut found = Vec::with_capacity(slices);
        for slice in 0..slices {
            self.scanning = Some(slice);
            let piece = scan(self);
            self.scanning = None;
            match piece {
                Ok(piece) => found.push(piece),
                Err(e) => {
                    self.progress = shown;
                    return Err(e);
                }
            }
        }
        self.progress = shown;
        Ok(found)
    }

    /// Which of the job's workers this context serves.
    pub fn worker(&self) -> crate::parallel::WorkerSlot {
        self.slot
    }

    /// The command line the job was started with.
    pub fn args(&self) -> &JobArgs {
        &self.args
    }

    /// Where source `name` reads from: `--input name=PATH` if given, else `default`.
    pub fn input(&self, name: &str, default: InputSpec) -> InputSpec {
        match overridden(&self.args.inputs, name) {
            // A followed source follows the file it is given instead.
            Some(Some(p)) if matches!(default, InputSpec::Follow(_)) => {
                InputSpec::Follow(p.to_string())
            }
            Some(Some(p)) => InputSpec::File(p.to_string()),
            Some(None) => InputSpec::Stdin,
            None => default,
        }
    }

    /// Where sink `name` writes to: `--output name=PATH` if given, else `default`; `-` and
    /// a path that names standard output ([`crate::io::names_standard_output`]) write it.
    pub fn output(&self, name: &str, default: OutputSpec) -> OutputSpec {
        match overridden(&self.args.outputs, name) {
            Some(Some(p)) => OutputSpec::at(p),
            Some(None) => OutputSpec::Stdout,
            None => match default {
                OutputSpec::File(p) => OutputSpec::at(&p),
                OutputSpec::Stdout => OutputSpec::Stdout,
            },
        }
    }

    /// The memory slice of the stateful operator with id `id` (see [`StatefulOperator`]);
    /// an id the spec does not list is an error, never an empty budget.
    pub fn operator_memory(
        &mut self,
        id: usize,
        name: &str,
        location: &str,
    ) -> Result<OperatorMemory, JobError> {
        let (_, pages) = self
            .budgets
            .iter()
            .find(|(op, _)| *op == id)
            .ok_or_else(|| {
                JobError::Config(format!(
                    "{name} at {location} (operator {id}) has no memory budget in this job's spec"
                ))
            })?;
        let pages = *pages;
        // Held while the pool registers the operator, so ids stay in the pool's order
        // when workers register at once.
        let mut registered = self.registered.lock().unwrap_or_else(|e| e.into_inner());
        registered.push(id);
        Ok(self
            .pool
            .operator(name, location, pages)
            .with_spill(self.spill.clone()))
    }

    /// The memory of a combiner of the stateful operator with id `id` on this worker:
    /// [`crate::parallel::combiner_pages`], out of what `--memory` set aside for the
    /// exchange; it counts as part of the operator in the report.
    pub fn combiner_memory(
        &mut self,
        id: usize,
        name: &str,
        location: &str,
    ) -> Result<OperatorMemory, JobError> {
        let mut registered = self.registered.lock().unwrap_or_else(|e| e.into_inner());
        registered.push(id);
        Ok(self
            .pool
            .operator(name, location, self.combiner_pages)
            .with_spill(self.spill.clone()))
    }

    /// The job's spill space, shared with its signal handler and panic hook.
    pub fn spill_space(&self) -> &SpillSpace {
        &self.spill
    }

    /// How often sinks write out what waits (`--flush-every`).
    pub fn flush_every(&self) -> std::time::Duration {
        self.args.flush_every
    }

    /// The job's outputs, written aside until the job commits them.
    pub fn outputs(&self) -> &PendingOutputs {
        &self.outputs
    }

    /// Ends the job: `result` ok commits every output (renames it over its target), with
    /// the `--stats-json` report staged among them, so a report that cannot be written
    /// fails the job before any output is replaced; an error discards them, leaving the
    /// previous results. Spill files are removed either way. Then (on the first process of
    /// a job) prints the report, and writes the report file of a failed run.
    pub fn finish<T>(&self, result: Result<T, JobError>) -> Result<T, JobError> {
        self.spill.remove();
        let reports = self.args.cluster.process == 0;
        let result = result.and_then(|v| {
            // A run stopped to be resumed has no end to report in a file.
            if let (true, Some(path), false) = (reports, &self.args.stats_json, self.resumable) {
                self.outputs.stage(path, &self.stats_json(true)?)?;
            }
            Ok(v)
        });
        let result = match result {
            // The job is done: its checkpoints go before its outputs are committed, so
            // that a run killed in between runs the job again and commits the same
            // outputs, rather than resume from a checkpoint whose parts were renamed away.
            Ok(v) if self.resumable => Ok(v),
            // Process 0 commits, so it alone clears them (the others of a cluster share
            // the directory).
            Ok(v) => match &self.args.checkpoint {
                Some(c) if reports => crate::checkpoint::store::clear(&c.dir),
                _ => Ok(()),
            }
            .and_then(|()| self.outputs.commit())
            .map(|()| v),
            Err(e) => Err(e),
        };
        if result.is_err() {
            self.outputs.discard();
        }
        if let Some(board) = &self.monitor {
            let stats = self.stats(result.is_ok());
            let advice = stats.advice();
            board.finish(stats, advice);
        }
        if !reports {
            return result;
        }
        let reported = self.print_report(result.is_ok());
        result.and_then(|v| reported.map(|()| v))
    }

    /// A processing-time clock for one worker, as `--clock` asks.
    pub fn clock(&self) -> crate::time::Clock {
        self.args.clock.clock()
    }

    /// The job's memory, for the progress line sources draw when stderr is a terminal
    /// (`None` when it is not).
    pub fn progress_memory(&self) -> Option<Arc<SegmentPool>> {
        self.progress.then(|| self.pool.clone())
    }
}

impl Drop for JobContext {
    /// A job that unwinds (an inline job's panic) leaves no spill files either.
    fn drop(&mut self) {
        self.spill.remove();
    }
}

/// The `main` of a generated job: reads the command line, runs `body`, prints the report
/// and any error on stderr, and returns the exit code (0, 1 for a failed job, 2 for bad
/// arguments).
pub fn run_main(spec: &'static JobSpec, body: crate::parallel::WorkerBody) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{}", spec.usage());
        return ExitCode::SUCCESS;
    }
    let ctx = JobArgs::parse(args, spec).and_then(|args| JobContext::new(spec, args));
    let mut ctx = match ctx {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    if let Err(e) = ctx.serve_ui(spec) {
        eprintln!("error: {e}");
        return ExitCode::from(e.exit_code());
    }
    let (outputs, spill) = (ctx.outputs().clone(), ctx.spill_space().clone());
    let stop = ctx.input_stop().clone();
    crate::signals::clean_up_on_interrupt(spec.name, outputs.clone(), spill.clone(), stop);
    crate::signals::clean_up_on_panic(spec.name, outputs, spill);
    let result = if ctx.args().cluster.workers() > 1 {
        crate::parallel::run_workers(&mut ctx, spec, body)
    } else {
        body(&mut ctx, None)
    };
    // Process 0 reports for a whole multi-process job (the others sent it their counts);
    // another process writing the same --stats-json path would race it.
    match ctx.finish(result) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of standard output or of a pipe went away (`| head`): a quiet end.
        // Outputs to files were discarded with the rest, since the job did not finish.
        Err(JobError::OutputClosed) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: job `{}` failed: {e}", spec.name);
            ExitCode::from(e.exit_code())
        }
    }
}

/// Whether `input` can be cut into slices: a regular file. A named pipe (`<(zcat f.gz)`)
/// or a device is read as it comes, as standard input is; a file that cannot be looked at
/// is taken as one, for opening it to say what is wrong.
fn sliceable(input: &InputSpec) -> bool {
    match input {
        InputSpec::File(path) => std::fs::metadata(path).map_or(true, |m| m.is_file()),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
