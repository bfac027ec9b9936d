//! Subjects of the conformance suite that are joins: window joins (one that fits, one
//! whose later window spills), interval joins (inner and outer) and session joins.

use super::windows::{event_time, watermark, WINDOW};
use super::{OperatorMemory, Subject};

/// The side of a joined op: even numbers left, odd ones right.
pub(super) fn side_of(n: i64) -> crate::state::JoinSide {
    if n.rem_euclid(2) == 0 {
        crate::state::JoinSide::Left
    } else {
        crate::state::JoinSide::Right
    }
}

/// A tumbling window join of 100 ms: even numbers are left records, odd ones right, each
/// record its key and number, with event time and watermark as for [`Tumbling`]; a fired
/// window gives each key's records of both sides.
pub(super) struct WindowJoinOf<const PAGES: u64, const PAD: usize>;

/// Records as they come: random cases never spill, and a firing window always fits.
pub(super) type WindowJoin = WindowJoinOf<32, 0>;

/// Records padded by 120 bytes under 28 pages: the window firing last spills, while the
/// window firing first still fits whole, on `conformance_of_state_that_has_spilled`'s
/// input. (Random cases are too close to a window that no longer fits, the window join's
/// one limit: a survey of 150 found 9 at this setting.)
pub(super) type SpillingWindowJoin = WindowJoinOf<28, 120>;

pub(super) fn join_groups(state: &mut crate::state::WindowJoin, wm: i64) -> Vec<String> {
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
pub(super) struct IntervalJoin;

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
pub(super) fn interval_apply(
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
pub(super) struct OuterIntervalJoin;

pub(super) fn unmatched_lines(state: &mut crate::state::IntervalBuffers, wm: i64) -> Vec<String> {
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

/// A session window join of a 40 ms gap: sides and times as for [`WindowJoin`]; a fired
/// session gives its key's records of both sides, in arrival order.
pub(super) struct SessionJoin;

pub(super) fn session_groups(state: &mut crate::state::SessionJoin, wm: i64) -> Vec<String> {
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
