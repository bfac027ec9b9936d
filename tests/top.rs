//! Top-N against a simulation written here: per key, the sorted list of every record seen
//! so far (best first, ties by the order values, then by arrival), cut to `n`; a record
//! that lands in the top emits the changelog of the ranks from its own down. Checked on `best_rounds.pipe`
//! (its exact output, row by row) and on random input with many ties, at one and two
//! workers (where each key's rows come in the same order) and under a budget that makes
//! the state spill.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use common::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The changelog `top(n, desc(score), asc(ts))` emits for `records` (key, score, ts,
/// payload), each row (op, key, score, ts, payload, rank), in emission order: for each
/// rank from the new record's down, `-U` the record that held it and `+U` the one that
/// holds it now, or `+I` where the rank was empty.
fn simulate(records: &[(String, i64, i64, String)], n: usize) -> Vec<[String; 6]> {
    let mut lists: BTreeMap<&str, Vec<(i64, i64, usize)>> = BTreeMap::new();
    let mut out = Vec::new();
    let row = |op: &str, j: usize, rank: usize| {
        let (k, s, t, p) = &records[j];
        [
            op.to_string(),
            k.clone(),
            s.to_string(),
            t.to_string(),
            p.clone(),
            rank.to_string(),
        ]
    };
    for (i, (key, score, ts, _)) in records.iter().enumerate() {
        let list = lists.entry(key).or_default();
        // After every row that orders before it or ties with it (arrival order).
        let at = list
            .iter()
            .take_while(|&&(s, t, _)| (-s, t) <= (-score, *ts))
            .count();
        if at >= n {
            continue;
        }
        let before = list.clone();
        list.insert(at, (*score, *ts, i));
        list.truncate(n);
        for (rank, &(_, _, j)) in list.iter().enumerate().skip(at) {
            match before.get(rank) {
                Some(&(_, _, old)) => {
                    out.push(row("-U", old, rank + 1));
                    out.push(row("+U", j, rank + 1));
                }
                None => out.push(row("+I", j, rank + 1)),
            }
        }
    }
    out
}

/// Rows grouped by key, each key's in order.
fn by_key(rows: Vec<[String; 6]>) -> BTreeMap<String, Vec<[String; 6]>> {
    let mut out: BTreeMap<String, Vec<[String; 6]>> = BTreeMap::new();
    for r in rows {
        out.entry(r[1].clone()).or_default().push(r);
    }
    out
}

#[test]
fn best_rounds_emits_each_games_top_three_as_it_changes() {
    let (_, rows) = read_csv(&root().join("dsl-examples/data/game_scores.csv"));
    let records: Vec<(String, i64, i64, String)> = rows
        .iter()
        .map(|r| {
            (
                r[1].clone(),
                r[3].parse().unwrap(),
                r[0].parse().unwrap(),
                r[2].clone(),
            )
        })
        .collect();
    let want = simulate(&records, 3);
    let binary = build(Path::new("dsl-examples/best_rounds.pipe"));
    let dir = temp();
    let out = dir.path().join("out.csv");
    run_to(&binary, "best_rounds", &out, &[]);
    let (header, got) = read_csv(&out);
    assert_eq!(header, ["op", "ts", "game", "player", "points", "rank"]);
    let got: Vec<[String; 6]> = got
        .into_iter()
        .map(|r| {
            [
                r[0].clone(),
                r[2].clone(),
                r[4].clone(),
                r[1].clone(),
                r[3].clone(),
                r[5].clone(),
            ]
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn random_keys_keep_their_best_rows_on_any_number_of_workers_and_spilled() {
    let mut rng = ChaCha8Rng::seed_from_u64(41);
    let mut records = Vec::new();
    let mut text = String::from("ts,k,score,tag\n");
    for i in 0..60_000i64 {
        // Few distinct scores and repeated times: ties on both.
        let (k, score, ts) = (
            rng.random_range(0..3_000u64),
            rng.random_range(0..20i64),
            i / 3,
        );
        let tag = format!("t{i}");
        writeln!(text, "{ts},{k},{score},{tag}").unwrap();
        records.push((k.to_string(), score, ts, tag));
    }
    let want = by_key(simulate(&records, 5));
    let dir = temp();
    std::fs::write(dir.path().join("in.csv"), text).unwrap();
    let pipe = dir.path().join("top.pipe");
    std::fs::write(
        &pipe,
        format!(
            "schema R {{ ts: timestamp, k: u64, score: i64, tag: str }}\n\
             source r: R = csv(\"{}\");\n\
             r |> key_by(k) |> top(5, desc(score), ts) |> sink csv(\"{}\");\n",
            dir.path().join("in.csv").display(),
            dir.path().join("out.csv").display()
        ),
    )
    .unwrap();
    let binary = build(&pipe);
    for flags in [&[][..], &["--parallelism", "2"], &["--memory", "1MB"]] {
        run_ok(&binary, flags);
        let (_, rows) = read_csv(&dir.path().join("out.csv"));
        let got = by_key(
            rows.into_iter()
                .map(|r| {
                    [
                        r[0].clone(),
                        r[2].clone(),
                        r[3].clone(),
                        r[1].clone(),
                        r[4].clone(),
                        r[5].clone(),
                    ]
                })
                .collect(),
        );
        assert!(got == want, "{flags:?}");
    }
}
