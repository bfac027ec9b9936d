//! `map`: one new record per record.
//!
//! `.pipe`: `map { total: price * qty, bidder }` builds a record struct from expressions,
//! borrowing the input's strings; `stream!`: `map(|b: Bid| b.price)` calls the closure.

use std::fmt;
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use serde::Serialize;

use super::api::{Lower, OpInfo, OperatorCode};
use crate::ir::OperatorNode;
use crate::codegen::context::Gen;
use crate::diagnostics::Diagnostic;
use crate::ir::{Edge, Field, Node, Operator, Plan, RustFn, Schema, TExpr};
use crate::lower::{Applied, FrontEnd, Lowering, RecordArg, RecordRole, Stream};
use crate::ops::checks::{closure_takes, expr_fits, input_of};

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Map {
    /// Output fields in order, each computed from the input record.
    Fields(Vec<(String, TExpr)>),
    /// The user's closure from the input record to the next.
    Rust(RustFn),
}

impl Lower for Map {
    const INFO: OpInfo = OpInfo {
        takes_updates: true,
        ..OpInfo::new(
            "map",
            Some("map { name: expression, ... }"),
            &["map(|r| new_record)"],
        )
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let schema = l.schema_of(&input);
        let arg = l.fe.record(&Self::INFO, step, &schema, RecordRole::Map);
        let (map, out) = match arg {
            None => return Applied::Broken,
            Some(RecordArg::Fields(fields)) => {
                let fields: Vec<(String, TExpr)> =
                    fields.into_iter().map(|(n, e, _)| (n, e)).collect();
                let out = Arc::new(record_schema(&fields));
                (Map::Fields(fields), out)
            }
            Some(RecordArg::Closure(r)) => {
                let out = l.fe.closure_schema(&r, RecordRole::Map);
                (Map::Rust(r), out)
            }
        };
        let updates = match (&input.updates, &map) {
            (None, _) => None,
            (Some(made), Map::Fields(fields)) => {
                let op = crate::ops::rolling::OP;
                let kept = fields
                    .iter()
                    .any(|(n, e)| n == op && matches!(&e.kind, crate::ir::TExprKind::Field(_, f) if f == op));
                if !kept {
                    return l.report(
                        Diagnostic::error(
                            format!("a `map` of an updating stream must keep its `{op}` column as it is"),
                            F::step_span(step),
                            format!("`{op}` is not kept"),
                        )
                        .with_related(made.clone(), "this step's rows add (`+I`, `+U`) or take back (`-U`, `-D`)")
                        .with_help(format!("list `{op}` in the map: it says what each row does")),
                    );
                }
                Some(made.clone())
            }
            (Some(made), Map::Rust(_)) => {
                return l.report(
                    Diagnostic::error(
                        "a `map` closure over an updating stream is not built yet",
                        F::step_span(step),
                        "here",
                    )
                    .with_related(made.clone(), "this step's rows add or take back"),
                )
            }
        };
        match l.one_input(&input, Operator::new(map), out, &F::step_span(step)) {
            Applied::Stream(s) => Applied::Stream(Stream { updates, ..s }),
            other => other,
        }
    }
}

/// The schema of records built from `fields`; a list-valued field (`flat_map`'s) holds one
/// element.
pub(crate) fn record_schema(fields: &[(String, TExpr)]) -> Schema {
    Schema::record(
        fields
            .iter()
            .map(|(n, e)| Field {
                name: n.clone(),
                ty: e.ty.element().clone(),
            })
            .collect(),
    )
}

/// Checks that `fields` over `input` make the records of `output`.
pub(crate) fn check_fields(
    fields: &[(String, TExpr)],
    input: &Schema,
    output: &Schema,
) -> Result<(), String> {
    if record_schema(fields).fields != output.fields {
        return Err("its output schema does not match its fields".into());
    }
    fields.iter().try_for_each(|(_, e)| expr_fits(e, input))
}

impl OperatorNode for Map {
    fn order_sensitive(&self) -> bool {
        false
    }

    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Map::Fields(fields) => write!(f, "map {{ {} }}", describe_fields(fields)),
            Map::Rust(r) => write!(f, "map({r})"),
        }
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        let input = input_of(plan, n, 0)?;
        match self {
            Map::Fields(fields) => check_fields(fields, &input, &plan.graph[n].schema),
            Map::Rust(r) => closure_takes(r, &input, false),
        }
    }

    fn output_schema(
        &self,
        graph: &DiGraph<Node, Edge>,
        n: NodeIndex,
        _port: usize,
    ) -> Arc<Schema> {
        graph[n].schema.clone()
    }

    fn closures(&self) -> Vec<&RustFn> {
        match self {
            Map::Fields(_) => Vec::new(),
            Map::Rust(r) => vec![r],
        }
    }
}

impl OperatorCode for Map {
    fn push(&self, g: &Gen<'_>, n: NodeIndex, _port: usize, input: &Ident) -> TokenStream {
        let out = g.var(n);
        let value = match self {
            Map::Fields(fields) => g.record_literal(n, fields, input, None),
            Map::Rust(r) => g.call(r, quote!(#input)),
        };
        let rest = g.emit(n, 0, &out);
        quote! {
            let #out = #value;
            #rest
        }
    }
}

/// `name: expression, ...`.
pub(crate) fn describe_fields(fields: &[(String, TExpr)]) -> String {
    fields
        .iter()
        .map(|(n, e)| format!("{n}: {e}"))
        .collect::<Vec<_>>()
        .join(", ")
}
