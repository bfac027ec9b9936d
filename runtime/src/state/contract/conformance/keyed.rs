//! Subjects of the conformance suite kept per key: `distinct`'s seen keys, an aggregate,
//! a count window, the keyed timer service and a process function's state.

use super::{OperatorMemory, Subject};

/// `distinct`'s seen keys: each op says whether its key is new.
pub(super) struct Distinct;

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
pub(super) struct Aggregate;

pub(super) fn merge(into: &mut [u8], from: &[u8]) {
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
pub(super) struct CountWindow;

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

/// The keyed timer service: an op sets a timer of its key (event or processing time, on a
/// coarse grid so keys meet their own timers again), or deletes one; every op first fires
/// what is due at its place, in both domains; the end fires the rest, in order.
pub(super) struct Timers;

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
pub(super) struct Process;

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
