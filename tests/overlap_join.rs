//! Overlap joins against a nested loop over all records: every pair of a left and a right
//! record with equal keys whose half-open intervals overlap. Random intervals of any
//! length (some empty, many touching), starts in order on each side, long enough to
//! interleave; at one and two workers and under a small budget. And `alarms_in_maintenance.pipe`
//! against its pairs worked out by hand.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Start, end, key and tag of one record.
type Span = (i64, i64, u64, u64);

/// `n` records with starts in order (steps of 0 to 30 ms), lengths 0 to 2 s, keys below
/// `keys`.
fn spans(rng: &mut ChaCha8Rng, n: usize, keys: u64) -> Vec<Span> {
    let mut start = 0;
    (0..n)
        .map(|i| {
            start += rng.random_range(0..30);
            let len = if rng.random_range(0..10) == 0 {
                0
            } else {
                rng.random_range(1..2_000)
            };
            (start, start + len, rng.random_range(0..keys), i as u64)
        })
        .collect()
}

fn csv(rows: &[Span]) -> String {
    let mut out = String::from("s,e,k,tag\n");
    for (s, e, k, tag) in rows {
        writeln!(out, "{s},{e},{k},{tag}").unwrap();
    }
    out
}

#[test]
fn records_pair_where_their_intervals_overlap() {
    let mut rng = ChaCha8Rng::seed_from_u64(61);
    let (a, b) = (spans(&mut rng, 12_000, 200), spans(&mut rng, 9_000, 200));
    let mut want: Vec<Vec<String>> = Vec::new();
    for (s1, e1, k1, t1) in &a {
        for (s2, e2, k2, t2) in &b {
            // Half-open: an empty interval holds no time, so overlaps nothing.
            if k1 == k2 && s1 < e1 && s2 < e2 && s1 < e2 && s2 < e1 {
                want.push(vec![t1.to_string(), t2.to_string()]);
            }
        }
    }
    want.sort();
    assert!(want.len() > 3_000, "{}", want.len());
    let dir = temp();
    std::fs::write(dir.path().join("a.csv"), csv(&a)).unwrap();
    std::fs::write(dir.path().join("b.csv"), csv(&b)).unwrap();
    let pipe = dir.path().join("overlap.pipe");
    std::fs::write(
        &pipe,
        format!(
            "schema R {{ s: timestamp, e: timestamp, k: u64, tag: u64 }}\n\
             source a: R = csv(\"{a}\") with event_time(s), watermark(ascending);\n\
             source b: R = csv(\"{b}\") with event_time(s), watermark(ascending);\n\
             let bs = b |> key_by(k);\n\
             a |> key_by(k) |> overlap_join(bs, span(s, e), span(s, e))\n\
               |> map {{ left: a.tag, right: bs.tag }} |> sink csv(\"{out}\");\n",
            a = dir.path().join("a.csv").display(),
            b = dir.path().join("b.csv").display(),
            out = dir.path().join("out.csv").display(),
        ),
    )
    .unwrap();
    let binary = build(&pipe);
    for flags in [&[][..], &["--parallelism", "2"], &["--memory", "1MB"]] {
        let said = run(&binary, flags);
        assert!(
            said.status.success(),
            "{}",
            String::from_utf8_lossy(&said.stderr)
        );
        assert!(
            !String::from_utf8_lossy(&said.stderr).contains("late"),
            "{flags:?}: nothing is late"
        );
        let (_, mut got) = read_csv(&dir.path().join("out.csv"));
        got.sort();
        assert!(
            got == want,
            "{flags:?}: {} pairs against {}",
            got.len(),
            want.len()
        );
    }
}

#[test]
fn alarms_in_maintenance_pairs_the_alarms_that_overlap_a_maintenance() {
    let binary = build(Path::new("dsl-examples/alarms_in_maintenance.pipe"));
    let dir = temp();
    let out = dir.path().join("out.csv");
    run_to(&binary, "alarms_in_maintenance", &out, &[]);
    let (header, mut rows) = read_csv(&out);
    assert_eq!(header, ["sensor", "level", "alarm", "crew"]);
    rows.sort();
    let want: Vec<Vec<String>> = [
        "s1,high,1767258000000,ana",
        "s1,high,1767258600000,cai",
        "s2,high,1767260400000,eli",
    ]
    .iter()
    .map(|r| r.split(',').map(String::from).collect())
    .collect();
    assert_eq!(rows, want);
}
