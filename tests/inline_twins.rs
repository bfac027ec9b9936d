//! Every `.pipe` example and its inline twin (`dsl-examples/rust/`) give the same results
//! on the same data: the `.pipe` job is built and run, its output parsed into the types the
//! inline job collects, and the two compared row for row, in order.

mod common;

use std::path::Path;

use common::*;
use serde::de::DeserializeOwned;

#[path = "../dsl-examples/rust/all_clicks.rs"]
mod all_clicks;
#[path = "../dsl-examples/rust/anomaly_detection.rs"]
mod anomaly_detection;
#[path = "../dsl-examples/rust/bid_stats.rs"]
mod bid_stats;
#[path = "../dsl-examples/rust/bids_per_10s.rs"]
mod bids_per_10s;
#[path = "../dsl-examples/rust/click_impressions_join.rs"]
mod click_impressions_join;
#[path = "../dsl-examples/rust/click_sessions.rs"]
mod click_sessions;
#[path = "../dsl-examples/rust/connected_components.rs"]
mod connected_components;
#[path = "../dsl-examples/rust/expensive_bids.rs"]
mod expensive_bids;
#[path = "../dsl-examples/rust/first_visits.rs"]
mod first_visits;
#[path = "../dsl-examples/rust/fraud_detection.rs"]
mod fraud_detection;
#[path = "../dsl-examples/rust/kmeans.rs"]
mod kmeans;
#[path = "../dsl-examples/rust/late_bids.rs"]
mod late_bids;
#[path = "../dsl-examples/rust/leaderboard.rs"]
mod leaderboard;
#[path = "../dsl-examples/rust/linear_regression.rs"]
mod linear_regression;
#[path = "../dsl-examples/rust/linear_regression_windows.rs"]
mod linear_regression_windows;
#[path = "../dsl-examples/rust/logistic_regression.rs"]
mod logistic_regression;
#[path = "../dsl-examples/rust/moving_average.rs"]
mod moving_average;
#[path = "../dsl-examples/rust/pagerank.rs"]
mod pagerank;
#[path = "../dsl-examples/rust/payments_after_orders.rs"]
mod payments_after_orders;
#[path = "../dsl-examples/rust/shortest_paths.rs"]
mod shortest_paths;
#[path = "../dsl-examples/rust/unpaid_orders.rs"]
mod unpaid_orders;
#[path = "../dsl-examples/rust/unshipped_orders.rs"]
mod unshipped_orders;
#[path = "../dsl-examples/rust/wordcount.rs"]
mod wordcount;

/// Runs `pipe` with each of `sinks` redirected to a file, returning the files' paths.
fn run_pipe(pipe: &str, sinks: &[&str]) -> (tempfile::TempDir, Vec<std::path::PathBuf>) {
    run_pipe_with(pipe, sinks, &[])
}

/// [`run_pipe`] with the job's flags `flags` too.
fn run_pipe_with(
    pipe: &str,
    sinks: &[&str],
    flags: &[&str],
) -> (tempfile::TempDir, Vec<std::path::PathBuf>) {
    let bin = build(Path::new(pipe));
    let dir = temp();
    let paths: Vec<_> = sinks.iter().map(|s| dir.path().join(s)).collect();
    let mut args: Vec<String> = sinks
        .iter()
        .zip(&paths)
        .flat_map(|(s, p)| ["--output".to_string(), format!("{s}={}", p.display())])
        .collect();
    args.extend(flags.iter().map(|f| f.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_ok(&bin, &args);
    (dir, paths)
}

/// The rows of a CSV file as `T`s.
fn rows<T: DeserializeOwned>(path: &Path) -> Vec<T> {
    csv::Reader::from_path(path)
        .unwrap()
        .deserialize()
        .map(Result::unwrap)
        .collect()
}

/// What `pipe` writes to its one sink `sink`, as `T`s.
fn pipe_rows<T: DeserializeOwned>(pipe: &str, sink: &str) -> Vec<T> {
    let (_dir, paths) = run_pipe(pipe, &[sink]);
    rows(&paths[0])
}

#[test]
fn wordcount() {
    let pipe: Vec<(String, u64)> = pipe_rows("dsl-examples/wordcount.pipe", "stdout");
    assert!(!pipe.is_empty());
    assert_eq!(wordcount::pipeline().unwrap(), pipe);
}

#[test]
fn bid_stats() {
    let pipe: Vec<(u64, u64, u64, u64, u64, f64)> =
        pipe_rows("dsl-examples/bid_stats.pipe", "bid_stats");
    assert!(!pipe.is_empty());
    assert_eq!(bid_stats::pipeline().unwrap(), pipe);
}

#[test]
fn expensive_bids() {
    let pipe: Vec<(u64, u64, u64, String, String, f64)> =
        pipe_rows("dsl-examples/expensive_bids.pipe", "expensive_bids");
    let inline: Vec<_> = expensive_bids::pipeline()
        .unwrap()
        .into_iter()
        .map(|b| (b.auction, b.price, b.fee, b.tier, b.channel, b.price_eur))
        .collect();
    assert!(!pipe.is_empty());
    assert_eq!(inline, pipe);
}

#[test]
fn all_clicks() {
    let (_dir, paths) = run_pipe("dsl-examples/all_clicks.pipe", &["clicks_per_page"]);
    let pipe = read_clicks_per_page(&paths[0]);
    assert!(!pipe.is_empty());
    assert_eq!(all_clicks::pipeline().unwrap(), pipe);
}

#[test]
fn click_sessions() {
    let pipe: Vec<(String, i64, i64, u64, i64)> =
        pipe_rows("dsl-examples/click_sessions.pipe", "sessions");
    assert!(!pipe.is_empty());
    assert_eq!(click_sessions::pipeline().unwrap(), pipe);
}

#[test]
fn bids_per_10s() {
    let pipe: Vec<(u64, i64, i64, u64, u64, u64, f64)> =
        pipe_rows("dsl-examples/bids_per_10s.pipe", "bids_per_10s");
    assert!(!pipe.is_empty());
    assert_eq!(bids_per_10s::pipeline().unwrap(), pipe);
}

#[test]
fn moving_average() {
    let pipe: Vec<(String, i64, i64, u64, f64, f64, f64)> =
        pipe_rows("dsl-examples/moving_average.pipe", "moving_average");
    assert!(!pipe.is_empty());
    assert_eq!(moving_average::pipeline().unwrap(), pipe);
}

#[test]
fn late_bids() {
    let (_dir, paths) = run_pipe("dsl-examples/late_bids.pipe", &["bids_per_5s", "late_bids"]);
    let windows: Vec<(u64, i64, i64, u64, u64)> = rows(&paths[0]);
    let late: Vec<(u64, u64, u64, i64)> = rows(&paths[1]);
    let (inline_windows, inline_late) = late_bids::pipeline().unwrap();
    let inline_late: Vec<_> = inline_late
        .into_iter()
        .map(|b| (b.auction, b.bidder, b.price, b.ts))
        .collect();
    assert!(!late.is_empty());
    assert_eq!(inline_windows, windows);
    assert_eq!(inline_late, late);
}

#[test]
fn first_visits() {
    let pipe: Vec<(String, String, i64)> =
        pipe_rows("dsl-examples/first_visits.pipe", "first_visits");
    let inline: Vec<_> = first_visits::pipeline()
        .unwrap()
        .into_iter()
        .map(|c| (c.user, c.page, c.ts))
        .collect();
    assert!(!pipe.is_empty());
    assert_eq!(inline, pipe);
}

#[test]
fn click_impressions_join() {
    let pipe: Vec<(u64, String, String, i64, i64)> = pipe_rows(
        "dsl-examples/click_impressions_join.pipe",
        "click_impressions",
    );
    assert!(!pipe.is_empty());
    assert_eq!(click_impressions_join::pipeline().unwrap(), pipe);
}

#[test]
fn unpaid_orders() {
    let pipe: Vec<(u64, String, i64, i64)> =
        pipe_rows("dsl-examples/unpaid_orders.pipe", "unpaid_orders");
    assert!(!pipe.is_empty());
    assert_eq!(unpaid_orders::pipeline().unwrap(), pipe);
}

#[test]
fn payments_after_orders() {
    let (_dir, paths) = run_pipe(
        "dsl-examples/payments_after_orders.pipe",
        &["payments_after_orders", "late_payments"],
    );
    let pairs: Vec<(u64, String, i64, i64, i64)> = rows(&paths[0]);
    let late: Vec<(i64, u64, i64)> = rows(&paths[1]);
    let (inline_pairs, inline_late) = payments_after_orders::pipeline().unwrap();
    let inline_late: Vec<_> = inline_late
        .into_iter()
        .map(|p| (p.ts, p.order_id, p.amount))
        .collect();
    assert!(!pairs.is_empty() && !late.is_empty());
    assert_eq!(inline_pairs, pairs);
    assert_eq!(inline_late, late);
}

#[test]
fn unshipped_orders() {
    let pipe: Vec<(u64, String, i64, String)> =
        pipe_rows("dsl-examples/unshipped_orders.pipe", "unshipped_orders");
    assert!(!pipe.is_empty());
    assert_eq!(unshipped_orders::pipeline().unwrap(), pipe);
}

#[test]
fn fraud_detection() {
    let pipe: Vec<(String, i64, f64)> = pipe_rows("dsl-examples/fraud_detection.pipe", "alerts");
    let inline: Vec<_> = fraud_detection::pipeline()
        .unwrap()
        .into_iter()
        .map(|a| (a.account, a.ts, a.amount))
        .collect();
    assert!(!pipe.is_empty());
    assert_eq!(inline, pipe);
}

#[test]
fn anomaly_detection() {
    let (_dir, paths) = run_pipe_with(
        "dsl-examples/anomaly_detection.pipe",
        &["anomalies"],
        &["--clock", "replay"],
    );
    let pipe: Vec<(String, i64, f64, f64, f64)> = rows(&paths[0]);
    let inline: Vec<_> = anomaly_detection::pipeline()
        .unwrap()
        .into_iter()
        .map(|a| (a.sensor, a.ts, a.value, a.mean, a.sd))
        .collect();
    assert!(!pipe.is_empty());
    assert_eq!(inline, pipe);
}

#[test]
fn leaderboard() {
    let pipe: Vec<leaderboard::Board> = pipe_rows("dsl-examples/leaderboard.pipe", "leaderboard");
    assert!(!pipe.is_empty());
    assert_eq!(leaderboard::pipeline().unwrap(), pipe);
}

/// `rows` sorted by their first column (a graph's vertices come worker by worker).
fn by_vertex<T: Clone>(rows: &[(u64, T)]) -> Vec<(u64, T)> {
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| r.0);
    rows
}

#[test]
fn pagerank() {
    let pipe: Vec<(u64, f64)> = pipe_rows("dsl-examples/pagerank.pipe", "ranks");
    let inline: Vec<_> = pagerank::pipeline()
        .unwrap()
        .into_iter()
        .map(|r| (r.node, r.rank))
        .collect();
    assert!(pipe.len() > 100);
    assert_eq!(inline, pipe);
    // On two workers the ranks are summed in another order: equal to 1e-12.
    let two = by_vertex(
        &pagerank::pipeline_on(2)
            .unwrap()
            .into_iter()
            .map(|r| (r.node, r.rank))
            .collect::<Vec<_>>(),
    );
    let one = by_vertex(&pipe);
    assert_eq!(two.len(), one.len());
    for ((v, a), (w, b)) in two.iter().zip(&one) {
        assert_eq!(v, w);
        assert!(
            (a - b).abs() < 1e-12,
            "vertex {v}: {a} on 2 workers, {b} on 1"
        );
    }
}

#[test]
fn connected_components() {
    let pipe: Vec<(u64, u64)> = pipe_rows("dsl-examples/connected_components.pipe", "components");
    let inline: Vec<_> = connected_components::pipeline()
        .unwrap()
        .into_iter()
        .map(|c| (c.node, c.component))
        .collect();
    assert!(pipe.len() > 100);
    assert_eq!(inline, pipe);
    let two: Vec<_> = connected_components::pipeline_on(3)
        .unwrap()
        .into_iter()
        .map(|c| (c.node, c.component))
        .collect();
    assert_eq!(by_vertex(&two), by_vertex(&pipe));
}

#[test]
fn shortest_paths() {
    let pipe: Vec<(u64, f64)> = pipe_rows("dsl-examples/shortest_paths.pipe", "distances");
    let inline: Vec<_> = shortest_paths::pipeline()
        .unwrap()
        .into_iter()
        .map(|d| (d.node, d.distance))
        .collect();
    assert!(pipe.len() > 100);
    assert_eq!(inline, pipe);
    let two: Vec<_> = shortest_paths::pipeline_on(2)
        .unwrap()
        .into_iter()
        .map(|d| (d.node, d.distance))
        .collect();
    assert_eq!(by_vertex(&two), by_vertex(&pipe));
}

#[test]
fn linear_regression() {
    let pipe: Vec<(f64, f64, f64, f64)> = pipe_rows("dsl-examples/linear_regression.pipe", "model");
    let inline: Vec<_> = linear_regression::pipeline()
        .unwrap()
        .into_iter()
        .map(|m| (m.w1, m.w2, m.w3, m.b))
        .collect();
    assert_eq!(pipe.len(), 1);
    assert_eq!(inline, pipe);
}

#[test]
fn linear_regression_windows() {
    let (_dir, paths) = run_pipe(
        "dsl-examples/linear_regression_windows.pipe",
        &["models", "predictions"],
    );
    let models: Vec<(i64, i64, f64, f64, f64, f64)> = rows(&paths[0]);
    let mut predictions: Vec<(u64, i64, f64)> = rows(&paths[1]);
    predictions.sort_by_key(|p| p.0);
    assert_eq!(models.len(), 5);
    assert_eq!(predictions.len(), 50);
    for workers in [1, 2] {
        let (inline_models, inline_predictions) =
            linear_regression_windows::pipeline_on(workers).unwrap();
        let inline_models: Vec<_> = inline_models
            .into_iter()
            .map(|m| (m.window_start, m.window_end, m.w1, m.w2, m.w3, m.b))
            .collect();
        let mut inline_predictions: Vec<_> = inline_predictions
            .into_iter()
            .map(|p| (p.id, p.ts, p.prediction))
            .collect();
        inline_predictions.sort_by_key(|p| p.0);
        assert_eq!(inline_models, models, "{workers} worker(s)");
        assert_eq!(inline_predictions, predictions, "{workers} worker(s)");
    }
}

#[test]
fn logistic_regression() {
    let pipe: Vec<(f64, f64, f64, f64)> =
        pipe_rows("dsl-examples/logistic_regression.pipe", "model");
    let inline: Vec<_> = logistic_regression::pipeline()
        .unwrap()
        .into_iter()
        .map(|m| (m.w1, m.w2, m.w3, m.b))
        .collect();
    assert_eq!(pipe.len(), 1);
    assert_eq!(inline, pipe);
}

#[test]
fn kmeans() {
    let pipe: Vec<(u64, f64, f64)> = pipe_rows("dsl-examples/kmeans.pipe", "centroids");
    let inline: Vec<_> = kmeans::pipeline()
        .unwrap()
        .into_iter()
        .map(|c| (c.cluster, c.x, c.y))
        .collect();
    assert_eq!(pipe.len(), 5);
    assert_eq!(inline, pipe);
}

/// `n` points around five centres, jittered by a fixed generator.
fn clustered_points(n: u64) -> Vec<kmeans::Point> {
    let mut state = 12u64;
    let mut jitter = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % 4_000) as f64 / 500.0 - 4.0
    };
    let centres = [
        (0.0, 0.0),
        (9.0, 1.0),
        (-7.0, 6.0),
        (3.0, -8.0),
        (11.0, 12.0),
    ];
    (0..n)
        .map(|i| {
            let (x, y) = centres[(i % 5) as usize];
            kmeans::Point {
                x: x + jitter(),
                y: y + jitter(),
            }
        })
        .collect()
}

/// Lloyd's algorithm over `points` as plainly as it is written down.
fn reference_kmeans(points: &[kmeans::Point]) -> Vec<(u64, f64, f64)> {
    let mut at: Vec<(f64, f64)> = points.iter().take(5).map(|p| (p.x, p.y)).collect();
    for _ in 0..100 {
        let mut sums = vec![(0.0, 0.0, 0u64); at.len()];
        for p in points {
            let nearest = (0..at.len())
                .min_by(|&a, &b| {
                    let d = |c: usize| (p.x - at[c].0).powi(2) + (p.y - at[c].1).powi(2);
                    d(a).partial_cmp(&d(b)).unwrap()
                })
                .unwrap();
            sums[nearest].0 += p.x;
            sums[nearest].1 += p.y;
            sums[nearest].2 += 1;
        }
        let next: Vec<(f64, f64)> = sums
            .iter()
            .zip(&at)
            .map(|(&(x, y, n), &old)| {
                if n == 0 {
                    old
                } else {
                    (x / n as f64, y / n as f64)
                }
            })
            .collect();
        if next == at {
            break;
        }
        at = next;
    }
    (0..).zip(at).map(|(c, (x, y))| (c, x, y)).collect()
}

/// The inline k-means over `points` with `config`.
fn kmeans_of(
    points: Vec<kmeans::Point>,
    config: weir::JobConfig,
) -> Result<Vec<(u64, f64, f64)>, weir::JobError> {
    let centroids = weir::stream! {
        source iter(points)
        |> iterate(rounds(101), kmeans::KMeans { k: 5 })
        |> collect()
    }
    .run_with(config)?;
    Ok(centroids
        .into_iter()
        .map(|c| (c.cluster, c.x, c.y))
        .collect())
}

#[test]
fn inline_records_past_the_budget_go_to_disk_and_give_the_same_centroids() {
    let points = clustered_points(60_000);
    let want = reference_kmeans(&points);
    let in_memory = kmeans_of(points.clone(), weir::JobConfig::default()).unwrap();
    for ((c, x, y), (wc, wx, wy)) in in_memory.iter().zip(&want) {
        assert_eq!(c, wc);
        assert!(
            (x - wx).abs() < 1e-9 && (y - wy).abs() < 1e-9,
            "cluster {c}"
        );
    }
    assert_eq!(in_memory.len(), 5);
    // 60,000 points of 20 bytes do not fit 256 KB: their pages go to disk, and every
    // round reads them back.
    let spill = temp();
    let small = weir::JobConfig::default().memory(256 << 10);
    let spilled = kmeans_of(points.clone(), small.clone().spill_dir(spill.path())).unwrap();
    assert_eq!(spilled, in_memory);
    // Proof that they went to disk: where no spill file can be made, the run fails.
    let not_a_dir = spill.path().join("a file");
    std::fs::write(&not_a_dir, "").unwrap();
    let err = kmeans_of(points, small.spill_dir(&not_a_dir)).unwrap_err();
    assert!(err.to_string().contains("spill"), "{err}");
}

/// An iteration whose records come through a `union` and whose results go into one (the
/// union makes one type of two inferred ones): the program's bounds name the types the
/// job keeps.
#[test]
fn an_iteration_between_unions() {
    let edges = [(0u64, 1u64), (1, 2), (5, 6), (7, 7)];
    let (first, second) = (edges[..2].to_vec(), edges[2..].to_vec());
    let extra = vec![connected_components::Component {
        node: 99,
        component: 99,
    }];
    let mut got: Vec<(u64, u64)> = weir::stream! {
        let a = source iter(first);
        let b = source iter(second);
        let more = source iter(extra);
        a
        |> union(b)
        |> iterate(
            undirected_graph(|e: &(u64, u64)| *e),
            rounds(100),
            connected_components::ConnectedComponents
        )
        |> union(more)
        |> collect()
    }
    .run()
    .unwrap()
    .into_iter()
    .map(|c| (c.node, c.component))
    .collect();
    got.sort();
    assert_eq!(
        got,
        [(0, 0), (1, 0), (2, 0), (5, 5), (6, 5), (7, 7), (99, 99)]
    );
}

/// Degrees, counted by a program whose vertices keep nothing: refused with a message, not
/// a panic, as is a value aligned past a word.
#[test]
fn a_vertex_program_without_a_value_is_refused() {
    use weir::iteration::{Combine, Round, Vertex, VertexProgram};

    #[derive(Clone)]
    struct Degrees;
    impl VertexProgram for Degrees {
        type Value = ();
        type Message = u64;
        type Edge = ();
        type Totals = u64;
        type Output = (u64, u64);
        const MESSAGES: Combine = Combine::Sum;
        fn init(&self, _: &Vertex) {}
        fn round(&self, _: &mut (), at: &mut Round<'_, Self>) {
            *at.totals() += at.out_degree();
        }
        fn end(&self, _: &(), v: &Vertex) -> Option<(u64, u64)> {
            Some((v.id, v.out_degree))
        }
    }
    let edges = vec![(0u64, 1u64), (1, 2)];
    let err = weir::stream! {
        source iter(edges)
        |> iterate(graph(|e: &(u64, u64)| *e), rounds(1), Degrees)
        |> collect()
    }
    .run()
    .unwrap_err();
    assert!(
        err.to_string().contains("keeps a value of 0 bytes"),
        "{err}"
    );
}
