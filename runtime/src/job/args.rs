//! A generated job's command line: its flags, and where inputs and outputs point after
//! `--input` and `--output`.

use crate::io::files::{FileRole, FileUse, ResolvedUse};
use crate::memory::{parse_bytes, DEFAULT_MEMORY};
use crate::JobError;

use super::JobSpec;

/// The job's command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobArgs {
    /// `--memory`, in bytes.
    pub memory: u64,
    /// `--input NAME=PATH` pairs.
    pub inputs: Vec<(String, String)>,
    /// `--output NAME=PATH` pairs.
    pub outputs: Vec<(String, String)>,
    /// `--stats`: print each stateful operator's records and memory at the end, with
    /// tuning advice.
    pub stats: bool,
    /// `--stats-json FILE`: write the same report as JSON (schema in `docs/stats.md`).
    pub stats_json: Option<String>,
    /// `--flush-every`: how often sinks write out records that wait in their buffers.
    pub flush_every: std::time::Duration,
    /// `--spill-dir DIR`: where operators past their budget write spill files (a fresh
    /// directory is made in it); the system's temporary directory when `None`.
    pub spill_dir: Option<std::path::PathBuf>,
    /// `--parallelism N` worker threads, and `--processes N --process I --hostfile FILE`
    /// for one process of a multi-process job.
    pub cluster: crate::parallel::Cluster,
    /// `--clock system|replay`: processing time from the system, or the largest event
    /// time that has reached the operator (recorded input replayed as if it arrived in
    /// time).
    pub clock: crate::time::ClockMode,
    /// `--checkpoint-dir DIR [--checkpoint-interval DURATION]`: take checkpoints there,
    /// and resume from the newest one found there.
    pub checkpoint: Option<crate::checkpoint::CheckpointConfig>,
    /// Whether the job owns its process (a `.pipe` job's binary), and so may take
    /// SIGUSR1 for savepoints even without a savepoint directory (to say it has none). An
    /// inline job runs in the program's process: it takes SIGUSR1 only when the program
    /// gave it somewhere to write savepoints.
    pub owns_process: bool,
    /// `--events N`: the events of a run of every Nexmark source, in place of its
    /// `nexmark(events: ...)`.
    pub events: Option<u64>,
    /// `--ui ADDR`: serve the live page, its JSON and `/metrics` at this address.
    pub ui: Option<String>,
}

pub(super) const USAGE: &str = "usage: JOB [--memory SIZE] [--input NAME=PATH]... [--output NAME=PATH]... [--flush-every DURATION] [--spill-dir DIR] [--clock system|replay] [--checkpoint-dir DIR [--checkpoint-interval DURATION] [--checkpoint-failures N] [--savepoint-dir DIR] [--savepoint-on-stop DIR] [--from-savepoint DIR [--allow-non-restored-state]]] [--stats] [--stats-json FILE] [--ui ADDR] [--events N] [--parallelism N] [--processes N --process I --hostfile FILE]\n  --parallelism (default 1) is the number of worker threads (per process, with --processes);\n  PATH `-` is standard input or output; --flush-every (default 1s) is how often sinks write out what waits;\n  --spill-dir (default: the system's temporary directory) is where state past its budget goes;\n  --clock replay makes processing time the largest event time an operator has received (default: system);\n  --checkpoint-dir takes a checkpoint there every --checkpoint-interval (default 1s) and resumes from the newest one there; the job stops after --checkpoint-failures (default 3) fail in a row;\n  SIGUSR1 writes a savepoint into --savepoint-dir; a job stopped by a signal writes one into --savepoint-on-stop; --from-savepoint starts from one (unless a checkpoint is there to resume from);\n  --events sets the events of a run of every nexmark(...) source;\n  --ui serves a live page of the run at ADDR (e.g. 127.0.0.1:8080): its graph, records, memory, watermarks and checkpoints, with /api/job (JSON) and /metrics (OpenMetrics)";

impl JobArgs {
    /// Reads the arguments, checking source and sink names against `spec`.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        spec: &JobSpec,
    ) -> Result<JobArgs, JobError> {
        let mut out = JobArgs {
            memory: DEFAULT_MEMORY,
            inputs: Vec::new(),
            outputs: Vec::new(),
            stats: false,
            stats_json: None,
            flush_every: DEFAULT_FLUSH,
            spill_dir: None,
            cluster: crate::parallel::Cluster::default(),
            clock: crate::time::ClockMode::System,
            checkpoint: None,
            owns_process: true,
            events: None,
            ui: None,
        };
        let mut checkpoints = CheckpointFlags::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            let mut value = |what: &str| {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| JobError::Config(format!("{flag} needs {what}\n{USAGE}")))
            };
            if checkpoints.take(&flag, &mut value)? {
                continue;
            }
            match flag.as_str() {
                "--memory" => {
                    let v = value("a size")?;
                    out.memory = parse_bytes(&v).map_err(|e| JobError::Config(e.to_string()))?;
                }
                "--input" => {
                    let pair = named_path(&value("NAME=PATH")?, "--input", spec.sources, "source")?;
                    out.inputs.push(pair);
                }
                "--output" => {
                    let pair = named_path(&value("NAME=PATH")?, "--output", spec.sinks, "sink")?;
                    out.outputs.push(pair);
                }
                "--events" => {
                    let v = value("a number of events")?;
                    out.events = Some(v.replace('_', "").parse().map_err(|_| {
                        JobError::Config(format!(
                            "--events takes a whole number of Nexmark events, not `{v}`"
                        ))
                    })?);
                }
                "--stats" => out.stats = true,
                "--stats-json" => out.stats_json = Some(value("a file path")?),
                "--ui" => out.ui = Some(value("an address such as 127.0.0.1:8080")?),
                "--spill-dir" => out.spill_dir = Some(directory(&flag, value("a directory")?)?),
                "--flush-every" => {
                    let v = value("a duration")?;
                    out.flush_every = parse_duration(&v).ok_or_else(|| {
                        JobError::Config(format!(
                            "--flush-every takes a duration such as 500ms or 2s, not `{v}`"
                        ))
                    })?;
                }
                "--clock" => {
                    let v = value("system or replay")?;
                    out.clock = crate::time::ClockMode::from_name(&v).ok_or_else(|| {
                        JobError::Config(format!(
                            "--clock takes `system` or `replay`, not `{v}`\n{USAGE}"
                        ))
                    })?;
                }
                "--parallelism" | "--processes" | "--process" | "--hostfile" => {
                    let v = value("a value")?;
                    out.cluster.set(&flag, &v)?;
                }
                "-h" | "--help" => return Err(JobError::Config(USAGE.to_string())),
                _ => {
                    return Err(JobError::Config(format!(
                        "unknown argument `{arg}`\n{USAGE}"
                    )))
                }
            }
        }
        out.cluster.check()?;
        out.checkpoint = checkpoints.config()?;
        Ok(out)
    }
}

/// The checkpoint and savepoint flags, gathered as they come and checked together.
#[derive(Default)]
struct CheckpointFlags {
    dir: Option<std::path::PathBuf>,
    interval: Option<std::time::Duration>,
    failures: Option<u32>,
    savepoints: crate::checkpoint::SavepointConfig,
}

impl CheckpointFlags {
    /// Takes `flag` if it is one of these (its value from `value`); `false` if it is not.
    fn take(
        &mut self,
        flag: &str,
        value: &mut dyn FnMut(&str) -> Result<String, JobError>,
    ) -> Result<bool, JobError> {
        match flag {
            "--checkpoint-dir" => self.dir = Some(directory(flag, value("a directory")?)?),
            "--checkpoint-interval" => {
                let v = value("a duration")?;
                let interval = parse_duration(&v).filter(|d| !d.is_zero());
                self.interval = Some(interval.ok_or_else(|| {
                    JobError::Config(format!(
                        "--checkpoint-interval takes a duration above zero such as 500ms or 10s, not `{v}`"
                    ))
                })?);
            }
            "--checkpoint-failures" => {
                let v = value("a number")?;
                self.failures = Some(v.parse().ok().filter(|&n: &u32| n > 0).ok_or_else(|| {
                    JobError::Config(format!(
                        "--checkpoint-failures takes how many checkpoints may fail in a row, at least 1, not `{v}`"
                    ))
                })?);
            }
            "--savepoint-dir" | "--savepoint-on-stop" | "--from-savepoint" => {
                let dir = directory(flag, value("a directory")?)?;
                self.savepoints.set(flag, dir);
            }
            "--allow-non-restored-state" => self.savepoints.allow_non_restored = true,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The checkpoints these flags ask for: none without `--checkpoint-dir`, where the
    /// other flags have nothing to act on.
    fn config(self) -> Result<Option<crate::checkpoint::CheckpointConfig>, JobError> {
        match (self.dir, self.interval, self.failures) {
            (Some(dir), interval, failures) => {
                let mut c = crate::checkpoint::CheckpointConfig::new(dir);
                c.interval = interval.unwrap_or(c.interval);
                c.max_failures = failures.unwrap_or(c.max_failures);
                c.savepoints = self.savepoints;
                Ok(Some(c))
            }
            (None, None, None) if self.savepoints.is_none() => Ok(None),
            (None, None, None) => Err(JobError::Config(format!(
                "savepoints need --checkpoint-dir: the run keeps its outputs' parts and its \
                 checkpoints there\n{USAGE}"
            ))),
            (None, _, _) => Err(JobError::Config(format!(
                "--checkpoint-interval and --checkpoint-failures need --checkpoint-dir, where the checkpoints go\n{USAGE}"
            ))),
        }
    }
}

/// `dir`, the value of `flag`, unless it is empty.
fn directory(flag: &str, dir: String) -> Result<std::path::PathBuf, JobError> {
    if dir.is_empty() {
        return Err(JobError::Config(format!(
            "{flag} needs a directory, not an empty path\n{USAGE}"
        )));
    }
    Ok(dir.into())
}

fn named_path(
    text: &str,
    flag: &str,
    known: &[&str],
    what: &str,
) -> Result<(String, String), JobError> {
    let (name, path) = text
        .split_once('=')
        .ok_or_else(|| JobError::Config(format!("{flag} takes NAME=PATH, not `{text}`")))?;
    if !known.contains(&name) {
        return Err(JobError::Config(format!(
            "{flag}: this pipeline has no {what} named `{name}` (it has: {})",
            known.join(", ")
        )));
    }
    Ok((name.to_string(), path.to_string()))
}

/// How often sinks write out what waits, unless `--flush-every` says otherwise.
pub const DEFAULT_FLUSH: std::time::Duration = std::time::Duration::from_secs(1);

/// `500ms`, `2s`, `1m` as a duration.
fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let n: u64 = digits.parse().ok()?;
    let ms = match &text[digits.len()..] {
        "ms" => n,
        "s" => n.checked_mul(1_000)?,
        "m" => n.checked_mul(60_000)?,
        _ => return None,
    };
    Some(std::time::Duration::from_millis(ms))
}

/// The last `NAME=PATH` override of `name` in `pairs`: `Some(None)` for `-` (a std
/// stream), `None` when not overridden.
pub(super) fn overridden<'a>(pairs: &'a [(String, String)], name: &str) -> Option<Option<&'a str>> {
    pairs
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, p)| (p != "-").then_some(p.as_str()))
}

/// Where a file use points after `--input`/`--output`.
pub(super) fn resolve(u: &FileUse, args: &JobArgs) -> ResolvedUse {
    let path = match u.role {
        FileRole::Input => overridden(&args.inputs, u.name),
        FileRole::Output => overridden(&args.outputs, u.name),
        FileRole::DeadLetter | FileRole::Report => None,
    }
    .map_or_else(|| u.path.map(String::from), |p| p.map(String::from))
    .filter(|p| u.role != FileRole::Output || !crate::io::names_standard_output(p));
    ResolvedUse {
        role: u.role,
        name: u.name.to_string(),
        path,
    }
}
