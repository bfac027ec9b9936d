//! What every keyed operator shares (aggregates, windows, joins, `distinct`): the type
//! rules of a keyed input, the closures of a key and its aggregates, and the least memory
//! of a keyed table. One module, so keyed operators depend on it rather than on one
//! another.

use petgraph::graph::NodeIndex;
use weir_runtime::memory::{MemoryDemand, DEFAULT_PAGE_SIZE};

use super::checks::{expr_fits, input_of};
use crate::codegen::accumulators::exact_merge;
use crate::ir::{AggFunc, AggregateField, Code, KeySpec, Partitioning, Plan, RustFn, Schema};

/// The names of a time window's bounds in its results.
pub(crate) const BOUNDS: [&str; 2] = ["window_start", "window_end"];

/// Whether a key column named `name` gives way, in a time window's results, to the
/// window's bound of that name: a window of windows (`key_by(window_end) |> window(...)`)
/// has the new window's bounds under the old names (rename a bound first to keep it).
pub(crate) fn replaced_by_bound(name: &str) -> bool {
    BOUNDS.contains(&name)
}

/// The key's columns in the results of a keyed operator: with a time window's `bounds`,
/// those its bounds replace are left out.
pub(crate) fn key_result_columns(
    key: &KeySpec,
    input: &Schema,
    bounds: bool,
) -> Vec<crate::ir::Field> {
    let mut columns = key.result_columns(input);
    if bounds && input.rust.is_none() {
        columns.retain(|f| !replaced_by_bound(&f.name));
    }
    columns
}

/// The type rules every keyed operator shares: the input is hash-partitioned on the key,
/// aggregate arguments read the input, and a record schema has a column per key field,
/// bound and aggregate.
pub(crate) fn check_keyed(
    plan: &Plan,
    n: NodeIndex,
    key: &KeySpec,
    aggregates: &[AggregateField],
    bounds: usize,
) -> Result<(), String> {
    let input = check_keyed_input(plan, n, key)?;
    for a in aggregates {
        if let Some(Code::Expr(e)) = &a.arg {
            expr_fits(e, &input)?;
        }
    }
    let schema = &plan.graph[n].schema;
    let keys = key_result_columns(key, &input, bounds > 0).len();
    if schema.rust.is_none() && schema.fields.len() != keys + bounds + aggregates.len() {
        return Err("its output schema does not match its key and aggregates".into());
    }
    Ok(())
}

/// The input schema of keyed node `n`, checked to arrive hash-partitioned on `key`.
pub(crate) fn check_keyed_input(
    plan: &Plan,
    n: NodeIndex,
    key: &KeySpec,
) -> Result<std::sync::Arc<Schema>, String> {
    let input = input_of(plan, n, 0)?;
    let (_, edge) = plan.inputs(n)[0];
    if edge.partitioning != Partitioning::Hash(key.partition_names(&input)) {
        return Err("its input is not hash-partitioned on its key".into());
    }
    Ok(input)
}

/// The closures of a keyed operator: its key's and its aggregates'.
pub(crate) fn keyed_closures<'a>(
    key: &'a KeySpec,
    aggregates: &'a [AggregateField],
) -> Vec<&'a RustFn> {
    let mut all: Vec<&RustFn> = key.closure().into_iter().collect();
    for a in aggregates {
        for code in [&a.arg, &a.combine].into_iter().flatten() {
            all.extend(code.closure());
        }
    }
    all
}

/// What a keyed table of `key` and accumulator blocks of `acc_bytes` needs at least.
pub(crate) fn keyed_demand(
    plan: &Plan,
    n: NodeIndex,
    key: &KeySpec,
    acc_bytes: usize,
    weight: u32,
    extra_pages: u64,
) -> MemoryDemand {
    let input = plan
        .input_schema(n, 0)
        .unwrap_or_else(|| std::sync::Arc::new(Schema::record(Vec::new())));
    MemoryDemand {
        weight,
        min_pages: keyed_table_min_pages(key, &input, acc_bytes) + extra_pages,
    }
}

/// Whether `aggregates` give the same result whatever order their records come in: those
/// whose partial results merge exactly (counts; integer sums, averages, minima and
/// maxima), but not `first` and `last`. Float sums differ in their last bits, and a float
/// minimum can be `0.0` or `-0.0` (see [`exact_merge`]).
pub(crate) fn same_in_any_order(aggregates: &[AggregateField]) -> bool {
    exact_merge(aggregates).is_ok()
        && aggregates
            .iter()
            .all(|a| !matches!(a.func, AggFunc::First | AggFunc::Last) && !a.is_text())
}

/// Bytes assumed per string in a key, for sizing the minimum.
const ASSUMED_STR_BYTES: usize = 16;
/// The runtime's entry header: hash and key length.
const ENTRY_HEADER: usize = 16;

/// The pages a keyed table of `key` (over records of `input`) and accumulator blocks of
/// `acc_bytes` needs at the least.
pub(crate) fn keyed_table_min_pages(key: &KeySpec, input: &Schema, acc_bytes: usize) -> u64 {
    let entry = ENTRY_HEADER + acc_bytes + key.encoded_bytes(input, ASSUMED_STR_BYTES);
    table_pages(entry, DEFAULT_PAGE_SIZE)
}

/// What a table of entries of `entry_bytes` needs to reach its first index growth.
pub(crate) fn table_pages(entry_bytes: usize, page: usize) -> u64 {
    let slots = page / 8;
    let entries_before_growth = slots * 3 / 4;
    let entries_per_page = (page / entry_bytes).max(1);
    let data_pages = entries_before_growth.div_ceil(entries_per_page);
    (1 + data_pages + 2) as u64
}
