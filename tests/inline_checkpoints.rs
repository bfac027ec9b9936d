//! Checkpoints of `stream!` jobs (`JobConfig::checkpoints`): a program killed with SIGKILL
//! at random moments and run again returns, and writes, what an uninterrupted run does,
//! on one worker and on two, and both match a reference computed here.
//!
//! The program is this test binary itself: [`child_job`] (ignored in a normal run) is the
//! job, started as a child process with the folder and flags in its environment.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::kills::{kill_and_resume, newest_complete, wait_all};
use weir::runtime::parallel::Cluster;
use weir::JobConfig;

/// The events: `(ts, key, value)`, event time out of order by up to 900 ms.
fn events(n: u64) -> Vec<(i64, String, u64)> {
    (0..n)
        .map(|i| {
            let ts = (i * 13) as i64 - ((i * 7919) % 900) as i64;
            (ts.max(0), format!("k{}", i % 97), (i * 31) % 1000)
        })
        .collect()
}

const EVENTS: u64 = 400_000;

/// A window's row: key, start, end, count, sum.
type Row = (String, i64, i64, u64, u64);

/// Per key and 10 s window, the count and sum of the values; an event whose window the
/// watermark (just below the largest time so far less 1 s) has passed is dropped, as the
/// job drops it.
fn reference(events: &[(i64, String, u64)]) -> Vec<Row> {
    let mut windows: BTreeMap<(String, i64), (u64, u64)> = BTreeMap::new();
    let mut watermark = i64::MIN;
    for (ts, key, value) in events {
        let start = ts - ts.rem_euclid(10_000);
        if start + 10_000 - 1 > watermark {
            let w = windows.entry((key.clone(), start)).or_default();
            w.0 += 1;
            w.1 += value;
        }
        watermark = watermark.max(ts - 1_001);
    }
    let mut rows: Vec<Row> = windows
        .into_iter()
        .map(|((k, s), (c, v))| (k, s, s + 10_000, c, v))
        .collect();
    rows.sort();
    rows
}

/// Where the job's workers run: threads of one process, or two processes of one worker
/// each (on loopback, with the host file at the path).
#[derive(Debug, Clone)]
enum Workers {
    Threads(usize),
    Cluster { process: usize, hosts: String },
}

/// The job: windowed counts and sums collected, and every tenth value written to
/// `rows.csv` in the working directory.
fn run_job(
    events: &[(i64, String, u64)],
    workers: Workers,
    checkpoints: Option<&Path>,
) -> Vec<Row> {
    let job = weir::stream! {
        let e = source iter(events.iter().cloned())
            with event_time(|e: &(i64, String, u64)| e.0), watermark(bounded 1s);
        e |> filter(|e: &(i64, String, u64)| e.2.is_multiple_of(10)) |> sink csv("rows.csv");
        e |> key_by(|e: &(i64, String, u64)| e.1.clone())
          |> window(tumbling 10s)
          |> aggregate(count(), sum(|e: &(i64, String, u64)| e.2))
          |> collect()
    };
    let config = JobConfig::default().memory(8 << 20);
    let every = Duration::from_millis(20);
    let rows = match (workers, checkpoints) {
        (Workers::Threads(1), None) => job.run_with(config),
        (Workers::Threads(n), None) => job.run_with(config.parallelism(n)),
        (Workers::Threads(1), Some(dir)) => {
            job.run_with(config.checkpoints(dir).checkpoint_interval(every))
        }
        (Workers::Threads(n), Some(dir)) => job.run_with(
            config
                .parallelism(n)
                .checkpoints(dir)
                .checkpoint_interval(every),
        ),
        (Workers::Cluster { process, hosts }, checkpoints) => {
            let config = config.cluster(Cluster {
                threads: 1,
                processes: 2,
                process,
                hostfile: Some(hosts),
            });
            match checkpoints {
                None => job.run_with(config),
                Some(dir) => job.run_with(config.checkpoints(dir).checkpoint_interval(every)),
            }
        }
    };
    rows.unwrap_or_else(|e| panic!("{e}"))
}

/// The job as a child process: run by [`survives_kills`] with `WEIR_CHILD_WORKERS` (a
/// number of threads, or `P of HOSTFILE` for process P of a cluster) and, for a
/// checkpointed run, `WEIR_CHILD_CHECKPOINTS`; it writes what it collected to
/// `collected.out` in its working directory (the first process of a cluster).
#[test]
#[ignore = "the program the kill tests start"]
fn child_job() {
    let workers = std::env::var("WEIR_CHILD_WORKERS").unwrap();
    let workers = match workers.split_once(" of ") {
        Some((process, hosts)) => Workers::Cluster {
            process: process.parse().unwrap(),
            hosts: hosts.to_string(),
        },
        None => Workers::Threads(workers.parse().unwrap()),
    };
    let first = !matches!(workers, Workers::Cluster { process: 1, .. });
    let checkpoints = std::env::var_os("WEIR_CHILD_CHECKPOINTS").map(PathBuf::from);
    let rows = run_job(&events(EVENTS), workers, checkpoints.as_deref());
    if !first {
        assert!(rows.is_empty(), "only the first process collects");
        return;
    }
    let mut text = String::new();
    for r in rows {
        writeln!(text, "{r:?}").unwrap();
    }
    std::fs::write("collected.tmp", text).unwrap();
    std::fs::rename("collected.tmp", "collected.out").unwrap();
}

/// How the kill tests lay the job out.
#[derive(Debug, Clone, Copy)]
enum Layout {
    Threads(usize),
    Cluster,
}

fn start_one(dir: &Path, workers: &str, checkpoints: Option<&Path>) -> Child {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "child_job",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .current_dir(dir)
    .env("WEIR_CHILD_WORKERS", workers)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    if let Some(ck) = checkpoints {
        c.env("WEIR_CHILD_CHECKPOINTS", ck);
    }
    c.spawn().unwrap()
}

/// The job's processes, started in `dir`.
fn start(dir: &Path, layout: Layout, checkpoints: Option<&Path>) -> Vec<Child> {
    match layout {
        Layout::Threads(n) => vec![start_one(dir, &n.to_string(), checkpoints)],
        Layout::Cluster => {
            // New ports each time: a killed process's may not be free yet.
            let hosts = dir.join("hosts");
            std::fs::write(&hosts, common::workers::free_addresses(2).join("\n")).unwrap();
            (0..2)
                .map(|p| start_one(dir, &format!("{p} of {}", hosts.display()), checkpoints))
                .collect()
        }
    }
}

/// The lines of `path`, sorted where several workers wrote them.
fn lines(path: &Path, sorted: bool) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if sorted {
        lines.sort();
    }
    lines
}

/// Panics, naming the first line where `got` and `want` differ, if they do.
fn assert_same(got: &[String], want: &[String], what: &str) {
    if let Some(i) = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i)) {
        panic!(
            "{what}: line {i} is {:?}, expected {:?} ({} lines against {})",
            got.get(i),
            want.get(i),
            got.len(),
            want.len()
        );
    }
}

/// The reference's rows as `collected.out` has them, sorted.
fn reference_lines() -> Vec<String> {
    let mut want: Vec<String> = reference(&events(EVENTS))
        .iter()
        .map(|r| format!("{r:?}"))
        .collect();
    want.sort();
    want
}

/// An uninterrupted run, then runs killed at random moments (one process of a cluster,
/// the other then fails) and resumed until one finishes: the collected rows and the CSV
/// file are the uninterrupted run's, and the rows the reference's.
fn survives_kills(layout: Layout, seed: u64) {
    let root = tempfile::tempdir().unwrap();
    let (golden, killed) = (root.path().join("golden"), root.path().join("killed"));
    std::fs::create_dir_all(&golden).unwrap();
    std::fs::create_dir_all(&killed).unwrap();
    let started = Instant::now();
    let (ok, said) = wait_all(start(&golden, layout, None));
    assert!(ok, "{said}");
    let took = started.elapsed();

    let checkpoints = killed.join("checkpoints");
    let log = kill_and_resume(
        &checkpoints,
        took,
        seed,
        || start(&killed, layout, Some(&checkpoints)),
        || {
            std::fs::remove_file(killed.join("collected.out")).ok();
        },
    );

    let sorted = !matches!(layout, Layout::Threads(1));
    for file in ["collected.out", "rows.csv"] {
        let what = format!("`{file}` on {layout:?} against the uninterrupted run's\n{log}");
        assert_same(
            &lines(&killed.join(file), sorted),
            &lines(&golden.join(file), sorted),
            &what,
        );
    }
    assert_same(
        &lines(&golden.join("collected.out"), true),
        &reference_lines(),
        "collected rows against the reference",
    );
    let csv = lines(&golden.join("rows.csv"), true);
    let mut want_csv: Vec<String> = events(EVENTS)
        .into_iter()
        .filter(|e| e.2.is_multiple_of(10))
        .map(|(ts, k, v)| format!("{ts},{k},{v}"))
        .collect();
    want_csv.push("0,1,2".to_string());
    want_csv.sort();
    assert_same(&csv, &want_csv, "rows.csv against the events");
}

#[test]
fn an_inline_job_killed_and_run_again_returns_what_an_uninterrupted_run_does() {
    survives_kills(Layout::Threads(1), 7);
}

#[test]
fn an_inline_job_on_two_workers_killed_and_run_again_returns_the_same_records() {
    survives_kills(Layout::Threads(2), 11);
}

#[test]
fn an_inline_job_on_a_cluster_of_two_processes_survives_losing_one() {
    survives_kills(Layout::Cluster, 13);
}

/// Without a kill, a checkpointed run returns what the reference says and leaves no
/// checkpoint behind, so a second run into the same folder starts afresh.
#[test]
fn a_checkpointed_run_that_finishes_leaves_nothing_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoints = dir.path().join("checkpoints");
    let want = reference_lines();
    for run in 0..2 {
        let (ok, said) = wait_all(start(dir.path(), Layout::Threads(1), Some(&checkpoints)));
        assert!(ok, "{said}");
        assert!(!said.contains("resumes"), "run {run}: {said}");
        assert_same(
            &lines(&dir.path().join("collected.out"), true),
            &want,
            "collected rows",
        );
        let left: Vec<_> = std::fs::read_dir(&checkpoints)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{left:?}");
    }
}

/// A job in the program's process leaves its SIGUSR1 alone unless the program gave it a
/// savepoint directory: the signal's default action ends the program, as without weir.
#[test]
fn an_inline_job_leaves_the_programs_sigusr1_alone() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let checkpoints = dir.path().join("checkpoints");
    let mut children = start(dir.path(), Layout::Threads(1), Some(&checkpoints));
    let child = &mut children[0];
    let deadline = Instant::now() + Duration::from_secs(60);
    while newest_complete(&checkpoints).is_none() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the job ended before a checkpoint"
        );
        assert!(Instant::now() < deadline, "no checkpoint");
        std::thread::sleep(Duration::from_millis(2));
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-USR1", &pid])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(10), "{status:?}");
}
