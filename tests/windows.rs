//! Windows against the reference simulation in `common/window_reference.rs`: the four
//! window examples exactly (order included), then randomized streams with out-of-order and
//! late records, equal timestamps, gaps, session merges and several keys.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::window_reference::{simulate, Assign, Fired, Rec};
use common::*;
use proptest::prelude::*;

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    read_csv(path).1
}

fn f(x: &str) -> f64 {
    x.parse().unwrap()
}

/// Runs an example with its sink `sink` sent to a temporary file; returns the rows written.
fn run_example(pipe: &str, sink: &str) -> Vec<Vec<String>> {
    let dir = temp();
    let out = dir.path().join("out.csv");
    run_ok(
        &build(Path::new(pipe)),
        &["--output", &format!("{sink}={}", out.display())],
    );
    csv_rows(&out)
}

/// The example data at `path` (a CSV with a header) as reference records, taking the key,
/// timestamp and value from the given columns.
fn csv_records(path: &str, key: usize, ts: usize, value: Option<usize>) -> Vec<Rec> {
    csv_rows(&root().join(path))
        .iter()
        .map(|r| Rec {
            key: r[key].clone(),
            ts: r[ts].parse().unwrap(),
            v: value.map_or(0.0, |v| f(&r[v])),
        })
        .collect()
}

#[test]
fn click_sessions_match_the_reference_and_the_hand_count() {
    let got = run_example("dsl-examples/click_sessions.pipe", "sessions");
    let recs = csv_records("dsl-examples/data/clicks.csv", 0, 2, None);
    let (fired, late) = simulate(&recs, Assign::Session { gap: 30_000 }, 5_000, 0);
    assert!(late.is_empty());
    let expected: Vec<Vec<String>> = fired
        .iter()
        .map(|w| {
            let first = w.recs.iter().map(|r| r.0).min().unwrap();
            let last = w.recs.iter().map(|r| r.0).max().unwrap();
            vec![
                w.key.clone(),
                w.start.to_string(),
                w.end.to_string(),
                w.count().to_string(),
                ((last - first) / 1000).to_string(),
            ]
        })
        .collect();
    assert_eq!(got, expected);
    // Counted by hand in the data file: anna's late /checkout click bridges her two sessions.
    let hand = [
        ["bob", "2000", "50000", "2", "18"],
        ["anna", "0", "72000", "4", "42"],
        ["carl", "45000", "75000", "1", "0"],
        ["bob", "90000", "125000", "2", "5"],
        ["carl", "100000", "130000", "1", "0"],
    ];
    assert_eq!(got, hand.map(|r| r.map(String::from).to_vec()).to_vec());
}

#[test]
fn tumbling_bids_over_out_of_order_data() {
    let got = run_example("dsl-examples/bids_per_10s.pipe", "bids_per_10s");
    let recs = csv_records("dsl-examples/data/bids_timed.csv", 0, 3, Some(2));
    let (fired, late) = simulate(
        &recs,
        Assign::Tumbling {
            size: 10_000,
            offset: 0,
        },
        2_000,
        0,
    );
    assert!(late.is_empty());
    assert_eq!(got.len(), fired.len());
    for (row, w) in got.iter().zip(&fired) {
        assert_eq!(
            row[..5],
            [
                w.key.clone(),
                w.start.to_string(),
                w.end.to_string(),
                w.count().to_string(),
                (w.sum() as u64).to_string()
            ]
        );
        assert_eq!(f(&row[5]), w.max());
        assert!((f(&row[6]) - w.sum() / w.count() as f64).abs() < 1e-9);
    }
}

#[test]
fn sliding_moving_average() {
    let got = run_example("dsl-examples/moving_average.pipe", "moving_average");
    let text = std::fs::read_to_string(root().join("dsl-examples/data/readings.jsonl")).unwrap();
    let recs: Vec<Rec> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Rec {
                key: v["sensor"].as_str().unwrap().into(),
                ts: v["ts"].as_i64().unwrap(),
                v: v["celsius"].as_f64().unwrap(),
            }
        })
        .collect();
    let (fired, late) = simulate(
        &recs,
        Assign::Sliding {
            size: 10_000,
            slide: 5_000,
            offset: 0,
        },
        1_000,
        0,
    );
    assert!(late.is_empty());
    assert_eq!(got.len(), fired.len());
    for (row, w) in got.iter().zip(&fired) {
        assert_eq!(
            row[..4],
            [
                w.key.clone(),
                w.start.to_string(),
                w.end.to_string(),
                w.count().to_string()
            ]
        );
        assert!((f(&row[4]) - w.sum() / w.count() as f64).abs() < 1e-9);
        assert_eq!((f(&row[5]), f(&row[6])), (w.min(), w.max()));
    }
}

#[test]
fn late_bids_refire_within_lateness_and_go_to_the_side_output_after() {
    let bin = build(Path::new("dsl-examples/late_bids.pipe"));
    let dir = temp();
    let (main, side) = (dir.path().join("main.csv"), dir.path().join("late.csv"));
    let out = run(
        &bin,
        &[
            "--output",
            &format!("bids_per_5s={}", main.display()),
            "--output",
            &format!("late_bids={}", side.display()),
        ],
    );
    assert!(out.status.success());
    let input = csv_rows(&root().join("dsl-examples/data/bids_late.csv"));
    let recs = csv_records("dsl-examples/data/bids_late.csv", 0, 3, Some(2));
    let (fired, late) = simulate(
        &recs,
        Assign::Tumbling {
            size: 5_000,
            offset: 0,
        },
        1_000,
        2_000,
    );
    let expected: Vec<Vec<String>> = fired
        .iter()
        .map(|w| {
            vec![
                w.key.clone(),
                w.start.to_string(),
                w.end.to_string(),
                w.count().to_string(),
                (w.max() as u64).to_string(),
            ]
        })
        .collect();
    assert_eq!(csv_rows(&main), expected);
    let late_rows: Vec<Vec<String>> = late.iter().map(|&i| input[i].clone()).collect();
    assert_eq!(csv_rows(&side), late_rows);
    assert_eq!(
        late_rows.len(),
        2,
        "the data has two bids past the lateness"
    );
    assert!(
        fired.iter().any(|w| w.count() == 3),
        "one window fired again with a late bid"
    );
}

#[test]
fn without_a_side_output_late_records_are_counted() {
    let dir = temp();
    let pipe = dir.path().join("count_late.pipe");
    let data = root().join("dsl-examples/data/bids_late.csv");
    std::fs::write(
        &pipe,
        format!(
            "schema Bid {{ auction: u64, bidder: u64, price: u64, ts: timestamp }}\n\
             source bids: Bid = csv({:?}) with event_time(ts), watermark(bounded 1s);\n\
             bids |> key_by(auction) |> window(tumbling 5s, allowed_lateness 2s) |> aggregate {{ n: count() }} |> sink stdout();\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let out = run(&build(&pipe), &[]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("count_late.pipe:3:28: dropped 2 late record(s)"),
        "{err}"
    );
}

/// A compiled window pipeline read by the property tests: `k,v,ts` rows in, results and
/// late records out.
struct Case {
    binary: PathBuf,
    assign: Assign,
    bound: i64,
    lateness: i64,
    side_output: bool,
    /// Also `first` and `last`, whose results depend on arrival order: on several workers
    /// such a job is read by worker 0 alone. Without them, and without lateness or a side
    /// output, every worker reads a slice of the input.
    ordered: bool,
}

fn case(
    name: &str,
    window: &str,
    assign: Assign,
    bound: i64,
    lateness: i64,
    side_output: bool,
) -> Case {
    case_with(name, window, assign, bound, lateness, side_output, true)
}

fn case_with(
    name: &str,
    window: &str,
    assign: Assign,
    bound: i64,
    lateness: i64,
    side_output: bool,
    ordered: bool,
) -> Case {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("window-cases");
    std::fs::create_dir_all(&dir).unwrap();
    let pipe = dir.join(format!("{name}.pipe"));
    let late = if side_output { ", late -> late" } else { "" };
    let late_sink = if side_output {
        "late |> sink csv(\"late.csv\");\n"
    } else {
        ""
    };
    let first_last = if ordered {
        ", first_v: first(v), last_v: last(v)"
    } else {
        ""
    };
    std::fs::write(
        &pipe,
        format!(
            "schema R {{ k: str, v: i64, ts: timestamp }}\n\
             source rs: R = csv(\"in.csv\") with event_time(ts), watermark(bounded {bound}ms);\n\
             rs |> key_by(k) |> window({window}{late})\n   \
             |> aggregate {{ n: count(), total: sum(v), low: min(v), high: max(v){first_last} }}\n   \
             |> sink csv(\"main.csv\");\n{late_sink}"
        ),
    )
    .unwrap();
    Case {
        binary: build(&pipe),
        assign,
        bound,
        lateness,
        side_output,
        ordered,
    }
}

fn run_case(c: &Case, recs: &[Rec]) -> Result<(), TestCaseError> {
    let dir = temp();
    let input = dir.path().join("in.csv");
    let mut text = String::from("k,v,ts\n");
    for r in recs {
        text.push_str(&format!("{},{},{}\n", r.key, r.v as i64, r.ts));
    }
    std::fs::write(&input, text).unwrap();
    let (main, late) = (dir.path().join("main.csv"), dir.path().join("late.csv"));
    let mut args = vec![
        "--input".to_string(),
        format!("rs={}", input.display()),
        "--output".to_string(),
        format!("main={}", main.display()),
    ];
    if c.side_output {
        args.extend(["--output".to_string(), format!("late={}", late.display())]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&c.binary, &args);
    prop_assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let main_rows = csv_rows(&main);
    let late_got = if c.side_output {
        csv_rows(&late)
    } else {
        Vec::new()
    };
    // On several workers: the same rows, in another order across keys.
    for workers in PARALLEL {
        let out_many = workers.run(&c.binary, &args);
        prop_assert!(
            out_many.status.success(),
            "{}",
            String::from_utf8_lossy(&out_many.stderr)
        );
        let sorted = |mut rows: Vec<Vec<String>>| {
            rows.sort();
            rows
        };
        prop_assert_eq!(
            sorted(csv_rows(&main)),
            sorted(main_rows.clone()),
            "{}",
            workers
        );
        if c.side_output {
            prop_assert_eq!(
                sorted(csv_rows(&late)),
                sorted(late_got.clone()),
                "{}",
                workers
            );
        }
        let dropped = |o: &std::process::Output| {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .find(|l| l.contains("late record(s)"))
                .map(String::from)
        };
        prop_assert_eq!(dropped(&out_many), dropped(&out), "{}", workers);
    }
    let (fired, late_idx) = simulate(recs, c.assign, c.bound, c.lateness);
    let row = |w: &Fired| {
        let mut row = vec![
            w.key.clone(),
            w.start.to_string(),
            w.end.to_string(),
            w.count().to_string(),
            (w.sum() as i64).to_string(),
            (w.min() as i64).to_string(),
            (w.max() as i64).to_string(),
        ];
        if c.ordered {
            row.extend([
                (w.first() as i64).to_string(),
                (w.last() as i64).to_string(),
            ]);
        }
        row
    };
    let expected: Vec<Vec<String>> = fired.iter().map(row).collect();
    prop_assert_eq!(main_rows, expected);
    if c.side_output {
        let late_rows: Vec<Vec<String>> = late_idx
            .iter()
            .map(|&i| {
                vec![
                    recs[i].key.clone(),
                    (recs[i].v as i64).to_string(),
                    recs[i].ts.to_string(),
                ]
            })
            .collect();
        prop_assert_eq!(late_got, late_rows);
    } else if !late_idx.is_empty() {
        let err = String::from_utf8_lossy(&out.stderr);
        let counted = format!("dropped {} late record(s)", late_idx.len());
        prop_assert!(err.contains(&counted), "{}", err);
    }
    Ok(())
}

/// Streams that wander forward with bursts of disorder, repeated timestamps, quiet gaps
/// and records far behind the watermark.
fn streams() -> impl Strategy<Value = Vec<Rec>> {
    let step = prop_oneof![
        4 => 0i64..1_500,
        1 => Just(0i64),
        1 => 5_000i64..40_000,
        2 => -6_000i64..0,
        1 => -40_000i64..-10_000,
    ];
    prop::collection::vec((0..3usize, -50i64..50, step), 0..60).prop_map(|steps| {
        let mut ts = 1_000_000i64;
        steps
            .into_iter()
            .map(|(k, v, d)| {
                ts = (ts + d).max(0);
                Rec {
                    key: ["a", "b", "c"][k].to_string(),
                    ts,
                    v: v as f64,
                }
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn tumbling_with_lateness_and_side_output(recs in streams()) {
        static CASE: std::sync::OnceLock<Case> = std::sync::OnceLock::new();
        let c = CASE.get_or_init(|| case("tumbling", "tumbling 10s offset 3s, allowed_lateness 3s", Assign::Tumbling { size: 10_000, offset: 3_000 }, 2_000, 3_000, true));
        run_case(c, &recs)?;
    }

    #[test]
    fn sliding_counting_late_records(recs in streams()) {
        static CASE: std::sync::OnceLock<Case> = std::sync::OnceLock::new();
        let c = CASE.get_or_init(|| case("sliding", "sliding 10s every 4s offset -3s", Assign::Sliding { size: 10_000, slide: 4_000, offset: 1_000 }, 1_000, 0, false));
        run_case(c, &recs)?;
    }

    /// Every worker reads a slice: lateness is still decided as on one worker, by the
    /// largest event time before each record in the whole input.
    #[test]
    fn tumbling_read_in_slices(recs in streams()) {
        static CASE: std::sync::OnceLock<Case> = std::sync::OnceLock::new();
        let c = CASE.get_or_init(|| case_with("tumbling_slices", "tumbling 10s offset 3s", Assign::Tumbling { size: 10_000, offset: 3_000 }, 2_000, 0, false, false));
        run_case(c, &recs)?;
    }

    #[test]
    fn sliding_read_in_slices(recs in streams()) {
        static CASE: std::sync::OnceLock<Case> = std::sync::OnceLock::new();
        let c = CASE.get_or_init(|| case_with("sliding_slices", "sliding 10s every 4s offset 1s", Assign::Sliding { size: 10_000, slide: 4_000, offset: 1_000 }, 1_000, 0, false, false));
        run_case(c, &recs)?;
    }

    #[test]
    fn sessions_with_merges_and_lateness(recs in streams()) {
        static CASE: std::sync::OnceLock<Case> = std::sync::OnceLock::new();
        let c = CASE.get_or_init(|| case("session", "session gap 5s, allowed_lateness 2s", Assign::Session { gap: 5_000 }, 3_000, 2_000, true));
        run_case(c, &recs)?;
    }

    #[test]
    fn sessions_without_lateness(recs in streams()) {
        static CASE: std::sync::OnceLock<Case> = std::sync::OnceLock::new();
        let c = CASE.get_or_init(|| case("session0", "session gap 3s", Assign::Session { gap: 3_000 }, 0, 0, true));
        run_case(c, &recs)?;
    }
}

#[test]
fn count_windows_fire_every_n_records_and_flush_the_rest_at_the_end() {
    let dir = temp();
    let data = dir.path().join("in.csv");
    let keys = ["x", "y", "x", "x", "y", "x", "z", "x", "x", "y", "y"];
    let mut text = String::from("k,v\n");
    for (i, k) in keys.iter().enumerate() {
        text.push_str(&format!("{k},{i}\n"));
    }
    std::fs::write(&data, text).unwrap();
    let pipe = dir.path().join("count.pipe");
    std::fs::write(
        &pipe,
        format!(
            "schema R {{ k: str, v: i64 }}\nsource rs: R = csv({:?});\n\
             rs |> key_by(k) |> window(count 3) |> aggregate {{ n: count(), total: sum(v), first_v: first(v), last_v: last(v) }} |> sink stdout();\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let stdout = run_ok(&build(&pipe), &[]);
    // The reference: every third record of a key closes its window; at the end the partial
    // windows follow in first-seen key order.
    let mut expected = vec!["k,n,total,first_v,last_v".to_string()];
    let mut open: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let slot = match open.iter().position(|(key, _)| key == k) {
            Some(s) => s,
            None => {
                open.push((k.to_string(), Vec::new()));
                open.len() - 1
            }
        };
        open[slot].1.push(i);
        if open[slot].1.len() == 3 {
            let v = std::mem::take(&mut open[slot].1);
            expected.push(format!(
                "{k},3,{},{},{}",
                v.iter().sum::<usize>(),
                v[0],
                v[2]
            ));
        }
    }
    for (k, v) in open.into_iter().filter(|(_, v)| !v.is_empty()) {
        expected.push(format!(
            "{k},{},{},{},{}",
            v.len(),
            v.iter().sum::<usize>(),
            v[0],
            v[v.len() - 1]
        ));
    }
    assert_eq!(stdout.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn processing_time_windows_cover_the_arrival_time_and_count_every_record() {
    let dir = temp();
    let data = dir.path().join("in.csv");
    let mut text = String::from("k,v\n");
    for i in 0..500 {
        text.push_str(&format!("{},{i}\n", ["p", "q"][i % 2]));
    }
    std::fs::write(&data, text).unwrap();
    let pipe = dir.path().join("proc.pipe");
    std::fs::write(
        &pipe,
        format!(
            "schema R {{ k: str, v: i64 }}\nsource rs: R = csv({:?});\n\
             rs |> key_by(k) |> window(tumbling 1h, processing_time) |> aggregate {{ n: count() }} |> sink stdout();\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let stdout = run_ok(&build(&pipe), &[]);
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut per_key = std::collections::HashMap::new();
    for line in stdout.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (start, end): (i64, i64) = (f[1].parse().unwrap(), f[2].parse().unwrap());
        assert_eq!(end - start, 3_600_000);
        assert_eq!(start % 3_600_000, 0);
        assert!(
            start <= after && end > before,
            "the window covers the run: {line}"
        );
        *per_key.entry(f[0].to_string()).or_insert(0u64) += f[3].parse::<u64>().unwrap();
    }
    assert_eq!(per_key["p"], 250);
    assert_eq!(per_key["q"], 250);
}

#[test]
fn a_union_holds_the_watermark_at_its_slowest_input() {
    let dir = temp();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.jsonl");
    std::fs::write(&a, "k,ts\nx,1000\nx,12000\ny,15000\n").unwrap();
    std::fs::write(
        &b,
        "{\"k\": \"x\", \"ts\": 3000}\n{\"k\": \"x\", \"ts\": 9000}\n{\"k\": \"y\", \"ts\": 21000}\n",
    )
    .unwrap();
    let pipe = dir.path().join("union.pipe");
    std::fs::write(
        &pipe,
        format!(
            "schema E {{ k: str, ts: timestamp }}\n\
             source a: E = csv({:?}) with event_time(ts), watermark(ascending);\n\
             source b: E = jsonl({:?}) with event_time(ts), watermark(ascending);\n\
             a |> union(b) |> key_by(k) |> window(tumbling 10s) |> aggregate {{ n: count() }} |> sink stdout();\n",
            a.display().to_string(),
            b.display().to_string()
        ),
    )
    .unwrap();
    let out = run(&build(&pipe), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Worked by hand: `a` is read first, but the union's watermark is the least of its
    // inputs, so it stays at `b`'s (nothing yet) and b's 3 s and 9 s records are on time;
    // with one shared watermark they would have been late behind a's 15 s.
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "k,window_start,window_end,n\nx,0,10000,3\nx,10000,20000,1\ny,10000,20000,1\ny,20000,30000,1\n"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("late"));
}

/// A long source and a short one with `idle(1ms)`, merged by a union into a window: the
/// short source is read after the long one, so it has not started while the long one
/// runs, and must not count as idle then. Nothing is late.
#[test]
fn an_idle_source_that_has_not_started_does_not_make_its_records_late() {
    let dir = temp();
    let long: String = std::iter::once("k,ts\n".to_string())
        .chain((0..20_000).map(|i| format!("{},{}\n", i % 7, i * 10)))
        .collect();
    let short = "k,ts\n1,5\n2,150000\n3,199990\n";
    std::fs::write(dir.path().join("long.csv"), long).unwrap();
    std::fs::write(dir.path().join("short.csv"), short).unwrap();
    let pipe = dir.path().join("idle_union.pipe");
    std::fs::write(
        &pipe,
        "schema E { k: u64, ts: timestamp }\n\
         source long: E = csv(\"long.csv\") with event_time(ts), watermark(bounded 1s);\n\
         source short: E = csv(\"short.csv\") with event_time(ts), watermark(bounded 1s), idle(1ms);\n\
         long |> union(short) |> key_by(k) |> window(tumbling 100s) |> aggregate { n: count() }\n\
           |> sink out = csv(\"out.csv\");\n",
    )
    .unwrap();
    let bin = build(&pipe);
    let out = std::process::Command::new(&bin)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("late"), "no record is late: {err}");
    let (_, rows) = read_csv(&dir.path().join("out.csv"));
    let total: u64 = rows.iter().map(|r| r[3].parse::<u64>().unwrap()).sum();
    assert_eq!(total, 20_003);
}

/// A window of windows: `key_by(window_end) |> window(...)` after a windowed aggregate
/// gives results under the new window's bounds (the old `window_end` key gives way to the
/// new one), and a bound renamed first is kept. Checked against counts made here.
#[test]
fn a_window_of_windows_takes_the_new_bounds_and_keeps_renamed_ones() {
    let dir = temp();
    let input = dir.path().join("clicks.csv");
    let mut text = "page,ts\n".to_string();
    let mut clicks = Vec::new();
    for i in 0..3_000i64 {
        let page = format!("p{}", (i * 7) % 5);
        let ts = i * 4_111;
        text.push_str(&format!("{page},{ts}\n"));
        clicks.push((page, ts));
    }
    std::fs::write(&input, text).unwrap();
    let (out, kept) = (dir.path().join("out.csv"), dir.path().join("kept.csv"));
    let pipe = dir.path().join("nested.pipe");
    std::fs::write(
        &pipe,
        format!(
            "schema Click {{ page: str, ts: timestamp }}\n\
             source clicks: Click = csv({:?}) with event_time(ts), watermark(ascending);\n\
             let per_page = clicks |> key_by(page) |> window(tumbling 1m) |> aggregate {{ n: count() }};\n\
             per_page |> key_by(window_end) |> window(tumbling 1h)\n\
               |> aggregate {{ pages: count(), busiest: max(n) }} |> sink csv({:?});\n\
             per_page |> map {{ minute: window_end, n }} |> key_by(minute) |> window(tumbling 1h)\n\
               |> aggregate {{ clicks: sum(n) }} |> sink csv({:?});\n",
            input.display().to_string(),
            out.display().to_string(),
            kept.display().to_string()
        ),
    )
    .unwrap();
    run_ok(&build(&pipe), &[]);
    // Per minute: each page's clicks; then per minute, over its hour.
    let mut per_minute: BTreeMap<i64, BTreeMap<String, u64>> = BTreeMap::new();
    for (page, ts) in &clicks {
        let end = ts - ts.rem_euclid(60_000) + 60_000;
        *per_minute
            .entry(end)
            .or_default()
            .entry(page.clone())
            .or_default() += 1;
    }
    let hour = |minute_end: i64| {
        let t = minute_end - 1;
        let start = t - t.rem_euclid(3_600_000);
        (start, start + 3_600_000)
    };
    let mut want: Vec<Vec<String>> = per_minute
        .iter()
        .map(|(end, pages)| {
            let (s, e) = hour(*end);
            let busiest = pages.values().max().unwrap();
            vec![
                s.to_string(),
                e.to_string(),
                pages.len().to_string(),
                busiest.to_string(),
            ]
        })
        .collect();
    let (header, mut got) = read_csv(&out);
    assert_eq!(header, ["window_start", "window_end", "pages", "busiest"]);
    got.sort();
    want.sort();
    assert_eq!(got, want);
    let mut want_kept: Vec<Vec<String>> = per_minute
        .iter()
        .map(|(end, pages)| {
            let (s, e) = hour(*end);
            let clicks: u64 = pages.values().sum();
            vec![
                end.to_string(),
                s.to_string(),
                e.to_string(),
                clicks.to_string(),
            ]
        })
        .collect();
    let (header, mut got) = read_csv(&kept);
    assert_eq!(header, ["minute", "window_start", "window_end", "clicks"]);
    got.sort();
    want_kept.sort();
    assert_eq!(got, want_kept);
}
