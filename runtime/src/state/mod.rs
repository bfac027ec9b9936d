//! Operator state that lives in pool pages.

mod accumulator;
mod keyed_table;
mod paged_arena;
mod timer_heap;
mod window_state;

pub use accumulator::{acc_get, acc_set, AccWord, AggNumber};
pub use keyed_table::{KeyedTable, KeyedTableDrain};
pub use paged_arena::PagedArena;
pub use timer_heap::{Timer, TimerHeap};
pub use window_state::{FiredWindow, WindowOutcome, WindowState};
