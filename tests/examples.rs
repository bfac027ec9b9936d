//! Every example in `dsl-examples/` run end to end, its output compared with an answer
//! computed here in plain Rust from the same data.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::*;

fn out_arg(name: &str, path: &Path) -> String {
    format!("{name}={}", path.display())
}

/// Counts lowercase words in first-seen order, as documented for keyed output.
fn reference_wordcount(text: &str) -> Vec<(String, u64)> {
    let mut order: Vec<(String, u64)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for word in text.split_whitespace() {
        let w = word.to_lowercase();
        let i = *index.entry(w.clone()).or_insert_with(|| {
            order.push((w, 0));
            order.len() - 1
        });
        order[i].1 += 1;
    }
    order
}

#[test]
fn wordcount_counts_every_word() {
    let bin = build(Path::new("dsl-examples/wordcount.pipe"));
    let stdout = run_ok(&bin, &[]);
    let text = std::fs::read_to_string(root().join("dsl-examples/data/words.txt")).unwrap();
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("word,count"));
    let got: Vec<(String, u64)> = lines
        .map(|l| {
            let (w, c) = l.rsplit_once(',').unwrap();
            (w.to_string(), c.parse().unwrap())
        })
        .collect();
    assert_eq!(got, reference_wordcount(&text));
}

#[test]
fn wordcount_reads_and_writes_where_told() {
    let bin = build(Path::new("dsl-examples/wordcount.pipe"));
    let dir = temp();
    let input = dir.path().join("in.txt");
    let text = "Zebra zebra ÉCOLE école\n\nyak\r\nZEBRA yak\n";
    std::fs::write(&input, text).unwrap();
    let output = dir.path().join("nested/counts.csv");
    run_ok(
        &bin,
        &[
            "--input",
            &out_arg("lines", &input),
            "--output",
            &out_arg("stdout", &output),
        ],
    );
    let (header, rows) = read_csv(&output);
    assert_eq!(header, ["word", "count"]);
    let got: Vec<(String, u64)> = rows
        .into_iter()
        .map(|r| (r[0].clone(), r[1].parse().unwrap()))
        .collect();
    assert_eq!(got, reference_wordcount(text));
}

#[derive(Debug, Clone)]
struct Bid {
    auction: u64,
    price: u64,
    channel: String,
}

fn bids() -> Vec<Bid> {
    let mut r = csv::Reader::from_path(root().join("dsl-examples/data/bids.csv")).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            Bid {
                auction: rec[0].parse().unwrap(),
                price: rec[2].parse().unwrap(),
                channel: rec[3].to_string(),
            }
        })
        .collect()
}

#[test]
fn expensive_bids_filters_computes_and_projects() {
    let bin = build(Path::new("dsl-examples/expensive_bids.pipe"));
    let dir = temp();
    let output = dir.path().join("out.csv");
    run_ok(&bin, &["--output", &out_arg("expensive_bids", &output)]);
    let (header, rows) = read_csv(&output);
    assert_eq!(
        header,
        ["auction", "price", "fee", "tier", "channel", "price_eur"]
    );
    let expected: Vec<Bid> = bids()
        .into_iter()
        .filter(|b| b.price > 100 && !b.channel.starts_with("test"))
        .collect();
    assert_eq!(rows.len(), expected.len());
    for (row, b) in rows.iter().zip(&expected) {
        assert_eq!(row[0], b.auction.to_string());
        assert_eq!(row[1], b.price.to_string());
        assert_eq!(row[2], (b.price * 5 / 100).to_string());
        assert_eq!(
            row[3],
            if b.price >= 500 {
                "premium"
            } else {
                "standard"
            }
        );
        assert_eq!(row[4], b.channel.to_uppercase());
        let eur: f64 = row[5].parse().unwrap();
        assert!((eur - b.price as f64 * 0.92).abs() < 1e-9, "{eur}");
    }
}

#[test]
fn bid_stats_aggregates_per_auction() {
    let bin = build(Path::new("dsl-examples/bid_stats.pipe"));
    let dir = temp();
    let output = dir.path().join("stats.csv");
    run_ok(&bin, &["--output", &out_arg("bid_stats", &output)]);
    let (header, rows) = read_csv(&output);
    assert_eq!(
        header,
        ["auction", "bids", "total", "lowest", "highest", "mean"]
    );
    let mut groups: Vec<(u64, Vec<u64>)> = Vec::new();
    for b in bids() {
        match groups.iter_mut().find(|(a, _)| *a == b.auction) {
            Some((_, prices)) => prices.push(b.price),
            None => groups.push((b.auction, vec![b.price])),
        }
    }
    assert_eq!(rows.len(), groups.len());
    for (row, (auction, prices)) in rows.iter().zip(&groups) {
        let sum: u64 = prices.iter().sum();
        assert_eq!(row[0], auction.to_string());
        assert_eq!(row[1], prices.len().to_string());
        assert_eq!(row[2], sum.to_string());
        assert_eq!(row[3], prices.iter().min().unwrap().to_string());
        assert_eq!(row[4], prices.iter().max().unwrap().to_string());
        let mean: f64 = row[5].parse().unwrap();
        assert!((mean - sum as f64 / prices.len() as f64).abs() < 1e-9);
    }
}

#[test]
fn all_clicks_merges_two_formats() {
    let bin = build(Path::new("dsl-examples/all_clicks.pipe"));
    let dir = temp();
    let output = dir.path().join("clicks.jsonl");
    run_ok(&bin, &["--output", &out_arg("clicks_per_page", &output)]);

    // The reference: both inputs read independently, CSV first (sources run in order).
    let mut clicks: Vec<(String, i64)> = Vec::new();
    let mut r = csv::Reader::from_path(root().join("dsl-examples/data/clicks_eu.csv")).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        clicks.push((rec[1].to_string(), rec[2].parse().unwrap()));
    }
    let us = std::fs::read_to_string(root().join("dsl-examples/data/clicks_us.jsonl")).unwrap();
    for line in us.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        clicks.push((
            v["page"].as_str().unwrap().to_string(),
            v["ms"].as_i64().unwrap(),
        ));
    }
    let mut expected: Vec<(String, u64, i64, i64)> = Vec::new();
    for (page, ms) in clicks.into_iter().filter(|(_, ms)| *ms >= 0) {
        match expected.iter_mut().find(|e| e.0 == page) {
            Some(e) => {
                e.1 += 1;
                e.2 += ms;
                e.3 = e.3.max(ms);
            }
            None => expected.push((page, 1, ms, ms)),
        }
    }

    assert_eq!(read_clicks_per_page(&output), expected);
}

/// The rows of `pipe`'s sink `sink`, and what the job said on stderr.
fn example_rows(pipe: &str, sink: &str) -> (Vec<String>, String) {
    let dir = temp();
    let out = dir.path().join("out.csv");
    let run = run(&build(Path::new(pipe)), &["--output", &out_arg(sink, &out)]);
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(run.status.success(), "{stderr}");
    let text = std::fs::read_to_string(&out).unwrap();
    (text.lines().map(String::from).collect(), stderr)
}

#[test]
fn click_impressions_join_pairs_each_ads_impressions_and_clicks_per_window() {
    let (rows, stderr) = example_rows(
        "dsl-examples/click_impressions_join.pipe",
        "click_impressions",
    );
    // Worked out by hand from the data: windows [0,10s), [10s,20s), [20s,30s); in each,
    // ads in the order they first appear, impressions in arrival order, each with the
    // ad's clicks in arrival order. Click u9 (13 s) arrives after the watermark reached
    // 23 s, past its window: it is late.
    assert_eq!(
        rows,
        [
            "ad,site,user,shown,clicked",
            "7,news,u1,1000,3000",
            "7,news,u3,1000,9500",
            "7,shop,u1,4000,3000",
            "7,shop,u3,4000,9500",
            "8,blog,u2,2500,2000",
            "7,blog,u5,12000,11500",
            "8,news,u4,11000,12500",
            "9,shop,u6,15500,14000",
            "9,shop,u7,15500,16000",
            "8,blog,u8,21000,25000",
        ]
    );
    assert!(
        stderr.contains("dropped 1 late record(s) of `clicks`"),
        "{stderr}"
    );
}

#[test]
fn unpaid_orders_are_the_orders_no_payment_met_in_their_window() {
    let (rows, stderr) = example_rows("dsl-examples/unpaid_orders.pipe", "unpaid_orders");
    // By hand: order 3 (3.5 s) is paid at 13 s, in the next window; order 5 is never
    // paid. Every other order is paid within its window (order 6 at 14 s, paid at 19 s).
    assert_eq!(
        rows,
        [
            "order,customer,total,window_end",
            "3,cid,7,10000",
            "5,dan,9,20000"
        ]
    );
    assert!(!stderr.contains("late"), "{stderr}");
}

#[test]
fn session_pages_give_each_sessions_first_and_last_page() {
    let (rows, stderr) = example_rows("dsl-examples/session_pages.pipe", "session_pages");
    // By hand: ann's views from 10:00 to 10:25 are one session (the checkout at 10:24:40
    // comes 20 s out of order, within the bound), her 11:30 view another; bob's views at
    // 10:01 and 10:15 are one, at 10:50 (35 minutes later) another; cid's at 10:30 and
    // 11:00, exactly 30 minutes apart, are one. Sessions in order of their end; paths in
    // the order the views came.
    assert_eq!(
        rows,
        [
            "user,started,first_page,last_page,pages,minutes,path",
            "bob,2026-01-01T10:01:00Z,/home,/pricing,2,14,/home > /pricing",
            "ann,2026-01-01T10:00:00Z,/home,/cart,5,25,/home > /search?q=boots > /item/42 > /cart > /checkout",
            "bob,2026-01-01T10:50:00Z,/home,/home,1,0,/home",
            "cid,2026-01-01T10:30:00Z,/blog/how-we-measure-latency,/blog,2,30,/blog/how-we-measure-latency > /blog",
            "ann,2026-01-01T11:30:00Z,/home,/home,1,0,/home",
        ]
    );
    assert!(!stderr.contains("late"), "{stderr}");
}

#[test]
fn unshipped_orders_are_the_orders_no_shipment_met_within_two_hours() {
    let (rows, stderr) = example_rows("dsl-examples/unshipped_orders.pipe", "unshipped_orders");
    // By hand: order 2 (9:10) is shipped at 11:10, on the edge, which counts; orders 3
    // and 4 never are; order 7 (12:00) is shipped at 14:00:01, a second too late.
    assert_eq!(
        rows,
        [
            "order,customer,total,ordered_at",
            "3,cid,7,2026-01-01T09:20:00Z",
            "4,ann,50,2026-01-01T10:00:00Z",
            "7,bob,44,2026-01-01T12:00:00Z",
        ]
    );
    assert!(!stderr.contains("late"), "{stderr}");
}

#[test]
fn payments_after_orders_meet_their_order_within_fifteen_minutes() {
    let bin = build(Path::new("dsl-examples/payments_after_orders.pipe"));
    let dir = temp();
    let (pairs, late) = (dir.path().join("pairs.csv"), dir.path().join("late.csv"));
    let run = run(
        &bin,
        &[
            "--output",
            &out_arg("payments_after_orders", &pairs),
            "--output",
            &out_arg("late_payments", &late),
        ],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // By hand: order 1 (0 min) is paid at 0 and 0.5 min, order 2 (1 min) at 16 min (the
    // upper edge, included), order 5 (15 min) at 16.7 min; order 3's payment comes 16.3
    // min after it, too late for the interval. Payment 4 (10.8 min) arrives after the
    // watermark reached 18.3 min: late.
    let text = std::fs::read_to_string(&pairs).unwrap();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "order,customer,total,paid,after_ms",
            "1,ann,30,5,0",
            "1,ann,30,30,30000",
            "2,bob,12,12,900000",
            "5,dan,9,9,100000",
        ]
    );
    let text = std::fs::read_to_string(&late).unwrap();
    assert_eq!(text, "ts,order_id,amount\n650000,4,25\n");
}
