//! Window joins against a reference written here: for each window, every pair of a left
//! and a right record with equal keys, found by a nested loop over all records, filtered by
//! the window rule and the lateness rule; then each outer join's unmatched records. Random
//! two-stream inputs with disorder, equal timestamps, duplicate keys on both sides, empty
//! windows, strings that need quoting, late records on both sides, and inputs long enough
//! that the run loop interleaves them; tumbling and sliding windows;
//! inner, left, right and full joins, all from one job.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::join_schedule::arrivals;
use common::*;
use proptest::prelude::*;

const BOUND: i64 = 2_000;
const KINDS: [&str; 4] = ["inner", "left", "right", "full"];

/// A left record (`orders`).
#[derive(Debug, Clone)]
struct Order {
    ts: i64,
    id: u64,
    note: String,
}

/// A right record (`paid`).
#[derive(Debug, Clone)]
struct Payment {
    ts: i64,
    order_id: u64,
    amount: i64,
}

/// The windows: `size` ms starting every `slide` ms (a tumbling window when equal), or
/// sessions closing after `gap` ms without a record of their key (`size` unused).
#[derive(Debug, Clone, Copy)]
struct Windows {
    size: i64,
    slide: i64,
    gap: Option<i64>,
}

impl Windows {
    /// The starts of the windows holding `ts`, earliest first.
    fn starts(self, ts: i64) -> Vec<i64> {
        let latest = ts - ts.rem_euclid(self.slide);
        let mut starts: Vec<i64> = (0..)
            .map(|i| latest - i * self.slide)
            .take_while(|&s| s + self.size > ts)
            .collect();
        starts.reverse();
        starts
    }

    fn phrase(self) -> String {
        if let Some(gap) = self.gap {
            format!("session gap {gap}ms")
        } else if self.size == self.slide {
            format!("tumbling {}ms", self.size)
        } else {
            format!("sliding {}ms every {}ms", self.size, self.slide)
        }
    }
}

/// One job with the four joins of `orders` and `paid` in `windows`, each to its own sink.
fn job(windows: Windows) -> PathBuf {
    let mut text = format!(
        "schema Order {{ ts: timestamp, id: u64, note: str }}\n\
         schema Payment {{ ts: timestamp, order_id: u64, amount: i64 }}\n\
         source orders: Order = csv(\"orders.csv\") with event_time(ts), watermark(bounded {BOUND}ms);\n\
         source payments: Payment = csv(\"payments.csv\") with event_time(ts), watermark(bounded {BOUND}ms);\n\
         let paid = payments |> key_by(order_id);\n"
    );
    for kind in KINDS {
        let arg = if kind == "inner" {
            String::new()
        } else {
            format!(", {kind}")
        };
        text.push_str(&format!(
            "orders |> key_by(id) |> window({}) |> join(paid{arg}) |> sink {kind} = csv(\"{kind}.csv\");\n",
            windows.phrase()
        ));
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("join-jobs");
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!(
        "join_{}_{}_{}",
        windows.size,
        windows.slide,
        windows.gap.unwrap_or(0)
    );
    let pipe = dir.join(format!("{name}.pipe"));
    std::fs::write(&pipe, text).unwrap();
    build(&pipe)
}

fn tumbling_job() -> &'static Path {
    static JOB: OnceLock<PathBuf> = OnceLock::new();
    JOB.get_or_init(|| job(TUMBLING))
}

fn sliding_job() -> &'static Path {
    static JOB: OnceLock<PathBuf> = OnceLock::new();
    JOB.get_or_init(|| job(SLIDING))
}

const TUMBLING: Windows = Windows {
    size: 10_000,
    slide: 10_000,
    gap: None,
};
const SLIDING: Windows = Windows {
    size: 10_000,
    slide: 5_000,
    gap: None,
};
const SESSIONS: Windows = Windows {
    size: 0,
    slide: 0,
    gap: Some(3_000),
};

fn session_job() -> &'static Path {
    static JOB: OnceLock<PathBuf> = OnceLock::new();
    JOB.get_or_init(|| job(SESSIONS))
}

/// The rows of each join, in `KINDS` order, and what the job said on stderr.
fn run_job(
    bin: &Path,
    orders: &[Order],
    payments: &[Payment],
    workers: Workers,
) -> (Vec<Vec<Vec<String>>>, String) {
    let dir = temp();
    let mut o = csv::Writer::from_path(dir.path().join("orders.csv")).unwrap();
    o.write_record(["ts", "id", "note"]).unwrap();
    for r in orders {
        o.write_record([r.ts.to_string(), r.id.to_string(), r.note.clone()])
            .unwrap();
    }
    o.flush().unwrap();
    let mut p = csv::Writer::from_path(dir.path().join("payments.csv")).unwrap();
    p.write_record(["ts", "order_id", "amount"]).unwrap();
    for r in payments {
        p.write_record([
            r.ts.to_string(),
            r.order_id.to_string(),
            r.amount.to_string(),
        ])
        .unwrap();
    }
    p.flush().unwrap();
    let mut args = vec![
        "--input".to_string(),
        format!("orders={}", dir.path().join("orders.csv").display()),
        "--input".to_string(),
        format!("payments={}", dir.path().join("payments.csv").display()),
    ];
    for kind in KINDS {
        args.push("--output".into());
        args.push(format!(
            "{kind}={}",
            dir.path().join(format!("{kind}.csv")).display()
        ));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = workers.run(bin, &args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    let rows = KINDS
        .iter()
        .map(|kind| read_csv(&dir.path().join(format!("{kind}.csv"))).1)
        .collect();
    (rows, stderr)
}

/// One key of one window: its left and right records in arrival order.
type Group<'a> = (u64, Vec<&'a Order>, Vec<&'a Payment>);

/// Each fired window's key with its records, in output order, with the window's bounds.
type FiredGroups<'a> = Vec<((i64, i64), Group<'a>)>;

/// Tumbling and sliding windows: each window lists its keys in the order they first
/// arrived, each key its records of either side in arrival order; windows fire in order of
/// start (all have one length). A record is late for a window whose last millisecond the
/// join's watermark has reached when it arrives, and dropped when that holds for all.
fn fixed_windows<'a>(
    w: Windows,
    orders: &'a [Order],
    payments: &'a [Payment],
) -> (FiredGroups<'a>, [u64; 2]) {
    let mut windows: std::collections::BTreeMap<i64, Vec<Group<'a>>> = Default::default();
    fn entry<'a, 'b>(groups: &'b mut Vec<Group<'a>>, key: u64) -> &'b mut Group<'a> {
        let at = match groups.iter().position(|g| g.0 == key) {
            Some(at) => at,
            None => {
                groups.push((key, Vec::new(), Vec::new()));
                groups.len() - 1
            }
        };
        &mut groups[at]
    }
    let times = times(orders, payments);
    let mut late = [0u64; 2];
    for a in arrivals([&times[0], &times[1]], BOUND) {
        let ts = times[a.source][a.index];
        let open: Vec<i64> = w
            .starts(ts)
            .into_iter()
            .filter(|s| s + w.size - 1 > a.watermark)
            .collect();
        if open.is_empty() {
            late[a.source] += 1;
        }
        for start in open {
            let groups = windows.entry(start).or_default();
            if a.source == 0 {
                let o = &orders[a.index];
                entry(groups, o.id).1.push(o);
            } else {
                let p = &payments[a.index];
                entry(groups, p.order_id).2.push(p);
            }
        }
    }
    let fired = windows
        .into_iter()
        .flat_map(|(start, groups)| {
            groups
                .into_iter()
                .map(move |g| ((start, start + w.size), g))
        })
        .collect();
    (fired, late)
}

/// Session windows over both sides together: a record's own window `[t, t + gap)` merges
/// with every session of its key it touches (bounds included), and is late when its end - 1
/// is at or before the join's watermark. Sessions fire once the watermark reaches their
/// end - 1, in order of end, then of when they were opened or last changed.
fn sessions<'a>(
    gap: i64,
    orders: &'a [Order],
    payments: &'a [Payment],
) -> (FiredGroups<'a>, [u64; 2]) {
    struct Session<'a> {
        start: i64,
        end: i64,
        changed: u64,
        group: Group<'a>,
        /// Arrival numbers of each side's records, to keep them in arrival order.
        order: (Vec<usize>, Vec<usize>),
    }
    let times = times(orders, payments);
    let (mut open, mut fired, mut late) = (Vec::<Session<'a>>::new(), Vec::new(), [0u64; 2]);
    let mut changes = 0u64;
    let fire_due = |open: &mut Vec<Session<'a>>, fired: &mut FiredGroups<'a>, wm: i64| {
        let mut due: Vec<Session<'a>> = Vec::new();
        let mut i = 0;
        while i < open.len() {
            if open[i].end - 1 <= wm {
                due.push(open.remove(i));
            } else {
                i += 1;
            }
        }
        due.sort_by_key(|s| (s.end, s.changed));
        fired.extend(due.into_iter().map(|s| ((s.start, s.end), s.group)));
    };
    for (n, a) in arrivals([&times[0], &times[1]], BOUND)
        .into_iter()
        .enumerate()
    {
        fire_due(&mut open, &mut fired, a.watermark);
        let (ts, key) = match a.source {
            0 => (orders[a.index].ts, orders[a.index].id),
            _ => (payments[a.index].ts, payments[a.index].order_id),
        };
        let (s, e) = (ts, ts + gap);
        if e - 1 <= a.watermark {
            late[a.source] += 1;
            continue;
        }
        let (touching, rest): (Vec<Session<'a>>, Vec<Session<'a>>) = std::mem::take(&mut open)
            .into_iter()
            .partition(|x| x.group.0 == key && x.start <= e && x.end >= s);
        open = rest;
        let mut merged = Session {
            start: s,
            end: e,
            changed: 0,
            group: (key, Vec::new(), Vec::new()),
            order: (Vec::new(), Vec::new()),
        };
        let unchanged = touching.len() == 1 && touching[0].start <= s && touching[0].end >= e;
        let kept_changed = touching.first().map(|t| t.changed);
        for t in touching {
            merged.start = merged.start.min(t.start);
            merged.end = merged.end.max(t.end);
            merged.group.1.extend(
                t.group
                    .1
                    .iter()
                    .copied()
                    .zip(t.order.0.iter().copied())
                    .map(|(o, _)| o),
            );
            merged.order.0.extend(t.order.0);
            merged.group.2.extend(t.group.2);
            merged.order.1.extend(t.order.1);
        }
        if a.source == 0 {
            merged.group.1.push(&orders[a.index]);
            merged.order.0.push(n);
        } else {
            merged.group.2.push(&payments[a.index]);
            merged.order.1.push(n);
        }
        merged.changed = match (unchanged, kept_changed) {
            (true, Some(c)) => c,
            _ => {
                changes += 1;
                changes
            }
        };
        // Each side's records in arrival order.
        let mut lefts: Vec<(usize, &'a Order)> = merged
            .order
            .0
            .iter()
            .copied()
            .zip(merged.group.1.iter().copied())
            .collect();
        lefts.sort_by_key(|x| x.0);
        let mut rights: Vec<(usize, &'a Payment)> = merged
            .order
            .1
            .iter()
            .copied()
            .zip(merged.group.2.iter().copied())
            .collect();
        rights.sort_by_key(|x| x.0);
        merged.order = (
            lefts.iter().map(|x| x.0).collect(),
            rights.iter().map(|x| x.0).collect(),
        );
        merged.group.1 = lefts.into_iter().map(|x| x.1).collect();
        merged.group.2 = rights.into_iter().map(|x| x.1).collect();
        open.push(merged);
    }
    fire_due(&mut open, &mut fired, i64::MAX);
    (fired, late)
}

fn times(orders: &[Order], payments: &[Payment]) -> [Vec<i64>; 2] {
    [
        orders.iter().map(|o| o.ts).collect(),
        payments.iter().map(|p| p.ts).collect(),
    ]
}

/// The reference: each join's rows in `KINDS` order, and how many orders and payments
/// were late.
///
/// The records reach the join in the order the run loop reads the two sources
/// (`common::join_schedule`), each with the join's watermark at that point. A record is
/// late for a window whose last millisecond that watermark has reached, and dropped when
/// that holds for all its windows. Each window lists its keys in the order they first
/// arrived, each key its records of either side in arrival order.
fn reference(
    w: Windows,
    orders: &[Order],
    payments: &[Payment],
) -> (Vec<Vec<Vec<String>>>, [u64; 2]) {
    let (fired, late) = match w.gap {
        Some(gap) => sessions(gap, orders, payments),
        None => fixed_windows(w, orders, payments),
    };
    let left_cols = |o: &Order| vec![o.ts.to_string(), o.id.to_string(), o.note.clone()];
    let right_cols = |p: &Payment| {
        vec![
            p.ts.to_string(),
            p.order_id.to_string(),
            p.amount.to_string(),
        ]
    };
    let no_left = || vec!["0".to_string(), "0".to_string(), String::new()];
    let no_right = || vec!["0".to_string(); 3];
    let rows = KINDS
        .iter()
        .map(|&kind| {
            let (left_flag, right_flag) = (
                matches!(kind, "right" | "full"),
                matches!(kind, "left" | "full"),
            );
            let row =
                |(start, end): (i64, i64), l: Vec<String>, lf: bool, r: Vec<String>, rf: bool| {
                    let mut row = vec![start.to_string(), end.to_string()];
                    row.extend(l);
                    if left_flag {
                        row.push(lf.to_string());
                    }
                    row.extend(r);
                    if right_flag {
                        row.push(rf.to_string());
                    }
                    row
                };
            let mut out = Vec::new();
            for (bounds, (_, lefts, rights)) in &fired {
                let bounds = *bounds;
                for o in lefts {
                    for p in rights {
                        out.push(row(bounds, left_cols(o), true, right_cols(p), true));
                    }
                    if right_flag && rights.is_empty() {
                        out.push(row(bounds, left_cols(o), true, no_right(), false));
                    }
                }
                if left_flag && lefts.is_empty() {
                    for p in rights {
                        out.push(row(bounds, no_left(), false, right_cols(p), true));
                    }
                }
            }
            out
        })
        .collect();
    (rows, late)
}

fn check(
    w: Windows,
    bin: &Path,
    orders: &[Order],
    payments: &[Payment],
) -> Result<(), TestCaseError> {
    let (got, stderr) = run_job(bin, orders, payments, Workers::Threads(1));
    let (want, late) = reference(w, orders, payments);
    for (i, kind) in KINDS.iter().enumerate() {
        prop_assert_eq!(&got[i], &want[i], "{} join", kind);
    }
    // On several workers: the same rows (in another order across keys), the same late
    // counts.
    for workers in PARALLEL {
        let (mut many, stderr_many) = run_job(bin, orders, payments, workers);
        for (i, kind) in KINDS.iter().enumerate() {
            let mut want = want[i].clone();
            want.sort();
            many[i].sort();
            prop_assert_eq!(&many[i], &want, "{} join on {}", kind, workers);
        }
        // Each join's lines, summed over the workers (in the workers' order: compared as
        // a set).
        let late_lines = |text: &str| {
            let mut lines: Vec<String> = text
                .lines()
                .filter(|l| l.contains("late record(s) of"))
                .map(String::from)
                .collect();
            lines.sort();
            lines
        };
        prop_assert_eq!(late_lines(&stderr_many), late_lines(&stderr), "{}", workers);
    }
    // Each of the four joins reports its own late records.
    for (side, late) in ["orders", "paid"].into_iter().zip(late) {
        let said = format!("dropped {late} late record(s) of `{side}`");
        let reports = stderr.matches(&said).count();
        let want_reports = if late > 0 { KINDS.len() } else { 0 };
        prop_assert_eq!(reports, want_reports, "{} in {}", said, stderr);
        let any = stderr.contains(&format!("of `{side}`"));
        prop_assert_eq!(any, late > 0, "{}", stderr);
    }
    Ok(())
}

fn orders() -> impl Strategy<Value = Vec<Order>> {
    let note = prop_oneof![
        Just(""),
        Just("gift"),
        Just("a, b"),
        Just("say \"hi\""),
        Just("x")
    ];
    // Up to 700 records: past a batch of the run loop, so the sources interleave. Orders
    // rise with up to 6 s of disorder, as payments do.
    proptest::collection::vec((0i64..6_000, 0u64..5, note), 0..700).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (back, id, note))| Order {
                ts: (i as i64 * 400 - back).max(0) / 500 * 500,
                id,
                note: note.to_string(),
            })
            .collect()
    })
}

fn payments() -> impl Strategy<Value = Vec<Payment>> {
    // Mostly rising with disorder up to 6 s against a 2 s bound: some payments are late.
    proptest::collection::vec((0i64..6_000, 0u64..5, -50i64..50), 0..700).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (back, order_id, amount))| Payment {
                ts: (i as i64 * 300 - back).max(0) / 250 * 250,
                order_id,
                amount,
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn tumbling_window_joins_match_the_nested_loop_reference(o in orders(), p in payments()) {
        check(TUMBLING, tumbling_job(), &o, &p)?;
    }

    #[test]
    fn sliding_window_joins_emit_a_pair_once_per_shared_window(o in orders(), p in payments()) {
        check(SLIDING, sliding_job(), &o, &p)?;
    }

    #[test]
    fn session_window_joins_pair_the_records_of_sessions_both_sides_make(o in orders(), p in payments()) {
        check(SESSIONS, session_job(), &o, &p)?;
    }
}

#[test]
fn a_pair_at_the_window_edges_meets_only_inside() {
    // 9,999 is the last millisecond of [0, 10000); 10,000 starts the next window.
    let orders = vec![
        Order {
            ts: 0,
            id: 1,
            note: "first ms".into(),
        },
        Order {
            ts: 9_999,
            id: 2,
            note: "last ms".into(),
        },
        Order {
            ts: 10_000,
            id: 3,
            note: "next window".into(),
        },
    ];
    let payments = vec![
        Payment {
            ts: 9_999,
            order_id: 1,
            amount: 10,
        },
        Payment {
            ts: 0,
            order_id: 2,
            amount: 20,
        },
        Payment {
            ts: 9_999,
            order_id: 3,
            amount: 30,
        },
    ];
    let (got, _) = run_job(tumbling_job(), &orders, &payments, Workers::Threads(1));
    let inner: Vec<String> = got[0].iter().map(|r| r.join(",")).collect();
    assert_eq!(
        inner,
        [
            "0,10000,0,1,first ms,9999,1,10",
            "0,10000,9999,2,last ms,0,2,20",
        ]
    );
    let full: Vec<String> = got[3].iter().map(|r| r.join(",")).collect();
    assert_eq!(
        full,
        [
            "0,10000,0,1,first ms,true,9999,1,10,true",
            "0,10000,9999,2,last ms,true,0,2,20,true",
            "0,10000,0,0,,false,9999,3,30,true",
            "10000,20000,10000,3,next window,true,0,0,0,false",
        ]
    );
}
