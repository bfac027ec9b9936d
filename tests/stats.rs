//! The memory monitor's report: `--stats` and `--stats-json` count each stateful
//! operator's records and memory, and advise on the budget.

mod common;

use std::collections::HashSet;
use std::fmt::Write as _;

use common::{build, run, temp};

/// Words of a generated text: `n` lines of a few words from a vocabulary of `vocabulary`.
fn text(lines: usize, vocabulary: usize) -> (String, Vec<String>) {
    let mut text = String::new();
    let mut words = Vec::new();
    for i in 0..lines {
        let line: Vec<String> = (0..(i % 4 + 1))
            .map(|j| format!("w{}", (i * 7 + j * 13) % vocabulary))
            .collect();
        writeln!(text, "{}", line.join(" ")).unwrap();
        words.extend(line);
    }
    (text, words)
}

#[test]
fn stats_json_counts_each_operators_records_and_memory() {
    let dir = temp();
    let (input, words) = text(5_000, 700);
    let input_path = dir.path().join("words.txt");
    std::fs::write(&input_path, input).unwrap();
    let pipe = dir.path().join("counted.pipe");
    std::fs::write(
        &pipe,
        "source lines = text(\"words.txt\");\n\
         lines |> flat_map { word: split_whitespace(line) } |> key_by(word) |> aggregate { n: count() } |> sink csv(\"counts.csv\");\n",
    )
    .unwrap();
    let binary = build(&pipe);
    let json = dir.path().join("stats.json");
    let out = run(
        &binary,
        &[
            "--input",
            &format!("lines={}", input_path.display()),
            "--output",
            &format!("counts={}", dir.path().join("counts.csv").display()),
            "--memory",
            "64MB",
            "--stats",
            "--stats-json",
            json.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");

    let distinct = words.iter().collect::<HashSet<_>>().len();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["job"], "counted");
    assert_eq!(report["succeeded"], true);
    assert_eq!(report["memory_bytes"], 64u64 << 20);
    assert!(report["peak_rss_bytes"].as_u64().is_some_and(|b| b > 0));
    let ops = report["operators"].as_array().unwrap();
    assert_eq!(ops.len(), 1, "{report}");
    let aggregate = &ops[0];
    assert_eq!(aggregate["operator"], "aggregate");
    assert!(
        aggregate["location"]
            .as_str()
            .unwrap()
            .contains("counted.pipe:2:"),
        "{aggregate}"
    );
    assert_eq!(aggregate["records_in"], words.len() as u64);
    assert_eq!(aggregate["records_out"], distinct as u64);
    let (peak, budget) = (
        aggregate["peak_bytes"].as_u64().unwrap(),
        aggregate["budget_bytes"].as_u64().unwrap(),
    );
    assert!(peak > 0 && peak <= budget, "{aggregate}");
    assert_eq!(report["managed_peak_bytes"].as_u64(), Some(peak));

    // The same on stderr as a table; a few hundred keys leave 64 MB mostly idle.
    assert!(stderr.contains("aggregate at "), "{stderr}");
    assert!(stderr.contains(&format!("{:>12}", words.len())), "{stderr}");
    let advice = report["advice"].as_array().unwrap();
    assert_eq!(advice.len(), 1, "{report}");
    assert!(stderr.contains(advice[0].as_str().unwrap()), "{stderr}");
}

/// A count per key of a CSV column `k`, to `o.csv`.
const COUNT_PER_KEY: &str = "schema R { k: u64 }\n\
source r: R = csv(\"r.csv\");\n\
r |> key_by(k) |> aggregate { n: count() } |> sink csv(\"o.csv\");\n";

#[test]
fn a_failed_run_still_writes_its_stats() {
    let dir = temp();
    let pipe = dir.path().join("failing.pipe");
    std::fs::write(&pipe, COUNT_PER_KEY).unwrap();
    std::fs::write(dir.path().join("r.csv"), "k\n1\n2\nnot a number\n").unwrap();
    let binary = build(&pipe);
    let json = dir.path().join("stats.json");
    let out = run(
        &binary,
        &[
            "--input",
            &format!("r={}", dir.path().join("r.csv").display()),
            "--output",
            &format!("o={}", dir.path().join("o.csv").display()),
            "--stats-json",
            json.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["succeeded"], false);
    assert_eq!(report["advice"].as_array().map(Vec::len), Some(0));
}

#[test]
fn a_stats_file_that_is_the_jobs_input_is_refused_before_anything_is_written() {
    let dir = temp();
    let pipe = dir.path().join("guarded.pipe");
    std::fs::write(&pipe, COUNT_PER_KEY).unwrap();
    let input = dir.path().join("r.csv");
    std::fs::write(&input, "k\n1\n2\n").unwrap();
    let binary = build(&pipe);
    let out = run(
        &binary,
        &[
            "--input",
            &format!("r={}", input.display()),
            "--output",
            &format!("o={}", dir.path().join("o.csv").display()),
            "--stats-json",
            input.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--stats-json report"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&input).unwrap(), "k\n1\n2\n");
}
