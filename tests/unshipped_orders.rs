//! "Orders not shipped within 2 hours" (`dsl-examples/unshipped_orders.pipe`: a left
//! outer interval join, then `filter(not shipped.matched)`) on generated data, against
//! the answer a Python script would compute: an order is unshipped when no shipment of its
//! id has a time from the order's to two hours after it. The data is out of order by less
//! than the watermark's bound, so no record is late and that simple answer is exact. Then
//! the unshipped orders counted per hour after the join: none may be late for the window.

mod common;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use common::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const HOUR: i64 = 3_600_000;

struct Order {
    ts: i64,
    id: u64,
    customer: String,
}

struct Shipment {
    ts: i64,
    order_id: u64,
}

/// Orders a minute apart (give or take 20 s); most are shipped 0 to 3 hours later, some
/// twice, some never; shipments sorted by time, then shaken by up to 20 s.
fn data(orders: usize, seed: u64) -> (Vec<Order>, Vec<Shipment>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    let orders: Vec<Order> = (0..orders)
        .map(|i| Order {
            ts: start + i as i64 * 60_000 + rng.random_range(0..20_000),
            id: i as u64 + 1,
            customer: format!("c{}", rng.random_range(0..40)),
        })
        .collect();
    let mut shipments = Vec::new();
    for o in &orders {
        for _ in 0..rng.random_range(0..3) {
            // Around the 2-hour edge often, and exactly on it now and then.
            let after = match rng.random_range(0..10) {
                0 => 2 * HOUR,
                1 => 2 * HOUR + 1,
                _ => rng.random_range(0..3 * HOUR),
            };
            shipments.push(Shipment {
                ts: o.ts + after,
                order_id: o.id,
            });
        }
    }
    shipments.sort_by_key(|s| s.ts);
    for i in 1..shipments.len() {
        if rng.random_range(0..4) == 0 && shipments[i].ts - shipments[i - 1].ts < 20_000 {
            shipments.swap(i - 1, i);
        }
    }
    (orders, shipments)
}

fn write(dir: &Path, orders: &[Order], shipments: &[Shipment]) {
    let mut text = String::from("ts,id,customer,total\n");
    for o in orders {
        writeln!(text, "{},{},{},{}", o.ts, o.id, o.customer, o.id % 97).unwrap();
    }
    std::fs::write(dir.join("orders.csv"), text).unwrap();
    let mut text = String::from("ts,order_id,carrier\n");
    for s in shipments {
        writeln!(text, "{},{},ups", s.ts, s.order_id).unwrap();
    }
    std::fs::write(dir.join("shipments.csv"), text).unwrap();
}

/// The reference: each unshipped order's id, sorted.
fn unshipped(orders: &[Order], shipments: &[Shipment]) -> Vec<u64> {
    let mut by_order: HashMap<u64, Vec<i64>> = HashMap::new();
    for s in shipments {
        by_order.entry(s.order_id).or_default().push(s.ts);
    }
    let mut ids: Vec<u64> = orders
        .iter()
        .filter(|o| {
            let shipped = by_order.get(&o.id).into_iter().flatten();
            !shipped
                .into_iter()
                .any(|&t| o.ts <= t && t <= o.ts + 2 * HOUR)
        })
        .map(|o| o.id)
        .collect();
    ids.sort_unstable();
    ids
}

/// RFC 3339 text of a time in January 2026 (all the data's), UTC.
fn january_2026(ms: i64) -> String {
    let since = ms - 1_767_225_600_000;
    assert!((0..31 * 86_400_000).contains(&since), "{ms}");
    let (day, ms) = (since / 86_400_000, since % 86_400_000);
    let (h, m, s, frac) = (ms / HOUR, ms / 60_000 % 60, ms / 1_000 % 60, ms % 1_000);
    let frac = if frac == 0 {
        String::new()
    } else {
        format!(".{frac:03}")
    };
    format!("2026-01-{:02}T{h:02}:{m:02}:{s:02}{frac}Z", day + 1)
}

fn inputs(dir: &Path) -> Vec<String> {
    vec![
        "--input".into(),
        format!("orders={}", dir.join("orders.csv").display()),
        "--input".into(),
        format!("shipments={}", dir.join("shipments.csv").display()),
    ]
}

#[test]
fn orders_not_shipped_within_two_hours_match_the_reference() {
    let bin = build(Path::new("dsl-examples/unshipped_orders.pipe"));
    let dir = temp();
    let (orders, shipments) = data(3_000, 7);
    write(dir.path(), &orders, &shipments);
    let want = unshipped(&orders, &shipments);
    assert!(want.len() > 300 && want.len() < 2_500, "{}", want.len());
    for workers in [Workers::Threads(1), Workers::Threads(2)] {
        let out = dir.path().join("unshipped.csv");
        let mut args = inputs(dir.path());
        args.push("--output".into());
        args.push(format!("unshipped_orders={}", out.display()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = workers.run(&bin, &args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{stderr}");
        assert!(!stderr.contains("late"), "{workers}: {stderr}");
        let (header, rows) = read_csv(&out);
        assert_eq!(header, ["order", "customer", "total", "ordered_at"]);
        let mut got: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, want, "{workers}");
        // Each row is its order's, with its time as RFC 3339 text.
        let by_id: HashMap<u64, &Order> = orders.iter().map(|o| (o.id, o)).collect();
        for r in &rows {
            let o = by_id[&r[0].parse::<u64>().unwrap()];
            assert_eq!(r[1], o.customer);
            assert_eq!(r[3], january_2026(o.ts), "order {}", o.id);
        }
    }
}

#[test]
fn unshipped_orders_are_not_late_for_a_window_after_the_join() {
    // The example's join, then the unshipped orders counted per hour of their deadline.
    let text = std::fs::read_to_string(root().join("dsl-examples/unshipped_orders.pipe"))
        .unwrap()
        .replace(
            "  |> map { order: orders.id, customer: orders.customer, total: orders.total,\n           ordered_at: format_time(orders.ts) }\n",
            "  |> map { customer: orders.customer }\n  |> key_by(customer)\n  |> window(tumbling 1h)\n  |> aggregate { unshipped: count() }\n",
        );
    assert!(text.contains("tumbling 1h"), "the example changed: {text}");
    let dir = temp();
    let pipe = dir.path().join("unshipped_per_hour.pipe");
    std::fs::write(&pipe, text).unwrap();
    let bin = build(&pipe);
    let (orders, shipments) = data(2_000, 8);
    write(dir.path(), &orders, &shipments);
    let out = dir.path().join("per_hour.csv");
    let mut args = inputs(dir.path());
    args.push("--output".into());
    args.push(format!("unshipped_orders={}", out.display()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run(&bin, &args);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(!stderr.contains("late"), "{stderr}");
    let (header, rows) = read_csv(&out);
    let n = header.iter().position(|h| h == "unshipped").unwrap();
    let counted: usize = rows.iter().map(|r| r[n].parse::<usize>().unwrap()).sum();
    assert_eq!(counted, unshipped(&orders, &shipments).len());
}
