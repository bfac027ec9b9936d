//! What the integration tests share: building a `.pipe` file with the compiler library and
//! running the job from the repository root.

#![allow(dead_code)]

pub mod fraud;
pub mod join_schedule;
pub mod kills;
pub mod window_reference;
pub mod workers;

#[allow(unused_imports)]
pub use workers::{Workers, PARALLEL};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use weir_compiler::build::build_job;
use weir_compiler::codegen::generate;
use weir_compiler::SourceFile;

/// The repository root, where example paths are relative to.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One build cache for every test, so the runtime compiles once per test run.
pub fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("weir-cache")
}

/// Compiles `pipe` (relative to the root, or absolute) to an executable.
pub fn build(pipe: &Path) -> PathBuf {
    let path = root().join(pipe);
    let text = std::fs::read_to_string(&path).unwrap();
    let file = SourceFile::new(pipe.display().to_string(), text);
    let (plan, _) = weir_compiler::compile(&file).unwrap_or_else(|d| {
        panic!(
            "{} does not compile:\n{}",
            pipe.display(),
            file.render(&d, false)
        )
    });
    build_job(&generate(&plan), &plan.name, &cache())
        .unwrap_or_else(|e| panic!("{e}"))
        .binary
}

/// Runs `binary` from the root with `args`.
pub fn run(binary: &Path, args: &[&str]) -> Output {
    // A binary `weir build` (run in this process) has just written can be briefly busy:
    // another test thread's fork may still hold the written file open until its exec
    // (ETXTBSY). Running it again a moment later is what a user would do.
    const TEXT_FILE_BUSY: i32 = 26;
    for _ in 0..50 {
        match Command::new(binary).args(args).current_dir(root()).output() {
            Err(e) if e.raw_os_error() == Some(TEXT_FILE_BUSY) => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            result => return result.unwrap(),
        }
    }
    panic!("{} stayed busy (ETXTBSY)", binary.display())
}

/// Runs and asserts success, returning stdout.
pub fn run_ok(binary: &Path, args: &[&str]) -> String {
    let out = run(binary, args);
    assert!(
        out.status.success(),
        "job failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs and asserts success with sink `sink` written to `out`, then `flags`.
pub fn run_to(binary: &Path, sink: &str, out: &Path, flags: &[&str]) {
    let sink = format!("{sink}={}", out.display());
    let mut args = vec!["--output", &sink];
    args.extend_from_slice(flags);
    run_ok(binary, &args);
}

/// Reads a CSV file (with header) into rows of strings.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// `all_clicks.pipe`'s JSON-lines output: page, clicks, total and longest ms per line.
pub fn read_clicks_per_page(path: &Path) -> Vec<(String, u64, i64, i64)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["page"].as_str().unwrap().to_string(),
                v["clicks"].as_u64().unwrap(),
                v["total_ms"].as_i64().unwrap(),
                v["longest_ms"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// How many times the operators of a run spilled, from its `--stats-json` report.
pub fn spill_runs(stats_json: &Path) -> u64 {
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(stats_json).unwrap()).unwrap();
    report["operators"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["spill_runs"].as_u64())
        .sum()
}

/// A fresh temporary directory.
pub fn temp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// What one in-process run of the `weir` command gave.
pub struct CliRun {
    /// The exit code.
    pub code: u8,
    /// What it printed on stdout.
    pub out: String,
    /// What it printed on stderr.
    pub err: String,
}

/// Runs the real `weir` CLI in-process with `args` (without the program name).
pub fn weir_cli(args: &[&str]) -> CliRun {
    let args: Vec<std::ffi::OsString> = std::iter::once("weir")
        .chain(args.iter().copied())
        .map(std::ffi::OsString::from)
        .collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = weir_compiler::cli::main_with(args, &mut out, &mut err, false);
    CliRun {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}
