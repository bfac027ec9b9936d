//! Checkpoints prove themselves by killing the job: each example runs with checkpoints
//! every 50 ms over an input that takes a while, is killed with SIGKILL at random
//! moments (and started again with the same command each time), and its final outputs
//! must be byte-identical to an uninterrupted run's: no record lost, none written twice.
//! Modelled on Flink's failure-injecting IT cases and Arroyo's smoke loop. This is the
//! short version (a few kills per job); `WEIR_KILLS=20 cargo test --release --test
//! checkpoints` runs the long one.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::kills::*;
use common::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Starts `binary` in `dir` with checkpoints every 20 ms into `checkpoints`, and kills it
/// with SIGKILL once one is complete.
fn kill_after_a_checkpoint(binary: &Path, dir: &Path, checkpoints: &Path) {
    let mut child = Command::new(binary)
        .args(["--checkpoint-dir", checkpoints.to_str().unwrap()])
        .args(["--checkpoint-interval", "20ms"])
        .current_dir(dir)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_dir(checkpoints)
        .map(|d| d.flatten().any(|e| e.path().join("MANIFEST").exists()))
        .unwrap_or(false)
    {
        assert!(Instant::now() < deadline, "no checkpoint was taken");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Three tests of `job`: killed on one worker, on two, and on a cluster of two processes.
macro_rules! survives_kills {
    ($job:ident, $seed:expr, $one:ident, $two:ident, $cluster:ident) => {
        #[test]
        fn $one() {
            survives_kills($job(), $seed, Layout::Threads(1));
        }

        #[test]
        fn $two() {
            survives_kills($job(), $seed, Layout::Threads(2));
        }

        #[test]
        fn $cluster() {
            survives_kills($job(), $seed, Layout::Cluster);
        }
    };
}

survives_kills!(
    wordcount,
    11,
    wordcount_survives_kills,
    wordcount_survives_kills_on_two_workers,
    wordcount_survives_kills_on_a_cluster
);
survives_kills!(
    spilled_wordcount,
    17,
    a_spilled_aggregate_survives_kills,
    a_spilled_aggregate_survives_kills_on_two_workers,
    a_spilled_aggregate_survives_kills_on_a_cluster
);
survives_kills!(
    late_bids,
    12,
    a_window_with_late_data_and_a_side_output_survives_kills,
    a_window_with_late_data_survives_kills_on_two_workers,
    a_window_with_late_data_survives_kills_on_a_cluster
);
survives_kills!(
    window_join,
    13,
    a_window_join_survives_kills,
    a_window_join_survives_kills_on_two_workers,
    a_window_join_survives_kills_on_a_cluster
);
survives_kills!(
    interval_join,
    14,
    an_interval_join_with_late_payments_survives_kills,
    an_interval_join_survives_kills_on_two_workers,
    an_interval_join_survives_kills_on_a_cluster
);
survives_kills!(
    unshipped_orders,
    18,
    an_outer_interval_join_survives_kills,
    an_outer_interval_join_survives_kills_on_two_workers,
    an_outer_interval_join_survives_kills_on_a_cluster
);
survives_kills!(
    session_pages,
    19,
    session_windows_with_text_survive_kills,
    session_windows_with_text_survive_kills_on_two_workers,
    session_windows_with_text_survive_kills_on_a_cluster
);
survives_kills!(
    text_aggregates,
    23,
    text_aggregates_survive_kills,
    text_aggregates_survive_kills_on_two_workers,
    text_aggregates_survive_kills_on_a_cluster
);
survives_kills!(
    sessions,
    15,
    session_windows_survive_kills,
    session_windows_survive_kills_on_two_workers,
    session_windows_survive_kills_on_a_cluster
);
survives_kills!(
    models_per_window,
    24,
    an_iteration_per_window_survives_kills,
    an_iteration_per_window_survives_kills_on_two_workers,
    an_iteration_per_window_survives_kills_on_a_cluster
);
survives_kills!(
    fraud_process,
    16,
    the_fraud_detection_process_survives_kills,
    the_fraud_detection_process_survives_kills_on_two_workers,
    the_fraud_detection_process_survives_kills_on_a_cluster
);

fn wordcount() -> Job {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut text = String::new();
    for _ in 0..1_500_000 {
        let (a, b, c): (u32, u32, u32) = (
            rng.random_range(0..40_000),
            rng.random_range(0..400),
            rng.random_range(0..40),
        );
        writeln!(text, "w{a} W{b} x{c}").unwrap();
    }
    Job {
        pipe: "dsl-examples/wordcount.pipe",
        inputs: vec![("lines", text)],
        outputs: &["stdout"],
        sliced: true,
        args: &[],
    }
}

/// WordCount under `--memory 1MB`: its counts spill (36 MiB in 52 runs on one worker), and
/// a checkpoint links the runs rather than copy them.
fn spilled_wordcount() -> Job {
    Job {
        args: &["--memory", "1MB"],
        ..wordcount()
    }
}

fn late_bids() -> Job {
    late_bids_of(1_200_000)
}

/// `late_bids` over `bids` bids.
fn late_bids_of(bids: i64) -> Job {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut text = String::from("auction,bidder,price,ts\n");
    for i in 0..bids {
        // Mostly within the watermark's second of disorder, some later than the
        // window's lateness: those go to the side output.
        let late = if rng.random_range(0..100) < 3 {
            rng.random_range(0..9_000)
        } else {
            rng.random_range(0..900)
        };
        let ts = (i * 2 - late).max(0);
        let (auction, bidder, price): (u64, u64, u64) = (
            rng.random_range(0..3_000),
            rng.random_range(0..100_000),
            rng.random_range(1..10_000),
        );
        writeln!(text, "{auction},{bidder},{price},{ts}").unwrap();
    }
    Job {
        pipe: "dsl-examples/late_bids.pipe",
        inputs: vec![("bids", text)],
        outputs: &["bids_per_5s", "late_bids"],
        sliced: false,
        args: &[],
    }
}

fn window_join() -> Job {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (mut shown, mut clicked) = (String::from("ts,ad,site\n"), String::from("ts,ad,user\n"));
    for i in 0..500_000i64 {
        let ts = i * 20 + rng.random_range(0..1_500);
        writeln!(
            shown,
            "{ts},{},s{}",
            rng.random_range(0..200_000u64),
            rng.random_range(0..50u32)
        )
        .unwrap();
        let ts = i * 20 + rng.random_range(0..1_500);
        writeln!(
            clicked,
            "{ts},{},u{}",
            rng.random_range(0..200_000u64),
            rng.random_range(0..9_999u32)
        )
        .unwrap();
    }
    Job {
        pipe: "dsl-examples/click_impressions_join.pipe",
        inputs: vec![("impressions", shown), ("raw_clicks", clicked)],
        outputs: &["click_impressions"],
        sliced: false,
        args: &[],
    }
}

/// Page views of 20,000 users, minutes apart (a session ends after 30 minutes without one),
/// pages of many lengths, a little out of order.
fn session_pages() -> Job {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let mut text = String::from("user,page,ts\n");
    for i in 0..400_000i64 {
        let ts = i * 1_000 + rng.random_range(0..30_000);
        let page = match rng.random_range(0..50) {
            0 => "/search?q=".to_string() + &"w".repeat(rng.random_range(100..3_000)),
            n => format!("/p/{n}"),
        };
        writeln!(text, "u{},{page},{ts}", rng.random_range(0..20_000u32)).unwrap();
    }
    Job {
        pipe: "dsl-examples/session_pages.pipe",
        inputs: vec![("views", text)],
        outputs: &["session_pages"],
        sliced: false,
        args: &[],
    }
}

/// On one worker under a budget that makes the time windows and the aggregate spill (on
/// two workers each operator needs more than half of it): the snapshots hold spilled
/// windows' text, and the restored windows spill again.
#[test]
fn text_aggregates_survive_kills_while_spilling() {
    let job = Job {
        args: &["--memory", "3MiB"],
        ..text_aggregates()
    };
    survives_kills(job, 29, Layout::Threads(1));
}

/// Views as for [`session_pages`], over tumbling, sliding and count windows and a keyed
/// aggregate of text and distinct counts (whose per-user lists spill).
fn text_aggregates() -> Job {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut text = String::from("user,page,ts\n");
    for i in 0..200_000i64 {
        let ts = i * 100 + rng.random_range(0..30_000);
        let page = match rng.random_range(0..50) {
            0 => "/search?q=".to_string() + &"w".repeat(rng.random_range(100..3_000)),
            n => format!("/p/{n}"),
        };
        writeln!(text, "u{},{page},{ts}", rng.random_range(0..2_000u32)).unwrap();
    }
    Job {
        pipe: "tests/fixtures/text_aggregates.pipe",
        inputs: vec![("views", text)],
        outputs: &["tumbling", "sliding", "per_user", "per_five"],
        sliced: false,
        args: &["--memory", "11MiB"],
    }
}

/// Orders a second apart, most shipped within 0 to 3 hours (so many wait past their
/// deadline and are emitted alone), the shipments a little out of order.
fn unshipped_orders() -> Job {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut orders = String::from("ts,id,customer,total\n");
    let mut shipments: Vec<(i64, i64)> = Vec::new();
    for i in 0..400_000i64 {
        let ts = i * 1_000 + rng.random_range(0..30_000);
        writeln!(
            orders,
            "{ts},{i},c{},{}",
            rng.random_range(0..500u32),
            i % 97
        )
        .unwrap();
        if rng.random_range(0..3) > 0 {
            shipments.push((ts + rng.random_range(0..10_800_000), i));
        }
    }
    shipments.sort_unstable();
    let mut text = String::from("ts,order_id,carrier\n");
    for (ts, order) in shipments {
        writeln!(text, "{},{order},ups", ts + rng.random_range(0..30_000)).unwrap();
    }
    Job {
        pipe: "dsl-examples/unshipped_orders.pipe",
        inputs: vec![("orders", orders), ("shipments", text)],
        outputs: &["unshipped_orders"],
        sliced: false,
        args: &[],
    }
}

fn interval_join() -> Job {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (mut orders, mut payments) = (
        String::from("ts,id,customer,total\n"),
        String::from("ts,order_id,amount\n"),
    );
    for i in 0..400_000i64 {
        let ts = i * 100 + rng.random_range(0..1_500);
        writeln!(
            orders,
            "{ts},{i},c{},{}",
            rng.random_range(0..5_000u32),
            rng.random_range(1..500i64)
        )
        .unwrap();
        // A payment for a recent order, now and then later than the bound.
        let order = (i - rng.random_range(0..50i64)).max(0);
        let back = if rng.random_range(0..100) < 2 {
            5_000
        } else {
            rng.random_range(0..1_500)
        };
        writeln!(
            payments,
            "{},{order},{}",
            (i * 100 - back).max(0),
            rng.random_range(1..500i64)
        )
        .unwrap();
    }
    Job {
        pipe: "dsl-examples/payments_after_orders.pipe",
        inputs: vec![("orders", orders), ("payments", payments)],
        outputs: &["payments_after_orders", "late_payments"],
        sliced: false,
        args: &[],
    }
}

fn sessions() -> Job {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut text = String::from("user,page,ts\n");
    for i in 0..1_000_000i64 {
        let ts = i * 7 + rng.random_range(0..4_000);
        writeln!(
            text,
            "u{},/p{},{ts}",
            rng.random_range(0..20_000u32),
            rng.random_range(0..30u32)
        )
        .unwrap();
    }
    Job {
        pipe: "dsl-examples/click_sessions.pipe",
        inputs: vec![("clicks", text)],
        outputs: &["sessions"],
        sliced: false,
        args: &[],
    }
}

fn fraud_process() -> Job {
    fraud_process_of(1_000_000)
}

/// `fraud_process` over `transactions` transactions.
fn fraud_process_of(transactions: usize) -> Job {
    let mut text = String::from("ts,account,amount\n");
    for (ts, account, cents) in fraud::transactions(transactions, 30_000, 40, 6) {
        writeln!(text, "{ts},{account},{}.{:02}", cents / 100, cents % 100).unwrap();
    }
    Job {
        pipe: "dsl-examples/fraud_detection.pipe",
        inputs: vec![("transactions", text)],
        outputs: &["alerts"],
        sliced: false,
        args: &[],
    }
}

/// The streaming regression over `minutes` minutes of samples (a model each minute,
/// its window's samples kept under 2 MB until the watermark passes its end)
/// and a query every 3 seconds.
fn models_per_window_of(minutes: i64) -> Job {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (mut samples, mut queries) = (
        String::from("ts,x1,x2,x3,y\n"),
        String::from("ts,id,x1,x2,x3\n"),
    );
    for i in 0..minutes * 6_000 {
        // Ten samples a second, up to a second out of order.
        let ts = (i * 10 - rng.random_range(0..1_000)).max(0);
        let x: [f64; 3] = [
            rng.random_range(-1.0..1.0),
            rng.random_range(-1.0..1.0),
            rng.random_range(-1.0..1.0),
        ];
        let y = 2.0 * x[0] - x[1] + 0.5 * x[2] + 3.0 + rng.random_range(-0.1..0.1);
        writeln!(samples, "{ts},{:.4},{:.4},{:.4},{y:.4}", x[0], x[1], x[2]).unwrap();
        if i % 300 == 0 {
            let id = i / 300;
            writeln!(
                queries,
                "{},{id},{:.4},{:.4},{:.4}",
                i * 10,
                x[2],
                x[0],
                x[1]
            )
            .unwrap();
        }
    }
    Job {
        pipe: "dsl-examples/linear_regression_windows.pipe",
        inputs: vec![("samples", samples), ("queries", queries)],
        outputs: &["models", "predictions"],
        sliced: false,
        args: &["--memory", "2MB"],
    }
}

fn models_per_window() -> Job {
    // Long enough that a run on two workers (the quickest) is still going when its first
    // checkpoint completes: at 60 minutes it once finished first three times in a row.
    models_per_window_of(200)
}

#[test]
fn an_iteration_per_window_survives_rescaling() {
    // 800 windows once ended on three workers before its first checkpoint, in CI.
    survives_rescaling(models_per_window_of(1_200));
}

#[test]
fn a_window_with_late_data_survives_rescaling() {
    survives_rescaling(late_bids_of(4_000_000));
}

#[test]
fn the_fraud_detection_process_survives_rescaling() {
    survives_rescaling(fraud_process_of(3_000_000));
}

/// A sink on a device (`/dev/null`, as a pipe or terminal would be) cannot be cut back
/// to a checkpoint: a resumed run writes on where it is, at-least-once as a `stdout()`
/// sink, rather than failing to cut it (it once failed: "holds less than the checkpoint
/// committed"). The file sink beside it is exact.
#[test]
fn a_sink_on_a_device_resumes_at_least_once_beside_an_exact_file() {
    let dir = temp();
    let checkpoints = dir.path().join("ck");
    let pipe = dir.path().join("counts.pipe");
    std::fs::write(
        &pipe,
        "source lines = text(\"in.txt\");\n\
         lines |> key_by(line) |> aggregate { n: count() } |> sink csv(\"out.csv\");\n\
         lines |> filter(line == \"k7\") |> sink seen = csv(\"/dev/null\");\n",
    )
    .unwrap();
    let counts = build(&pipe);
    let text: String = (0..3_000_000)
        .map(|i| format!("k{}\n", i % 5_000))
        .collect();
    std::fs::write(dir.path().join("in.txt"), &text).unwrap();
    kill_after_a_checkpoint(&counts, dir.path(), &checkpoints);
    let out = Command::new(&counts)
        .args(["--checkpoint-dir", checkpoints.to_str().unwrap()])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("resumes from checkpoint"), "{err}");
    let mut got: Vec<String> = std::fs::read_to_string(dir.path().join("out.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(String::from)
        .collect();
    got.sort();
    let mut want: Vec<String> = (0..5_000).map(|k| format!("k{k},600")).collect();
    want.sort();
    assert_eq!(got, want);
}

/// A checkpoint written by another pipeline is refused, naming the difference, and a
/// damaged newest checkpoint is passed over for the one before.
#[test]
fn another_pipelines_checkpoint_is_refused_and_a_damaged_one_passed_over() {
    let dir = temp();
    let checkpoints = dir.path().join("ck");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let counts = build(&write(
        "counts.pipe",
        "source lines = text(\"in.txt\");\n\
         lines |> key_by(line) |> aggregate { n: count() } |> sink csv(\"out.csv\");\n",
    ));
    let firsts = build(&write(
        "counts.pipe",
        "source lines = text(\"in.txt\");\n\
         lines |> key_by(line) |> distinct() |> sink csv(\"out.csv\");\n",
    ));
    let text: String = (0..3_000_000)
        .map(|i| format!("k{}\n", i % 5_000))
        .collect();
    write("in.txt", &text);
    let flags = [
        "--checkpoint-dir",
        checkpoints.to_str().unwrap(),
        "--checkpoint-interval",
        "20ms",
    ];
    kill_after_a_checkpoint(&counts, dir.path(), &checkpoints);
    // What the checkpoint holds, for people.
    let report = weir_cli(&["checkpoint", "inspect", checkpoints.to_str().unwrap()]);
    assert_eq!(report.code, 0, "{}", report.err);
    assert!(report.out.contains("of job `counts`"), "{}", report.out);
    assert!(
        report.out.contains("stateful operators: aggregate at"),
        "{}",
        report.out
    );
    assert!(report.out.contains("keyed state: "), "{}", report.out);
    assert!(report.out.contains(" of 128 key groups"), "{}", report.out);
    let out = Command::new(&firsts)
        .args(flags)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("was written by another pipeline"), "{err}");
    assert!(err.contains("aggregate at"), "names the operators: {err}");
    assert!(err.contains("distinct at"), "names the operators: {err}");

    // The newest complete checkpoint damaged: the one before it is used.
    let mut complete: Vec<PathBuf> = std::fs::read_dir(&checkpoints)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("MANIFEST").exists())
        .collect();
    complete.sort();
    let newest = complete.last().unwrap().join("state");
    let mut bytes = std::fs::read(&newest).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&newest, bytes).unwrap();
    let out = Command::new(&counts)
        .args(flags)
        .args(["--stats-json", "stats.json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("is passed over"), "{err}");
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats["checkpoints"]["failed"], 0, "{stats}");
    assert!(stats["checkpoints"]["taken"].is_u64(), "{stats}");
    if complete.len() > 1 {
        assert!(err.contains("resumes from checkpoint"), "{err}");
    }
    let (_, rows) = read_csv(&dir.path().join("out.csv"));
    assert_eq!(rows.len(), 5_000);
    assert!(
        rows.iter().all(|r| r[1] == "600"),
        "every key counted once per line"
    );
}

/// A part that lost what a checkpoint committed (removed by hand) is refused, with exit
/// code 2 and the output named, rather than resumed into a gap.
#[test]
fn a_part_shorter_than_its_checkpoint_is_refused() {
    let dir = temp();
    let pipe = dir.path().join("copy.pipe");
    std::fs::write(
        &pipe,
        "source lines = text(\"in.txt\");\nlines |> sink csv(\"out.csv\");\n",
    )
    .unwrap();
    let binary = build(&pipe);
    let text: String = (0..4_000_000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(dir.path().join("in.txt"), text).unwrap();
    let checkpoints = dir.path().join("ck");
    let flags = [
        "--checkpoint-dir",
        checkpoints.to_str().unwrap(),
        "--checkpoint-interval",
        "20ms",
    ];
    kill_after_a_checkpoint(&binary, dir.path(), &checkpoints);
    std::fs::remove_file(dir.path().join(".out.csv.weir-part")).unwrap();
    let out = Command::new(&binary)
        .args(flags)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("the part of output `out`"), "{err}");
    assert!(err.contains("changed or removed"), "{err}");
    assert!(!dir.path().join("out.csv").exists(), "nothing committed");
}

/// The late-bids pipeline with `edit` applied to its text, written into `dir` as `name`.
fn late_bids_edited(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(root().join("dsl-examples/late_bids.pipe")).unwrap();
    let path = dir.join(format!("{name}.pipe"));
    std::fs::write(&path, edit(text)).unwrap();
    build(&path)
}

/// A savepoint taken while the job runs (SIGUSR1), then the pipeline edited and started
/// from it: an unrelated operator added, it goes on where the savepoint stood and its
/// outputs are the unedited job's; the window's size changed, it is refused naming the
/// window and both layouts; the window's side output dropped (the window named with `uid`,
/// so it is still known), it is refused for the sink's state left over, and starts with
/// `--allow-non-restored-state`, listing it.
#[test]
fn a_savepoint_restores_into_an_edited_pipeline_by_identity() {
    let dir = temp();
    // Long enough that the savepoint asked for after the first checkpoint comes well
    // before the end.
    let job = late_bids_of(4_000_000);
    let data = dir.path().join("bids.csv");
    std::fs::write(&data, &job.inputs[0].1).unwrap();
    let named = |t: String| {
        t.replace(
            "|> aggregate { bids: count(), top: max(price) }",
            "|> aggregate { bids: count(), top: max(price) } |> uid(bid_counts)",
        )
    };
    let original = late_bids_edited(dir.path(), "original", named);
    let added = late_bids_edited(dir.path(), "added", |t| {
        named(t)
            + "\nbids |> filter(price > 9990) |> sink expensive = csv(\"out/expensive.csv\");\n"
    });
    let resized = late_bids_edited(dir.path(), "resized", |t| {
        named(t).replace("tumbling 5s", "tumbling 10s")
    });
    let dropped = late_bids_edited(dir.path(), "dropped", |t| {
        named(t)
            .replace(", late -> late_bids", "")
            .replace("late_bids |> sink csv(\"out/late_bids.csv\");", "")
    });
    let run = |binary: &Path, out: &str, flags: &[&str]| {
        let mut c = Command::new(binary);
        c.current_dir(dir.path())
            .arg("--input")
            .arg(format!("bids={}", data.display()))
            .args(["--output", &format!("bids_per_5s={out}.csv")])
            .args(["--output", &format!("late_bids={out}-late.csv")])
            .args(flags);
        c
    };
    let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
    let golden = run(&original, "golden", &[]).output().unwrap();
    assert!(golden.status.success());

    // The savepoint, asked for once the run has taken a checkpoint.
    let child = run(
        &original,
        "first",
        &[
            "--checkpoint-dir",
            "ck",
            "--checkpoint-interval",
            "20ms",
            "--savepoint-dir",
            "sp",
        ],
    )
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while newest_complete(&dir.path().join("ck")).is_none() {
        assert!(Instant::now() < deadline, "no checkpoint");
        std::thread::sleep(Duration::from_millis(2));
    }
    let pid = child.id().to_string();
    let signalled = Command::new("kill").args(["-USR1", &pid]).status().unwrap();
    assert!(signalled.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("wrote savepoint sp/savepoint-"), "{err}");
    let report = weir_cli(&[
        "savepoint",
        "inspect",
        dir.path().join("sp").to_str().unwrap(),
    ]);
    assert_eq!(report.code, 0, "{}", report.err);
    assert!(report.out.contains("`bid_counts`"), "{}", report.out);
    assert!(
        report.out.contains("layout: window(tumbling 5s"),
        "{}",
        report.out
    );

    // An operator added on another branch: the job goes on from the savepoint.
    let out = run(
        &added,
        "added",
        &[
            "--checkpoint-dir",
            "ck-added",
            "--from-savepoint",
            "sp",
            "--output",
            "expensive=expensive.csv",
        ],
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("starts from savepoint sp/savepoint-"), "{err}");
    assert!(
        read("added.csv") == read("golden.csv"),
        "the window's results"
    );
    assert!(
        read("added-late.csv") == read("golden-late.csv"),
        "the late bids"
    );
    let expensive = String::from_utf8(read("expensive.csv")).unwrap();
    let all: usize = job.inputs[0]
        .1
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(2).unwrap().parse::<u64>().unwrap() > 9990)
        .count();
    let after = expensive.lines().count() - 1;
    assert!(
        after > 0 && after < all,
        "only bids after the savepoint: {after} of {all}"
    );

    // Another window size: refused, naming the window and both layouts.
    let out = run(
        &resized,
        "resized",
        &["--checkpoint-dir", "ck-resized", "--from-savepoint", "sp"],
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("window at"), "{err}");
    assert!(
        err.contains("tumbling 5s") && err.contains("tumbling 10s"),
        "{err}"
    );

    // A sink gone: refused, then allowed and listed.
    let flags = ["--checkpoint-dir", "ck-dropped", "--from-savepoint", "sp"];
    let out = Command::new(&dropped)
        .current_dir(dir.path())
        .arg("--input")
        .arg(format!("bids={}", data.display()))
        .args(["--output", "bids_per_5s=dropped.csv"])
        .args(flags)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--allow-non-restored-state"), "{err}");
    assert!(err.contains("sink late_bids"), "{err}");
    let out = Command::new(&dropped)
        .current_dir(dir.path())
        .arg("--input")
        .arg(format!("bids={}", data.display()))
        .args(["--output", "bids_per_5s=dropped.csv"])
        .args(flags)
        .arg("--allow-non-restored-state")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("state left out of savepoint"), "{err}");
    assert!(
        read("dropped.csv") == read("golden.csv"),
        "the window went on"
    );
}
