//! Operator state that lives in pool pages.
//!
//! `storage/` holds the primitives state is built from (the key hash, hash tables, slot
//! arenas, chunks, the timer heap, window tables); each other file or folder here is one
//! operator's state, built from them and from the disk tier (`crate::spill`), and
//! implementing the keyed-state contract (`contract/`).

pub mod contract;
mod count_groups;
mod fired_window;
mod fixed_windows;
mod interval_buffers;
mod join_records;
mod keyed_buckets;
mod keyed_timers;
mod process_state;
mod seen_keys;
mod session_join;
mod session_windows;
mod spilling_table;
mod storage;
mod text_accumulators;
mod top_rows;
mod window_join;

pub use count_groups::CountGroups;
pub use fired_window::{FiredWindow, WindowOutcome, WindowSlot};
pub use fixed_windows::FixedWindows;
pub use interval_buffers::{IntervalBuffers, Partners, Unmatched};
pub use join_records::{JoinGroup, JoinSide, KeptRecords};
pub use keyed_buckets::KeyedBuckets;
pub use keyed_timers::{KeyedTimers, TimeDomain};
pub use process_state::{ProcessState, StateValue};
pub use seen_keys::SeenKeys;
pub use session_join::{SessionGroup, SessionJoin};
pub use session_windows::{NoExtra, SessionExtra, SessionWindows, TextOutcome, TextSessionWindows};
pub use spilling_table::{AggregateOutput, SpillingTable};
pub use storage::{
    acc_get, acc_set, key_hash, str_key_hash, AccWord, AggNumber, BlobStore, KeyedTable,
    KeyedTableDrain, PagedArena, PagedMap, Timer, TimerHeap,
};
pub use text_accumulators::{
    distinct_f64, DistinctValue, TextAccumulators, TextAggregate, TextSlot, TEXT_LIST_WORDS,
};
pub use top_rows::{OrderKey, OrderValue, RankedRows, TopRows};
pub use window_join::{FiredKeys, WindowJoin};
