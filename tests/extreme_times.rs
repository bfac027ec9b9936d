//! Event times at the ends of the valid range, and outside it, for every window kind: valid
//! records land in windows whose bounds are computed without overflow (checked against
//! 128-bit arithmetic here), records outside the range are bad records under the source's
//! policy, and no run opens windows without end. Records come in time order, so none is
//! late (lateness has its own reference tests in `tests/windows.rs`).

use std::collections::BTreeMap;

use proptest::prelude::*;
use weir::runtime::time::{MAX_DURATION, MAX_TIMESTAMP, MIN_TIMESTAMP};

/// Timestamps near the ends of the range and of `i64`, and anywhere between.
fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        (0i64..1000).prop_map(|d| MIN_TIMESTAMP + d),
        (0i64..1000).prop_map(|d| MAX_TIMESTAMP - d),
        (0i64..1000).prop_map(|d| i64::MIN + d),
        (0i64..1000).prop_map(|d| i64::MAX - d),
        MIN_TIMESTAMP..=MAX_TIMESTAMP,
        -10_000i64..10_000,
    ]
}

/// Keyed records with such timestamps, in time order.
fn in_time_order() -> impl Strategy<Value = Vec<(u64, i64)>> {
    prop::collection::vec((0u64..3, timestamp()), 0..60).prop_map(|mut rows| {
        rows.sort_by_key(|r| r.1);
        rows
    })
}

fn valid(ts: i64) -> bool {
    (MIN_TIMESTAMP..=MAX_TIMESTAMP).contains(&ts)
}

/// Tumbling windows per key, computed in i128: (key, start, end) -> count.
fn tumbling_reference(rows: &[(u64, i64)], size: i64) -> BTreeMap<(u64, i64, i64), u64> {
    let mut out = BTreeMap::new();
    for &(k, ts) in rows.iter().filter(|r| valid(r.1)) {
        let start = i128::from(ts) - i128::from(ts).rem_euclid(i128::from(size));
        let end = start + i128::from(size);
        let key = (
            k,
            i64::try_from(start).unwrap(),
            i64::try_from(end).unwrap(),
        );
        *out.entry(key).or_default() += 1;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn tumbling_windows_at_the_ends_of_time(
        rows in in_time_order(),
        size in prop_oneof![Just(7i64), Just(MAX_DURATION)],
    ) {
        let sized = run_tumbling(rows.clone(), size);
        let mut got: BTreeMap<(u64, i64, i64), u64> = BTreeMap::new();
        for (k, start, end, n) in sized {
            prop_assert!(start < end);
            *got.entry((k, start, end)).or_default() += n;
        }
        prop_assert_eq!(got, tumbling_reference(&rows, size));
    }

    #[test]
    fn sliding_session_and_count_windows_at_the_ends_of_time(rows in in_time_order()) {
        let in_range = rows.iter().filter(|r| valid(r.1)).count() as u64;
        // Sliding 4 ms every 2 ms: each valid record is in exactly two windows.
        let sliding = weir::stream! {
            source iter(rows.clone())
                with event_time(|r: &(u64, i64)| r.1), watermark(bounded 1s), on_error(skip)
            |> key_by(|r: &(u64, i64)| r.0)
            |> window(sliding 4ms every 2ms, allowed_lateness 1s)
            |> aggregate(count())
            |> collect()
        }
        .run()
        .unwrap();
        let mut per_window: BTreeMap<(u64, i64, i64), u64> = BTreeMap::new();
        for (k, start, end, n) in sliding {
            prop_assert!(start < end && end - start == 4);
            // A re-fired window replaces its earlier result.
            per_window.insert((k, start, end), n);
        }
        prop_assert_eq!(per_window.values().sum::<u64>(), 2 * in_range);

        let sessions = weir::stream! {
            source iter(rows.clone())
                with event_time(|r: &(u64, i64)| r.1), watermark(bounded 1s), on_error(skip)
            |> key_by(|r: &(u64, i64)| r.0)
            |> window(session gap 1000d)
            |> aggregate(count(), min(|r: &(u64, i64)| r.1), max(|r: &(u64, i64)| r.1))
            |> collect()
        }
        .run()
        .unwrap();
        let mut total = 0;
        for (_, start, end, n, first, last) in sessions {
            prop_assert!(start <= first && last < end);
            total += n;
        }
        prop_assert_eq!(total, in_range);

        let counted = weir::stream! {
            source iter(rows.clone())
                with event_time(|r: &(u64, i64)| r.1), watermark(bounded 1s), on_error(skip)
            |> key_by(|r: &(u64, i64)| r.0)
            |> window(count 3)
            |> aggregate(count())
            |> collect()
        }
        .run()
        .unwrap();
        prop_assert_eq!(counted.iter().map(|r| r.1).sum::<u64>(), in_range);
    }
}

/// Tumbling windows of `size` ms: 7 or the longest duration (a window size is written in
/// the pipeline, so each has a pipeline of its own).
fn run_tumbling(rows: Vec<(u64, i64)>, size: i64) -> Vec<(u64, i64, i64, u64)> {
    if size == MAX_DURATION {
        return weir::stream! {
            source iter(rows)
                with event_time(|r: &(u64, i64)| r.1), watermark(bounded 1s), on_error(skip)
            |> key_by(|r: &(u64, i64)| r.0)
            |> window(tumbling 1152921504606846976ms)
            |> aggregate(count())
            |> collect()
        }
        .run()
        .unwrap();
    }
    assert_eq!(size, 7);
    weir::stream! {
        source iter(rows)
            with event_time(|r: &(u64, i64)| r.1), watermark(bounded 1s), on_error(skip)
        |> key_by(|r: &(u64, i64)| r.0)
        |> window(tumbling 7ms)
        |> aggregate(count())
        |> collect()
    }
    .run()
    .unwrap()
}

#[test]
fn a_record_out_of_range_fails_the_job_by_default_and_says_where() {
    let rows = vec![(1u64, 5i64), (1, i64::MIN)];
    let e = weir::stream! {
        source iter(rows) with event_time(|r: &(u64, i64)| r.1), watermark(ascending)
        |> key_by(|r: &(u64, i64)| r.0)
        |> window(tumbling 1s)
        |> aggregate(count())
        |> collect()
    }
    .run()
    .unwrap_err()
    .to_string();
    assert!(e.contains("<iterator>:2"), "{e}");
    assert!(e.contains("outside the range weir accepts"), "{e}");
}
