//! `map { name: expression, ... }`: a new record struct built from the input, borrowing its
//! strings.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::codegen::expr::ExprGen;
use crate::codegen::names::field_ident;
use crate::codegen::Gen;
use crate::ir::TExpr;

pub(crate) fn push(
    g: &Gen<'_>,
    n: NodeIndex,
    fields: &[(String, TExpr)],
    input: &Ident,
) -> TokenStream {
    let exprs = ExprGen {
        record: input,
        locals: false,
        file: &g.plan.file,
    };
    let out = g.var(n);
    let schema = &g.plan.graph[n].schema.fields;
    let name = g.records.name(schema);
    let inits = fields.iter().map(|(f, e)| {
        let f = field_ident(f);
        let v = exprs.value(e);
        quote!(#f: #v)
    });
    let rest = g.emit(n, &out);
    quote! {
        let #out = #name { #(#inits,)* };
        #rest
    }
}
