//! Subjects of the conformance suite that are windows over event time: tumbling and
//! session windows, and the watermark and event times every windowed subject's ops get.

use super::keyed::merge;
use super::{OperatorMemory, Subject};

/// Tumbling windows of 100 ms with 50 ms of allowed lateness, counting and summing: record
/// `at` has event time about `5 * at`, up to 120 ms behind, under a watermark of
/// `5 * at - 60`, so some records are late, some land in fired windows (which fire again),
/// and windows fire at every tick.
pub(super) struct Tumbling;

pub(super) const WINDOW: i64 = 100;

pub(super) fn watermark(at: usize) -> i64 {
    at as i64 * 5 - 60
}

/// Op `at`'s event time: 5 ms after the op before, up to 119 ms out of order (by `n`).
pub(super) fn event_time(at: usize, n: i64) -> i64 {
    at as i64 * 5 - n.rem_euclid(120)
}

pub(super) fn fired(
    state: &crate::state::FixedWindows,
    out: &[u8],
    f: crate::state::FiredWindow,
) -> String {
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

pub(super) fn due(state: &mut crate::state::FixedWindows, wm: i64) -> Vec<String> {
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

/// Session windows of a 40 ms gap with 30 ms of allowed lateness, event time and
/// watermark as for [`Tumbling`]: each op counts and sums into its key's session (a late
/// record that still lands fires its session again); windows fire as the watermark
/// passes them.
pub(super) struct Sessions;

pub(super) fn session_line(out: &[u8], f: crate::state::FiredWindow) -> String {
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

pub(super) fn sessions_due(state: &mut crate::state::SessionWindows, wm: i64) -> Vec<String> {
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
