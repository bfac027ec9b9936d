//! Interval joins against a reference written here: every pair of a left and a right
//! record with equal keys whose times fit the interval, found by a nested loop over all
//! records, filtered by the lateness rule; for outer joins, every record that is not late
//! and meets no partner, alone. Random inputs with disorder, equal timestamps, duplicate
//! keys on both sides, late records on both sides, and inputs long enough that the run
//! loop interleaves them; the interval's edges by hand; both orders of declaring the
//! inputs.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::join_schedule::arrivals;
use common::*;
use proptest::prelude::*;

/// The watermark bound: 1,999 ms, so watermarks (`max - 2000`) land on record times (steps of
/// 250 ms) and a record exactly at the watermark is tested.
const BOUND: i64 = 1_999;

/// A record of either side: time, key, and a payload column.
#[derive(Debug, Clone)]
struct Rec {
    ts: i64,
    key: u64,
    tag: String,
}

/// How a job is set up: the interval as written, and which input is declared first (then
/// late payments go to a side output).
#[derive(Debug, Clone, Copy)]
struct Setup {
    name: &'static str,
    between: &'static str,
    /// The inclusive bounds `between` means, in ms.
    lower: i64,
    upper: i64,
    orders_first: bool,
    /// `""` (inner), `"left"`, `"right"` or `"full"`.
    kind: &'static str,
}

impl Setup {
    /// Whether orders without a payment are emitted alone, and payments without an order.
    fn alone(self) -> [bool; 2] {
        [
            matches!(self.kind, "left" | "full"),
            matches!(self.kind, "right" | "full"),
        ]
    }
}

/// Orders declared first; late payments to a side output.
const ORDERS_FIRST: Setup = Setup {
    name: "interval_orders_first",
    between: "between -2s and 3s",
    lower: -2_000,
    upper: 3_000,
    orders_first: true,
    kind: "",
};

/// Payments declared first; late records counted; bounds exclusive at both ends.
const PAYMENTS_FIRST: Setup = Setup {
    name: "interval_payments_first",
    between: "between 0s and 5s, exclusive_lower, exclusive_upper",
    lower: 1,
    upper: 4_999,
    orders_first: false,
    kind: "",
};

/// A full outer join: orders first, late payments to a side output.
const FULL: Setup = Setup {
    name: "interval_full",
    kind: "full",
    ..ORDERS_FIRST
};

/// A left outer join with payments declared first, exclusive bounds.
const LEFT: Setup = Setup {
    name: "interval_left",
    kind: "left",
    ..PAYMENTS_FIRST
};

/// A right outer join: orders first.
const RIGHT: Setup = Setup {
    name: "interval_right",
    kind: "right",
    ..ORDERS_FIRST
};

fn job(s: Setup) -> PathBuf {
    let orders = format!("source orders: Order = csv(\"orders.csv\") with event_time(ts), watermark(bounded {BOUND}ms);\n");
    let payments = format!("source payments: Payment = csv(\"payments.csv\") with event_time(ts), watermark(bounded {BOUND}ms);\n");
    let (first, second) = if s.orders_first {
        (orders, payments)
    } else {
        (payments, orders)
    };
    let late = if s.orders_first {
        ", late_right -> late_paid"
    } else {
        ""
    };
    let kind = match s.kind {
        "" => String::new(),
        k => format!(", {k}"),
    };
    let mut text = format!(
        "schema Order {{ ts: timestamp, id: u64, tag: str }}\n\
         schema Payment {{ ts: timestamp, order_id: u64, tag: str }}\n\
         {first}{second}\
         let paid = payments |> key_by(order_id);\n\
         orders |> key_by(id) |> interval_join(paid, {}{kind}{late}) |> sink pairs = csv(\"pairs.csv\");\n",
        s.between
    );
    if s.orders_first {
        text.push_str("late_paid |> sink late = csv(\"late.csv\");\n");
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("join-jobs");
    std::fs::create_dir_all(&dir).unwrap();
    let pipe = dir.join(format!("{}.pipe", s.name));
    std::fs::write(&pipe, text).unwrap();
    build(&pipe)
}

fn built(s: Setup) -> &'static Path {
    static JOBS: [OnceLock<PathBuf>; 5] = [const { OnceLock::new() }; 5];
    let i = match (s.kind, s.orders_first) {
        ("", true) => 0,
        ("", false) => 1,
        ("full", _) => 2,
        ("left", _) => 3,
        _ => 4,
    };
    JOBS[i].get_or_init(|| job(s))
}

fn write_csv(path: &Path, key: &str, recs: &[Rec]) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(["ts", key, "tag"]).unwrap();
    for r in recs {
        w.write_record([r.ts.to_string(), r.key.to_string(), r.tag.clone()])
            .unwrap();
    }
    w.flush().unwrap();
}

/// The pairs the job wrote, the late payments it sent to its side output, and stderr.
fn run_job(
    s: Setup,
    orders: &[Rec],
    payments: &[Rec],
    workers: Workers,
) -> (Vec<Vec<String>>, Vec<Vec<String>>, String) {
    let dir = temp();
    let at = |f: &str| dir.path().join(f).display().to_string();
    write_csv(&dir.path().join("orders.csv"), "id", orders);
    write_csv(&dir.path().join("payments.csv"), "order_id", payments);
    let mut args = vec![
        "--input".to_string(),
        format!("orders={}", at("orders.csv")),
        "--input".to_string(),
        format!("payments={}", at("payments.csv")),
        "--output".to_string(),
        format!("pairs={}", at("pairs.csv")),
    ];
    if s.orders_first {
        args.push("--output".into());
        args.push(format!("late={}", at("late.csv")));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = workers.run(built(s), &args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    let pairs = read_csv(&dir.path().join("pairs.csv")).1;
    let late = if s.orders_first {
        read_csv(&dir.path().join("late.csv")).1
    } else {
        Vec::new()
    };
    (pairs, late, stderr)
}

fn cols(r: &Rec) -> Vec<String> {
    vec![r.ts.to_string(), r.key.to_string(), r.tag.clone()]
}

/// An output row: each side's columns (defaults when it is missing), and a `matched` flag
/// after a side an outer join can miss (the order's when payments are emitted alone, the
/// payment's when orders are).
fn row(s: Setup, order: Option<&Rec>, payment: Option<&Rec>) -> Vec<String> {
    let missing = || vec!["0".to_string(), "0".to_string(), String::new()];
    let [orders_alone, payments_alone] = s.alone();
    let mut row = order.map_or_else(missing, cols);
    if payments_alone {
        row.push(order.is_some().to_string());
    }
    row.extend(payment.map_or_else(missing, cols));
    if orders_alone {
        row.push(payment.is_some().to_string());
    }
    row
}

/// The reference: the pairs in output order, and the late records of each input (first
/// declared, then the other).
///
/// The records reach the join in the order the run loop reads the two sources
/// (`common::join_schedule`), each with the join's watermark at that point; a record is
/// late when that watermark has reached its time. Each record that is not late meets,
/// when it arrives, every earlier record of the other side that was not late, has its key
/// and a time in the interval, in order of time (ties in arrival order).
fn reference(s: Setup, orders: &[Rec], payments: &[Rec]) -> (Vec<Vec<String>>, [Vec<Rec>; 2]) {
    let sources: [&[Rec]; 2] = if s.orders_first {
        [orders, payments]
    } else {
        [payments, orders]
    };
    let times: [Vec<i64>; 2] = sources.map(|recs| recs.iter().map(|r| r.ts).collect());
    let mut pairs = Vec::new();
    let mut late: [Vec<Rec>; 2] = [Vec::new(), Vec::new()];
    let mut kept: [Vec<&Rec>; 2] = [Vec::new(), Vec::new()];
    for a in arrivals([&times[0], &times[1]], BOUND) {
        let r = &sources[a.source][a.index];
        if r.ts <= a.watermark {
            late[a.source].push(r.clone());
            continue;
        }
        let is_order = (a.source == 0) == s.orders_first;
        let mut partners: Vec<&Rec> = kept[1 - a.source]
            .iter()
            .copied()
            .filter(|p| p.key == r.key)
            .filter(|p| {
                let (order, payment) = if is_order { (r, *p) } else { (*p, r) };
                (order.ts + s.lower..=order.ts + s.upper).contains(&payment.ts)
            })
            .collect();
        partners.sort_by_key(|p| p.ts);
        for p in partners {
            let (order, payment) = if is_order { (r, p) } else { (p, r) };
            pairs.push(row(s, Some(order), Some(payment)));
        }
        kept[a.source].push(r);
    }
    // Outer joins: every record that is not late and met no partner, alone (in an order
    // the reference does not model: compared as a set).
    let (orders_kept, payments_kept) = if s.orders_first {
        (&kept[0], &kept[1])
    } else {
        (&kept[1], &kept[0])
    };
    let meet =
        |o: &Rec, p: &Rec| o.key == p.key && (o.ts + s.lower..=o.ts + s.upper).contains(&p.ts);
    let [orders_alone, payments_alone] = s.alone();
    if orders_alone {
        for o in orders_kept
            .iter()
            .filter(|o| !payments_kept.iter().any(|p| meet(o, p)))
        {
            pairs.push(row(s, Some(o), None));
        }
    }
    if payments_alone {
        for p in payments_kept
            .iter()
            .filter(|p| !orders_kept.iter().any(|o| meet(o, p)))
        {
            pairs.push(row(s, None, Some(p)));
        }
    }
    (pairs, late)
}

fn check(s: Setup, orders: &[Rec], payments: &[Rec]) -> Result<(), TestCaseError> {
    let (pairs, late_rows, stderr) = run_job(s, orders, payments, Workers::Threads(1));
    let (want, late) = reference(s, orders, payments);
    // On several workers: the same rows, in another order across keys, the same report.
    for workers in PARALLEL {
        let (mut many, mut many_late, many_err) = run_job(s, orders, payments, workers);
        let sorted = |mut rows: Vec<Vec<String>>| {
            rows.sort();
            rows
        };
        many.sort();
        many_late.sort();
        prop_assert_eq!(many, sorted(want.clone()), "{}", workers);
        prop_assert_eq!(many_late, sorted(late_rows.clone()), "{}", workers);
        // Each worker's lines are summed; their order follows the workers', so compare
        // them as a set.
        let dropped = |e: &str| {
            let mut lines: Vec<String> = e
                .lines()
                .filter(|l| l.contains("late record(s)"))
                .map(String::from)
                .collect();
            lines.sort();
            lines
        };
        prop_assert_eq!(dropped(&many_err), dropped(&stderr), "{}", workers);
    }
    if s.kind.is_empty() {
        prop_assert_eq!(pairs, want);
    } else {
        // The pairs in the order they were made; all rows as a set.
        let matched = |rows: &[Vec<String>]| -> Vec<Vec<String>> {
            let paired = |r: &&Vec<String>| !r.iter().any(|c| c == "false");
            rows.iter().filter(paired).cloned().collect()
        };
        prop_assert_eq!(matched(&pairs), matched(&want));
        let (mut got, mut want) = (pairs, want);
        got.sort();
        want.sort();
        prop_assert_eq!(got, want);
    }
    let (late_orders, late_payments) = if s.orders_first {
        (&late[0], &late[1])
    } else {
        (&late[1], &late[0])
    };
    // Payments go to a side output in the first set-up; otherwise each side's late records
    // are counted and reported.
    if s.orders_first {
        let want_late: Vec<Vec<String>> = late_payments.iter().map(cols).collect();
        prop_assert_eq!(late_rows, want_late);
        prop_assert!(!stderr.contains("of `paid`"), "{}", stderr);
    } else {
        let said = format!("dropped {} late record(s) of `paid`", late_payments.len());
        prop_assert_eq!(
            stderr.contains(&said),
            !late_payments.is_empty(),
            "{} / {}",
            said,
            stderr
        );
    }
    let said = format!("dropped {} late record(s) of `orders`", late_orders.len());
    prop_assert_eq!(
        stderr.contains(&said),
        !late_orders.is_empty(),
        "{} / {}",
        said,
        stderr
    );
    Ok(())
}

/// Records mostly rising, with up to 6 s of disorder against a 2 s bound (so some are
/// late), times in steps of 250 ms (so many are equal), five keys, tags that need quoting;
/// up to 700, past a batch of the run loop, so the two inputs interleave.
fn records() -> impl Strategy<Value = Vec<Rec>> {
    let tag = prop_oneof![Just(""), Just("a"), Just("b, c"), Just("\"q\"")];
    proptest::collection::vec((0i64..6_000, 0u64..5, tag), 0..700).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (back, key, tag))| Rec {
                ts: (i as i64 * 700 - back).max(0) / 250 * 250,
                key,
                tag: tag.to_string(),
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn orders_meet_payments_in_their_interval_and_late_payments_go_to_a_side_output(o in records(), p in records()) {
        check(ORDERS_FIRST, &o, &p)?;
    }

    #[test]
    fn exclusive_bounds_and_counted_late_records_with_payments_declared_first(o in records(), p in records()) {
        check(PAYMENTS_FIRST, &o, &p)?;
    }

    #[test]
    fn a_full_outer_join_emits_every_record_without_a_partner_alone(o in records(), p in records()) {
        check(FULL, &o, &p)?;
    }

    #[test]
    fn a_left_outer_join_emits_orders_without_a_payment(o in records(), p in records()) {
        check(LEFT, &o, &p)?;
    }

    #[test]
    fn a_right_outer_join_emits_payments_without_an_order(o in records(), p in records()) {
        check(RIGHT, &o, &p)?;
    }
}

fn rec(ts: i64, key: u64, tag: &str) -> Rec {
    Rec {
        ts,
        key,
        tag: tag.into(),
    }
}

#[test]
fn the_interval_holds_its_edges_unless_they_are_exclusive() {
    // Payments 2 s before to 3 s after the order at 10 s: 8,000 and 13,000 are in.
    let orders = vec![rec(10_000, 1, "order")];
    let payments = vec![
        rec(7_999, 1, "too early"),
        rec(8_000, 1, "lower edge"),
        rec(13_000, 1, "upper edge"),
        rec(13_001, 1, "too late"),
    ];
    let (pairs, _, _) = run_job(ORDERS_FIRST, &orders, &payments, Workers::Threads(1));
    let tags: Vec<&str> = pairs.iter().map(|r| r[5].as_str()).collect();
    assert_eq!(tags, ["lower edge", "upper edge"]);
    // Exclusive 0 s to 5 s after the order: neither 10,000 nor 15,000.
    let payments = vec![
        rec(10_000, 1, "same time"),
        rec(10_001, 1, "just after"),
        rec(14_999, 1, "just before the end"),
        rec(15_000, 1, "the end"),
    ];
    let (pairs, _, _) = run_job(PAYMENTS_FIRST, &orders, &payments, Workers::Threads(1));
    let tags: Vec<&str> = pairs.iter().map(|r| r[5].as_str()).collect();
    assert_eq!(tags, ["just after", "just before the end"]);
}
