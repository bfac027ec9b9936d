//! `process`: keyed process functions, checked against plain-Rust simulations written
//! here, at parallelism 1 to 3, and under a budget small enough that the state spills.

mod common;

use std::path::Path;

use common::fraud::{fraud_reference, transactions};
use common::{build, read_csv, run_to, spill_runs, temp, weir_cli};

fn write_transactions(path: &Path, txns: &[(i64, String, i64)]) {
    let mut text = String::from("ts,account,amount\n");
    for (ts, account, cents) in txns {
        text.push_str(&format!(
            "{ts},{account},{}.{:02}\n",
            cents / 100,
            cents % 100
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// The alerts a run wrote, as `(account, ts, cents)`, sorted.
fn alerts_of(path: &Path) -> Vec<(String, i64, i64)> {
    let (header, rows) = read_csv(path);
    assert_eq!(header, ["account", "ts", "amount"]);
    let mut alerts: Vec<(String, i64, i64)> = rows
        .iter()
        .map(|r| {
            let amount: f64 = r[2].parse().unwrap();
            (
                r[0].clone(),
                r[1].parse().unwrap(),
                (amount * 100.0).round() as i64,
            )
        })
        .collect();
    alerts.sort();
    alerts
}

#[test]
fn fraud_detection_example_raises_the_hand_checked_alerts() {
    let bin = build(Path::new("dsl-examples/fraud_detection.pipe"));
    let dir = temp();
    let out = dir.path().join("alerts.csv");
    run_to(&bin, "alerts", &out, &[]);
    // bob: 0.50 then 725.00 a second later; alice: 0.99 then 600.00 45 s later; dave: 0.75
    // then 501.00 59 s later. Not carol (exactly a minute), erin (500.00 is not over
    // 500.00, and it clears the flag), frank (a minute).
    assert_eq!(
        alerts_of(&out),
        [
            ("alice".to_string(), 50_000, 60_000),
            ("bob".to_string(), 3_000, 72_500),
            ("dave".to_string(), 129_000, 50_100),
        ]
    );
}

/// Writes `txns` to `dir/name` and gives its `--input` argument and the simulation's
/// alerts (there are enough of them for the comparison to mean something).
fn fraud_input(
    dir: &Path,
    name: &str,
    txns: &[(i64, String, i64)],
) -> (String, Vec<(String, i64, i64)>) {
    let input = dir.join(name);
    write_transactions(&input, txns);
    let want = fraud_reference(txns);
    assert!(want.len() > 100, "the data raises alerts: {}", want.len());
    (format!("transactions={}", input.display()), want)
}

/// Runs the fraud detection job on `source` with `flags`, writing alerts to `out`.
fn run_fraud(bin: &Path, source: &str, out: &Path, flags: &[&str]) {
    run_to(bin, "alerts", out, &[&["--input", source], flags].concat());
}

#[test]
fn fraud_detection_matches_the_simulation_in_parallel_and_spilled() {
    let bin = build(Path::new("dsl-examples/fraud_detection.pipe"));
    let dir = temp();
    let (source, want) = fraud_input(dir.path(), "txns.csv", &transactions(30_000, 300, 400, 7));
    for parallelism in ["1", "2", "3"] {
        let out = dir.path().join(format!("alerts-{parallelism}.csv"));
        run_fraud(&bin, &source, &out, &["--parallelism", parallelism]);
        assert_eq!(alerts_of(&out), want, "at parallelism {parallelism}");
    }
    // Many accounts flagged at once, under a budget a few pages over the operator's least:
    // its keys and timers spill.
    let (source, want) = fraud_input(
        dir.path(),
        "many.csv",
        &transactions(100_000, 40_000, 3, 11),
    );
    let out = dir.path().join("alerts-spilled.csv");
    let stats = dir.path().join("stats.json");
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    run_fraud(
        &bin,
        &source,
        &out,
        &[
            "--memory",
            "600KB",
            "--spill-dir",
            spill.to_str().unwrap(),
            "--stats-json",
            stats.to_str().unwrap(),
        ],
    );
    assert_eq!(alerts_of(&out), want, "spilled");
    assert!(spill_runs(&stats) > 0, "the state spilled");
}

/// `weir check` on a process with one mistake; the error's message.
fn check_error(process: &str) -> String {
    let dir = temp();
    let file = dir.path().join("p.pipe");
    std::fs::write(
        &file,
        format!(
            "schema T {{ ts: timestamp, account: str, amount: f64 }}\n\
             source txns: T = csv(\"t.csv\") with event_time(ts), watermark(ascending);\n\
             txns |> key_by(account) |> process {{\n{process}\n}} |> sink stdout();\n"
        ),
    )
    .unwrap();
    let run = weir_cli(&["check", file.to_str().unwrap()]);
    assert_ne!(run.code, 0, "{process}");
    run.err
}

#[test]
fn process_mistakes_are_diagnostics_at_their_place() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "state n: i64 = 0;\non record { count = n + 1; emit { account }; }",
            "no state is called `count`",
            "p.pipe:5:13",
        ),
        (
            "on record { emit { account }; emit { amount }; }",
            "every emit of a process must make records of one shape",
            "p.pipe:4:31",
        ),
        (
            "on record { timer at amount; emit { account }; }",
            "`timer at` takes a timestamp, found f64",
            "p.pipe:4:22",
        ),
        (
            "state seen: bool = false;\non record { append(seen, amount); emit { account }; }",
            "`append` is for a list state; `seen` is a state of type bool",
            "p.pipe:5:20",
        ),
        (
            "on record { emit { a: abs(account) }; }",
            "`abs` takes an i64 or f64, not str",
            "p.pipe:4:27",
        ),
    ];
    for (process, message, place) in cases {
        let err = check_error(process);
        assert!(err.contains(message), "{process}: {err}");
        assert!(err.contains(place), "{process}: wanted {place} in {err}");
    }
}

#[test]
fn process_needs_a_keyed_stream() {
    let dir = temp();
    let file = dir.path().join("p.pipe");
    std::fs::write(
        &file,
        "schema T { ts: timestamp, account: str }\n\
         source txns: T = csv(\"t.csv\");\n\
         txns |> process { on record { emit { account }; } } |> sink stdout();\n",
    )
    .unwrap();
    let run = weir_cli(&["check", file.to_str().unwrap()]);
    assert_ne!(run.code, 0);
    assert!(run.err.contains("key_by"), "{}", run.err);
    assert!(run.err.contains("p.pipe:3:9"), "{}", run.err);
}

#[test]
fn a_long_else_if_chain_is_a_diagnostic_not_a_crash() {
    let chain = (0..30_000)
        .map(|i| format!("if amount > {i}.0 {{ n = {i}; }}"))
        .collect::<Vec<_>>()
        .join(" else ");
    let err = check_error(&format!(
        "state n: i64 = 0;\non record {{ {chain} emit {{ account, n }}; }}"
    ));
    assert!(
        err.contains("`else if` arms"),
        "{}",
        &err[..err.len().min(300)]
    );
}
