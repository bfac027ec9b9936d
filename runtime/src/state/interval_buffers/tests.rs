use super::*;
use crate::memory::SegmentPool;
use proptest::prelude::*;

fn buffers(lower: i64, upper: i64) -> IntervalBuffers {
    let pool = SegmentPool::new(256 * 4096, 256);
    IntervalBuffers::new(
        pool.operator("interval_join", "t.pipe:1:1", 4096),
        lower,
        upper,
        None,
    )
    .unwrap()
}

fn partners(b: &mut IntervalBuffers, side: JoinSide, key: u8, ts: i64) -> Vec<(i64, Vec<u8>)> {
    let mut out = Partners::default();
    b.probe(side, &[key], ts, b"me", &mut out).unwrap();
    assert_eq!(out.own(), b"me");
    out.iter().map(|(t, r)| (t, r.to_vec())).collect()
}

#[test]
fn bounds_are_inclusive_at_both_edges() {
    let mut b = buffers(-5, 10);
    for (ts, name) in [
        (94, "before"),
        (95, "lower edge"),
        (110, "upper edge"),
        (111, "after"),
    ] {
        b.add(JoinSide::Right, &[1], ts, name.as_bytes()).unwrap();
    }
    let got = partners(&mut b, JoinSide::Left, 1, 100);
    assert_eq!(
        got,
        [(95, b"lower edge".to_vec()), (110, b"upper edge".to_vec())]
    );
    // From the right: left records at t with t - 5 <= s <= t + 10, so s - 10 <= t <= s + 5.
    b.add(JoinSide::Left, &[1], 90, b"l90").unwrap();
    b.add(JoinSide::Left, &[1], 89, b"l89").unwrap();
    assert_eq!(
        partners(&mut b, JoinSide::Right, 1, 100),
        [(90, b"l90".to_vec())]
    );
    assert_eq!(partners(&mut b, JoinSide::Right, 2, 100), []);
}

proptest! {
    /// Random records of both sides and a rising watermark, against a model that keeps
    /// every record forever: a record that is not late meets exactly the partners the
    /// model finds, in order of time then arrival, however the buckets were dropped.
    #[test]
    fn no_pair_of_timely_records_is_lost(
        lower in -3_000i64..2_000,
        width in 0i64..4_000,
        events in proptest::collection::vec((any::<bool>(), 0u8..4, 0i64..20_000, 0i64..3), 0..200),
    ) {
        let upper = lower + width;
        let mut b = buffers(lower, upper);
        let mut kept: Vec<(JoinSide, u8, i64, Vec<u8>)> = Vec::new();
        let mut wm = i64::MIN;
        for (i, (left, key, ts, advance)) in events.into_iter().enumerate() {
            let side = if left { JoinSide::Left } else { JoinSide::Right };
            if ts <= wm {
                continue; // late
            }
            let record = i.to_le_bytes().to_vec();
            let got = partners(&mut b, side, key, ts);
            let (from, to) = match side {
                JoinSide::Left => (ts + lower, ts + upper),
                JoinSide::Right => (ts - upper, ts - lower),
            };
            let mut want: Vec<(i64, Vec<u8>)> = kept
                .iter()
                .filter(|(s, k, t, _)| *s != side && *k == key && (from..=to).contains(t))
                .map(|(_, _, t, r)| (*t, r.clone()))
                .collect();
            want.sort_by_key(|(t, _)| *t);
            prop_assert_eq!(got, want);
            b.add(side, &[key], ts, &record).unwrap();
            kept.push((side, key, ts, record));
            if advance == 0 {
                wm = wm.max(ts - 2_500);
                b.expire(wm);
            }
        }
    }
}

#[test]
fn expired_buckets_give_their_pages_back() {
    let mut b = buffers(0, 10);
    for i in 0..3_000i64 {
        b.add(JoinSide::Left, &[(i % 7) as u8], i, &[0u8; 40])
            .unwrap();
        b.add(JoinSide::Right, &[(i % 7) as u8], i, &[0u8; 40])
            .unwrap();
    }
    let full = b.mem.pages_in_use();
    b.expire(i64::MAX - 1);
    assert!(full > 4, "{full}");
    // Each side keeps the page it is carving.
    assert!(b.mem.pages_in_use() <= 2);
}

/// Every probe of the same records through buffers that spill (a budget of a few pages)
/// and buffers that do not: the partners must be the same, in the same order.
fn spilled_and_not(events: &[(bool, u8, i64, i64)], pages: u64) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let pool = SegmentPool::new(256 * pages, 256);
    let space = crate::spill::SpillSpace::new(Some(dir.path().to_path_buf()), "t");
    let mem = pool
        .operator("interval_join", "t.pipe:1:1", pages)
        .with_spill(space);
    let mut small = IntervalBuffers::new(mem, -1_500, 2_000, None).unwrap();
    let mut large = buffers(-1_500, 2_000);
    let mut wm = i64::MIN;
    for (i, &(left, key, ts, advance)) in events.iter().enumerate() {
        let side = if left {
            JoinSide::Left
        } else {
            JoinSide::Right
        };
        if ts <= wm {
            continue;
        }
        let key = [key; 12];
        let (mut a, mut b) = (Partners::default(), Partners::default());
        small.probe(side, &key, ts, b"me", &mut a).unwrap();
        large.probe(side, &key, ts, b"me", &mut b).unwrap();
        let got: Vec<_> = a.iter().map(|(t, r)| (t, r.to_vec())).collect();
        let want: Vec<_> = b.iter().map(|(t, r)| (t, r.to_vec())).collect();
        assert_eq!(got, want, "record {i}");
        let record = format!("record {i}").into_bytes();
        small.add(side, &key, ts, &record).unwrap();
        large.add(side, &key, ts, &record).unwrap();
        if advance == 0 {
            wm = wm.max(ts - 3_000);
            small.expire(wm);
            large.expire(wm);
        }
    }
    pool.usage().iter().map(|u| u.spill_runs).sum()
}

#[test]
fn buckets_past_the_budget_spill_and_are_met_on_disk() {
    let events: Vec<(bool, u8, i64, i64)> = (0..4_000i64)
        // Times in steps of 250 ms: many partners at one time, whose order is arrival.
        .map(|i| {
            (
                i % 3 != 0,
                (i * 7 % 40) as u8,
                (i * 5 + (i * 13) % 2_000) / 250 * 250,
                i % 5,
            )
        })
        .collect();
    let runs = spilled_and_not(&events, 40);
    assert!(runs > 10, "it spilled: {runs} runs");
}

proptest! {
    #[test]
    fn random_records_meet_the_same_partners_spilled_or_not(
        events in proptest::collection::vec((any::<bool>(), 0u8..8, 0i64..80, 0i64..4), 0..300),
    ) {
        let events: Vec<_> = events.into_iter().map(|(l, k, t, a)| (l, k, t * 250, a)).collect();
        spilled_and_not(&events, 24);
    }
}

/// Outer join buffers emitting both sides' unmatched records, spilling when `pages` is
/// given.
fn outer(lower: i64, upper: i64, pages: Option<u64>, dir: &std::path::Path) -> IntervalBuffers {
    let b = match pages {
        None => buffers(lower, upper),
        Some(pages) => {
            let pool = SegmentPool::new(256 * pages, 256);
            let space = crate::spill::SpillSpace::new(Some(dir.to_path_buf()), "t");
            let mem = pool
                .operator("interval_join", "t.pipe:1:1", pages)
                .with_spill(space);
            IntervalBuffers::new(mem, lower, upper, None).unwrap()
        }
    };
    b.emitting_unmatched([true, true]).unwrap()
}

/// The unmatched records due at `wm`: (side is left, record number, deadline).
fn due(b: &mut IntervalBuffers, wm: i64) -> Vec<(bool, u64, i64)> {
    let mut out = Unmatched::default();
    let mut all = Vec::new();
    while b.next_unmatched(wm, &mut out).unwrap() {
        let left = out.side() == JoinSide::Left;
        for (deadline, record) in out.iter() {
            all.push((
                left,
                u64::from_le_bytes(record.try_into().unwrap()),
                deadline,
            ));
        }
    }
    all
}

/// Feeds `events` (side, key, time, whether the watermark advances after it) with the
/// watermark 2.5 s behind; every record that is not late and meets no partner (among all
/// the other side's records that are not late, whenever they come) must be emitted alone
/// exactly once, not before the watermark passes its deadline and, unless at the end, before
/// it passes it by a waiting bucket (or, for a record whose deadline had passed when it
/// came, at the next watermark); no record with a partner may be. How often it spilled.
fn check_unmatched(
    lower: i64,
    upper: i64,
    events: &[(bool, u8, i64, i64)],
    pages: Option<u64>,
) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let mut b = outer(lower, upper, pages, dir.path());
    let mut kept: Vec<(bool, u8, i64, u64)> = Vec::new();
    let mut emitted: Vec<(bool, u64, i64)> = Vec::new();
    let mut arrived_at = vec![i64::MIN; events.len()];
    let mut wm = i64::MIN;
    for (i, &(left, key, ts, advance)) in events.iter().enumerate() {
        let side = if left {
            JoinSide::Left
        } else {
            JoinSide::Right
        };
        if ts <= wm {
            continue;
        }
        let record = (i as u64).to_le_bytes();
        let mut partners = Partners::default();
        b.probe(side, &[key], ts, &record, &mut partners).unwrap();
        b.add(side, &[key], ts, &record).unwrap();
        if partners.is_empty() {
            b.await_partner(side, &[key], ts, &record).unwrap();
        }
        kept.push((left, key, ts, i as u64));
        arrived_at[i] = wm;
        if advance == 0 && ts - 2_500 > wm {
            let before = wm;
            wm = ts - 2_500;
            for (left, n, deadline) in due(&mut b, wm) {
                assert!(
                    deadline <= wm,
                    "record {n} at deadline {deadline} emitted at {wm}"
                );
                assert!(
                    deadline + 1_000 > before || arrived_at[n as usize] == before,
                    "record {n} at deadline {deadline} was due at {before} already"
                );
                emitted.push((left, n, deadline));
            }
            b.expire(wm);
        }
    }
    emitted.extend(due(&mut b, i64::MAX));
    let mut want: Vec<(bool, u64, i64)> = kept
        .iter()
        .filter(|&&(left, key, t, _)| {
            !kept.iter().any(|&(l, k, s, _)| {
                let (order, other) = if left { (t, s) } else { (s, t) };
                l != left && k == key && (order + lower..=order + upper).contains(&other)
            })
        })
        .map(|&(left, _, t, n)| (left, n, if left { t + upper } else { t - lower }))
        .collect();
    want.sort();
    emitted.sort();
    assert_eq!(emitted, want);
    b.mem.spill_runs()
}

proptest! {
    #[test]
    fn records_without_a_partner_are_emitted_alone_once_at_their_deadline(
        lower in -3_000i64..2_000,
        width in 0i64..4_000,
        events in proptest::collection::vec((any::<bool>(), 0u8..4, 0i64..20_000, 0i64..3), 0..200),
    ) {
        check_unmatched(lower, lower + width, &events, None);
    }

    #[test]
    fn unmatched_records_are_the_same_spilled(
        events in proptest::collection::vec((any::<bool>(), 0u8..8, 0i64..80, 0i64..4), 0..300),
    ) {
        let events: Vec<_> = events.into_iter().map(|(l, k, t, a)| (l, k, t * 250, a)).collect();
        check_unmatched(-1_500, 2_000, &events, Some(24));
    }
}

#[test]
fn waiting_records_spill_and_come_back_at_their_deadline() {
    // Orders never paid: every one waits, far past a budget of 24 small pages.
    let events: Vec<(bool, u8, i64, i64)> = (0..3_000i64)
        .map(|i| (i % 5 != 0, (i % 40) as u8, i * 20, i % 7))
        .collect();
    let runs = check_unmatched(0, 60_000, &events, Some(24));
    assert!(runs > 10, "it spilled: {runs} runs");
}
