//! Live input on stdin: while the input is quiet the job wakes up, so a processing-time
//! window fires on time and what a sink holds is written out within the flush interval,
//! not only when the next record comes or the input ends.

mod common;

use std::io::{BufRead, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use common::*;

/// Starts `pipe` (in a folder of its own) with `args`, stdin and stdout piped; its stdout
/// lines arrive on the receiver as they are written.
fn start(text: &str, args: &[&str]) -> (tempfile::TempDir, Child, Receiver<String>) {
    let dir = temp();
    let pipe = dir.path().join("live.pipe");
    std::fs::write(&pipe, text).unwrap();
    let mut child = Command::new(build(&pipe))
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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
    (dir, child, lines)
}

fn next_line(lines: &Receiver<String>, within: Duration) -> Option<String> {
    lines.recv_timeout(within).ok()
}

/// The job writes `expected` while its stdin is still open (well within the 5 s a quiet
/// input without wake-ups would keep them back), then ends cleanly once stdin closes.
fn expect_while_open(child: &mut Child, lines: &Receiver<String>, expected: &[&str]) {
    let sent = Instant::now();
    for want in expected {
        assert_eq!(
            next_line(lines, Duration::from_secs(10)).as_deref(),
            Some(*want)
        );
    }
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "{:?}",
        sent.elapsed()
    );
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_sink_writes_out_records_while_the_input_is_quiet() {
    let (_dir, mut child, lines) = start(
        "source lines = stdin();\nlines |> sink stdout();\n",
        &["--flush-every", "200ms"],
    );
    let stdin = child.stdin.as_mut().unwrap();
    stdin.write_all(b"first\n").unwrap();
    stdin.flush().unwrap();
    // The input stays open: only the flush interval can bring the record out.
    expect_while_open(&mut child, &lines, &["line", "first"]);
}

#[test]
fn a_processing_time_window_fires_while_the_input_is_quiet() {
    let (_dir, mut child, lines) = start(
        "source lines = stdin();\n\
         lines |> key_by(line) |> window(tumbling 1s, processing_time)\n\
           |> aggregate { n: count() } |> sink stdout();\n",
        &["--flush-every", "100ms"],
    );
    let stdin = child.stdin.as_mut().unwrap();
    stdin.write_all(b"a\na\nb\n").unwrap();
    stdin.flush().unwrap();
    assert_eq!(
        next_line(&lines, Duration::from_secs(10)).as_deref(),
        Some("line,window_start,window_end,n")
    );
    // The window ends within a second and fires then, with no further input.
    let mut rows: Vec<(String, u64)> = Vec::new();
    while rows.iter().map(|r| r.1).sum::<u64>() < 3 {
        let Some(row) = next_line(&lines, Duration::from_secs(10)) else {
            panic!("the window did not fire while the input was quiet: {rows:?}");
        };
        let fields: Vec<&str> = row.split(',').collect();
        let (start, end): (i64, i64) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
        assert_eq!(end - start, 1000);
        rows.push((fields[0].to_string(), fields[3].parse().unwrap()));
    }
    rows.sort();
    // A window boundary may fall between the records: count per line over all windows.
    let count = |k: &str| rows.iter().filter(|r| r.0 == k).map(|r| r.1).sum::<u64>();
    assert_eq!((count("a"), count("b")), (2, 1));
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}

/// The same for CSV rows on stdin: the row already read does not keep the job from
/// noticing that the input has gone quiet.
#[test]
fn a_csv_sink_writes_out_rows_while_the_input_is_quiet() {
    let (_dir, mut child, lines) = start(
        "schema R { k: u64, v: i64 }\n\
         source rows: R = stdin(csv);\n\
         rows |> sink stdout();\n",
        &["--flush-every", "200ms"],
    );
    let stdin = child.stdin.as_mut().unwrap();
    stdin.write_all(b"k,v\n1,-5\n").unwrap();
    stdin.flush().unwrap();
    expect_while_open(&mut child, &lines, &["k,v", "1,-5"]);
}

#[test]
fn an_idle_live_source_does_not_keep_the_run_loop_from_a_file_source() {
    let dir = temp();
    // Longer than a batch of the run loop: the file is read in several turns.
    let mut events = String::from("ts,key\n");
    for i in 0..2_000 {
        events.push_str(&format!("{},k\n", i * 10));
    }
    let file = dir.path().join("events.csv");
    std::fs::write(&file, events).unwrap();
    // The live source is declared first, so it is picked first; once idle it must not be
    // picked again while the file has records, or no window of the file would ever fire.
    let text = format!(
        "schema E {{ ts: timestamp, key: str }}\n\
         source live: E = stdin(csv) with event_time(ts), watermark(bounded 1s), idle(300ms);\n\
         source file: E = csv({:?}) with event_time(ts), watermark(bounded 1s);\n\
         live |> union(file) |> key_by(key) |> window(tumbling 10s) |> aggregate {{ n: count() }}\n\
           |> sink stdout();\n",
        file.display().to_string()
    );
    let (_dir, mut child, lines) = start(&text, &["--flush-every", "200ms"]);
    // One live record starts the live source (one that has said nothing holds the
    // watermark back); then it stays quiet, goes idle, and the file's windows fire.
    let stdin = child.stdin.as_mut().unwrap();
    stdin.write_all(b"ts,key\n0,k\n").unwrap();
    stdin.flush().unwrap();
    expect_while_open(
        &mut child,
        &lines,
        &[
            "key,window_start,window_end,n",
            "k,0,10000,1001",
            "k,10000,20000,1000",
        ],
    );
}
