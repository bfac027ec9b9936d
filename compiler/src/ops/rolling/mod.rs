//! `rolling { ... }`: per key, the aggregates updated by every record and emitted at once,
//! as a changelog (Flink's rolling aggregations on a keyed stream, and Flink SQL's group
//! aggregate over an unbounded stream in its retract form).
//!
//! `.pipe`: `key_by(category) |> rolling { n: count(), mean: avg(price) }`. Each record
//! changes its key's result; the output says how, in a first column `op` as Flink's row
//! kinds do: a key's first result is a `+I` row; a later one is a `-U` row with the result
//! it replaces, then a `+U` row with the new one; a key whose every record was taken back
//! ends with a `-D` row. A record that leaves the result as it was emits nothing. Rows
//! carry the arriving record's event time. The output is an
//! **updating** stream: a `map` that keeps `op`, `filter`, `key_by`, another `rolling` and
//! sinks take it (a CSV sink writes the changelog as it comes); other steps need every
//! row to stand and refuse it. A `rolling` over an updating stream adds its `+I`/`+U` rows
//! and takes its `-U`/`-D` rows back out, so it keeps counts, sums and averages of the
//! current rows (Nexmark q4: the average of each category's current winning prices); a
//! maximum or minimum cannot be taken back and is refused there.
//!
//! State: each key's accumulator block and its count of rows, as the key's value in a
//! process state (pool pages, spilling, snapshot by key group). `stream!`: `rolling(count(),
//! avg(|b: &Bid| b.price))` emits `(op, key, aggregates...)`, `op` a `String`.

mod codegen;

use std::fmt;

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use serde::Serialize;
use weir_runtime::memory::MemoryDemand;

use super::api::{Lower, OpInfo, OperatorCode};
use super::keyed::{check_keyed_input, keyed_closures, keyed_demand};
use crate::codegen::context::Gen;
use crate::diagnostics::Diagnostic;
use crate::ir::OperatorNode;
use crate::ir::{
    accumulator_offsets, describe_aggregates, AggregateField, Field, InputDistribution, KeySpec, Operator, Plan,
    RustFn, StateKind, Type,
};
use crate::lower::{Applied, FrontEnd, Lowering, Stream};

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rolling {
    /// What the input is keyed by.
    pub key: KeySpec,
    /// The aggregates, in output order after `op` and the key columns.
    pub aggregates: Vec<AggregateField>,
    /// Whether the input is updating: its `-U` and `-D` rows are taken back.
    pub retracts: bool,
}

/// The name of the changelog column.
pub const OP: &str = "op";
/// Weight of a rolling aggregate in the division of memory: an accumulator per key.
const WEIGHT: u32 = 1;

impl Lower for Rolling {
    const INFO: OpInfo = OpInfo {
        state: StateKind::Keyed,
        takes_updates: true,
        ..OpInfo::new(
            "rolling",
            Some("rolling { name: count() | sum(e) | min(e) | max(e) | avg(e) | first(e) | last(e) | reduce(e, combine), ... }"),
            &["rolling(count(), sum(|r| value), ...)"],
        )
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let Some(key) = l.require_key(&input, &Self::INFO, step) else {
            return Applied::Broken;
        };
        let schema = l.schema_of(&input);
        let Some(aggregates) = l.fe.aggregates(&Self::INFO, step, &schema) else {
            return Applied::Broken;
        };
        let span = F::step_span(step);
        if aggregates.is_empty() {
            return l.report(
                Diagnostic::error("`rolling` needs at least one aggregate", span, "nothing to compute")
                    .with_help(format!("write `{}`", F::form(&Self::INFO))),
            );
        }
        if let Some((a, at)) = aggregates.iter().find(|(a, _)| a.is_text()) {
            return l.report(
                Diagnostic::error(
                    format!("`{}` is not built for `rolling` yet", a.func.name()),
                    at.clone(),
                    "a text aggregate",
                )
                .with_help("rolling aggregates keep numbers: count, sum, min, max, avg, first, last, reduce"),
            );
        }
        let retracts = input.updates.is_some();
        if let Some(made) = &input.updates {
            let plain: Vec<AggregateField> = aggregates.iter().map(|(a, _)| a.clone()).collect();
            if let Some(bad) = crate::codegen::accumulators::first_unretractable(&plain) {
                let at = aggregates.iter().find(|(a, _)| a == bad).map(|(_, at)| at.clone()).unwrap_or(span);
                return l.report(
                    Diagnostic::error(
                        format!("`{}` cannot take a row back, and the input is updating", bad.func.name()),
                        at,
                        "not retractable",
                    )
                    .with_related(made.clone(), "each row of this step replaces its key's earlier row")
                    .with_help("over an updating stream, `rolling` keeps count, sum and avg"),
                );
            }
            if schema.rust.is_none() && schema.index_of(OP).is_none() {
                return l.report(Diagnostic::error(
                    "the updating input has lost its `op` column",
                    span,
                    "no `op`",
                ));
            }
        }
        let mut columns = vec![Field {
            name: OP.into(),
            ty: Type::Str,
        }];
        columns.extend(super::keyed::key_result_columns(&key, &schema, false));
        let mut ok = true;
        for (a, at) in &aggregates {
            if columns.iter().any(|c| c.name == a.name) {
                l.report(Diagnostic::error(
                    format!("field `{}` is already in the output", a.name),
                    at.clone(),
                    "`op`, a key field or an earlier aggregate has this name",
                ));
                ok = false;
            }
            columns.push(Field {
                name: a.name.clone(),
                ty: a.ty.clone(),
            });
        }
        if !ok {
            return Applied::Broken;
        }
        let out = l.fe.result_schema(columns);
        let aggregates = aggregates.into_iter().map(|(a, _)| a).collect();
        let op = Operator::new(Rolling {
            key,
            aggregates,
            retracts,
        });
        let node = l.add_node(op, out, &span);
        l.connect(&input, node, 0);
        Applied::Stream(Stream {
            updates: Some(span),
            ..Stream::new(node, input.timed)
        })
    }
}

impl Rolling {
    /// The accumulator block's size; the key's count of rows follows it.
    fn block(&self) -> usize {
        accumulator_offsets(&self.aggregates).1
    }
}

impl OperatorNode for Rolling {
    fn input_distribution(&self, _port: usize) -> InputDistribution<'_> {
        InputDistribution::ByKeyGroup(&self.key)
    }

    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rolling {{ {} }}", describe_aggregates(&self.aggregates))
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        let input = check_keyed_input(plan, n, &self.key)?;
        let out = &plan.graph[n].schema;
        let keys = self.key.result_columns(&input).len();
        if out.rust.is_none() && out.fields.len() != 1 + keys + self.aggregates.len() {
            return Err("its output schema is not `op`, its key and its aggregates".into());
        }
        Ok(())
    }

    fn memory(&self, plan: &Plan, n: NodeIndex) -> Option<MemoryDemand> {
        Some(keyed_demand(plan, n, &self.key, self.block() + 8, WEIGHT, 0))
    }

    /// Past the budget every key's block goes to disk (the process state's spilling).
    fn spill(&self, _plan: &Plan, _n: NodeIndex) -> Result<(), &'static str> {
        Ok(())
    }

    fn closures(&self) -> Vec<&RustFn> {
        keyed_closures(&self.key, &self.aggregates)
    }
}

impl OperatorCode for Rolling {
    fn fields(&self, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
        codegen::fields(self, g, n)
    }

    fn push(&self, g: &Gen<'_>, n: NodeIndex, _port: usize, input: &Ident) -> TokenStream {
        codegen::push(self, g, n, input)
    }
}
