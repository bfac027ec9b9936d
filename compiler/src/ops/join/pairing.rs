//! What the window join and the interval join share before code generation: finding and
//! checking the other stream (keyed, with event time, keys of the same types), naming the
//! two sides, and the type-check of a join node's two inputs.

use std::sync::Arc;

use petgraph::graph::NodeIndex;

use super::keys_match;
use crate::diagnostics::Diagnostic;
use crate::ir::{KeySpec, Partitioning, Plan, Schema};
use crate::lower::{FrontEnd, Lowering, Stream};
use crate::ops::checks::input_of;

/// The two sides of a join, checked.
pub(crate) struct Sides<S> {
    /// The other stream (input port 1).
    pub right: Stream<S>,
    /// Its key.
    pub right_key: KeySpec,
    /// What the output calls each side: the joined stream's name (`left` when a step has
    /// made new records), then the other's.
    pub names: [String; 2],
    /// Each side's records.
    pub schemas: [Arc<Schema>; 2],
}

/// The stream named `right_name` (written at `right_at`) as the other side of `step`'s
/// join of `input` (keyed by `left_key`): keyed, its key of the same types, and with
/// event time when `pairs` says how the join pairs records by it, for messages ("a window
/// join"); `None` when something is wrong (reported).
pub(crate) fn other_side<F: FrontEnd>(
    l: &mut Lowering<F>,
    (step, pairs): (&str, Option<&str>),
    input: &Stream<F::Span>,
    left_key: &KeySpec,
    (right_name, right_at): (String, F::Span),
) -> Option<Sides<F::Span>> {
    let right = l.use_stream(&right_name, &right_at)?;
    if !l.insert_only(&right, step, (&right_name, &right_at)) {
        return None;
    }
    let Some(right_key) = right.key.clone() else {
        l.report(
            Diagnostic::error(
                format!("`{step}` needs the other stream keyed, and `{right_name}` is not"),
                right_at,
                "not keyed",
            )
            .with_help(format!("key it where it is named: `let {right_name} = ... |> key_by(field);`")),
        );
        return None;
    };
    if let (false, Some(pairs)) = (right.timed, pairs) {
        l.report(
            Diagnostic::error(
                format!("`{right_name}` has no event time, and {pairs} pairs records by event time"),
                right_at,
                "no event time",
            )
            .with_help(format!("add `{}` to its source", F::event_time_form())),
        );
        return None;
    }
    let schemas = [l.schema_of(input), l.schema_of(&right)];
    let left_name = input.records_of.clone().unwrap_or_else(|| "left".into());
    let names = [left_name, right_name];
    let agree = match l.fe.join_keys(left_key, &right_key, &right_at) {
        Some(agree) => agree,
        None => keys_match(l, &names, (left_key, &schemas[0]), (&right_key, &schemas[1]), &right_at),
    };
    agree.then_some(Sides {
        right,
        right_key,
        names,
        schemas,
    })
}

/// The type-check of join node `n`: each input arrives hash-partitioned on its side's
/// key; gives both inputs' schemas.
pub(crate) fn check_inputs(
    plan: &Plan,
    n: NodeIndex,
    keys: [&KeySpec; 2],
) -> Result<[Arc<Schema>; 2], String> {
    for (port, key) in keys.into_iter().enumerate() {
        let input = input_of(plan, n, port)?;
        let (_, edge) = plan
            .inputs(n)
            .into_iter()
            .find(|(_, e)| e.port == port)
            .ok_or("an input is not connected")?;
        if edge.partitioning != Partitioning::Hash(key.partition_names(&input)) {
            return Err(format!("its input {port} is not hash-partitioned on its key"));
        }
    }
    Ok([input_of(plan, n, 0)?, input_of(plan, n, 1)?])
}
