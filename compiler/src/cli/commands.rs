//! One method per `weir` subcommand, each returning the exit code (`Ctx::command` picks
//! one).

use std::path::{Path, PathBuf};

use super::{bench_nexmark, build_target_conflict, copy_executable, signals, Ctx, Failure};
use super::{GraphFormat, RunArgs};
use crate::build::default_cache_dir;
use crate::codegen::generate;
use crate::graph::{Dot, GraphView, GraphWriter, Html, Json, Mermaid, Stage, Svg};

impl Ctx<'_> {
    /// `weir check`: compiles the pipeline and says how many operators and chains it has.
    pub(super) fn check(&mut self, file: &Path) -> Result<u8, Failure> {
        let (source, plan) = match self.compile(file, true)? {
            Ok(v) => v,
            Err(code) => return Ok(code),
        };
        let _ = writeln!(
            self.out,
            "{}: ok ({} operators in {} chains)",
            source.path,
            plan.graph.node_count(),
            plan.chains.len()
        );
        Ok(0)
    }

    /// `weir graph`: the operator graph at `stage`, in `format`.
    pub(super) fn graph(
        &mut self,
        file: &Path,
        format: GraphFormat,
        stage: Stage,
    ) -> Result<u8, Failure> {
        // The page's table is of budgets, which only the passes reckon.
        let optimize = stage == Stage::Optimized || matches!(format, GraphFormat::Html);
        let (_, plan) = match self.compile(file, optimize)? {
            Ok(v) => v,
            Err(code) => return Ok(code),
        };
        let view = GraphView::new(&plan, stage);
        let text = match format {
            GraphFormat::Dot => Dot.write(&view),
            GraphFormat::Mermaid => Mermaid.write(&view),
            GraphFormat::Json => Json.write(&view),
            GraphFormat::Svg => Svg.write(&view),
            GraphFormat::Html => {
                let memory = weir_runtime::memory::DEFAULT_MEMORY;
                let (operators, cannot_spill) = crate::explain::operator_rows(&plan, memory, 1)?;
                Html {
                    operators,
                    cannot_spill,
                    memory: format!(
                        "budgets of --memory {} on one worker",
                        weir_runtime::memory::format_bytes(memory)
                    ),
                }
                .write(&view)
            }
        };
        self.print(&text)
    }

    /// `weir explain`: each operator's chain, state and budget under `memory`.
    pub(super) fn explain(
        &mut self,
        file: &Path,
        memory: &str,
        parallelism: usize,
    ) -> Result<u8, Failure> {
        let memory = weir_runtime::memory::parse_bytes(memory).map_err(|e| e.to_string())?;
        let (_, plan) = match self.compile(file, true)? {
            Ok(v) => v,
            Err(code) => return Ok(code),
        };
        let table = crate::explain::explain(&plan, memory, parallelism.max(1))?;
        self.print(&table)
    }

    /// `weir emit`: the generated Rust program.
    pub(super) fn emit(&mut self, file: &Path) -> Result<u8, Failure> {
        let (_, plan) = match self.compile(file, true)? {
            Ok(v) => v,
            Err(code) => return Ok(code),
        };
        self.print(&generate(&plan).source)
    }

    /// `weir build`: the job's executable, copied to `output` (the job's name by default),
    /// unless that is a file the pipeline needs.
    pub(super) fn build_executable(
        &mut self,
        file: &Path,
        output: Option<PathBuf>,
        cache_dir: Option<PathBuf>,
    ) -> Result<u8, Failure> {
        let Some((plan, binary)) = self.build(file, cache_dir)? else {
            return Ok(1);
        };
        let target = output.unwrap_or_else(|| PathBuf::from(&plan.name));
        if let Some(taken) = build_target_conflict(&target, file, &plan) {
            let _ = writeln!(
                self.err,
                "error: -o {} is {taken}: weir build would replace it with the executable; nothing was written",
                target.display()
            );
            return Ok(2);
        }
        copy_executable(&binary, &target)?;
        let _ = writeln!(self.err, "weir: wrote {}", target.display());
        Ok(0)
    }

    /// `weir checkpoint inspect` and `weir savepoint inspect`: the report, or the error
    /// with its exit code.
    pub(super) fn inspected(
        &mut self,
        report: Result<String, weir_runtime::JobError>,
    ) -> Result<u8, Failure> {
        match report {
            Ok(report) => self.print(&report),
            Err(e) => {
                let _ = writeln!(self.err, "error: {e}");
                Ok(e.exit_code())
            }
        }
    }

    /// `weir bench nexmark`: the chosen queries' throughput table.
    pub(super) fn bench_nexmark(
        &mut self,
        events: u64,
        parallelism: usize,
        queries: Option<&str>,
        cache_dir: Option<PathBuf>,
    ) -> Result<u8, Failure> {
        let queries = bench_nexmark::chosen(queries)?;
        let cache = cache_dir.unwrap_or_else(default_cache_dir);
        let table = bench_nexmark::bench(&queries, events, parallelism.max(1), &cache)?;
        self.print(&table)
    }

    /// `weir cache clean`: removes the build cache, once no build is using it.
    pub(super) fn clean_cache(&mut self, cache_dir: Option<PathBuf>) -> Result<u8, Failure> {
        use crate::build::cache_lock::{clear, holds_anything, CacheLock};
        let cache = cache_dir.unwrap_or_else(default_cache_dir);
        if !holds_anything(&cache) {
            let _ = writeln!(self.err, "weir: no cache at {}", cache.display());
            return Ok(0);
        }
        let err = &mut *self.err;
        let _lock = CacheLock::exclusive(&cache, || {
            let _ = writeln!(
                err,
                "weir: a build is using {}; waiting for it to finish",
                cache.display()
            );
        })
        .map_err(|e| format!("cannot lock {}: {e}", cache.display()))?;
        let bytes = crate::build::eviction::size(&cache);
        clear(&cache).map_err(|e| format!("cannot remove {}: {e}", cache.display()))?;
        let _ = writeln!(
            self.err,
            "weir: removed {} ({})",
            cache.display(),
            weir_runtime::memory::format_bytes(bytes)
        );
        Ok(0)
    }

    /// `weir run`: builds the job and runs it with the job's own arguments, passing
    /// signals on; its exit code, or 128 + the signal that killed it.
    pub(super) fn run(&mut self, run: &RunArgs) -> Result<u8, Failure> {
        let Some((_, binary)) = self.build(&run.file, run.cache_dir.clone())? else {
            return Ok(1);
        };
        let mut cmd = std::process::Command::new(&binary);
        cmd.args(run.job_args());
        signals::die_with_this_process(&mut cmd);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let status = signals::wait_forwarding(child)
            .map_err(|e| format!("cannot wait for {}: {e}", binary.display()))?;
        if let Some(code) = status.code() {
            return Ok(code.clamp(0, 255) as u8);
        }
        use std::os::unix::process::ExitStatusExt;
        let signal = status.signal().unwrap_or(0);
        let _ = writeln!(self.err, "weir: job killed by {}", signals::name(signal));
        Ok((128 + signal).clamp(0, 255) as u8)
    }
}
