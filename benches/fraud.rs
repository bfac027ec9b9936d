//! Fraud detection: `dsl-examples/fraud_detection.pipe` (a keyed `process` with per-account
//! state and an event-time timer) against a hand-written Rust program with the same rule,
//! on the same transactions, run as a user would (`--input`, `--output`, nothing else).
//!
//!   cargo bench --bench fraud                       # 10M transactions
//!   WEIR_BENCH_TXNS=1000000 cargo bench --bench fraud
//!
//! Transactions: ascending time (0 to 2 ms apart), accounts uniform over 100,000; one in
//! twenty is under 1.00 and one in twenty over 500.00, so an account is flagged often and
//! about one transaction in 400 raises an alert. From a fixed seed.

mod common;

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::Command;

use common::{build_example, build_weir, data_dir, race, root, sorted_rows};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ACCOUNTS: u32 = 100_000;
const RUNS: usize = 3;

fn transactions(count: u64) -> PathBuf {
    let path = data_dir().join(format!("transactions-{count}.csv"));
    if path.exists() {
        return path;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(0x0046_5241_5544);
    let tmp = path.with_extension("partial");
    let mut out = BufWriter::new(std::fs::File::create(&tmp).unwrap());
    out.write_all(b"ts,account,amount\n").unwrap();
    let mut buf = itoa::Buffer::new();
    let mut ts: i64 = 1_767_225_600_000;
    for _ in 0..count {
        ts += rng.random_range(0..=2);
        let account = rng.random_range(0..ACCOUNTS);
        let cents: u64 = match rng.random_range(0..20) {
            0 => rng.random_range(1..100),
            1 => rng.random_range(50_001..200_000),
            _ => rng.random_range(100..50_000),
        };
        out.write_all(buf.format(ts).as_bytes()).unwrap();
        out.write_all(b",acct-").unwrap();
        out.write_all(buf.format(account).as_bytes()).unwrap();
        out.write_all(b",").unwrap();
        out.write_all(buf.format(cents / 100).as_bytes()).unwrap();
        let frac = cents % 100;
        out.write_all(&[
            b'.',
            b'0' + (frac / 10) as u8,
            b'0' + (frac % 10) as u8,
            b'\n',
        ])
        .unwrap();
    }
    out.flush().unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    path
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let count: u64 = std::env::var("WEIR_BENCH_TXNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let input = transactions(count);
    let size = std::fs::metadata(&input).unwrap().len();
    println!(
        "transactions: {} ({count}, {:.1} MB, {ACCOUNTS} accounts)",
        input.display(),
        size as f64 / 1e6
    );
    let pipe = root().join("dsl-examples/fraud_detection.pipe");
    let (weir_bin, build) = build_weir(&pipe, &root().join("target/weir-cache"));
    println!("weir build: {:.1} s", build.as_secs_f64());
    let hand_bin = build_example("handwritten_fraud");

    let dir = data_dir();
    let (weir_out, hand_out) = (dir.join("weir-alerts.csv"), dir.join("hand-alerts.csv"));
    let weir_cmd = || {
        let mut c = Command::new(&weir_bin);
        c.arg("--input")
            .arg(format!("transactions={}", input.display()))
            .arg("--output")
            .arg(format!("alerts={}", weir_out.display()));
        c
    };
    let hand_cmd = || {
        let mut c = Command::new(&hand_bin);
        c.arg(&input).arg(&hand_out);
        c
    };
    let [(weir_t, weir_rss), (hand_t, hand_rss)] = race(RUNS, weir_cmd, hand_cmd);
    let (w, h) = (sorted_rows(&weir_out), sorted_rows(&hand_out));
    assert_eq!(w.len(), h.len(), "both raise the same number of alerts");
    assert!(w == h, "weir and the hand-written program disagree");

    let mb = size as f64 / 1e6;
    println!("alerts: {}", w.len());
    println!(
        "weir (generated)  {:>8.3} s  {:>7.1} MB/s  peak RSS {:>6.1} MiB",
        weir_t.as_secs_f64(),
        mb / weir_t.as_secs_f64(),
        weir_rss as f64 / 1048576.0
    );
    println!(
        "hand-written Rust {:>8.3} s  {:>7.1} MB/s  peak RSS {:>6.1} MiB",
        hand_t.as_secs_f64(),
        mb / hand_t.as_secs_f64(),
        hand_rss as f64 / 1048576.0
    );
    println!(
        "ratio weir/hand-written: {:.3} (target <= 1.2)",
        weir_t.as_secs_f64() / hand_t.as_secs_f64()
    );
}
