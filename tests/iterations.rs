//! The iteration examples (`iterate`): each against the answer networkx, numpy and
//! scikit-learn gave for its data (`dsl-examples/expected/`, written by
//! `dsl-examples/data/iterations_reference.py`), on two workers too, and the graph
//! examples on other graphs against references written here (a power iteration,
//! union-find, Dijkstra).

mod common;

use std::collections::{BTreeMap, BinaryHeap};
use std::path::Path;

use common::*;

/// `(input source, data file, output sink, expected file, tolerance)` of each example;
/// a tolerance of 0 asks for the same text.
const EXAMPLES: [(&str, &str, &str, &str, &str, f64); 6] = [
    (
        "pagerank",
        "edges",
        "graph_edges",
        "ranks",
        "pagerank_ranks",
        1e-8,
    ),
    (
        "connected_components",
        "edges",
        "graph_edges",
        "components",
        "connected_components",
        0.0,
    ),
    (
        "shortest_paths",
        "edges",
        "weighted_edges",
        "distances",
        "shortest_paths",
        1e-9,
    ),
    (
        "linear_regression",
        "samples",
        "regression_samples",
        "model",
        "linear_regression",
        1e-6,
    ),
    (
        "logistic_regression",
        "samples",
        "logistic_samples",
        "model",
        "logistic_regression",
        1e-4,
    ),
    (
        "kmeans",
        "points",
        "kmeans_points",
        "centroids",
        "kmeans_centroids",
        1e-9,
    ),
];

/// Runs example `name` on `data` with `flags`, its sink written to a file whose rows
/// come back.
fn run_example(
    name: &str,
    source: &str,
    data: &Path,
    sink: &str,
    flags: &[&str],
) -> (Vec<String>, Vec<Vec<String>>) {
    let bin = build(Path::new(&format!("dsl-examples/{name}.pipe")));
    let dir = temp();
    let out = dir.path().join("out.csv");
    let input = format!("{source}={}", data.display());
    let output = format!("{sink}={}", out.display());
    let mut args = vec!["--input", input.as_str(), "--output", output.as_str()];
    args.extend_from_slice(flags);
    run_ok(&bin, &args);
    read_csv(&out)
}

/// Asserts `got` is `want` row by row, numbers within `tolerance` (relative to the
/// larger of 1 and the expected value).
fn assert_close(what: &str, got: &[Vec<String>], want: &[Vec<String>], tolerance: f64) {
    assert_eq!(got.len(), want.len(), "{what}: rows");
    for (g, w) in got.iter().zip(want) {
        for (a, b) in g.iter().zip(w) {
            if tolerance == 0.0 {
                assert_eq!(a, b, "{what}: {g:?} against {w:?}");
                continue;
            }
            let (x, y): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
            assert!(
                (x - y).abs() <= tolerance * y.abs().max(1.0),
                "{what}: {g:?} against {w:?}"
            );
        }
    }
}

fn check_examples(flags: &[&str]) {
    for (name, source, data, sink, expected, tolerance) in EXAMPLES {
        let data = root().join(format!("dsl-examples/data/{data}.csv"));
        let (header, mut rows) = run_example(name, source, &data, sink, flags);
        let (want_header, want) =
            read_csv(&root().join(format!("dsl-examples/expected/{expected}.csv")));
        assert_eq!(header, want_header, "{name}");
        // Graph outputs come in vertex order; the expected files are sorted by vertex.
        rows.sort_by_key(|r| r[0].parse::<u64>().unwrap_or(0));
        assert_close(&format!("{name} {flags:?}"), &rows, &want, tolerance);
    }
}

#[test]
fn every_example_matches_its_reference() {
    check_examples(&[]);
}

#[test]
fn every_example_gives_the_same_results_on_two_workers() {
    check_examples(&["--parallelism", "2"]);
}

/// A seeded generator (splitmix64), so the graphs are the same on every run.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A directed graph of `n` vertices with ids `id(i)`, random edges (no self-loops,
/// repeats kept: an edge given twice counts twice), some vertices without out-edges,
/// weights in [0, 10).
fn random_edges(seed: u64, n: u64, edges: usize, id: impl Fn(u64) -> u64) -> Vec<(u64, u64, f64)> {
    let mut rng = Seeded(seed);
    let mut out = Vec::new();
    while out.len() < edges {
        let (a, b) = (rng.below(n), rng.below(n));
        // A tenth of the vertices only receive.
        if a == b || a % 10 == 3 {
            continue;
        }
        let w = rng.below(10_000) as f64 / 1000.0;
        out.push((id(a), id(b), w));
    }
    out
}

fn write_edges(path: &Path, edges: &[(u64, u64, f64)], weighted: bool) {
    let mut text = String::from(if weighted {
        "src,dst,weight\n"
    } else {
        "src,dst\n"
    });
    for (a, b, w) in edges {
        if weighted {
            text.push_str(&format!("{a},{b},{w}\n"));
        } else {
            text.push_str(&format!("{a},{b}\n"));
        }
    }
    std::fs::write(path, text).unwrap();
}

/// PageRank as networkx computes it: ranks from 1/n; each round, 0.15/n plus 0.85 of
/// what the in-edges bring (a vertex's rank over its out-edges, each counted) and of the
/// ranks without out-edges spread over all; until the ranks change by less than 1e-10
/// in all, or 200 rounds.
fn reference_pagerank(edges: &[(u64, u64, f64)]) -> BTreeMap<u64, f64> {
    let ids: Vec<u64> = edges
        .iter()
        .flat_map(|e| [e.0, e.1])
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let at = |id: u64| ids.binary_search(&id).unwrap();
    let n = ids.len();
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in edges {
        out[at(e.0)].push(at(e.1));
    }
    let mut rank = vec![1.0 / n as f64; n];
    for _ in 0..200 {
        let dangling: f64 = (0..n).filter(|&v| out[v].is_empty()).map(|v| rank[v]).sum();
        let mut next = vec![0.0; n];
        for v in 0..n {
            for &t in &out[v] {
                next[t] += rank[v] / out[v].len() as f64;
            }
        }
        let mut change = 0.0;
        for v in 0..n {
            let r = 0.15 / n as f64 + 0.85 * (next[v] + dangling / n as f64);
            change += (r - rank[v]).abs();
            rank[v] = r;
        }
        if change < 1e-10 {
            break;
        }
    }
    ids.into_iter().zip(rank).collect()
}

/// Components by union-find, each named by its least vertex.
fn reference_components(edges: &[(u64, u64, f64)]) -> BTreeMap<u64, u64> {
    let mut parent: BTreeMap<u64, u64> = BTreeMap::new();
    fn find(parent: &mut BTreeMap<u64, u64>, x: u64) -> u64 {
        let p = *parent.entry(x).or_insert(x);
        if p == x {
            return x;
        }
        let root = find(parent, p);
        parent.insert(x, root);
        root
    }
    for &(a, b, _) in edges {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        // The least id is the root, so a root names its component.
        parent.insert(ra.max(rb), ra.min(rb));
    }
    let ids: Vec<u64> = parent.keys().copied().collect();
    ids.into_iter().map(|v| (v, find(&mut parent, v))).collect()
}

/// Dijkstra's distances from vertex 0 to every vertex it reaches (none when 0 is not a
/// vertex).
fn reference_distances(edges: &[(u64, u64, f64)]) -> BTreeMap<u64, f64> {
    if !edges.iter().any(|&(a, b, _)| a == 0 || b == 0) {
        return BTreeMap::new();
    }
    let mut out: BTreeMap<u64, Vec<(u64, f64)>> = BTreeMap::new();
    for &(a, b, w) in edges {
        out.entry(a).or_default().push((b, w));
    }
    let mut best: BTreeMap<u64, f64> = BTreeMap::new();
    // Distances as ordered bits (non-negative floats order as their bits do).
    let mut heap = BinaryHeap::new();
    heap.push(std::cmp::Reverse((0f64.to_bits(), 0u64)));
    while let Some(std::cmp::Reverse((d, v))) = heap.pop() {
        let d = f64::from_bits(d);
        if best.contains_key(&v) {
            continue;
        }
        best.insert(v, d);
        for &(t, w) in out.get(&v).map(Vec::as_slice).unwrap_or_default() {
            if !best.contains_key(&t) {
                heap.push(std::cmp::Reverse(((d + w).to_bits(), t)));
            }
        }
    }
    best
}

fn numbers(rows: &[Vec<String>]) -> BTreeMap<u64, String> {
    rows.iter()
        .map(|r| (r[0].parse().unwrap(), r[1].clone()))
        .collect()
}

fn check_graph(seed: u64, n: u64, edges: usize, id: impl Fn(u64) -> u64, flags: &[&str]) {
    let dir = temp();
    let edges = random_edges(seed, n, edges, id);
    let plain = dir.path().join("edges.csv");
    let weighted = dir.path().join("weighted.csv");
    write_edges(&plain, &edges, false);
    write_edges(&weighted, &edges, true);
    let what = format!("seed {seed}, {n} vertices, {flags:?}");

    let (_, rows) = run_example("pagerank", "edges", &plain, "ranks", flags);
    let got = numbers(&rows);
    let want = reference_pagerank(&edges);
    assert_eq!(got.len(), want.len(), "pagerank {what}");
    for (v, r) in want {
        let g: f64 = got[&v].parse().unwrap();
        assert!(
            (g - r).abs() < 1e-12,
            "pagerank {what}: vertex {v} {g} against {r}"
        );
    }

    let (_, rows) = run_example("connected_components", "edges", &plain, "components", flags);
    let got: BTreeMap<u64, u64> = numbers(&rows)
        .into_iter()
        .map(|(v, c)| (v, c.parse().unwrap()))
        .collect();
    assert_eq!(got, reference_components(&edges), "components {what}");

    let (_, rows) = run_example("shortest_paths", "edges", &weighted, "distances", flags);
    let got = numbers(&rows);
    let want = reference_distances(&edges);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "reached {what}"
    );
    for (v, d) in want {
        let g: f64 = got[&v].parse().unwrap();
        assert!(
            (g - d).abs() <= 1e-9 * d.max(1.0),
            "distance {what}: vertex {v} {g} against {d}"
        );
    }
}

#[test]
fn graph_examples_on_other_graphs_match_references() {
    // Ids 0..n: numbered through a table by id.
    check_graph(7, 400, 1_200, |i| i, &[]);
    // Ids far apart (and 0 among them): numbered by sorting.
    check_graph(8, 300, 900, |i| i * 1_000_003_u64 * 97, &[]);
    // Few edges: many vertices alone in their component, unreachable from 0.
    check_graph(9, 500, 300, |i| i, &["--parallelism", "2"]);
    // Three workers, ids far apart: each worker's numbers found by sorting.
    check_graph(10, 300, 1_500, |i| i * 7_919, &["--parallelism", "3"]);
    // Two workers, ids 0..n but one the largest there is: by sorting, not by bit sets.
    check_graph(
        11,
        200,
        800,
        |i| if i == 3 { u64::MAX } else { i },
        &["--parallelism", "2"],
    );
}

#[test]
fn an_empty_input_runs_no_vertex_and_emits_no_rank() {
    let dir = temp();
    let empty = dir.path().join("edges.csv");
    std::fs::write(&empty, "src,dst\n").unwrap();
    let (header, rows) = run_example("pagerank", "edges", &empty, "ranks", &[]);
    assert_eq!(header, ["node", "rank"]);
    assert!(rows.is_empty());
    let points = dir.path().join("points.csv");
    std::fs::write(&points, "x,y\n").unwrap();
    let (header, rows) = run_example("kmeans", "points", &points, "centroids", &[]);
    assert_eq!(header, ["cluster", "x", "y"]);
    assert!(rows.is_empty());
}

#[test]
fn a_graph_past_its_budget_names_the_memory_that_holds_it() {
    let dir = temp();
    let edges = random_edges(11, 50_000, 200_000, |i| i);
    let path = dir.path().join("edges.csv");
    write_edges(&path, &edges, false);
    let bin = build(Path::new("dsl-examples/pagerank.pipe"));
    let out = dir.path().join("ranks.csv");
    let input = format!("edges={}", path.display());
    let output = format!("ranks={}", out.display());
    let run = run(
        &bin,
        &["--input", &input, "--output", &output, "--memory", "1MB"],
    );
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("`iterate` at dsl-examples/pagerank.pipe"),
        "{stderr}"
    );
    assert!(stderr.contains("--memory"), "{stderr}");
    assert!(
        stderr.contains("every round reads its edges in any order"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing written by a failed run");
}

#[test]
fn records_past_the_budget_go_to_disk_and_give_the_same_model() {
    let dir = temp();
    let mut rng = Seeded(12);
    let mut text = String::from("x,y\n");
    for i in 0..60_000u64 {
        let (cx, cy) = [
            (0.0, 0.0),
            (9.0, 1.0),
            (-7.0, 6.0),
            (3.0, -8.0),
            (11.0, 12.0),
        ][(i % 5) as usize];
        let jitter = |r: &mut Seeded| (r.below(4_000) as f64 - 2_000.0) / 500.0;
        text.push_str(&format!(
            "{},{}\n",
            cx + jitter(&mut rng),
            cy + jitter(&mut rng)
        ));
    }
    let points = dir.path().join("points.csv");
    std::fs::write(&points, text).unwrap();
    let (_, in_memory) = run_example("kmeans", "points", &points, "centroids", &[]);
    let stats = dir.path().join("stats.json");
    let stats_arg = stats.display().to_string();
    let (_, spilled) = run_example(
        "kmeans",
        "points",
        &points,
        "centroids",
        &["--memory", "256KB", "--stats-json", &stats_arg],
    );
    assert!(
        spill_runs(&stats) > 0,
        "60,000 points (960 KB of rows) spill under 256 KB"
    );
    assert_eq!(
        spilled, in_memory,
        "the same centroids, read back from disk"
    );
    assert_eq!(in_memory.len(), 5);
}

/// Runs `linear_regression_windows.pipe` on `samples` with `flags`: its models and its
/// predictions (sorted by id), and what it wrote to stderr.
fn models_per_window(
    samples: &Path,
    flags: &[&str],
) -> (Vec<Vec<String>>, Vec<Vec<String>>, String) {
    let bin = build(Path::new("dsl-examples/linear_regression_windows.pipe"));
    let dir = temp();
    let (models, predictions) = (dir.path().join("m.csv"), dir.path().join("p.csv"));
    let input = format!("samples={}", samples.display());
    let (m, p) = (
        format!("models={}", models.display()),
        format!("predictions={}", predictions.display()),
    );
    let mut args = vec!["--input", &input, "--output", &m, "--output", &p];
    args.extend_from_slice(flags);
    let out = run(&bin, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (header, models) = read_csv(&models);
    assert_eq!(
        header,
        ["window_start", "window_end", "w1", "w2", "w3", "b"]
    );
    let (header, mut predictions) = read_csv(&predictions);
    assert_eq!(header, ["id", "ts", "prediction"]);
    predictions.sort_by_key(|r| r[0].parse::<u64>().unwrap());
    (
        models,
        predictions,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_model_per_window_and_its_predictions_match_numpy() {
    let samples = root().join("dsl-examples/data/regression_stream.csv");
    let (_, want_models) =
        read_csv(&root().join("dsl-examples/expected/regression_window_models.csv"));
    let (_, want_predictions) =
        read_csv(&root().join("dsl-examples/expected/regression_predictions.csv"));
    for flags in [&[][..], &["--parallelism", "2"], &["--memory", "512KB"]] {
        let (models, predictions, _) = models_per_window(&samples, flags);
        assert_eq!(models.len(), 5, "{flags:?}");
        assert_close(&format!("models {flags:?}"), &models, &want_models, 1e-9);
        assert_eq!(predictions.len(), 50, "{flags:?}");
        assert_close(
            &format!("predictions {flags:?}"),
            &predictions,
            &want_predictions,
            1e-9,
        );
    }
}

#[test]
fn a_sample_after_its_window_has_run_is_counted_and_reported() {
    let dir = temp();
    let samples = dir.path().join("samples.csv");
    // Three samples of minute 0 fit y = x1 exactly; the watermark (bounded 5s) passes
    // minute 0's end at the sample of 65s, and the sample of 10s after it is late.
    std::fs::write(
        &samples,
        "ts,x1,x2,x3,y\n\
         0,0.5,0.0,0.0,0.5\n\
         1000,-0.5,0.0,0.0,-0.5\n\
         2000,0.25,0.0,0.0,0.25\n\
         65000,0.5,0.5,0.5,1.5\n\
         10000,0.9,0.0,0.0,-7.0\n",
    )
    .unwrap();
    let (models, _, stderr) = models_per_window(&samples, &[]);
    assert_eq!(models.len(), 2, "{models:?}");
    assert_eq!(&models[0][..2], ["0", "60000"]);
    let w1: f64 = models[0][2].parse().unwrap();
    assert!(
        (w1 - 1.0).abs() < 1e-6,
        "the late sample is not in minute 0's fit: {w1}"
    );
    assert!(stderr.contains("dropped 1 late record(s)"), "{stderr}");
}

/// An iteration over records after a keyed step: on one worker it sums every record; on
/// two the keyed step spreads its input over the workers, and the job refuses rather
/// than iterate over worker 0's part alone.
#[test]
fn records_spread_by_a_keyed_step_are_refused_on_several_workers() {
    let dir = temp();
    let mut text = String::from("k,v\n");
    let mut want = 0u64;
    for i in 0..400u64 {
        text.push_str(&format!("{},{}\n", i % 50, i));
        want += i;
    }
    std::fs::write(dir.path().join("in.csv"), text).unwrap();
    let pipe = dir.path().join("after_keys.pipe");
    std::fs::write(
        &pipe,
        r#"schema R { k: u64, v: u64 }
source rs: R = csv("in.csv", header: true);
rs |> key_by(k) |> aggregate { s: sum(v) }
   |> iterate(rounds 1) {
        aggregate total: u64 = sum;
        state t: u64 = 0;
        on round { total <- s; }
        on round_end { t = total; }
        on end { emit { t }; }
      }
   |> sink out = csv("out.csv");
"#,
    )
    .unwrap();
    let bin = build(&pipe);
    let out = dir.path().join("out.csv");
    let output = format!("out={}", out.display());
    let one = std::process::Command::new(&bin)
        .args(["--output", &output])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    assert_eq!(read_csv(&out).1, [[want.to_string()]]);
    std::fs::remove_file(&out).unwrap();
    let two = std::process::Command::new(&bin)
        .args(["--output", &output, "--parallelism", "2"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&two.stderr);
    assert_eq!(two.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--parallelism 1"), "{stderr}");
    assert!(!out.exists(), "nothing written by the refused run");
    assert!(!stderr.contains("wrote"), "no report of a write: {stderr}");
}
