use super::*;
use crate::memory::SegmentPool;
use crate::spill::SpillSpace;
use crate::state::{acc_get, acc_set};
use proptest::prelude::*;

/// Groups of `n` records per key, with a sum: what fired (key, count, sum) in order, then
/// what was left at the end, as the operator does it.
fn run(groups: &mut CountGroups, records: &[(String, i64)], n: u64) -> Vec<(String, u64, i64)> {
    let mut out = Vec::new();
    for (key, value) in records {
        let addr = groups
            .group(key.as_bytes(), |b| {
                acc_set(b, 0, 0u64);
                acc_set(b, 8, 0i64);
            })
            .unwrap();
        let b = groups.block_mut(addr);
        let count = acc_get::<u64>(b, 0) + 1;
        acc_set(b, 0, count);
        acc_set(b, 8, acc_get::<i64>(b, 8) + value);
        if count == n {
            out.push((key.clone(), count, acc_get::<i64>(b, 8)));
            acc_set(b, 0, 0u64);
            acc_set(b, 8, 0i64);
        }
    }
    let mut rest = groups.finish().unwrap();
    while let Some((key, b)) = rest.next().unwrap() {
        if acc_get::<u64>(b, 0) > 0 {
            let key = String::from_utf8(key.to_vec()).unwrap();
            out.push((key, acc_get::<u64>(b, 0), acc_get::<i64>(b, 8)));
        }
    }
    out
}

/// The reference: per key a running group; fired groups in record order, then the groups
/// left, in first-seen key order.
fn reference(records: &[(String, i64)], n: u64) -> Vec<(String, u64, i64)> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: std::collections::HashMap<String, (u64, i64)> = Default::default();
    let mut out = Vec::new();
    for (key, value) in records {
        let g = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            (0, 0)
        });
        g.0 += 1;
        g.1 += value;
        if g.0 == n {
            out.push((key.clone(), g.0, g.1));
            *g = (0, 0);
        }
    }
    for key in order {
        let g = groups[&key];
        if g.0 > 0 {
            out.push((key, g.0, g.1));
        }
    }
    out
}

fn groups(pages: u64, dir: Option<&std::path::Path>) -> (std::sync::Arc<SegmentPool>, CountGroups) {
    let pool = SegmentPool::new(pages * 256, 256);
    let mut mem = pool.operator("window", "t.pipe:3:6", pages);
    if let Some(dir) = dir {
        mem = mem.with_spill(SpillSpace::new(Some(dir.to_path_buf()), "t"));
    }
    let g = CountGroups::new(mem, 16).unwrap();
    (pool.clone(), g)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Under 8 pages of 256 bytes keys go to disk and come back many times; what fires and
    /// what is left at the end are the reference's, in its order.
    #[test]
    fn spilled_groups_match_a_reference(
        records in proptest::collection::vec(("[a-z]{1,2}[0-9]{0,3}", -50i64..50), 0..2500),
        n in 1u64..6,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (_, mut g) = groups(8, Some(dir.path()));
        prop_assert_eq!(run(&mut g, &records, n), reference(&records, n));
    }
}

#[test]
fn many_keys_spill_and_the_leftover_groups_come_out_in_first_seen_order() {
    let dir = tempfile::tempdir().unwrap();
    let (pool, mut g) = groups(8, Some(dir.path()));
    let records: Vec<(String, i64)> = (0..30_000i64)
        .map(|i| (format!("key{}", (i * 7919) % 4001), i % 13))
        .collect();
    assert_eq!(run(&mut g, &records, 4), reference(&records, 4));
    let usage = &pool.usage()[0];
    assert!(usage.spill_runs > 20, "{usage:?}");
}

#[test]
fn in_memory_the_same_results() {
    let (_, mut g) = groups(4096, None);
    let records: Vec<(String, i64)> = (0..5000i64)
        .map(|i| (format!("k{}", (i * 31) % 300), i))
        .collect();
    assert_eq!(run(&mut g, &records, 7), reference(&records, 7));
}
