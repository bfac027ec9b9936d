//! Spilling, end to end: a job past its memory budget writes state to disk and still gives
//! the unspilled run's output byte for byte; its spill files never outlive it; a spill file
//! changed under it stops the job instead of giving a wrong result.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Words with repeats and many distinct ones: word `i % distinct` scrambled, `n` in all.
fn words(n: usize, distinct: usize) -> String {
    (0..n)
        .map(|i| format!("w{}\n", (i * 7919 + i / 3) % distinct))
        .collect()
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let path = e.path();
        if path.is_dir() {
            all.extend(files(&path));
        }
        all.push(path);
    }
    all
}

/// Runs `bin` in `dir` under `memory`, spilling into `spill`, with sink `out` written to
/// `dir/out_file`, at most 64 files open: the output's bytes and how many times the job
/// spilled.
fn run_spilling(
    bin: &Path,
    dir: &Path,
    spill: &Path,
    memory: &str,
    out_file: &str,
) -> (Vec<u8>, u64) {
    let out_path = dir.join(out_file);
    // Under a low limit of open files, as many systems set by default: however often an
    // operator spills, it must not hold a file open per spill.
    let output = Command::new("sh")
        .args(["-c", "ulimit -n 64 && exec \"$0\" \"$@\""])
        .arg(bin)
        .args([
            "--memory",
            memory,
            "--stats-json",
            "stats.json",
            "--spill-dir",
        ])
        .arg(spill)
        .arg("--output")
        .arg(format!("out={}", out_path.display()))
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{} under {memory}: {}",
        bin.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("stats.json")).unwrap()).unwrap();
    let spills = report["operators"][0]["spill_runs"].as_u64().unwrap();
    (std::fs::read(out_path).unwrap(), spills)
}

/// Runs `bin` under `large` (no spilling) and `small` (at least `min_spills` spills),
/// asserts the outputs are the same bytes and no spill file is left, and gives the output
/// and the small run's advice.
fn same_output_spilled(
    bin: &Path,
    dir: &Path,
    spill: &Path,
    (large, small): (&str, &str),
    min_spills: u64,
) -> (Vec<u8>, String) {
    let (in_memory, no_spills) = run_spilling(bin, dir, spill, large, "large.csv");
    let (spilled, spills) = run_spilling(bin, dir, spill, small, "small.csv");
    let said = advice(dir);
    let name = bin.display();
    assert_eq!(no_spills, 0, "{name} under {large}");
    assert!(
        spills >= min_spills,
        "{name} under {small} spilled {spills} times"
    );
    assert!(
        spilled == in_memory,
        "{name}: the spilled run's output differs"
    );
    assert_eq!(files(spill), Vec::<PathBuf>::new(), "spill files remain");
    (in_memory, said)
}

/// The advice of the last run's `stats.json` in `dir`.
fn advice(dir: &Path) -> String {
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("stats.json")).unwrap()).unwrap();
    report["advice"].to_string()
}

#[test]
fn wordcount_spilling_under_1mb_writes_what_64mb_writes_byte_for_byte() {
    let bin = build(Path::new("dsl-examples/wordcount.pipe"));
    let dir = temp();
    let input = dir.path().join("words.txt");
    std::fs::write(&input, words(400_000, 150_000)).unwrap();
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let (small, large, stats) = (
        dir.path().join("small.csv"),
        dir.path().join("large.csv"),
        dir.path().join("stats.json"),
    );
    let lines = format!("lines={}", input.display());
    let run_with = |memory: &str, out: &Path, extra: &[&str]| {
        let out = format!("stdout={}", out.display());
        let mut args = vec!["--input", &lines, "--output", &out, "--memory", memory];
        args.extend_from_slice(extra);
        run_ok(&bin, &args);
    };
    let (spill_arg, stats_arg) = (spill.display().to_string(), stats.display().to_string());
    run_with(
        "1MB",
        &small,
        &["--spill-dir", &spill_arg, "--stats-json", &stats_arg],
    );
    run_with("64MB", &large, &[]);
    let (small, large) = (
        std::fs::read(&small).unwrap(),
        std::fs::read(&large).unwrap(),
    );
    assert!(small == large, "the spilled run's output differs");
    // And the output is right: each word once, in first-seen order, with its count.
    let text = String::from_utf8(large).unwrap();
    let mut want: Vec<(String, u64)> = Vec::new();
    let mut at = std::collections::HashMap::new();
    for w in std::fs::read_to_string(&input).unwrap().lines() {
        let i = *at.entry(w.to_string()).or_insert_with(|| {
            want.push((w.to_string(), 0));
            want.len() - 1
        });
        want[i].1 += 1;
    }
    let got: Vec<(String, u64)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let (w, n) = l.rsplit_once(',').unwrap();
            (w.to_string(), n.parse().unwrap())
        })
        .collect();
    assert_eq!(got, want);

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    let op = &report["operators"][0];
    assert!(op["spill_runs"].as_u64().unwrap() > 1, "{op}");
    assert!(op["spilled_bytes"].as_u64().unwrap() > 1 << 20, "{op}");
    assert!(op["read_back_bytes"].as_u64().unwrap() > 0, "{op}");
    let advice = report["advice"].to_string();
    assert!(advice.contains("would not have spilled"), "{advice}");
    assert_eq!(files(&spill), Vec::<PathBuf>::new(), "spill files remain");
}

/// A bad `--spill-dir` is found before the job reads a record, not at the first spill
/// (which may come hours into a run), and the advice fits what is wrong with it.
#[test]
fn an_unusable_spill_directory_is_refused_at_start() {
    let bin = build(Path::new("dsl-examples/wordcount.pipe"));
    let dir = temp();
    let input = dir.path().join("words.txt");
    std::fs::write(&input, words(200_000, 100_000)).unwrap();
    let missing = dir.path().join("no-such-dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    for (spill, says) in [(&missing, "does not exist"), (&file, "is not a directory")] {
        let out = run(
            &bin,
            &[
                "--input",
                &format!("lines={}", input.display()),
                "--memory",
                "1MB",
                "--spill-dir",
                &spill.display().to_string(),
            ],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!("spill directory {} {says}", spill.display())),
            "{err}"
        );
        assert!(!err.contains("free space"), "{err}");
        assert!(out.stdout.is_empty(), "nothing ran");
    }
}

#[test]
fn a_spill_file_changed_during_the_run_stops_the_job_with_a_checksum_error() {
    let dir = temp();
    let pipe = dir.path().join("count.pipe");
    std::fs::write(
        &pipe,
        "source lines = stdin();\nlines |> key_by(line) |> aggregate { n: count() } |> sink out = csv(\"out.csv\");\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("out.csv"), "line,n\nprevious,1\n").unwrap();
    let bin = build(&pipe);
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let mut job = Command::new(&bin)
        .args(["--memory", "1MB", "--spill-dir"])
        .arg(&spill)
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = job.stdin.take().unwrap();
    {
        use std::io::Write;
        stdin.write_all(words(300_000, 150_000).as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    // Once a spill file holds a few blocks, change a byte in its first block.
    let start = Instant::now();
    let victim = loop {
        let found = files(&spill).into_iter().find(|p| {
            p.extension().is_some_and(|e| e == "spill")
                && std::fs::metadata(p).is_ok_and(|m| m.len() > 100_000)
        });
        if let Some(p) = found {
            break p;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the job never spilled"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    {
        use std::io::{Read, Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&victim)
            .unwrap();
        let mut byte = [0u8];
        f.seek(SeekFrom::Start(1000)).unwrap();
        f.read_exact(&mut byte).unwrap();
        f.seek(SeekFrom::Start(1000)).unwrap();
        f.write_all(&[byte[0] ^ 0x20]).unwrap();
    }
    drop(stdin);
    let out = job.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("is corrupt (checksum mismatch"), "{err}");
    assert!(err.contains(&victim.display().to_string()), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.csv")).unwrap(),
        "line,n\nprevious,1\n",
        "no result replaced the previous one"
    );
    assert_eq!(files(&spill), Vec::<PathBuf>::new(), "spill files remain");
}

/// Events `ts,key,value`: `n` of them over `keys` keys, time moving 1 ms per 4 events
/// with up to 1.5 s of disorder, from a fixed rule.
fn events(n: i64, keys: i64) -> String {
    let mut text = String::from("ts,key,value\n");
    for i in 0..n {
        let ts = (i / 4 - (i * 7919) % 1500).max(0);
        let key = (i * 104_729) % keys;
        text.push_str(&format!("{ts},k{key},{}\n", i % 100 - 50));
    }
    text
}

/// Writes `dir/{name}.pipe`: events keyed by `key` through `window({window})` into
/// `aggregates`, to sink `out`.
fn windowed_pipe(dir: &Path, name: &str, window: &str, aggregates: &str) -> PathBuf {
    let pipe = dir.join(format!("{name}.pipe"));
    std::fs::write(
        &pipe,
        format!(
            "schema Event {{ ts: timestamp, key: str, value: i64 }}\n\
             source events: Event = csv(\"events.csv\") with event_time(ts), watermark(bounded 1s);\n\
             events |> key_by(key) |> window({window}) |> aggregate {{ {aggregates} }}\n  \
             |> sink out = csv(\"out.csv\");\n"
        ),
    )
    .unwrap();
    pipe
}

#[test]
fn tumbling_and_sliding_windows_spilling_write_what_they_write_in_memory() {
    let dir = temp();
    std::fs::write(dir.path().join("events.csv"), events(400_000, 20_000)).unwrap();
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    // With allowed lateness a fired window comes back into memory until its lateness
    // passes, so that budget must hold one window's keys (20,000 here, about 1 MB).
    for (name, window, memory) in [
        ("tumbling", "tumbling 10s", "400KB"),
        ("sliding", "sliding 20s every 5s", "400KB"),
        ("late", "sliding 20s every 5s, allowed_lateness 3s", "2MB"),
    ] {
        let aggregates = "n: count(), total: sum(value), low: min(value)";
        let pipe = windowed_pipe(dir.path(), name, window, aggregates);
        let bin = build(&pipe);
        let (out, said) = same_output_spilled(&bin, dir.path(), &spill, ("256MB", memory), 4);
        assert!(said.contains("would not have spilled"), "{name}: {said}");
        assert!(out.len() > 100_000, "{name}: a real amount of output");
    }
}

#[test]
fn distinct_spilling_under_256kb_writes_what_it_writes_in_memory() {
    let dir = temp();
    let pipe = dir.path().join("first.pipe");
    std::fs::write(
        &pipe,
        "source lines = text(\"words.txt\");\nlines |> key_by(line) |> distinct() |> sink out = csv(\"out.csv\");\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("words.txt"), words(300_000, 120_000)).unwrap();
    let bin = build(&pipe);
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let (large, said) = same_output_spilled(&bin, dir.path(), &spill, ("64MB", "256KB"), 6);
    assert!(said.contains("would not have spilled"), "{said}");
    // The reference: each word's first line, in input order.
    let mut seen = std::collections::HashSet::new();
    let text = std::fs::read_to_string(dir.path().join("words.txt")).unwrap();
    let want: Vec<&str> = text.lines().filter(|w| seen.insert(*w)).collect();
    let large = String::from_utf8(large).unwrap();
    let got: Vec<&str> = large.lines().skip(1).collect();
    assert_eq!(got, want);
}

#[test]
fn count_windows_spilling_write_what_they_write_in_memory() {
    let dir = temp();
    let pipe = dir.path().join("groups.pipe");
    std::fs::write(
        &pipe,
        "schema Event { ts: timestamp, key: str, value: i64 }\n\
         source events: Event = csv(\"events.csv\");\n\
         events |> key_by(key) |> window(count 3) |> aggregate { n: count(), total: sum(value) }\n  \
         |> sink out = csv(\"out.csv\");\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("events.csv"), events(200_000, 40_000)).unwrap();
    let bin = build(&pipe);
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let (large, _) = same_output_spilled(&bin, dir.path(), &spill, ("64MB", "320KB"), 4);
    // 200,000 records over 40,000 keys, 5 each: one full group of 3 and a leftover of 2
    // per key.
    assert_eq!(
        String::from_utf8(large).unwrap().lines().count(),
        1 + 80_000
    );
}

#[test]
fn session_windows_spilling_write_what_they_write_in_memory() {
    let dir = temp();
    std::fs::write(dir.path().join("events.csv"), events(300_000, 30_000)).unwrap();
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    for (name, window) in [
        ("sessions", "session gap 2s"),
        ("late_sessions", "session gap 2s, allowed_lateness 1s"),
    ] {
        let aggregates = "n: count(), total: sum(value), first: first(value)";
        let pipe = windowed_pipe(dir.path(), name, window, aggregates);
        let bin = build(&pipe);
        let (out, _) = same_output_spilled(&bin, dir.path(), &spill, ("256MB", "512KB"), 4);
        assert!(out.len() > 100_000, "{name}: a real amount of output");
    }
    // Text kept by the sessions, of many lengths, goes to disk and back with them.
    let long = "x".repeat(3_000);
    let text =
        format!("concat(key, if value % 37 == 0 then \"{long}\" else \"\", \"/\", value as str)");
    let aggregates = format!(
        "n: count(), first: first({text}), last: last({text}), least: min({text}), most: max({text})"
    );
    for (name, window) in [
        ("text_sessions", "session gap 2s"),
        ("late_text_sessions", "session gap 2s, allowed_lateness 1s"),
    ] {
        let pipe = windowed_pipe(dir.path(), name, window, &aggregates);
        let bin = build(&pipe);
        let (out, _) = same_output_spilled(&bin, dir.path(), &spill, ("256MB", "1MB"), 4);
        assert!(out.len() > 100_000, "{name}: a real amount of output");
    }
}

/// One job with every kind of keyed state that spills, fed from one source: an aggregate,
/// a tumbling and a session window, and a `distinct`.
const EVERY_STATE: &str = "schema Event { ts: timestamp, key: str, value: i64 }\n\
source events: Event = csv(\"events.csv\") with event_time(ts), watermark(bounded 1s);\n\
let keyed = events |> key_by(key);\n\
keyed |> aggregate { n: count(), total: sum(value) } |> sink sums = csv(\"sums.csv\");\n\
keyed |> window(tumbling 5s) |> aggregate { n: count(), low: min(value) } |> sink tumbling = csv(\"tumbling.csv\");\n\
keyed |> window(session gap 3s) |> aggregate { n: count() } |> sink sessions = csv(\"sessions.csv\");\n\
keyed |> distinct() |> sink firsts = csv(\"firsts.csv\");\n";

/// Runs the every-state job in `dir` under `memory`: its four outputs, and how many times
/// each stateful operator spilled.
fn every_state_outputs(bin: &Path, dir: &Path, memory: &str) -> (Vec<Vec<u8>>, Vec<u64>) {
    let output = Command::new(bin)
        .args([
            "--memory",
            memory,
            "--stats-json",
            "stats.json",
            "--spill-dir",
        ])
        .arg(dir.join("spill"))
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "under {memory}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("stats.json")).unwrap()).unwrap();
    let spills = report["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["spill_runs"].as_u64().unwrap())
        .collect();
    let outputs = ["sums", "tumbling", "sessions", "firsts"]
        .iter()
        .map(|s| std::fs::read(dir.join(format!("{s}.csv"))).unwrap())
        .collect();
    (outputs, spills)
}

#[test]
fn random_inputs_give_the_same_bytes_spilled_or_not() {
    use proptest::prelude::*;
    let dir = temp();
    std::fs::create_dir(dir.path().join("spill")).unwrap();
    let pipe = dir.path().join("every.pipe");
    std::fs::write(&pipe, EVERY_STATE).unwrap();
    let bin = build(&pipe);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(6));
    // Keys, events and disorder vary; every case is large enough to spill under the
    // operators' minimum budgets (late events included: disorder reaches past 1 s).
    let cases = (
        15_000u64..40_000,
        40_000u64..80_000,
        0i64..3_000,
        any::<u64>(),
    );
    runner
        .run(&cases, |(keys, n, disorder, seed)| {
            let mut text = String::from("ts,key,value\n");
            let mut x = seed | 1;
            for i in 0..n {
                // xorshift: a fixed stream per seed.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let ts = (i as i64 / 8 - (x % (disorder as u64 + 1)) as i64).max(0);
                text.push_str(&format!("{ts},k{},{}\n", x % keys, (x >> 40) % 200));
            }
            std::fs::write(dir.path().join("events.csv"), text).unwrap();
            let (small, spills) = every_state_outputs(&bin, dir.path(), "1500KB");
            let (large, none) = every_state_outputs(&bin, dir.path(), "256MB");
            prop_assert!(
                spills.iter().all(|&s| s > 0),
                "every operator spilled: {spills:?}"
            );
            prop_assert!(none.iter().all(|&s| s == 0));
            prop_assert!(small == large, "outputs differ for keys {keys}, {n} events");
            Ok(())
        })
        .unwrap();
    assert_eq!(files(&dir.path().join("spill")), Vec::<PathBuf>::new());
}

/// A session result: key, start, end, count, sum.
type Session = (String, i64, i64, u64, i64);

/// Drives session windows (gap `gap`, count and sum) as a generated job does, in a state of
/// `pages` pages of 256 bytes spilling into `dir`: every result in emission order.
fn drive_sessions(
    recs: &[common::window_reference::Rec],
    gap: i64,
    bound: i64,
    lateness: i64,
    dir: &Path,
) -> (Vec<Session>, u64) {
    use weir::runtime::memory::SegmentPool;
    use weir::runtime::spill::SpillSpace;
    use weir::runtime::state::{acc_get, acc_set, SessionWindows, WindowOutcome};
    let pool = SegmentPool::new(12 * 256, 256);
    let mem = pool
        .operator("window", "t.pipe:1:1", 12)
        .with_spill(SpillSpace::new(Some(dir.to_path_buf()), "t"));
    let mut s = SessionWindows::new(mem, 16, lateness).unwrap();
    let mut out = Vec::new();
    let mut fired = Vec::new();
    let mut push = |out: &[u8], f: weir::runtime::state::FiredWindow| {
        let key = String::from_utf8(out[..f.key_len].to_vec()).unwrap();
        let acc = &out[f.key_len..];
        fired.push((
            key,
            f.start,
            f.end,
            acc_get::<u64>(acc, 0),
            acc_get::<i64>(acc, 8),
        ));
    };
    let (mut wm, mut max_ts) = (i64::MIN, i64::MIN);
    for r in recs {
        let merge = |into: &mut [u8], from: &[u8]| {
            acc_set(into, 0, acc_get::<u64>(into, 0) + acc_get::<u64>(from, 0));
            acc_set(into, 8, acc_get::<i64>(into, 8) + acc_get::<i64>(from, 8));
            Ok(())
        };
        let init = |a: &mut [u8]| a.fill(0);
        let slot = s
            .open_session(r.key.as_bytes(), r.ts, gap, wm, init, merge)
            .unwrap();
        if let Some(slot) = slot {
            let a = s.acc_mut(slot);
            acc_set(a, 0, acc_get::<u64>(a, 0) + 1);
            acc_set(a, 8, acc_get::<i64>(a, 8) + r.v as i64);
            if let WindowOutcome::Refire(slot) = s.after_update(slot, wm) {
                let f = s.copy_window(slot, &mut out);
                push(&out, f);
            }
        }
        if r.ts > max_ts {
            max_ts = r.ts;
            if max_ts - bound - 1 > wm {
                wm = max_ts - bound - 1;
                while let Some(f) = s.next_due(wm, &mut out).unwrap() {
                    push(&out, f);
                }
            }
        }
    }
    while let Some(f) = s.next_due(i64::MAX, &mut out).unwrap() {
        push(&out, f);
    }
    (fired, pool.usage()[0].spill_runs)
}

#[test]
fn spilled_session_windows_give_the_reference_simulations_results() {
    use common::window_reference::{simulate, Assign, Rec};
    use proptest::prelude::*;
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(16));
    let cases = (
        proptest::collection::vec((0u8..60, 0i64..1_500, -50i64..50), 200..1_200),
        prop_oneof![Just(0i64), Just(700)],
    );
    runner
        .run(&cases, |(steps, lateness)| {
            // Time wanders forward by up to 1.5 s a record, keys come back at random.
            let mut t = 0i64;
            let recs: Vec<Rec> = steps
                .iter()
                .enumerate()
                .map(|(i, &(k, dt, v))| {
                    t += dt / 4;
                    let back = if i % 7 == 0 { dt } else { 0 };
                    Rec {
                        key: format!("key{k}"),
                        ts: (t - back).max(0),
                        v: v as f64,
                    }
                })
                .collect();
            let (gap, bound) = (400, 300);
            let dir = temp();
            let (got, spills) = drive_sessions(&recs, gap, bound, lateness, dir.path());
            let (fired, _) = simulate(&recs, Assign::Session { gap }, bound, lateness);
            let want: Vec<Session> = fired
                .iter()
                .map(|w| (w.key.clone(), w.start, w.end, w.count(), w.sum() as i64))
                .collect();
            prop_assert!(spills > 0, "the state spilled");
            prop_assert_eq!(got, want);
            Ok(())
        })
        .unwrap();
}

/// Joins `left` and `right` records (counts of `events` over `keys` keys, both with 30 s
/// of watermark delay, so state stays to the end) through `step` under 256 MB and under
/// `small`: the output (the same bytes both ways, spilling at least `min_spills` times)
/// and the small run's advice.
fn join_spilling(
    step: &str,
    (left, right, keys): (i64, i64, i64),
    small: &str,
    min_spills: u64,
) -> (Vec<u8>, String) {
    let dir = temp();
    std::fs::write(dir.path().join("left.csv"), events(left, keys)).unwrap();
    std::fs::write(dir.path().join("right.csv"), events(right, keys)).unwrap();
    let pipe = dir.path().join("join.pipe");
    std::fs::write(
        &pipe,
        format!(
            "schema Event {{ ts: timestamp, key: str, value: i64 }}\n\
             source left: Event = csv(\"left.csv\") with event_time(ts), watermark(bounded 30s);\n\
             source right: Event = csv(\"right.csv\") with event_time(ts), watermark(bounded 30s);\n\
             let r = right |> key_by(key);\n\
             left |> key_by(key) |> {step} |> sink out = csv(\"out.csv\");\n"
        ),
    )
    .unwrap();
    let bin = build(&pipe);
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let (out, said) = same_output_spilled(&bin, dir.path(), &spill, ("256MB", small), min_spills);
    assert!(out.len() > 100_000, "{step}: a real amount of output");
    (out, said)
}

#[test]
fn a_window_join_spilling_writes_what_it_writes_in_memory() {
    // Two streams of 30 s: their three 10 s windows stay open to the end, some 70,000
    // records each (about 5 MB): 8 MB holds one, not three.
    let step = "window(tumbling 10s) |> join(r, full)";
    let (_, said) = join_spilling(step, (120_000, 90_000, 5_000), "8MB", 2);
    assert!(said.contains("would not have spilled"), "{said}");
}

#[test]
fn an_interval_join_spilling_writes_what_it_writes_in_memory() {
    // Every bucket (the whole input, some 10 MB) is kept to the end.
    let step = "interval_join(r, between -1s and 2s)";
    join_spilling(step, (120_000, 90_000, 5_000), "2MB", 2);
}

#[test]
fn a_session_window_join_spilling_writes_what_it_writes_in_memory() {
    // Gaps of 2 s over 3,000 keys: every session stays open to the end (some 5 MB).
    let step = "window(session gap 2s) |> join(r, left)";
    join_spilling(step, (60_000, 40_000, 3_000), "2MB", 1);
}
