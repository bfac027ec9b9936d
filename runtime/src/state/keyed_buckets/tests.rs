use std::ops::RangeInclusive;

use super::*;
use crate::memory::SegmentPool;
use proptest::prelude::*;

fn state(size: i64, page: usize, pages: u64, key_width: Option<usize>) -> KeyedBuckets {
    let pool = SegmentPool::new(page as u64 * pages, page);
    KeyedBuckets::new(pool.operator("join", "t.pipe:1:1", pages), size, key_width).unwrap()
}

fn visited(
    s: &KeyedBuckets,
    side: JoinSide,
    key: &[u8],
    starts: RangeInclusive<i64>,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    s.visit(side, key, starts, |r| out.push(r.to_vec()));
    out
}

#[test]
fn a_key_is_read_by_side_across_buckets_in_arrival_order() {
    let mut s = state(10, 1024, 64, None);
    assert!(s.add(JoinSide::Left, b"a", 0, i64::MIN, b"l1").unwrap());
    assert!(s.add(JoinSide::Right, b"b", 0, i64::MIN, b"r1").unwrap());
    assert!(s.add(JoinSide::Right, b"a", 0, i64::MIN, b"r2").unwrap());
    assert!(s.add(JoinSide::Left, b"a", 10, i64::MIN, b"l3").unwrap());
    assert!(s.add(JoinSide::Left, b"a", 0, i64::MIN, b"l4").unwrap());
    assert_eq!(
        visited(&s, JoinSide::Left, b"a", 0..=10),
        vec![b"l1".to_vec(), b"l4".to_vec(), b"l3".to_vec()]
    );
    assert_eq!(
        visited(&s, JoinSide::Left, b"a", 10..=10),
        vec![b"l3".to_vec()]
    );
    assert_eq!(
        visited(&s, JoinSide::Right, b"a", 0..=10),
        vec![b"r2".to_vec()]
    );
    assert!(visited(&s, JoinSide::Left, b"b", 0..=10).is_empty());
    assert!(
        !s.add(JoinSide::Left, b"a", 0, 9, b"late").unwrap(),
        "a bucket whose last millisecond the watermark passed takes nothing"
    );
    assert_eq!(s.drop_through(9), 2, "bucket 0 held keys a and b");
    assert!(visited(&s, JoinSide::Right, b"a", 0..=10).is_empty());
    assert_eq!(s.drop_through(i64::MAX), 1);
    assert!(s.is_empty());
    assert!(
        s.pages.memory().pages_in_use() <= 1,
        "the buckets' pages went back"
    );
}

#[test]
fn a_record_longer_than_a_page_is_refused_by_name() {
    let mut s = state(10, 256, 8, None);
    let long = vec![7u8; 300];
    let err = s.add(JoinSide::Left, b"k", 0, i64::MIN, &long).unwrap_err();
    assert!(
        err.to_string()
            .contains("a record of 300 bytes is longer than the 240 bytes"),
        "{err}"
    );
}

#[test]
fn running_out_of_budget_is_a_budget_error() {
    let mut s = state(10, 256, 2, None);
    let err = (0..1000u32)
        .map(|i| s.add(JoinSide::Left, &i.to_le_bytes(), 0, i64::MIN, b"0123456789"))
        .find_map(Result::err)
        .expect("two pages cannot hold a thousand records");
    assert!(matches!(err, JobError::MemoryBudget { .. }), "{err}");
}

proptest! {
    /// Random records in random buckets, against a model: every key's records of each
    /// side per bucket, in arrival order, read back by `visit`, by
    /// `each_record_in_memory` (keys in the order they opened their bucket) and by
    /// `drain_window`.
    #[test]
    fn matches_a_model_of_buckets_keys_and_lists(
        events in proptest::collection::vec((any::<bool>(), 0u8..6, 0i64..60), 0..300),
        wide in any::<bool>(),
    ) {
        let size = 10;
        let width = if wide { Some(8) } else { None };
        let mut s = state(size, 256, 4096, width);
        type Keys = Vec<([u8; 8], Vec<Vec<u8>>, Vec<Vec<u8>>)>;
        let mut model: std::collections::BTreeMap<i64, Keys> = Default::default();
        for (i, (left, key, ts)) in events.into_iter().enumerate() {
            let start = ts - ts.rem_euclid(size);
            let key = [key; 8];
            let record = format!("{i}").into_bytes();
            let side = if left { JoinSide::Left } else { JoinSide::Right };
            prop_assert!(s.add(side, &key, start, i64::MIN, &record).unwrap());
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
        for (&start, keys) in &model {
            for (key, lefts, rights) in keys {
                prop_assert_eq!(&visited(&s, JoinSide::Left, key, start..=start), lefts);
                prop_assert_eq!(&visited(&s, JoinSide::Right, key, start..=start), rights);
            }
        }
        let mut got = Vec::new();
        s.each_record_in_memory(|start, side, key, record| {
            got.push((start, side, key.to_vec(), record.to_vec()));
            Ok(())
        }).unwrap();
        let want: Vec<_> = model.iter().flat_map(|(&start, keys)| {
            keys.iter().flat_map(move |(key, lefts, rights)| {
                lefts.iter().map(move |r| (start, 0u8, key.to_vec(), r.clone()))
                    .chain(rights.iter().map(move |r| (start, 1u8, key.to_vec(), r.clone())))
            })
        }).collect();
        prop_assert_eq!(got, want);
        for (&start, keys) in &model {
            let mut drained = Vec::new();
            s.drain_window(start, JoinSide::Left, |hash, key, records| {
                assert_eq!(hash, crate::state::key_hash(key));
                drained.push((key.to_vec(), records.map(<[u8]>::to_vec).collect::<Vec<_>>()));
                Ok(())
            }).unwrap();
            let mut want: Vec<_> = keys.iter().map(|(k, l, _)| (k.to_vec(), l.clone())).collect();
            want.sort_by_key(|(k, _)| (crate::state::key_hash(k), k.clone()));
            prop_assert_eq!(drained, want);
        }
        prop_assert!(s.is_empty());
        prop_assert!(s.pages.memory().pages_in_use() <= 1);
    }
}
