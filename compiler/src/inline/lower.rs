//! Lowering the inline syntax into the [`Plan`] the `.pipe` checker also makes: the same
//! operators, with the user's closures where `.pipe` has typed expressions and Rust types
//! (named by generic parameters) where `.pipe` has schemas.
//!
//! Structural mistakes (an unknown operator, `aggregate` without `key_by`, a missing sink)
//! are reported here at the user's tokens. What a closure takes and returns is left to
//! rustc, which sees the bounds this lowering writes (`F3: FnMut(&R0) -> bool`) and reports
//! a mismatch at the closure.

use std::collections::HashMap;
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use proc_macro2::{Span, TokenStream};
use quote::{quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::Ident;

use super::syntax::{Call, Head, Pipeline, Statement, Step};
use crate::check::spelling::did_you_mean;
use crate::diagnostics::SourceFile;
use crate::ir::{
    Edge, KeySpec, Node, Operator, Partitioning, Plan, RustCode, RustFn, Schema, StateKind,
    TimeDomain, WindowKind,
};

/// A stream as the lowering sees it: the node making its records, their Rust type, and
/// what the next operator may rely on.
#[derive(Clone)]
pub(super) struct Stream {
    pub node: NodeIndex,
    /// The records' Rust type, as generated code names it.
    pub ty: String,
    /// The key closure of `key_by`, until the operator that uses it.
    pub key: Option<RustFn>,
    /// Whether records carry event time (a source `with event_time`).
    pub timed: bool,
    /// A `window(...)` waiting for its `aggregate`.
    pub window: Option<PendingWindow>,
}

/// A `window(...)` waiting for its `aggregate`.
#[derive(Clone)]
pub(super) struct PendingWindow {
    pub kind: WindowKind,
    pub time: TimeDomain,
    pub lateness: i64,
    pub late: Option<Ident>,
    pub span: Span,
}

struct Named {
    stream: Stream,
    ident: Ident,
    uses: usize,
}

/// The state of one lowering.
pub(super) struct Lowering {
    graph: DiGraph<Node, Edge>,
    rust: RustCode,
    streams: HashMap<String, Named>,
    errors: Vec<syn::Error>,
}

/// Lowers `pipeline`; the runtime is named by `runtime` in generated code.
pub(super) fn lower(pipeline: Pipeline, runtime: &str) -> Result<Plan, syn::Error> {
    let mut l = Lowering {
        graph: DiGraph::new(),
        rust: RustCode {
            runtime: runtime.to_string(),
            ..RustCode::default()
        },
        streams: HashMap::new(),
        errors: Vec::new(),
    };
    for statement in pipeline.statements {
        l.statement(statement);
    }
    let mut unused: Vec<&Named> = l.streams.values().filter(|n| n.uses == 0).collect();
    unused.sort_by_key(|n| n.stream.node);
    let unused: Vec<syn::Error> = unused
        .into_iter()
        .map(|n| {
            syn::Error::new(
                n.ident.span(),
                format!(
                    "stream `{}` is never used: its records would go nowhere; feed it to a step, or end it with `collect()`, `for_each(...)` or `sink ...`",
                    n.ident
                ),
            )
        })
        .collect();
    l.errors.extend(unused);
    if l.graph.node_count() > 0
        && !l
            .graph
            .node_weights()
            .any(|n| matches!(n.op, Operator::Sink(_)))
        && l.errors.is_empty()
    {
        l.errors.push(syn::Error::new(
            Span::call_site(),
            "this pipeline has no sink: end it with `collect()`, `for_each(...)` or `sink ...`",
        ));
    }
    let mut errors = std::mem::take(&mut l.errors).into_iter();
    if let Some(mut first) = errors.next() {
        first.extend(errors);
        return Err(first);
    }
    l.add_clone_bounds();
    Ok(Plan {
        name: "stream".into(),
        file: SourceFile::new("stream!", ""),
        graph: l.graph,
        chains: Vec::new(),
        rust: Some(l.rust),
    })
}

impl Lowering {
    /// Records an error; the caller abandons the statement.
    pub(super) fn error<T>(&mut self, span: Span, message: impl Into<String>) -> Option<T> {
        self.errors.push(syn::Error::new(span, message.into()));
        None
    }

    pub(super) fn syn_error<T>(&mut self, e: syn::Error) -> Option<T> {
        self.errors.push(e);
        None
    }

    fn statement(&mut self, st: Statement) {
        let Statement { name, head, steps } = st;
        let mut last_span = match &head {
            Head::Source { kind, .. } => kind.span(),
            Head::Stream(id) => id.span(),
        };
        let Some(mut current) = (match head {
            Head::Source { kind, with, .. } => self.source(name.as_ref(), &kind, &with),
            Head::Stream(id) => self.use_stream(&id),
        }) else {
            return;
        };
        let mut sunk: Option<Span> = None;
        for step in &steps {
            if let Some(at) = sunk {
                let e = syn::Error::new(
                    step.call().name.span(),
                    "nothing can follow a sink: a sink ends its pipeline",
                );
                let mut e = e;
                e.combine(syn::Error::new(at, "the sink is here"));
                self.errors.push(e);
                return;
            }
            last_span = step.call().span();
            let next = match step {
                Step::Sink { kind, .. } => self.file_sink(&current, kind),
                Step::Op(call) => self.operator(&current, call),
            };
            match next {
                Some(Some(s)) => current = s,
                Some(None) => sunk = Some(step.call().name.span()),
                None => return,
            }
        }
        if let Some(w) = &current.window {
            self.error::<()>(
                w.span,
                "`window(...)` must be followed by `aggregate(...)`, which computes each window's result",
            );
            return;
        }
        match (name, sunk) {
            (Some(name), None) => self.define(name, current),
            (Some(name), Some(_)) => {
                self.error::<()>(
                    name.span(),
                    format!("`let {name}` names a stream, but this pipeline ends in a sink and makes none"),
                );
            }
            (None, None) => {
                self.error::<()>(
                    last_span,
                    "this pipeline has no sink, so its records go nowhere: end it with `|> collect()`, `|> for_each(...)` or `|> sink ...`",
                );
            }
            (None, Some(_)) => {}
        }
    }

    /// Names a stream; a name is given once.
    pub(super) fn define(&mut self, name: Ident, stream: Stream) {
        if let Some(first) = self.streams.get(&name.to_string()) {
            let mut e = syn::Error::new(
                name.span(),
                format!("stream `{name}` is defined twice; give this one another name"),
            );
            e.combine(syn::Error::new(
                first.ident.span(),
                format!("`{name}` is first defined here"),
            ));
            self.errors.push(e);
            return;
        }
        self.streams.insert(
            name.to_string(),
            Named {
                stream,
                ident: name,
                uses: 0,
            },
        );
    }

    /// The stream named `id`, counted as used.
    pub(super) fn use_stream(&mut self, id: &Ident) -> Option<Stream> {
        let known: Vec<String> = self.streams.keys().cloned().collect();
        match self.streams.get_mut(&id.to_string()) {
            Some(named) => {
                named.uses += 1;
                let mut s = named.stream.clone();
                s.key = None;
                Some(s)
            }
            None => {
                let mut message = format!("unknown stream `{id}`");
                if let Some(help) = did_you_mean(&id.to_string(), known.iter().map(String::as_str))
                {
                    message.push_str(&format!("; {help}"));
                } else {
                    message.push_str(
                        ": a pipeline starts with `source ...` or a name from an earlier `let`",
                    );
                }
                self.error(id.span(), message)
            }
        }
    }

    /// How many sources there are so far (to name unnamed ones).
    pub(super) fn sources_so_far(&self) -> usize {
        self.graph
            .node_weights()
            .filter(|n| matches!(n.op, Operator::Source(_)))
            .count()
    }

    /// Adds a node computing `op` with records of Rust type `ty`.
    pub(super) fn node(&mut self, op: Operator, ty: &str, state: StateKind) -> NodeIndex {
        let step = self.graph.node_count();
        let location = format!("stream! step {step} (`{}`)", op.kind());
        self.graph.add_node(Node {
            op,
            schema: Arc::new(Schema::rust(ty)),
            state,
            span: 0..0,
            location,
            chain: None,
            memory: None,
        })
    }

    /// Connects `from` to input `port` of `to`, hash-partitioned by `key` if given.
    pub(super) fn connect(
        &mut self,
        from: &Stream,
        to: NodeIndex,
        port: usize,
        key: Option<&KeySpec>,
    ) {
        let partitioning = match key {
            Some(k) => Partitioning::Hash(k.partition_names(&self.graph[from.node].schema)),
            None => Partitioning::Forward,
        };
        self.graph.add_edge(
            from.node,
            to,
            Edge {
                partitioning,
                port,
                late: false,
            },
        );
    }

    /// Adds a late-records edge from window `from` to `to`.
    pub(super) fn connect_late(&mut self, from: NodeIndex, to: NodeIndex) {
        self.graph.add_edge(
            from,
            to,
            Edge {
                partitioning: Partitioning::Forward,
                port: 0,
                late: true,
            },
        );
    }

    /// A new generic parameter `{prefix}{n}` for a type rustc infers.
    pub(super) fn param(&mut self, prefix: &str) -> String {
        let p = format!("{prefix}{}", self.rust.params.len());
        self.rust.params.push(p.clone());
        p
    }

    /// A bound on the inferred types, written at `span` so that rustc's complaint about it
    /// points at the user's tokens.
    pub(super) fn bound(&mut self, span: Span, ty: &str, bound: TokenStream) {
        let ty: TokenStream = ty.parse().expect("generated type names parse");
        self.rust.bounds.push(quote_spanned!(span=> #ty: #bound));
    }

    /// Registers the user's closure (or, with `inputs: None`, expression) `code`.
    pub(super) fn rust_fn(
        &mut self,
        code: &impl ToTokens,
        inputs: Option<Vec<String>>,
        output: String,
    ) -> RustFn {
        let tokens = code.to_token_stream();
        let r = RustFn {
            id: self.rust.code.len(),
            text: tokens.to_string(),
            inputs,
            output,
        };
        self.rust.code.push(tokens);
        r
    }

    /// The witness (a `Ty<T>` value) of the Rust type `ty` as this lowering names types:
    /// a guard's local for a parameter, a tuple of witnesses for a result, or the type
    /// itself.
    pub(super) fn witness(&self, ty: &str) -> TokenStream {
        if self.rust.params.iter().any(|p| p == ty) {
            let local = quote::format_ident!("ty_{}", ty);
            return quote::quote!(#local);
        }
        let Some(inner) = ty.strip_prefix('(').and_then(|t| t.strip_suffix(",)")) else {
            let t: TokenStream = ty.parse().expect("a Rust type");
            return quote::quote!(weir_runtime::inline_guard::Ty::<#t>::new());
        };
        // A result tuple: its elements are parameters and primitives, never nested.
        let elements: Vec<&str> = inner.split(", ").collect();
        let params: Vec<_> = (0..elements.len())
            .map(|i| quote::format_ident!("T{}", i))
            .collect();
        let witnesses = elements.iter().map(|e| self.witness(e));
        quote::quote!({
            fn tuple<#(#params),*>(#(_: weir_runtime::inline_guard::Ty<#params>),*) -> weir_runtime::inline_guard::Ty<(#(#params,)*)> {
                weir_runtime::inline_guard::Ty::new()
            }
            tuple(#(#witnesses),*)
        })
    }

    /// Registers the user's closure `code` and passes it through the typed guard
    /// `guard` at the closure's span, with the witness of `input` (the record type, or
    /// for `combine` the value type); the guard's extra results bind the witnesses of
    /// the types in `outs`.
    // The arguments are the closure's role: its guard, input, signature, result witnesses
    // and requirement; every caller names each one.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn guarded(
        &mut self,
        code: &syn::Expr,
        guard: &str,
        input: &str,
        inputs: Vec<String>,
        output: String,
        outs: &[&str],
        requirement: Option<&str>,
    ) -> RustFn {
        let r = self.rust_fn(code, Some(inputs), output);
        let f = quote::format_ident!("{}", r.field_name());
        let guard = quote::format_ident!("{}", guard);
        let w = self.witness(input);
        let outs: Vec<_> = outs
            .iter()
            .map(|o| quote::format_ident!("ty_{}", o))
            .collect();
        let span = first_token_span(code);
        let call = quote_spanned!(span=> weir_runtime::inline_guard::#guard(#w, #code));

        self.rust.guards.push(if outs.is_empty() {
            quote::quote!(let #f = #call;)
        } else {
            quote::quote!(let (#f, #(#outs),*) = #call;)
        });
        // What the closure's result must be able to do, checked on its own at the
        // closure's span: rustc reports an unmet bound at the call that requires it.
        if let Some(requirement) = requirement {
            let requirement = quote::format_ident!("{}", requirement);
            let t = outs.last().expect("a requirement is on a result type");
            self.rust
                .guards
                .push(quote_spanned!(span=> weir_runtime::inline_guard::#requirement(#t);));
        }
        r
    }

    /// The index the next node will have.
    pub(super) fn next_node(&self) -> usize {
        self.graph.node_count()
    }

    /// Adds a statement to run before the job is built.
    pub(super) fn push_guard(&mut self, statement: TokenStream) {
        self.rust.guards.push(statement);
    }

    /// A guard statement checking types only, at `span` (`csv_sink(w)`).
    pub(super) fn check(&mut self, span: Span, guard: &str, ty: &str) {
        let w = self.witness(ty);
        let guard = quote::format_ident!("{}", guard);
        self.rust
            .guards
            .push(quote_spanned!(span=> weir_runtime::inline_guard::#guard(#w);));
    }

    /// The one closure argument of `call` (`filter(|r| ...)`).
    pub(super) fn one_closure(&mut self, call: &Call) -> Option<syn::Expr> {
        let example = format!("a closure, as in `{}(|r| ...)`", call.name);
        self.one_arg(call, &example)
    }

    /// The one argument of `call`, described as `what` when there is not exactly one.
    pub(super) fn one_arg(&mut self, call: &Call, what: &str) -> Option<syn::Expr> {
        let args = self.exprs(call)?;
        match <[syn::Expr; 1]>::try_from(args) {
            Ok([e]) => Some(e),
            Err(args) => self.error(
                if args.is_empty() {
                    call.parens
                } else {
                    args[1].span()
                },
                format!(
                    "`{}` takes one argument, {what}; found {}",
                    call.name,
                    args.len()
                ),
            ),
        }
    }

    /// `call`'s arguments as comma-separated expressions.
    pub(super) fn exprs(&mut self, call: &Call) -> Option<Vec<syn::Expr>> {
        let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        match syn::parse::Parser::parse2(parser, call.args.clone()) {
            Ok(p) => Some(p.into_iter().collect()),
            Err(e) => self.syn_error(e),
        }
    }

    /// Streams feeding several operators hand each a clone of every record.
    fn add_clone_bounds(&mut self) {
        let mut types: Vec<String> = self
            .graph
            .node_indices()
            .filter(|&n| {
                self.graph
                    .edges_directed(n, petgraph::Direction::Outgoing)
                    .filter(|e| !e.weight().late)
                    .count()
                    > 1
            })
            .filter_map(|n| self.graph[n].schema.rust.clone())
            .collect();
        types.dedup();
        for t in types {
            self.bound(Span::call_site(), &t, quote::quote!(::core::clone::Clone));
            self.check(Span::call_site(), "cloned", &t);
        }
    }
}

/// The span of the first token of `code`: where a guard's complaint is anchored. (A
/// joined span is not available to macros on a stable compiler.)
pub(super) fn first_token_span(code: &impl ToTokens) -> Span {
    code.to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}
