//! "First and last page, pages and total time per 30-minute session"
//! (`dsl-examples/session_pages.pipe`) on generated page views, against the answer a Python
//! script would compute: each user's views sorted by time, split where two views are more
//! than 30 minutes apart (exactly 30 minutes apart stays one session, as in Flink); per
//! session the page with the least time and the one with the greatest, the count, the
//! minutes between, and the pages of its path (the order of arrival is the job's, so the
//! path is compared as the pages it lists). Views come out of order by less than the watermark's bound, so none is
//! late. On one worker, on two, and under a budget small enough to spill.

mod common;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use common::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const MINUTE: i64 = 60_000;

#[derive(Clone)]
struct View {
    user: String,
    page: String,
    ts: i64,
}

/// Views of 1,000 users, each minutes apart (sometimes exactly 30, sometimes more), with
/// pages of many lengths (up to 16 KB), times unique per user; then
/// shaken by up to 40 s.
fn views(seed: u64) -> Vec<View> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    let mut all = Vec::new();
    for u in 0..1_000 {
        let mut ts = start + rng.random_range(0..60 * MINUTE);
        for _ in 0..rng.random_range(1..60) {
            let page = match rng.random_range(0..20) {
                0 => format!("/search?q={}", "long".repeat(rng.random_range(200..4_000))),
                n => format!("/p/{}", n * 7 % 13),
            };
            all.push(View {
                user: format!("u{u}"),
                page,
                ts,
            });
            ts += match rng.random_range(0..10) {
                0 => 30 * MINUTE,
                1 => 30 * MINUTE + 1,
                2 => rng.random_range(31 * MINUTE..120 * MINUTE),
                _ => rng.random_range(1_000..20 * MINUTE),
            };
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

/// The reference: one row per session, `[user, first page, last page, pages, minutes,
/// path's pages sorted]`, sorted.
fn sessions(views: &[View]) -> Vec<Vec<String>> {
    let mut by_user: HashMap<&str, Vec<&View>> = HashMap::new();
    for v in views {
        by_user.entry(&v.user).or_default().push(v);
    }
    let mut rows = Vec::new();
    for (user, mut vs) in by_user {
        vs.sort_by_key(|v| v.ts);
        let mut session: Vec<&View> = Vec::new();
        let mut close = |session: &mut Vec<&View>| {
            if let (Some(first), Some(last)) = (session.first(), session.last()) {
                rows.push(vec![
                    user.to_string(),
                    first.page.clone(),
                    last.page.clone(),
                    session.len().to_string(),
                    ((last.ts - first.ts) / MINUTE).to_string(),
                    path_pages(
                        &session
                            .iter()
                            .map(|v| v.page.as_str())
                            .collect::<Vec<_>>()
                            .join(" > "),
                    ),
                ]);
            }
            session.clear();
        };
        for v in vs {
            if session.last().is_some_and(|l| v.ts - l.ts > 30 * MINUTE) {
                close(&mut session);
            }
            session.push(v);
        }
        close(&mut session);
    }
    rows.sort();
    rows
}

/// The job's sessions, as the reference has them, and how often its window spilled.
/// A path's pages, sorted, joined again.
fn path_pages(path: &str) -> String {
    let mut pages: Vec<&str> = path.split(" > ").collect();
    pages.sort_unstable();
    pages.join(" > ")
}

fn run_job(
    bin: &Path,
    dir: &Path,
    workers: Workers,
    memory: Option<&str>,
) -> (Vec<Vec<String>>, u64) {
    let out = dir.join("sessions.csv");
    let mut args = vec![
        "--input".to_string(),
        format!("views={}", dir.join("views.csv").display()),
        "--output".to_string(),
        format!("session_pages={}", out.display()),
    ];
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
    let (header, rows) = read_csv(&out);
    assert_eq!(
        header,
        [
            "user",
            "started",
            "first_page",
            "last_page",
            "pages",
            "minutes",
            "path"
        ]
    );
    let mut rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            let mut row: Vec<String> = [0, 2, 3, 4, 5].iter().map(|&i| r[i].clone()).collect();
            row.push(path_pages(&r[6]));
            row
        })
        .collect();
    rows.sort();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    let spills = report["operators"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|op| op["spill_runs"].as_u64())
        .sum();
    (rows, spills)
}

#[test]
fn first_and_last_page_per_session_match_the_reference() {
    let bin = build(Path::new("dsl-examples/session_pages.pipe"));
    let dir = temp();
    let views = views(11);
    let mut text = String::from("user,page,ts\n");
    for v in &views {
        writeln!(text, "{},{},{}", v.user, v.page, v.ts).unwrap();
    }
    std::fs::write(dir.path().join("views.csv"), text).unwrap();
    std::fs::create_dir(dir.path().join("spill")).unwrap();
    let want = sessions(&views);
    assert!(want.len() > 400, "{}", want.len());
    assert_eq!(run_job(&bin, dir.path(), Workers::Threads(1), None).0, want);
    assert_eq!(run_job(&bin, dir.path(), Workers::Threads(2), None).0, want);
    let (spilled, spills) = run_job(&bin, dir.path(), Workers::Threads(1), Some("1MB"));
    assert!(spills > 0, "the window spilled under 1MB");
    assert_eq!(spilled, want, "spilled");
}
