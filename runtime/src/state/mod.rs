//! Operator state that lives in pool pages.

mod accumulator;
mod keyed_table;

pub use accumulator::{acc_get, acc_set, AccWord};
pub use keyed_table::{KeyedTable, KeyedTableDrain};
