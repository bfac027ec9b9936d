//! Spilling: WordCount over about 1 GB of text with millions of distinct words, under
//! `--memory 16MB` (the aggregate spills) and `--memory 2GB` (it does not), with the
//! hand-written Rust program for reference. Prints wall time, peak RSS and bytes spilled
//! for each, and checks the two weir outputs are byte-identical and agree with the
//! hand-written counts.
//!
//!   cargo bench --bench spill                      # ~1 GB corpus (generated once)
//!   WEIR_BENCH_SPILL_MB=100 cargo bench --bench spill
//!
//! Targets (issue 10): the spilling run's peak RSS at most its budget + 40 MB, and its
//! time at most 3x the in-memory run's.

mod common;

use std::path::Path;
use std::process::Command;

use common::corpus::{read_counts, Corpus};
use common::{build_example, build_weir, data_dir, measure, root};

/// Words in the vocabulary: with Zipf s = 1 over 170M drawn words, nearly all of them
/// appear, so the aggregate holds well over 2 million keys.
const VOCABULARY: usize = 3_000_000;

/// Words of 3 to 12 letters drawn Zipf-like (s = 1.0) from the vocabulary.
const WORDS: Corpus = Corpus {
    name: "spill-corpus",
    vocabulary: VOCABULARY,
    letters: 3..=12,
    capitalised: None,
    seed: 0x5350_494c,
};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let megabytes: u64 = std::env::var("WEIR_BENCH_SPILL_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let input = WORDS.file(megabytes);
    let size = std::fs::metadata(&input).unwrap().len();
    println!(
        "corpus: {} ({:.1} MB, vocabulary {VOCABULARY}, Zipf s=1)",
        input.display(),
        size as f64 / 1e6
    );
    // The job is WordCount as in dsl-examples, counting lowercased words as the hand-written
    // program does.
    let pipe = data_dir().join("wordcount_spill.pipe");
    std::fs::write(
        &pipe,
        "source lines = text(\"in.txt\");\n\
         lines |> flat_map { word: split_whitespace(line) } |> map { word: lower(word) }\n  \
         |> key_by(word)\n  \
         |> aggregate { count: count() } |> sink stdout();\n",
    )
    .unwrap();
    let (weir_bin, _) = build_weir(&pipe, &root().join("target/weir-cache"));
    let hand_bin = build_example("handwritten_wordcount");
    let dir = data_dir();
    let spill_dir = dir.join("spill");
    std::fs::create_dir_all(&spill_dir).unwrap();

    let weir = |memory: &str, out: &Path, stats: &Path| {
        let mut c = Command::new(&weir_bin);
        c.arg("--input")
            .arg(format!("lines={}", input.display()))
            .arg("--output")
            .arg(format!("stdout={}", out.display()))
            .arg("--memory")
            .arg(memory)
            .arg("--spill-dir")
            .arg(&spill_dir)
            .arg("--stats-json")
            .arg(stats);
        c
    };
    let runs = [
        ("weir --memory 16MB", "16MB", 16u64 << 20),
        ("weir --memory 2GB", "2GB", 2u64 << 30),
    ];
    let mut results = Vec::new();
    for (name, memory, budget) in runs {
        let out = dir.join(format!("spill-{memory}.csv"));
        let stats = dir.join(format!("spill-{memory}.json"));
        let (time, rss) = measure(&mut weir(memory, &out, &stats));
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
        let spilled = report["operators"][0]["spilled_bytes"].as_u64().unwrap();
        // The job's own high-water mark (VmHWM), which starts at exec.
        let rss = report["peak_rss_bytes"].as_u64().unwrap_or(rss);
        let distinct = report["operators"][0]["records_out"].as_u64().unwrap();
        println!(
            "{name:<20} {:>8.2} s  peak RSS {:>7.1} MiB  spilled {:>8.1} MiB  ({distinct} distinct words)",
            time.as_secs_f64(),
            rss as f64 / 1048576.0,
            spilled as f64 / 1048576.0
        );
        results.push((time, rss, budget, out));
    }
    let hand_out = dir.join("spill-hand.csv");
    let (hand_time, hand_rss) = measure(Command::new(&hand_bin).arg(&input).arg(&hand_out));
    println!(
        "{:<20} {:>8.2} s  peak RSS {:>7.1} MiB",
        "hand-written Rust",
        hand_time.as_secs_f64(),
        hand_rss as f64 / 1048576.0
    );

    let (small, large) = (&results[0], &results[1]);
    assert!(
        std::fs::read(&small.3).unwrap() == std::fs::read(&large.3).unwrap(),
        "the spilled run's output is not byte-identical to the in-memory run's"
    );
    assert_eq!(
        read_counts(&large.3),
        read_counts(&hand_out),
        "weir and the hand-written program disagree"
    );
    println!(
        "spilling / in-memory time: {:.2} (target <= 3)",
        small.0.as_secs_f64() / large.0.as_secs_f64()
    );
    println!(
        "spilling run's peak RSS over its budget: {:.1} MiB (target <= 40)",
        (small.1 as f64 - small.2 as f64) / 1048576.0
    );
    assert_eq!(
        std::fs::read_dir(&spill_dir).unwrap().count(),
        0,
        "spill files outlived the runs"
    );
}
