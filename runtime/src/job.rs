//! What every generated job shares: its command line, its context (inputs, outputs, memory,
//! report) and its `main`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use crate::io::files::{self, FileRole, FileUse, ResolvedUse};
use crate::io::{InputSpec, OutputSpec, PendingOutputs};
use crate::memory::{
    divide_memory, format_bytes, parse_bytes, MemoryDemand, OperatorMemory, SegmentPool,
    DEFAULT_MEMORY, DEFAULT_PAGE_SIZE,
};
use crate::JobError;

/// The static description of a generated job, written by the compiler.
#[derive(Debug)]
pub struct JobSpec {
    /// The pipeline's name (its file stem).
    pub name: &'static str,
    /// Names of its sources, for `--input NAME=PATH`.
    pub sources: &'static [&'static str],
    /// Names of its sinks, for `--output NAME=PATH`.
    pub sinks: &'static [&'static str],
    /// Its stateful operators, in the compiler's order (the order budgets are divided in).
    pub operators: &'static [StatefulOperator],
    /// Every file it reads or writes, checked before anything is written.
    pub files: &'static [FileUse],
}

impl JobSpec {
    /// Each stateful operator, where it is written, and its budget under `memory` bytes: the
    /// part of `weir explain` a built job can tell by itself.
    pub fn budgets(&self, memory: u64) -> Result<String, JobError> {
        let demands: Vec<MemoryDemand> = self.operators.iter().map(|o| o.demand).collect();
        let pages = divide_memory(memory, DEFAULT_PAGE_SIZE, &demands)
            .map_err(|e| JobError::Config(e.to_string()))?;
        let mut out = format!(
            "job `{}`: {} stateful operator(s), memory {}\n",
            self.name,
            self.operators.len(),
            format_bytes(memory)
        );
        for (op, pages) in self.operators.iter().zip(pages) {
            out.push_str(&format!(
                "{}: {} ({pages} pages, min {})\n",
                op.name,
                format_bytes(pages * DEFAULT_PAGE_SIZE as u64),
                op.demand.min_pages
            ));
        }
        Ok(out)
    }
}

/// A stateful operator of a job: its id, its name in messages, and what it asks of memory.
#[derive(Debug, Clone, Copy)]
pub struct StatefulOperator {
    /// The operator's id in the compiler's graph: how generated code asks for its memory.
    pub id: usize,
    /// As messages name it: `aggregate at job.pipe:7:6`.
    pub name: &'static str,
    /// Its weight and minimum.
    pub demand: MemoryDemand,
}

/// The job's command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobArgs {
    /// `--memory`, in bytes.
    pub memory: u64,
    /// `--input NAME=PATH` pairs.
    pub inputs: Vec<(String, String)>,
    /// `--output NAME=PATH` pairs.
    pub outputs: Vec<(String, String)>,
    /// `--stats`: print each stateful operator's memory use at the end.
    pub stats: bool,
}

const USAGE: &str = "usage: JOB [--memory SIZE] [--input NAME=PATH]... [--output NAME=PATH]... [--stats]\n  PATH `-` is standard input or output";

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
        };
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
                "--stats" => out.stats = true,
                "-h" | "--help" => return Err(JobError::Config(USAGE.to_string())),
                _ => {
                    return Err(JobError::Config(format!(
                        "unknown argument `{arg}`\n{USAGE}"
                    )))
                }
            }
        }
        Ok(out)
    }
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

/// What a running job's operators reach: inputs and outputs after overrides, each stateful
/// operator's slice of the memory pool, and the end-of-run report.
#[derive(Debug)]
pub struct JobContext {
    args: JobArgs,
    pool: Arc<SegmentPool>,
    /// Each stateful operator's id and budget in pages.
    budgets: Vec<(usize, u64)>,
    /// Outputs written but not yet committed.
    outputs: PendingOutputs,
    report: Vec<String>,
    progress: bool,
}

impl JobContext {
    /// A context for `spec` run with `args`; fails when `--memory` is below what the
    /// stateful operators need at the least.
    pub fn new(spec: &JobSpec, args: JobArgs) -> Result<Self, JobError> {
        let demands: Vec<MemoryDemand> = spec.operators.iter().map(|o| o.demand).collect();
        let pages = divide_memory(args.memory, DEFAULT_PAGE_SIZE, &demands).map_err(|e| {
            let each: Vec<String> = spec
                .operators
                .iter()
                .map(|op| {
                    let min = op.demand.min_pages * DEFAULT_PAGE_SIZE as u64;
                    format!("{} needs {}", op.name, format_bytes(min))
                })
                .collect();
            JobError::Config(format!("{e} ({})", each.join("; ")))
        })?;
        let budgets = spec.operators.iter().map(|o| o.id).zip(pages).collect();
        let uses: Vec<ResolvedUse> = spec.files.iter().map(|u| resolve(u, &args)).collect();
        files::check(&uses)?;
        Ok(JobContext {
            pool: SegmentPool::new(args.memory, DEFAULT_PAGE_SIZE),
            budgets,
            outputs: PendingOutputs::default(),
            args,
            report: Vec::new(),
            progress: std::io::stderr().is_terminal(),
        })
    }

    /// Where source `name` reads from: `--input name=PATH` if given, else `default`.
    pub fn input(&self, name: &str, default: InputSpec) -> InputSpec {
        match overridden(&self.args.inputs, name) {
            Some(Some(p)) => InputSpec::File(p.to_string()),
            Some(None) => InputSpec::Stdin,
            None => default,
        }
    }

    /// Where sink `name` writes to: `--output name=PATH` if given, else `default`.
    pub fn output(&self, name: &str, default: OutputSpec) -> OutputSpec {
        match overridden(&self.args.outputs, name) {
            Some(Some(p)) => OutputSpec::File(p.to_string()),
            Some(None) => OutputSpec::Stdout,
            None => default,
        }
    }

    /// The memory slice of the stateful operator with id `id` (see [`StatefulOperator`]);
    /// an id the spec does not list is an error, never an empty budget.
    pub fn operator_memory(
        &self,
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
        Ok(self.pool.operator(name, location, *pages))
    }

    /// The job's outputs, written aside until the job commits them.
    pub fn outputs(&self) -> &PendingOutputs {
        &self.outputs
    }

    /// Ends the job: `result` ok commits every output (renames it over its target), an
    /// error discards them, leaving the previous results.
    pub fn commit_or_discard<T>(&self, result: Result<T, JobError>) -> Result<T, JobError> {
        match result {
            Ok(v) => self.outputs.commit().map(|()| v),
            Err(e) => {
                self.outputs.discard();
                Err(e)
            }
        }
    }

    /// Adds a line to the report printed on stderr at the end of the run.
    pub fn report(&mut self, line: String) {
        self.report.push(line);
    }

    /// The processing-time clock.
    pub fn clock(&self) -> crate::time::Clock {
        crate::time::Clock::System
    }

    /// Whether sources draw a progress line (stderr is a terminal).
    pub fn progress_enabled(&self) -> bool {
        self.progress
    }

    pub(crate) fn print_report(&self) {
        for line in &self.report {
            eprintln!("{line}");
        }
        if self.args.stats {
            for u in self.pool.usage() {
                eprintln!(
                    "memory: {} at {}: peak {} of budget {}",
                    u.name,
                    u.location,
                    format_bytes(u.peak_bytes),
                    format_bytes(u.budget_bytes)
                );
            }
        }
    }
}

/// The last `NAME=PATH` override of `name` in `pairs`: `Some(None)` for `-` (a std
/// stream), `None` when not overridden.
fn overridden<'a>(pairs: &'a [(String, String)], name: &str) -> Option<Option<&'a str>> {
    pairs
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, p)| (p != "-").then_some(p.as_str()))
}

/// Where a file use points after `--input`/`--output`.
fn resolve(u: &FileUse, args: &JobArgs) -> ResolvedUse {
    let path = match u.role {
        FileRole::Input => overridden(&args.inputs, u.name),
        FileRole::Output => overridden(&args.outputs, u.name),
        FileRole::DeadLetter => None,
    }
    .map_or_else(|| u.path.map(String::from), |p| p.map(String::from));
    ResolvedUse {
        role: u.role,
        name: u.name.to_string(),
        path,
    }
}

/// The `main` of a generated job: reads the command line, runs `body`, prints the report
/// and any error on stderr, and returns the exit code (0, 1 for a failed job, 2 for bad
/// arguments).
pub fn run_main(
    spec: &'static JobSpec,
    body: fn(&mut JobContext) -> Result<(), JobError>,
) -> ExitCode {
    let ctx =
        JobArgs::parse(std::env::args().skip(1), spec).and_then(|args| JobContext::new(spec, args));
    let mut ctx = match ctx {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    crate::signals::discard_outputs_on_interrupt(spec.name, ctx.outputs().clone());
    let result = body(&mut ctx);
    let result = ctx.commit_or_discard(result);
    ctx.print_report();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: job `{}` failed: {e}", spec.name);
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: JobSpec = JobSpec {
        name: "t",
        sources: &["lines"],
        sinks: &["counts"],
        operators: &[],
        files: &[],
    };

    fn parse(args: &[&str]) -> Result<JobArgs, JobError> {
        JobArgs::parse(args.iter().map(|s| s.to_string()), &SPEC)
    }

    #[test]
    fn reads_overrides_and_memory() {
        let a = parse(&[
            "--memory",
            "1MB",
            "--input",
            "lines=x.txt",
            "--output=counts=-",
        ]);
        let a = a.unwrap();
        assert_eq!(a.memory, 1 << 20);
        assert_eq!(a.inputs, vec![("lines".into(), "x.txt".into())]);
        let ctx = JobContext::new(&SPEC, a).unwrap();
        assert_eq!(
            ctx.output("counts", OutputSpec::File("o".into())),
            OutputSpec::Stdout
        );
        assert_eq!(
            ctx.input("lines", InputSpec::Stdin),
            InputSpec::File("x.txt".into())
        );
    }

    #[test]
    fn budgets_are_found_by_operator_id_and_an_unknown_id_is_an_error() {
        const KEYED: JobSpec = JobSpec {
            name: "k",
            sources: &[],
            sinks: &[],
            files: &[],
            operators: &[
                StatefulOperator {
                    id: 7,
                    name: "aggregate at k.pipe:3:4",
                    demand: MemoryDemand {
                        weight: 1,
                        min_pages: 4,
                    },
                },
                StatefulOperator {
                    id: 2,
                    name: "window at k.pipe:5:4",
                    demand: MemoryDemand {
                        weight: 3,
                        min_pages: 4,
                    },
                },
            ],
        };
        let args = JobArgs::parse(["--memory".to_string(), "4MB".to_string()], &KEYED).unwrap();
        let ctx = JobContext::new(&KEYED, args).unwrap();
        let aggregate = ctx.operator_memory(7, "aggregate", "k.pipe:3:4").unwrap();
        let window = ctx.operator_memory(2, "window", "k.pipe:5:4").unwrap();
        // The window weighs three times the aggregate, whatever their order in the spec.
        assert_eq!(window.budget_bytes(), 3 * aggregate.budget_bytes());
        let e = ctx
            .operator_memory(3, "distinct", "k.pipe:9:4")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("operator 3") && e.contains("no memory budget"),
            "{e}"
        );
    }

    #[test]
    fn unknown_names_are_refused() {
        let e = parse(&["--input", "nope=x"]).unwrap_err().to_string();
        assert!(e.contains("no source named `nope`"), "{e}");
        assert!(parse(&["--frobnicate"]).is_err());
        assert!(parse(&["--memory"]).is_err());
    }
}
