//! What checkpoints cost: WordCount over the ~100 MB corpus, the windows benchmark's job
//! over its 20M events and the window join over the joins benchmark's 5M events a side,
//! each run without checkpoints and with `--checkpoint-dir` every second and every 100 ms,
//! alternated, best of 3. Prints the ratios and, for the 100 ms runs, the checkpoints
//! taken, the longest pause and the last one's size (from `--stats-json`).
//!
//!   cargo bench --bench checkpoints
//!
//! The window job and the join read the files `cargo bench --bench windows` and `cargo
//! bench --bench joins` make; without them they are skipped.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::corpus::WORDS;
use common::{build_weir, data_dir, race, root};

const RUNS: usize = 3;

/// One job: its binary and the arguments that give it its inputs and outputs.
struct Job {
    name: &'static str,
    binary: PathBuf,
    args: Vec<String>,
}

fn run(job: &Job, checkpoints: Option<&str>, stats: Option<&Path>) -> Command {
    let mut c = Command::new(&job.binary);
    c.args(&job.args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Some(interval) = checkpoints {
        let dir = data_dir().join(format!("checkpoints-{}", job.name));
        let _ = std::fs::remove_dir_all(&dir);
        c.arg("--checkpoint-dir")
            .arg(dir)
            .args(["--checkpoint-interval", interval]);
    }
    if let Some(path) = stats {
        c.arg("--stats-json").arg(path);
    }
    c
}

fn measure(job: &Job) {
    let mut line = format!("{:<12}", job.name);
    for interval in ["1s", "100ms"] {
        let [(without, _), (with, _)] = race(
            RUNS,
            || run(job, None, None),
            || run(job, Some(interval), None),
        );
        line.push_str(&format!(
            "  every {interval}: {:.3} s against {:.3} s ({:.3});",
            with.as_secs_f64(),
            without.as_secs_f64(),
            with.as_secs_f64() / without.as_secs_f64()
        ));
    }
    let stats = data_dir().join(format!("checkpoints-{}.json", job.name));
    let status = run(job, Some("100ms"), Some(&stats)).status().unwrap();
    assert!(status.success());
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    let c = &report["checkpoints"];
    line.push_str(&format!(
        " at 100 ms: {} taken, longest pause {} ms, last {} bytes",
        c["taken"], c["longest_pause_ms"], c["last_bytes"]
    ));
    println!("{line}");
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let cache = root().join("target/weir-cache");
    let dir = data_dir();
    let mut jobs = Vec::new();
    let corpus = WORDS.file(100);
    jobs.push(Job {
        name: "wordcount",
        binary: build_weir(&root().join("dsl-examples/wordcount.pipe"), &cache).0,
        args: vec![
            "--input".into(),
            format!("lines={}", corpus.display()),
            "--output".into(),
            format!("stdout={}", dir.join("checkpoints-wordcount.csv").display()),
        ],
    });
    let (events, pipe) = (
        dir.join("events-20000000.csv"),
        dir.join("tumbling_bench_2s.pipe"),
    );
    if events.exists() && pipe.exists() {
        jobs.push(Job {
            name: "windows",
            binary: build_weir(&pipe, &cache).0,
            args: vec![
                "--input".into(),
                format!("events={}", events.display()),
                "--output".into(),
                format!("windows={}", dir.join("checkpoints-windows.csv").display()),
            ],
        });
    } else {
        println!("windows: skipped, run `cargo bench --bench windows` first");
    }
    let (left, right, pipe) = (
        dir.join("join-left-5000000.csv"),
        dir.join("join-right-5000000.csv"),
        dir.join("join_bench_window.pipe"),
    );
    if left.exists() && right.exists() && pipe.exists() {
        jobs.push(Job {
            name: "window join",
            binary: build_weir(&pipe, &cache).0,
            args: vec![
                "--input".into(),
                format!("left={}", left.display()),
                "--input".into(),
                format!("right={}", right.display()),
                "--output".into(),
                format!("pairs={}", dir.join("checkpoints-join.csv").display()),
            ],
        });
    } else {
        println!("window join: skipped, run `cargo bench --bench joins` first");
    }
    for job in &jobs {
        measure(job);
    }
}
