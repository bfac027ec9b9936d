//! Joins: two streams of events (`ts,key,value`, 100,000 keys, up to 2 s out of order),
//! joined on the key in tumbling 10 s windows and in an interval of -5 s to +5 s: the
//! weir-generated job against a hand-written Rust program (examples/handwritten_joins.rs)
//! on the same events. The outputs must be the same rows.
//!
//!   cargo bench --bench joins                          # 5M events per stream
//!   WEIR_BENCH_EVENTS=1000000 cargo bench --bench joins

mod common;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{build_example, build_weir, data_dir, race, root};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const KEYS: u64 = 100_000;
const DISORDER: i64 = 2_000;
const RUNS: usize = 3;

/// `count` events, one per millisecond of stream progress, each up to 2 s behind it.
fn events(name: &str, count: u64, seed: u64) -> PathBuf {
    let path = data_dir().join(format!("join-{name}-{count}.csv"));
    if path.exists() {
        return path;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let tmp = path.with_extension("partial");
    let mut out = BufWriter::new(std::fs::File::create(&tmp).unwrap());
    out.write_all(b"ts,key,value\n").unwrap();
    let mut buf = itoa::Buffer::new();
    for i in 0..count {
        let ts = (i as i64 - rng.random_range(0..=DISORDER)).max(0);
        let key = rng.random_range(0..KEYS);
        let value: i64 = rng.random_range(-1_000..1_000);
        out.write_all(buf.format(ts).as_bytes()).unwrap();
        out.write_all(b",").unwrap();
        out.write_all(buf.format(key).as_bytes()).unwrap();
        out.write_all(b",").unwrap();
        out.write_all(buf.format(value).as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    path
}

fn sorted_rows(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut rows: Vec<String> = text.lines().map(String::from).collect();
    rows[1..].sort_unstable();
    rows
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let count: u64 = std::env::var("WEIR_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000_000);
    let (left, right) = (
        events("left", count, 0x4c45_4654),
        events("right", count, 0x5249_4748),
    );
    println!(
        "events: {} and {} ({count} each, {KEYS} keys, up to {DISORDER} ms of disorder)",
        left.display(),
        right.display()
    );
    let hand_bin = build_example("handwritten_joins");
    let dir = data_dir();
    for (kind, step) in [
        ("window", "window(tumbling 10s) |> join(r)"),
        ("interval", "interval_join(r, between -5s and 5s)"),
    ] {
        let pipe = dir.join(format!("join_bench_{kind}.pipe"));
        std::fs::write(
            &pipe,
            format!(
                "schema Event {{ ts: timestamp, key: u64, value: i64 }}\n\
                 source left: Event = csv(\"left.csv\") with event_time(ts), watermark(bounded 2s);\n\
                 source right: Event = csv(\"right.csv\") with event_time(ts), watermark(bounded 2s);\n\
                 let r = right |> key_by(key);\n\
                 left |> key_by(key) |> {step} |> sink pairs = csv(\"pairs.csv\");\n"
            ),
        )
        .unwrap();
        let (weir_bin, build) = build_weir(&pipe, &root().join("target/weir-cache"));
        println!("{kind} join: weir build {:.1} s", build.as_secs_f64());
        let (weir_out, hand_out) = (
            dir.join(format!("weir-join-{kind}.csv")),
            dir.join(format!("hand-join-{kind}.csv")),
        );
        let weir_cmd = || {
            let mut c = Command::new(&weir_bin);
            c.arg("--input")
                .arg(format!("left={}", left.display()))
                .arg("--input")
                .arg(format!("right={}", right.display()))
                .arg("--output")
                .arg(format!("pairs={}", weir_out.display()));
            c
        };
        let hand_cmd = || {
            let mut c = Command::new(&hand_bin);
            c.arg(kind).arg(&left).arg(&right).arg(&hand_out);
            c
        };
        let [(weir_t, weir_rss), (hand_t, hand_rss)] = race(RUNS, weir_cmd, hand_cmd);
        let (w, h) = (sorted_rows(&weir_out), sorted_rows(&hand_out));
        assert_eq!(
            w.len(),
            h.len(),
            "{kind}: both emit the same number of pairs"
        );
        assert!(w == h, "{kind}: weir and the hand-written program disagree");
        println!("{kind} join: {} pairs", w.len() - 1);
        println!(
            "weir (generated)  {:>8.3} s  peak RSS {:>7.1} MiB",
            weir_t.as_secs_f64(),
            weir_rss as f64 / 1048576.0
        );
        println!(
            "hand-written Rust {:>8.3} s  peak RSS {:>7.1} MiB",
            hand_t.as_secs_f64(),
            hand_rss as f64 / 1048576.0
        );
        println!(
            "ratio weir/hand-written: {:.3} (target <= 1.3)",
            weir_t.as_secs_f64() / hand_t.as_secs_f64()
        );
    }
}
