//! `filter(condition)`: an `if` around the rest of the chain.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::codegen::expr::ExprGen;
use crate::codegen::Gen;
use crate::ir::TExpr;

pub(crate) fn push(g: &Gen<'_>, n: NodeIndex, predicate: &TExpr, input: &Ident) -> TokenStream {
    let cond = ExprGen {
        record: input,
        locals: false,
        file: &g.plan.file,
    }
    .value(predicate);
    let rest = g.emit(n, input);
    quote! {
        if #cond {
            #rest
        }
    }
}
