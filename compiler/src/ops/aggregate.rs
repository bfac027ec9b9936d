//! `aggregate`: per key, counts, sums, extremes, averages, first and last values and
//! reductions; on a bounded input one result per key at the end.
//!
//! `.pipe`: `key_by(word) |> aggregate { n: count(), top: max(price) }`; `stream!`:
//! `key_by(|w| w.clone()) |> aggregate(count(), max(|b: &Bid| b.price))`. After a
//! `window(...)`, the same step completes the window instead (`ops/window`).
//!
//! State: a segment-backed keyed table of accumulators; the key is encoded in the
//! runtime's binary layout into a reused builder, so a lookup allocates nothing.

use std::fmt;

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use serde::Serialize;
use weir_runtime::memory::MemoryDemand;

use super::keyed::{check_keyed, keyed_closures, keyed_demand, same_in_any_order};
use super::api::{CombinerCode, Lower, OpInfo, OperatorCode};
use crate::ir::OperatorNode;
use crate::codegen::accumulators::{
    accumulators, exact_merge, keyed_text_landing, spill_support, text_slots, KeyedTextState,
};
use crate::codegen::keys::{encode_key, key_builder_field, key_outputs};
use crate::codegen::names::{node_field, node_method};
use crate::codegen::context::Gen;
use crate::diagnostics::Diagnostic;
use crate::ir::{
    accumulator_offsets, describe_aggregates, AggFunc, AggregateField, Field, InputDistribution, KeySpec, Operator,
    PartialResults, Plan, RustFn, Schema, StateKind, Type,
};
use crate::lower::{Applied, FrontEnd, Lowering, Stream};

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Aggregate {
    /// What the input is keyed by.
    pub key: KeySpec,
    /// The aggregates, in output order after the key columns.
    pub aggregates: Vec<AggregateField>,
}

/// Weight of a keyed aggregation in the division of memory.
const WEIGHT: u32 = 1;

impl Lower for Aggregate {
    const INFO: OpInfo = OpInfo {
        state: StateKind::Keyed,
        completes_window: true,
        ..OpInfo::new(
            "aggregate",
            Some("aggregate { name: count() | sum(e) | min(e) | max(e) | avg(e) | first(e) | last(e) | reduce(e, combine), ... }"),
            &["aggregate(count(), sum(|r| value), ...)"],
        )
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        mut input: Stream<F::Span>,
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
                Diagnostic::error(
                    "`aggregate` needs at least one aggregate",
                    span,
                    "nothing to compute",
                )
                .with_help(format!("write `{}`", F::form(&Self::INFO))),
            );
        }
        let window = input.window.take();
        let bounds = window.as_ref().is_some_and(|w| w.kind.has_bounds());
        let Some(columns) = result_columns(l, &key, &schema, bounds, &aggregates) else {
            return Applied::Broken;
        };
        let out = l.fe.result_schema(columns);
        let aggregates = aggregates.into_iter().map(|(a, _)| a).collect();
        match window {
            Some(w) => super::window::complete(l, input, w, key, aggregates, out),
            None => {
                let op = Operator::new(Aggregate { key, aggregates });
                let node = l.add_node(op, out, &span);
                l.connect(&input, node, 0);
                // Results come at the end of input, when time has no meaning.
                Applied::Stream(Stream::new(node, false))
            }
        }
    }
}

/// The columns of a keyed result: the key's, the window's bounds when `bounds` (which
/// replace key fields of their names), then one per aggregate; a name given twice is
/// reported.
fn result_columns<F: FrontEnd>(
    l: &mut Lowering<F>,
    key: &KeySpec,
    input: &Schema,
    bounds: bool,
    aggregates: &[(AggregateField, F::Span)],
) -> Option<Vec<Field>> {
    // A key field named as a bound (a window of windows) gives way to the new bound.
    let mut columns = super::keyed::key_result_columns(key, input, bounds);
    if bounds {
        for bound in super::keyed::BOUNDS {
            columns.push(Field {
                name: bound.into(),
                ty: Type::Timestamp,
            });
        }
    }
    let mut ok = true;
    for (a, at) in aggregates {
        if columns.iter().any(|c| c.name == a.name) {
            l.report(Diagnostic::error(
                format!("field `{}` is already in the output", a.name),
                at.clone(),
                "a key field or an earlier aggregate has this name",
            ));
            ok = false;
            continue;
        }
        columns.push(Field {
            name: a.name.clone(),
            ty: a.ty.clone(),
        });
    }
    ok.then_some(columns)
}

impl OperatorNode for Aggregate {
    fn input_distribution(&self, _port: usize) -> InputDistribution<'_> {
        InputDistribution::ByKeyGroup(&self.key)
    }

    /// Counts, integer sums, minima and maxima are the same in any order; `first`, `last`,
    /// `reduce` and float sums (rounding) are not, nor `avg` (a float).
    fn order_sensitive(&self) -> bool {
        !same_in_any_order(&self.aggregates)
    }

    /// Counts, and integer sums, minima and maxima (exact and the same in any order) fold on
    /// the reading worker.
    fn partial_results(&self, _plan: &Plan, _n: NodeIndex) -> Option<PartialResults> {
        let numbers = self.aggregates.iter().all(|a| match a.func {
            AggFunc::Count => true,
            AggFunc::Sum | AggFunc::Min | AggFunc::Max => matches!(a.ty, Type::I64 | Type::U64),
            _ => false,
        });
        (numbers && exact_merge(&self.aggregates).is_ok()).then_some(PartialResults::PerKey)
    }

    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "aggregate {{ {} }}",
            describe_aggregates(&self.aggregates)
        )
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        check_keyed(plan, n, &self.key, &self.aggregates, 0)
    }

    fn memory(&self, plan: &Plan, n: NodeIndex) -> Option<MemoryDemand> {
        let (_, acc) = accumulator_offsets(&self.aggregates);
        Some(keyed_demand(plan, n, &self.key, acc, WEIGHT, 0))
    }

    fn spill(&self, _plan: &Plan, _n: NodeIndex) -> Result<(), &'static str> {
        exact_merge(&self.aggregates)
    }

    fn closures(&self) -> Vec<&RustFn> {
        keyed_closures(&self.key, &self.aggregates)
    }
}

impl OperatorCode for Aggregate {
    /// A partial result merges into the state as spilled parts do.
    fn combiner(&self, g: &Gen<'_>, n: NodeIndex, input: &Ident) -> Option<CombinerCode> {
        let (_, acc_size) = accumulator_offsets(&self.aggregates);
        let code = accumulators(g, &self.aggregates, input, 0);
        let s = node_field(n, "state");
        let merge = &code.merge;
        Some(CombinerCode {
            acc_size,
            args: code.args,
            init: code.init,
            update: code.update,
            merge: quote! {
                let mut fresh = false;
                let into = self.#s.upsert(key, |acc| {
                    acc.copy_from_slice(partial);
                    fresh = true;
                })?;
                if !fresh {
                    let from = partial;
                    #merge
                }
            },
            windows: None,
        })
    }

    fn fields(&self, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
        let (_, acc_size) = accumulator_offsets(&self.aggregates);
        let s = node_field(n, "state");
        let memory = g.operator_memory(n);
        let spill = spill_support(g, &self.aggregates);
        let mut init = quote!(weir_runtime::state::SpillingTable::new(#memory, #acc_size, #spill)?);
        if self.aggregates.iter().any(AggregateField::is_text) {
            let slots = text_slots(&self.aggregates, 0);
            init = quote!(#init.with_text(#slots));
        }
        let mut fields = vec![(quote!(#s: weir_runtime::state::SpillingTable), quote!(#s: #init))];
        fields.extend(key_builder_field(g, n, &self.key));
        fields
    }

    fn push(&self, g: &Gen<'_>, n: NodeIndex, _port: usize, input: &Ident) -> TokenStream {
        let code = accumulators(g, &self.aggregates, input, 0);
        let (args, init, update) = (&code.args, &code.init, &code.update);
        let encode = encode_key(g, n, &self.key, input);
        let s = node_field(n, "state");
        if code.text.is_empty() {
            return quote! {
                #args
                #encode
                let acc = self.#s.upsert(key, |acc| { #init })?;
                #update
            };
        }
        let keyed = KeyedTextState {
            state: &s,
            find: "upsert_entry",
            acc: "acc_at_mut",
        };
        let slots = text_slots(&self.aggregates, 0);
        let land = keyed_text_landing(keyed, init, &slots, &code.text, update);
        quote! {
            #args
            #encode
            #land
        }
    }

    fn methods(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        let out = g.var(n);
        let mut values = key_outputs(g, n, &self.key);
        let unused = crate::codegen::names::ident("unused");
        values.extend(accumulators(g, &self.aggregates, &unused, 0).outputs);
        let record = g.result_record(n, values);
        let rest = g.emit(n, 0, &out);
        let method = node_method(n, "finish");
        let s = node_field(n, "state");
        let doc = format!(
            "End of input for the aggregate at {}: one record per key, in first-seen order.",
            g.plan.graph[n].location
        );
        quote! {
            #[doc = #doc]
            fn #method(&mut self) -> ::core::result::Result<(), weir_runtime::JobError> {
                let mut drained = self.#s.finish()?;
                while let ::core::option::Option::Some((key, acc)) = drained.next()? {
                    let k = weir_runtime::layout::RecordView::new(key);
                    let ts = i64::MIN;
                    let #out = #record;
                    #rest
                }
                ::core::result::Result::Ok(())
            }
        }
    }

    fn finish(&self, _g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        let method = node_method(n, "finish");
        quote!(self.#method()?;)
    }
}
