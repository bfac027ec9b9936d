//! What the benchmarks share: the repository root, building a pipeline with weir, and
//! measuring a child process's wall time and peak RSS.

#![allow(dead_code)]

pub mod corpus;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use weir_compiler::build::build_job;
use weir_compiler::codegen::generate;
use weir_compiler::SourceFile;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where generated data and outputs go.
pub fn data_dir() -> PathBuf {
    let dir = root().join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `cmd` and returns its wall time and peak resident set (bytes).
///
/// The peak is the child's own `VmHWM`, read from `/proc` every few milliseconds while it
/// runs: `wait4`'s `ru_maxrss` would also count the memory of this process, which the child
/// shares between its spawn and its `exec` (Linux carries that high-water mark over the
/// `exec`), so a bench that has read a large output would see every later child as large.
#[allow(clippy::zombie_processes)]
pub fn measure(cmd: &mut Command) -> (Duration, u64) {
    let start = Instant::now();
    let child = cmd.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let status_path = format!("/proc/{pid}/status");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0u64;
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                if let Some(kb) = std::fs::read_to_string(&status_path).ok().and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("VmHWM:"))
                        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
                }) {
                    peak = peak.max(kb * 1024);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            peak
        })
    };
    let mut status = 0;
    // SAFETY: plain FFI call with valid pointers to locals; `wait4` reaps our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    done.store(true, std::sync::atomic::Ordering::Release);
    let peak = watcher.join().unwrap();
    assert_eq!(r, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed"
    );
    (elapsed, peak)
}

/// Compiles `pipe` with weir into `cache`: the executable and the build time.
pub fn build_weir(pipe: &Path, cache: &Path) -> (PathBuf, Duration) {
    let text = std::fs::read_to_string(pipe).unwrap();
    let file = SourceFile::new(pipe.display().to_string(), text);
    let start = Instant::now();
    let (plan, _) = weir_compiler::compile(&file).expect("wordcount compiles");
    let built = build_job(&generate(&plan), &plan.name, cache).unwrap();
    (built.binary, start.elapsed())
}

/// Builds an example of this package in release mode and returns its path.
pub fn build_example(name: &str) -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--release", "--example", name])
        .current_dir(root())
        .status()
        .unwrap();
    assert!(status.success());
    root().join("target/release/examples").join(name)
}

/// Best wall time and peak RSS of each of two commands, alternating for `runs` rounds.
pub fn race(
    runs: usize,
    mut a: impl FnMut() -> Command,
    mut b: impl FnMut() -> Command,
) -> [(Duration, u64); 2] {
    let mut best = [(Duration::MAX, 0u64); 2];
    for _ in 0..runs {
        for (i, mut cmd) in [a(), b()].into_iter().enumerate() {
            let (t, rss) = measure(&mut cmd);
            best[i].0 = best[i].0.min(t);
            best[i].1 = best[i].1.max(rss);
        }
    }
    best
}

/// A CSV output's rows without its header, sorted: two programs' outputs compared whatever
/// order each wrote its rows in.
pub fn sorted_rows(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut rows: Vec<String> = text.lines().skip(1).map(String::from).collect();
    rows.sort_unstable();
    rows
}
