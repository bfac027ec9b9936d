//! `flat_map { name: list, ... }`: a loop over the list's elements, one record per element.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::codegen::expr::ExprGen;
use crate::codegen::names::ident;
use crate::codegen::Gen;
use crate::ir::TExpr;

pub(crate) fn push(
    g: &Gen<'_>,
    n: NodeIndex,
    fields: &[(String, TExpr)],
    list_field: usize,
    input: &Ident,
) -> TokenStream {
    let exprs = ExprGen {
        record: input,
        locals: false,
        file: &g.plan.file,
    };
    let out = g.var(n);
    let item = ident(&format!("item{}", n.index()));
    let list = exprs.list(&fields[list_field].1);
    let element = quote!(::std::borrow::Cow::Borrowed(#item));
    let record = super::map::record_literal(g, n, fields, input, Some((list_field, element)));
    let rest = g.emit(n, &out);
    quote! {
        for #item in #list {
            let #out = #record;
            #rest
        }
    }
}
