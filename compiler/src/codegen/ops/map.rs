//! `map { name: expression, ... }`: a new record struct built from the input, borrowing its
//! strings; or, in an inline pipeline, the user's closure.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::codegen::expr::ExprGen;
use crate::codegen::names::field_ident;
use crate::codegen::Gen;
use crate::ir::{RustFn, TExpr};

pub(crate) fn push(
    g: &Gen<'_>,
    n: NodeIndex,
    fields: &[(String, TExpr)],
    input: &Ident,
) -> TokenStream {
    let out = g.var(n);
    let record = record_literal(g, n, fields, input, None);
    let rest = g.emit(n, &out);
    quote! {
        let #out = #record;
        #rest
    }
}

/// `map(closure)`: the closure takes the record and returns the next one.
pub(crate) fn push_rust(g: &Gen<'_>, n: NodeIndex, r: &RustFn, input: &Ident) -> TokenStream {
    let out = g.var(n);
    let value = g.call(r, quote!(#input));
    let rest = g.emit(n, &out);
    quote! {
        let #out = #value;
        #rest
    }
}

/// The struct literal of node `n`'s output record with each field's value computed from
/// `input`, except the field `given`, whose value is the tokens given (`flat_map`'s element).
pub(crate) fn record_literal(
    g: &Gen<'_>,
    n: NodeIndex,
    fields: &[(String, TExpr)],
    input: &Ident,
    given: Option<(usize, TokenStream)>,
) -> TokenStream {
    let exprs = ExprGen {
        record: input,
        locals: false,
        file: &g.plan.file,
    };
    let name = g.records.name(&g.plan.graph[n].schema.fields);
    let inits = fields.iter().enumerate().map(|(i, (f, e))| {
        let f = field_ident(f);
        let v = match &given {
            Some((at, v)) if *at == i => v.clone(),
            _ => exprs.value(e),
        };
        quote!(#f: #v)
    });
    quote!(#name { #(#inits,)* })
}
