use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::memory::SegmentPool;
use crate::spill::SpillSpace;

/// The reference: every timer set, with the registration number that orders equal times.
#[derive(Default)]
struct Model {
    timers: HashMap<(u8, i64, Vec<u8>), u64>,
    seq: u64,
}

impl Model {
    fn register(&mut self, d: TimeDomain, key: &[u8], time: i64) -> bool {
        self.seq += 1;
        let seq = self.seq;
        let id = (d as u8, time, key.to_vec());
        if self.timers.contains_key(&id) {
            return false;
        }
        self.timers.insert(id, seq);
        true
    }

    fn delete(&mut self, d: TimeDomain, key: &[u8], time: i64) -> bool {
        self.timers.remove(&(d as u8, time, key.to_vec())).is_some()
    }

    fn pop_due(&mut self, d: TimeDomain, now: i64) -> Option<(i64, Vec<u8>)> {
        let (id, _) = self
            .timers
            .iter()
            .filter(|((dom, time, _), _)| *dom == d as u8 && *time <= now)
            .min_by_key(|((_, time, _), seq)| (*time, **seq))?;
        let id = id.clone();
        self.timers.remove(&id);
        Some((id.1, id.2))
    }
}

#[derive(Debug, Clone)]
enum Op {
    Register(bool, u8, i64),
    Delete(bool, u8, i64),
    /// Fire everything due at this time, in both domains.
    Advance(i64),
}

fn domain(processing: bool) -> TimeDomain {
    if processing {
        TimeDomain::ProcessingTime
    } else {
        TimeDomain::EventTime
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (any::<bool>(), 0u8..60, 0i64..300).prop_map(|(p, k, t)| Op::Register(p, k, t)),
        2 => (any::<bool>(), 0u8..60, 0i64..300).prop_map(|(p, k, t)| Op::Delete(p, k, t)),
        1 => (0i64..300).prop_map(Op::Advance),
    ]
}

/// What `ops` give against the state and against the model: each answer, and each timer
/// fired, in order.
fn drive(timers: &mut KeyedTimers, ops: &[Op]) -> (Vec<String>, Vec<String>) {
    let mut model = Model::default();
    let (mut got, mut want) = (Vec::new(), Vec::new());
    let mut key_out = Vec::new();
    for op in ops.iter().chain([Op::Advance(i64::MAX)].iter()) {
        match *op {
            Op::Register(p, k, t) => {
                let key = format!("key{k}");
                got.push(format!(
                    "{op:?} {}",
                    timers.register(domain(p), key.as_bytes(), t).unwrap()
                ));
                want.push(format!(
                    "{op:?} {}",
                    model.register(domain(p), key.as_bytes(), t)
                ));
            }
            Op::Delete(p, k, t) => {
                let key = format!("key{k}");
                got.push(format!(
                    "{op:?} {}",
                    timers.delete(domain(p), key.as_bytes(), t).unwrap()
                ));
                want.push(format!(
                    "{op:?} {}",
                    model.delete(domain(p), key.as_bytes(), t)
                ));
            }
            Op::Advance(now) => {
                for d in TimeDomain::ALL {
                    while let Some(time) = timers.pop_due(d, now, &mut key_out).unwrap() {
                        got.push(format!(
                            "{d:?} {time} {}",
                            String::from_utf8_lossy(&key_out)
                        ));
                    }
                    while let Some((time, key)) = model.pop_due(d, now) {
                        want.push(format!("{d:?} {time} {}", String::from_utf8_lossy(&key)));
                    }
                }
            }
        }
    }
    (got, want)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// In memory and under 6 pages of 256 bytes (spilling again and again), the timers
    /// answer and fire as the reference does: one per key, time and domain, deleted ones
    /// never, in order of time and then registration.
    #[test]
    fn timers_fire_as_the_reference_in_memory_and_spilling(
        ops in proptest::collection::vec(op(), 0..1500)
    ) {
        let pool = SegmentPool::new(512 * 1024, 1024);
        let mut large = KeyedTimers::new(pool.operator("op", "t.pipe:1:1", 512)).unwrap();
        let (got, want) = drive(&mut large, &ops);
        same(&got, &want)?;

        let dir = tempfile::tempdir().unwrap();
        let pool = SegmentPool::new(6 * 256, 256);
        let mem = pool
            .operator("op", "t.pipe:1:1", 6)
            .with_spill(SpillSpace::new(Some(dir.path().to_path_buf()), "t"));
        let mut small = KeyedTimers::new(mem).unwrap();
        let (got, want) = drive(&mut small, &ops);
        same(&got, &want)?;
    }
}

/// `got` is `want`; if not, where they part, with a few lines either side.
fn same(got: &[String], want: &[String]) -> Result<(), TestCaseError> {
    let at = got.iter().zip(want).position(|(g, w)| g != w);
    match at {
        None if got.len() == want.len() => Ok(()),
        _ => {
            let at = at.unwrap_or(got.len().min(want.len()));
            let from = at.saturating_sub(3);
            Err(TestCaseError::fail(format!(
                "they part at line {at}: got {:?}, want {:?}",
                &got[from..(at + 3).min(got.len())],
                &want[from..(at + 3).min(want.len())]
            )))
        }
    }
}

#[test]
fn deleting_timers_that_never_fire_keeps_memory_bounded() {
    let pool = SegmentPool::new(64 * 1024, 1024);
    let mut timers = KeyedTimers::new(pool.operator("op", "t.pipe:1:1", 64)).unwrap();
    // A fraud check's pattern: each record sets a timer a minute on and deletes the one
    // before, so no timer ever fires; without rebuilding the queue its stale places grow.
    for i in 0..200_000i64 {
        let key = format!("card{}", i % 10);
        if i >= 10 {
            assert!(timers
                .delete(TimeDomain::EventTime, key.as_bytes(), i - 10 + 60_000)
                .unwrap());
        }
        assert!(timers
            .register(TimeDomain::EventTime, key.as_bytes(), i + 60_000)
            .unwrap());
    }
    assert_eq!(timers.len_in_memory(), 10);
    assert!(
        pool.usage()[0].peak_bytes <= 16 * 1024,
        "{:?}",
        pool.usage()
    );
}

#[test]
fn without_a_spill_space_the_budget_error_stands() {
    let pool = SegmentPool::new(4 * 256, 256);
    let mut timers = KeyedTimers::new(pool.operator("op", "t.pipe:1:1", 4)).unwrap();
    let err = (0..10_000i64)
        .find_map(|t| timers.register(TimeDomain::EventTime, b"k", t).err())
        .expect("the budget runs out");
    assert!(matches!(err, JobError::MemoryBudget { .. }), "{err}");
}

#[test]
fn extreme_times_and_empty_keys_are_timers_like_any() {
    let pool = SegmentPool::new(64 * 1024, 1024);
    let mut timers = KeyedTimers::new(pool.operator("op", "t.pipe:1:1", 64)).unwrap();
    let d = TimeDomain::EventTime;
    assert!(timers.register(d, b"", i64::MAX).unwrap());
    assert!(timers.register(d, b"", i64::MIN).unwrap());
    assert!(!timers.register(d, b"", i64::MAX).unwrap());
    assert!(timers
        .register(TimeDomain::ProcessingTime, b"", i64::MAX)
        .unwrap());
    let mut key = vec![1u8];
    assert_eq!(
        timers.pop_due(d, i64::MIN, &mut key).unwrap(),
        Some(i64::MIN)
    );
    assert!(key.is_empty());
    assert_eq!(timers.pop_due(d, i64::MAX - 1, &mut key).unwrap(), None);
    assert_eq!(
        timers.pop_due(d, i64::MAX, &mut key).unwrap(),
        Some(i64::MAX)
    );
    assert_eq!(timers.pop_due(d, i64::MAX, &mut key).unwrap(), None);
    assert_eq!(timers.next_time(TimeDomain::ProcessingTime), Some(i64::MAX));
    let long = vec![7u8; 2000];
    let err = timers.register(d, &long, 0).unwrap_err();
    assert!(matches!(err, JobError::KeyTooLong { .. }), "{err}");
}
