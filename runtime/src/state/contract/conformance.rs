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

mod text;
use text::{
    SpillingTextAggregate, SpillingTextCountWindow, SpillingTextTumbling, TextAggregate,
    TextCountWindow, TextSessions, TextTumbling,
};

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

/// `distinct`'s seen keys: each op says whether its key is new.
struct Distinct;

impl Subject for Distinct {
    type State = crate::state::SeenKeys;
    fn fresh(mem: OperatorMemory) -> Self::State {
        crate::state::SeenKeys::new(mem).unwrap()
    }
    fn apply(state: &mut Self::State, key: &[u8], _: i64, _: usize) -> String {
        state.first_sight(key).unwrap().to_string()
    }
    fn finish(_: Self::State) -> Vec<String> {
        Vec::new()
    }
}

/// A keyed aggregate of count, sum and first value, merging spilled parts exactly.
struct Aggregate;

fn merge(into: &mut [u8], from: &[u8]) {
    use crate::state::{acc_get, acc_set};
    acc_set(into, 0, acc_get::<u64>(into, 0) + acc_get::<u64>(from, 0));
    acc_set(into, 8, acc_get::<i64>(into, 8) + acc_get::<i64>(from, 8));
}

impl Subject for Aggregate {
    type State = crate::state::SpillingTable;
    fn fresh(mem: OperatorMemory) -> Self::State {
        crate::state::SpillingTable::new(mem, 24, crate::spill::SpillSupport::Merge(merge)).unwrap()
    }
    fn apply(state: &mut Self::State, key: &[u8], n: i64, _: usize) -> String {
        use crate::state::{acc_get, acc_set};
        let acc = state
            .upsert(key, |a| {
                acc_set(a, 0, 0u64);
                acc_set(a, 8, 0i64);
                acc_set(a, 16, n);
            })
            .unwrap();
        acc_set(acc, 0, acc_get::<u64>(acc, 0) + 1);
        acc_set(acc, 8, acc_get::<i64>(acc, 8) + n);
        String::new()
    }
    fn finish(mut state: Self::State) -> Vec<String> {
        use crate::state::acc_get;
        let mut out = state.finish().unwrap();
        let mut rows = Vec::new();
        while let Some((key, acc)) = out.next().unwrap() {
            rows.push(format!(
                "{} {} {} {}",
                String::from_utf8_lossy(key),
                acc_get::<u64>(acc, 0),
                acc_get::<i64>(acc, 8),
                acc_get::<i64>(acc, 16)
            ));
        }
        rows
    }
}

/// A count window of 3 records per key, summing them: each op says whether its group
/// fired, and with what; the end gives the groups left filling.
struct CountWindow;

impl Subject for CountWindow {
    type State = crate::state::CountGroups;
    fn fresh(mem: OperatorMemory) -> Self::State {
        crate::state::CountGroups::new(mem, 16).unwrap()
    }
    fn apply(state: &mut Self::State, key: &[u8], n: i64, _: usize) -> String {
        use crate::state::{acc_get, acc_set};
        let addr = state
            .group(key, |b| {
                acc_set(b, 0, 0u64);
                acc_set(b, 8, 0i64);
            })
            .unwrap();
        let block = state.block_mut(addr);
        let count = acc_get::<u64>(block, 0) + 1;
        let sum = acc_get::<i64>(block, 8) + n;
        if count == 3 {
            acc_set(block, 0, 0u64);
            acc_set(block, 8, 0i64);
            return format!("fired {sum}");
        }
        acc_set(block, 0, count);
        acc_set(block, 8, sum);
        String::new()
    }
    fn finish(mut state: Self::State) -> Vec<String> {
        use crate::state::acc_get;
        let mut out = state.finish().unwrap();
        let mut rows = Vec::new();
        while let Some((key, block)) = out.next().unwrap() {
            let count = acc_get::<u64>(block, 0);
            if count > 0 {
                let sum = acc_get::<i64>(block, 8);
                rows.push(format!("{} {count} {sum}", String::from_utf8_lossy(key)));
            }
        }
        rows
    }
}

/// Tumbling windows of 100 ms with 50 ms of allowed lateness, counting and summing: record
/// `at` has event time about `5 * at`, up to 120 ms behind, under a watermark of
/// `5 * at - 60`, so some records are late, some land in fired windows (which fire again),
/// and windows fire at every tick.
struct Tumbling;

const WINDOW: i64 = 100;

fn watermark(at: usize) -> i64 {
    at as i64 * 5 - 60
}

/// Op `at`'s event time: 5 ms after the op before, up to 119 ms out of order (by `n`).
fn event_time(at: usize, n: i64) -> i64 {
    at as i64 * 5 - n.rem_euclid(120)
}

/// The side of a joined op: even numbers left, odd ones right.
fn side_of(n: i64) -> crate::state::JoinSide {
    if n.rem_euclid(2) == 0 {
        crate::state::JoinSide::Left
    } else {
        crate::state::JoinSide::Right
    }
}

fn fired(state: &crate::state::FixedWindows, out: &[u8], f: crate::state::FiredWindow) -> String {
    use crate::state::acc_get;
    let _ = state;
    let (key, acc) = out.split_at(f.key_len);
    format!(
        "fired {} {} {} {}",
        String::from_utf8_lossy(key),
        f.start,
        acc_get::<u64>(acc, 0),
        acc_get::<i64>(acc, 8)
    )
}

fn due(state: &mut crate::state::FixedWindows, wm: i64) -> Vec<String> {
    let mut lines = Vec::new();
    if state.next_timer().is_none_or(|t| t > wm) {
        return lines;
    }
    let mut out = Vec::new();
    while let Some(f) = state.next_due(wm, &mut out).unwrap() {
        lines.push(fired(state, &out, f));
    }
    lines
}

impl Subject for Tumbling {
    type State = crate::state::FixedWindows;
    fn fresh(mem: OperatorMemory) -> Self::State {
        crate::state::FixedWindows::new(
            mem,
            WINDOW,
            16,
            50,
            None,
            crate::spill::SpillSupport::Merge(merge),
        )
        .unwrap()
    }
    fn apply(state: &mut Self::State, key: &[u8], n: i64, at: usize) -> String {
        use crate::state::{acc_get, acc_set, WindowOutcome};
        let wm = watermark(at);
        let ts = event_time(at, n);
        let start = ts.div_euclid(WINDOW) * WINDOW;
        let opened = state
            .open(key, start, start + WINDOW, wm, |a| {
                acc_set(a, 0, 0u64);
                acc_set(a, 8, 0i64);
            })
            .unwrap();
        let Some((slot, acc)) = opened else {
            return format!("late {} {ts}", String::from_utf8_lossy(key));
        };
        acc_set(acc, 0, acc_get::<u64>(acc, 0) + 1);
        acc_set(acc, 8, acc_get::<i64>(acc, 8) + n);
        match state.after_update(slot, wm) {
            WindowOutcome::Added => String::new(),
            WindowOutcome::Refire(slot) => {
                let mut out = Vec::new();
                let f = state.copy_window(slot, &mut out);
                fired(state, &out, f)
            }
        }
    }
    fn tick(state: &mut Self::State, at: usize) -> Vec<String> {
        due(state, watermark(at))
    }
    fn finish(mut state: Self::State) -> Vec<String> {
        due(&mut state, i64::MAX)
    }
}

/// A tumbling window join of 100 ms: even numbers are left records, odd ones right, each
/// record its key and number, with event time and watermark as for [`Tumbling`]; a fired
/// window gives each key's records of both sides.
struct WindowJoinOf<const PAGES: u64, const PAD: usize>;

/// Records as they come: random cases never spill, and a firing window always fits.
type WindowJoin = WindowJoinOf<32, 0>;

/// Records padded by 120 bytes under 28 pages: the window firing last spills, while the
/// window firing first still fits whole, on `conformance_of_state_that_has_spilled`'s
/// input. (Random cases are too close to a window that no longer fits, the window join's
/// one limit: a survey of 150 found 9 at this setting.)
type SpillingWindowJoin = WindowJoinOf<28, 120>;

fn join_groups(state: &mut crate::state::WindowJoin, wm: i64) -> Vec<String> {
    let mut lines = Vec::new();
    if state.next_timer().is_none_or(|t| t > wm) {
        return lines;
    }
    while let Some(group) = state.next_group(wm).unwrap() {
        let side = |records: crate::state::KeptRecords<'_>| {
            records
                .map(|r| String::from_utf8_lossy(r).into_owned())
                .collect::<Vec<_>>()
                .join(",")
        };
        lines.push(format!(
            "join {} L[{}] R[{}]",
            group.start,
            side(group.left()),
            side(group.right())
        ));
    }
    lines
}

impl<const P: u64, const PAD: usize> Subject for WindowJoinOf<P, PAD> {
    type State = crate::state::WindowJoin;
    const PAGES: u64 = P;
    fn key_of(key: &str) -> &str {
        &key[key.len() - 1..]
    }
    fn fresh(mem: OperatorMemory) -> Self::State {
        crate::state::WindowJoin::new(mem, WINDOW, crate::state::FiredKeys::All).unwrap()
    }
    fn apply(state: &mut Self::State, key: &[u8], n: i64, at: usize) -> String {
        let ts = event_time(at, n);
        let start = ts.div_euclid(WINDOW) * WINDOW;
        let side = side_of(n);
        let record = format!("{}:{n}:{}", String::from_utf8_lossy(key), "-".repeat(PAD));
        match state
            .add(side, key, start, watermark(at), record.as_bytes())
            .unwrap()
        {
            true => String::new(),
            false => format!("late {record}"),
        }
    }
    fn tick(state: &mut Self::State, at: usize) -> Vec<String> {
        join_groups(state, watermark(at))
    }
    fn finish(mut state: Self::State) -> Vec<String> {
        join_groups(&mut state, i64::MAX)
    }
}

/// An interval join of records within 50 ms of each other (either way), sides and times
/// as for [`WindowJoin`]: a record not late gives the partners it meets, then is kept;
/// every tick drops what no record can meet any more.
struct IntervalJoin;

impl Subject for IntervalJoin {
    type State = crate::state::IntervalBuffers;
    fn key_of(key: &str) -> &str {
        &key[key.len() - 1..]
    }
    fn fresh(mem: OperatorMemory) -> Self::State {
        crate::state::IntervalBuffers::new(mem, -50, 50, None).unwrap()
    }
    fn apply(state: &mut Self::State, key: &[u8], n: i64, at: usize) -> String {
        interval_apply(state, key, n, at, false)
    }
    fn tick(state: &mut Self::State, at: usize) -> Vec<String> {
        state.expire(watermark(at));
        Vec::new()
    }
    fn finish(_: Self::State) -> Vec<String> {
        Vec::new()
    }
}

/// Op `at` fed to interval join buffers: late, or the partners it meets (and, when
/// `outer`, kept to wait for one if it has none).
fn interval_apply(
    state: &mut crate::state::IntervalBuffers,
    key: &[u8],
    n: i64,
    at: usize,
    outer: bool,
) -> String {
    let ts = event_time(at, n);
    let record = format!("{}:{n}", String::from_utf8_lossy(key));
    if ts <= watermark(at) {
        return format!("late {record}");
    }
    let side = side_of(n);
    let mut partners = crate::state::Partners::default();
    state
        .probe(side, key, ts, record.as_bytes(), &mut partners)
        .unwrap();
    state.add(side, key, ts, record.as_bytes()).unwrap();
    if outer && partners.is_empty() {
        state
            .await_partner(side, key, ts, record.as_bytes())
            .unwrap();
    }
    let met: Vec<String> = partners
        .iter()
        .map(|(t, r)| format!("{}@{t}", String::from_utf8_lossy(r)))
        .collect();
    format!("{record} meets [{}]", met.join(","))
}

/// A full outer interval join of records 20 ms before to 30 ms after each other: as
/// [`IntervalJoin`], and every tick emits the records whose deadline the watermark passed
/// without a partner; the end emits the rest.
struct OuterIntervalJoin;

fn unmatched_lines(state: &mut crate::state::IntervalBuffers, wm: i64) -> Vec<String> {
    let mut out = crate::state::Unmatched::default();
    let mut lines = Vec::new();
    while state.next_unmatched(wm, &mut out).unwrap() {
        for (deadline, record) in out.iter() {
            let side = format!("{:?}", out.side());
            lines.push(format!(
                "{side} {} alone at {deadline}",
                String::from_utf8_lossy(record)
            ));
        }
    }
    lines
}

impl Subject for OuterIntervalJoin {
    type State = crate::state::IntervalBuffers;
    fn key_of(key: &str) -> &str {
        &key[key.len() - 1..]
    }
    fn fresh(mem: OperatorMemory) -> Self::State {
        crate::state::IntervalBuffers::new(mem, -20, 30, None)
            .and_then(|b| b.emitting_unmatched([true, true]))
            .unwrap()
    }
    fn apply(state: &mut Self::State, key: &[u8], n: i64, at: usize) -> String {
        interval_apply(state, key, n, at, true)
    }
    fn tick(state: &mut Self::State, at: usize) -> Vec<String> {
        let lines = unmatched_lines(state, watermark(at));
        state.expire(watermark(at));
        lines
    }
    fn finish(mut state: Self::State) -> Vec<String> {
        unmatched_lines(&mut state, i64::MAX)
    }
}

/// Session windows of a 40 ms gap with 30 ms of allowed lateness, event time and
/// watermark as for [`Tumbling`]: each op counts and sums into its key's session (a late
/// record that still lands fires its session again); windows fire as the watermark
/// passes them.
struct Sessions;

fn session_line(out: &[u8], f: crate::state::FiredWindow) -> String {
    use crate::state::acc_get;
    let acc = &out[f.key_len..];
    format!(
        "session {} [{}, {}) {} {}",
        String::from_utf8_lossy(&out[..f.key_len]),
        f.start,
        f.end,
        acc_get::<u64>(acc, 0),
        acc_get::<i64>(acc, 8)
    )
}

fn sessions_due(state: &mut crate::state::SessionWindows, wm: i64) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = Vec::new();
    while let Some(f) = state.next_due(wm, &mut out).unwrap() {
        lines.push(session_line(&out, f));
    }
    lines
}

impl Subject for Sessions {
    type State = crate::state::SessionWindows;
    fn fresh(mem: OperatorMemory) -> Self::State {
        crate::state::SessionWindows::new(mem, 16, 30).unwrap()
    }
    fn apply(state: &mut Self::State, key: &[u8], n: i64, at: usize) -> String {
        use crate::state::{acc_get, acc_set, WindowOutcome};
        let wm = watermark(at);
        let ts = event_time(at, n);
        let opened = state
            .open_session(
                key,
                ts,
                40,
                wm,
                |a| {
                    acc_set(a, 0, 0u64);
                    acc_set(a, 8, 0i64);
                },
                |into, from| {
                    merge(into, from);
                    Ok(())
                },
            )
            .unwrap();
        let Some(slot) = opened else {
            return format!("late {} {ts}", String::from_utf8_lossy(key));
        };
        let acc = state.acc_mut(slot);
        acc_set(acc, 0, acc_get::<u64>(acc, 0) + 1);
        acc_set(acc, 8, acc_get::<i64>(acc, 8) + n);
        match state.after_update(slot, wm) {
            WindowOutcome::Added => String::new(),
            WindowOutcome::Refire(slot) => {
                let mut out = Vec::new();
                let f = state.copy_window(slot, &mut out);
                session_line(&out, f)
            }
        }
    }
    fn tick(state: &mut Self::State, at: usize) -> Vec<String> {
        sessions_due(state, watermark(at))
    }
    fn finish(mut state: Self::State) -> Vec<String> {
        sessions_due(&mut state, i64::MAX)
    }
}

/// A session window join of a 40 ms gap: sides and times as for [`WindowJoin`]; a fired
/// session gives its key's records of both sides, in arrival order.
struct SessionJoin;

fn session_groups(state: &mut crate::state::SessionJoin, wm: i64) -> Vec<String> {
    let mut lines = Vec::new();
    while let Some(group) = state.next_group(wm).unwrap() {
        let side = |records: Vec<&[u8]>| {
            records
                .iter()
                .map(|r| String::from_utf8_lossy(r).into_owned())
                .collect::<Vec<_>>()
                .join(",")
        };
        lines.push(format!(
            "session join [{}, {}) L[{}] R[{}]",
            group.start,
            group.end,
            side(group.left().collect()),
            side(group.right().collect())
        ));
    }
    lines
}

impl Subject for SessionJoin {
    type State = crate::state::SessionJoin;
    const PAGES: u64 = 16;
    fn key_of(key: &str) -> &str {
        &key[key.len() - 1..]
    }
    fn fresh(mem: OperatorMemory) -> Self::State {
        crate::state::SessionJoin::new(mem, 40).unwrap()
    }
    fn apply(state: &mut Self::State, key: &[u8], n: i64, at: usize) -> String {
        let ts = event_time(at, n);
        let side = side_of(n);
        let record = format!("{}:{n}", String::from_utf8_lossy(key));
        match state
            .add(side, key, ts, watermark(at), record.as_bytes())
            .unwrap()
        {
            true => String::new(),
            false => format!("late {record}"),
        }
    }
    fn tick(state: &mut Self::State, at: usize) -> Vec<String> {
        session_groups(state, watermark(at))
    }
    fn finish(mut state: Self::State) -> Vec<String> {
        session_groups(&mut state, i64::MAX)
    }
}

/// The keyed timer service: an op sets a timer of its key (event or processing time, on a
/// coarse grid so keys meet their own timers again), or deletes one; every op first fires
/// what is due at its place, in both domains; the end fires the rest, in order.
struct Timers;

impl Timers {
    fn fire(state: &mut crate::state::KeyedTimers, now: i64) -> Vec<String> {
        let mut key = Vec::new();
        let mut lines = Vec::new();
        for domain in crate::state::TimeDomain::ALL {
            while let Some(time) = state.pop_due(domain, now, &mut key).unwrap() {
                lines.push(format!(
                    "{domain:?} {time} {}",
                    String::from_utf8_lossy(&key)
                ));
            }
        }
        lines
    }
}

impl Subject for Timers {
    type State = crate::state::KeyedTimers;
    fn fresh(mem: OperatorMemory) -> Self::State {
        crate::state::KeyedTimers::new(mem).unwrap()
    }
    fn apply(state: &mut Self::State, key: &[u8], n: i64, at: usize) -> String {
        use crate::state::TimeDomain;
        let domain = if n % 2 == 0 {
            TimeDomain::EventTime
        } else {
            TimeDomain::ProcessingTime
        };
        let time = (at as i64 / 20 + n.rem_euclid(5)) * 20;
        if n % 3 == 0 {
            format!("delete {}", state.delete(domain, key, time).unwrap())
        } else {
            format!("set {}", state.register(domain, key, time).unwrap())
        }
    }
    fn tick(state: &mut Self::State, at: usize) -> Vec<String> {
        Timers::fire(state, at as i64)
    }
    fn finish(mut state: Self::State) -> Vec<String> {
        Timers::fire(&mut state, i64::MAX)
    }
}

/// A process function's state: an op appends its number to its key's value, keeping its
/// last 24 bytes (or, one op in five, clears it) and sets an event-time timer on a coarse grid; a timer that fires
/// gives its key's value and clears it. The end fires every timer left.
struct Process;

impl Process {
    fn fire(state: &mut crate::state::ProcessState, now: i64) -> Vec<String> {
        use crate::state::TimeDomain;
        let mut key = Vec::new();
        let mut lines = Vec::new();
        while let Some(time) = state
            .pop_due_timer(TimeDomain::EventTime, now, &mut key)
            .unwrap()
        {
            let value = state.get(&key).unwrap().map(|v| v.to_vec());
            lines.push(format!(
                "fired {time} {} {}",
                String::from_utf8_lossy(&key),
                String::from_utf8_lossy(&value.unwrap_or_default())
            ));
            state.put(&key, &[]).unwrap();
        }
        lines
    }
}

impl Subject for Process {
    type State = crate::state::ProcessState;
    /// Values and timers each take index, queue and slot pages of their own: at 8, nearly
    /// every op would spill.
    const PAGES: u64 = 16;
    fn fresh(mem: OperatorMemory) -> Self::State {
        crate::state::ProcessState::new(mem).unwrap()
    }
    fn apply(state: &mut Self::State, key: &[u8], n: i64, at: usize) -> String {
        use crate::state::TimeDomain;
        if n % 5 == 0 {
            state.put(key, &[]).unwrap();
            return "cleared".to_string();
        }
        let mut value = state
            .get(key)
            .unwrap()
            .map(|v| v.to_vec())
            .unwrap_or_default();
        value.extend_from_slice(format!(",{n}").as_bytes());
        // The last few numbers: values change length, but the state fits a few pages.
        let value = &value[value.len().saturating_sub(24)..];
        state.put(key, value).unwrap();
        let time = (at as i64 / 20 + 2) * 20;
        let set = state
            .register_timer(TimeDomain::EventTime, key, time)
            .unwrap();
        format!("{} {set}", value.len())
    }
    fn tick(state: &mut Self::State, at: usize) -> Vec<String> {
        Process::fire(state, at as i64)
    }
    fn finish(mut state: Self::State) -> Vec<String> {
        Process::fire(&mut state, i64::MAX)
    }
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
