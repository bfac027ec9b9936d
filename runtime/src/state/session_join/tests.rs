use super::*;
use crate::memory::SegmentPool;

fn state(gap: i64) -> SessionJoin {
    let pool = SegmentPool::new(256 * 1024, 256);
    SessionJoin::new(pool.operator("join", "t.pipe:1:1", 1024), gap).unwrap()
}

type Groups = Vec<(i64, i64, Vec<Vec<u8>>, Vec<Vec<u8>>)>;

fn fire(s: &mut SessionJoin, wm: i64) -> Groups {
    let mut out = Vec::new();
    while let Some(g) = s.next_group(wm).unwrap() {
        out.push((
            g.start,
            g.end,
            g.left().map(<[u8]>::to_vec).collect(),
            g.right().map(<[u8]>::to_vec).collect(),
        ));
    }
    out
}

#[test]
fn records_of_both_sides_make_one_session_and_a_bridge_merges_two_in_arrival_order() {
    let mut s = state(10);
    let add = |s: &mut SessionJoin, side, ts, r: &str| {
        s.add(side, b"k", ts, i64::MIN, r.as_bytes()).unwrap()
    };
    assert!(add(&mut s, JoinSide::Left, 0, "l0"));
    assert!(add(&mut s, JoinSide::Right, 25, "r25"));
    assert!(add(&mut s, JoinSide::Right, 5, "r5"));
    assert!(add(&mut s, JoinSide::Left, 28, "l28"));
    // [0, 15) and [25, 38) are apart until 15 bridges them ([15, 25) touches both).
    assert!(add(&mut s, JoinSide::Left, 15, "l15"));
    assert_eq!(fire(&mut s, 36), Groups::new());
    let got = fire(&mut s, 37);
    let want: Groups = vec![(
        0,
        38,
        vec![b"l0".to_vec(), b"l28".to_vec(), b"l15".to_vec()],
        vec![b"r25".to_vec(), b"r5".to_vec()],
    )];
    assert_eq!(got, want);
    assert!(
        !s.add(JoinSide::Left, b"k", 27, 37, b"late").unwrap(),
        "its window [27, 37) has passed"
    );
    assert_eq!(fire(&mut s, i64::MAX), Groups::new());
}

#[test]
fn fired_sessions_give_their_records_back() {
    let mut s = state(10);
    let mut peak = 0;
    for i in 0..20_000i64 {
        let side = if i % 2 == 0 {
            JoinSide::Left
        } else {
            JoinSide::Right
        };
        let key = (i % 50).to_le_bytes();
        assert!(s.add(side, &key, i * 3, i * 3 - 20, &[7u8; 40]).unwrap());
        let fired = fire(&mut s, i * 3 - 20);
        assert!(fired.iter().all(|g| !g.2.is_empty() || !g.3.is_empty()));
        peak = peak.max(s.lists.records.memory().pages_in_use());
    }
    // 20,000 records of 64 bytes would take 5,000 pages of 256 bytes if none went back.
    assert!(peak < 100, "{peak} pages in use at most");
}

/// The same records through a join that spills (a budget of a few pages) and one that does
/// not: the same sessions, with the same records in the same order.
fn spilled_and_not(events: &[(bool, u8, i64, i64)], pages: u64) -> (Groups, Groups, u64) {
    let dir = tempfile::tempdir().unwrap();
    let pool = SegmentPool::new(256 * pages, 256);
    let space = crate::spill::SpillSpace::new(Some(dir.path().to_path_buf()), "t");
    let mem = pool.operator("join", "t.pipe:1:1", pages).with_spill(space);
    let mut small = SessionJoin::new(mem, 10).unwrap();
    let mut large = state(10);
    let (mut wm, mut a, mut b) = (i64::MIN, Vec::new(), Vec::new());
    for (i, &(left, key, ts, advance)) in events.iter().enumerate() {
        let side = if left {
            JoinSide::Left
        } else {
            JoinSide::Right
        };
        let record = format!("record {i} of key {key}").into_bytes();
        let kept = small.add(side, &[key; 16], ts, wm, &record).unwrap();
        assert_eq!(kept, large.add(side, &[key; 16], ts, wm, &record).unwrap());
        if advance == 0 {
            wm = wm.max(ts - 60);
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
fn sessions_past_the_budget_spill_with_their_records() {
    // 60 keys with sessions open for a long while: more than 48 pages of 256 bytes hold.
    let events: Vec<(bool, u8, i64, i64)> = (0..4_000i64)
        .map(|i| (i % 3 != 0, (i * 7 % 60) as u8, i / 4 + (i * 13) % 50, i % 5))
        .collect();
    let (spilled, in_memory, runs) = spilled_and_not(&events, 48);
    assert!(runs > 3, "it spilled: {runs} runs");
    assert_eq!(spilled, in_memory);
}

proptest::proptest! {
    #[test]
    fn random_records_spilled_give_the_same_sessions(
        events in proptest::collection::vec(
            (proptest::prelude::any::<bool>(), 0u8..8, 0i64..400, 0i64..4),
            0..300,
        ),
    ) {
        let (spilled, in_memory, _) = spilled_and_not(&events, 40);
        proptest::prop_assert_eq!(spilled, in_memory);
    }
}
