//! WordCount: the weir-generated job (from `.pipe`) and the inline `stream!` job
//! (`examples/inline_wordcount.rs`) against a hand-written Rust program on the same
//! deterministic corpus, single-threaded. Prints each one's best wall time and peak RSS,
//! the ratio, and weir's build times (cold cache, warm cache, cache hit).
//!
//!   cargo bench --bench wordcount            # ~100 MB corpus
//!   WEIR_BENCH_MB=20 cargo bench --bench wordcount
//!
//! Timings are best-of-N on a shared machine: compare the ratio, not absolute seconds.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::corpus::{read_counts, WORDS};
use common::{build_example, build_weir, data_dir, race, root};

const RUNS: usize = 5;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benches; there is nothing to list.
    }
    let megabytes: u64 = std::env::var("WEIR_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let input = WORDS.file(megabytes);
    let size = std::fs::metadata(&input).unwrap().len();
    println!(
        "corpus: {} ({:.1} MB, vocabulary {}, Zipf s=1)",
        input.display(),
        size as f64 / 1e6,
        WORDS.vocabulary
    );

    // Build times: an empty cache (runtime and dependencies compile too), a warm cache (a new
    // job, the runtime already built), and a cache hit.
    let cold_cache = root().join("target/bench-data/cold-cache");
    let _ = std::fs::remove_dir_all(&cold_cache);
    let pipe = root().join("dsl-examples/wordcount.pipe");
    let (_, cold) = build_weir(&pipe, &cold_cache);
    let variant = root().join("target/bench-data/wordcount_variant.pipe");
    let stamp = format!("// build {:?}\n", Instant::now());
    std::fs::write(
        &variant,
        stamp
            + &std::fs::read_to_string(&pipe)
                .unwrap()
                .replace("stdout()", "csv(\"variant.csv\")"),
    )
    .unwrap();
    let (_, warm) = build_weir(&variant, &cold_cache);
    let (weir_bin, hit) = build_weir(&variant, &cold_cache);
    let _ = std::fs::remove_dir_all(&cold_cache);
    let cache = root().join("target/weir-cache");
    let (weir_bin_main, _) = build_weir(&pipe, &cache);
    drop(weir_bin);

    let hand_bin = build_example("handwritten_wordcount");
    let inline_bin = build_example("inline_wordcount");

    let out_dir = data_dir();
    let weir_out = out_dir.join("weir-counts.csv");
    let hand_out = out_dir.join("hand-counts.csv");
    let weir_cmd = |out: &Path| {
        let mut c = Command::new(&weir_bin_main);
        c.arg("--input")
            .arg(format!("lines={}", input.display()))
            .arg("--output")
            .arg(format!("stdout={}", out.display()));
        c
    };
    let hand_cmd = |out: &Path| {
        let mut c = Command::new(&hand_bin);
        c.arg(&input).arg(out);
        c
    };

    let inline_out = out_dir.join("inline-counts.csv");
    let inline_cmd = |out: &Path| {
        let mut c = Command::new(&inline_bin);
        c.arg(&input).arg(out);
        c
    };

    let [(weir_best, weir_rss), (hand_best, hand_rss)] =
        race(RUNS, || weir_cmd(&weir_out), || hand_cmd(&hand_out));
    let [(inline_best, inline_rss), (hand_best_2, _)] =
        race(RUNS, || inline_cmd(&inline_out), || hand_cmd(&hand_out));
    let (w, h) = (read_counts(&weir_out), read_counts(&hand_out));
    assert_eq!(w, h, "weir and the hand-written program disagree");
    assert_eq!(
        read_counts(&inline_out),
        h,
        "stream! and the hand-written program disagree"
    );

    let mb = size as f64 / 1e6;
    println!("distinct words: {}", w.len());
    println!(
        "weir (generated)  {:>8.3} s  {:>7.1} MB/s  peak RSS {:>6.1} MiB",
        weir_best.as_secs_f64(),
        mb / weir_best.as_secs_f64(),
        weir_rss as f64 / 1048576.0
    );
    println!(
        "hand-written Rust {:>8.3} s  {:>7.1} MB/s  peak RSS {:>6.1} MiB",
        hand_best.as_secs_f64(),
        mb / hand_best.as_secs_f64(),
        hand_rss as f64 / 1048576.0
    );
    println!(
        "stream! (inline)  {:>8.3} s  {:>7.1} MB/s  peak RSS {:>6.1} MiB",
        inline_best.as_secs_f64(),
        mb / inline_best.as_secs_f64(),
        inline_rss as f64 / 1048576.0
    );
    println!(
        "ratio weir/hand-written: {:.3} (target <= 1.15)",
        weir_best.as_secs_f64() / hand_best.as_secs_f64()
    );
    println!(
        "ratio stream!/hand-written: {:.3} (hand-written best of both rounds)",
        inline_best.as_secs_f64() / hand_best.min(hand_best_2).as_secs_f64()
    );
    println!(
        "weir build: cold {:.1} s, warm {:.1} s, cache hit {:.3} s",
        cold.as_secs_f64(),
        warm.as_secs_f64(),
        hit.as_secs_f64()
    );
}
