//! Operator state that lives in pool pages.

mod accumulator;
mod chunk_pages;
pub mod contract;
mod count_groups;
mod fired_window;
mod fixed_windows;
mod interval_buffers;
mod join_windows;
mod key_hash;
mod keyed_table;
mod keyed_timers;
mod paged_arena;
mod paged_map;
mod seen_keys;
mod session_join;
mod session_windows;
mod spilling_table;
mod timer_heap;
mod window_table;

pub use accumulator::{acc_get, acc_set, AccWord, AggNumber};
pub use count_groups::CountGroups;
pub use fired_window::{FiredWindow, WindowOutcome, WindowSlot};
pub use fixed_windows::FixedWindows;
pub use interval_buffers::{IntervalBuffers, Partners};
pub use join_windows::{JoinGroup, JoinSide, JoinWindows, KeptRecords};
pub use key_hash::key_hash;
pub use keyed_table::{KeyedTable, KeyedTableDrain};
pub use keyed_timers::{KeyedTimers, TimeDomain};
pub use paged_arena::PagedArena;
pub use paged_map::PagedMap;
pub use seen_keys::SeenKeys;
pub use session_join::{SessionGroup, SessionJoin};
pub use session_windows::{NoExtra, SessionExtra, SessionWindows};
pub use spilling_table::{AggregateOutput, SpillingTable};
pub use timer_heap::{Timer, TimerHeap};
