//! Text accumulators against hand-checked values: each aggregate, merges, and a record
//! that does not fit.

use super::*;
use crate::memory::SegmentPool;

const SLOTS: &[TextSlot] = &[
    TextSlot {
        offset: 0,
        kind: TextAggregate::Join { separator: "," },
    },
    TextSlot {
        offset: 40,
        kind: TextAggregate::Min,
    },
];

/// The slots' values as a fired window's copy holds them.
fn values(text: &TextAccumulators, acc: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    text.copy(acc, &mut out);
    (0..SLOTS.len())
        .map(|i| TextAccumulators::read(&out, i).to_string())
        .collect()
}

const SET: &[TextSlot] = &[TextSlot {
    offset: 0,
    kind: TextAggregate::Distinct,
}];

proptest::proptest! {
    /// Sets of values (some long enough to be kept by digest) added to, merged,
    /// written out and taken back in any order count what a `HashSet` counts, and
    /// every page goes back when they are let go.
    #[test]
    fn distinct_sets_count_as_a_hash_set_does(
        ops in proptest::collection::vec((0u8..4, 0usize..3, 0usize..3, 0u16..60), 0..300)
    ) {
        use std::collections::HashSet;
        let pool = SegmentPool::new(256 * 1024, 1024);
        let mut text = TextAccumulators::new(pool.operator("op", "t.pipe:1:1", 256), SET);
        let mut accs = vec![vec![0u8; 24]; 3];
        let mut want: Vec<HashSet<Vec<u8>>> = vec![HashSet::new(); 3];
        for acc in &mut accs {
            TextAccumulators::empty(SET, acc);
        }
        let value = |n: u16| -> Vec<u8> {
            // Past 200 bytes (a 1 KiB page's long value), by digest.
            if n.is_multiple_of(7) { vec![n as u8; 300 + n as usize] } else { n.to_le_bytes().to_vec() }
        };
        for (op, a, b, n) in ops {
            match op {
                0 | 1 => {
                    let v = value(n);
                    text.update(&mut accs[a], &[&v], 0).unwrap();
                    want[a].insert(v);
                }
                2 if a != b => {
                    let from = std::mem::replace(&mut accs[b], vec![0u8; 24]);
                    TextAccumulators::empty(SET, &mut accs[b]);
                    text.merge(&mut accs[a], &from);
                    let moved = std::mem::take(&mut want[b]);
                    want[a].extend(moved);
                }
                _ => {
                    let mut out = Vec::new();
                    text.spill(&accs[a], &mut out).unwrap();
                    text.restore(&mut accs[a], &out).unwrap();
                }
            }
            for (acc, want) in accs.iter().zip(&want) {
                proptest::prop_assert_eq!(
                    TextAccumulators::distinct_count(acc, 0),
                    want.len() as u64
                );
            }
        }
        for acc in &accs {
            text.release(acc);
        }
        proptest::prop_assert_eq!(pool.usage()[0].in_use_bytes, 0);
    }
}

/// A record whose values do not all fit changes no slot: offered again after room is
/// made, a list would otherwise hold it twice.
#[test]
fn a_record_that_does_not_fit_changes_nothing() {
    // Three 256-byte pages; a value of 200 bytes (or a list part of one) takes a page.
    let pool = SegmentPool::new(3 * 256, 256);
    let mut text = TextAccumulators::new(pool.operator("op", "t.pipe:1:1", 3), SLOTS);
    let mut acc = vec![0u8; 64];
    TextAccumulators::empty(SLOTS, &mut acc);
    let b = "b".repeat(200);
    text.update(&mut acc, &[b.as_bytes(), b.as_bytes()], 1)
        .unwrap();
    assert_eq!(values(&text, &acc), [b.clone(), b.clone()]);
    // The list's part (116 bytes) takes the third page; the min's value (200 bytes)
    // finds none: neither slot changes.
    let (short, long) = ("a".repeat(100), "a".repeat(200));
    let err = text
        .update(&mut acc, &[short.as_bytes(), long.as_bytes()], 2)
        .unwrap_err();
    assert!(matches!(err, JobError::MemoryBudget { .. }), "{err}");
    assert_eq!(values(&text, &acc), [b.clone(), b.clone()]);
    // Both fit once the min's value is short too: the list takes it once.
    text.update(&mut acc, &[short.as_bytes(), short.as_bytes()], 3)
        .unwrap();
    assert_eq!(values(&text, &acc), [format!("{b},{short}"), short.clone()]);
}
