use super::*;
use crate::memory::SegmentPool;
use crate::spill::{SpillSpace, SpillSupport};
use crate::state::{acc_get, acc_set};
use proptest::prelude::*;

/// (key, count, sum, first value) per key, in first-seen order.
type Rows = Vec<(String, u64, i64, i64)>;

/// A table of `pages` pages of `page_size` bytes, spilling under `dir` (when given).
fn table(pages: u64, page_size: usize, dir: Option<&std::path::Path>) -> SpillingTable {
    let pool = SegmentPool::new(pages * page_size as u64, page_size);
    let mut mem = pool.operator("aggregate", "t.pipe:4:6", pages);
    if let Some(dir) = dir {
        mem = mem.with_spill(SpillSpace::new(Some(dir.to_path_buf()), "t"));
    }
    SpillingTable::new(mem, 24, SpillSupport::Merge(merge)).unwrap()
}

/// Accumulators: count, sum and the first value (a `first` in arrival order).
fn add(t: &mut SpillingTable, key: &str, value: i64) -> Result<(), JobError> {
    let acc = t.upsert(key.as_bytes(), |a| {
        acc_set(a, 0, 0u64);
        acc_set(a, 8, 0i64);
        acc_set(a, 16, value);
    })?;
    acc_set(acc, 0, acc_get::<u64>(acc, 0) + 1);
    acc_set(acc, 8, acc_get::<i64>(acc, 8) + value);
    Ok(())
}

fn merge(into: &mut [u8], from: &[u8]) {
    acc_set(into, 0, acc_get::<u64>(into, 0) + acc_get::<u64>(from, 0));
    acc_set(into, 8, acc_get::<i64>(into, 8) + acc_get::<i64>(from, 8));
    // `first` keeps the earlier part's value: nothing to do.
}

fn results(t: &mut SpillingTable) -> Rows {
    let mut out = t.finish().unwrap();
    let mut rows = Vec::new();
    while let Some((key, acc)) = out.next().unwrap() {
        rows.push((
            String::from_utf8(key.to_vec()).unwrap(),
            acc_get::<u64>(acc, 0),
            acc_get::<i64>(acc, 8),
            acc_get::<i64>(acc, 16),
        ));
    }
    rows
}

fn reference(records: &[(String, i64)]) -> Rows {
    let mut rows: Rows = Vec::new();
    let mut at = std::collections::HashMap::new();
    for (key, value) in records {
        let i = *at.entry(key.clone()).or_insert_with(|| {
            rows.push((key.clone(), 0, 0, *value));
            rows.len() - 1
        });
        rows[i].1 += 1;
        rows[i].2 += value;
    }
    rows
}

fn records() -> impl Strategy<Value = Vec<(String, i64)>> {
    // Keys of 1 to 12 bytes from a set large enough to overflow every partition.
    proptest::collection::vec(("[a-z]{1,3}[0-9]{0,9}", -1000i64..1000), 0..3000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Under a budget of a few 256-byte pages the table spills many times and partitions
    /// are split again; the result is the reference's, in first-seen order.
    #[test]
    fn spilled_results_match_a_reference(records in records()) {
        let dir = tempfile::tempdir().unwrap();
        let mut t = table(8, 256, Some(dir.path()));
        for (key, value) in &records {
            add(&mut t, key, *value).unwrap();
        }
        let got = results(&mut t);
        prop_assert_eq!(got, reference(&records));
        drop(t);
        let left = std::fs::read_dir(dir.path()).unwrap().flat_map(|d| {
            std::fs::read_dir(d.unwrap().path()).unwrap()
        }).count();
        prop_assert_eq!(left, 0, "every run is removed once read");
    }
}

#[test]
fn small_budgets_spill_and_split_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let pool = SegmentPool::new(8 * 256, 256);
    let mem = pool
        .operator("aggregate", "t.pipe:4:6", 8)
        .with_spill(SpillSpace::new(Some(dir.path().to_path_buf()), "t"));
    let mut t = SpillingTable::new(mem, 24, SpillSupport::Merge(merge)).unwrap();
    let records: Vec<(String, i64)> = (0..20_000i64)
        .map(|i| (format!("k{}", (i * 7919) % 3001), i % 17))
        .collect();
    for (key, value) in &records {
        add(&mut t, key, *value).unwrap();
    }
    assert_eq!(results(&mut t), reference(&records));
    let usage = &pool.usage()[0];
    assert!(usage.spill_runs > 50, "spilled {} times", usage.spill_runs);
    assert!(usage.spilled_bytes > usage.read_back_bytes / 4);
    // 3001 keys over 16 partitions cannot each fit in 8 pages: they were split again, and
    // what was written was read back.
    assert!(usage.read_back_bytes > usage.spilled_bytes / 2);
}

#[test]
fn the_same_records_in_memory_give_the_same_results() {
    let records: Vec<(String, i64)> = (0..5000i64)
        .map(|i| (format!("w{}", (i * 31) % 700), i))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut small = table(8, 256, Some(dir.path()));
    let mut large = table(4096, 256, None);
    for (key, value) in &records {
        add(&mut small, key, *value).unwrap();
        add(&mut large, key, *value).unwrap();
    }
    assert_eq!(results(&mut small), results(&mut large));
}

#[test]
fn without_a_spill_space_or_with_a_reason_the_budget_error_stands() {
    let mut t = table(8, 256, None);
    let err = (0..10_000)
        .find_map(|i| add(&mut t, &format!("key{i}"), 1).err())
        .expect("the budget runs out");
    assert!(
        matches!(
            err,
            JobError::MemoryBudget {
                cannot_spill: None,
                ..
            }
        ),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let pool = SegmentPool::new(8 * 256, 256);
    let mem = pool
        .operator("aggregate", "t.pipe:4:6", 8)
        .with_spill(SpillSpace::new(Some(dir.path().to_path_buf()), "t"));
    let why = "a sum of f64 values depends on the order it is added in";
    let mut t = SpillingTable::new(mem, 24, SpillSupport::Cannot(why)).unwrap();
    let err = (0..10_000)
        .find_map(|i| add(&mut t, &format!("key{i}"), 1).err())
        .expect("the budget runs out");
    assert!(err.to_string().contains(why), "{err}");
}

/// Each snapshot of a spilled table finishes a run per partition; past `MOST_RUNS` the
/// fullest partition's newest runs are joined, one partition a snapshot, so a job
/// checkpointing for hours keeps a bounded number of runs (open files), and the results
/// are those of a table never snapshotted.
#[test]
fn many_snapshots_keep_few_runs_and_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = table(4, 4096, Some(dir.path()));
    let mut records = Vec::new();
    for round in 0..40i64 {
        for i in 0..300i64 {
            let key = format!("k{}", (i * 7 + round * 13) % 997);
            add(&mut t, &key, round * 1000 + i).unwrap();
            records.push((key, round * 1000 + i));
        }
        let mut out = crate::state::contract::SnapshotWriter::new(128);
        crate::state::contract::KeyedState::snapshot(&mut t, &mut out).unwrap();
        let most = super::snapshot::MOST_RUNS + t.finished.len();
        assert!(
            t.finished.iter().all(|runs| runs.len() <= most),
            "round {round}: {:?}",
            t.finished.iter().map(Vec::len).collect::<Vec<_>>()
        );
    }
    assert_eq!(results(&mut t), reference(&records));
}
