//! Iterations, COST-style (McSherry, Isard and Murray, "Scalability! But at what COST?",
//! 2015): weir's PageRank, connected components and k-means examples against hand-written
//! single-threaded Rust (`examples/handwritten_iterations.rs`) on the same data, run as a
//! user would (`--input`, `--output`, and `--memory` where the graph needs more than the
//! default, as the job's error says).
//!
//!   cargo bench --bench iterations                # 1M vertices, 10M edges; 1M points
//!   WEIR_BENCH_VERTICES=100000 WEIR_BENCH_EDGES=1000000 WEIR_BENCH_POINTS=100000 \
//!     cargo bench --bench iterations
//!
//! The graph: each edge's ends uniform over the vertices (no self-loops), from a fixed
//! seed. PageRank runs 20 updates (the example with `rounds 21` and no `until`: its first
//! round only sends); the components' label propagation runs until no label changes; k-means on
//! points around 5 centres until no point changes cluster.
//!
//! PageRank on two workers is set beside a hand-written pull PageRank on one and on two
//! threads sharing memory (`examples/handwritten_pagerank_threads.rs`): what a second
//! thread gains on the machine at best.

mod common;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{build_example, build_weir, data_dir, measure, race, root, sorted_rows};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

const RUNS: usize = 3;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn graph(vertices: u64, edges: u64) -> PathBuf {
    let path = data_dir().join(format!("graph-{vertices}-{edges}.csv"));
    if path.exists() {
        return path;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(0x0047_5241_5048);
    let tmp = path.with_extension("partial");
    let mut out = BufWriter::new(std::fs::File::create(&tmp).unwrap());
    out.write_all(b"src,dst\n").unwrap();
    let mut buf = itoa::Buffer::new();
    let mut written = 0;
    while written < edges {
        let (a, b) = (rng.random_range(0..vertices), rng.random_range(0..vertices));
        if a == b {
            continue;
        }
        out.write_all(buf.format(a).as_bytes()).unwrap();
        out.write_all(b",").unwrap();
        out.write_all(buf.format(b).as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
        written += 1;
    }
    out.flush().unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    path
}

fn points(count: u64) -> PathBuf {
    let path = data_dir().join(format!("points-{count}.csv"));
    if path.exists() {
        return path;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(0x004b_4d45_414e);
    let centres = [
        (0.0, 0.0),
        (8.0, 1.0),
        (-6.0, 7.0),
        (3.0, -9.0),
        (12.0, 12.0),
    ];
    let spread = Normal::new(0.0, 2.0).unwrap();
    let tmp = path.with_extension("partial");
    let mut out = BufWriter::new(std::fs::File::create(&tmp).unwrap());
    out.write_all(b"x,y\n").unwrap();
    let mut f = ryu::Buffer::new();
    for _ in 0..count {
        let (cx, cy) = centres[rng.random_range(0..centres.len())];
        let x: f64 = cx + spread.sample(&mut rng);
        let y: f64 = cy + spread.sample(&mut rng);
        out.write_all(f.format(x).as_bytes()).unwrap();
        out.write_all(b",").unwrap();
        out.write_all(f.format(y).as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    path
}

/// Builds example `name`, its text passed through `edit` first (written beside the
/// bench's data).
fn build_variant(name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(root().join(format!("dsl-examples/{name}.pipe"))).unwrap();
    let pipe = data_dir().join(format!("{name}_bench.pipe"));
    std::fs::write(&pipe, edit(text)).unwrap();
    let (bin, build) = build_weir(&pipe, &root().join("target/weir-cache"));
    println!("weir build of {name}: {:.1} s", build.as_secs_f64());
    bin
}

/// A weir job's command: `source=input`, `sink=output`, then `flags`.
fn job(
    bin: &Path,
    source: &str,
    input: &Path,
    sink: &str,
    output: &Path,
    flags: &[&str],
) -> Command {
    let mut c = Command::new(bin);
    c.arg("--input")
        .arg(format!("{source}={}", input.display()))
        .arg("--output")
        .arg(format!("{sink}={}", output.display()))
        .args(flags);
    c
}

/// Rows `a,b` of two outputs, sorted, equal in their first column and within `tolerance`
/// in their second.
fn assert_agree(what: &str, weir: &Path, hand: &Path, tolerance: f64) {
    let (w, h) = (sorted_rows(weir), sorted_rows(hand));
    assert_eq!(w.len(), h.len(), "{what}: rows");
    for (a, b) in w.iter().zip(&h) {
        let (x, y) = (
            a.split(',').collect::<Vec<_>>(),
            b.split(',').collect::<Vec<_>>(),
        );
        assert_eq!(x[0], y[0], "{what}: {a} against {b}");
        for (p, q) in x[1..].iter().zip(&y[1..]) {
            let (p, q): (f64, f64) = (p.parse().unwrap(), q.parse().unwrap());
            assert!(
                (p - q).abs() <= tolerance * q.abs().max(1e-300),
                "{what}: {a} against {b}"
            );
        }
    }
}

fn report(what: &str, weir: (Duration, u64), hand: (Duration, u64), target: &str) {
    println!(
        "{what}: weir {:.3} s (peak RSS {:.1} MiB), hand-written {:.3} s ({:.1} MiB): ratio {:.3} (target {target})",
        weir.0.as_secs_f64(),
        weir.1 as f64 / 1048576.0,
        hand.0.as_secs_f64(),
        hand.1 as f64 / 1048576.0,
        weir.0.as_secs_f64() / hand.0.as_secs_f64()
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let (vertices, edges) = (
        env("WEIR_BENCH_VERTICES", 1_000_000),
        env("WEIR_BENCH_EDGES", 10_000_000),
    );
    let graph = graph(vertices, edges);
    println!(
        "graph: {} ({vertices} vertices, {edges} edges, {:.1} MB)",
        graph.display(),
        std::fs::metadata(&graph).unwrap().len() as f64 / 1e6
    );
    let hand = build_example("handwritten_iterations");
    let dir = data_dir();

    // Exactly 20 updates, as the baseline: no stop on convergence.
    let pagerank = build_variant("pagerank", |t| {
        t.replace("rounds 200", "rounds 21")
            .replace("until round > 0 and change < 1e-10;", "")
    });
    let (w_out, h_out) = (dir.join("weir-ranks.csv"), dir.join("hand-ranks.csv"));
    let memory = ["--memory", "512MB"];
    let [w, h] = race(
        RUNS,
        || job(&pagerank, "edges", &graph, "ranks", &w_out, &memory),
        || {
            let mut c = Command::new(&hand);
            c.args(["pagerank", "20"]).arg(&graph).arg(&h_out);
            c
        },
    );
    assert_agree("pagerank", &w_out, &h_out, 1e-12);
    report("pagerank, 20 updates", w, h, "<= 1.3");
    let mut two = job(&pagerank, "edges", &graph, "ranks", &w_out, &memory);
    two.args(["--parallelism", "2"]);
    let p2 = (0..RUNS).map(|_| measure(&mut two).0).min().unwrap();
    assert_agree("pagerank on 2 workers", &w_out, &h_out, 1e-9);
    println!(
        "pagerank on 2 workers: {:.3} s, {:.2}x faster than on 1 (target >= 1.7)",
        p2.as_secs_f64(),
        w.0.as_secs_f64() / p2.as_secs_f64()
    );
    // What two threads gain on this machine at best: a hand-written pull PageRank on
    // threads sharing memory (in-edges by destination, ids taken as numbers, no output
    // written), on one thread and on two.
    let threads = build_example("handwritten_pagerank_threads");
    let probe = |t: &str| {
        let mut c = Command::new(&threads);
        c.arg(&graph).arg(t).stdout(std::process::Stdio::null());
        c
    };
    let [one, two] = race(RUNS, || probe("1"), || probe("2"));
    println!(
        "hand-written pull pagerank on threads sharing memory (no output): 1 thread {:.3} s, 2 threads {:.3} s, {:.2}x faster on 2",
        one.0.as_secs_f64(),
        two.0.as_secs_f64(),
        one.0.as_secs_f64() / two.0.as_secs_f64()
    );

    let components = build_variant("connected_components", |t| t);
    let (w_out, h_out) = (
        dir.join("weir-components.csv"),
        dir.join("hand-components.csv"),
    );
    let [w, h] = race(
        RUNS,
        || job(&components, "edges", &graph, "components", &w_out, &memory),
        || {
            let mut c = Command::new(&hand);
            c.arg("components").arg(&graph).arg(&h_out);
            c
        },
    );
    assert_agree("components", &w_out, &h_out, 0.0);
    report("connected components (label propagation)", w, h, "<= 1.3");
    let uf_out = dir.join("hand-union-find.csv");
    let mut uf = Command::new(&hand);
    uf.arg("union_find").arg(&graph).arg(&uf_out);
    let uf_time = (0..RUNS).map(|_| measure(&mut uf).0).min().unwrap();
    assert_agree("union-find", &uf_out, &h_out, 0.0);
    println!(
        "connected components by union-find (hand-written): {:.3} s",
        uf_time.as_secs_f64()
    );

    let count = env("WEIR_BENCH_POINTS", 1_000_000);
    let points = points(count);
    let kmeans = build_variant("kmeans", |t| t);
    let (w_out, h_out) = (
        dir.join("weir-centroids.csv"),
        dir.join("hand-centroids.csv"),
    );
    let [w, h] = race(
        RUNS,
        || job(&kmeans, "points", &points, "centroids", &w_out, &[]),
        || {
            let mut c = Command::new(&hand);
            c.arg("kmeans").arg(&points).arg(&h_out);
            c
        },
    );
    assert_agree("kmeans", &w_out, &h_out, 1e-9);
    report(&format!("k-means, {count} points"), w, h, "<= 1.2");
}
