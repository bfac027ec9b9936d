//! The memory pass: states what each stateful operator asks of the job's memory.
//!
//! Each stateful operator gets a weight by kind and a minimum derived from its schema. The
//! division of a concrete `--memory` among them is `weir_runtime::memory::divide_memory`,
//! shared by `weir explain` and the running job so both show the same budgets.
//!
//! Windows weigh twice an aggregation and need two more pages (window nodes and timers).
//!
//! The minimum for a keyed aggregation is what its table needs to reach its first index
//! growth: one index page, the data pages holding the entries that fill it to its load
//! limit, and the two pages of the grown index (old and new index live together for a
//! moment while entries are re-placed).

use weir_runtime::memory::{MemoryDemand, DEFAULT_PAGE_SIZE};

use super::Pass;
use crate::diagnostics::Diagnostics;
use crate::ir::{accumulator_offsets, KeyLayout, KeySpec, Operator, Plan, Type};

/// See the module documentation.
pub struct MemoryPass;

/// Weight of a keyed aggregation. Windows and joins, which hold more per key, will weigh
/// more.
const AGGREGATE_WEIGHT: u32 = 1;
/// Weight of a window operator: it holds a block per key and open window, so it gets twice
/// an aggregate's share.
const WINDOW_WEIGHT: u32 = 2;
/// A time window's pages besides its key table: the first page of window nodes and the
/// first page of timers.
const WINDOW_EXTRA_PAGES: u64 = 2;
/// Bytes assumed per string in a key, for sizing the minimum.
const ASSUMED_STR_BYTES: usize = 16;
/// The runtime's entry header: hash and key length.
const ENTRY_HEADER: usize = 16;

impl Pass for MemoryPass {
    fn name(&self) -> &'static str {
        "memory budget"
    }

    fn run(&self, plan: &mut Plan) -> Diagnostics {
        for n in plan.stateful_nodes() {
            let input = plan.inputs(n)[0].0;
            let input_schema = plan.graph[input].schema.clone();
            let node = &mut plan.graph[n];
            let (key, aggregates, weight, extra) = match &node.op {
                Operator::Aggregate { key, aggregates } => (key, aggregates, AGGREGATE_WEIGHT, 0),
                Operator::WindowAggregate {
                    key,
                    aggregates,
                    window,
                    ..
                } => {
                    let extra = if window.has_bounds() {
                        WINDOW_EXTRA_PAGES
                    } else {
                        0
                    };
                    (key, aggregates, WINDOW_WEIGHT, extra)
                }
                _ => continue,
            };
            let key_bytes = match key {
                KeySpec::Fields(key) => {
                    let layout = KeyLayout::new(&input_schema, key);
                    let strings = layout.fields.iter().filter(|f| f.2 == Type::Str).count();
                    layout.fixed_len + strings * ASSUMED_STR_BYTES
                }
                // Only rustc knows a Rust key's width; assume a word and a string.
                KeySpec::Rust(_) => 8 + ASSUMED_STR_BYTES,
            };
            let (_, acc) = accumulator_offsets(aggregates);
            let entry = ENTRY_HEADER + acc + key_bytes;
            node.memory = Some(MemoryDemand {
                weight,
                min_pages: keyed_table_min_pages(entry, DEFAULT_PAGE_SIZE) + extra,
            });
        }
        Diagnostics::new()
    }
}

fn keyed_table_min_pages(entry_bytes: usize, page: usize) -> u64 {
    let slots = page / 8;
    let entries_before_growth = slots * 3 / 4;
    let entries_per_page = (page / entry_bytes).max(1);
    let data_pages = entries_before_growth.div_ceil(entries_per_page);
    (1 + data_pages + 2) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_grows_with_the_entry() {
        let small = keyed_table_min_pages(40, 32 * 1024);
        let large = keyed_table_min_pages(400, 32 * 1024);
        assert!(small >= 4 && large > small, "{small} {large}");
    }
}
