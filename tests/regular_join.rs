//! Unwindowed (regular) joins against a nested loop over all records: with `ttl(D)`, every
//! pair of a left and a right record with equal keys whose times are at most `D` apart;
//! without a ttl and without event time, every pair with equal keys. Random inputs with
//! duplicate keys on both sides and equal timestamps, long enough to interleave; at one
//! and two workers, and under a small memory budget that makes the join spill. Also
//! `order_customers.pipe`, the example, against its pairs worked out by hand.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Time, key and payload of one record.
type Rec = (i64, u64, u64);

/// `n` records in time order (steps of 0 to 40 ms, so times repeat), keys below `keys`.
fn records(rng: &mut ChaCha8Rng, n: usize, keys: u64) -> Vec<Rec> {
    let mut ts = 0;
    (0..n)
        .map(|i| {
            ts += rng.random_range(0..40);
            (ts, rng.random_range(0..keys), i as u64)
        })
        .collect()
}

fn csv(rows: &[Rec]) -> String {
    let mut out = String::from("ts,k,tag\n");
    for (ts, k, tag) in rows {
        writeln!(out, "{ts},{k},{tag}").unwrap();
    }
    out
}

/// The job: `a` joined with `b` on `k`, with `join_args` after the other stream's name,
/// writing each pair's tags and times; `timed` gives both sources event time.
fn job(dir: &Path, join_args: &str, timed: bool) -> std::path::PathBuf {
    let time = if timed {
        " with event_time(ts), watermark(ascending)"
    } else {
        ""
    };
    let text = format!(
        "schema R {{ ts: timestamp, k: u64, tag: u64 }}\n\
         source a: R = csv(\"{a}\"){time};\n\
         source b: R = csv(\"{b}\"){time};\n\
         let bs = b |> key_by(k);\n\
         a |> key_by(k) |> join(bs{join_args})\n\
           |> map {{ left: a.tag, right: bs.tag, lt: a.ts, rt: bs.ts }}\n\
           |> sink csv(\"{out}\");\n",
        a = dir.join("a.csv").display(),
        b = dir.join("b.csv").display(),
        out = dir.join("out.csv").display(),
    );
    let pipe = dir.join("join.pipe");
    std::fs::write(&pipe, text).unwrap();
    build(&pipe)
}

/// The pairs a nested loop finds: equal keys, times at most `ttl` apart (any, without).
fn reference(a: &[Rec], b: &[Rec], ttl: Option<i64>) -> Vec<Vec<String>> {
    let mut want = Vec::new();
    for (lt, lk, ltag) in a {
        for (rt, rk, rtag) in b {
            if lk == rk && ttl.is_none_or(|d| (lt - rt).abs() <= d) {
                want.push(vec![
                    ltag.to_string(),
                    rtag.to_string(),
                    lt.to_string(),
                    rt.to_string(),
                ]);
            }
        }
    }
    want.sort();
    want
}

fn pairs(binary: &Path, dir: &Path, flags: &[&str]) -> Vec<Vec<String>> {
    run_ok(binary, flags);
    let (_, mut rows) = read_csv(&dir.join("out.csv"));
    rows.sort();
    rows
}

#[test]
fn a_join_with_a_ttl_pairs_records_at_most_the_ttl_apart() {
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let dir = temp();
    let (a, b) = (
        records(&mut rng, 20_000, 300),
        records(&mut rng, 15_000, 300),
    );
    std::fs::write(dir.path().join("a.csv"), csv(&a)).unwrap();
    std::fs::write(dir.path().join("b.csv"), csv(&b)).unwrap();
    let want = reference(&a, &b, Some(2_000));
    assert!(want.len() > 10_000, "{}", want.len());
    let binary = job(dir.path(), ", ttl(2s)", true);
    for flags in [&[][..], &["--parallelism", "2"], &["--memory", "1MB"]] {
        let got = pairs(&binary, dir.path(), flags);
        assert!(
            got == want,
            "{flags:?}: {} pairs against {}",
            got.len(),
            want.len()
        );
    }
    // Records no later one could meet were dropped as the watermark passed, and counted.
    let said = run(&binary, &[]);
    let said = String::from_utf8_lossy(&said.stderr);
    assert!(
        said.contains("key entr(ies) expired from its state, 2s of event time"),
        "{said}"
    );
}

#[test]
fn a_join_without_a_ttl_pairs_every_record_with_an_equal_key() {
    let mut rng = ChaCha8Rng::seed_from_u64(32);
    let dir = temp();
    let (a, b) = (records(&mut rng, 3_000, 500), records(&mut rng, 2_000, 500));
    std::fs::write(dir.path().join("a.csv"), csv(&a)).unwrap();
    std::fs::write(dir.path().join("b.csv"), csv(&b)).unwrap();
    let want = reference(&a, &b, None);
    for timed in [false, true] {
        let binary = job(dir.path(), "", timed);
        for flags in [&[][..], &["--parallelism", "2"]] {
            let got = pairs(&binary, dir.path(), flags);
            assert!(
                got == want,
                "timed {timed}, {flags:?}: {} pairs against {}",
                got.len(),
                want.len()
            );
        }
    }
}

/// The example's pairs, worked out by hand from its two files (see its comment).
#[test]
fn order_customers_pairs_each_order_with_the_profiles_a_day_of_it() {
    let binary = build(Path::new("dsl-examples/order_customers.pipe"));
    let dir = temp();
    let out = dir.path().join("out.csv");
    run_to(&binary, "order_customers", &out, &[]);
    let (header, mut rows) = read_csv(&out);
    assert_eq!(
        header,
        ["order", "customer", "country", "total", "registered"]
    );
    rows.sort();
    let want: Vec<Vec<String>> = [
        "1,ann,fr,30,1767250000000",
        "2,bob,de,12,1767268000000",
        "3,cid,us,7,1767259000000",
        "4,ann,fr,50,1767250000000",
        "5,dan,it,20,1767300000000",
        "6,eve,uk,15,1767262000000",
        "7,bob,de,44,1767268000000",
    ]
    .iter()
    .map(|r| r.split(',').map(String::from).collect())
    .collect();
    assert_eq!(rows, want);
}
