//! Chains: one method per chain, with the operators of the chain inlined one into the next.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::names::{ident, record_var};
use super::{ops, Gen};
use crate::ir::{Chain, Operator, Schema};

impl Gen<'_> {
    /// The method name of chain `id`.
    pub(super) fn chain_method(id: usize) -> Ident {
        ident(&format!("chain_{id}"))
    }

    /// The schema of the records a chain's method takes: what its head source emits, or what
    /// its head operator receives.
    pub(super) fn chain_input(&self, chain: &Chain) -> &Schema {
        let head = chain.nodes[0];
        match self.plan.graph[head].op {
            Operator::Source(_) | Operator::LateRecords => &self.plan.graph[head].schema,
            _ => {
                let (up, _) = self.plan.inputs(head)[0];
                &self.plan.graph[up].schema
            }
        }
    }

    pub(super) fn chain_fn(&self, chain: &Chain) -> TokenStream {
        let name = Self::chain_method(chain.id);
        let head = chain.nodes[0];
        let ty = self.record_type(self.chain_input(chain));
        let input = ident("input");
        let body = match self.plan.graph[head].op {
            Operator::Source(_) | Operator::LateRecords => self.emit(head, &input),
            _ => self.push(head, &input),
        };
        let ops: Vec<String> = chain
            .nodes
            .iter()
            .map(|&n| self.plan.graph[n].op.kind().to_string())
            .collect();
        let doc = format!("Chain {}: {}.", chain.id, ops.join(" -> "));
        quote! {
            #[doc = #doc]
            #[inline]
            fn #name(&mut self, #input: #ty, ts: i64) -> ::core::result::Result<(), weir_runtime::JobError> {
                #body
                ::core::result::Result::Ok(())
            }
        }
    }

    /// Code for node `n` receiving the record in variable `input`.
    pub(super) fn push(&self, n: NodeIndex, input: &Ident) -> TokenStream {
        match &self.plan.graph[n].op {
            Operator::Source(_) => unreachable!("sources have no input"),
            Operator::Filter { predicate } => ops::filter::push(self, n, predicate, input),
            Operator::Map { fields } => ops::map::push(self, n, fields, input),
            Operator::FlatMap { fields, list_field } => {
                ops::flat_map::push(self, n, fields, *list_field, input)
            }
            Operator::RustMap(r) => ops::map::push_rust(self, n, r, input),
            Operator::RustFlatMap(r) => ops::flat_map::push_rust(self, n, r, input),
            Operator::Aggregate { key, aggregates } => {
                ops::aggregate::push(self, n, key, aggregates, input)
            }
            Operator::WindowAggregate { .. } => ops::window::push(self, n, input),
            Operator::Union | Operator::LateRecords => self.emit(n, input),
            Operator::Sink(s) => ops::sink::push(self, n, s, input),
        }
    }

    /// Code for node `n` having produced the record in variable `record`: inline the next
    /// operator of the chain, or call the methods of the chains it feeds.
    pub(super) fn emit(&self, n: NodeIndex, record: &Ident) -> TokenStream {
        let outputs = self.plan.outputs(n);
        let chain = self.plan.graph[n].chain;
        let last = outputs.len().saturating_sub(1);
        let steps = outputs.iter().enumerate().map(|(i, (t, _))| {
            if self.plan.graph[*t].chain == chain {
                return self.push(*t, record);
            }
            let method = Self::chain_method(self.plan.graph[*t].chain.expect("chained"));
            if i == last {
                quote!(self.#method(#record, ts)?;)
            } else {
                quote!(self.#method(#record.clone(), ts)?;)
            }
        });
        quote!(#(#steps)*)
    }

    /// The method carrying watermarks into chain `id`.
    pub(super) fn watermark_method(id: usize) -> Ident {
        ident(&format!("watermark_{id}"))
    }

    /// `watermark_N(port, wm)`: a watermark arriving at chain `chain` on input `port`. A
    /// merge takes the minimum of its inputs; an event-time window fires what is due; then
    /// the watermark goes on to every chain this one feeds.
    pub(super) fn watermark_fn(&self, chain: &Chain) -> TokenStream {
        let name = Self::watermark_method(chain.id);
        let head = chain.nodes[0];
        let arrive = match &self.plan.graph[head].op {
            Operator::Union => {
                let u = ops::union::field(head);
                quote! {
                    let now = self.clock.now();
                    let ::core::option::Option::Some(wm) = self.#u.update(port, wm, now) else {
                        return ::core::result::Result::Ok(());
                    };
                }
            }
            Operator::WindowAggregate { window, time, .. }
                if window.has_bounds() && *time == crate::ir::TimeDomain::EventTime =>
            {
                let w = ident(&format!("watermark_{}", head.index()));
                let fire = ident(&format!("fire_{}", head.index()));
                quote! {
                    self.#w = wm;
                    self.#fire(wm)?;
                }
            }
            _ => quote!(),
        };
        let mut forwards = Vec::new();
        for &n in &chain.nodes {
            for e in self
                .plan
                .graph
                .edges_directed(n, petgraph::Direction::Outgoing)
            {
                use petgraph::visit::EdgeRef;
                let target = self.plan.graph[e.target()].chain.expect("chained");
                if target != chain.id {
                    let method = Self::watermark_method(target);
                    let port = e.weight().port;
                    forwards.push(quote!(self.#method(#port, wm)?;));
                }
            }
        }
        quote! {
            #[allow(unused_variables)]
            fn #name(&mut self, port: usize, wm: i64) -> ::core::result::Result<(), weir_runtime::JobError> {
                #arrive
                #(#forwards)*
                ::core::result::Result::Ok(())
            }
        }
    }

    /// The variable for the record node `n` makes.
    pub(super) fn var(&self, n: NodeIndex) -> Ident {
        record_var(n.index())
    }
}
