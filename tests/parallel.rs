//! Parallel runs: every example at `--parallelism` 2 and 3, and as a cluster of two
//! processes on loopback, gives the records of the single-worker run (the same multiset;
//! across keys the order is unspecified), and the join, window and `distinct` property
//! tests' jobs do too on random inputs.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

/// The sinks a built job names (from its `--help`).
fn sinks(bin: &Path) -> Vec<String> {
    let help = run_ok(bin, &["--help"]);
    let line = help
        .lines()
        .find_map(|l| l.trim().strip_prefix("sinks (--output): "))
        .expect("the job lists its sinks");
    if line == "(none)" {
        return Vec::new();
    }
    line.split(", ").map(String::from).collect()
}

/// Each sink's output (file sinks redirected into `dir`) and standard output, with
/// `parallelism` workers: the header line, then the other lines sorted. A changelog (its
/// header starts with `op`) is its net rows: how its key's rows interleave across workers
/// changes the steps it takes (a `rolling` over several workers' rows), not where it ends,
/// so each `-U` or `-D` row takes away the `+I` or `+U` row it repeats.
fn outputs(
    bin: &Path,
    dir: &Path,
    workers: Workers,
    extra: &[&str],
) -> BTreeMap<String, Vec<String>> {
    std::fs::create_dir_all(dir).unwrap();
    let mut args: Vec<String> = Vec::new();
    let names = sinks(bin);
    for name in &names {
        args.push("--output".into());
        args.push(format!("{name}={}", dir.join(name).display()));
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let stdout = workers.run_ok(bin, &args);
    let mut all = BTreeMap::new();
    let mut texts = vec![("stdout".to_string(), stdout)];
    for name in names {
        texts.push((
            name.clone(),
            std::fs::read_to_string(dir.join(&name)).unwrap(),
        ));
    }
    for (name, text) in texts {
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let rest = if lines.first().is_some_and(|h| h.starts_with('{')) {
            0
        } else {
            1
        };
        let rest_len = lines.len().min(rest);
        if lines.first().is_some_and(|h| h.starts_with("op,")) {
            let mut net: BTreeMap<String, i64> = BTreeMap::new();
            for line in lines.drain(1..) {
                let (op, row) = line.split_once(',').unwrap();
                *net.entry(row.to_string()).or_default() +=
                    if op.starts_with('-') { -1 } else { 1 };
            }
            for (row, n) in net {
                assert!(n >= 0, "{name}: more rows taken back than added: {row}");
                lines.extend(std::iter::repeat_n(format!("net,{row}"), n as usize));
            }
        }
        lines[rest_len..].sort();
        all.insert(name, lines);
    }
    all
}

/// Examples whose floats add up in another order on several workers (a graph iteration's
/// messages and aggregates are summed per worker, then over the workers): the same
/// records, numbers within this relative tolerance.
const FLOAT_SUMS_ACROSS_WORKERS: &[(&str, f64)] = &[("dsl-examples/pagerank.pipe", 1e-12)];

/// Whether two outputs' lines are the same, numbers within `tolerance` (relative).
fn same_within(one: &[String], many: &[String], tolerance: f64) -> bool {
    one.len() == many.len()
        && one.iter().zip(many).all(|(a, b)| {
            let (a, b): (Vec<&str>, Vec<&str>) = (a.split(',').collect(), b.split(',').collect());
            a.len() == b.len()
                && a.iter().zip(&b).all(|(x, y)| {
                    x == y
                        || match (x.parse::<f64>(), y.parse::<f64>()) {
                            (Ok(x), Ok(y)) => (x - y).abs() <= tolerance * x.abs().max(y.abs()),
                            _ => false,
                        }
                })
        })
}

fn same_at_every_parallelism(pipe: &str, extra: &[&str]) {
    let bin = build(Path::new(pipe));
    let dir = temp();
    let one = outputs(&bin, &dir.path().join("p1"), Workers::Threads(1), extra);
    assert!(
        one.values().any(|l| l.len() > 1),
        "{pipe}: the job writes something"
    );
    let two_by_two = Workers::Cluster {
        processes: 2,
        threads: 2,
    };
    for (i, workers) in PARALLEL.into_iter().chain([two_by_two]).enumerate() {
        let many = outputs(&bin, &dir.path().join(format!("run{i}")), workers, extra);
        match FLOAT_SUMS_ACROSS_WORKERS.iter().find(|(p, _)| *p == pipe) {
            Some(&(_, tolerance)) => assert!(
                one.keys().eq(many.keys())
                    && one
                        .iter()
                        .all(|(name, lines)| same_within(lines, &many[name], tolerance)),
                "{pipe}: {workers} against one worker\n{one:?}\n{many:?}"
            ),
            None => assert_eq!(one, many, "{pipe}: {workers} against one worker"),
        }
    }
}

#[test]
fn every_example_gives_the_same_records_on_two_and_three_workers_and_on_a_cluster() {
    let mut examples: Vec<_> = std::fs::read_dir(root().join("dsl-examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pipe"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 10);
    for pipe in examples {
        let rel = pipe.strip_prefix(root()).unwrap().display().to_string();
        same_at_every_parallelism(&rel, &[]);
    }
}

/// Counts of each word in `text`, sorted by word (the wordcount example's reference).
fn counts(text: &str) -> Vec<String> {
    let mut map = BTreeMap::new();
    for w in text.split_whitespace() {
        *map.entry(w.to_lowercase()).or_insert(0u64) += 1;
    }
    map.into_iter().map(|(w, n)| format!("{w},{n}")).collect()
}

fn sorted_body(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().skip(1).map(String::from).collect();
    lines.sort();
    lines
}

#[test]
fn workers_with_empty_slices_and_standard_input_lose_nothing() {
    let bin = build(Path::new("dsl-examples/wordcount.pipe"));
    let dir = temp();
    // One line: two of three workers get an empty slice of the file.
    let one = dir.path().join("one.txt");
    std::fs::write(&one, "b a b\n").unwrap();
    let out = run_ok(
        &bin,
        &[
            "--parallelism",
            "3",
            "--input",
            &format!("lines={}", one.display()),
        ],
    );
    assert_eq!(out.lines().next(), Some("word,count"), "one header: {out}");
    assert_eq!(sorted_body(&out), counts("b a b"));
    // Standard input is read by worker 0 and its words spread to all.
    let text: String = (0..5_000)
        .map(|i| format!("w{} x{}\n", i % 97, i % 13))
        .collect();
    let mut child = std::process::Command::new(&bin)
        .args(["--parallelism", "2", "--input", "lines=-"])
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let done = child.wait_with_output().unwrap();
    assert!(done.status.success());
    let stdout = String::from_utf8(done.stdout).unwrap();
    assert_eq!(sorted_body(&stdout), counts(&text));
}

/// Runs `bin` with `args`, its input `name` a named pipe a writer process fills with
/// `text` (as `--input name=<(zcat ...)` gives a job), on `workers` worker threads; its
/// standard output.
fn through_a_named_pipe(
    bin: &Path,
    name: &str,
    text: &str,
    args: &[&str],
    workers: usize,
) -> String {
    let dir = temp();
    let (file, pipe) = (dir.path().join("text"), dir.path().join("pipe"));
    std::fs::write(&file, text).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .unwrap();
    assert!(made.success());
    // A process, not a thread: a job that never opened the pipe leaves it blocked, and
    // it is killed below.
    let mut writer = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("cat '{}' > '{}'", file.display(), pipe.display()))
        .spawn()
        .unwrap();
    let input = format!("{name}={}", pipe.display());
    let threads = workers.to_string();
    let mut all = vec!["--input", input.as_str(), "--parallelism", threads.as_str()];
    all.extend_from_slice(args);
    let result = run(bin, &all);
    let _ = writer.kill();
    let _ = writer.wait();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{workers} worker(s): {stderr}");
    String::from_utf8(result.stdout).unwrap()
}

#[test]
fn a_named_pipe_is_read_whole_by_worker_zero_as_standard_input_is() {
    // Not a file that can be cut in slices: read as it comes, on every parallelism, with
    // the results of the same bytes in a file.
    let words: String = (0..20_000)
        .map(|i| format!("w{} x{} W{}\n", i % 89, i % 7, i % 13))
        .collect();
    let wordcount = build(Path::new("dsl-examples/wordcount.pipe"));
    for workers in [1, 2, 3] {
        let out = through_a_named_pipe(&wordcount, "lines", &words, &[], workers);
        assert_eq!(sorted_body(&out), counts(&words), "{workers} worker(s)");
    }
    // An event-time window, which reads a file in time-ordered slices on several workers.
    let dir = temp();
    let pipe = dir.path().join("w.pipe");
    std::fs::write(
        &pipe,
        "schema E { ts: timestamp, key: str }\n\
         source es: E = csv(\"in.csv\") with event_time(ts), watermark(bounded 1s);\n\
         es |> key_by(key) |> window(tumbling 10s) |> aggregate { n: count() } |> sink stdout();\n",
    )
    .unwrap();
    let windows = build(&pipe);
    let mut events = String::from("ts,key\n");
    for i in 0..30_000i64 {
        events.push_str(&format!("{},k{}\n", i * 7 - (i * 31) % 500, i % 17));
    }
    let file = dir.path().join("in.csv");
    std::fs::write(&file, &events).unwrap();
    let from_file = run_ok(&windows, &["--input", &format!("es={}", file.display())]);
    assert!(from_file.lines().count() > 300, "{from_file}");
    for workers in [1, 2, 3] {
        let out = through_a_named_pipe(&windows, "es", &events, &[], workers);
        assert_eq!(out, from_file, "{workers} worker(s): one worker's bytes");
    }
}

#[test]
fn a_bad_record_in_a_later_slice_is_named_by_its_line_and_nothing_is_replaced() {
    let dir = temp();
    let pipe = dir.path().join("sums.pipe");
    let (input, output) = (dir.path().join("in.jsonl"), dir.path().join("out.csv"));
    std::fs::write(
        &pipe,
        format!(
            "schema KV {{ k: u64, v: i64 }}\n\
             source rows: KV = jsonl(\"{}\");\n\
             rows |> key_by(k) |> aggregate {{ n: count(), s: sum(v) }} |> sink out = csv(\"{}\");\n",
            input.display(),
            output.display()
        ),
    )
    .unwrap();
    let mut text = String::new();
    for i in 0..30_000u64 {
        text.push_str(&format!("{{\"k\": {}, \"v\": {}}}\n", i % 17, i % 5));
    }
    let good = text.clone();
    text.push_str("{\"k\": \"x\", \"v\": 1}\n");
    text.push_str("{\"k\": 3, \"v\": 3}\n");
    std::fs::write(&input, &text).unwrap();
    std::fs::write(&output, "old\n").unwrap();
    let bin = build(&pipe);
    let out = run(&bin, &["--parallelism", "3"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:30001", input.display())),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "old\n");
    let temps = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("weir-tmp")
        })
        .count();
    assert_eq!(temps, 0, "no part is left behind");
    // On a cluster the bad line is in process 1's slice: process 0 fails with its error,
    // and commits nothing.
    let cluster = Workers::Cluster {
        processes: 2,
        threads: 1,
    };
    let out = cluster.run(&bin, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("worker 1 (process 1) failed")
            && stderr.contains(&format!("{}:30001", input.display())),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "old\n");
    // Without the bad line, the three slices' sums are the single worker's.
    std::fs::write(&input, &good).unwrap();
    let one = run_ok(&bin, &["--parallelism", "1"]);
    let one_out = std::fs::read_to_string(&output).unwrap();
    let three = run_ok(&bin, &["--parallelism", "3"]);
    assert_eq!(
        (one, sorted_body(&one_out)),
        (
            three,
            sorted_body(&std::fs::read_to_string(&output).unwrap())
        )
    );
    assert_eq!(sorted_body(&one_out).len(), 17);
}

#[test]
fn explain_shows_the_exchanges_and_the_budget_holds_their_buffers() {
    let explained = weir_cli(&[
        "explain",
        "dsl-examples/wordcount.pipe",
        "--parallelism",
        "2",
        "--memory",
        "1MB",
    ]);
    let out = &explained.out;
    assert_eq!(explained.code, 0, "{}", explained.err);
    assert!(
        out.contains("parallelism 2: 1 exchange(s), exchange buffers 512 KiB"),
        "{out}"
    );
    assert!(
        out.contains("(by word, folded on the reading worker first)"),
        "{out}"
    );
    assert!(out.contains("a worker; min"), "{out}");

    // The running job divides the same memory: its operators' budgets and the exchange
    // buffers stay within --memory.
    let bin = build(Path::new("dsl-examples/wordcount.pipe"));
    let dir = temp();
    let stats = dir.path().join("stats.json");
    run_ok(
        &bin,
        &[
            "--parallelism",
            "2",
            "--memory",
            "1MB",
            "--stats-json",
            stats.to_str().unwrap(),
        ],
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    let budgets: u64 = report["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["budget_bytes"].as_u64().unwrap())
        .sum();
    // The aggregate's line includes its two combiners' 128 KiB (out of the 512 KiB set
    // aside): the rest of the set-aside is the exchange's 256 KiB.
    assert!(budgets > 0 && budgets + 256 * 1024 <= 1 << 20, "{budgets}");
    assert_eq!(
        report["operators"].as_array().unwrap().len(),
        1,
        "one line per operator"
    );
    let too_little = run(&bin, &["--parallelism", "2", "--memory", "300KB"]);
    assert_eq!(too_little.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&too_little.stderr).contains("exchange buffers"),
        "{}",
        String::from_utf8_lossy(&too_little.stderr)
    );
}

#[test]
fn combiners_that_fill_up_send_their_partial_counts_and_lose_none() {
    let bin = build(Path::new("dsl-examples/wordcount.pipe"));
    let dir = temp();
    // 20,000 distinct words, each several times: far more than a 128 KiB combiner holds.
    let text: String = (0..120_000u64)
        .map(|i| format!("w{} ", (i * 7_919) % 20_000) + if i % 9 == 0 { "\n" } else { "" })
        .collect();
    let input = dir.path().join("words.txt");
    std::fs::write(&input, &text).unwrap();
    let stats = dir.path().join("stats.json");
    let out = run_ok(
        &bin,
        &[
            "--parallelism",
            "2",
            "--memory",
            "2MB",
            "--input",
            &format!("lines={}", input.display()),
            "--stats-json",
            stats.to_str().unwrap(),
        ],
    );
    assert_eq!(sorted_body(&out), counts(&text));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    let aggregate = &report["operators"][0];
    assert_eq!(aggregate["records_in"], 120_000, "every word counted once");
    assert_eq!(aggregate["records_out"], 20_000);
    // The operator's peak is what its workers and combiners held at once: within the
    // pool's, where a sum of each one's peak (reached at other moments) was not.
    let (peak, managed) = (
        aggregate["peak_bytes"].as_u64().unwrap(),
        report["managed_peak_bytes"].as_u64().unwrap(),
    );
    assert!(peak > 0 && peak <= managed, "{peak} > {managed}");
}

#[test]
fn two_weir_run_processes_with_a_hostfile_give_the_single_process_result() {
    let dir = temp();
    let cache = cache();
    let cache = cache.to_str().unwrap();
    let input = dir.path().join("in.txt");
    let text: String = (0..3_000)
        .map(|i| format!("w{} x{} W{}\n", i % 89, i % 7, i % 89))
        .collect();
    std::fs::write(&input, &text).unwrap();
    // Built once first, so the two runs below find it in the cache.
    build(Path::new("dsl-examples/wordcount.pipe"));
    let (_hosts_dir, hosts) = common::workers::hostfile(2);
    let runs: Vec<_> = (0..2)
        .map(|process| {
            let (input, hosts) = (input.clone(), hosts.clone());
            let output = dir.path().join("out.csv");
            let cache = cache.to_string();
            std::thread::spawn(move || {
                let run = weir_cli(&[
                    "run",
                    "dsl-examples/wordcount.pipe",
                    "--cache-dir",
                    &cache,
                    "--input",
                    &format!("lines={}", input.display()),
                    "--output",
                    &format!("stdout={}", output.display()),
                    "--processes",
                    "2",
                    "--process",
                    &process.to_string(),
                    "--hostfile",
                    &hosts,
                ]);
                (run.code, run.err)
            })
        })
        .collect();
    for run in runs {
        let (code, err) = run.join().unwrap();
        assert_eq!(code, 0, "{err}");
    }
    let written = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    assert_eq!(written.lines().next(), Some("word,count"), "one header");
    assert_eq!(sorted_body(&written), counts(&text));
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, 2, "the input and the output, no part left behind");
}

#[test]
fn csv_files_are_read_in_slices_that_never_cut_a_quoted_field() {
    let dir = temp();
    let pipe = dir.path().join("notes.pipe");
    let (input, output) = (dir.path().join("in.csv"), dir.path().join("out.csv"));
    std::fs::write(
        &pipe,
        format!(
            "schema Note {{ id: u64, amount: i64, note: str }}\n\
             source rows: Note = csv(\"{}\");\n\
             rows |> key_by(id) |> aggregate {{ n: count(), s: sum(amount) }} |> sink out = csv(\"{}\");\n",
            input.display(),
            output.display()
        ),
    )
    .unwrap();
    // Columns in another order than the schema's; every third note spans lines and holds
    // quotes and commas, so a cut at a plain line start would land inside one.
    let mut text = String::from("note,amount,id\n");
    let mut want: BTreeMap<u64, (u64, i64)> = BTreeMap::new();
    for i in 0..20_000u64 {
        let (id, amount) = (i % 37, (i % 11) as i64 - 5);
        let note = if i % 3 == 0 {
            format!("\"line one\nline \"\"two\"\", {i}\n\"")
        } else {
            format!("plain {i}")
        };
        text.push_str(&format!("{note},{amount},{id}\n"));
        let e = want.entry(id).or_default();
        e.0 += 1;
        e.1 += amount;
    }
    std::fs::write(&input, &text).unwrap();
    let want: Vec<String> = want
        .into_iter()
        .map(|(id, (n, s))| format!("{id},{n},{s}"))
        .collect();
    let bin = build(&pipe);
    let runs = [Workers::Threads(1)].into_iter().chain(PARALLEL);
    for workers in runs {
        workers.run_ok(&bin, &[]);
        let written = std::fs::read_to_string(&output).unwrap();
        assert_eq!(
            written.lines().next(),
            Some("id,n,s"),
            "{workers}: one header"
        );
        let mut got = sorted_body(&written);
        got.sort_by_key(|l| l.split(',').next().unwrap().parse::<u64>().unwrap());
        assert_eq!(got, want, "{workers}");
    }
    // A bad record in the last slice is named by its line in the file.
    text.push_str("\"a note\",x,3\n");
    std::fs::write(&input, &text).unwrap();
    let lines = text.lines().count();
    let out = Workers::Threads(3).run(&bin, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:{lines}", input.display())),
        "{stderr}"
    );
}

/// The slice scan (the largest event time before each worker's slice) passes over rows
/// whose event time cannot raise it without decoding them; rows it cannot pass over so
/// (quotes, blank and CRLF lines, padded numbers) and bad rows are read in full, and a bad
/// row's event time counts for nothing. Checked against one worker's rules in the test.
#[test]
fn the_slice_scan_skims_rows_and_never_counts_a_bad_rows_event_time() {
    let dir = temp();
    let pipe = dir.path().join("late.pipe");
    let input = dir.path().join("in.csv");
    std::fs::write(
        &pipe,
        format!(
            "schema E {{ ts: timestamp, key: str, v: i64 }}\n\
             source es: E = csv(\"{}\") with event_time(ts), watermark(bounded 2s), on_error(skip);\n\
             es |> key_by(key) |> window(tumbling 10s) |> aggregate {{ n: count(), s: sum(v) }} |> sink stdout();\n",
            input.display()
        ),
    )
    .unwrap();
    let mut text = String::from("ts,key,v\n");
    let mut valid: Vec<(i64, String, i64)> = Vec::new();
    for i in 0..3_000i64 {
        // Every seventh record is 15 s behind: late, on one worker as on several.
        let ts = (1_000 * i - if i % 7 == 3 { 15_000 } else { 0 }).max(0);
        let key = if i == 100 {
            "k,q".to_string()
        } else {
            format!("k{}", i % 4)
        };
        match i {
            100 => text.push_str(&format!("{ts},\"k,q\",{i}\n")),
            200 => text.push_str(&format!("{ts},{key},{i}\r\n")),
            300 => text.push_str(&format!("\n{ts},{key},{i}\n")),
            400 => text.push_str(&format!(" {ts} ,{key},{i}\n")),
            // A bad row far ahead in time: counted, its event time would make every
            // record of the later slices late.
            500 => text.push_str("900000000,k0,x\n"),
            _ => text.push_str(&format!("{ts},{key},{i}\n")),
        }
        if i != 500 {
            valid.push((ts, key, i));
        }
    }
    std::fs::write(&input, &text).unwrap();
    // One worker's rules: a record is late when its window ends by the watermark, which
    // trails the largest event time before it by 2 s.
    let (mut max, mut late) = (i64::MIN, 0usize);
    let mut windows: BTreeMap<(String, i64), (u64, i64)> = BTreeMap::new();
    for (ts, key, v) in &valid {
        let wm = max.saturating_sub(2_001);
        let start = ts - ts.rem_euclid(10_000);
        if start + 10_000 - 1 <= wm {
            late += 1;
        } else {
            let w = windows.entry((key.clone(), start)).or_default();
            w.0 += 1;
            w.1 += v;
        }
        max = max.max(*ts);
    }
    let mut want: Vec<String> = windows
        .into_iter()
        .map(|((key, start), (n, s))| {
            let key = if key.contains(',') {
                format!("\"{key}\"")
            } else {
                key
            };
            format!("{key},{start},{},{n},{s}", start + 10_000)
        })
        .collect();
    want.sort();
    assert!(late > 300, "the data has late records: {late}");
    let bin = build(&pipe);
    for workers in [Workers::Threads(1)].into_iter().chain(PARALLEL) {
        let out = workers.run(&bin, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{workers}: {stderr}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(sorted_body(&stdout), want, "{workers}");
        assert!(
            stderr.contains(&format!("dropped {late} late record(s)")),
            "{workers}: {stderr}"
        );
    }
}

#[test]
fn windows_in_time_order_give_one_workers_bytes_on_every_parallelism() {
    // A job whose one stateful operator is an event-time window over one file runs it in
    // time order (`runtime/src/parallel/time_order.rs`): each worker fires the windows of
    // its slice and hands the ones it shares with the slice before to that worker. The
    // result is then not only the same records as on one worker but the same bytes: every
    // window in order, each window's keys in the order they came.
    let dir = temp();
    let input = dir.path().join("in.csv");
    let mut text = String::from("ts,key,v\n");
    for i in 0..20_000i64 {
        // Up to 3 s of disorder, and every 97th record 12 s behind: late on any worker.
        let ts = (i * 50 - (i * 7919) % 3_000 - if i % 97 == 5 { 12_000 } else { 0 }).max(0);
        text.push_str(&format!("{ts},k{},{}\n", (i * 31) % 23, i % 1_000 - 500));
    }
    std::fs::write(&input, &text).unwrap();
    for (name, window) in [
        ("tumbling", "tumbling 10s"),
        ("sliding", "sliding 10s every 4s"),
    ] {
        let pipe = dir.path().join(format!("{name}.pipe"));
        std::fs::write(
            &pipe,
            format!(
                "schema E {{ ts: timestamp, key: str, v: i64 }}\n\
                 source es: E = csv(\"{}\") with event_time(ts), watermark(bounded 2s);\n\
                 es |> key_by(key) |> window({window}) |> aggregate {{ n: count(), s: sum(v), hi: max(v) }}\n  \
                 |> sink csv(\"out.csv\");\n",
                input.display()
            ),
        )
        .unwrap();
        let bin = build(&pipe);
        let explained = weir_cli(&["explain", pipe.to_str().unwrap(), "--parallelism", "2"]);
        assert!(
            explained.out.contains("in time order"),
            "{}{}",
            explained.out,
            explained.err
        );
        let run = |workers: Workers, out: &Path| {
            let arg = format!("out={}", out.display());
            let result = workers.run(&bin, &["--output", &arg]);
            let stderr = String::from_utf8_lossy(&result.stderr).to_string();
            assert!(result.status.success(), "{name}, {workers}: {stderr}");
            (std::fs::read_to_string(out).unwrap(), stderr)
        };
        let (one, one_err) = run(Workers::Threads(1), &dir.path().join("one.csv"));
        let late = one_err
            .lines()
            .find(|l| l.contains("late record(s)"))
            .expect("the data has late records")
            .to_string();
        assert!(
            one.lines().count() > 200,
            "{name}: {} results",
            one.lines().count()
        );
        for workers in PARALLEL {
            let (many, err) = run(workers, &dir.path().join(format!("{name}-many.csv")));
            assert!(many == one, "{name}, {workers}: not one worker's bytes");
            assert!(err.contains(&late), "{name}, {workers}: {err}");
        }
    }
}

/// The slices of an event-time CSV file are first cut at line starts, and the slice scans
/// check the cuts (`runtime/src/parallel/slice_scan.rs`): a quoted field with line breaks
/// (here holding lines that would read as records far ahead in time, in a key of their
/// own) sends every worker back to cut at record starts; quoted fields without line
/// breaks do not. Either way every record is read once, as one worker reads it. Checked
/// against windows counted in the test.
#[test]
fn event_time_slices_are_cut_at_record_starts_when_quoted_fields_hold_line_breaks() {
    let dir = temp();
    let input = dir.path().join("in.csv");
    let pipe = dir.path().join("notes.pipe");
    std::fs::write(
        &pipe,
        format!(
            "schema E {{ ts: timestamp, key: str, note: str, v: i64 }}\n\
             source es: E = csv(\"{}\") with event_time(ts), watermark(bounded 2s);\n\
             es |> key_by(key) |> window(tumbling 10s) |> aggregate {{ n: count(), s: sum(v) }} |> sink stdout();\n",
            input.display()
        ),
    )
    .unwrap();
    let bin = build(&pipe);
    for line_breaks in [true, false] {
        let mut text = String::from("ts,key,note,v\n");
        let mut record_starts = std::collections::HashSet::new();
        let mut windows: BTreeMap<(String, i64), (u64, i64)> = BTreeMap::new();
        for i in 0..6_001i64 {
            let (ts, key) = (i * 100, format!("k{}", i % 7));
            let note = if line_breaks {
                // Five lines: four of them inside the quotes.
                format!(
                    "\"see\n{},zz,x,1\n{},zz,x,1\nend, \"\"{i}\"\"\n\"",
                    ts + 90_000_000,
                    ts + 90_000_001
                )
            } else {
                format!("\"see, \"\"{i}\"\"\"")
            };
            record_starts.insert(text.len());
            text.push_str(&format!("{ts},{key},{note},{}\n", i % 11));
            let w = windows.entry((key, ts - ts % 10_000)).or_default();
            w.0 += 1;
            w.1 += i % 11;
        }
        std::fs::write(&input, &text).unwrap();
        // Where two workers' slices meet when cut at the line start after the middle: inside
        // a quoted field when fields hold line breaks.
        let middle = text.len() / 2 + text[text.len() / 2..].find('\n').unwrap() + 1;
        assert_eq!(record_starts.contains(&middle), !line_breaks);
        let mut want: Vec<String> = windows
            .into_iter()
            .map(|((key, start), (n, s))| format!("{key},{start},{},{n},{s}", start + 10_000))
            .collect();
        want.sort();
        for workers in [Workers::Threads(1)].into_iter().chain(PARALLEL) {
            let stdout = workers.run_ok(&bin, &[]);
            assert_eq!(
                sorted_body(&stdout),
                want,
                "{workers}, line breaks in quotes: {line_breaks}"
            );
        }
    }
}
