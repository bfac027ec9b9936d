//! `union(...)`: records pass straight through; the merge keeps the combined watermark of
//! its inputs.

use petgraph::graph::NodeIndex;
use petgraph::Direction;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::codegen::names::ident;
use crate::codegen::Gen;
use crate::ir::Operator;

/// The job field holding union `n`'s combined watermark.
pub(crate) fn field(n: NodeIndex) -> Ident {
    ident(&format!("union_{}", n.index()))
}

/// The idleness timeout of the source behind input `port` of `n`, if a single source with
/// one is found by walking back through single-input operators.
fn idle_behind(g: &Gen<'_>, mut n: NodeIndex) -> Option<i64> {
    loop {
        if let Operator::Source(s) = &g.plan.graph[n].op {
            return s.event_time.as_ref().and_then(|e| e.idle);
        }
        let mut inputs = g.plan.graph.neighbors_directed(n, Direction::Incoming);
        match (inputs.next(), inputs.next()) {
            (Some(up), None) => n = up,
            _ => return None,
        }
    }
}

/// The job's field for union `n` and its initializer.
pub(crate) fn state_field(g: &Gen<'_>, n: NodeIndex) -> (TokenStream, TokenStream) {
    let idle = g
        .plan
        .inputs(n)
        .into_iter()
        .map(|(up, _)| match idle_behind(g, up) {
            Some(ms) => quote!(::core::option::Option::Some(#ms)),
            None => quote!(::core::option::Option::None),
        });
    let f = field(n);
    (
        quote!(#f: weir_runtime::time::CombinedWatermark),
        quote!(#f: weir_runtime::time::CombinedWatermark::new(&[#(#idle),*], ctx.clock().now())),
    )
}
