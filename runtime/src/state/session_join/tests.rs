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
        peak = peak.max(s.records.memory().pages_in_use());
    }
    // 20,000 records of 64 bytes would take 5,000 pages of 256 bytes if none went back.
    assert!(peak < 100, "{peak} pages in use at most");
}
