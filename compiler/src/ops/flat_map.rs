//! `flat_map`: any number of records per record.
//!
//! `.pipe`: `flat_map { word: split_whitespace(line) }`, where one field's value is a list
//! and each element makes a record; `stream!`: `flat_map(|line: String| ...)`, where the
//! closure returns something iterable. Generated code is a loop around the rest of the
//! chain.

use std::fmt;

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use serde::Serialize;

use super::map::{check_fields, describe_fields, record_schema};
use super::api::{Lower, OpInfo, OperatorCode};
use crate::ir::OperatorNode;
use crate::codegen::expr::ExprGen;
use crate::codegen::context::Gen;
use crate::diagnostics::Diagnostic;
use crate::ir::{Operator, Plan, RustFn, TExpr, Type};
use crate::lower::{Applied, FrontEnd, Lowering, RecordArg, RecordRole, Stream};
use crate::ops::checks::{closure_takes, input_of};

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum FlatMap {
    /// Output fields; the one at `list_field` is a list whose elements become that
    /// field's values.
    Fields {
        /// The fields in order.
        fields: Vec<(String, TExpr)>,
        /// The index of the exploded field.
        list_field: usize,
    },
    /// The user's closure, returning something iterable.
    Rust(RustFn),
}

impl Lower for FlatMap {
    const INFO: OpInfo = OpInfo {
        ..OpInfo::new(
            "flat_map",
            Some("flat_map { name: list_expression, ... }"),
            &["flat_map(|r| iterable)"],
        )
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let schema = l.schema_of(&input);
        let arg = l.fe.record(&Self::INFO, step, &schema, RecordRole::FlatMap);
        let span = F::step_span(step);
        let (op, out) = match arg {
            None => return Applied::Broken,
            Some(RecordArg::Closure(r)) => {
                let out = l.fe.closure_schema(&r, RecordRole::FlatMap);
                (FlatMap::Rust(r), out)
            }
            Some(RecordArg::Fields(fields)) => {
                let lists: Vec<usize> = fields
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, e, _))| matches!(e.ty, Type::List(_)))
                    .map(|(i, _)| i)
                    .collect();
                let [list_field] = lists.as_slice() else {
                    let d = match lists.as_slice() {
                        [] => Diagnostic::error(
                            "`flat_map` needs one field whose value is a list",
                            span,
                            "no list here",
                        )
                        .with_help("for example: flat_map { word: split_whitespace(line) }"),
                        [first, second, ..] => Diagnostic::error(
                            "`flat_map` can explode only one list per record",
                            fields[*second].2.clone(),
                            "a second list",
                        )
                        .with_related(fields[*first].2.clone(), "the first list"),
                        [_] => unreachable!("matched above"),
                    };
                    return l.report(d);
                };
                let list_field = *list_field;
                let fields: Vec<(String, TExpr)> =
                    fields.into_iter().map(|(n, e, _)| (n, e)).collect();
                let out = std::sync::Arc::new(record_schema(&fields));
                (FlatMap::Fields { fields, list_field }, out)
            }
        };
        l.one_input(&input, Operator::new(op), out, &span)
    }
}

impl OperatorNode for FlatMap {
    fn order_sensitive(&self) -> bool {
        false
    }

    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlatMap::Fields { fields, .. } => {
                write!(f, "flat_map {{ {} }}", describe_fields(fields))
            }
            FlatMap::Rust(r) => write!(f, "flat_map({r})"),
        }
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        let input = input_of(plan, n, 0)?;
        match self {
            FlatMap::Fields { fields, list_field } => {
                if !matches!(fields.get(*list_field), Some((_, e)) if matches!(e.ty, Type::List(_)))
                {
                    return Err("its exploded field is not a list".into());
                }
                check_fields(fields, &input, &plan.graph[n].schema)
            }
            FlatMap::Rust(r) => closure_takes(r, &input, false),
        }
    }

    fn closures(&self) -> Vec<&RustFn> {
        match self {
            FlatMap::Fields { .. } => Vec::new(),
            FlatMap::Rust(r) => vec![r],
        }
    }
}

impl OperatorCode for FlatMap {
    fn push(&self, g: &Gen<'_>, n: NodeIndex, _port: usize, input: &Ident) -> TokenStream {
        let out = g.var(n);
        let rest = g.emit(n, 0, &out);
        match self {
            FlatMap::Fields { fields, list_field } => {
                let exprs = ExprGen {
                    record: input,
                    locals: false,
                    file: &g.plan.file,
                    scratch: false,
                };
                let item = crate::codegen::names::local(n, "item");
                let list = exprs.list(&fields[*list_field].1);
                let element = quote!(::std::borrow::Cow::Borrowed(#item));
                let record = g.record_literal(n, fields, input, Some((*list_field, element)));
                quote! {
                    for #item in #list {
                        let #out = #record;
                        #rest
                    }
                }
            }
            FlatMap::Rust(r) => {
                let items = g.call(r, quote!(#input));
                quote! {
                    for #out in #items {
                        #rest
                    }
                }
            }
        }
    }
}
