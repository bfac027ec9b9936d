use super::*;
use crate::memory::SegmentPool;
use proptest::prelude::*;

fn state(size: i64, page: usize, pages: u64) -> WindowJoin {
    let pool = SegmentPool::new(page as u64 * pages, page);
    WindowJoin::new(
        pool.operator("join", "t.pipe:1:1", pages),
        size,
        FiredKeys::All,
    )
    .unwrap()
}

/// Everything due at `wm`, as `(start, key's first record, lefts, rights)` per group.
type Groups = Vec<(i64, Vec<Vec<u8>>, Vec<Vec<u8>>)>;

fn fire(s: &mut WindowJoin, wm: i64) -> Groups {
    let mut out = Vec::new();
    while let Some(g) = s.next_group(wm).unwrap() {
        out.push((
            g.start,
            g.left().map(<[u8]>::to_vec).collect(),
            g.right().map(<[u8]>::to_vec).collect(),
        ));
    }
    out
}

#[test]
fn a_window_gives_each_key_its_records_from_both_sides_in_arrival_order() {
    let mut s = state(10, 1024, 64);
    assert!(s.add(JoinSide::Left, b"a", 0, i64::MIN, b"l1").unwrap());
    assert!(s.add(JoinSide::Right, b"b", 0, i64::MIN, b"r1").unwrap());
    assert!(s.add(JoinSide::Right, b"a", 0, i64::MIN, b"r2").unwrap());
    assert!(s.add(JoinSide::Left, b"a", 0, i64::MIN, b"l3").unwrap());
    assert!(s.add(JoinSide::Left, b"a", 10, i64::MIN, b"later").unwrap());
    assert_eq!(
        fire(&mut s, 8),
        Vec::<(i64, Vec<Vec<u8>>, Vec<Vec<u8>>)>::new()
    );
    assert_eq!(
        fire(&mut s, 9),
        vec![
            (
                0,
                vec![b"l1".to_vec(), b"l3".to_vec()],
                vec![b"r2".to_vec()]
            ),
            (0, vec![], vec![b"r1".to_vec()]),
        ]
    );
    assert!(
        !s.add(JoinSide::Right, b"a", 0, 9, b"late").unwrap(),
        "the window fired"
    );
    assert_eq!(
        fire(&mut s, i64::MAX),
        vec![(10, vec![b"later".to_vec()], vec![])]
    );
    assert!(s.is_empty());
    // The page being carved stays for the next window, and the index's first page.
    assert!(
        s.pages.memory().pages_in_use() <= 2,
        "the windows' pages went back"
    );
}

#[test]
fn a_record_longer_than_a_page_is_refused_by_name() {
    let mut s = state(10, 256, 8);
    let long = vec![7u8; 300];
    let err = s.add(JoinSide::Left, b"k", 0, i64::MIN, &long).unwrap_err();
    assert!(
        err.to_string()
            .contains("a record of 300 bytes is longer than the 239 bytes"),
        "{err}"
    );
}

#[test]
fn running_out_of_budget_is_a_budget_error() {
    let mut s = state(10, 256, 2);
    let err = (0..1000u32)
        .map(|i| s.add(JoinSide::Left, &i.to_le_bytes(), 0, i64::MIN, b"0123456789"))
        .find_map(Result::err)
        .expect("two pages cannot hold a thousand records");
    assert!(matches!(err, JobError::MemoryBudget { .. }), "{err}");
}

proptest! {
    /// Random records on both sides with a rising watermark, against a model: a map from
    /// window start to its keys in opening order, each with its two lists.
    #[test]
    fn matches_a_model_of_windows_keys_and_lists(
        events in proptest::collection::vec((any::<bool>(), 0u8..6, 0i64..60, 0i64..4), 0..300),
    ) {
        let size = 10;
        let mut s = state(size, 256, 4096);
        type Keys = Vec<(u8, Vec<Vec<u8>>, Vec<Vec<u8>>)>;
        let mut model: std::collections::BTreeMap<i64, Keys> = Default::default();
        let (mut wm, mut got, mut want) = (i64::MIN, Vec::new(), Vec::new());
        for (i, (left, key, ts, advance)) in events.into_iter().enumerate() {
            let start = ts - ts.rem_euclid(size);
            let record = format!("{i}").into_bytes();
            let side = if left { JoinSide::Left } else { JoinSide::Right };
            let kept = s.add(side, &[key], start, wm, &record).unwrap();
            prop_assert_eq!(kept, start + size - 1 > wm);
            if kept {
                let keys = model.entry(start).or_default();
                let at = match keys.iter().position(|k| k.0 == key) {
                    Some(at) => at,
                    None => {
                        keys.push((key, Vec::new(), Vec::new()));
                        keys.len() - 1
                    }
                };
                if left { keys[at].1.push(record) } else { keys[at].2.push(record) }
            }
            if advance == 0 {
                wm = wm.max(ts - 5);
                got.extend(fire(&mut s, wm));
                while let Some(entry) = model.first_entry() {
                    if entry.key() + size - 1 > wm {
                        break;
                    }
                    let (start, keys) = entry.remove_entry();
                    want.extend(keys.into_iter().map(|(_, l, r)| (start, l, r)));
                }
            }
        }
        got.extend(fire(&mut s, i64::MAX));
        want.extend(model.into_iter().flat_map(|(start, keys)| keys.into_iter().map(move |(_, l, r)| (start, l, r))));
        prop_assert_eq!(got, want);
        prop_assert!(s.pages.memory().pages_in_use() <= 2);
    }
}

/// The same random records through a state that spills (a budget of a few pages) and one
/// that does not: the groups must be the same, in the same order.
fn spilled_and_not(events: &[(bool, u8, i64, i64)], pages: u64) -> (Groups, Groups, u64) {
    let dir = tempfile::tempdir().unwrap();
    let pool = SegmentPool::new(256 * pages, 256);
    let space = crate::spill::SpillSpace::new(Some(dir.path().to_path_buf()), "t");
    let mem = pool.operator("join", "t.pipe:1:1", pages).with_spill(space);
    let mut small = WindowJoin::new(mem.clone(), 10, FiredKeys::All).unwrap();
    let mut large = state(10, 256, 1 << 14);
    let (mut wm, mut a, mut b) = (i64::MIN, Vec::new(), Vec::new());
    for (i, &(left, key, ts, advance)) in events.iter().enumerate() {
        let start = ts - ts.rem_euclid(10);
        let side = if left {
            JoinSide::Left
        } else {
            JoinSide::Right
        };
        let record = format!("record {i} of key {key}").into_bytes();
        let kept = small.add(side, &[key; 20], start, wm, &record).unwrap();
        assert_eq!(
            kept,
            large.add(side, &[key; 20], start, wm, &record).unwrap()
        );
        if advance == 0 {
            wm = wm.max(ts - 40);
            a.extend(fire(&mut small, wm));
            b.extend(fire(&mut large, wm));
        }
    }
    a.extend(fire(&mut small, i64::MAX));
    b.extend(fire(&mut large, i64::MAX));
    let runs = pool.usage().iter().map(|u| u.spill_runs).sum();
    (a, b, runs)
}

#[test]
fn windows_past_the_budget_spill_and_fire_as_if_they_had_not() {
    // About 60 records per window and 8 windows open at once: more than 64 pages of 256
    // bytes hold, though one window fits.
    let events: Vec<(bool, u8, i64, i64)> = (0..3_000i64)
        .map(|i| (i % 3 != 0, (i * 7 % 30) as u8, i / 6 + (i * 13) % 40, i % 5))
        .collect();
    let (spilled, in_memory, runs) = spilled_and_not(&events, 64);
    assert!(runs > 10, "it spilled: {runs} runs");
    assert_eq!(spilled, in_memory);
}

proptest! {
    #[test]
    fn random_records_spilled_give_the_same_groups(
        events in proptest::collection::vec((any::<bool>(), 0u8..8, 0i64..200, 0i64..4), 0..400),
    ) {
        let (spilled, in_memory, _) = spilled_and_not(&events, 24);
        prop_assert_eq!(spilled, in_memory);
    }
}

#[test]
fn an_inner_join_fires_only_the_keys_with_records_on_both_sides() {
    let pool = SegmentPool::new(1024 * 64, 1024);
    let mem = pool.operator("join", "t.pipe:1:1", 64);
    let mut s = WindowJoin::new(mem, 10, FiredKeys::Paired).unwrap();
    for (side, key, record) in [
        (JoinSide::Left, b"a", b"l1"),
        (JoinSide::Right, b"b", b"r1"),
        (JoinSide::Left, b"c", b"l2"),
        (JoinSide::Right, b"c", b"r2"),
        (JoinSide::Right, b"a", b"r3"),
    ] {
        assert!(s.add(side, key, 0, i64::MIN, record).unwrap());
    }
    assert_eq!(
        fire(&mut s, i64::MAX),
        vec![
            (0, vec![b"l1".to_vec()], vec![b"r3".to_vec()]),
            (0, vec![b"l2".to_vec()], vec![b"r2".to_vec()]),
        ]
    );
}

#[test]
fn a_window_that_cannot_come_back_whole_at_firing_is_a_budget_error_that_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let pool = SegmentPool::new(256 * 12, 256);
    let space = crate::spill::SpillSpace::new(Some(dir.path().to_path_buf()), "t");
    let mem = pool.operator("join", "t.pipe:1:1", 12).with_spill(space);
    let mut s = WindowJoin::new(mem, 10, FiredKeys::All).unwrap();
    // A thousand records of distinct keys: the window goes to disk while it is open, and
    // cannot come back whole, with its index, when it fires.
    for i in 0..1000u32 {
        let kept = s.add(JoinSide::Left, &i.to_le_bytes(), 0, i64::MIN, b"0123456789");
        assert!(kept.unwrap());
    }
    let err = loop {
        match s.next_group(i64::MAX) {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the window fired whole"),
            Err(e) => break e,
        }
    };
    assert!(
        err.to_string()
            .contains("a window join's window is read back whole when it fires"),
        "the error says which state could not fit: {err}"
    );
}

#[test]
fn a_key_too_long_for_the_index_is_refused_when_it_comes() {
    let mut s = state(10, 256, 8);
    let key = vec![1u8; 220];
    let err = s.add(JoinSide::Left, &key, 0, i64::MIN, b"r").unwrap_err();
    assert!(
        matches!(
            err,
            JobError::KeyTooLong {
                key_bytes: 220,
                limit_bytes: 208,
                ..
            }
        ),
        "{err}"
    );
}
