//! `distinct`: the first record of each key; later records of a seen key are dropped.
//!
//! `.pipe`: `key_by(user) |> distinct()`; `stream!`: `key_by(|c: &Click| c.user) |>
//! distinct()`. Records keep their schema and their event time, so a window may follow.
//!
//! State: the seen keys (`SeenKeys`), in a segment-backed keyed table under the operator's
//! budget (no accumulators: a key's presence is the whole state); past the budget they go
//! to disk in runs sorted by hash, where unseen-in-memory keys are looked up.

use std::fmt;

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use serde::Serialize;
use weir_runtime::memory::MemoryDemand;

use super::keyed::{check_keyed_input, keyed_demand};
use super::api::{Lower, OpInfo, OperatorCode};
use crate::ir::OperatorNode;
use crate::codegen::keys::{encode_key, key_builder_field};
use crate::codegen::names::node_field;
use crate::codegen::context::Gen;
use crate::ir::{InputDistribution, KeySpec, Operator, Plan, RustFn, StateKind};
use crate::lower::{Applied, FrontEnd, Lowering, Stream};
use crate::ops::checks::same;

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distinct {
    /// What the input is keyed by.
    pub key: KeySpec,
}

/// Weight of a seen-keys table in the division of memory: as an aggregate's.
const WEIGHT: u32 = 1;

impl Lower for Distinct {
    const INFO: OpInfo = OpInfo {
        state: StateKind::Keyed,
        passes_records: true,
        ..OpInfo::new(
            "distinct",
            Some("distinct()"),
            &["distinct()"],
        )
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let key = l.require_key(&input, &Self::INFO, step);
        let args = l.fe.no_args(&Self::INFO, step);
        let (Some(key), Some(())) = (key, args) else {
            return Applied::Broken;
        };
        let schema = l.schema_of(&input);
        let node = l.add_node(
            Operator::new(Distinct { key }),
            schema,
            &F::step_span(step),
        );
        l.connect(&input, node, 0);
        Applied::Stream(Stream::new(node, input.timed))
    }
}

impl OperatorNode for Distinct {
    fn input_distribution(&self, _port: usize) -> InputDistribution<'_> {
        InputDistribution::ByKeyGroup(&self.key)
    }

    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("distinct()")
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        let input = check_keyed_input(plan, n, &self.key)?;
        same(plan, &plan.graph[n].schema, &input)
    }

    fn memory(&self, plan: &Plan, n: NodeIndex) -> Option<MemoryDemand> {
        Some(keyed_demand(plan, n, &self.key, 0, WEIGHT, 0))
    }

    fn spill(&self, _plan: &Plan, _n: NodeIndex) -> Result<(), &'static str> {
        Ok(())
    }

    fn closures(&self) -> Vec<&RustFn> {
        self.key.closure().into_iter().collect()
    }
}

impl OperatorCode for Distinct {
    fn fields(&self, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
        let s = node_field(n, "state");
        let memory = g.operator_memory(n);
        let mut fields = vec![(
            quote!(#s: weir_runtime::state::SeenKeys),
            quote!(#s: weir_runtime::state::SeenKeys::new(#memory)?),
        )];
        fields.extend(key_builder_field(g, n, &self.key));
        fields
    }

    fn push(&self, g: &Gen<'_>, n: NodeIndex, _port: usize, input: &Ident) -> TokenStream {
        let encode = encode_key(g, n, &self.key, input);
        let s = node_field(n, "state");
        let rest = g.emit(n, 0, input);
        quote! {
            let first = {
                #encode
                self.#s.first_sight(key)?
            };
            if first {
                #rest
            }
        }
    }
}
