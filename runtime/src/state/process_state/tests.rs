use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::memory::SegmentPool;
use crate::spill::SpillSpace;

proptest! {
    /// Values set, changed (to other lengths, past a page) and cleared under a budget of a
    /// few pages, against a `HashMap`: the same answers whether the state is in memory or
    /// on disk.
    #[test]
    fn behaves_as_a_map_while_spilling(
        ops in proptest::collection::vec((0u16..60, 0usize..700, any::<u8>()), 0..600)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let pool = SegmentPool::new(12 * 256, 256);
        let mem = pool
            .operator("op", "t.pipe:1:1", 12)
            .with_spill(SpillSpace::new(Some(dir.path().to_path_buf()), "process"));
        let mut state = ProcessState::new(mem).unwrap();
        let mut model: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
        for (k, len, fill) in ops {
            let key = format!("key{k}").into_bytes();
            let want = model.get(&key).cloned();
            prop_assert_eq!(state.get(&key).unwrap().map(|v| v.to_vec()), want);
            let value: Vec<u8> = if len % 7 == 0 { Vec::new() } else { vec![fill; len] };
            state.put(&key, &value).unwrap();
            if value.is_empty() {
                model.remove(&key);
            } else {
                model.insert(key, value);
            }
        }
        for (key, value) in &model {
            prop_assert_eq!(state.get(key).unwrap(), Some(&value[..]));
        }
    }
}

#[test]
fn a_key_cleared_in_memory_takes_no_memory() {
    let pool = SegmentPool::new(64 * 1024, 1024);
    let mut state = ProcessState::new(pool.operator("op", "t.pipe:1:1", 64)).unwrap();
    let before = state.mem.pages_in_use();
    for i in 0..200u32 {
        state.put(&i.to_le_bytes(), &[1u8; 100]).unwrap();
    }
    assert_eq!(state.keys_in_memory(), 200);
    for i in 0..200u32 {
        state.put(&i.to_le_bytes(), &[]).unwrap();
    }
    assert_eq!(state.keys_in_memory(), 0);
    assert_eq!(state.value_bytes(), 0);
    assert!(state.get(&7u32.to_le_bytes()).unwrap().is_none());
    assert!(state.mem.pages_in_use() >= before);
}
