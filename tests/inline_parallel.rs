//! `stream!` pipelines on several worker threads (`JobConfig::parallelism`), checked
//! against answers computed here and against the same pipeline on one worker.

mod common;

use std::collections::HashMap;

use weir::runtime::parallel::Cluster;
use weir::JobConfig;

#[test]
fn wordcount_on_several_workers_matches_a_hash_map_count() {
    let lines: Vec<String> = (0..3000)
        .map(|i| format!("w{} w{} common x{}", i % 7, i % 13, i % 101))
        .collect();
    let mut expected: HashMap<String, u64> = HashMap::new();
    for l in &lines {
        for w in l.split_whitespace() {
            *expected.entry(w.to_string()).or_default() += 1;
        }
    }
    for workers in [1, 2, 3] {
        let counts = weir::stream! {
            source iter(lines.iter().cloned())
            |> flat_map(|l: String| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            |> key_by(|w: &String| w.clone())
            |> aggregate(count())
            |> collect()
        }
        .run_with(JobConfig::default().parallelism(workers))
        .unwrap();
        assert_eq!(counts.len(), expected.len(), "{workers} workers");
        let got: HashMap<String, u64> = counts.into_iter().collect();
        assert_eq!(got, expected, "{workers} workers");
    }
}

#[derive(Debug, Clone, PartialEq, weir::Record)]
struct Bid {
    auction: u64,
    price: u64,
    ts: i64,
}

/// A window's result: auction, window start and end, count, highest price.
type WindowRow = (u64, i64, i64, u64, u64);

/// `n` bids over 40 auctions, in event-time order but for a jitter of up to 1.5 s, with a
/// few far behind (late under a 2 s bound).
fn bids(n: u64) -> Vec<Bid> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|i| {
            let r = next();
            let jitter = (r % 1_500) as i64;
            let late = if r % 97 == 0 { 30_000 } else { 0 };
            Bid {
                auction: r % 40,
                price: (r >> 20) % 1_000,
                ts: (i as i64) * 10 - jitter - late,
            }
        })
        .collect()
}

/// The tumbling-window counts and price maxima of `bids` by (auction, window start),
/// by hand: a bid is late when its window ended at or before the watermark (the largest
/// event time so far less the 2 s bound) when it arrives.
fn window_reference(bids: &[Bid]) -> (Vec<WindowRow>, usize) {
    let mut windows: HashMap<(u64, i64), (u64, u64)> = HashMap::new();
    let (mut max_ts, mut late) = (i64::MIN, 0);
    for b in bids {
        let start = b.ts.div_euclid(10_000) * 10_000;
        let watermark = max_ts.saturating_sub(2_000);
        if max_ts != i64::MIN && start + 10_000 - 1 <= watermark {
            late += 1;
            continue;
        }
        max_ts = max_ts.max(b.ts);
        let w = windows.entry((b.auction, start)).or_default();
        w.0 += 1;
        w.1 = w.1.max(b.price);
    }
    let mut rows: Vec<_> = windows
        .into_iter()
        .map(|((a, s), (n, hi))| (a, s, s + 10_000, n, hi))
        .collect();
    rows.sort_unstable();
    (rows, late)
}

#[test]
fn event_time_windows_on_several_workers_match_a_reference_and_one_worker() {
    let input = bids(20_000);
    let (want, want_late) = window_reference(&input);
    assert!(want_late > 50, "the data has late bids: {want_late}");
    for workers in [1, 2, 3] {
        let (mut rows, late) = weir::stream! {
            source iter(input.iter().cloned()) with event_time(|b: &Bid| b.ts), watermark(bounded 2s)
            |> key_by(|b: &Bid| b.auction)
            |> window(tumbling 10s, late -> late_bids)
            |> aggregate(count(), max(|b: &Bid| b.price))
            |> collect();
            late_bids |> collect()
        }
        .run_with(JobConfig::default().parallelism(workers))
        .unwrap();
        rows.sort_unstable();
        assert_eq!(rows, want, "{workers} workers");
        assert_eq!(late.len(), want_late, "{workers} workers");
    }
}

#[test]
fn each_key_sees_its_records_in_input_order_on_the_worker_that_owns_it() {
    let input = bids(5_000);
    // An order-sensitive fold per auction, by hand in input order.
    let mut want: HashMap<u64, (u64, u64)> = HashMap::new();
    for b in &input {
        let e = want.entry(b.auction).or_insert((0, 0));
        e.0 = if e.1 == 0 {
            b.price
        } else {
            e.0.wrapping_mul(31).wrapping_add(b.price)
        };
        e.1 += 1;
    }
    let threads = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let seen = threads.clone();
    weir::stream! {
        source iter(input.iter().cloned())
        |> key_by(|b: &Bid| b.auction)
        |> aggregate(
            reduce(|b: &Bid| b.price, |a: u64, b: u64| a.wrapping_mul(31).wrapping_add(b)),
            count()
        )
        |> for_each(move |row: (u64, u64, u64)| {
            seen.lock().unwrap().insert(std::thread::current().id());
            tx.send(row).unwrap();
        })
    }
    .run_with(JobConfig::default().parallelism(3))
    .unwrap();
    let got: HashMap<u64, (u64, u64)> = rx.try_iter().map(|(k, h, n)| (k, (h, n))).collect();
    assert_eq!(got, want);
    assert!(
        threads.lock().unwrap().len() >= 2,
        "the results come from several workers"
    );
}

#[test]
fn distinct_and_a_window_join_on_several_workers_give_one_workers_records() {
    let orders: Vec<(u64, i64)> = (0..2_000).map(|i| (i % 300, (i as i64) * 37)).collect();
    let paid: Vec<(u64, i64, i64)> = (0..1_500)
        .map(|i| (i % 250, (i as i64) * 41 + 500, (i as i64) % 9))
        .collect();
    let run = |workers: usize| {
        let (mut firsts, mut pairs) = weir::stream! {
            let o = source iter(orders.clone()) with event_time(|r: &(u64, i64)| r.1), watermark(ascending);
            let p = source iter(paid.clone()) with event_time(|r: &(u64, i64, i64)| r.1), watermark(ascending)
                |> key_by(|r: &(u64, i64, i64)| r.0);
            o |> key_by(|r: &(u64, i64)| r.0) |> distinct() |> collect();
            o |> key_by(|r: &(u64, i64)| r.0) |> window(tumbling 10s) |> join(p) |> collect()
        }
        .run_with(JobConfig::default().parallelism(workers))
        .unwrap();
        firsts.sort_unstable();
        pairs.sort_unstable();
        (firsts, pairs)
    };
    let (firsts, pairs) = run(1);
    // By hand: the first order of each key, and the pairs of a key in one 10 s window.
    let mut first: HashMap<u64, (u64, i64)> = HashMap::new();
    for o in &orders {
        first.entry(o.0).or_insert(*o);
    }
    let mut want_firsts: Vec<_> = first.into_values().collect();
    want_firsts.sort_unstable();
    assert_eq!(firsts, want_firsts);
    let mut want_pairs = Vec::new();
    for o in &orders {
        for p in &paid {
            if o.0 == p.0 && o.1.div_euclid(10_000) == p.1.div_euclid(10_000) {
                want_pairs.push((*o, *p));
            }
        }
    }
    want_pairs.sort_unstable();
    assert_eq!(pairs, want_pairs);
    for workers in [2, 3] {
        assert_eq!(
            run(workers),
            (firsts.clone(), pairs.clone()),
            "{workers} workers"
        );
    }
}

#[test]
fn a_file_source_is_read_in_slices_by_every_worker() {
    let text = std::fs::read_to_string("dsl-examples/data/words.txt").unwrap();
    let mut want: HashMap<String, u64> = HashMap::new();
    for w in text.split_whitespace() {
        *want.entry(w.to_string()).or_default() += 1;
    }
    for workers in [1, 3] {
        let counts = weir::stream! {
            source text("dsl-examples/data/words.txt")
            |> flat_map(|l: String| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            |> key_by(|w: &String| w.clone())
            |> aggregate(count())
            |> collect()
        }
        .run_with(JobConfig::default().parallelism(workers))
        .unwrap();
        let got: HashMap<String, u64> = counts.into_iter().collect();
        assert_eq!(got, want, "{workers} workers");
    }
}

#[test]
fn explain_shows_each_workers_share_and_the_exchange_buffers() {
    let job = weir::stream! {
        source iter(vec![1u64, 2, 3])
        |> key_by(|n: &u64| n % 2)
        |> aggregate(count())
        |> collect()
    };
    let one = job.explain(&JobConfig::default()).unwrap();
    assert!(!one.contains("exchange buffers"), "{one}");
    let three = job
        .explain(&JobConfig::default().memory(64 << 20).parallelism(3))
        .unwrap();
    assert!(three.contains("per worker"), "{three}");
    assert!(three.contains("exchange buffers:"), "{three}");
    assert!(three.contains("3 workers, 1 exchange(s)"), "{three}");
    assert_eq!(
        job.run_with(JobConfig::default().parallelism(0))
            .unwrap_err()
            .to_string(),
        "parallelism takes a number from 1 to 1024, not 0"
    );
}

#[test]
fn two_processes_of_a_cluster_give_the_first_every_workers_records() {
    let input = bids(10_000);
    let (want, want_late) = window_reference(&input);
    let (_dir, hosts) = common::workers::hostfile(2);
    // Each thread is one process of the cluster, running the same program on its own
    // copy of the data; only the first process's iterator is read.
    let results = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..2)
            .map(|process| {
                let (hosts, input) = (hosts.clone(), input.clone());
                scope.spawn(move || {
                    let cluster = Cluster {
                        threads: 2,
                        processes: 2,
                        process,
                        hostfile: Some(hosts),
                    };
                    weir::stream! {
                        source iter(input) with event_time(|b: &Bid| b.ts), watermark(bounded 2s)
                        |> key_by(|b: &Bid| b.auction)
                        |> window(tumbling 10s, late -> late_bids)
                        |> aggregate(count(), max(|b: &Bid| b.price))
                        |> collect();
                        late_bids |> collect()
                    }
                    .run_with(JobConfig::default().cluster(cluster))
                    .unwrap()
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().unwrap())
            .collect::<Vec<_>>()
    });
    let (mut rows, late) = results[0].clone();
    rows.sort_unstable();
    assert_eq!(rows, want);
    assert_eq!(late.len(), want_late);
    assert!(results[1].0.is_empty() && results[1].1.is_empty());
}

#[test]
fn a_panic_in_a_closure_on_any_worker_reaches_the_caller_and_stops_the_others() {
    let input = bids(2_000);
    for workers in [2, 3] {
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            weir::stream! {
                source iter(input.iter().cloned())
                |> key_by(|b: &Bid| b.auction)
                |> aggregate(sum(|b: &Bid| if b.auction == 7 { panic!("auction 7") } else { b.price }))
                |> collect()
            }
            .run_with(JobConfig::default().parallelism(workers))
        }));
        let payload = run.expect_err("the closure's panic goes on");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"auction 7"));
    }
}

#[test]
fn empty_input_a_missing_file_and_too_little_memory_per_worker_on_several_workers() {
    let none: Vec<u64> = Vec::new();
    let counts = weir::stream! {
        source iter(none.clone())
        |> key_by(|n: &u64| *n)
        |> aggregate(count())
        |> collect()
    }
    .run_with(JobConfig::default().parallelism(3))
    .unwrap();
    assert!(counts.is_empty());

    let missing = weir::stream! {
        source text("dsl-examples/data/no-such-file.txt")
        |> key_by(|l: &String| l.clone())
        |> aggregate(count())
        |> collect()
    }
    .run_with(JobConfig::default().parallelism(2))
    .unwrap_err()
    .to_string();
    assert!(missing.contains("no-such-file.txt"), "{missing}");

    // 1 MiB cannot give 64 workers each their aggregate's least.
    let starved = weir::stream! {
        source iter(vec![1u64, 2, 3])
        |> key_by(|n: &u64| *n)
        |> aggregate(count())
        |> collect()
    }
    .run_with(JobConfig::default().memory(1 << 20).parallelism(64))
    .unwrap_err()
    .to_string();
    assert!(starved.contains("64 workers"), "{starved}");
}
