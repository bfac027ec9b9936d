//! Bad input and failure: bad records under each policy, memory budgets, run-time expression
//! errors. Each must fail loudly, say where, and replace no earlier result.

mod common;

use std::path::Path;

use common::*;

const BAD_CSV: &str = "id,price\n1,10\n2,oops\n3,30\n4\n5,50\n";

/// Writes a pipeline reading `data` with `policy` into `dir`, returning its path.
fn policy_pipeline(dir: &Path, data: &Path, policy: &str) -> std::path::PathBuf {
    let text = format!(
        "schema Row {{ id: u64, price: u64 }}\n\
         source rows: Row = csv({data:?}) {policy};\n\
         rows |> filter(price > 0) |> sink csv(\"ignored.csv\");\n",
        data = data.display().to_string()
    );
    let path = dir.join("policy.pipe");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the policy pipeline over `data` with a dead-letter file, expecting success: the
/// output file and the dead-letter file.
fn run_with_dead_letters(dir: &Path, data: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let dead = dir.join("dead.jsonl");
    let policy = format!(
        "with on_error(dead_letter({:?}))",
        dead.display().to_string()
    );
    let bin = build(&policy_pipeline(dir, data, &policy));
    let out_file = dir.join("out.csv");
    let out = run(
        &bin,
        &["--output", &format!("ignored={}", out_file.display())],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out_file, dead)
}

/// The dead letters in `path`, one JSON value per line.
fn dead_letters(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn written_ids(path: &Path) -> Vec<String> {
    read_csv(path).1.into_iter().map(|r| r[0].clone()).collect()
}

#[test]
fn a_bad_record_fails_the_job_by_default_and_says_where() {
    let dir = temp();
    let data = dir.path().join("bad.csv");
    std::fs::write(&data, BAD_CSV).unwrap();
    let bin = build(&policy_pipeline(dir.path(), &data, ""));
    let out_file = dir.path().join("out.csv");
    let out = run(
        &bin,
        &["--output", &format!("ignored={}", out_file.display())],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:3", data.display())), "{err}");
    assert!(err.contains("field `price`"), "{err}");
    assert!(err.contains("2,oops"), "{err}");
    // A failed job replaces no result (tests/outputs.rs: the previous one stays).
    assert!(!out_file.exists());
}

#[test]
fn skip_goes_on_and_counts() {
    let dir = temp();
    let data = dir.path().join("bad.csv");
    std::fs::write(&data, BAD_CSV).unwrap();
    let bin = build(&policy_pipeline(dir.path(), &data, "with on_error(skip)"));
    let out_file = dir.path().join("out.csv");
    let out = run(
        &bin,
        &["--output", &format!("ignored={}", out_file.display())],
    );
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("skipped 2 bad record(s)"), "{err}");
    assert_eq!(written_ids(&out_file), ["1", "3", "5"]);
}

#[test]
fn dead_letter_keeps_every_bad_record() {
    let dir = temp();
    let data = dir.path().join("bad.csv");
    std::fs::write(&data, BAD_CSV).unwrap();
    let (out_file, dead) = run_with_dead_letters(dir.path(), &data);
    assert_eq!(written_ids(&out_file), ["1", "3", "5"]);
    let letters = dead_letters(&dead);
    let lines: Vec<u64> = letters
        .iter()
        .map(|v| v["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 5]);
    assert_eq!(letters[0]["record"], "2,oops");
    assert_eq!(letters[1]["record"], "4");
}

/// A keyed sum of floats: its partial sums would not merge exactly, so it cannot spill.
const FLOAT_SUM: &str = "schema Row { key: str, x: f64 }\n\
source rows: Row = csv(\"rows.csv\");\n\
rows |> key_by(key) |> aggregate { total: sum(x) } |> sink stdout();\n";

#[test]
fn an_aggregate_that_cannot_spill_names_itself_and_why_past_its_budget() {
    let dir = temp();
    let pipe = dir.path().join("floats.pipe");
    std::fs::write(&pipe, FLOAT_SUM).unwrap();
    let bin = build(&pipe);
    let input = dir.path().join("rows.csv");
    let rows: String = (0..200_000).map(|i| format!("k{i},1.5\n")).collect();
    std::fs::write(&input, format!("key,x\n{rows}")).unwrap();
    let rows_arg = format!("rows={}", input.display());

    let out = run(
        &bin,
        &[
            "--input",
            &rows_arg,
            "--memory",
            "1MB",
            "--output",
            "stdout=/dev/null",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let at = format!(
        "operator `aggregate` at {}:3:24 ran out of its memory budget",
        pipe.display()
    );
    assert!(err.contains(&at), "{err}");
    assert!(
        err.contains("cannot spill to disk: partial sums of floating-point values"),
        "{err}"
    );
    // 1 MB is all of --memory: the suggestion is more than what failed.
    assert!(err.contains("(its share of --memory 1 MiB)"), "{err}");
    assert!(err.contains("weir cannot say what would suffice"), "{err}");
    assert!(err.contains("such as --memory 2MiB"), "{err}");

    let out = run(&bin, &["--input", &rows_arg, "--memory", "64KB"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("too small"), "{err}");
    assert!(
        err.contains(&format!("aggregate at {}:3:24 needs", pipe.display())),
        "{err}"
    );

    // With room enough, the same input sums every key once.
    let stdout = run_ok(&bin, &["--input", &rows_arg, "--memory", "64MB"]);
    assert_eq!(stdout.lines().count(), 200_001);
    assert!(stdout.lines().skip(1).all(|l| l.ends_with(",1.5")));
}

#[test]
fn division_by_zero_names_the_expression() {
    let dir = temp();
    let data = dir.path().join("rows.csv");
    std::fs::write(&data, "id,price\n1,10\n2,0\n").unwrap();
    let text = format!(
        "schema Row {{ id: u64, price: u64 }}\nsource rows: Row = csv({:?});\nrows |> map {{ id, per: 100 / price }} |> sink stdout();\n",
        data.display().to_string()
    );
    let pipe = dir.path().join("div.pipe");
    std::fs::write(&pipe, text).unwrap();
    let out = run(&build(&pipe), &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("div.pipe:3:24: division by zero"), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "id,per\n1,10\n");
}

#[test]
fn unknown_arguments_are_refused_with_usage() {
    let bin = build(Path::new("dsl-examples/wordcount.pipe"));
    let out = run(&bin, &["--input", "nope=x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no source named `nope`"));
}

#[test]
fn help_prints_usage_with_the_jobs_names_and_succeeds() {
    let bin = build(Path::new("dsl-examples/late_bids.pipe"));
    for flag in ["--help", "-h"] {
        let out = run(&bin, &[flag]);
        assert_eq!(out.status.code(), Some(0), "{flag}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("usage: JOB [--memory SIZE]"), "{text}");
        assert!(text.contains("sources (--input): bids"), "{text}");
        assert!(
            text.contains("sinks (--output): bids_per_5s, late_bids"),
            "{text}"
        );
    }
}

#[test]
fn extra_fields_are_bad_records_and_dead_letters_replay_as_the_rows_they_were() {
    let dir = temp();
    let data = dir.path().join("rows.csv");
    std::fs::write(&data, "id,price\n1,10\n2,\"x,y\"\n3,30,999\n4,40\n").unwrap();
    let (out_file, dead) = run_with_dead_letters(dir.path(), &data);
    assert_eq!(written_ids(&out_file), ["1", "4"]);
    let letters = dead_letters(&dead);
    assert_eq!(letters.len(), 2);
    assert!(letters[1]["error"]
        .as_str()
        .unwrap()
        .contains("extra fields"));
    // The records, read back as CSV, are the rows as written: quoted fields stay whole.
    let replay: String = letters
        .iter()
        .map(|v| format!("{}\n", v["record"].as_str().unwrap()))
        .collect();
    let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(replay.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(rows, [vec!["2", "x,y"], vec!["3", "30", "999"]]);
}

#[test]
fn a_header_naming_a_column_twice_is_an_error_no_policy_can_skip() {
    let dir = temp();
    let data = dir.path().join("rows.csv");
    std::fs::write(&data, "id,price,price\n1,10,11\n").unwrap();
    let bin = build(&policy_pipeline(dir.path(), &data, "with on_error(skip)"));
    let out = run(&bin, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("names column `price` twice"), "{err}");
    assert!(!err.contains("on_error(skip)"), "no hint to skip: {err}");
}

#[test]
fn jsonl_skips_a_byte_order_mark_and_names_the_field_of_a_bad_record() {
    let dir = temp();
    let data = dir.path().join("rows.jsonl");
    std::fs::write(
        &data,
        "\u{feff}{\"id\": 1, \"price\": 10}\n{\"id\": 2, \"price\": \"x\"}\n{\"id\": 3, \"price\": 30}\n",
    )
    .unwrap();
    let pipe = dir.path().join("j.pipe");
    std::fs::write(
        &pipe,
        format!(
            "schema Row {{ id: u64, price: u64 }}\n\
             source rows: Row = jsonl({:?}) with on_error(skip);\n\
             rows |> sink csv(\"ignored.csv\");\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let bin = build(&pipe);
    let out_file = dir.path().join("out.csv");
    let out = run(
        &bin,
        &["--output", &format!("ignored={}", out_file.display())],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(written_ids(&out_file), ["1", "3"]);
    assert!(err.contains("skipped 1 bad record(s)"), "{err}");
    assert!(err.contains(":2: field `price`"), "{err}");
}

#[test]
fn a_key_longer_than_a_page_names_the_operator_and_the_record() {
    let dir = temp();
    let data = dir.path().join("keys.txt");
    let long = "x".repeat(40_000);
    std::fs::write(&data, format!("short\n{long}\n")).unwrap();
    let pipe = dir.path().join("keys.pipe");
    std::fs::write(
        &pipe,
        format!(
            "source lines = text({:?});\nlines |> key_by(line) |> aggregate {{ n: count() }} |> sink stdout();\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let out = run(&build(&pipe), &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("operator `aggregate` at"), "{err}");
    assert!(err.contains("keys.pipe:2:"), "{err}");
    assert!(err.contains("a key of 40008 bytes is longer than"), "{err}");
    assert!(
        err.contains(&format!("the record is at {}:2", data.display())),
        "{err}"
    );
}

/// Braces in a pipeline's path end up in its generated report lines: they must stay text,
/// not become format placeholders (which would fail to build, or count the wrong thing).
#[test]
fn braces_in_the_pipelines_path_stay_text_in_its_report() {
    let dir = temp();
    let odd = dir.path().join("we{}ird");
    std::fs::create_dir_all(&odd).unwrap();
    let (pipe, input) = (odd.join("w.pipe"), odd.join("in.csv"));
    std::fs::write(&input, "k,ts\n1,1000\n1,5000\n1,100\n2,7000\n").unwrap();
    std::fs::write(
        &pipe,
        format!(
            "schema E {{ k: u64, ts: timestamp }}\n\
             source e: E = csv(\"{}\") with event_time(ts), watermark(bounded 0s);\n\
             e |> key_by(k) |> window(tumbling 1s) |> aggregate {{ n: count() }} |> sink out = csv(\"{}\");\n",
            input.display(),
            odd.join("out.csv").display()
        ),
    )
    .unwrap();
    let out = run(&build(&pipe), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let said = format!(
        "window at {}:3:19: dropped 1 late record(s)",
        pipe.display()
    );
    assert!(stderr.contains(&said), "{stderr}");
}
