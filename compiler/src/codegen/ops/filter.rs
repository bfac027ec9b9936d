//! `filter(condition)`: an `if` around the rest of the chain. The condition is a `.pipe`
//! expression or the user's closure.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::codegen::Gen;
use crate::ir::Code;

pub(crate) fn push(g: &Gen<'_>, n: NodeIndex, predicate: &Code, input: &Ident) -> TokenStream {
    let cond = g.code_value(predicate, input);
    let rest = g.emit(n, input);
    quote! {
        if #cond {
            #rest
        }
    }
}
