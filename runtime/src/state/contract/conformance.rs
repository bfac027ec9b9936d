//! The conformance suite of the keyed-state contract, one set of checks run against every
//! state kind that implements it (`cargo test -p weir-runtime conformance`).
//!
//! Each check feeds random operations to a state under a budget of a few 256-byte pages,
//! so it spills, and compares with the same operations fed to a state that never stopped:
//! * snapshot, restore into a fresh state, continue;
//! * snapshot, restore split into 2 and into 3 key-group ranges (each op going to the
//!   state that owns its key's group, as a job restored at another parallelism routes it),
//!   continue;
//! * snapshot, and the snapshotted state itself continues as if nothing happened.
//!
//! What each op emits must be the same one by one; what the states give at the end must be
//! the same, in the same order for a whole restore, and as a set for a split one (across
//! workers the order is unspecified).

use proptest::prelude::*;

use super::{KeyedState, SnapshotReader, SnapshotWriter};
use crate::memory::{OperatorMemory, SegmentPool};
use crate::parallel::KeyGroups;
use crate::spill::SpillSpace;
use crate::state::key_hash;

mod joins;
mod keyed;
mod text;
mod windows;
use joins::{IntervalJoin, OuterIntervalJoin, SessionJoin, SpillingWindowJoin, WindowJoin};
use keyed::{Aggregate, CountWindow, Distinct, Process, Timers};
use text::{
    SpillingTextAggregate, SpillingTextCountWindow, SpillingTextTumbling, TextAggregate,
    TextCountWindow, TextSessions, TextTumbling,
};
use windows::{event_time, watermark, Sessions, Tumbling, WINDOW};

const GROUPS: usize = 128;
const PAGE: usize = 256;
const PAGES: u64 = 8;

/// A state kind under test: how to make one, feed it, and read what it gives.
trait Subject {
    type State: KeyedState;
    /// Pages of 256 bytes the state gets: few, so it spills (a window join needs the
    /// window it fires whole in memory, so it gets more).
    const PAGES: u64 = PAGES;
    /// A fresh state over `mem`.
    fn fresh(mem: OperatorMemory) -> Self::State;
    /// The key a generated key stands for (a join narrows keys, so that records of one
    /// key come close together and meet).
    fn key_of(key: &str) -> &str {
        key
    }
    /// Feeds record `at` (a key and a number); what the operator emits for it.
    fn apply(state: &mut Self::State, key: &[u8], n: i64, at: usize) -> String;
    /// What the operator emits at record `at`'s time, before the record, whatever its key
    /// (a watermark reaching windows): in a restore split over several states, every
    /// state ticks.
    fn tick(state: &mut Self::State, at: usize) -> Vec<String> {
        let _ = (state, at);
        Vec::new()
    }
    /// What the state gives at the end of input, one line per key, in its order.
    fn finish(state: Self::State) -> Vec<String>;
}

/// A fresh state under the tiny budget, spilling under `dir`.
fn fresh<S: Subject>(dir: &std::path::Path) -> S::State {
    let pool = SegmentPool::new(S::PAGES * PAGE as u64, PAGE);
    let mem = pool
        .operator("op", "conformance:1:1", S::PAGES)
        .with_spill(SpillSpace::new(Some(dir.to_path_buf()), "conformance"));
    S::fresh(mem)
}

/// What a run gives: what each op made emit (sorted: across states the order is not
/// given), then the end's.
type Outputs = (Vec<Vec<String>>, Vec<String>);

/// Ticks every state to op `at`'s time, then feeds the op to `owner`, as a job fires what
/// a watermark makes due before the next record; what they emitted.
fn step<S: Subject>(
    states: &mut [S::State],
    owner: usize,
    op: &(String, i64),
    at: usize,
) -> Vec<String> {
    let mut lines = Vec::new();
    for state in states.iter_mut() {
        lines.extend(S::tick(state, at));
    }
    let key = S::key_of(&op.0).as_bytes();
    lines.push(S::apply(&mut states[owner], key, op.1, at));
    lines.retain(|l| !l.is_empty());
    lines.sort();
    lines
}

fn uninterrupted<S: Subject>(ops: &[(String, i64)], dir: &std::path::Path) -> Outputs {
    let mut states = [fresh::<S>(dir)];
    let each = ops
        .iter()
        .enumerate()
        .map(|(at, op)| step::<S>(&mut states, 0, op, at))
        .collect();
    let [state] = states;
    (each, S::finish(state))
}

/// Feeds `ops[..at]`, snapshots, restores into `ways` states by key-group range, feeds the
/// rest to the state owning each key; also lets the snapshotted state itself go on.
fn restored<S: Subject>(
    ops: &[(String, i64)],
    at: usize,
    ways: usize,
    dir: &std::path::Path,
) -> (Outputs, Outputs) {
    let mut first = [fresh::<S>(dir)];
    let mut each: Vec<Vec<String>> = ops[..at]
        .iter()
        .enumerate()
        .map(|(i, op)| step::<S>(&mut first, 0, op, i))
        .collect();
    let mut out = SnapshotWriter::new(GROUPS);
    first[0].snapshot(&mut out).unwrap();
    let snapshot = out.finish();
    let groups = KeyGroups::new(GROUPS, ways);
    let mut states: Vec<S::State> = (0..ways)
        .map(|w| {
            let mut state = fresh::<S>(dir);
            let mut reader = SnapshotReader::new(&snapshot.bytes).unwrap();
            state.restore(&mut reader, groups.range(w)).unwrap();
            state
        })
        .collect();
    let mut kept_on = each.clone();
    for (i, op) in ops.iter().enumerate().skip(at) {
        let owner = groups.worker(key_hash(S::key_of(&op.0).as_bytes()));
        each.push(step::<S>(&mut states, owner, op, i));
        kept_on.push(step::<S>(&mut first, 0, op, i));
    }
    let end: Vec<String> = states.into_iter().flat_map(S::finish).collect();
    let [first] = first;
    ((each, end), (kept_on, S::finish(first)))
}

/// Every check of the suite on `ops`, snapshotting after `at` of them.
fn conforms<S: Subject>(ops: &[(String, i64)], at: usize) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let at = at.min(ops.len());
    let (want_each, want_end) = uninterrupted::<S>(ops, dir.path());
    for ways in [1, 2, 3] {
        let ((each, mut end), (kept_each, kept_end)) = restored::<S>(ops, at, ways, dir.path());
        prop_assert_eq!(
            &each,
            &want_each,
            "outputs after a restore into {} state(s)",
            ways
        );
        if ways == 1 {
            prop_assert_eq!(&end, &want_end, "the end of a whole restore, in order");
        } else {
            let mut want = want_end.clone();
            want.sort();
            end.sort();
            prop_assert_eq!(&end, &want, "the end of a restore into {} states", ways);
        }
        prop_assert_eq!(&kept_each, &want_each, "the snapshotted state going on");
        prop_assert_eq!(&kept_end, &want_end, "the snapshotted state's end");
    }
    Ok(())
}

fn ops() -> impl Strategy<Value = (Vec<(String, i64)>, usize)> {
    (
        proptest::collection::vec(("[a-z]{1,2}[0-9]{0,3}", -100i64..100), 0..1500),
        0usize..1500,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn conformance_session_windows((ops, at) in ops()) {
        conforms::<Sessions>(&ops, at)?;
    }

    #[test]
    fn conformance_session_windows_with_text((ops, at) in ops()) {
        conforms::<TextSessions>(&ops, at)?;
    }

    #[test]
    fn conformance_tumbling_windows_with_text((ops, at) in ops()) {
        conforms::<TextTumbling>(&ops, at)?;
    }

    #[test]
    fn conformance_aggregate_with_text((ops, at) in ops()) {
        conforms::<TextAggregate>(&ops, at)?;
    }

    #[test]
    fn conformance_count_window_with_text((ops, at) in ops()) {
        conforms::<TextCountWindow>(&ops, at)?;
    }

    #[test]
    fn conformance_session_join((ops, at) in ops()) {
        conforms::<SessionJoin>(&ops, at)?;
    }

    #[test]
    fn conformance_process_state((ops, at) in ops()) {
        conforms::<Process>(&ops, at)?;
    }

    #[test]
    fn conformance_keyed_timers((ops, at) in ops()) {
        conforms::<Timers>(&ops, at)?;
    }

    #[test]
    fn conformance_interval_join((ops, at) in ops()) {
        conforms::<IntervalJoin>(&ops, at)?;
    }

    #[test]
    fn conformance_outer_interval_join((ops, at) in ops()) {
        conforms::<OuterIntervalJoin>(&ops, at)?;
    }

    #[test]
    fn conformance_window_join((ops, at) in ops()) {
        conforms::<WindowJoin>(&ops, at)?;
    }

    #[test]
    fn conformance_tumbling_windows((ops, at) in ops()) {
        conforms::<Tumbling>(&ops, at)?;
    }

    #[test]
    fn conformance_count_window_groups((ops, at) in ops()) {
        conforms::<CountWindow>(&ops, at)?;
    }


    #[test]
    fn conformance_distinct_seen_keys((ops, at) in ops()) {
        conforms::<Distinct>(&ops, at)?;
    }

    #[test]
    fn conformance_aggregate_spilling_table((ops, at) in ops()) {
        conforms::<Aggregate>(&ops, at)?;
    }
}

/// The suite's checks can fail: a restore that drops a key group is caught.
#[test]
fn conformance_catches_a_restore_that_loses_a_key_group() {
    let ops: Vec<(String, i64)> = (0..400).map(|i| (format!("k{}", i % 97), i)).collect();
    let dir = tempfile::tempdir().unwrap();
    let mut state = fresh::<Aggregate>(dir.path());
    for (i, (k, n)) in ops[..200].iter().enumerate() {
        Aggregate::apply(&mut state, k.as_bytes(), *n, i);
    }
    let mut out = SnapshotWriter::new(GROUPS);
    state.snapshot(&mut out).unwrap();
    let snapshot = out.finish();
    let mut lossy = fresh::<Aggregate>(dir.path());
    lossy
        .restore(
            &mut SnapshotReader::new(&snapshot.bytes).unwrap(),
            1..GROUPS,
        )
        .unwrap();
    for (i, (k, n)) in ops.iter().enumerate().skip(200) {
        Aggregate::apply(&mut lossy, k.as_bytes(), *n, i);
    }
    let (_, want) = uninterrupted::<Aggregate>(&ops, dir.path());
    assert_ne!(Aggregate::finish(lossy), want);
}

/// Many more keys than 8 pages hold: the snapshot is taken of state already on disk, and
/// the state spills again after the restore.
#[test]
fn conformance_of_state_that_has_spilled() {
    let ops: Vec<(String, i64)> = (0..3000i64)
        .map(|i| (format!("key{}", (i * 7919) % 1301), i % 23 - 11))
        .collect();
    // The joins keep more when no record is late: numbers below 59 put a record at most
    // 58 ms out of order, the watermark 60 ms behind.
    let joined: Vec<(String, i64)> = (0..3000i64)
        .map(|i| (format!("k{}", i % 10), (i * 37) % 59))
        .collect();
    // Each kind snapshotted after it has gone to disk: what it restores must include what
    // it spilled.
    let spilled = [
        ("distinct", spilled_at::<Distinct>(&ops, 2000)),
        ("aggregate", spilled_at::<Aggregate>(&ops, 2000)),
        ("count window", spilled_at::<CountWindow>(&ops, 2000)),
        ("tumbling", spilled_at::<Tumbling>(&ops, 2000)),
        ("sessions", spilled_at::<Sessions>(&ops, 2000)),
        ("text sessions", spilled_at::<TextSessions>(&ops, 2000)),
        (
            "text tumbling",
            spilled_at::<SpillingTextTumbling>(&ops, 2000),
        ),
        (
            "window join",
            spilled_at::<SpillingWindowJoin>(&joined, 2000),
        ),
        ("session join", spilled_at::<SessionJoin>(&joined, 2000)),
        ("interval join", spilled_at::<IntervalJoin>(&ops, 2000)),
        (
            "outer interval join",
            spilled_at::<OuterIntervalJoin>(&ops, 2000),
        ),
        ("timers", spilled_at::<Timers>(&ops, 2000)),
        ("process", spilled_at::<Process>(&ops, 2000)),
    ];
    for (kind, runs) in spilled {
        assert!(
            runs > 0,
            "{kind}: the state had spilled before its snapshot"
        );
    }
    conforms::<Distinct>(&ops, 2000).unwrap();
    conforms::<Aggregate>(&ops, 2000).unwrap();
    conforms::<CountWindow>(&ops, 2000).unwrap();
    conforms::<Tumbling>(&ops, 2000).unwrap();
    conforms::<Sessions>(&ops, 2000).unwrap();
    conforms::<TextSessions>(&ops, 2000).unwrap();
    conforms::<SpillingTextTumbling>(&ops, 2000).unwrap();
    conforms::<SpillingTextAggregate>(&ops, 2000).unwrap();
    conforms::<SpillingTextCountWindow>(&ops, 2000).unwrap();
    conforms::<SpillingWindowJoin>(&joined, 2000).unwrap();
    conforms::<SessionJoin>(&joined, 2000).unwrap();
    conforms::<IntervalJoin>(&ops, 2000).unwrap();
    conforms::<OuterIntervalJoin>(&ops, 2000).unwrap();
    conforms::<Timers>(&ops, 2000).unwrap();
    conforms::<Process>(&ops, 2000).unwrap();
}

/// How many times the state had spilled after `ops[..at]`.
fn spilled_at<S: Subject>(ops: &[(String, i64)], at: usize) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let mut states = [fresh::<S>(dir.path())];
    for (i, op) in ops[..at].iter().enumerate() {
        step::<S>(&mut states, 0, op, i);
    }
    states[0].memory().spill_runs()
}

/// A case the random search found (CI, 2026-12-06) where session windows with text ran out
/// of their 16 KiB budget while firing (17,152 bytes asked for): a key coming back from
/// disk was refused because its text values' room was counted twice over (the estimate
/// already counts what its storage wastes, and was doubled again for the session join's
/// chunks). The key fit: it was in memory, whole, when its last record landed.
#[test]
fn conformance_session_windows_with_text_on_a_case_that_once_ran_out_of_budget() {
    let ops: Vec<(String, i64)> = include_str!("conformance/text_sessions_case.txt")
        .lines()
        .map(|line| {
            let (key, n) = line.split_once(' ').expect("key and number");
            (key.to_string(), n.parse().expect("a number"))
        })
        .collect();
    conforms::<TextSessions>(&ops, 992).unwrap();
}
