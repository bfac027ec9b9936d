//! The inline front-end's state and its driver: statements go through the shared lowering
//! (`crate::lower`), with this front-end reading each step's arguments (`steps.rs`,
//! `sources.rs`, `time.rs`).
//!
//! What a closure takes and returns is left to rustc. This front-end names each type the
//! user's code makes with a [`RustType`], writes what each closure must be
//! (`F3: FnMut(&R0) -> bool`), and passes each closure through a typed guard at the
//! closure's own tokens, so rustc reports a mismatch there.

use std::collections::HashMap;

use petgraph::graph::DiGraph;
use proc_macro2::{Span, TokenStream};
use quote::{quote_spanned, ToTokens};
use syn::spanned::Spanned;

use super::syntax::{Call, Head, Pipeline};
use crate::diagnostics::Span as ByteSpan;
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use crate::ir::{Edge, Node, Plan, RustCode, RustFn, RustType};
use crate::lower::{Flow, Lowering};

/// The inline front-end's side of a lowering.
pub(crate) struct InlineFront {
    /// The user's code and the types standing for its types.
    pub rust: RustCode,
    pub(super) diagnostics: Diagnostics<Span>,
    /// The tokens each node was written at: a node's byte span `i..i` indexes this.
    pub spans: Vec<Span>,
    /// For a `flat_map` closure (by id): the type of the records it makes.
    pub(super) items: HashMap<usize, RustType>,
    /// Sinks into the program so far (`collect()`, `for_each`), to name them apart.
    pub(super) program_sinks: usize,
    /// Sources so far, to name unnamed ones.
    pub(super) sources: usize,
}

/// Lowers `pipeline`; the runtime is named by `runtime` in generated code. Returns the
/// plan and the span table of its nodes, or every diagnostic.
pub(super) fn lower(
    pipeline: Pipeline,
    runtime: &str,
) -> Result<(Plan, Vec<Span>), Vec<Diagnostic<Span>>> {
    let front = InlineFront {
        rust: RustCode {
            runtime: runtime.to_string(),
            ..RustCode::default()
        },
        diagnostics: Diagnostics::new(),
        spans: Vec::new(),
        items: HashMap::new(),
        program_sinks: 0,
        sources: 0,
    };
    let mut l = Lowering::new(front);
    for st in pipeline.statements {
        let (head, mut last) = match &st.head {
            Head::Source { kind, with } => {
                let next = l.graph().node_count();
                let head =
                    l.fe.source(st.name.as_ref(), kind, with, next)
                        .map(|(op, schema)| l.source(op, schema, &kind.name.span()));
                (head, kind.span())
            }
            Head::Stream(id) => (l.use_stream(&id.to_string(), &id.span()), id.span()),
        };
        if let Some(step) = st.steps.last() {
            last = step.call().span();
        }
        let flow = match head {
            Some(h) => l.pipeline(h, &st.steps),
            None => Flow::Broken,
        };
        match &st.name {
            Some(name) => l.end_let(&name.to_string(), name.span(), flow),
            None => l.end_statement(flow, last),
        }
    }
    let (plan, mut front) = l.finish(
        "stream".into(),
        SourceFile::new("stream!", ""),
        Span::call_site(),
    );
    // Warnings are errors here (`WARNINGS_ARE_ERRORS`): a plan comes only without any.
    match plan {
        Some(mut plan) => {
            plan.rust = Some(std::mem::take(&mut front.rust));
            Ok((plan, front.spans))
        }
        None => Err(front.diagnostics.into_vec()),
    }
}

impl InlineFront {
    /// Reports an error at `span`; the caller abandons the step.
    pub(super) fn error<T>(&mut self, span: Span, message: impl Into<String>) -> Option<T> {
        self.diagnostics
            .push(Diagnostic::error(message.into(), span, ""));
        None
    }

    /// Reports syn's parse error `e` (every message in it).
    pub(super) fn syn_error<T>(&mut self, e: syn::Error) -> Option<T> {
        for e in e {
            self.diagnostics
                .push(Diagnostic::error(e.to_string(), e.span(), ""));
        }
        None
    }

    /// The node span and `file:line:col` of a node written at `span`.
    pub(super) fn place_span(&mut self, span: Span) -> (ByteSpan, String) {
        let i = self.spans.len();
        self.spans.push(span);
        let start = span.start();
        // Tokens parsed from a string (tests, `expand_pretty`) have no file of their own.
        let file = match span.local_file() {
            Some(_) => span.file(),
            None => "stream!".into(),
        };
        let location = format!("{file}:{}:{}", start.line, start.column + 1);
        (i..i, location)
    }

    /// A new inferred type with role letter `role`: a generic parameter of the job.
    pub(super) fn param(&mut self, role: char) -> RustType {
        let p = RustType::Inferred {
            role,
            id: self.rust.params.len(),
        };
        self.rust.params.push(p.clone());
        p
    }

    /// A bound on an inferred type, written at `span` so that rustc's complaint about it
    /// points at the user's tokens.
    pub(super) fn bound(&mut self, span: Span, ty: &RustType, bound: TokenStream) {
        self.rust.bounds.push((ty.clone(), bound, span));
    }

    /// A bound on an inferred type whose trait names inferred types too (`trait_ty`, an
    /// applied path), written at `span`.
    pub(super) fn trait_bound(&mut self, span: Span, ty: &RustType, trait_ty: RustType) {
        self.rust.trait_bounds.push((ty.clone(), trait_ty, span));
    }

    /// Registers the user's closure (or, with `inputs: None`, expression) `code`.
    pub(super) fn rust_fn(
        &mut self,
        code: &impl ToTokens,
        inputs: Option<Vec<RustType>>,
        output: RustType,
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

    /// The witness (a `Ty<T>` value) of `ty`, its tokens at `span`: a guard's local for an
    /// inferred type, a tuple of witnesses for a tuple, or the type itself.
    pub(super) fn witness_at(&self, ty: &RustType, span: Span) -> TokenStream {
        match ty {
            RustType::Inferred { .. } => {
                let local = proc_macro2::Ident::new(&format!("ty_{ty}"), span);
                quote::quote!(#local)
            }
            RustType::Tuple(elements) => {
                let params: Vec<_> = (0..elements.len())
                    .map(|i| quote::format_ident!("T{}", i))
                    .collect();
                let witnesses = elements.iter().map(|e| self.witness_at(e, span));
                quote::quote!({
                    fn tuple<#(#params),*>(#(_: weir_runtime::inline_guard::Ty<#params>),*) -> weir_runtime::inline_guard::Ty<(#(#params,)*)> {
                        weir_runtime::inline_guard::Ty::new()
                    }
                    tuple(#(#witnesses),*)
                })
            }
            RustType::Option(inner) => {
                let inner = self.witness_at(inner, span);
                quote::quote!({
                    fn option<T>(_: weir_runtime::inline_guard::Ty<T>) -> weir_runtime::inline_guard::Ty<::core::option::Option<T>> {
                        weir_runtime::inline_guard::Ty::new()
                    }
                    option(#inner)
                })
            }
            RustType::Path(_) | RustType::Ref(_) | RustType::RefMut(_) | RustType::Applied(..) => {
                let t: TokenStream = ty.to_string().parse().expect("Rust types print as Rust");
                quote::quote!(weir_runtime::inline_guard::Ty::<#t>::new())
            }
        }
    }

    /// The witness of `ty`.
    pub(super) fn witness(&self, ty: &RustType) -> TokenStream {
        self.witness_at(ty, Span::call_site())
    }

    /// Registers the user's closure `code` and passes it through the typed guard `guard`
    /// at the closure's span, with the witness of `input` (the record type, or for
    /// `combine` the value type); the guard's extra results bind the witnesses of the types
    /// in `outs`, and `requirement` (a guard on the last of them) checks what the result
    /// must be able to do.
    pub(super) fn guarded(&mut self, code: &syn::Expr, role: Guard<'_>) -> RustFn {
        let input = role.input;
        self.guarded_with(code, &[input], role)
    }

    /// [`InlineFront::guarded`] with the witnesses of several types (the guard's
    /// arguments before the closure); `role.input` is not read.
    pub(super) fn guarded_with(
        &mut self,
        code: &syn::Expr,
        witnesses: &[&RustType],
        role: Guard<'_>,
    ) -> RustFn {
        let r = self.rust_fn(code, Some(role.inputs), role.output);
        let f = quote::format_ident!("{}", r.field_name());
        let guard = quote::format_ident!("{}", role.guard);
        let w = witnesses.iter().map(|t| self.witness(t));
        let outs: Vec<_> = role
            .outs
            .iter()
            .map(|o| quote::format_ident!("ty_{}", o.to_string()))
            .collect();
        let span = first_token_span(code);
        let call = quote_spanned!(span=> weir_runtime::inline_guard::#guard(#(#w,)* #code));
        self.rust.guards.push(if outs.is_empty() {
            quote::quote!(let #f = #call;)
        } else {
            quote::quote!(let (#f, #(#outs),*) = #call;)
        });
        // What the closure's result must be able to do, checked on its own at the
        // closure's span: rustc reports an unmet bound at the call that requires it.
        if let (Some(requirement), Some(t)) = (role.requirement, outs.last()) {
            let requirement = quote::format_ident!("{}", requirement);
            // The witness respanned at the closure: rustc underlines the argument whose
            // type falls short.
            let t = proc_macro2::Ident::new(&t.to_string(), span);
            self.rust
                .guards
                .push(quote_spanned!(span=> weir_runtime::inline_guard::#requirement(#t);));
        }
        r
    }

    /// Adds a statement to run before the job is built.
    pub(super) fn push_guard(&mut self, statement: TokenStream) {
        self.rust.guards.push(statement);
    }

    /// A guard statement checking types only, at `span` (`csv_sink(w)`).
    pub(super) fn check(&mut self, span: Span, guard: &str, ty: &RustType) {
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
    pub(super) fn add_clone_bounds(&mut self, graph: &DiGraph<Node, Edge>) {
        let mut types: Vec<RustType> = Vec::new();
        for n in graph.node_indices() {
            let info = graph[n].op.info();
            for port in 0..info.outputs {
                let fan_out = graph
                    .edges_directed(n, petgraph::Direction::Outgoing)
                    .filter(|e| e.weight().from_port == port)
                    .count();
                if fan_out > 1 {
                    if let Some(t) = crate::ir::output_schema(graph, n, port).rust.clone() {
                        if !types.contains(&t) {
                            types.push(t);
                        }
                    }
                }
            }
        }
        for t in types {
            self.bound(Span::call_site(), &t, quote::quote!(::core::clone::Clone));
            self.check(Span::call_site(), "cloned", &t);
        }
    }
}

/// A closure's role, for [`InlineFront::guarded`].
pub(super) struct Guard<'a> {
    /// The guard function in `weir_runtime::inline_guard`.
    pub guard: &'a str,
    /// The type whose witness the guard takes.
    pub input: &'a RustType,
    /// The closure's argument types.
    pub inputs: Vec<RustType>,
    /// What it returns.
    pub output: RustType,
    /// The inferred types whose witnesses the guard returns.
    pub outs: &'a [&'a RustType],
    /// A guard on the last of `outs`, if any.
    pub requirement: Option<&'a str>,
}

/// The span of the first token of `code`: where a guard's complaint is anchored. (A
/// joined span is not available to macros on a stable compiler.)
pub(super) fn first_token_span(code: &impl ToTokens) -> Span {
    code.to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}
