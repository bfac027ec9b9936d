//! The Nexmark queries of `dsl-examples/nexmark/` against references written here in
//! plain Rust over the `nexmark` crate's own events (not weir's generator), at one and two
//! workers. Every query reads 200,000 events (`--events`): 20 seconds of event time.

mod common;

#[path = "../dsl-examples/rust/nexmark.rs"]
mod twins;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use common::*;
use nexmark::event::{Auction, Bid, Event, Person};

const EVENTS: usize = 200_000;
const BASE_TIME: u64 = 1_735_689_600_000;

/// The first `EVENTS` events of the standard settings with the base time weir fixes, by
/// kind, in order.
fn events(out_of_order: usize) -> (Vec<Person>, Vec<Auction>, Vec<Bid>) {
    let config = nexmark::config::NexmarkConfig {
        base_time: BASE_TIME,
        out_of_order_group_size: out_of_order,
        ..Default::default()
    };
    let (mut persons, mut auctions, mut bids) = (Vec::new(), Vec::new(), Vec::new());
    for e in nexmark::EventGenerator::new(config).take(EVENTS) {
        match e {
            Event::Person(p) => persons.push(p),
            Event::Auction(a) => auctions.push(a),
            Event::Bid(b) => bids.push(b),
        }
    }
    (persons, auctions, bids)
}

/// Query `q`'s rows at `workers` workers (sorted: a parallel run's order is its
/// workers'), its `.pipe` edited by `edit` first.
fn rows_of(q: &str, workers: usize, edit: impl Fn(String) -> String) -> Vec<Vec<String>> {
    let dir = temp();
    let text =
        std::fs::read_to_string(root().join(format!("dsl-examples/nexmark/{q}.pipe"))).unwrap();
    let pipe = dir.path().join(format!("{q}.pipe"));
    std::fs::write(&pipe, edit(text)).unwrap();
    let binary = build(&pipe);
    let out = dir.path().join("out.csv");
    let (events, workers) = (EVENTS.to_string(), workers.to_string());
    run_to(
        &binary,
        q,
        &out,
        &["--events", &events, "--parallelism", &workers],
    );
    let (_, mut rows) = read_csv(&out);
    rows.sort();
    rows
}

fn rows(q: &str, workers: usize) -> Vec<Vec<String>> {
    rows_of(q, workers, |t| t)
}

fn sorted(mut rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.sort();
    rows
}

fn row(fields: &[&dyn ToString]) -> Vec<String> {
    fields.iter().map(|f| f.to_string()).collect()
}

fn check(q: &str, want: &[Vec<String>]) {
    assert!(!want.is_empty(), "{q}: the reference is empty");
    for workers in [1, 2] {
        let got = rows(q, workers);
        assert!(
            got == want,
            "{q} at {workers} worker(s): {} rows against {}; first difference: {:?}",
            got.len(),
            want.len(),
            got.iter().zip(want).find(|(g, w)| g != w)
        );
    }
}

#[test]
fn q0_passes_every_bid_through() {
    let (_, _, bids) = events(1);
    let want: Vec<Vec<String>> = bids
        .iter()
        .map(|b| row(&[&b.auction, &b.bidder, &b.price, &b.date_time, &b.extra]))
        .collect();
    check("q0", &sorted(want));
}

#[test]
fn q1_converts_every_price() {
    let (_, _, bids) = events(1);
    let want: Vec<(u64, u64, f64, u64)> = bids
        .iter()
        .map(|b| {
            (
                b.auction as u64,
                b.bidder as u64,
                0.908 * b.price as f64,
                b.date_time,
            )
        })
        .collect();
    for workers in [1, 2] {
        let mut got: Vec<(u64, u64, f64, u64)> = rows("q1", workers)
            .iter()
            .map(|r| {
                (
                    r[0].parse().unwrap(),
                    r[1].parse().unwrap(),
                    r[2].parse().unwrap(),
                    r[3].parse().unwrap(),
                )
            })
            .collect();
        let mut want = want.clone();
        let order = |a: &(u64, u64, f64, u64), b: &(u64, u64, f64, u64)| {
            (a.3, a.0, a.1)
                .cmp(&(b.3, b.0, b.1))
                .then(a.2.total_cmp(&b.2))
        };
        got.sort_by(order);
        want.sort_by(order);
        assert!(got == want, "q1 at {workers} worker(s)");
    }
}

#[test]
fn q2_selects_the_bids_on_every_123rd_auction() {
    let (_, _, bids) = events(1);
    let want: Vec<Vec<String>> = bids
        .iter()
        .filter(|b| b.auction % 123 == 0)
        .map(|b| row(&[&b.auction, &b.price]))
        .collect();
    check("q2", &sorted(want));
}

#[test]
fn q3_finds_the_local_sellers_of_category_10() {
    let (persons, auctions, _) = events(1);
    let local: HashMap<usize, &Person> = persons
        .iter()
        .filter(|p| ["or", "id", "ca"].contains(&p.state.as_str()))
        .map(|p| (p.id, p))
        .collect();
    let want: Vec<Vec<String>> = auctions
        .iter()
        .filter(|a| a.category == 10)
        .filter_map(|a| {
            local
                .get(&a.seller)
                .map(|p| row(&[&p.name, &p.city, &p.state, &a.id]))
        })
        .collect();
    check("q3", &sorted(want));
}

/// The current rows of a changelog (`op` first, then the key's `key_columns` columns):
/// `+I` and `+U` rows set their key's row, `-D` removes it, `-U` announces a `+U`.
fn current(rows: Vec<Vec<String>>, key_columns: usize) -> BTreeMap<Vec<String>, Vec<String>> {
    let mut now = BTreeMap::new();
    for r in rows {
        let key = r[1..1 + key_columns].to_vec();
        match r[0].as_str() {
            "+I" | "+U" => {
                now.insert(key, r[1 + key_columns..].to_vec());
            }
            "-D" => {
                assert!(now.remove(&key).is_some(), "-D of a key with no row: {r:?}");
            }
            "-U" => assert_eq!(
                now.get(&key),
                Some(&r[1 + key_columns..].to_vec()),
                "-U of another row"
            ),
            op => panic!("unknown op {op}"),
        }
    }
    now
}

/// The current rows of a changelog keyed by its first column after `op`, its one value
/// as the number read back.
fn current_numbers(rows: Vec<Vec<String>>) -> BTreeMap<Vec<String>, Vec<String>> {
    current(rows, 1)
        .into_iter()
        .map(|(k, v)| (k, vec![v[0].parse::<f64>().unwrap().to_string()]))
        .collect()
}

/// Query `q`'s header and rows over `EVENTS` events on `workers` workers, in the order
/// written.
fn output(q: &str, workers: usize) -> (Vec<String>, Vec<Vec<String>>) {
    let dir = temp();
    let binary = build(Path::new(&format!("dsl-examples/nexmark/{q}.pipe")));
    let out = dir.path().join("out.csv");
    let (events, workers) = (EVENTS.to_string(), workers.to_string());
    run_to(
        &binary,
        q,
        &out,
        &["--events", &events, "--parallelism", &workers],
    );
    read_csv(&out)
}

/// `sum / n` as weir computes an integer average: the quotient exactly, the rest as a
/// fraction.
fn exact_average(sum: u128, n: u128) -> f64 {
    (sum / n) as f64 + (sum % n) as f64 / n as f64
}

/// Each category's last row is the average of its auctions' winning prices (the best bid
/// made while the auction was open), and the changelog is consistent throughout.
#[test]
fn q4_keeps_each_categorys_average_winning_price() {
    let (_, auctions, bids) = events(1);
    let mut by_auction: HashMap<usize, Vec<&Bid>> = HashMap::new();
    for b in &bids {
        by_auction.entry(b.auction).or_default().push(b);
    }
    let mut finals: BTreeMap<usize, (u128, u128)> = BTreeMap::new();
    for a in &auctions {
        let best = by_auction
            .get(&a.id)
            .into_iter()
            .flatten()
            .filter(|b| a.date_time <= b.date_time && b.date_time <= a.expires)
            .map(|b| b.price)
            .max();
        if let Some(price) = best {
            let (sum, n) = finals.entry(a.category).or_default();
            *sum += price as u128;
            *n += 1;
        }
    }
    let want: BTreeMap<Vec<String>, Vec<String>> = finals
        .iter()
        .map(|(c, &(sum, n))| (vec![c.to_string()], vec![exact_average(sum, n).to_string()]))
        .collect();
    assert!(!want.is_empty());
    for workers in [1, 2] {
        let (header, rows) = output("q4", workers);
        assert_eq!(header, ["op", "category", "avg_final"]);
        let got = current_numbers(rows);
        assert!(
            got == want,
            "q4 at {workers} worker(s): {got:?} against {want:?}"
        );
    }
}

/// Each seller's last row is the average final price of their last 10 closed auctions
/// (by closing time, then auction id).
#[test]
fn q6_keeps_each_sellers_average_over_their_last_ten_auctions() {
    let (_, auctions, bids) = events(1);
    let mut by_auction: HashMap<usize, Vec<&Bid>> = HashMap::new();
    for b in &bids {
        by_auction.entry(b.auction).or_default().push(b);
    }
    let mut closed: BTreeMap<usize, Vec<(u64, usize, usize)>> = BTreeMap::new();
    for a in &auctions {
        let best = by_auction
            .get(&a.id)
            .into_iter()
            .flatten()
            .filter(|b| a.date_time <= b.date_time && b.date_time <= a.expires)
            .map(|b| b.price)
            .max();
        if let Some(price) = best {
            closed
                .entry(a.seller)
                .or_default()
                .push((a.expires, a.id, price));
        }
    }
    let want: BTreeMap<Vec<String>, Vec<String>> = closed
        .into_iter()
        .map(|(seller, mut list)| {
            list.sort_by_key(|x| std::cmp::Reverse((x.0, x.1)));
            list.truncate(10);
            let sum: u128 = list.iter().map(|x| x.2 as u128).sum();
            let avg = exact_average(sum, list.len() as u128);
            (vec![seller.to_string()], vec![avg.to_string()])
        })
        .collect();
    assert!(want.len() > 100, "{}", want.len());
    for workers in [1, 2] {
        let (header, rows) = output("q6", workers);
        assert_eq!(header, ["op", "seller", "avg_price"]);
        let got = current_numbers(rows);
        assert!(
            got == want,
            "q6 at {workers} worker(s): {} sellers against {}",
            got.len(),
            want.len()
        );
    }
}

/// q5's rows for `bids`: per sliding window (10 s every 2 s), the auctions with the most
/// bids.
fn hot_items(bids: &[Bid]) -> Vec<Vec<String>> {
    let mut counts: BTreeMap<u64, HashMap<usize, u64>> = BTreeMap::new();
    for b in bids {
        let t = b.date_time;
        let mut start = t - t % 2_000;
        while start + 10_000 > t {
            *counts
                .entry(start)
                .or_default()
                .entry(b.auction)
                .or_default() += 1;
            start -= 2_000;
        }
    }
    let mut want = Vec::new();
    for (start, per_auction) in counts {
        let most = per_auction.values().max().copied().unwrap();
        for (auction, n) in per_auction {
            if n == most {
                want.push(row(&[&auction, &n, &start]));
            }
        }
    }
    sorted(want)
}

#[test]
fn q5_finds_the_hot_items_of_each_sliding_window() {
    let (_, _, bids) = events(1);
    check("q5", &hot_items(&bids));
}

/// Out of order within groups of 500 events, the source's own watermark covers the
/// disorder: nothing is late and the answer is the same.
#[test]
fn q5_is_exact_on_bids_out_of_order() {
    let (_, _, bids) = events(500);
    let want = hot_items(&bids);
    for workers in [1, 2] {
        let got = rows_of("q5", workers, |t| {
            t.replace(
                "nexmark(bid, events: 100000)",
                "nexmark(bid, events: 100000, out_of_order: 500)",
            )
        });
        assert!(
            got == want,
            "q5 out of order at {workers} worker(s): {} rows against {}",
            got.len(),
            want.len()
        );
    }
}

#[test]
fn q7_finds_the_highest_bids_of_each_window() {
    let (_, _, bids) = events(1);
    let mut highest: HashMap<u64, usize> = HashMap::new();
    for b in &bids {
        let w = highest.entry(b.date_time / 10_000).or_default();
        *w = (*w).max(b.price);
    }
    let want: Vec<Vec<String>> = bids
        .iter()
        .filter(|b| highest[&(b.date_time / 10_000)] == b.price)
        .map(|b| row(&[&b.auction, &b.price, &b.bidder, &b.date_time, &b.extra]))
        .collect();
    check("q7", &sorted(want));
}

#[test]
fn q8_finds_the_persons_who_sold_in_the_window_they_joined() {
    let (persons, auctions, _) = events(1);
    let sellers: BTreeSet<(u64, usize)> = auctions
        .iter()
        .map(|a| (a.date_time / 10_000, a.seller))
        .collect();
    let want: Vec<Vec<String>> = persons
        .iter()
        .filter(|p| sellers.contains(&(p.date_time / 10_000, p.id)))
        .map(|p| row(&[&p.id, &p.name, &(p.date_time - p.date_time % 10_000)]))
        .collect();
    check("q8", &sorted(want));
}

/// Each auction's last row is its winning bid: the best price among the bids made while
/// it was open, the earliest of equal ones.
#[test]
fn q9_ends_with_each_auctions_winning_bid() {
    let (_, auctions, bids) = events(1);
    let mut by_auction: HashMap<usize, Vec<&Bid>> = HashMap::new();
    for b in &bids {
        by_auction.entry(b.auction).or_default().push(b);
    }
    let mut want: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in &auctions {
        let open = by_auction
            .get(&a.id)
            .into_iter()
            .flatten()
            .filter(|b| a.date_time <= b.date_time && b.date_time <= a.expires);
        let best = open.fold(None::<&&Bid>, |best, b| match best {
            Some(x)
                if (x.price, std::cmp::Reverse(x.date_time))
                    >= (b.price, std::cmp::Reverse(b.date_time)) =>
            {
                Some(x)
            }
            _ => Some(b),
        });
        if let Some(b) = best {
            want.insert(
                a.id.to_string(),
                row(&[&a.id, &b.bidder, &b.price, &b.date_time]),
            );
        }
    }
    assert!(want.len() > 1_000, "{}", want.len());
    for workers in [1, 2] {
        let (header, rows) = output("q9", workers);
        let at = |name: &str| header.iter().position(|h| h == name).unwrap();
        let (id, bidder, price, time, rank) = (
            at("id"),
            at("bidder"),
            at("price"),
            at("bid_date_time"),
            at("rank"),
        );
        // Rows come in each auction's order on any number of workers: the last one that is
        // not taken back (`-U`) stands.
        let mut last: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let op = at("op");
        for r in rows.into_iter().filter(|r| r[op] != "-U") {
            assert_eq!(r[rank], "1");
            last.insert(
                r[id].clone(),
                vec![
                    r[id].clone(),
                    r[bidder].clone(),
                    r[price].clone(),
                    r[time].clone(),
                ],
            );
        }
        assert!(
            last == want,
            "q9 at {workers} worker(s): {} auctions against {}",
            last.len(),
            want.len()
        );
    }
}

#[test]
fn q11_counts_the_bids_of_each_bidders_sessions() {
    let (_, _, bids) = events(1);
    let mut times: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
    for b in &bids {
        times.entry(b.bidder).or_default().push(b.date_time);
    }
    let mut want = Vec::new();
    for (bidder, mut ts) in times {
        ts.sort();
        let (mut start, mut last, mut n) = (ts[0], ts[0], 0u64);
        for t in ts {
            if t > last + 10_000 {
                want.push(row(&[&bidder, &n, &start, &(last + 10_000)]));
                (start, n) = (t, 0);
            }
            last = t;
            n += 1;
        }
        want.push(row(&[&bidder, &n, &start, &(last + 10_000)]));
    }
    check("q11", &sorted(want));
}

/// Processing-time windows depend on when bids are made, so each bidder's bids over all
/// windows are what is checked, and that every window is ten seconds.
#[test]
fn q12_counts_every_bid_of_each_bidder_in_processing_time_windows() {
    let (_, _, bids) = events(1);
    let mut want: BTreeMap<u64, u64> = BTreeMap::new();
    for b in &bids {
        *want.entry(b.bidder as u64).or_default() += 1;
    }
    for workers in [1, 2] {
        let mut got: BTreeMap<u64, u64> = BTreeMap::new();
        for r in rows("q12", workers) {
            *got.entry(r[0].parse().unwrap()).or_default() += r[1].parse::<u64>().unwrap();
            let (start, end): (i64, i64) = (r[2].parse().unwrap(), r[3].parse().unwrap());
            assert_eq!(end - start, 10_000, "{r:?}");
        }
        assert!(got == want, "q12 at {workers} worker(s)");
    }
}

/// Rows of `.pipe` query `q` as it stands (its own 100,000 events), sorted.
fn pipe_rows(q: &str) -> Vec<Vec<String>> {
    sorted(pipe_rows_in_order(q))
}

/// Rows of `.pipe` query `q` as it stands, in the order it wrote them.
fn pipe_rows_in_order(q: &str) -> Vec<Vec<String>> {
    let dir = temp();
    let binary = build(Path::new(&format!("dsl-examples/nexmark/{q}.pipe")));
    let out = dir.path().join("out.csv");
    run_to(&binary, q, &out, &[]);
    read_csv(&out).1
}

/// A twin's rows as the CSV sink writes them (floats in their shortest form both ways).
fn twin_rows<T>(rows: Vec<T>, fields: impl Fn(&T) -> Vec<String>) -> Vec<Vec<String>> {
    sorted(rows.iter().map(fields).collect())
}

#[test]
fn the_inline_twins_give_the_pipe_queries_results() {
    let s = |v: &dyn ToString| v.to_string();
    let want = |q: &str, got: Vec<Vec<String>>| {
        let pipe = pipe_rows(q);
        assert!(!pipe.is_empty(), "{q}");
        assert!(
            got == pipe,
            "{q}: the twin gives {} rows, the .pipe query {}",
            got.len(),
            pipe.len()
        );
    };
    want(
        "q0",
        twin_rows(twins::q0().unwrap(), |r| {
            vec![s(&r.0), s(&r.1), s(&r.2), s(&r.3), s(&r.4)]
        }),
    );
    // The price is compared as the number read back.
    let q1: Vec<Vec<String>> = pipe_rows("q1")
        .into_iter()
        .map(|mut r| {
            r[2] = r[2].parse::<f64>().unwrap().to_string();
            r
        })
        .collect();
    let twin = twin_rows(twins::q1().unwrap(), |r| {
        vec![s(&r.0), s(&r.1), s(&r.2), s(&r.3), s(&r.4)]
    });
    assert!(sorted(q1) == twin, "q1");
    want(
        "q2",
        twin_rows(twins::q2().unwrap(), |r| vec![s(&r.0), s(&r.1)]),
    );
    want(
        "q3",
        twin_rows(twins::q3().unwrap(), |r| {
            vec![s(&r.0), s(&r.1), s(&r.2), s(&r.3)]
        }),
    );
    want(
        "q5",
        twin_rows(twins::q5().unwrap(), |r| vec![s(&r.0), s(&r.1), s(&r.2)]),
    );
    want(
        "q7",
        twin_rows(twins::q7().unwrap(), |r| {
            vec![s(&r.0), s(&r.1), s(&r.2), s(&r.3), s(&r.4)]
        }),
    );
    want(
        "q8",
        twin_rows(twins::q8().unwrap(), |r| vec![s(&r.0), s(&r.1), s(&r.2)]),
    );
    // q4 and q6: the changelogs end at the same rows.
    for (q, twin) in [("q4", twins::q4().unwrap()), ("q6", twins::q6().unwrap())] {
        // The averages as numbers read back (the CSV writes `2.0` where Rust prints `2`).
        let pipe = current_numbers(pipe_rows_in_order(q));
        let twin = current(
            twin.into_iter()
                .map(|(op, k, v)| vec![op, k.to_string(), v.to_string()])
                .collect(),
            1,
        );
        let differ = pipe.iter().find(|(k, v)| twin.get(*k) != Some(v));
        assert!(
            !pipe.is_empty() && pipe == twin,
            "{q}: {} keys against the twin's {}; first difference {differ:?} against {:?}",
            pipe.len(),
            twin.len(),
            differ.and_then(|(k, _)| twin.get(k))
        );
    }
    // q9: each auction's last row, its winner.
    let winners = |rows: Vec<Vec<String>>| {
        rows.into_iter()
            .map(|r| (r[0].clone(), r))
            .collect::<BTreeMap<_, _>>()
    };
    let pipe: BTreeMap<String, Vec<String>> = {
        let dir = temp();
        let binary = build(Path::new("dsl-examples/nexmark/q9.pipe"));
        let out = dir.path().join("out.csv");
        run_to(&binary, "q9", &out, &[]);
        let (h, rows) = read_csv(&out);
        let at = |name: &str| h.iter().position(|x| x == name).unwrap();
        let cols = [at("id"), at("bidder"), at("price"), at("bid_date_time")];
        let op = at("op");
        winners(
            rows.into_iter()
                .filter(|r| r[op] != "-U")
                .map(|r| cols.iter().map(|&c| r[c].clone()).collect())
                .collect(),
        )
    };
    let twin = winners(
        twins::q9()
            .unwrap()
            .into_iter()
            .filter(|(op, _, _)| op != "-U")
            .map(|(_, _, w)| vec![s(&w.0), s(&w.1), s(&w.2), s(&w.3)])
            .collect(),
    );
    assert!(!pipe.is_empty() && pipe == twin, "q9");
    want(
        "q11",
        twin_rows(twins::q11().unwrap(), |r| {
            vec![s(&r.0), s(&r.1), s(&r.2), s(&r.3)]
        }),
    );
    // Processing-time windows: each bidder's total.
    let totals = |rows: Vec<(u64, u64)>| {
        let mut t: BTreeMap<u64, u64> = BTreeMap::new();
        for (bidder, n) in rows {
            *t.entry(bidder).or_default() += n;
        }
        t
    };
    let pipe = totals(
        pipe_rows("q12")
            .iter()
            .map(|r| (r[0].parse().unwrap(), r[1].parse().unwrap()))
            .collect(),
    );
    let twin = totals(
        twins::q12()
            .unwrap()
            .into_iter()
            .map(|r| (r.0, r.1))
            .collect(),
    );
    assert!(pipe == twin, "q12");
}
