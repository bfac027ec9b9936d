//! The `weir` command line. Every subcommand writes to the writers it is given and returns
//! an exit code, so tests run the real CLI in-process.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

mod bench_nexmark;
mod commands;
mod run_args;
mod signals;

use run_args::RunArgs;

pub(crate) use signals::{die_with_this_process, output_forwarding};

use crate::build::{build_job, default_cache_dir};
use crate::codegen::generate;
use crate::diagnostics::{Diagnostics, SourceFile};
use crate::graph::Stage;
use crate::ir::Plan;

/// weir: Flink-style stream pipelines, compiled to Rust.
#[derive(Debug, Parser)]
#[command(name = "weir", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a pipeline and report every error and warning.
    Check {
        /// The .pipe file.
        file: PathBuf,
    },
    /// Print the operator graph.
    Graph {
        /// The .pipe file.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormat,
        /// Compilation stage: logical (as checked) or optimized (chains and budgets).
        #[arg(long, value_enum, default_value = "logical")]
        stage: Stage,
    },
    /// Print each operator's chain, state kind and memory budget.
    Explain {
        /// The .pipe file.
        file: PathBuf,
        /// The job memory to divide among stateful operators.
        #[arg(long, default_value = "256MB")]
        memory: String,
        /// Worker threads: shows the exchanges, their buffers and each worker's budgets.
        #[arg(long, default_value_t = 1)]
        parallelism: usize,
    },
    /// Print the generated Rust program.
    Emit {
        /// The .pipe file.
        file: PathBuf,
    },
    /// Compile a pipeline to an executable.
    Build {
        /// The .pipe file.
        file: PathBuf,
        /// Where to write the executable (default: the pipeline's name, here).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// The build cache (default: $WEIR_CACHE_DIR or ~/.cache/weir).
        #[arg(long)]
        cache_dir: Option<PathBuf>,
    },
    /// Build if needed, then run a pipeline.
    Run(Box<RunArgs>),
    /// Look into checkpoints (--checkpoint-dir).
    Checkpoint {
        #[command(subcommand)]
        action: CheckpointAction,
    },
    /// Look into savepoints (--savepoint-dir, --savepoint-on-stop).
    Savepoint {
        #[command(subcommand)]
        action: SavepointAction,
    },
    /// Run a benchmark suite and print its figures.
    Bench {
        #[command(subcommand)]
        suite: BenchSuite,
    },
    /// Manage the build cache. Built jobs beyond $WEIR_CACHE_MAX (default 2GB) are removed,
    /// least recently used first, after each build.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
}

#[derive(Debug, Subcommand)]
enum BenchSuite {
    /// The Nexmark queries of dsl-examples/nexmark, over generated events with their
    /// output discarded: events per second (and per core), wall time, peak RSS and rows.
    Nexmark {
        /// Events per query (persons, auctions and bids together).
        #[arg(long, default_value_t = 10_000_000)]
        events: u64,
        /// Worker threads.
        #[arg(long, default_value_t = 1)]
        parallelism: usize,
        /// The queries to run, comma-separated (default: all).
        #[arg(long)]
        queries: Option<String>,
        /// The build cache (default: $WEIR_CACHE_DIR or ~/.cache/weir).
        #[arg(long)]
        cache_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum CacheAction {
    /// Remove the whole cache: every built job and the compiled runtime.
    Clean {
        /// The build cache (default: $WEIR_CACHE_DIR or ~/.cache/weir).
        #[arg(long)]
        cache_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum CheckpointAction {
    /// Print what a checkpoint holds: its job, pipeline and operators, each part of the
    /// state with its size, and each operator state's entries and key groups.
    Inspect {
        /// A checkpoint folder (`chk-…`), or a checkpoint directory (its newest complete
        /// checkpoint).
        path: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum SavepointAction {
    /// Print what a savepoint holds: each stateful operator and sink by its stable
    /// identity, with its state's layout and size, the sources, and the outputs committed.
    Inspect {
        /// A savepoint folder (`savepoint-…`), or a directory of them (the newest).
        path: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
    Json,
    /// A picture, laid out without graphviz.
    Svg,
    /// One self-contained page: the picture and `weir explain`'s table.
    Html,
}

/// Runs the CLI on `args` (the first is the program name). `color` turns on coloured
/// diagnostics.
pub fn main_with(
    args: impl IntoIterator<Item = OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    color: bool,
) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let text = e.render().to_string();
            let _ = if e.use_stderr() {
                err.write_all(text.as_bytes())
            } else {
                out.write_all(text.as_bytes())
            };
            return e.exit_code().clamp(0, 255) as u8;
        }
    };
    let mut ctx = Ctx { out, err, color };
    match ctx.command(cli.command) {
        Ok(code) => code,
        Err(message) => {
            let _ = writeln!(ctx.err, "error: {message}");
            1
        }
    }
}

struct Ctx<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    color: bool,
}

/// A command's failure, already worded for the user.
type Failure = String;

impl Ctx<'_> {
    /// Runs one subcommand; each is a method of `commands.rs`.
    fn command(&mut self, command: Command) -> Result<u8, Failure> {
        match command {
            Command::Check { file } => self.check(&file),
            Command::Graph {
                file,
                format,
                stage,
            } => self.graph(&file, format, stage),
            Command::Explain {
                file,
                memory,
                parallelism,
            } => self.explain(&file, &memory, parallelism),
            Command::Emit { file } => self.emit(&file),
            Command::Build {
                file,
                output,
                cache_dir,
            } => self.build_executable(&file, output, cache_dir),
            Command::Checkpoint {
                action: CheckpointAction::Inspect { path },
            } => self.inspected(weir_runtime::checkpoint::inspect(&path)),
            Command::Savepoint {
                action: SavepointAction::Inspect { path },
            } => self.inspected(weir_runtime::checkpoint::savepoint::inspect(&path)),
            Command::Bench {
                suite:
                    BenchSuite::Nexmark {
                        events,
                        parallelism,
                        queries,
                        cache_dir,
                    },
            } => self.bench_nexmark(events, parallelism, queries.as_deref(), cache_dir),
            Command::Cache {
                action: CacheAction::Clean { cache_dir },
            } => self.clean_cache(cache_dir),
            Command::Run(run) => self.run(&run),
        }
    }

    fn print(&mut self, text: &str) -> Result<u8, Failure> {
        self.out
            .write_all(text.as_bytes())
            .map_err(|e| format!("cannot write output: {e}"))?;
        Ok(0)
    }

    /// Reads and compiles `path` (with the passes if `optimize`), printing diagnostics.
    /// `Ok(Err(code))` means compilation failed and `code` is the exit code.
    fn compile(
        &mut self,
        path: &Path,
        optimize: bool,
    ) -> Result<Result<(SourceFile, Plan), u8>, Failure> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file = SourceFile::new(path.display().to_string(), text);
        let result = if optimize {
            crate::compile(&file)
        } else {
            crate::logical(&file)
        };
        match result {
            Ok((plan, warnings)) => {
                self.report(&file, &warnings);
                Ok(Ok((file, plan)))
            }
            Err(diagnostics) => {
                self.report(&file, &diagnostics);
                let errors = diagnostics
                    .iter()
                    .filter(|d| d.severity == crate::Severity::Error)
                    .count();
                let _ = writeln!(self.err, "error: {} has {errors} error(s)", file.path);
                Ok(Err(1))
            }
        }
    }

    fn report(&mut self, file: &SourceFile, diagnostics: &Diagnostics) {
        if !diagnostics.is_empty() {
            let _ = self
                .err
                .write_all(file.render(diagnostics, self.color).as_bytes());
        }
    }

    fn build(
        &mut self,
        path: &Path,
        cache_dir: Option<PathBuf>,
    ) -> Result<Option<(Plan, PathBuf)>, Failure> {
        let (_, plan) = match self.compile(path, true)? {
            Ok(v) => v,
            Err(_) => return Ok(None),
        };
        let cache = cache_dir.unwrap_or_else(default_cache_dir);
        let started = Instant::now();
        let job = generate(&plan);
        let built = build_job(&job, &plan.name, &cache).map_err(|e| e.to_string())?;
        if built.cache_hit {
            let _ = writeln!(self.err, "weir: `{}` is up to date (cache hit)", plan.name);
        } else {
            let _ = writeln!(
                self.err,
                "weir: compiled `{}` in {:.1}s",
                plan.name,
                started.elapsed().as_secs_f64()
            );
        }
        Ok(Some((plan, built.binary)))
    }
}

/// What `target` already is to this build, if it is a file the pipeline needs: the
/// pipeline itself, or a file one of its sources reads or its sinks write.
fn build_target_conflict(target: &Path, pipe: &Path, plan: &Plan) -> Option<String> {
    use weir_runtime::io::files::identity;
    let id = |p: &Path| identity(&p.to_string_lossy());
    let target = id(target);
    if target == id(pipe) {
        return Some(format!("the pipeline {}", pipe.display()));
    }
    plan.file_uses()
        .into_iter()
        .find(|(_, path)| id(Path::new(path)) == target)
        .map(|(who, path)| format!("{path}, which {who} uses"))
}

fn copy_executable(from: &Path, to: &Path) -> Result<(), Failure> {
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::copy(from, to).map_err(|e| format!("cannot write {}: {e}", to.display()))?;
    Ok(())
}
