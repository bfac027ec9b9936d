//! `process` in `stream!`: the user's closures over a state of the user's type, checked
//! against plain-Rust simulations and hand-checked rows, on one and several workers and
//! under a budget small enough that the state spills.

mod common;

use common::fraud::{fraud_reference, transactions};
use weir::process::{ProcessContext, TimeDomain, Timer};
use weir::time::ClockMode;
use weir::JobConfig;

/// An account's flag, as the fraud rule keeps it.
#[derive(Debug, Clone, Default, PartialEq, weir::StateValue)]
struct Flag {
    flagged: bool,
    at: i64,
}

/// The fraud rule over `txns` (`(ts, account, cents)`) on `workers` workers with
/// `config`, its alerts sorted.
fn fraud(
    txns: &[(i64, String, i64)],
    workers: usize,
    config: JobConfig,
) -> Vec<(String, i64, i64)> {
    let job = weir::stream! {
        source iter(txns.iter().cloned())
            with event_time(|t: &(i64, String, i64)| t.0), watermark(ascending)
        |> key_by(|t: &(i64, String, i64)| t.1.clone())
        |> process(
            on_record(|t: &(i64, String, i64), st: &mut Flag, ctx| {
                let (ts, account, cents) = t.clone();
                if st.flagged && cents > 50_000 && ts - st.at < 60_000 {
                    ctx.emit((account, ts, cents));
                }
                if st.flagged {
                    ctx.delete_timer_at(st.at + 60_000);
                }
                *st = Flag::default();
                if cents < 100 {
                    *st = Flag { flagged: true, at: ts };
                    ctx.timer_at(ts + 60_000);
                }
            }),
            on_timer(|_: Timer, st: &mut Flag, _: &mut ProcessContext<String, (String, i64, i64)>| {
                *st = Flag::default();
            }),
        )
        |> collect()
    };
    let mut alerts = match workers {
        1 => job.run_with(config),
        n => job.run_with(config.parallelism(n)),
    }
    .unwrap();
    alerts.sort();
    alerts
}

#[test]
fn fraud_rule_matches_the_simulation_on_several_workers_and_spilled() {
    let txns = transactions(30_000, 300, 400, 7);
    let want = fraud_reference(&txns);
    assert!(want.len() > 100, "the data raises alerts: {}", want.len());
    for workers in [1, 2, 3] {
        let got = fraud(&txns, workers, JobConfig::default());
        assert_eq!(got, want, "{workers} workers");
    }
    // 40,000 accounts flagged at once in 600 KB: keys and timers spill (the `.pipe` twin
    // of this run asserts its spills from `--stats-json`).
    let many = transactions(100_000, 40_000, 3, 11);
    let spill = tempfile::tempdir().unwrap();
    let config = JobConfig::default()
        .memory(600 << 10)
        .spill_dir(spill.path());
    assert_eq!(fraud(&many, 1, config), fraud_reference(&many), "spilled");
}

#[test]
fn timers_fire_in_time_order_with_the_key_state_and_context_of_each() {
    // Key 1 sets timers at 15 and 17, key 2 at 16, key 3 at 110; key 1's record at 7
    // sets 17 and deletes nothing; the timer at 15 clears key 1's list, so at 17 it is
    // empty. Records carry their event time, timers' records theirs.
    let out = weir::stream! {
        source iter(vec![(1i64, 5u64), (2, 6), (1, 7), (3, 100)])
            with event_time(|r: &(i64, u64)| r.1 as i64), watermark(ascending)
        |> key_by(|r: &(i64, u64)| r.0)
        |> process(
            on_record(|r: &(i64, u64), st: &mut (u64, Vec<u64>), ctx| {
                st.0 += r.1;
                st.1.push(r.1);
                ctx.emit(("record", *ctx.key(), st.0, ctx.timestamp()));
                ctx.timer_at(r.1 as i64 + 10);
            }),
            on_timer(|t: Timer, st: &mut (u64, Vec<u64>), ctx| {
                assert_eq!(t.domain, TimeDomain::EventTime);
                assert_eq!(t.time, ctx.timestamp());
                ctx.emit(("timer", *ctx.key(), st.1.len() as u64, t.time));
                *st = Default::default();
            }),
        )
        |> collect()
    }
    .run()
    .unwrap();
    assert_eq!(
        out,
        vec![
            ("record", 1, 5, 5),
            ("record", 2, 6, 6),
            ("record", 1, 12, 7),
            ("record", 3, 100, 100),
            ("timer", 1, 2, 15),
            ("timer", 2, 1, 16),
            ("timer", 1, 0, 17),
            ("timer", 3, 1, 110),
        ]
    );
}

#[test]
fn deleted_timers_do_not_fire_and_timers_set_in_on_timer_do() {
    // Each record sets a timer 10 on and deletes the one its previous record set; a
    // firing sets one more, 5 on, once. Key 7: records at 0, 4 (deletes 10), then 14
    // fires, sets 19, which fires. Key 8: one record at 30, fires at 40, sets 45.
    let out = weir::stream! {
        source iter(vec![(7u64, 0i64), (7, 4), (8, 30)])
            with event_time(|r: &(u64, i64)| r.1), watermark(ascending)
        |> key_by(|r: &(u64, i64)| r.0)
        |> process(
            on_record(|r: &(u64, i64), st: &mut Option<i64>, ctx| {
                if let Some(previous) = *st {
                    ctx.delete_timer_at(previous + 10);
                }
                *st = Some(r.1);
                ctx.timer_at(r.1 + 10);
            }),
            on_timer(|t: Timer, st: &mut Option<i64>, ctx| {
                ctx.emit((*ctx.key(), t.time, ctx.watermark()));
                if st.is_some() {
                    *st = None;
                    ctx.timer_at(t.time + 5);
                }
            }),
        )
        |> collect()
    }
    .run()
    .unwrap();
    // The watermark is the source's (ascending: a millisecond behind the latest record,
    // as Flink's) until the end of input, when it is the end of time and every remaining
    // timer fires.
    assert_eq!(
        out,
        vec![
            (7, 14, 29),
            (7, 19, 29),
            (8, 40, i64::MAX),
            (8, 45, i64::MAX)
        ]
    );
}

#[test]
fn processing_timers_follow_the_replayed_clock() {
    // A key is forgotten 100 ms of replayed time after its latest record: the count
    // restarts after a gap of 100 or more.
    let records = vec![
        ("a", 0i64),
        ("a", 50),
        ("a", 149),
        ("a", 260),
        ("b", 300),
        ("a", 301),
    ];
    let out = weir::stream! {
        source iter(records.into_iter().map(|(k, t)| (k.to_string(), t)))
            with event_time(|r: &(String, i64)| r.1), watermark(ascending)
        |> key_by(|r: &(String, i64)| r.0.clone())
        |> process(
            on_record(|r: &(String, i64), st: &mut (u64, i64), ctx| {
                if st.0 > 0 {
                    ctx.delete_processing_timer_at(st.1);
                }
                st.0 += 1;
                st.1 = ctx.processing_time() + 100;
                ctx.processing_timer_at(st.1);
                ctx.emit((r.0.clone(), r.1, st.0));
            }),
            on_timer(|t: Timer, st: &mut (u64, i64), _: &mut ProcessContext<String, (String, i64, u64)>| {
                assert_eq!(t.domain, TimeDomain::ProcessingTime);
                *st = Default::default();
            }),
        )
        |> collect()
    }
    .run_with(JobConfig::default().clock(ClockMode::Replay))
    .unwrap();
    let want: Vec<(String, i64, u64)> = [
        ("a", 0, 1),
        ("a", 50, 2),
        ("a", 149, 3),
        ("a", 260, 1),
        ("b", 300, 1),
        ("a", 301, 2),
    ]
    .into_iter()
    .map(|(k, t, n)| (k.to_string(), t, n))
    .collect();
    assert_eq!(out, want);
}
