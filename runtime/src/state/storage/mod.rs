//! The storage primitives operator state is built from, every byte in pool pages: the one
//! key hash, an append-only keyed table and a hash map with removal, fixed-size slots, values of any length,
//! chunks of up to a page, record chunks appended front to back, the timer heap, and
//! per-window tables.

mod accumulator;
mod blob_store;
pub(crate) mod chunk_pages;
mod key_hash;
pub(crate) mod keyed_table;
mod paged_arena;
mod paged_map;
pub(crate) mod record_chunks;
mod slot_index;
pub(crate) mod timer_heap;
pub(crate) mod window_table;

pub use accumulator::{acc_get, acc_set, AccWord, AggNumber};
pub use blob_store::BlobStore;
pub use key_hash::{key_hash, str_key_hash};
pub use keyed_table::{KeyedTable, KeyedTableDrain};
pub use paged_arena::PagedArena;
pub use paged_map::PagedMap;
pub use timer_heap::{Timer, TimerHeap};
