use super::*;
use crate::memory::SegmentPool;
use crate::spill::{SpillSpace, SpillSupport};
use crate::state::{acc_get, acc_set};
use proptest::prelude::*;
use std::collections::BTreeMap;

const NO_SPILL: SpillSupport = SpillSupport::Cannot("not in this test");

/// Adds the counts of `from` into `into`.
fn merge_counts(into: &mut [u8], from: &[u8]) {
    acc_set(into, 0, acc_get::<u64>(into, 0) + acc_get::<u64>(from, 0));
}

fn state(size: i64, lateness: i64) -> FixedWindows {
    let pool = SegmentPool::new(1024 * 1024, 1024);
    FixedWindows::new(
        pool.operator("window", "t.pipe:1:1", 1024),
        size,
        8,
        lateness,
        None,
        SpillSupport::Cannot("not in this test"),
    )
    .unwrap()
}

/// Counts a record into window `[start, start + size)`; the re-fired result when the window
/// had fired, `None` when the record is late.
fn count(s: &mut FixedWindows, key: &str, start: i64, wm: i64) -> Option<Option<Out>> {
    let end = start + s.size;
    let (n, a) = s
        .open(key.as_bytes(), start, end, wm, |a| acc_set(a, 0, 0u64))
        .unwrap()?;
    acc_set(a, 0, acc_get::<u64>(a, 0) + 1);
    Some(match s.after_update(n, wm) {
        WindowOutcome::Added => None,
        WindowOutcome::Refire(slot) => {
            let mut out = Vec::new();
            let f = s.copy_window(slot, &mut out);
            Some(result(&out, f))
        }
    })
}

type Out = (String, i64, i64, u64);

fn result(out: &[u8], f: FiredWindow) -> Out {
    let key = String::from_utf8(out[..f.key_len].to_vec()).unwrap();
    (key, f.start, f.end, acc_get::<u64>(&out[f.key_len..], 0))
}

/// (key, start, end, count) of everything due at `wm`.
fn due(s: &mut FixedWindows, wm: i64) -> Vec<Out> {
    let mut out = Vec::new();
    let mut v = Vec::new();
    if s.next_timer().is_none_or(|t| t > wm) {
        return v;
    }
    while let Some(f) = s.next_due(wm, &mut out).unwrap() {
        v.push(result(&out, f));
    }
    v
}

#[test]
fn windows_fire_in_end_then_opening_order() {
    let mut s = state(10, 0);
    count(&mut s, "b", 10, 0);
    count(&mut s, "a", 0, 0);
    count(&mut s, "a", 0, 0);
    count(&mut s, "b", 0, 0);
    assert!(due(&mut s, 8).is_empty());
    assert_eq!(
        due(&mut s, 9),
        [("a".into(), 0, 10, 2), ("b".into(), 0, 10, 1)]
    );
    assert_eq!(count(&mut s, "a", 0, 9), None, "late");
    assert_eq!(due(&mut s, i64::MAX), [("b".into(), 10, 20, 1)]);
}

#[test]
fn allowed_lateness_refires_then_expires() {
    let mut s = state(10, 5);
    count(&mut s, "a", 0, 0);
    assert_eq!(due(&mut s, 9), [("a".into(), 0, 10, 1)]);
    // Within lateness: the window is still there and fires again at once.
    assert_eq!(
        count(&mut s, "a", 0, 12),
        Some(Some(("a".into(), 0, 10, 2)))
    );
    // A key new to the fired window fires at once too, and only then.
    assert_eq!(
        count(&mut s, "b", 0, 12),
        Some(Some(("b".into(), 0, 10, 1)))
    );
    assert!(due(&mut s, 13).is_empty(), "cleanup emits nothing");
    assert_eq!(count(&mut s, "a", 0, 14), None, "past the lateness");
    assert!(due(&mut s, i64::MAX).is_empty());
}

/// Processing time, as generated code drives it: each record lands in the window of the
/// clock's current time with the watermark just below it, and windows fire once the clock
/// has passed their end.
#[test]
fn processing_time_windows_follow_a_hand_driven_clock() {
    let (clock, hand) = crate::time::Clock::manual(1_000);
    let mut s = state(10, 0);
    let arrive = |s: &mut FixedWindows, key: &str| {
        let now = clock.now();
        count(s, key, now - now.rem_euclid(10), now - 1)
    };
    arrive(&mut s, "a");
    arrive(&mut s, "b");
    hand.store(1_005, std::sync::atomic::Ordering::Relaxed);
    arrive(&mut s, "a");
    assert!(
        due(&mut s, clock.now() - 1).is_empty(),
        "the clock is still inside [1000, 1010)"
    );
    hand.store(1_012, std::sync::atomic::Ordering::Relaxed);
    arrive(&mut s, "a");
    assert_eq!(
        due(&mut s, clock.now() - 1),
        [("a".into(), 1000, 1010, 2), ("b".into(), 1000, 1010, 1)]
    );
    assert_eq!(due(&mut s, i64::MAX), [("a".into(), 1010, 1020, 1)]);
}

#[test]
fn pages_come_back_when_windows_close() {
    let pool = SegmentPool::new(64 * 1024, 1024);
    let mut s = FixedWindows::new(pool.operator("w", "", 64), 10, 8, 0, None, NO_SPILL).unwrap();
    let before = pool.in_use_bytes();
    for round in 0..200i64 {
        for k in 0..40 {
            count(&mut s, &format!("key{k}"), round * 10, round * 10 - 1);
        }
        due(&mut s, round * 10 + 9);
    }
    // At most the page being carved is held.
    assert!(
        pool.in_use_bytes() <= before + 1024,
        "closed windows free their pages: {} bytes held",
        pool.in_use_bytes()
    );
    drop(s);
    assert_eq!(pool.in_use_bytes(), 0);
}

#[test]
fn running_out_of_budget_names_the_operator() {
    let pool = SegmentPool::new(4 * 1024, 1024);
    let mut s = FixedWindows::new(
        pool.operator("window", "t.pipe:2:3", 4),
        10,
        8,
        0,
        Some(8),
        NO_SPILL,
    )
    .unwrap();
    let err = (0..10_000u64)
        .find_map(|i| s.open(&i.to_le_bytes(), 0, 10, -1, |_| {}).err())
        .expect("the budget runs out");
    match err {
        JobError::MemoryBudget {
            operator, location, ..
        } => assert_eq!(
            (operator.as_str(), location.as_str()),
            ("window", "t.pipe:2:3")
        ),
        other => panic!("expected a budget error, got {other:?}"),
    }
}

/// What a step of the property test does.
#[derive(Debug, Clone)]
enum Step {
    /// A record of key `k` at time `ts`.
    Record(u8, i64),
    /// The watermark moves up by this much, and what is due fires.
    Advance(i64),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        prop_oneof![
            4 => (0u8..60, 0i64..300).prop_map(|(k, t)| Step::Record(k, t)),
            1 => (0i64..40).prop_map(Step::Advance),
        ],
        0..400,
    )
}

/// The windows of a record at `ts`: sliding windows of `size` every `slide`.
fn starts(ts: i64, size: i64, slide: i64) -> Vec<i64> {
    let last = ts - ts.rem_euclid(slide);
    (0..)
        .map(|i| last - i * slide)
        .take_while(|&s| s > ts - size)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

/// The reference: each window a list of (key, count) in opening order, fired in order of
/// start, kept `lateness` past its end.
#[derive(Default)]
struct Reference {
    windows: BTreeMap<i64, (Vec<(String, u64)>, bool)>,
}

impl Reference {
    fn record(&mut self, key: &str, start: i64, size: i64, lateness: i64, wm: i64) -> Vec<Out> {
        let last = start + size - 1;
        if last + lateness <= wm {
            return Vec::new();
        }
        let (keys, _) = self
            .windows
            .entry(start)
            .or_insert_with(|| (Vec::new(), last <= wm));
        let i = match keys.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                keys.push((key.to_string(), 0));
                keys.len() - 1
            }
        };
        keys[i].1 += 1;
        if last <= wm {
            vec![(key.to_string(), start, start + size, keys[i].1)]
        } else {
            Vec::new()
        }
    }

    fn advance(&mut self, size: i64, lateness: i64, wm: i64) -> Vec<Out> {
        let mut out = Vec::new();
        for (&start, (keys, fired)) in &mut self.windows {
            if !*fired && start + size - 1 <= wm {
                *fired = true;
                out.extend(
                    keys.iter()
                        .map(|(k, n)| (k.clone(), start, start + size, *n)),
                );
            }
        }
        self.windows
            .retain(|&start, _| start + size - 1 + lateness > wm);
        out
    }
}

/// How a property run is set up: window shape, lateness, key width, and whether the
/// state has a budget so small it spills all the time.
#[derive(Debug, Clone, Copy)]
struct Setup {
    size: i64,
    slide: i64,
    lateness: i64,
    fixed_width: bool,
    spill: bool,
}

/// Runs `steps` against the state and the reference; every result in order, and the
/// state's memory and spill files given back at the end.
fn check(steps: Vec<Step>, setup: Setup) -> Result<(), TestCaseError> {
    let Setup {
        size,
        slide,
        lateness,
        fixed_width,
        spill,
    } = setup;
    let dir = tempfile::tempdir().unwrap();
    let (pool, mem, support) = if spill {
        let pool = SegmentPool::new(12 * 256, 256);
        let space = SpillSpace::new(Some(dir.path().to_path_buf()), "t");
        let mem = pool.operator("w", "", 12).with_spill(space);
        (pool, mem, SpillSupport::Merge(merge_counts))
    } else {
        let pool = SegmentPool::new(512 * 1024, 512);
        let mem = pool.operator("w", "", 1024);
        (pool, mem, NO_SPILL)
    };
    let width = fixed_width.then_some(4);
    let mut s = FixedWindows::new(mem, size, 8, lateness, width, support).unwrap();
    let mut reference = Reference::default();
    let (mut wm, mut got, mut want) = (-1i64, Vec::new(), Vec::new());
    for step in steps {
        match step {
            Step::Record(k, ts) => {
                // Enough keys per window to grow its index and chunks several times.
                let key = if fixed_width {
                    format!("k{k:03}")
                } else {
                    format!("k{k}{}", "-".repeat(usize::from(k % 5)))
                };
                for start in starts(ts, size, slide) {
                    if let Some(Some(r)) = count(&mut s, &key, start, wm) {
                        got.push(r);
                    }
                    want.extend(reference.record(&key, start, size, lateness, wm));
                }
            }
            Step::Advance(by) => {
                wm += by;
                got.extend(due(&mut s, wm));
                want.extend(reference.advance(size, lateness, wm));
            }
        }
    }
    got.extend(due(&mut s, i64::MAX));
    want.extend(reference.advance(size, lateness, i64::MAX - size - lateness));
    prop_assert_eq!(got, want);
    drop(s);
    prop_assert_eq!(pool.in_use_bytes(), 0);
    let spill_files = walk(dir.path());
    prop_assert!(spill_files.iter().all(|p| p.is_dir()), "{:?}", spill_files);
    Ok(())
}

/// Every path under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            all.extend(walk(&e.path()));
        }
        all.push(e.path());
    }
    all
}

fn setups(spill: bool) -> impl Strategy<Value = Setup> {
    (
        prop_oneof![Just((10i64, 10i64)), Just((30, 10)), Just((20, 5))],
        prop_oneof![Just(0i64), Just(15)],
        any::<bool>(),
    )
        .prop_map(move |((size, slide), lateness, fixed_width)| Setup {
            size,
            slide,
            lateness,
            fixed_width,
            spill,
        })
}

proptest! {
    /// Every result and re-fired result, in order, as the reference computes them, for
    /// tumbling and sliding windows with and without allowed lateness.
    #[test]
    fn results_match_a_reference(steps in steps(), setup in setups(false)) {
        check(steps, setup)?;
    }

    /// The same under a budget of 12 pages of 256 bytes: windows spill and come back
    /// (folded, and loaded again when fired with allowed lateness), and every result is the
    /// reference's, in order.
    #[test]
    fn spilled_results_match_a_reference(steps in steps(), setup in setups(true)) {
        check(steps, setup)?;
    }
}

#[test]
fn a_tiny_budget_spills_windows_and_their_results_stay_exact() {
    let dir = tempfile::tempdir().unwrap();
    let pool = SegmentPool::new(12 * 256, 256);
    let mem = pool
        .operator("w", "", 12)
        .with_spill(SpillSpace::new(Some(dir.path().to_path_buf()), "t"));
    let mut s = FixedWindows::new(mem, 100, 8, 0, None, SpillSupport::Merge(merge_counts)).unwrap();
    let mut reference = Reference::default();
    let (mut got, mut want) = (Vec::new(), Vec::new());
    // Three windows open at once, 200 keys each, every key several times.
    for i in 0..6000i64 {
        let key = format!("key{}", (i * 37) % 200);
        let start = (i / 20) / 100 * 100;
        for start in [start, start + 100, start + 200] {
            count(&mut s, &key, start, start - 1);
            want.extend(reference.record(&key, start, 100, 0, start - 1));
        }
    }
    got.extend(due(&mut s, i64::MAX));
    want.extend(reference.advance(100, 0, i64::MAX - 100));
    assert_eq!(got, want);
    assert!(pool.usage()[0].spill_runs > 10, "{:?}", pool.usage());
}
