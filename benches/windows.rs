//! Windows: 10 s event-time tumbling count and sum per key with 2 s bounded watermarks, the
//! weir-generated job against a hand-written Rust program on the same events.
//!
//!   cargo bench --bench windows                       # 20M events
//!   WEIR_BENCH_EVENTS=2000000 cargo bench --bench windows
//!
//! Events: ten per millisecond of event time, keys uniform over 10,000, each timestamp up to
//! 2 s behind the stream's progress (so none is late), from a fixed seed.
//!
//! Then the same job with `watermark(bounded 30000s)`: every window stays open to the end
//! of input (hundreds per key), so a record's cost must not grow with the windows a key has
//! open. Its time is compared with the 2 s job's; the results are the same rows.

mod common;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{build_example, build_weir, data_dir, race, root, sorted_rows};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const KEYS: u64 = 10_000;
const DISORDER: i64 = 2_000;
const RUNS: usize = 3;

fn events(count: u64) -> PathBuf {
    let path = data_dir().join(format!("events-{count}.csv"));
    if path.exists() {
        return path;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(0x5749_4e44);
    let tmp = path.with_extension("partial");
    let mut out = BufWriter::new(std::fs::File::create(&tmp).unwrap());
    out.write_all(b"ts,key,value\n").unwrap();
    let mut buf = itoa::Buffer::new();
    for i in 0..count {
        let progress = (i / 10) as i64;
        let ts = (progress - rng.random_range(0..=DISORDER)).max(0);
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

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let count: u64 = std::env::var("WEIR_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000_000);
    let input = events(count);
    let size = std::fs::metadata(&input).unwrap().len();
    println!(
        "events: {} ({count} events, {:.1} MB, {KEYS} keys, up to {DISORDER} ms of disorder)",
        input.display(),
        size as f64 / 1e6
    );

    let job = |bound: &str| {
        let pipe = data_dir().join(format!("tumbling_bench_{bound}.pipe"));
        std::fs::write(
            &pipe,
            format!(
                "schema Event {{ ts: timestamp, key: u64, value: i64 }}\n\
                 source events: Event = csv(\"events.csv\") with event_time(ts), watermark(bounded {bound});\n\
                 events |> key_by(key) |> window(tumbling 10s) |> aggregate {{ n: count(), total: sum(value) }}\n  \
                 |> sink csv(\"windows.csv\");\n"
            ),
        )
        .unwrap();
        build_weir(&pipe, &root().join("target/weir-cache"))
    };
    let (weir_bin, build) = job("2s");
    let (late_bin, _) = job("30000s");
    println!("weir build: {:.1} s", build.as_secs_f64());
    let hand_bin = build_example("handwritten_windows");

    let dir = data_dir();
    let (weir_out, hand_out) = (dir.join("weir-windows.csv"), dir.join("hand-windows.csv"));
    let job_cmd = |bin: &Path, out: &Path| {
        let mut c = Command::new(bin);
        c.arg("--input")
            .arg(format!("events={}", input.display()))
            .arg("--output")
            .arg(format!("windows={}", out.display()));
        c
    };
    let weir_cmd = || job_cmd(&weir_bin, &weir_out);
    let hand_cmd = || {
        let mut c = Command::new(&hand_bin);
        c.arg(&input).arg(&hand_out);
        c
    };
    let [(weir_t, weir_rss), (hand_t, hand_rss)] = race(RUNS, weir_cmd, hand_cmd);
    let (w, h) = (sorted_rows(&weir_out), sorted_rows(&hand_out));
    assert_eq!(
        w.len(),
        h.len(),
        "both emit the same number of window results"
    );
    assert!(w == h, "weir and the hand-written program disagree");

    let mb = size as f64 / 1e6;
    println!("window results: {}", w.len());
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

    // Every window open to the end: the cost per record must not grow with them.
    let late_out = dir.join("weir-windows-30000s.csv");
    let late_cmd = || job_cmd(&late_bin, &late_out);
    let [(late_t, late_rss), (fast_t, _)] = race(RUNS, late_cmd, weir_cmd);
    assert!(
        sorted_rows(&late_out) == w,
        "the same windows whatever the watermark delay"
    );
    println!(
        "weir, bounded 30000s {:>8.3} s  peak RSS {:>6.1} MiB; against bounded 2s {:.3} s: ratio {:.3} (target <= 2)",
        late_t.as_secs_f64(),
        late_rss as f64 / 1048576.0,
        fast_t.as_secs_f64(),
        late_t.as_secs_f64() / fast_t.as_secs_f64()
    );

    // Both jobs again under budgets too small for their windows: they spill, and their
    // results must be the same rows, byte for byte.
    let spill_dir = dir.join("spill");
    std::fs::create_dir_all(&spill_dir).unwrap();
    for (bin, name, memory, reference) in [
        (&weir_bin, "bounded 2s", "384KB", &weir_out),
        (&late_bin, "bounded 30000s", "2MB", &late_out),
    ] {
        let out = dir.join("weir-windows-spilled.csv");
        let stats = dir.join("windows-spill.json");
        let mut cmd = job_cmd(bin, &out);
        cmd.arg("--memory")
            .arg(memory)
            .arg("--spill-dir")
            .arg(&spill_dir)
            .arg("--stats-json")
            .arg(&stats);
        let (t, _) = common::measure(&mut cmd);
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
        let op = &report["operators"][0];
        assert!(
            std::fs::read(&out).unwrap() == std::fs::read(reference).unwrap(),
            "{name} under {memory}: the spilled run's output differs"
        );
        println!(
            "weir, {name}, --memory {memory}: {:>8.3} s  peak RSS {:>5.1} MiB  spilled {:>6.1} MiB in {} spills",
            t.as_secs_f64(),
            report["peak_rss_bytes"].as_u64().unwrap_or(0) as f64 / 1048576.0,
            op["spilled_bytes"].as_u64().unwrap() as f64 / 1048576.0,
            op["spill_runs"]
        );
    }
}
