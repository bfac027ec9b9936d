//! `flat_map { name: list, ... }`: a loop over the list's elements, one record per element;
//! in an inline pipeline, a loop over what the user's closure returns.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::codegen::expr::ExprGen;
use crate::codegen::names::ident;
use crate::codegen::Gen;
use crate::ir::{RustFn, TExpr};

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

/// `flat_map(closure)`: the closure returns something iterable; each item is a record.
pub(crate) fn push_rust(g: &Gen<'_>, n: NodeIndex, r: &RustFn, input: &Ident) -> TokenStream {
    let out = g.var(n);
    let items = g.call(r, quote!(#input));
    let rest = g.emit(n, &out);
    quote! {
        for #out in #items {
            #rest
        }
    }
}
