//! Session windows against hand-checked sessions: merging, firing, lateness, spilling.

use super::*;
use crate::memory::SegmentPool;
use crate::state::{acc_get, acc_set};
use proptest::prelude::*;

fn state(lateness: i64) -> SessionWindows {
    let pool = SegmentPool::new(256 * 1024, 1024);
    SessionWindows::new(pool.operator("window", "t.pipe:1:1", 256), 8, lateness).unwrap()
}

fn session(s: &mut SessionWindows, key: &str, ts: i64, wm: i64) -> Option<WindowOutcome> {
    let n = s
        .open_session(
            key.as_bytes(),
            ts,
            10,
            wm,
            |a| acc_set(a, 0, 0u64),
            |into, from| {
                acc_set(into, 0, acc_get::<u64>(into, 0) + acc_get::<u64>(from, 0));
                Ok(())
            },
        )
        .unwrap()?;
    let a = s.acc_mut(n);
    acc_set(a, 0, acc_get::<u64>(a, 0) + 1);
    Some(s.after_update(n, wm))
}

/// What happened at one step: the re-fired window of a late record, or what fired.
type Fired = Vec<(String, i64, i64, u64)>;

/// Runs `steps` (a record of key `k` at `ts`, or the watermark moving up) against `s`:
/// everything that fired, in order.
fn drive(s: &mut SessionWindows, steps: &[(u8, i64, i64)]) -> Fired {
    let mut fired = Vec::new();
    let mut wm = i64::MIN;
    for &(k, ts, advance) in steps {
        if advance > 0 {
            wm = wm.max(0) + advance;
            fired.extend(due(s, wm));
            continue;
        }
        let key = format!("key{k}");
        if let Some(WindowOutcome::Refire(slot)) = session(s, &key, ts, wm) {
            let mut out = Vec::new();
            let f = s.copy_window(slot, &mut out);
            let key = String::from_utf8(out[..f.key_len].to_vec()).unwrap();
            fired.push((key, f.start, f.end, acc_get::<u64>(&out[f.key_len..], 0)));
        }
    }
    fired.extend(due(s, i64::MAX));
    fired
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Under 12 pages of 256 bytes every session and timer goes to disk again and
    /// again; what fires, and in what order, is what the state fires in memory.
    #[test]
    fn spilled_sessions_fire_as_in_memory(
        steps in proptest::collection::vec(
            prop_oneof![
                4 => (0u8..40, 0i64..400).prop_map(|(k, ts)| (k, ts, 0)),
                1 => (1i64..30).prop_map(|a| (0, 0, a)),
            ],
            0..500,
        ),
        lateness in prop_oneof![Just(0i64), Just(15)],
    ) {
        let mut large = state(lateness);
        let dir = tempfile::tempdir().unwrap();
        let pool = SegmentPool::new(12 * 256, 256);
        let mem = pool
            .operator("window", "t.pipe:1:1", 12)
            .with_spill(crate::spill::SpillSpace::new(Some(dir.path().to_path_buf()), "t"));
        let mut small = SessionWindows::new(mem, 8, lateness).unwrap();
        prop_assert_eq!(drive(&mut small, &steps), drive(&mut large, &steps));
    }
}

#[test]
fn many_keys_spill_and_fire_as_in_memory_and_without_a_spill_space_the_error_stands() {
    let steps: Vec<(u8, i64, i64)> = (0..6000i64)
        .map(|i| {
            if i % 97 == 0 {
                (0, 0, 7)
            } else {
                ((i * 31 % 200) as u8, i / 10 + (i * 7) % 23, 0)
            }
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let pool = SegmentPool::new(16 * 256, 256);
    let mem = pool
        .operator("window", "t.pipe:1:1", 16)
        .with_spill(crate::spill::SpillSpace::new(
            Some(dir.path().to_path_buf()),
            "t",
        ));
    let mut small = SessionWindows::new(mem, 8, 5).unwrap();
    assert_eq!(drive(&mut small, &steps), drive(&mut state(5), &steps));
    assert!(pool.usage()[0].spill_runs > 5, "{:?}", pool.usage());

    let pool = SegmentPool::new(8 * 1024, 1024);
    let mut s = SessionWindows::new(pool.operator("window", "t.pipe:1:1", 8), 8, 0).unwrap();
    let err = (0..10_000i64)
        .find_map(|i| {
            let key = format!("key{i}");
            s.open_session(key.as_bytes(), i, 10, -1, |_| {}, |_, _| Ok(()))
                .err()
        })
        .expect("the budget runs out");
    assert!(matches!(err, JobError::MemoryBudget { .. }), "{err}");
}

/// (key, start, end, count) of everything due at `wm`.
fn due(s: &mut SessionWindows, wm: i64) -> Vec<(String, i64, i64, u64)> {
    let mut out = Vec::new();
    let mut v = Vec::new();
    while let Some(f) = s.next_due(wm, &mut out).unwrap() {
        let key = String::from_utf8(out[..f.key_len].to_vec()).unwrap();
        v.push((key, f.start, f.end, acc_get::<u64>(&out[f.key_len..], 0)));
    }
    v
}

/// Extra data whose taking back fails for the second session it is offered.
struct FailsOnTheSecond(usize);

impl SessionExtra for FailsOnTheSecond {
    fn spill(&mut self, _: &[u8], _: &mut Vec<u8>) -> Result<(), JobError> {
        Ok(())
    }
    fn copy(&self, _: &[u8], _: &mut Vec<u8>) {}
    fn restore_bytes(&self, _: &[u8]) -> u64 {
        0
    }
    fn restore(&mut self, _: &mut [u8], _: &[u8]) -> Result<(), JobError> {
        self.0 += 1;
        match self.0 {
            2 => Err(JobError::Config("no room".into())),
            _ => Ok(()),
        }
    }
    fn merge(&mut self, _: &mut [u8], _: &[u8]) {}
}

/// A key whose sessions come back from disk only in part is undone whole: spilled
/// again, it loses none of them (it used to write the part back as the key's newest
/// copy, hiding the rest).
#[test]
fn a_key_that_comes_back_in_part_stays_whole_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let pool = SegmentPool::new(256 * 1024, 1024);
    let mem = pool
        .operator("window", "t.pipe:1:1", 256)
        .with_spill(crate::spill::SpillSpace::new(
            Some(dir.path().to_path_buf()),
            "t",
        ));
    let mut s = SessionWindows::new(mem, 8, 0).unwrap();
    for ts in [0, 1, 100, 200] {
        session(&mut s, "a", ts, i64::MIN);
    }
    s.spill_all(&mut NoExtra).unwrap();
    let err = s.prepare(b"a", &mut FailsOnTheSecond(0)).unwrap_err();
    assert!(err.to_string().contains("no room"), "{err}");
    s.spill_all(&mut NoExtra).unwrap();
    let fired = due(&mut s, i64::MAX);
    let a = |start, end, n| ("a".to_string(), start, end, n);
    assert_eq!(fired, [a(0, 11, 2), a(100, 110, 1), a(200, 210, 1)]);
}

#[test]
fn a_record_bridging_two_sessions_merges_them() {
    let mut s = state(0);
    session(&mut s, "k", 0, 0); // [0, 10)
    session(&mut s, "k", 25, 0); // [25, 35)
    session(&mut s, "x", 12, 0); // another key, untouched
    session(&mut s, "k", 12, 0); // [12, 22): touches neither yet
    session(&mut s, "k", 10, 0); // [10, 20) touches [0,10) and [12,22): one [0, 22)
                                 // Equal ends fire in timer order: the merged session's timer is the newest.
    assert_eq!(
        due(&mut s, 21),
        [("x".into(), 12, 22, 1), ("k".into(), 0, 22, 3)]
    );
    assert_eq!(due(&mut s, i64::MAX), [("k".into(), 25, 35, 1)]);
}

#[test]
fn a_fired_window_is_still_cleaned_up_after_its_lateness() {
    let pool = SegmentPool::new(256 * 1024, 1024);
    let mut s = SessionWindows::new(pool.operator("w", "", 256), 8, 5).unwrap();
    session(&mut s, "k", 0, i64::MIN); // [0, 10)
    assert_eq!(due(&mut s, 9), [("k".into(), 0, 10, 1)]);
    assert!(due(&mut s, 14).is_empty(), "cleanup at 9 + 5 emits nothing");
    // Had the cleanup been lost, this record would merge with the old session.
    session(&mut s, "k", 9, 14);
    assert_eq!(due(&mut s, i64::MAX), [("k".into(), 9, 19, 1)]);
}
