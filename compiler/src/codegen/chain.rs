//! Chains: methods per chain, with the operators of the chain inlined one into the next.
//!
//! A chain has a method per input port of its head (`chain{c}_in{p}`) taking one record,
//! and one method taking a watermark (`chain{c}_watermark`). Inside, each operator's
//! `push` hook is followed by [`Gen::emit`], which inlines the next operator of the chain or
//! calls the methods of the chains fed from that output port.

use petgraph::visit::EdgeRef;
use proc_macro2::TokenStream;
use quote::quote;

use super::context::Gen;
use super::names::{chain_input, chain_watermark, ident};
use crate::ir::Chain;

impl Gen<'_> {
    /// The input ports a chain takes records on: those of its head that are connected, or
    /// port 0 of a head without inputs (a source's records).
    fn chain_ports(&self, chain: &Chain) -> Vec<usize> {
        let head = chain.nodes[0];
        let mut ports: Vec<usize> = self.plan.inputs(head).iter().map(|(_, e)| e.port).collect();
        ports.dedup();
        if ports.is_empty() {
            ports.push(0);
        }
        ports
    }

    /// The methods of chain `chain`, one per input port.
    pub(super) fn chain_fns(&self, chain: &Chain) -> TokenStream {
        let head = chain.nodes[0];
        let ops: Vec<&str> = chain
            .nodes
            .iter()
            .map(|&n| self.plan.graph[n].op.kind())
            .collect();
        let sourced = self.plan.inputs(head).is_empty();
        let methods = self.chain_ports(chain).into_iter().map(|port| {
            let name = chain_input(chain.id, port);
            let schema = if sourced {
                self.plan.graph[head].schema.clone()
            } else {
                self.plan
                    .input_schema(head, port)
                    .expect("ports come from the head's inputs")
            };
            let ty = self.record_type(&schema);
            let input = ident("input");
            let body = if sourced {
                self.emit(head, 0, &input)
            } else {
                self.push(head, port, &input)
            };
            // The buffers `lower`/`upper` write into, kept by the job between calls (one
            // taken early by an error is made anew).
            let scratches = super::expr::scratch_idents(&body);
            let pool = super::names::ident(super::names::SCRATCH_POOL);
            let body = quote! {
                #(let mut #scratches = self.#pool.pop().unwrap_or_default();)*
                #body
                #(self.#pool.push(#scratches);)*
            };
            let doc = format!(
                "Chain {}, records on input {port}: {}.",
                chain.id,
                ops.join(" -> ")
            );
            // A chain fed by an exchange has a second caller (`receive`); without the
            // hint, that caller would cost the single-worker path its inlining.
            let inline = if self.exchanges_into(head) {
                quote!(#[inline(always)])
            } else {
                quote!(#[inline])
            };
            quote! {
                #[doc = #doc]
                #inline
                fn #name(&mut self, #input: #ty, ts: i64) -> ::core::result::Result<(), weir_runtime::JobError> {
                    #body
                    ::core::result::Result::Ok(())
                }
            }
        });
        quote!(#(#methods)*)
    }

    /// `chain{c}_watermark(port, wm)`: a watermark arriving at the chain on input `port`.
    /// Each operator of the chain sees it (a merge may hold it back; an event-time window
    /// fires what is due); then it goes on to every chain this one feeds.
    pub(super) fn watermark_fn(&self, chain: &Chain) -> TokenStream {
        let name = chain_watermark(chain.id);
        let arrive = chain
            .nodes
            .iter()
            .map(|&n| self.code(n).on_watermark(self, n));
        let mut forwards = Vec::new();
        for &n in &chain.nodes {
            for e in self
                .plan
                .graph
                .edges_directed(n, petgraph::Direction::Outgoing)
            {
                let target = self.plan.graph[e.target()].chain.expect("chained");
                if target != chain.id {
                    let method = chain_watermark(target);
                    let port = e.weight().port;
                    let w = e.weight();
                    forwards.push(
                        match self
                            .plan
                            .physical()
                            .exchange_id(n, w.from_port, e.target(), port)
                        {
                            Some(id) => self.watermark_or_send(id, &method, port),
                            None => quote!(self.#method(#port, wm)?;),
                        },
                    );
                }
            }
        }
        quote! {
            #[allow(unused_variables)]
            fn #name(&mut self, port: usize, wm: i64) -> ::core::result::Result<(), weir_runtime::JobError> {
                #(#arrive)*
                #(#forwards)*
                ::core::result::Result::Ok(())
            }
        }
    }
}
