//! `union`: merges streams of one record type.
//!
//! `.pipe` and `stream!`: `a |> union(b, c)`. Records pass straight through; the merge
//! keeps the combined watermark of its inputs (the slowest, skipping idle ones), so a
//! window after it fires only when every input has passed the window's end.

use std::fmt;

use petgraph::graph::NodeIndex;
use petgraph::Direction;
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use serde::Serialize;

use super::api::{Lower, OpInfo, OperatorCode};
use crate::ir::OperatorNode;
use crate::codegen::names::node_field;
use crate::codegen::context::Gen;
use crate::diagnostics::Diagnostic;
use crate::ir::{Operator, Plan};
use crate::lower::{Applied, FrontEnd, Lowering, Stream};
use crate::ops::checks::same;

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Union;

impl Lower for Union {
    const INFO: OpInfo = OpInfo {
        inputs: (2, usize::MAX),
        passes_records: true,
        ..OpInfo::new(
            "union",
            Some("union(stream, ...)"),
            &["union(stream, ...)"],
        )
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let Some(names) = l.fe.stream_names(&Self::INFO, step) else {
            return Applied::Broken;
        };
        let span = F::step_span(step);
        if names.is_empty() {
            return l.report(
                Diagnostic::error(
                    "`union` needs at least one other stream",
                    span,
                    "nothing to merge",
                )
                .with_help(format!("write `{}`", F::form(&Self::INFO))),
            );
        }
        let schema = l.schema_of(&input);
        let mut others = Vec::new();
        let mut ok = true;
        for (name, at) in names {
            let Some(other) = l.use_stream(&name, &at) else {
                ok = false;
                continue;
            };
            if !l.insert_only(&other, "union", (&name, &at)) {
                ok = false;
                continue;
            }
            let other_schema = l.schema_of(&other);
            if !l.fe.unify(&schema, &other_schema, &at) {
                l.report(
                    Diagnostic::error(
                        format!(
                            "`union` needs streams of one record type, but {} carries {} and `{name}` carries {}",
                            input.describe(),
                            schema.describe(),
                            other_schema.describe()
                        ),
                        at,
                        format!("this is {}", other_schema.describe()),
                    )
                    .with_related(span.clone(), format!("{} is {}", input.describe(), schema.describe())),
                );
                ok = false;
                continue;
            }
            if other.timed != input.timed {
                l.report(
                    Diagnostic::error(
                        format!("`union` needs all or none of its streams to carry event time, and `{name}` differs from {}", input.describe()),
                        at,
                        "event time differs",
                    )
                    .with_help(format!(
                        "declare `{}` on every source of the union, or on none",
                        F::event_time_form()
                    )),
                );
                ok = false;
                continue;
            }
            others.push(other);
        }
        if !ok {
            return Applied::Broken;
        }
        let node = l.add_node(Operator::new(Union), schema, &span);
        l.connect(&input, node, 0);
        for (i, other) in others.iter().enumerate() {
            l.connect(other, node, i + 1);
        }
        Applied::Stream(Stream::new(node, input.timed))
    }
}

/// The idleness timeout of the source behind `n`, if a single source with one is found by
/// walking back through single-input operators.
pub(crate) fn idle_behind(plan: &Plan, mut n: NodeIndex) -> Option<i64> {
    loop {
        if let Some(s) = plan.graph[n].op.payload::<crate::ir::SourceOp>() {
            return s.event_time.as_ref().and_then(|e| e.idle);
        }
        let mut inputs = plan.graph.neighbors_directed(n, Direction::Incoming);
        match (inputs.next(), inputs.next()) {
            (Some(up), None) => n = up,
            _ => return None,
        }
    }
}

impl OperatorNode for Union {
    fn order_sensitive(&self) -> bool {
        false
    }

    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("union")
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        let node = &plan.graph[n];
        for (up, e) in plan.inputs(n) {
            same(plan, &node.schema, &plan.output_schema(up, e.from_port))?;
        }
        Ok(())
    }
}

impl OperatorCode for Union {
    fn fields(&self, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
        let idle = g
            .plan
            .inputs(n)
            .into_iter()
            .map(|(up, _)| match idle_behind(g.plan, up) {
                Some(ms) => quote!(::core::option::Option::Some(#ms)),
                None => quote!(::core::option::Option::None),
            });
        let f = node_field(n, "watermarks");
        vec![(
            quote!(#f: weir_runtime::time::CombinedWatermark),
            quote!(#f: weir_runtime::time::CombinedWatermark::new(&[#(#idle),*], ctx.clock().now())),
        )]
    }

    fn push(&self, g: &Gen<'_>, n: NodeIndex, _port: usize, input: &Ident) -> TokenStream {
        g.emit(n, 0, input)
    }

    fn on_watermark(&self, _g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        let f = node_field(n, "watermarks");
        quote! {
            let now = self.clock.now();
            let ::core::option::Option::Some(wm) = self.#f.update(port, wm, now) else {
                return ::core::result::Result::Ok(());
            };
        }
    }
}
