//! The codegen context: what an operator's code generation hooks are given ([`Gen`]) and
//! what they call on it: hand a record on ([`Gen::emit`], which inlines the next operator
//! of the chain or calls, or sends to, the next chain), ask for the node's memory, call the
//! user's closures, read what the physical plan decided.

use std::str::FromStr;

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::expr::ExprGen;
use super::names::{chain_input, ident, record_var, send_method};
use super::records::RecordTypes;
use crate::ir::{Code, Exchange, InputSplit, Operator, Plan, RustFn, RustType, StateKind};
use crate::ops::api::OperatorCode;

/// Tokens for a Rust type as text.
pub(crate) fn rust_tokens(text: &str) -> TokenStream {
    TokenStream::from_str(text).expect("Rust types print as valid Rust")
}

/// What every part of the generator reads; operators' hooks get it.
pub(crate) struct Gen<'p> {
    /// The optimized plan.
    pub plan: &'p Plan,
    /// The record struct of each schema.
    pub(crate) records: RecordTypes,
    /// Nodes in topological order: the order of fields, methods and end-of-input code.
    pub(super) order: Vec<NodeIndex>,
    /// The exchanges, numbered by position, from the physical plan.
    pub(super) exchanges: &'p [Exchange],
    /// A node's code generation hooks, from the registry (which the context does not
    /// name: the code generator hands it over).
    code_of: CodeOf,
}

/// How the codegen context finds an operator's code generation hooks.
pub(crate) type CodeOf = fn(&Operator) -> &dyn OperatorCode;

impl<'p> Gen<'p> {
    pub(super) fn new(plan: &'p Plan, code_of: CodeOf) -> Self {
        Gen {
            plan,
            records: RecordTypes::new(plan),
            order: plan.topo_order(),
            exchanges: &plan.physical().exchanges,
            code_of,
        }
    }

    /// The code generation hooks of node `n`'s operator.
    pub(crate) fn code(&self, n: NodeIndex) -> &'p dyn OperatorCode {
        (self.code_of)(&self.plan.graph[n].op)
    }

    /// `ctx.operator_memory(id, ...)?`: the memory slice of stateful node `n`, looked up
    /// by its id in the job's spec.
    pub(crate) fn operator_memory(&self, n: NodeIndex) -> TokenStream {
        let node = &self.plan.graph[n];
        let (id, kind, location) = (n.index(), node.op.kind(), &node.location);
        quote!(ctx.operator_memory(#id, #kind, #location)?)
    }

    /// The fields counting records into and out of node `n`, when it is stateful (its
    /// line in `--stats` shows them).
    pub(crate) fn record_counters(&self, n: NodeIndex) -> Option<(Ident, Ident)> {
        (self.plan.graph[n].state != StateKind::Stateless).then(|| {
            (
                super::names::node_field(n, "records_in"),
                super::names::node_field(n, "records_out"),
            )
        })
    }
}

impl Gen<'_> {
    /// Code for node `n` receiving the record in variable `input` on input `port`.
    /// A stateful node counts what it receives, for the run's report.
    pub(crate) fn push(&self, n: NodeIndex, port: usize, input: &Ident) -> TokenStream {
        let code = self.code(n).push(self, n, port, input);
        match self.record_counters(n) {
            Some((records_in, _)) => quote! { self.#records_in += 1; #code },
            None => code,
        }
    }

    /// Code for node `n` having produced the record in variable `record` on output `port`:
    /// inline the next operator of the chain, or call the methods of the chains it feeds.
    pub(crate) fn emit(&self, n: NodeIndex, port: usize, record: &Ident) -> TokenStream {
        let outputs = self.plan.outputs(n, port);
        let chain = self.plan.graph[n].chain;
        let last = outputs.len().saturating_sub(1);
        let count = self
            .record_counters(n)
            .map(|(_, records_out)| quote!(self.#records_out += 1;));
        let steps = outputs.iter().enumerate().map(|(i, (t, e))| {
            let target = self.plan.graph[*t].chain;
            if target == chain {
                return self.push(*t, e.port, record);
            }
            let method = chain_input(target.expect("chained"), e.port);
            if let Some(id) = self.plan.physical().exchange_id(n, port, *t, e.port) {
                return self.call_or_send(id, &method, record, i != last);
            }
            if i == last {
                quote!(self.#method(#record, ts)?;)
            } else {
                quote!(self.#method(#record.clone(), ts)?;)
            }
        });
        quote!(#count #(#steps)*)
    }

    /// The variable for the record node `n` makes.
    pub(crate) fn var(&self, n: NodeIndex) -> Ident {
        record_var(n.index())
    }

    /// The call of `method` (the next chain's input) with `record`, or, on several
    /// workers, the record handed to `send_x{id}`, kept out of line so that the
    /// single-worker path stays as tight as it was.
    pub(crate) fn call_or_send(
        &self,
        id: usize,
        method: &Ident,
        record: &Ident,
        clone: bool,
    ) -> TokenStream {
        let send = send_method(id);
        let arg = if clone {
            quote!(#record.clone())
        } else {
            quote!(#record)
        };
        if self.time_ordered() == Some(id) {
            // Every worker keeps the windows of the records it reads (`time_order`).
            return quote!(self.#method(#arg, ts)?;);
        }
        quote! {
            if self.exchange.is_some() {
                self.#send(&#record, ts)?;
            } else {
                self.#method(#arg, ts)?;
            }
        }
    }

    /// The exchange whose window runs in time order, if the job runs one
    /// (`weir_runtime::parallel::finish_in_time_order` explains the plan). No record
    /// crosses it one by one (no `send_x`, row builders or combiner): only the windows two
    /// slices share, at the end.
    pub(crate) fn time_ordered(&self) -> Option<usize> {
        self.plan.physical().time_ordered()
    }

    /// Whether the workers read the one event-time source in slices
    /// (`InputSplit::EventTimeSlices`): each starts its watermark from the slices before
    /// its own.
    pub(crate) fn reads_event_time_slices(&self) -> bool {
        self.plan.physical().inputs == InputSplit::EventTimeSlices
    }

    /// The tokens of `ty`, with the inferred types the front-end unified written as the
    /// type they stand for.
    pub(crate) fn rust_type(&self, ty: &RustType) -> TokenStream {
        let ty = match &self.plan.rust {
            Some(rust) => rust.resolve(ty),
            None => ty.clone(),
        };
        rust_tokens(&ty.to_string())
    }

    /// `(self.f3)(args)`: a call of the user's closure.
    pub(crate) fn call(&self, r: &RustFn, args: TokenStream) -> TokenStream {
        let f = ident(&r.field_name());
        quote!((self.#f)(#args))
    }

    /// The value of `code` for the record in `input` (closures take it by reference).
    pub(crate) fn code_value(&self, code: &Code, input: &Ident) -> TokenStream {
        match code {
            Code::Expr(e) => ExprGen {
                record: input,
                locals: false,
                file: &self.plan.file,
                scratch: false,
            }
            .value(e),
            Code::Rust(r) => self.call(r, quote!(&#input)),
        }
    }
}

/// The local holding the iterator of source node `n`.
pub(crate) fn source_var(n: petgraph::graph::NodeIndex) -> Ident {
    ident(&crate::ir::source_var_name(n.index()))
}
