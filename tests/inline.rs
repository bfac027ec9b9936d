//! `stream!` pipelines over in-memory data, checked against answers computed here.

mod common;

use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, PartialEq, weir::Record)]
struct Bid {
    auction: u64,
    price: u64,
    ts: i64,
}

#[test]
fn wordcount_over_an_iterator_matches_a_hash_map_count() {
    let lines: Vec<String> = (0..200)
        .map(|i| format!("w{} w{} common", i % 7, i % 13))
        .collect();
    let mut expected: HashMap<String, u64> = HashMap::new();
    for l in &lines {
        for w in l.split_whitespace() {
            *expected.entry(w.to_string()).or_default() += 1;
        }
    }
    let counts = weir::stream! {
        source iter(lines.clone())
        |> flat_map(|l: String| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        |> key_by(|w: &String| w.clone())
        |> aggregate(count())
        |> collect()
    }
    .run()
    .unwrap();
    assert_eq!(counts.len(), expected.len());
    let got: HashMap<String, u64> = counts.into_iter().collect();
    assert_eq!(got, expected);
}

#[test]
fn event_time_windows_filter_and_aggregate() {
    let bids = vec![
        Bid {
            auction: 1,
            price: 10,
            ts: 0,
        },
        Bid {
            auction: 1,
            price: 30,
            ts: 5,
        },
        Bid {
            auction: 2,
            price: 7,
            ts: 9,
        },
        Bid {
            auction: 1,
            price: 3,
            ts: 12_000,
        },
        Bid {
            auction: 1,
            price: 50,
            ts: 12_500,
        },
    ];
    let out = weir::stream! {
        source iter(bids) with event_time(|b: &Bid| b.ts), watermark(bounded 2s)
        |> filter(|b: &Bid| b.price > 5)
        |> key_by(|b: &Bid| b.auction)
        |> window(tumbling 10s)
        |> aggregate(count(), max(|b: &Bid| b.price), avg(|b: &Bid| b.price))
        |> collect()
    }
    .run()
    .unwrap();
    // Hand-checked: the 3-priced bid is filtered out; windows fire in order of end.
    assert_eq!(
        out,
        vec![
            (1, 0, 10_000, 2, 30, 20.0),
            (2, 0, 10_000, 1, 7, 7.0),
            (1, 10_000, 20_000, 1, 50, 50.0)
        ]
    );
}

#[test]
fn closures_borrow_the_programs_locals_and_for_each_receives_every_result() {
    let threshold = 15u64;
    let mut seen = Vec::new();
    let bids = [
        Bid {
            auction: 3,
            price: 10,
            ts: 0,
        },
        Bid {
            auction: 3,
            price: 20,
            ts: 1,
        },
        Bid {
            auction: 4,
            price: 40,
            ts: 2,
        },
        Bid {
            auction: 3,
            price: 25,
            ts: 3,
        },
    ];
    weir::stream! {
        source iter(bids.iter().cloned())
        |> filter(|b: &Bid| b.price > threshold)
        |> key_by(|b: &Bid| b.auction)
        |> aggregate(sum(|b: &Bid| b.price), reduce(|b: &Bid| b.price, |a: u64, b: u64| a.max(b)))
        |> for_each(|row: (u64, u64, u64)| seen.push(row))
    }
    .run()
    .unwrap();
    assert_eq!(seen, vec![(3, 45, 25), (4, 40, 40)]);
}

#[test]
fn an_aggregate_past_its_budget_spills_and_gives_the_same_rows() {
    let keys: Vec<u64> = (0..300_000).map(|i| (i * 7919) % 100_003).collect();
    let spill = tempfile::tempdir().unwrap();
    // The sum's value type is inferred from the closure: rustc tells weir it is an
    // integer, so its partial sums merge exactly and the state may spill.
    let small = weir::stream! {
        source iter(keys.clone())
        |> key_by(|k: &u64| *k)
        |> aggregate(count(), sum(|k: &u64| *k % 7))
        |> collect()
    }
    .run_with(
        weir::JobConfig::default()
            .memory(1 << 20)
            .spill_dir(spill.path()),
    )
    .unwrap();
    // The reference: counts and sums in first-seen order.
    let mut want: Vec<(u64, u64, u64)> = Vec::new();
    let mut at = std::collections::HashMap::new();
    for &k in &keys {
        let i = *at.entry(k).or_insert_with(|| {
            want.push((k, 0, 0));
            want.len() - 1
        });
        want[i].1 += 1;
        want[i].2 += k % 7;
    }
    assert_eq!(small, want);
    assert_eq!(
        std::fs::read_dir(spill.path()).unwrap().count(),
        0,
        "the run's spill directory is gone"
    );
}

#[test]
fn a_budget_too_small_for_a_state_that_cannot_spill_fails_naming_the_operator() {
    let keys: Vec<u64> = (0..1_000_000).collect();
    let result = weir::stream! {
        source iter(keys)
        |> key_by(|k: &u64| *k)
        |> aggregate(reduce(|k: &u64| *k, |a: u64, b: u64| a.max(b)))
        |> collect()
    }
    .run_with(weir::JobConfig::default().memory(1 << 20));
    let error = result.unwrap_err().to_string();
    assert!(error.contains("aggregate"), "{error}");
    assert!(
        error.contains("cannot spill to disk: a `reduce`"),
        "{error}"
    );
}

#[test]
fn bad_csv_records_follow_the_sources_policy() {
    // A file path is a literal in the pipeline, so the data goes where it says.
    std::fs::create_dir_all(common::root().join("target")).unwrap();
    let data = "auction,price,ts\n1,10,0\nx,11,1\n1,12,2\n";
    std::fs::write(common::root().join("target/inline-bad-records.csv"), data).unwrap();
    let out = weir::stream! {
        source csv::<Bid>("target/inline-bad-records.csv") with on_error(skip)
        |> key_by(|b: &Bid| b.auction)
        |> aggregate(count(), sum(|b: &Bid| b.price))
        |> collect()
    }
    .run()
    .unwrap();
    assert_eq!(out, vec![(1, 2, 22)]);
    let failing = weir::stream! {
        source csv::<Bid>("target/inline-bad-records.csv")
        |> collect()
    }
    .run();
    let error = failing.unwrap_err().to_string();
    assert!(error.contains("inline-bad-records.csv:3"), "{error}");
    assert!(error.contains("field `auction`"), "{error}");
}

#[test]
fn an_inline_job_names_its_operators_at_their_place_in_this_file() {
    let v = vec![1u64, 2, 2, 3];
    let job = weir::stream! {
        source iter(v)
        |> key_by(|x: &u64| *x)
        |> distinct()
        |> key_by(|x: &u64| x % 2)
        |> aggregate(count())
        |> collect()
    };
    let table = job.explain(&weir::JobConfig::default()).unwrap();
    let line = line!();
    // The steps are written 6 and 4 lines above `line!()`, at column 12.
    let distinct = format!("distinct at {}:{}:12", file!(), line - 6);
    let aggregate = format!("aggregate at {}:{}:12", file!(), line - 4);
    assert!(table.contains(&distinct), "{distinct} in\n{table}");
    assert!(table.contains(&aggregate), "{aggregate} in\n{table}");
    let mut counts = job.run().unwrap();
    counts.sort();
    assert_eq!(counts, vec![(0, 1), (1, 2)]);
}

#[test]
fn a_late_record_re_fires_its_sliding_windows_in_order_of_end() {
    let rows: Vec<(u64, i64)> = vec![(1, 1_000), (1, 16_000), (1, 6_000)];
    let got = weir::stream! {
        source iter(rows) with event_time(|r: &(u64, i64)| r.1), watermark(ascending)
        |> key_by(|r: &(u64, i64)| r.0)
        |> window(sliding 10s every 5s, allowed_lateness 20s)
        |> aggregate(count())
        |> collect()
    }
    .run()
    .unwrap();
    // 16000 moves the watermark to 15999: the windows ending by then fire. 6000 is late
    // but allowed: [0, 10s) fires again with 2, then [5s, 15s) with 1, in order of end.
    assert_eq!(
        got,
        vec![
            (1, -5_000, 5_000, 1),
            (1, 0, 10_000, 1),
            (1, 0, 10_000, 2),
            (1, 5_000, 15_000, 1),
            (1, 10_000, 20_000, 1),
            (1, 15_000, 25_000, 1),
        ]
    );
}

#[test]
fn a_panic_in_a_closure_leaves_no_spill_files() {
    let keys: Vec<u64> = (0..300_000).map(|i| (i * 7919) % 100_003).collect();
    let spill = tempfile::tempdir().unwrap();
    let dir = spill.path().to_path_buf();
    // Late in the input, when 1 MB has long been spilled.
    let seen = std::sync::atomic::AtomicUsize::new(0);
    let outcome = std::panic::catch_unwind(|| {
        weir::stream! {
            source iter(keys)
            |> map(|k: u64| {
                if seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 250_000 {
                    panic!("the user's closure gave up");
                }
                k
            })
            |> key_by(|k: &u64| *k)
            |> aggregate(count())
            |> collect()
        }
        .run_with(weir::JobConfig::default().memory(1 << 20).spill_dir(dir))
    });
    assert!(outcome.is_err(), "the closure panicked");
    // Unwinding drops the job's context and state, and with them the last handle on the
    // spill directory, which removes it.
    assert_eq!(
        std::fs::read_dir(spill.path()).unwrap().count(),
        0,
        "the spill directory went with the unwinding job"
    );
}

#[test]
fn a_union_of_two_iterator_sources_reads_each_of_them_once() {
    // Longer than a batch of the run loop, so the two sources are open at once.
    let a: Vec<u64> = (0..600).collect();
    let b: Vec<u64> = (1_000..1_450).collect();
    let got = weir::stream! {
        let left = source iter(a.clone());
        let right = source iter(b.clone());
        left |> union(right) |> collect()
    }
    .run()
    .unwrap();
    // Without event time both count as lowest: the first declared is read to its end.
    let want: Vec<u64> = a.iter().chain(&b).copied().collect();
    assert_eq!(got, want);
}

#[test]
fn an_inline_window_join_yields_pairs_and_options() {
    let orders: Vec<(u64, i64)> = vec![(1, 1_000), (2, 2_000), (3, 12_000)];
    let paid: Vec<(u64, i64, i64)> = vec![(1, 1_500, 30), (1, 9_000, 5), (3, 25_000, 7)];
    let (pairs, left) = weir::stream! {
        let o = source iter(orders.clone()) with event_time(|r: &(u64, i64)| r.1), watermark(ascending);
        let p = source iter(paid.clone()) with event_time(|r: &(u64, i64, i64)| r.1), watermark(ascending)
            |> key_by(|r: &(u64, i64, i64)| r.0);
        o |> key_by(|r: &(u64, i64)| r.0) |> window(tumbling 10s) |> join(p) |> collect();
        o |> key_by(|r: &(u64, i64)| r.0) |> window(tumbling 10s) |> join(p, left) |> collect()
    }
    .run()
    .unwrap();
    assert_eq!(
        pairs,
        [((1, 1_000), (1, 1_500, 30)), ((1, 1_000), (1, 9_000, 5))]
    );
    assert_eq!(
        left,
        [
            ((1, 1_000), Some((1, 1_500, 30))),
            ((1, 1_000), Some((1, 9_000, 5))),
            ((2, 2_000), None),
            ((3, 12_000), None),
        ]
    );
}

#[test]
fn an_inline_outer_interval_join_yields_options_for_records_without_a_partner() {
    // Payments 0 to 5 s after their order: order 1 is paid in time, order 2 too late
    // (6 s), order 3 never; the payment of order 4 comes before the order.
    let orders: Vec<(u64, i64)> = vec![(1, 1_000), (2, 2_000), (3, 3_000), (4, 9_000)];
    let paid: Vec<(u64, i64)> = vec![(1, 4_000), (4, 8_500), (2, 8_000)];
    let mut full = weir::stream! {
        let o = source iter(orders.clone()) with event_time(|r: &(u64, i64)| r.1), watermark(bounded 1s);
        let p = source iter(paid.clone()) with event_time(|r: &(u64, i64)| r.1), watermark(bounded 1s)
            |> key_by(|r: &(u64, i64)| r.0);
        o |> key_by(|r: &(u64, i64)| r.0) |> interval_join(p, between 0s and 5s, full) |> collect()
    }
    .run()
    .unwrap();
    full.sort();
    assert_eq!(
        full,
        [
            (None, Some((2, 8_000))),
            (None, Some((4, 8_500))),
            (Some((1, 1_000)), Some((1, 4_000))),
            (Some((2, 2_000)), None),
            (Some((3, 3_000)), None),
            (Some((4, 9_000)), None),
        ]
    );
}

/// Session semantics, as docs/language.md states them and as Flink merges windows that
/// touch: a record exactly a gap after another's is in its session (the first's window
/// `[0, 30s)` touches the second's `[30s, 60s)`); a millisecond more and it is not.
#[test]
fn records_exactly_a_gap_apart_share_a_session() {
    for (second, want) in [
        (30_000i64, vec![(1u64, 0i64, 60_000i64, 2u64)]),
        (30_001, vec![(1, 0, 30_000, 1), (1, 30_001, 60_001, 1)]),
    ] {
        let rows = vec![(1u64, 0i64), (1, second)];
        let got = weir::stream! {
            source iter(rows) with event_time(|r: &(u64, i64)| r.1), watermark(ascending)
            |> key_by(|r: &(u64, i64)| r.0)
            |> window(session gap 30s)
            |> aggregate(count())
            |> collect()
        }
        .run()
        .unwrap();
        assert_eq!(got, want, "second record at {second}");
    }
}

#[derive(Debug, Clone, PartialEq, weir::Record)]
struct View {
    user: u64,
    page: String,
    ts: i64,
}

/// `count_distinct` over text and numbers in a tumbling window and a keyed aggregate,
/// against sets counted here.
#[test]
fn count_distinct_counts_what_a_hash_set_counts() {
    let views: Vec<View> = (0..20_000i64)
        .map(|i| View {
            user: (i * 31 % 17) as u64,
            page: format!("/p/{}", i * 7 % 101),
            ts: i * 10,
        })
        .collect();
    let windows = weir::stream! {
        source iter(views.clone()) with event_time(|v: &View| v.ts), watermark(ascending)
        |> key_by(|v: &View| v.user)
        |> window(tumbling 10s)
        |> aggregate(count(), count_distinct(|v: &View| v.page.clone()), count_distinct(|v: &View| v.ts % 7))
        |> collect()
    }
    .run()
    .unwrap();
    // Per (window start, user): the count, the pages and the numbers seen.
    type Seen = (u64, HashSet<String>, HashSet<i64>);
    let mut want: std::collections::BTreeMap<(i64, u64), Seen> = Default::default();
    for v in &views {
        let start = v.ts - v.ts.rem_euclid(10_000);
        let w = want.entry((start, v.user)).or_default();
        w.0 += 1;
        w.1.insert(v.page.clone());
        w.2.insert(v.ts % 7);
    }
    let mut got: Vec<(i64, u64, u64, u64, u64)> = windows
        .into_iter()
        .map(|(user, start, _end, n, pages, sevens)| (start, user, n, pages, sevens))
        .collect();
    got.sort_unstable();
    let want: Vec<(i64, u64, u64, u64, u64)> = want
        .into_iter()
        .map(|((start, user), (n, pages, sevens))| {
            (start, user, n, pages.len() as u64, sevens.len() as u64)
        })
        .collect();
    assert_eq!(got, want);

    let per_user = weir::stream! {
        source iter(views.clone())
        |> key_by(|v: &View| v.user)
        |> aggregate(count_distinct(|v: &View| v.page.clone()))
        |> collect()
    }
    .run()
    .unwrap();
    let mut sets: HashMap<u64, HashSet<&str>> = HashMap::new();
    for v in &views {
        sets.entry(v.user).or_default().insert(&v.page);
    }
    assert_eq!(per_user.len(), sets.len());
    for (user, pages) in per_user {
        assert_eq!(pages, sets[&user].len() as u64, "user {user}");
    }
}
