//! `weir run`'s flags: those it keeps (the pipeline, the build cache) and those it hands to
//! the job it starts.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;

/// The flags of `weir run`.
#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// The .pipe file.
    pub(super) file: PathBuf,
    /// Managed memory for operator state, e.g. 256MB.
    #[arg(long)]
    pub(super) memory: Option<String>,
    /// Read source NAME from PATH instead (`-` for stdin).
    #[arg(long = "input", value_name = "NAME=PATH")]
    pub(super) inputs: Vec<String>,
    /// Write sink NAME to PATH instead (`-` for stdout).
    #[arg(long = "output", value_name = "NAME=PATH")]
    pub(super) outputs: Vec<String>,
    /// Print each stateful operator's records and memory at the end, with tuning advice.
    #[arg(long)]
    pub(super) stats: bool,
    /// Write the same report as JSON to FILE (schema in docs/stats.md).
    #[arg(long, value_name = "FILE")]
    pub(super) stats_json: Option<PathBuf>,
    /// The events of a run of every `nexmark(...)` source, in place of its `events`.
    #[arg(long, value_name = "N")]
    pub(super) events: Option<u64>,
    /// Serve a live page of the run at ADDR (e.g. 127.0.0.1:8080): its graph, records,
    /// memory, watermarks and checkpoints; /api/job is its JSON, /metrics OpenMetrics.
    #[arg(long, value_name = "ADDR")]
    pub(super) ui: Option<String>,
    /// How often sinks write out records that wait (e.g. 500ms; default 1s).
    #[arg(long, value_name = "DURATION")]
    pub(super) flush_every: Option<String>,
    /// Where state past its memory budget is spilled; a fresh directory is made in it
    /// and removed at the end (default: the system's temporary directory).
    #[arg(long, value_name = "DIR")]
    pub(super) spill_dir: Option<PathBuf>,
    /// Processing time: `system` (the default) or `replay`, the largest event time an
    /// operator has received (recorded input runs as if each record arrived at its own
    /// time).
    #[arg(long, value_name = "CLOCK", value_parser = ["system", "replay"])]
    pub(super) clock: Option<String>,
    /// Take checkpoints in DIR, and resume from the newest one there (docs/checkpoints.md).
    #[arg(long, value_name = "DIR")]
    pub(super) checkpoint_dir: Option<PathBuf>,
    /// The time between two checkpoints (e.g. 500ms; default 1s).
    #[arg(long, value_name = "DURATION", requires = "checkpoint_dir")]
    pub(super) checkpoint_interval: Option<String>,
    /// Checkpoints that may fail in a row before the job stops (default 3).
    #[arg(long, value_name = "N", requires = "checkpoint_dir")]
    pub(super) checkpoint_failures: Option<u32>,
    /// Where SIGUSR1 makes the running job write a savepoint (docs/checkpoints.md).
    #[arg(long, value_name = "DIR", requires = "checkpoint_dir")]
    pub(super) savepoint_dir: Option<PathBuf>,
    /// Where a job stopped by SIGINT or SIGTERM writes a savepoint.
    #[arg(long, value_name = "DIR", requires = "checkpoint_dir")]
    pub(super) savepoint_on_stop: Option<PathBuf>,
    /// Start from this savepoint (a `savepoint-…` folder, or a directory of them), unless
    /// the checkpoint directory has a checkpoint to resume from.
    #[arg(long, value_name = "PATH", requires = "checkpoint_dir")]
    pub(super) from_savepoint: Option<PathBuf>,
    /// Start from a savepoint that holds state of operators the job no longer has, leaving
    /// that state out (it is listed).
    #[arg(long, requires = "from_savepoint")]
    pub(super) allow_non_restored_state: bool,
    /// Worker threads (per process, with --processes); default 1.
    #[arg(long, value_name = "N")]
    pub(super) parallelism: Option<usize>,
    /// Processes in a multi-process job, each started with its own --process and the
    /// same --hostfile; process 0 writes the outputs and the report.
    #[arg(long, value_name = "N", requires = "hostfile")]
    pub(super) processes: Option<usize>,
    /// This process's index in a multi-process job, from 0.
    #[arg(long, value_name = "I", requires = "processes")]
    pub(super) process: Option<usize>,
    /// One `host:port` line per process of a multi-process job.
    #[arg(long, value_name = "FILE")]
    pub(super) hostfile: Option<PathBuf>,
    /// The build cache (default: $WEIR_CACHE_DIR or ~/.cache/weir).
    #[arg(long)]
    pub(super) cache_dir: Option<PathBuf>,
}

impl RunArgs {
    /// The job's command line: every flag but the pipeline and the build cache, as the job
    /// reads it (its usage line in `weir_runtime::job::args`).
    pub(super) fn job_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        let mut flag = |name: &str, value: OsString| {
            args.push(name.into());
            args.push(value);
        };
        if let Some(m) = &self.memory {
            flag("--memory", m.into());
        }
        for i in &self.inputs {
            flag("--input", i.into());
        }
        for o in &self.outputs {
            flag("--output", o.into());
        }
        if let Some(f) = &self.stats_json {
            flag("--stats-json", f.into());
        }
        if let Some(d) = &self.flush_every {
            flag("--flush-every", d.into());
        }
        if let Some(n) = self.events {
            flag("--events", n.to_string().into());
        }
        if let Some(addr) = &self.ui {
            flag("--ui", addr.into());
        }
        if let Some(d) = &self.spill_dir {
            flag("--spill-dir", d.into());
        }
        if let Some(c) = &self.clock {
            flag("--clock", c.into());
        }
        if let Some(d) = &self.checkpoint_dir {
            flag("--checkpoint-dir", d.into());
        }
        if let Some(i) = &self.checkpoint_interval {
            flag("--checkpoint-interval", i.into());
        }
        if let Some(n) = self.checkpoint_failures {
            flag("--checkpoint-failures", n.to_string().into());
        }
        for (name, dir) in [
            ("--savepoint-dir", &self.savepoint_dir),
            ("--savepoint-on-stop", &self.savepoint_on_stop),
            ("--from-savepoint", &self.from_savepoint),
        ] {
            if let Some(d) = dir {
                flag(name, d.into());
            }
        }
        for (name, n) in [
            ("--parallelism", self.parallelism),
            ("--processes", self.processes),
            ("--process", self.process),
        ] {
            if let Some(n) = n {
                flag(name, n.to_string().into());
            }
        }
        if let Some(f) = &self.hostfile {
            flag("--hostfile", f.into());
        }
        if self.stats {
            args.push("--stats".into());
        }
        if self.allow_non_restored_state {
            args.push("--allow-non-restored-state".into());
        }
        args
    }
}
