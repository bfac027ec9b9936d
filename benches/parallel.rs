//! Parallelism: WordCount (~100 MB of text) and the tumbling-window job (20M events) at
//! `--parallelism` 1 and 2, and as 2 processes x 1 worker on loopback, on the same data, in
//! one run; the outputs must be the same records. Prints each one's best wall time, peak
//! RSS and the speedup.
//!
//!   cargo bench --bench parallel
//!   WEIR_BENCH_MB=20 WEIR_BENCH_EVENTS=3000000 cargo bench --bench parallel
//!
//! WordCount's job has no event time and counts only: each worker reads a slice of the
//! file. The window job has event time: each worker reads a slice too, its watermark
//! starting where one worker reading the whole file would have it (so lateness is decided
//! as on one worker), and folds its windows before they cross to their keys' workers.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::corpus::WORDS;
use common::{build_weir, data_dir, race, root};

const RUNS: usize = 3;

fn sorted_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines.sort_unstable();
    lines
}

/// Runs `bin` at parallelism 1 and 2 (alternating, best of [`RUNS`]), and as two processes
/// of one worker on loopback; checks the outputs are the same records, and prints the
/// figures.
fn compare(what: &str, bin: &Path, mb: f64, args: &dyn Fn(&Path) -> Vec<String>) {
    let dir = data_dir();
    let outs: Vec<PathBuf> = (1..=3)
        .map(|p| dir.join(format!("parallel-{what}-{p}.out")))
        .collect();
    let cmd = |p: usize| {
        let mut c = Command::new(bin);
        c.args(args(&outs[p - 1]))
            .arg("--parallelism")
            .arg(p.to_string());
        c
    };
    let [(one, one_rss), (two, two_rss)] = race(RUNS, || cmd(1), || cmd(2));
    let processes = (0..RUNS)
        .map(|_| cluster(bin, &args(&outs[2])))
        .min()
        .unwrap();
    assert!(
        sorted_lines(&outs[0]) == sorted_lines(&outs[1]),
        "{what}: parallelism 2 wrote other records than parallelism 1"
    );
    assert!(
        sorted_lines(&outs[0]) == sorted_lines(&outs[2]),
        "{what}: two processes wrote other records than one worker"
    );
    println!(
        "{what}: parallelism 1 {:>7.3} s ({:>6.1} MB/s, peak RSS {:>6.1} MiB); parallelism 2 {:>7.3} s ({:>6.1} MB/s, peak RSS {:>6.1} MiB); speedup {:.2} (target >= 1.7); 2 processes x 1 worker {:>7.3} s, speedup {:.2}",
        one.as_secs_f64(),
        mb / one.as_secs_f64(),
        one_rss as f64 / 1048576.0,
        two.as_secs_f64(),
        mb / two.as_secs_f64(),
        two_rss as f64 / 1048576.0,
        one.as_secs_f64() / two.as_secs_f64(),
        processes.as_secs_f64(),
        one.as_secs_f64() / processes.as_secs_f64()
    );
}

/// Wall time of `bin` run as two processes of one worker each on loopback, from starting
/// the first to the end of the last.
fn cluster(bin: &Path, args: &[String]) -> std::time::Duration {
    let ports: Vec<std::net::TcpListener> = (0..2)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let hosts = data_dir().join("parallel-hosts");
    let lines: Vec<String> = ports
        .iter()
        .map(|l| l.local_addr().unwrap().to_string())
        .collect();
    std::fs::write(&hosts, lines.join("\n") + "\n").unwrap();
    drop(ports);
    let start = std::time::Instant::now();
    let children: Vec<std::process::Child> = (0..2)
        .map(|process| {
            Command::new(bin)
                .args(args)
                .args(["--processes", "2", "--process"])
                .arg(process.to_string())
                .arg("--hostfile")
                .arg(&hosts)
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(
            child.wait().unwrap().success(),
            "a process of the cluster failed"
        );
    }
    start.elapsed()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let megabytes: u64 = std::env::var("WEIR_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let corpus = WORDS.file(megabytes);
    let cache = root().join("target/weir-cache");
    let (wordcount, _) = build_weir(&root().join("dsl-examples/wordcount.pipe"), &cache);
    let mb = std::fs::metadata(&corpus).unwrap().len() as f64 / 1e6;
    compare("wordcount", &wordcount, mb, &|out| {
        vec![
            "--input".into(),
            format!("lines={}", corpus.display()),
            "--output".into(),
            format!("stdout={}", out.display()),
        ]
    });

    // The windows benchmark's job and events (made by `cargo bench --bench windows` with the
    // same WEIR_BENCH_EVENTS).
    let events: u64 = std::env::var("WEIR_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000_000);
    let input = data_dir().join(format!("events-{events}.csv"));
    let pipe = data_dir().join("tumbling_bench_2s.pipe");
    if !input.exists() || !pipe.exists() {
        println!(
            "windows: skipped, run `WEIR_BENCH_EVENTS={events} cargo bench --bench windows` first to make {}",
            input.display()
        );
        return;
    }
    let (windows, _) = build_weir(&pipe, &cache);
    let mb = std::fs::metadata(&input).unwrap().len() as f64 / 1e6;
    compare("windows", &windows, mb, &|out| {
        vec![
            "--input".into(),
            format!("events={}", input.display()),
            "--output".into(),
            format!("windows={}", out.display()),
        ]
    });
}
