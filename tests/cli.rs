//! The `weir` command itself: `build -o`, the build cache, `run` passing its arguments and
//! exit code through, and standard input as a source.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;

fn weir(args: &[&str]) -> (u8, String) {
    let run = weir_cli(args);
    (run.code, run.err)
}

#[test]
fn build_writes_an_executable_and_a_rebuild_is_a_cache_hit() {
    let dir = temp();
    let bin = dir.path().join("bin/stats");
    let cache = cache();
    let cache = cache.to_str().unwrap();
    let pipe = "dsl-examples/bid_stats.pipe";
    let (code, err) = weir(&[
        "build",
        pipe,
        "-o",
        bin.to_str().unwrap(),
        "--cache-dir",
        cache,
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, err) = weir(&[
        "build",
        pipe,
        "-o",
        bin.to_str().unwrap(),
        "--cache-dir",
        cache,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("cache hit"), "{err}");

    let out = dir.path().join("stats.csv");
    run_ok(&bin, &["--output", &format!("bid_stats={}", out.display())]);
    let (header, rows) = read_csv(&out);
    assert_eq!(header[0], "auction");
    assert_eq!(rows.len(), 4, "four auctions in the example data");
}

#[test]
fn run_passes_arguments_and_the_exit_code_through() {
    let dir = temp();
    let cache = cache();
    let cache = cache.to_str().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "b a B\n").unwrap();
    let output = dir.path().join("out.csv");
    let (code, err) = weir(&[
        "run",
        "dsl-examples/wordcount.pipe",
        "--cache-dir",
        cache,
        "--input",
        &format!("lines={}", input.display()),
        "--output",
        &format!("stdout={}", output.display()),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "word,count\nb,2\na,1\n"
    );

    let (code, _) = weir(&[
        "run",
        "dsl-examples/wordcount.pipe",
        "--cache-dir",
        cache,
        "--memory",
        "64KB",
    ]);
    assert_eq!(code, 2, "a memory below the minimum is a usage error");

    // The checkpoint flags reach the job: its report counts its checkpoints.
    let (lines, stdout) = (
        format!("lines={}", input.display()),
        format!("stdout={}", output.display()),
    );
    let wordcount_with = |flags: &[&str]| {
        let mut args = vec![
            "run",
            "dsl-examples/wordcount.pipe",
            "--cache-dir",
            cache,
            "--input",
            &lines,
            "--output",
            &stdout,
        ];
        args.extend_from_slice(flags);
        weir(&args)
    };
    let stats = dir.path().join("stats.json");
    let (code, err) = wordcount_with(&[
        "--checkpoint-dir",
        dir.path().join("ck").to_str().unwrap(),
        "--checkpoint-interval",
        "10ms",
        "--stats-json",
        stats.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    assert_eq!(report["checkpoints"]["failed"], 0, "{report}");

    // The savepoint flags reach the job too (one that is not there fails the job, which
    // would run without it), and need a checkpoint directory.
    let missing = dir.path().join("no-savepoint");
    let (code, err) = wordcount_with(&[
        "--checkpoint-dir",
        dir.path().join("ck2").to_str().unwrap(),
        "--from-savepoint",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    let (code, err) = weir(&[
        "run",
        "dsl-examples/wordcount.pipe",
        "--cache-dir",
        cache,
        "--savepoint-dir",
        "sp",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--checkpoint-dir"), "{err}");
}

#[test]
fn a_pipeline_that_does_not_compile_is_not_built() {
    let dir = temp();
    let bin = dir.path().join("never");
    let (code, err) = weir(&[
        "build",
        "tests/fixtures/errors/unknown_field.pipe",
        "-o",
        bin.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown field `prise`"), "{err}");
    assert!(!bin.exists());
}

#[test]
fn standard_input_is_a_source() {
    let bin = build(std::path::Path::new("dsl-examples/wordcount.pipe"));
    let mut child = Command::new(&bin)
        .args(["--input", "lines=-"])
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"x y\nY\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "word,count\nx,1\ny,2\n"
    );
}

#[test]
fn cache_clean_removes_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(cache.join("jobs/x-01/bin")).unwrap();
    std::fs::write(cache.join("jobs/x-01/bin/job"), [0u8; 2048]).unwrap();
    let (code, err) = weir(&["cache", "clean", "--cache-dir", cache.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("removed") && err.contains("2 KiB"), "{err}");
    // Only the lock file stays: a build waiting on it holds it open.
    let left: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [".lock"]);
    let (code, err) = weir(&["cache", "clean", "--cache-dir", cache.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(err.contains("no cache at"), "{err}");
}

/// `-o` naming the pipeline itself, or a file the job reads, would replace it with the
/// executable: refused as `run` refuses an output on an input, and nothing is written.
#[test]
fn build_refuses_to_write_over_the_pipeline_or_its_input() {
    let cache = cache();
    let cache = cache.to_str().unwrap();
    let pipe = "dsl-examples/bid_stats.pipe";
    let input = "dsl-examples/data/bids.csv";
    let before = (std::fs::read(pipe).unwrap(), std::fs::read(input).unwrap());
    for (target, says) in [
        (pipe, "is the pipeline"),
        (
            "./dsl-examples/../dsl-examples/bid_stats.pipe",
            "is the pipeline",
        ),
        (input, "which source `bids` uses"),
    ] {
        let (code, err) = weir(&["build", pipe, "-o", target, "--cache-dir", cache]);
        assert_eq!(code, 2, "{target}: {err}");
        assert!(
            err.contains(says) && err.contains("nothing was written"),
            "{err}"
        );
    }
    assert_eq!(
        (std::fs::read(pipe).unwrap(), std::fs::read(input).unwrap()),
        before
    );
}
