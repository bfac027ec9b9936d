//! Subjects of the conformance suite whose accumulators include text: windows keeping
//! the first, least, greatest and last of a value made from each op's number (some longer
//! than a page) and the list of them all, besides a count.

use super::{event_time, watermark, OperatorMemory, Subject, WINDOW};

/// Session windows as [`Sessions`], keeping text: the first, least, greatest and last of
/// a value made from each op's number (some longer than a page), and the list of them all,
/// besides a count. A key's values must fit the budget whole, so it gets more pages.
pub(super) struct TextSessions;

const TEXT_SLOTS: &[crate::state::TextSlot] = &{
    use crate::state::{TextAggregate as A, TextSlot as S};
    [
        S {
            offset: 8,
            kind: A::First,
        },
        S {
            offset: 32,
            kind: A::Min,
        },
        S {
            offset: 56,
            kind: A::Max,
        },
        S {
            offset: 80,
            kind: A::Last,
        },
        S {
            offset: 104,
            kind: A::Join { separator: "," },
        },
        S {
            offset: 144,
            kind: A::Distinct,
        },
    ]
};

/// Bytes of the subjects' accumulators: a count, then the text slots.
const ACC: usize = 168;

fn text_session_line(out: &[u8], f: crate::state::FiredWindow) -> String {
    use crate::state::{acc_get, TextAccumulators};
    let acc = &out[f.key_len..];
    let text = &acc[ACC..];
    let values: Vec<String> = (0..5)
        .map(|i| {
            let v = TextAccumulators::read(text, i);
            // A list's order shows in a short digest of its text.
            let digest = v
                .bytes()
                .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
            format!("{}x{}#{digest:x}", &v[..v.len().min(4)], v.len())
        })
        .collect();
    format!(
        "session {} [{}, {}) {} {} {}",
        String::from_utf8_lossy(&out[..f.key_len]),
        f.start,
        f.end,
        acc_get::<u64>(acc, 0),
        values.join(" "),
        TextAccumulators::distinct_count(acc, 144)
    )
}

fn text_sessions_due(state: &mut crate::state::TextSessionWindows, wm: i64) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = Vec::new();
    while let Some(f) = state.next_due(wm, &mut out).unwrap() {
        lines.push(text_session_line(&out, f));
    }
    lines
}

/// What an op offers the slots: its value to the five text slots, `counted` to the set.
fn slot_values<'v>(value: &'v str, counted: &'v str) -> [&'v [u8]; 6] {
    let v = value.as_bytes();
    [v, v, v, v, v, counted.as_bytes()]
}

/// The value counted distinct from an op's number: a few per key (a set's value must fit
/// in a page).
fn distinct_value(n: i64) -> String {
    format!("d{}", n.rem_euclid(17))
}

fn text_value(n: i64) -> String {
    let v = format!("v{n}");
    if n.rem_euclid(13) == 0 {
        v.repeat(70)
    } else {
        v
    }
}

impl Subject for TextSessions {
    type State = crate::state::TextSessionWindows;
    const PAGES: u64 = 64;
    fn fresh(mem: OperatorMemory) -> Self::State {
        crate::state::TextSessionWindows::new(mem, ACC, 30, TEXT_SLOTS).unwrap()
    }
    fn apply(state: &mut Self::State, key: &[u8], n: i64, at: usize) -> String {
        use crate::state::{acc_get, acc_set, TextOutcome, WindowOutcome};
        let wm = watermark(at);
        let ts = event_time(at, n);
        let (value, counted) = (text_value(n), distinct_value(n));
        let slot = loop {
            let opened = state
                .open_session(
                    key,
                    ts,
                    40,
                    wm,
                    |a| acc_set(a, 0, 0u64),
                    |into, from| {
                        acc_set(into, 0, acc_get::<u64>(into, 0) + acc_get::<u64>(from, 0));
                        Ok(())
                    },
                )
                .unwrap();
            let Some(slot) = opened else {
                return format!("late {} {ts}", String::from_utf8_lossy(key));
            };
            let values = slot_values(&value, &counted);
            match state.update_text(slot, &values, ts).unwrap() {
                TextOutcome::Updated => break slot,
                TextOutcome::Moved => continue,
            }
        };
        let acc = state.acc_mut(slot);
        acc_set(acc, 0, acc_get::<u64>(acc, 0) + 1);
        match state.after_update(slot, wm) {
            WindowOutcome::Added => String::new(),
            WindowOutcome::Refire(slot) => {
                let mut out = Vec::new();
                let f = state.copy_window(slot, &mut out);
                text_session_line(&out, f)
            }
        }
    }
    fn tick(state: &mut Self::State, at: usize) -> Vec<String> {
        text_sessions_due(state, watermark(at))
    }
    fn finish(mut state: Self::State) -> Vec<String> {
        text_sessions_due(&mut state, i64::MAX)
    }
}

/// Tumbling windows as [`super::Tumbling`], keeping text as [`TextSessions`] does, in
/// `PAGES` pages. A fired window stays in memory for its lateness and must fit whole with
/// the window being filled, so it gets more pages; fewer, for ops whose values are short,
/// make it spill.
pub(super) struct TextTumblingOf<const PAGES: u64>;

/// Text tumbling windows under a budget that holds any window's values.
pub(super) type TextTumbling = TextTumblingOf<256>;
/// Text tumbling windows that spill.
pub(super) type SpillingTextTumbling = TextTumblingOf<56>;

fn text_windows_due(state: &mut crate::state::FixedWindows, wm: i64) -> Vec<String> {
    let mut lines = Vec::new();
    if state.next_timer().is_none_or(|t| t > wm) {
        return lines;
    }
    let mut out = Vec::new();
    while let Some(f) = state.next_due(wm, &mut out).unwrap() {
        lines.push(text_session_line(&out, f));
    }
    lines
}

fn count_merge(into: &mut [u8], from: &[u8]) {
    use crate::state::{acc_get, acc_set};
    acc_set(into, 0, acc_get::<u64>(into, 0) + acc_get::<u64>(from, 0));
}

impl<const P: u64> Subject for TextTumblingOf<P> {
    type State = crate::state::FixedWindows;
    const PAGES: u64 = P;
    fn fresh(mem: OperatorMemory) -> Self::State {
        let spill = crate::spill::SpillSupport::Merge(count_merge);
        crate::state::FixedWindows::new(mem, WINDOW, ACC, 50, None, spill)
            .unwrap()
            .with_text(TEXT_SLOTS)
    }
    fn apply(state: &mut Self::State, key: &[u8], n: i64, at: usize) -> String {
        use crate::state::{acc_get, acc_set, TextAccumulators, TextOutcome, WindowOutcome};
        let wm = watermark(at);
        let ts = event_time(at, n);
        let start = ts.div_euclid(WINDOW) * WINDOW;
        let (value, counted) = (text_value(n), distinct_value(n));
        let slot = loop {
            let opened = state
                .open(key, start, start + WINDOW, wm, |a| {
                    acc_set(a, 0, 0u64);
                    TextAccumulators::empty(TEXT_SLOTS, a);
                })
                .unwrap();
            let Some((slot, _)) = opened else {
                return format!("late {} {ts}", String::from_utf8_lossy(key));
            };
            let values = slot_values(&value, &counted);
            match state.update_text(slot, &values, ts).unwrap() {
                TextOutcome::Updated => break slot,
                TextOutcome::Moved => continue,
            }
        };
        let acc = state.acc_mut(slot);
        acc_set(acc, 0, acc_get::<u64>(acc, 0) + 1);
        match state.after_update(slot, wm) {
            WindowOutcome::Added => String::new(),
            WindowOutcome::Refire(slot) => {
                let mut out = Vec::new();
                let f = state.copy_window(slot, &mut out);
                text_session_line(&out, f)
            }
        }
    }
    fn tick(state: &mut Self::State, at: usize) -> Vec<String> {
        text_windows_due(state, watermark(at))
    }
    fn finish(mut state: Self::State) -> Vec<String> {
        text_windows_due(&mut state, i64::MAX)
    }
}

/// A keyed aggregate counting and keeping text as [`TextSessions`] does, with each op's
/// position as its event time, in `PAGES` pages: enough for any key's values, or (for
/// ops whose values are short) few enough to spill.
pub(super) struct TextAggregateOf<const PAGES: u64>;

/// A text aggregate under a budget that holds a key's values whatever they are.
pub(super) type TextAggregate = TextAggregateOf<64>;
/// A text aggregate that spills.
pub(super) type SpillingTextAggregate = TextAggregateOf<16>;

impl<const P: u64> Subject for TextAggregateOf<P> {
    type State = crate::state::SpillingTable;
    const PAGES: u64 = P;
    fn fresh(mem: OperatorMemory) -> Self::State {
        let spill = crate::spill::SpillSupport::Merge(count_merge);
        crate::state::SpillingTable::new(mem, ACC, spill)
            .unwrap()
            .with_text(TEXT_SLOTS)
    }
    fn apply(state: &mut Self::State, key: &[u8], n: i64, at: usize) -> String {
        use crate::state::{acc_get, acc_set, TextAccumulators, TextOutcome};
        let (value, counted) = (text_value(n), distinct_value(n));
        let addr = loop {
            let addr = state
                .upsert_entry(key, |a| {
                    acc_set(a, 0, 0u64);
                    TextAccumulators::empty(TEXT_SLOTS, a);
                })
                .unwrap();
            let values = slot_values(&value, &counted);
            match state.update_text(addr, &values, at as i64).unwrap() {
                TextOutcome::Updated => break addr,
                TextOutcome::Moved => continue,
            }
        };
        let acc = state.acc_at_mut(addr);
        acc_set(acc, 0, acc_get::<u64>(acc, 0) + 1);
        String::new()
    }
    fn finish(mut state: Self::State) -> Vec<String> {
        let mut out = state.finish().unwrap();
        let mut rows = Vec::new();
        while let Some((key, acc)) = out.next().unwrap() {
            let mut copy = key.to_vec();
            copy.extend_from_slice(acc);
            let whole = crate::state::FiredWindow {
                start: 0,
                end: 0,
                key_len: key.len(),
            };
            rows.push(text_session_line(&copy, whole));
        }
        rows
    }
}

/// A count window of 3 records per key keeping text as [`TextSessions`] does (its count
/// the first word), with each op's position as its event time, in `PAGES` pages: enough
/// for any group's values, or (for ops whose values are short) few enough to spill.
pub(super) struct TextCountWindowOf<const PAGES: u64>;

/// Text count windows under a budget that holds a group's values whatever they are.
pub(super) type TextCountWindow = TextCountWindowOf<64>;
/// Text count windows that spill.
pub(super) type SpillingTextCountWindow = TextCountWindowOf<24>;

impl<const P: u64> Subject for TextCountWindowOf<P> {
    type State = crate::state::CountGroups;
    const PAGES: u64 = P;
    fn fresh(mem: OperatorMemory) -> Self::State {
        crate::state::CountGroups::new(mem, ACC)
            .unwrap()
            .with_text(TEXT_SLOTS)
    }
    fn apply(state: &mut Self::State, key: &[u8], n: i64, at: usize) -> String {
        use crate::state::{acc_get, acc_set, TextAccumulators, TextOutcome};
        let (value, counted) = (text_value(n), distinct_value(n));
        let addr = loop {
            let addr = state
                .group(key, |b| {
                    acc_set(b, 0, 0u64);
                    TextAccumulators::empty(TEXT_SLOTS, b);
                })
                .unwrap();
            let values = slot_values(&value, &counted);
            match state.update_text(addr, &values, at as i64).unwrap() {
                TextOutcome::Updated => break addr,
                TextOutcome::Moved => continue,
            }
        };
        let block = state.block_mut(addr);
        let count = acc_get::<u64>(block, 0) + 1;
        acc_set(block, 0, count);
        if count < 3 {
            return String::new();
        }
        let mut out = state.key_at(addr).to_vec();
        let key_len = out.len();
        out.extend_from_slice(state.block(addr));
        state.copy_text(addr, &mut out);
        state.clear_text(addr);
        acc_set(state.block_mut(addr), 0, 0u64);
        let group = crate::state::FiredWindow {
            start: 0,
            end: 0,
            key_len,
        };
        text_session_line(&out, group)
    }
    fn finish(mut state: Self::State) -> Vec<String> {
        let mut out = state.finish().unwrap();
        let mut rows = Vec::new();
        while let Some((key, block)) = out.next().unwrap() {
            if crate::state::acc_get::<u64>(block, 0) == 0 {
                continue;
            }
            let mut copy = key.to_vec();
            copy.extend_from_slice(block);
            let group = crate::state::FiredWindow {
                start: 0,
                end: 0,
                key_len: key.len(),
            };
            rows.push(text_session_line(&copy, group));
        }
        rows
    }
}

#[cfg(test)]
mod tmp_debug {
    use super::*;
    use crate::memory::SegmentPool;
    use crate::spill::SpillSpace;

    fn run(pages: u64, ops: &[(String, i64)]) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let pool = SegmentPool::new(pages * 256, 256);
        let mem = pool
            .operator("op", "c:1:1", pages)
            .with_spill(SpillSpace::new(Some(dir.path().to_path_buf()), "c"));
        let mut state = TextSessions::fresh(mem);
        let mut out = Vec::new();
        for (at, (k, n)) in ops.iter().enumerate() {
            out.extend(TextSessions::tick(&mut state, at));
            out.push(TextSessions::apply(&mut state, k.as_bytes(), *n, at));
        }
        eprintln!(
            "pages {pages}: spill runs {}",
            crate::state::contract::KeyedState::memory(&state).spill_runs()
        );
        out.extend(TextSessions::finish(state));
        out.retain(|l| !l.is_empty());
        out.sort();
        out
    }

    #[test]
    fn tmp_spilled_sessions_count_as_unspilled() {
        let ops: Vec<(String, i64)> = (0..3000i64)
            .map(|i| (format!("key{}", (i * 7919) % 1301), i % 23 - 11))
            .collect();
        let big = run(100_000, &ops);
        let small = run(40, &ops);
        let diff: Vec<_> = big
            .iter()
            .zip(&small)
            .filter(|(a, b)| a != b)
            .take(3)
            .collect();
        assert_eq!(big.len(), small.len());
        assert!(diff.is_empty(), "{diff:#?}");
    }
}
