//! `distinct`: the first record of each key, in input order, against a plain-Rust
//! reference on random input, through both front-ends; and the example's output against
//! its data.

mod common;

use std::collections::HashSet;
use std::path::Path;

use common::*;
use proptest::prelude::*;

/// The first record of each key, in input order.
fn first_of_each<T: Clone, K: std::hash::Hash + Eq>(rows: &[T], key: impl Fn(&T) -> K) -> Vec<T> {
    let mut seen = HashSet::new();
    rows.iter()
        .filter(|r| seen.insert(key(r)))
        .cloned()
        .collect()
}

fn distinct_inline(rows: Vec<(u64, i64)>) -> Vec<(u64, i64)> {
    weir::stream! {
        source iter(rows)
        |> key_by(|r: &(u64, i64)| r.0)
        |> distinct()
        |> collect()
    }
    .run()
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn inline_distinct_keeps_the_first_record_of_each_key(
        rows in prop::collection::vec((0u64..40, any::<i64>()), 0..400)
    ) {
        let expected = first_of_each(&rows, |r| r.0);
        prop_assert_eq!(distinct_inline(rows), expected);
    }

    #[test]
    fn inline_distinct_on_text_and_tuple_keys(
        rows in prop::collection::vec(("[a-c]{0,3}", 0u8..3), 0..200)
    ) {
        let expected = first_of_each(&rows, |r| r.clone());
        let got = weir::stream! {
            source iter(rows.clone())
            |> key_by(|r: &(String, u8)| (r.0.clone(), r.1 as u64))
            |> distinct()
            |> collect()
        }
        .run()
        .unwrap();
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn inline_distinct_over_many_keys_grows_its_table_in_pages() {
    // 200k keys fill many pool pages and several index growths; the reference is exact.
    let rows: Vec<(u64, i64)> = (0..400_000u64)
        .map(|i| ((i * 7919) % 200_003, i as i64))
        .collect();
    let expected = first_of_each(&rows, |r| r.0);
    assert_eq!(expected.len(), 200_003.min(rows.len()));
    assert_eq!(distinct_inline(rows), expected);
}

#[test]
fn distinct_keeps_event_time_so_a_window_can_follow() {
    // Per user, only the first click counts; first clicks are then counted per 10 s window.
    let clicks: Vec<(u64, i64)> = vec![(1, 0), (2, 1_000), (1, 2_000), (3, 12_000), (2, 13_000)];
    let got = weir::stream! {
        source iter(clicks) with event_time(|c: &(u64, i64)| c.1), watermark(bounded 1s)
        |> key_by(|c: &(u64, i64)| c.0)
        |> distinct()
        |> key_by(|_c: &(u64, i64)| 0u64)
        |> window(tumbling 10s)
        |> aggregate(count())
        |> collect()
    }
    .run()
    .unwrap();
    // Users 1 and 2 first click in [0, 10s), user 3 in [10s, 20s).
    assert_eq!(got, vec![(0, 0, 10_000, 2), (0, 10_000, 20_000, 1)]);
}

/// `k,v` rows as CSV with a header.
fn csv_text(rows: &[(u64, i64)]) -> String {
    let mut text = String::from("k,v\n");
    for (k, v) in rows {
        text.push_str(&format!("{k},{v}\n"));
    }
    text
}

#[test]
fn pipe_distinct_matches_the_reference_on_random_input() {
    let dir = temp();
    let pipe = dir.path().join("distinct_kv.pipe");
    std::fs::write(
        &pipe,
        "schema KV { k: u64, v: i64 }\n\
         source rows: KV = csv(\"in.csv\");\n\
         rows |> key_by(k) |> distinct() |> sink out = csv(\"out.csv\");\n",
    )
    .unwrap();
    let bin = build(&pipe);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(24));
    let strategy = prop::collection::vec((0u64..30, -1000i64..1000), 0..300);
    runner
        .run(&strategy, |rows| {
            let input = dir.path().join("in.csv");
            let output = dir.path().join("out.csv");
            std::fs::write(&input, csv_text(&rows)).unwrap();
            run_ok(
                &bin,
                &[
                    "--input",
                    &format!("rows={}", input.display()),
                    "--output",
                    &format!("out={}", output.display()),
                ],
            );
            let got: Vec<(u64, i64)> = csv::Reader::from_path(&output)
                .unwrap()
                .deserialize()
                .map(Result::unwrap)
                .collect();
            let want = first_of_each(&rows, |r| r.0);
            prop_assert_eq!(&got, &want);
            // On several workers: the same records, in another order across keys.
            for workers in PARALLEL {
                workers.run_ok(
                    &bin,
                    &[
                        "--input",
                        &format!("rows={}", input.display()),
                        "--output",
                        &format!("out={}", output.display()),
                    ],
                );
                let mut many: Vec<(u64, i64)> = csv::Reader::from_path(&output)
                    .unwrap()
                    .deserialize()
                    .map(Result::unwrap)
                    .collect();
                let mut want = want.clone();
                many.sort();
                want.sort();
                prop_assert_eq!(many, want, "{}", workers);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn first_visits_example_keeps_each_users_first_click_per_page() {
    let bin = build(Path::new("dsl-examples/first_visits.pipe"));
    let dir = temp();
    let out = dir.path().join("first.csv");
    run_ok(
        &bin,
        &["--output", &format!("first_visits={}", out.display())],
    );
    let clicks: Vec<(String, String, i64)> =
        csv::Reader::from_path(root().join("dsl-examples/data/clicks.csv"))
            .unwrap()
            .deserialize()
            .map(Result::unwrap)
            .collect();
    let expected = first_of_each(&clicks, |c| (c.0.clone(), c.1.clone()));
    assert!(
        expected.len() < clicks.len(),
        "the data has a repeated visit"
    );
    let got: Vec<(String, String, i64)> = csv::Reader::from_path(&out)
        .unwrap()
        .deserialize()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got, expected);
}
