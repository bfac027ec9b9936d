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

fn partners(b: &IntervalBuffers, side: JoinSide, key: u8, ts: i64) -> Vec<(i64, Vec<u8>)> {
    let mut out = Partners::default();
    b.probe(side, &[key], ts, b"me", &mut out);
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
    let got = partners(&b, JoinSide::Left, 1, 100);
    assert_eq!(
        got,
        [(95, b"lower edge".to_vec()), (110, b"upper edge".to_vec())]
    );
    // From the right: left records at t with t - 5 <= s <= t + 10, so s - 10 <= t <= s + 5.
    b.add(JoinSide::Left, &[1], 90, b"l90").unwrap();
    b.add(JoinSide::Left, &[1], 89, b"l89").unwrap();
    assert_eq!(
        partners(&b, JoinSide::Right, 1, 100),
        [(90, b"l90".to_vec())]
    );
    assert_eq!(partners(&b, JoinSide::Right, 2, 100), []);
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
            let got = partners(&b, side, key, ts);
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
    let full = b.left.memory().pages_in_use();
    b.expire(i64::MAX - 1);
    assert!(full > 4, "{full}");
    // Each side keeps the page it is carving.
    assert!(b.left.memory().pages_in_use() <= 2);
}
