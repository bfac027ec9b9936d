//! Aggregates kept outside the accumulators (`first`, `last`, `min`, `max` over `str`,
//! `collect_list`, `count_distinct`) in tumbling
//! and sliding windows and a keyed aggregate (`tests/fixtures/text_aggregates.pipe`) on
//! generated page views, against a reference that puts each view in its windows (or all
//! of a user's views in one group) and computes each aggregate directly:
//! first and last by event time (unique per user), least and greatest in byte order, and
//! the list's pages (compared sorted: the list is in order of arrival, the job's), and
//! the number of distinct pages or minutes (`count_distinct`). Views
//! come out of order by less than the watermark's bound, so none is late. On one worker,
//! on two, and under a budget small enough to spill.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use common::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const MINUTE: i64 = 60_000;

struct View {
    user: String,
    page: String,
    ts: i64,
}

/// Views of 400 users over about three hours, pages of many lengths (some longer than a
/// 32 KB page), times unique per user; then shaken by up to 40 s.
fn views(seed: u64) -> Vec<View> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    let mut all = Vec::new();
    for u in 0..400 {
        let mut ts = start + rng.random_range(0..30 * MINUTE);
        for _ in 0..rng.random_range(1..80) {
            let page = match rng.random_range(0..25) {
                0 => format!("/search?q={}", "long".repeat(rng.random_range(100..9_000))),
                n => format!("/p/{}", n * 7 % 17),
            };
            all.push(View {
                user: format!("u{u}"),
                page,
                ts,
            });
            ts += rng.random_range(1_000..6 * MINUTE);
        }
    }
    all.sort_by_key(|v| v.ts);
    for i in 1..all.len() {
        if rng.random_range(0..3) == 0 && all[i].ts - all[i - 1].ts < 40_000 {
            all.swap(i - 1, i);
        }
    }
    all
}

/// The reference for windows `size` long starting every `slide`: per user and window
/// start, `[user, start]` and its [`group`], sorted.
fn windows(views: &[View], size: i64, slide: i64) -> Vec<Vec<String>> {
    let mut by_window: BTreeMap<(&str, i64), Vec<&View>> = BTreeMap::new();
    for v in views {
        let mut start = v.ts.div_euclid(slide) * slide;
        while start > v.ts - size {
            by_window.entry((&v.user, start)).or_default().push(v);
            start -= slide;
        }
    }
    by_window
        .into_iter()
        .map(|((user, start), vs)| {
            let mut row = vec![user.to_string(), start.to_string()];
            row.extend(group(vs));
            row
        })
        .collect()
}

/// The reference for the keyed aggregate: per user, `[user]` and its [`group`], sorted.
fn per_user(views: &[View]) -> Vec<Vec<String>> {
    let mut by_user: BTreeMap<&str, Vec<&View>> = BTreeMap::new();
    for v in views {
        by_user.entry(&v.user).or_default().push(v);
    }
    by_user
        .into_iter()
        .map(|(user, vs)| {
            let mut row = vec![user.to_string()];
            row.extend(group(vs));
            row
        })
        .collect()
}

/// The reference for count windows of 5: per user, its views in arrival order in groups
/// of 5 (the last one short), `[user]` and each group's [`group`], sorted.
fn per_five(views: &[View]) -> Vec<Vec<String>> {
    let mut by_user: BTreeMap<&str, Vec<&View>> = BTreeMap::new();
    for v in views {
        by_user.entry(&v.user).or_default().push(v);
    }
    let mut rows = Vec::new();
    for (user, vs) in by_user {
        for five in vs.chunks(5) {
            let mut row = vec![user.to_string()];
            row.extend(group(five.to_vec()));
            rows.push(row);
        }
    }
    rows.sort();
    rows
}

/// A group's `[n, first, last, least, greatest, pages sorted, distinct pages, distinct
/// minutes]`.
fn group(mut vs: Vec<&View>) -> Vec<String> {
    vs.sort_by_key(|v| v.ts);
    let pages = vs.iter().map(|v| v.page.as_str());
    let distinct_pages: HashSet<&str> = pages.clone().collect();
    let minutes: HashSet<i64> = vs.iter().map(|v| v.ts.div_euclid(MINUTE)).collect();
    vec![
        vs.len().to_string(),
        vs[0].page.clone(),
        vs[vs.len() - 1].page.clone(),
        pages.clone().min().unwrap().to_string(),
        pages.clone().max().unwrap().to_string(),
        sorted_pages(&pages.collect::<Vec<_>>().join(" ")),
        distinct_pages.len().to_string(),
        minutes.len().to_string(),
    ]
}

fn sorted_pages(list: &str) -> String {
    let mut pages: Vec<&str> = list.split(' ').collect();
    pages.sort_unstable();
    pages.join(" ")
}

/// The rows of a sink with `columns`, but for `window_end`, its list of pages sorted,
/// sorted.
fn rows(path: &Path, columns: &[&str]) -> Vec<Vec<String>> {
    let (header, rows) = read_csv(path);
    assert_eq!(header, columns);
    let pages = columns.iter().position(|&c| c == "pages").unwrap();
    let mut rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|mut r| {
            r[pages] = sorted_pages(&r[pages]);
            r.into_iter()
                .zip(columns)
                .filter(|(_, &c)| c != "window_end")
                .map(|(v, _)| v)
                .collect()
        })
        .collect();
    rows.sort();
    rows
}

/// Columns `picks` of each row.
fn pick(rows: Vec<Vec<String>>, picks: &[usize]) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|r| picks.iter().map(|&i| r[i].clone()).collect())
        .collect()
}

/// Runs the job; its tumbling and sliding rows, and how often it spilled.
fn run_job(
    bin: &Path,
    dir: &Path,
    workers: Workers,
    memory: Option<&str>,
) -> [Vec<Vec<String>>; 4] {
    let mut args = vec![
        "--input".to_string(),
        format!("views={}", dir.join("views.csv").display()),
    ];
    for sink in ["tumbling", "sliding", "per_user", "per_five"] {
        args.push("--output".to_string());
        args.push(format!(
            "{sink}={}",
            dir.join(format!("{sink}.csv")).display()
        ));
    }
    if let Some(memory) = memory {
        args.extend(["--memory".to_string(), memory.to_string()]);
        args.extend([
            "--spill-dir".to_string(),
            dir.join("spill").display().to_string(),
        ]);
    }
    let stats = dir.join("stats.json");
    args.extend(["--stats-json".to_string(), stats.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = workers.run(bin, &args);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(!stderr.contains("late"), "{stderr}");
    if memory.is_some() {
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
        let operators = report["operators"].as_array().unwrap();
        assert_eq!(operators.len(), 4, "{report}");
        for op in &operators[..3] {
            assert!(op["spill_runs"].as_u64() > Some(0), "spilled: {op}");
        }
    }
    let tumbling = rows(
        &dir.join("tumbling.csv"),
        &[
            "user",
            "window_start",
            "window_end",
            "n",
            "entry",
            "exit",
            "least",
            "greatest",
            "pages",
            "distinct",
        ],
    );
    let sliding = rows(
        &dir.join("sliding.csv"),
        &[
            "user",
            "window_start",
            "window_end",
            "n",
            "entry",
            "greatest",
            "pages",
            "minutes",
        ],
    );
    let per_user = rows(
        &dir.join("per_user.csv"),
        &[
            "user", "n", "entry", "exit", "least", "greatest", "pages", "distinct",
        ],
    );
    let per_five = rows(
        &dir.join("per_five.csv"),
        &[
            "user", "n", "entry", "exit", "least", "greatest", "pages", "distinct",
        ],
    );
    [tumbling, sliding, per_user, per_five]
}

#[test]
fn text_aggregates_match_the_reference() {
    let bin = build(Path::new("tests/fixtures/text_aggregates.pipe"));
    let dir = temp();
    let views = views(5);
    let mut text = String::from("user,page,ts\n");
    for v in &views {
        writeln!(text, "{},{},{}", v.user, v.page, v.ts).unwrap();
    }
    std::fs::write(dir.path().join("views.csv"), text).unwrap();
    std::fs::create_dir(dir.path().join("spill")).unwrap();
    // Rows `[user, start, n, first, last, least, greatest, pages, distinct pages,
    // distinct minutes]`, or without the start per user.
    let tumbling = pick(
        windows(&views, 10 * MINUTE, 10 * MINUTE),
        &[0, 1, 2, 3, 4, 5, 6, 7, 8],
    );
    let sliding = pick(
        windows(&views, 30 * MINUTE, 10 * MINUTE),
        &[0, 1, 2, 3, 6, 7, 9],
    );
    let per_user = pick(per_user(&views), &[0, 1, 2, 3, 4, 5, 6, 7]);
    let per_five = pick(per_five(&views), &[0, 1, 2, 3, 4, 5, 6, 7]);
    assert!(tumbling.len() > 2_000, "{}", tumbling.len());
    let want = [tumbling, sliding, per_user, per_five];
    assert_eq!(run_job(&bin, dir.path(), Workers::Threads(1), None), want);
    assert_eq!(run_job(&bin, dir.path(), Workers::Threads(2), None), want);
    assert_eq!(
        run_job(&bin, dir.path(), Workers::Threads(1), Some("3MiB")),
        want,
        "spilled"
    );
}

/// The advice after a spilled aggregate of distinct sets names a budget that holds them:
/// rerun with it, nothing spills, and the counts are the same.
#[test]
fn the_advice_after_spilled_distinct_sets_holds() {
    let dir = temp();
    let pipe = dir.path().join("distinct.pipe");
    std::fs::write(
        &pipe,
        "schema R { k: str, x: i64 }\n\
         source rs: R = csv(\"rs.csv\");\n\
         rs |> key_by(k) |> aggregate { n: count(), d: count_distinct(x) } |> sink out = csv(\"out.csv\");\n",
    )
    .unwrap();
    let mut rows = String::from("k,x\n");
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for i in 0..200_000 {
        writeln!(rows, "k{},{}", i % 200, rng.random_range(0..2_000)).unwrap();
    }
    std::fs::write(dir.path().join("rs.csv"), rows).unwrap();
    std::fs::create_dir(dir.path().join("spill")).unwrap();
    let bin = build(&pipe);
    let run = |memory: &str| {
        let out = dir.path().join(format!("out-{memory}.csv"));
        let stats = dir.path().join(format!("stats-{memory}.json"));
        let args = [
            "--input".to_string(),
            format!("rs={}", dir.path().join("rs.csv").display()),
            "--output".to_string(),
            format!("out={}", out.display()),
            "--memory".to_string(),
            memory.to_string(),
            "--spill-dir".to_string(),
            dir.path().join("spill").display().to_string(),
            "--stats".to_string(),
            "--stats-json".to_string(),
            stats.display().to_string(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = Workers::Threads(1).run(&bin, &args);
        let stderr = String::from_utf8_lossy(&run.stderr).to_string();
        assert!(run.status.success(), "{stderr}");
        (std::fs::read(&out).unwrap(), spill_runs(&stats), stderr)
    };
    let (spilled, runs, said) = run("1MiB");
    assert!(runs > 0, "spilled under 1MiB: {said}");
    let advised = said
        .split("with --memory ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no advice: {said}"));
    let (held, runs, said) = run(advised);
    assert_eq!(runs, 0, "spilled under the advised {advised}: {said}");
    assert_eq!(held, spilled);
}
