//! `with follow`: a source reads its file as it grows, as `tail -f` does, and the job runs
//! until it is stopped. A first SIGINT or SIGTERM ends the input where the file stands: the
//! job finishes as at the end of a bounded input (windows still open fire, aggregates emit,
//! outputs are committed) and exits 0. A second signal aborts it, replacing nothing.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use common::*;

/// Appends `text` to the file at `path`, as a writer logging to it would.
fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn signal(child: &Child, signal: i32) {
    // SAFETY: kill(2) on a child this test spawned and has not reaped.
    unsafe { libc::kill(child.id() as i32, signal) };
}

/// Starts the job `binary` in `dir` with stdout piped: its lines arrive on the receiver.
fn start(binary: &Path, dir: &Path, args: &[&str]) -> (Child, Receiver<String>) {
    let mut child = Command::new(binary)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (send, lines) = channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if send.send(line).is_err() {
                return;
            }
        }
    });
    (child, lines)
}

/// The next `n` lines the job writes, within 20 s.
fn expect_lines(lines: &Receiver<String>, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    (0..n)
        .map(|i| {
            let left = deadline.saturating_duration_since(Instant::now());
            lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("line {i} of {n} never came"))
        })
        .collect()
}

/// Waits for the job to exit (within 20 s): its exit code and stderr.
fn wait(mut child: Child) -> (Option<i32>, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            return (status.code(), err);
        }
        assert!(Instant::now() < deadline, "the job did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Tumbling 10 s windows of `(ts, user, n)` rows: `user,start,end,total` per window and
/// user, windows in order of start and users by name (as the job fires them: a window's
/// keys in the order they first came, which the rows below keep alphabetical).
fn window_totals(rows: &[(i64, &str, i64)]) -> Vec<String> {
    let mut sums: BTreeMap<(i64, String), i64> = BTreeMap::new();
    for &(ts, user, n) in rows {
        *sums
            .entry((ts - ts % 10_000, user.to_string()))
            .or_default() += n;
    }
    sums.into_iter()
        .map(|((start, user), total)| format!("{user},{start},{},{total}", start + 10_000))
        .collect()
}

fn csv_rows(rows: &[(i64, &str, i64)]) -> String {
    rows.iter()
        .map(|(ts, user, n)| format!("{ts},{user},{n}\n"))
        .collect()
}

const WINDOWS: &str = "schema Event { ts: timestamp, user: str, n: i64 }\n\
     source events: Event = csv(\"events.csv\") with event_time(ts), watermark(bounded 1s), follow;\n\
     events |> key_by(user) |> window(tumbling 10s) |> aggregate { total: sum(n) } |> sink stdout();\n";

#[test]
fn a_followed_file_is_read_as_it_grows_and_a_signal_ends_the_job_cleanly() {
    let dir = temp();
    let pipe = dir.path().join("follow.pipe");
    std::fs::write(&pipe, WINDOWS).unwrap();
    let binary = build(&pipe);
    let events = dir.path().join("events.csv");
    let first = [(1_000, "a", 1), (2_000, "b", 2), (4_000, "a", 3)];
    std::fs::write(&events, format!("ts,user,n\n{}", csv_rows(&first))).unwrap();
    let (child, lines) = start(&binary, dir.path(), &["--flush-every", "50ms"]);

    // Past the first window's end and the watermark's bound: it fires while the job runs.
    std::thread::sleep(Duration::from_millis(200));
    let second = [(9_500, "b", 4), (12_000, "a", 5)];
    append(&events, &csv_rows(&second));
    let mut all: Vec<_> = first.iter().chain(&second).copied().collect();
    let mut fired = vec!["user,window_start,window_end,total".to_string()];
    fired.extend(window_totals(&all[..4]));
    assert_eq!(expect_lines(&lines, fired.len()), fired);

    // A line written in two pieces is one record.
    append(&events, "15000,b,");
    std::thread::sleep(Duration::from_millis(100));
    append(&events, "6\n25000,a,7\n");
    all.extend([(15_000, "b", 6), (25_000, "a", 7)]);
    let fired = window_totals(&all[4..6]);
    assert_eq!(expect_lines(&lines, fired.len()), fired);

    // The stop: the rest of the windows fire as at the end of a bounded input.
    std::thread::sleep(Duration::from_millis(100));
    signal(&child, libc::SIGINT);
    let rest = window_totals(&all[6..]);
    assert_eq!(expect_lines(&lines, rest.len()), rest);
    let (code, err) = wait(child);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("stops reading its followed input"), "{err}");
}

#[test]
fn a_followed_text_file_counts_every_line_there_at_the_stop_into_a_committed_file() {
    let dir = temp();
    let pipe = dir.path().join("count.pipe");
    std::fs::write(
        &pipe,
        "source lines = text(\"log.txt\") with follow;\n\
         lines |> key_by(line) |> aggregate { n: count() } |> sink csv(\"counts.csv\");\n",
    )
    .unwrap();
    let binary = build(&pipe);
    let log = dir.path().join("log.txt");
    std::fs::write(&log, "").unwrap();
    let (child, _lines) = start(&binary, dir.path(), &[]);
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for round in 0..5 {
        let text: String = (0..200)
            .map(|i| format!("w{}\n", (i * 7 + round) % 13))
            .collect();
        for line in text.lines() {
            *want.entry(line.to_string()).or_default() += 1;
        }
        append(&log, &text);
        std::thread::sleep(Duration::from_millis(60));
    }
    // A last line without its line end is a line, as at the end of a file.
    append(&log, "tail");
    *want.entry("tail".to_string()).or_default() += 1;
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !dir.path().join("counts.csv").exists(),
        "nothing is committed before the job ends"
    );
    signal(&child, libc::SIGTERM);
    let (code, err) = wait(child);
    assert_eq!(code, Some(0), "{err}");
    let (head, rows) = read_csv(&dir.path().join("counts.csv"));
    assert_eq!(head, ["line", "n"]);
    let got: BTreeMap<String, u64> = rows
        .into_iter()
        .map(|r| (r[0].clone(), r[1].parse().unwrap()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn a_second_signal_aborts_and_replaces_nothing() {
    let dir = temp();
    let pipe = dir.path().join("abort.pipe");
    std::fs::write(
        &pipe,
        "source lines = text(\"log.txt\") with follow;\n\
         lines |> key_by(line) |> aggregate { n: count() } |> sink csv(\"out.csv\");\n",
    )
    .unwrap();
    let binary = build(&pipe);
    // Enough keys that the job is still writing their counts, which it does only once
    // its input has ended, when the second signal comes.
    let text: String = (0..1_000_000).map(|i| format!("{i:x}\n")).collect();
    std::fs::write(dir.path().join("log.txt"), text).unwrap();
    std::fs::write(dir.path().join("out.csv"), "earlier\n").unwrap();
    let (child, _lines) = start(&binary, dir.path(), &[]);
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(5));
    signal(&child, libc::SIGINT);
    let (code, err) = wait(child);
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("interrupted by SIGINT"), "{err}");
    let out = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    assert_eq!(out, "earlier\n", "the earlier output is whole");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".weir-tmp"))
        .collect();
    assert!(left.is_empty(), "no temporary file stays: {left:?}");
}

#[test]
fn a_followed_file_given_on_the_command_line_is_followed_too() {
    let dir = temp();
    let pipe = dir.path().join("follow.pipe");
    std::fs::write(&pipe, WINDOWS).unwrap();
    let binary = build(&pipe);
    let other = dir.path().join("other.csv");
    std::fs::write(&other, "ts,user,n\n1000,x,1\n").unwrap();
    let arg = format!("events={}", other.display());
    let (child, lines) = start(
        &binary,
        dir.path(),
        &["--input", &arg, "--flush-every", "50ms"],
    );
    std::thread::sleep(Duration::from_millis(200));
    append(&other, "20000,x,2\n");
    assert_eq!(
        expect_lines(&lines, 2),
        ["user,window_start,window_end,total", "x,0,10000,1"]
    );
    signal(&child, libc::SIGINT);
    assert_eq!(expect_lines(&lines, 1), ["x,20000,30000,2"]);
    let (code, err) = wait(child);
    assert_eq!(code, Some(0), "{err}");
}

/// `stream!` follows a file too; the program ends the input with an `InputStop`.
#[test]
fn an_inline_job_follows_a_file_until_its_input_stop() {
    // A file path is a literal in the pipeline, so the data goes where it says.
    std::fs::create_dir_all(root().join("target")).unwrap();
    let log = root().join("target/inline-follow.txt");
    std::fs::write(&log, "a\nb\n").unwrap();
    let stop = weir::io::InputStop::new();
    let appender = {
        let (stop, log) = (stop.clone(), log.clone());
        std::thread::spawn(move || {
            for round in 0..3 {
                std::thread::sleep(Duration::from_millis(100));
                append(&log, &format!("a\nc{round}\n"));
            }
            std::thread::sleep(Duration::from_millis(100));
            stop.stop();
        })
    };
    let mut counts = weir::stream! {
        source text("target/inline-follow.txt") with follow
        |> key_by(|l: &String| l.clone())
        |> aggregate(count())
        |> collect()
    }
    .run_with(weir::JobConfig::default().input_stop(stop))
    .unwrap();
    appender.join().unwrap();
    counts.sort();
    let want: Vec<(String, u64)> = [("a", 4), ("b", 1), ("c0", 1), ("c1", 1), ("c2", 1)]
        .iter()
        .map(|(k, n)| (k.to_string(), *n))
        .collect();
    assert_eq!(counts, want);
}

/// A followed job with checkpoints shows what each checkpoint committed in its output
/// while it runs; killed with SIGKILL while lines keep coming and started again, it reads
/// on from its last checkpoint, and its output has every appended line counted once.
/// Stopped by a signal, it stops at a last checkpoint and writes a savepoint
/// (`--savepoint-on-stop`), and a run started from that savepoint goes on from there.
#[test]
fn a_followed_job_resumes_after_sigkill_without_losing_or_repeating_lines() {
    let dir = temp();
    let pipe = dir.path().join("totals.pipe");
    std::fs::write(
        &pipe,
        "schema Event { ts: timestamp, user: str, n: i64 }\n\
         source events: Event = csv(\"events.csv\") with follow, event_time(ts), watermark(bounded 1s);\n\
         events |> key_by(user) |> window(tumbling 10s) |> aggregate { total: sum(n) } |> sink csv(\"totals.csv\");\n",
    )
    .unwrap();
    let binary = build(&pipe);
    let rows: Vec<(i64, &str, i64)> = (0..900i64)
        .map(|i| (i * 100, if i % 2 == 0 { "a" } else { "b" }, i))
        .collect();
    let events = dir.path().join("events.csv");
    std::fs::write(&events, format!("ts,user,n\n{}", csv_rows(&rows[..300]))).unwrap();
    let checkpoints = dir.path().join("ck");
    let flags = [
        "--checkpoint-dir",
        checkpoints.to_str().unwrap(),
        "--checkpoint-interval",
        "30ms",
    ];
    let (mut child, _) = start(&binary, dir.path(), &flags);
    // Lines come in while it runs; then it is killed once a checkpoint has them.
    for chunk in rows[300..450].chunks(50) {
        std::thread::sleep(Duration::from_millis(60));
        append(&events, &csv_rows(chunk));
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut want = String::from("user,window_start,window_end,total\n");
    for line in window_totals(&rows) {
        want.push_str(&line);
        want.push('\n');
    }
    // What the checkpoints committed is in the output while the job runs: windows the
    // watermark has passed, a prefix of the final output.
    let shown = std::fs::read_to_string(dir.path().join("totals.csv")).unwrap();
    assert!(want.starts_with(&shown), "{shown}");
    assert!(shown.lines().count() > 3, "windows were published: {shown}");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        std::fs::read_dir(&checkpoints).unwrap().count() > 0,
        "a checkpoint was taken"
    );
    let shown = std::fs::read_to_string(dir.path().join("totals.csv")).unwrap();
    assert!(want.starts_with(&shown), "a kill leaves a prefix: {shown}");
    // More come while it is down, and after it is back; stopped, it writes a savepoint.
    append(&events, &csv_rows(&rows[450..600]));
    let savepoints = dir.path().join("sp");
    let mut on_stop = flags.to_vec();
    on_stop.extend(["--savepoint-on-stop", savepoints.to_str().unwrap()]);
    let (child, _) = start(&binary, dir.path(), &on_stop);
    for chunk in rows[600..].chunks(100) {
        std::thread::sleep(Duration::from_millis(60));
        append(&events, &csv_rows(chunk));
    }
    std::thread::sleep(Duration::from_millis(300));
    // Stopped while it takes checkpoints, it stops at a last one without firing the
    // window still open: its output holds every window the watermark passed.
    signal(&child, libc::SIGTERM);
    let (code, err) = wait(child);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("resumes from checkpoint"), "{err}");
    assert!(err.contains("stopped at checkpoint"), "{err}");
    assert!(err.contains("wrote savepoint"), "{err}");
    let last_window = format!("\nb,80000,90000,{}\n", (801..900).step_by(2).sum::<i64>());
    assert!(want.ends_with(&last_window), "{want}");
    let fired = &want[..want.len() - last_window.len() + 1];
    let fired = &fired[..fired.rfind("a,80000").unwrap()];
    let got = std::fs::read_to_string(dir.path().join("totals.csv")).unwrap();
    assert_eq!(got, fired);
    // Run again from the savepoint, with checkpoints of its own, it goes on there: a
    // record far ahead fires the last window.
    let fresh = dir.path().join("ck-from-savepoint");
    let from = [
        "--checkpoint-dir",
        fresh.to_str().unwrap(),
        "--checkpoint-interval",
        "30ms",
        "--from-savepoint",
        savepoints.to_str().unwrap(),
    ];
    let (child, _) = start(&binary, dir.path(), &from);
    append(&events, "100000,c,1\n");
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, libc::SIGINT);
    let (code, err) = wait(child);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("starts from savepoint"), "{err}");
    let got = std::fs::read_to_string(dir.path().join("totals.csv")).unwrap();
    assert_eq!(got, want);
}
