//! Rolling aggregates against a simulation written here of the changelog they emit: per
//! key, the result before and after each record (`+I` for a key's first, `-U` then `+U`
//! for a change, `-D` for a key left empty, nothing when unchanged), and over an updating
//! input, `+I`/`+U` rows added and `-U`/`-D` rows taken back. On `auction_tops.pipe`
//! row by row, and on random input at one and two workers (each key's rows in the same
//! order) and spilled. Updating streams refused where a step needs rows to stand.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use common::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Count, sum, min, max and exact integer average of one key's values.
#[derive(Debug, Clone, Default, PartialEq)]
struct Group {
    n: u64,
    sum: i128,
    lo: Option<i64>,
    hi: Option<i64>,
}

impl Group {
    fn columns(&self) -> Vec<String> {
        let mean =
            (self.sum / self.n as i128) as f64 + (self.sum % self.n as i128) as f64 / self.n as f64;
        vec![
            self.n.to_string(),
            self.sum.to_string(),
            self.lo.unwrap().to_string(),
            self.hi.unwrap().to_string(),
            format!("{mean:?}"),
        ]
    }
}

/// The changelog of `rolling { n: count(), s: sum(v), lo: min(v), hi: max(v), mean:
/// avg(v) }` keyed by `k` over `(k, v)` records.
fn simulate(records: &[(u64, i64)]) -> Vec<Vec<String>> {
    let mut groups: BTreeMap<u64, Group> = BTreeMap::new();
    let mut out = Vec::new();
    for &(k, v) in records {
        let g = groups.entry(k).or_default();
        let before = g.clone();
        g.n += 1;
        g.sum += v as i128;
        g.lo = Some(g.lo.map_or(v, |x| x.min(v)));
        g.hi = Some(g.hi.map_or(v, |x| x.max(v)));
        let row = |op: &str, g: &Group| {
            let mut r = vec![op.to_string(), k.to_string()];
            r.extend(g.columns());
            r
        };
        if before.n == 0 {
            out.push(row("+I", g));
        } else {
            out.push(row("-U", &before));
            out.push(row("+U", g));
        }
    }
    out
}

/// Rows grouped by their key column, each key's in order.
fn by_key(rows: Vec<Vec<String>>) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut out: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for r in rows {
        out.entry(r[1].clone()).or_default().push(r);
    }
    out
}

/// Floats as numbers read back (the CSV writes `2.0` where Rust's `{:?}` does too, and
/// shortest forms agree).
fn normal(rows: Vec<Vec<String>>, float: usize) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|mut r| {
            r[float] = format!("{:?}", r[float].parse::<f64>().unwrap());
            r
        })
        .collect()
}

#[test]
fn every_record_emits_its_keys_changed_result() {
    let mut rng = ChaCha8Rng::seed_from_u64(51);
    let records: Vec<(u64, i64)> = (0..40_000)
        .map(|_| (rng.random_range(0..20_000), rng.random_range(-1_000..1_000)))
        .collect();
    let want = by_key(simulate(&records));
    let dir = temp();
    let mut text = String::from("k,v\n");
    for (k, v) in &records {
        writeln!(text, "{k},{v}").unwrap();
    }
    std::fs::write(dir.path().join("in.csv"), text).unwrap();
    let pipe = dir.path().join("rolling.pipe");
    std::fs::write(
        &pipe,
        format!(
            "schema R {{ k: u64, v: i64 }}\n\
             source r: R = csv(\"{}\");\n\
             r |> key_by(k) |> rolling {{ n: count(), s: sum(v), lo: min(v), hi: max(v), mean: avg(v) }}\n\
               |> sink csv(\"{}\");\n",
            dir.path().join("in.csv").display(),
            dir.path().join("out.csv").display()
        ),
    )
    .unwrap();
    let binary = build(&pipe);
    for flags in [&[][..], &["--parallelism", "2"], &["--memory", "1MB"]] {
        run_ok(&binary, flags);
        let (header, rows) = read_csv(&dir.path().join("out.csv"));
        assert_eq!(header, ["op", "k", "n", "s", "lo", "hi", "mean"]);
        let got = by_key(normal(rows, 6));
        assert!(got == want, "{flags:?}");
    }
}

/// `auction_tops.pipe`: the first changelog row by row, and the second's current row,
/// which takes back every replaced top.
#[test]
fn auction_tops_updates_each_auction_and_the_mean_of_their_tops() {
    let (_, bids) = read_csv(&root().join("dsl-examples/data/bids.csv"));
    let mut tops: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    let mut want = Vec::new();
    for b in &bids {
        let (auction, price): (u64, u64) = (b[0].parse().unwrap(), b[2].parse().unwrap());
        let row = |op: &str, (n, top): (u64, u64)| {
            vec![
                op.to_string(),
                auction.to_string(),
                n.to_string(),
                top.to_string(),
            ]
        };
        match tops.get(&auction).copied() {
            None => {
                tops.insert(auction, (1, price));
                want.push(row("+I", (1, price)));
            }
            Some((n, top)) => {
                let now = (n + 1, top.max(price));
                tops.insert(auction, now);
                want.push(row("-U", (n, top)));
                want.push(row("+U", now));
            }
        }
    }
    let binary = build(Path::new("dsl-examples/auction_tops.pipe"));
    let dir = temp();
    let (first, second) = (dir.path().join("tops.csv"), dir.path().join("mean.csv"));
    let (a, b) = (
        format!("auction_tops={}", first.display()),
        format!("mean_top={}", second.display()),
    );
    run_ok(&binary, &["--output", &a, "--output", &b]);
    let (header, got) = read_csv(&first);
    assert_eq!(header, ["op", "auction", "bids", "top"]);
    assert_eq!(got, want);
    // The second changelog ends at the mean of the final tops, every `-U` naming the row
    // it takes back.
    let (_, rows) = read_csv(&second);
    let mut current: Option<Vec<String>> = None;
    for r in rows {
        match r[0].as_str() {
            "+I" | "+U" => current = Some(r[2..].to_vec()),
            "-U" | "-D" => {
                assert_eq!(current.as_deref(), Some(&r[2..]), "{r:?}");
                current = None;
            }
            op => panic!("op {op}"),
        }
    }
    let sum: u64 = tops.values().map(|t| t.1).sum();
    let mean = sum as f64 / tops.len() as f64;
    assert_eq!(
        current,
        Some(vec![tops.len().to_string(), format!("{mean:?}")])
    );
}

/// A second rolling over a first's changelog keeps, per group, the count and sum of the
/// first's current rows, whichever group a key's rows move between and however the two
/// workers interleave them.
#[test]
fn a_rolling_over_an_updating_stream_keeps_the_current_rows() {
    let mut rng = ChaCha8Rng::seed_from_u64(52);
    let records: Vec<(u64, i64)> = (0..30_000)
        .map(|_| (rng.random_range(0..500), rng.random_range(0..100)))
        .collect();
    // First: per key, the sum so far; its group is the sum's last digit, so a key's rows
    // move between groups.
    let mut sums: BTreeMap<u64, i64> = BTreeMap::new();
    for &(k, v) in &records {
        *sums.entry(k).or_default() += v;
    }
    let mut want: BTreeMap<i64, (u64, i64)> = BTreeMap::new();
    for s in sums.values() {
        let g = want.entry(s % 10).or_default();
        g.0 += 1;
        g.1 += s;
    }
    let dir = temp();
    let mut text = String::from("k,v\n");
    for (k, v) in &records {
        writeln!(text, "{k},{v}").unwrap();
    }
    std::fs::write(dir.path().join("in.csv"), text).unwrap();
    let pipe = dir.path().join("twice.pipe");
    std::fs::write(
        &pipe,
        format!(
            "schema R {{ k: u64, v: i64 }}\n\
             source r: R = csv(\"{}\");\n\
             r |> key_by(k) |> rolling {{ s: sum(v) }}\n\
               |> map {{ op, s, digit: s % 10 }}\n\
               |> key_by(digit) |> rolling {{ keys: count(), total: sum(s) }}\n\
               |> sink csv(\"{}\");\n",
            dir.path().join("in.csv").display(),
            dir.path().join("out.csv").display()
        ),
    )
    .unwrap();
    let binary = build(&pipe);
    for flags in [&[][..], &["--parallelism", "2"]] {
        run_ok(&binary, flags);
        let (_, rows) = read_csv(&dir.path().join("out.csv"));
        let mut now: BTreeMap<i64, (u64, i64)> = BTreeMap::new();
        for r in rows {
            let (digit, keys, total) = (
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
                r[3].parse().unwrap(),
            );
            match r[0].as_str() {
                "+I" | "+U" => {
                    now.insert(digit, (keys, total));
                }
                _ => assert_eq!(now.remove(&digit), Some((keys, total)), "{r:?}"),
            }
        }
        assert_eq!(now, want, "{flags:?}");
    }
}

#[test]
fn an_updating_stream_is_refused_where_rows_must_stand() {
    let dir = temp();
    let check = |steps: &str| {
        let pipe = dir.path().join("u.pipe");
        std::fs::write(
            &pipe,
            format!(
                "schema R {{ k: u64, v: i64, ts: timestamp }}\n\
                 source r: R = csv(\"in.csv\") with event_time(ts), watermark(ascending);\n\
                 r |> key_by(k) |> rolling {{ s: sum(v) }} {steps} |> sink csv(\"o.csv\");\n"
            ),
        )
        .unwrap();
        let run = weir_cli(&["check", pipe.to_str().unwrap()]);
        (run.code, run.err)
    };
    let (code, err) = check("|> key_by(k) |> window(tumbling 1s) |> aggregate { n: count() }");
    assert_eq!(code, 1);
    assert!(err.contains("`window` needs every row to stand"), "{err}");
    let (code, err) = check("|> key_by(k) |> rolling { m: max(s) }");
    assert_eq!(code, 1);
    assert!(
        err.contains("`max` cannot take a row back, and the input is updating"),
        "{err}"
    );
    let (code, err) = check("|> map { k, s }");
    assert_eq!(code, 1);
    assert!(err.contains("must keep its `op` column"), "{err}");
    let (code, _) = check("|> filter(s > 0) |> map { op, k, s }");
    assert_eq!(code, 0);
}
