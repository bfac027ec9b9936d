//! How `stream!` writes a step's arguments: the [`FrontEnd`] of the inline front-end. Each
//! closure is registered with its signature and passed through its typed guard; the rules
//! of each operator are its file's in `crate::ops`, shared with `.pipe`.

use std::sync::Arc;

use proc_macro2::Span;
use quote::quote;
use syn::spanned::Spanned;

use super::front::{Guard, InlineFront};
use super::syntax::{Call, Step};
use super::time::{interval_phrases, window_phrases};
use crate::diagnostics::did_you_mean;
use crate::diagnostics::Span as ByteSpan;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::ir::{
    AggregateField, Code, Field, KeySpec, OutputLocation, RustFn, RustType, Schema, SinkFormat,
    Type,
};
use crate::lower::{
    Applied, FrontEnd, IntervalSpec, KnownStep, Lowering, PendingWindow, ProcessInput, RecordArg,
    RecordRole, SinkSpec, Stream,
};
use crate::ops::{self, OpInfo};

impl FrontEnd for InlineFront {
    type Span = Span;
    type Step = Step;
    const WARNINGS_ARE_ERRORS: bool = true;

    fn info(name: &str) -> Option<&'static OpInfo> {
        ops::inline_info(name).map(|(info, _)| info)
    }

    fn form(info: &OpInfo) -> String {
        info.inline.join("`, `")
    }

    fn known(step: KnownStep) -> &'static OpInfo {
        ops::known(step)
    }

    fn lower_step(
        l: &mut Lowering<Self>,
        info: &OpInfo,
        input: Stream<Self::Span>,
        step: &Self::Step,
    ) -> Option<Applied<Self::Span>> {
        ops::lower_step(l, info, input, step)
    }

    fn window_completers() -> String {
        ops::window_completers()
    }

    fn step_names() -> Vec<&'static str> {
        ops::inline_steps()
    }

    fn unknown_step_help(name: &str) -> Option<String> {
        if crate::ops::pipe_info(name).is_some_and(|i| i.inline.is_empty()) {
            return Some(format!(
                "`{name}` is written in a `.pipe` file for now: `stream!` has no form of it yet"
            ));
        }
        matches!(name, "csv" | "jsonl")
            .then(|| format!("a file sink is written `sink {name}(\"path\")`"))
    }

    fn event_time_form() -> &'static str {
        "with event_time(|r| r.ts), watermark(bounded 2s)"
    }

    fn sink_naming_help() -> String {
        "write each file sink to a file of its own".into()
    }

    fn step_name(step: &Step) -> (String, Span) {
        match step {
            Step::Sink { kind } => ("sink".into(), kind.name.span()),
            Step::Op(call) => (call.name.to_string(), call.name.span()),
        }
    }

    fn step_span(step: &Step) -> Span {
        step.call().span()
    }

    fn place(&mut self, span: &Span) -> (ByteSpan, String) {
        self.place_span(*span)
    }

    fn diagnostics(&mut self) -> &mut Diagnostics<Span> {
        &mut self.diagnostics
    }

    fn process(
        &mut self,
        _info: &OpInfo,
        step: &Step,
        input: &ProcessInput<'_>,
    ) -> Option<crate::ir::process::ProcessLogic> {
        self.process_closures(step, input)
    }

    fn iterate(
        &mut self,
        _info: &OpInfo,
        step: &Step,
        input: &Schema,
        window: Option<crate::ir::WindowKind>,
    ) -> Option<crate::ir::iterate::IterateLogic> {
        self.iterate_program(step, input, window)
    }

    fn no_args(&mut self, info: &OpInfo, step: &Step) -> Option<()> {
        let call = step.call();
        if call.args.is_empty() {
            return Some(());
        }
        self.error(
            call.parens,
            format!(
                "`{}` takes no arguments, as in `{}()`",
                info.name, call.name
            ),
        )
    }

    fn predicate(&mut self, _info: &OpInfo, step: &Step, input: &Schema) -> Option<Code> {
        let f = self.one_closure(step.call())?;
        let ty = record_type(input);
        let r = self.guarded(
            &f,
            Guard {
                guard: "filter",
                input: &ty,
                inputs: vec![ty.by_ref()],
                output: RustType::path("bool"),
                outs: &[],
                requirement: None,
            },
        );
        Some(Code::Rust(r))
    }

    fn key(&mut self, _info: &OpInfo, step: &Step, input: &Schema) -> Option<KeySpec> {
        let f = self.one_closure(step.call())?;
        let ty = record_type(input);
        let key = self.param('K');
        self.bound(f.span(), &key, quote!(weir_runtime::Layout));
        let r = self.guarded(
            &f,
            Guard {
                guard: "value",
                input: &ty,
                inputs: vec![ty.by_ref()],
                output: key.clone(),
                outs: &[&key],
                requirement: Some("layout"),
            },
        );
        Some(KeySpec::Rust(r))
    }

    fn record(
        &mut self,
        _info: &OpInfo,
        step: &Step,
        input: &Schema,
        role: RecordRole,
    ) -> Option<RecordArg<Span>> {
        let f = self.one_closure(step.call())?;
        let ty = record_type(input);
        let out = self.param('R');
        let r = match role {
            RecordRole::Map => self.guarded(
                &f,
                Guard {
                    guard: "map",
                    input: &ty,
                    inputs: vec![ty.clone()],
                    output: out.clone(),
                    outs: &[&out],
                    requirement: None,
                },
            ),
            RecordRole::FlatMap => {
                let items = self.param('I');
                let item: proc_macro2::TokenStream =
                    out.to_string().parse().expect("a generated name");
                self.bound(
                    f.span(),
                    &items,
                    quote!(::core::iter::IntoIterator<Item = #item>),
                );
                let r = self.guarded(
                    &f,
                    Guard {
                        guard: "flat_map",
                        input: &ty,
                        inputs: vec![ty.clone()],
                        output: items.clone(),
                        outs: &[&out, &items],
                        requirement: None,
                    },
                );
                self.items.insert(r.id, out);
                r
            }
        };
        Some(RecordArg::Closure(r))
    }

    fn closure_schema(&mut self, closure: &RustFn, role: RecordRole) -> Arc<Schema> {
        let ty = match role {
            RecordRole::Map => closure.output.clone(),
            RecordRole::FlatMap => self
                .items
                .get(&closure.id)
                .cloned()
                .unwrap_or_else(|| closure.output.clone()),
        };
        Arc::new(Schema::rust(ty))
    }

    fn aggregates(
        &mut self,
        _info: &OpInfo,
        step: &Step,
        input: &Schema,
    ) -> Option<Vec<(AggregateField, Span)>> {
        let mut out = Vec::new();
        let mut ok = true;
        for (i, agg) in self.exprs(step.call())?.into_iter().enumerate() {
            match self.aggregate_field(input, i, &agg) {
                Some(a) => out.push((a, agg.span())),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn window(&mut self, _info: &OpInfo, step: &Step) -> Option<PendingWindow<Span>> {
        let call = step.call();
        match window_phrases(call.args.clone(), call.span()) {
            Ok(w) => Some(w),
            Err(e) => self.syn_error(e),
        }
    }

    fn interval(&mut self, _info: &OpInfo, step: &Step) -> Option<IntervalSpec<Span>> {
        let call = step.call();
        match interval_phrases(call.args.clone(), call.span()) {
            Ok(spec) => Some(spec),
            Err(e) => self.syn_error(e),
        }
    }

    fn join_keys(&mut self, left: &KeySpec, right: &KeySpec, at: &Span) -> Option<bool> {
        let (KeySpec::Rust(l), KeySpec::Rust(r)) = (left, right) else {
            return Some(false);
        };
        let (wl, wr) = (
            self.witness_at(&l.output, *at),
            self.witness_at(&r.output, *at),
        );
        self.push_guard(
            quote::quote_spanned!(*at=> weir_runtime::inline_guard::join_keys(#wl, #wr);),
        );
        Some(true)
    }

    fn joined_records(
        &mut self,
        left: &Schema,
        right: &Schema,
        optional: [bool; 2],
        at: &Span,
    ) -> Option<Arc<Schema>> {
        let sides = [record_type(left), record_type(right)];
        for ty in &sides {
            // A tuple (a window's results) has a layout when its inferred parts (an
            // aggregate's value) have one.
            for part in inferred_parts(ty) {
                self.bound(*at, part, quote!(weir_runtime::Layout));
            }
            self.check(*at, "layout", ty);
        }
        let pair = sides
            .into_iter()
            .zip(optional)
            .map(|(ty, optional)| match optional {
                true => RustType::Option(Box::new(ty)),
                false => ty,
            })
            .collect();
        Some(Arc::new(Schema::rust(RustType::Tuple(pair))))
    }

    fn join_args(
        &mut self,
        _info: &OpInfo,
        step: &Step,
    ) -> Option<(Vec<(String, Span)>, Option<(i64, Span)>)> {
        enum JoinArg {
            Name(syn::Ident),
            Ttl(syn::Lit, Span),
        }
        let parsed = syn::parse::Parser::parse2(
            |input: syn::parse::ParseStream<'_>| {
                let mut out = Vec::new();
                while !input.is_empty() {
                    let word: syn::Ident = input.parse()?;
                    if word == "ttl" && input.peek(syn::token::Paren) {
                        let inside;
                        syn::parenthesized!(inside in input);
                        out.push(JoinArg::Ttl(inside.parse()?, word.span()));
                    } else {
                        out.push(JoinArg::Name(word));
                    }
                    if !input.is_empty() {
                        input.parse::<syn::Token![,]>()?;
                    }
                }
                Ok(out)
            },
            step.call().args.clone(),
        );
        let args = match parsed {
            Ok(args) => args,
            Err(e) => return self.syn_error(e),
        };
        let (mut names, mut ttl) = (Vec::new(), None);
        for a in args {
            match a {
                JoinArg::Name(i) => names.push((i.to_string(), i.span())),
                JoinArg::Ttl(lit, at) => match super::time::duration(&lit) {
                    Ok(ms) if ttl.is_none() => ttl = Some((ms, at)),
                    Ok(_) => return self.error(at, "`ttl` is given twice"),
                    Err(e) => return self.syn_error(e),
                },
            }
        }
        Some((names, ttl))
    }

    fn top_args(
        &mut self,
        _info: &OpInfo,
        step: &Step,
        input: &Schema,
    ) -> Option<(u64, Vec<(Code, bool)>)> {
        let parsed = syn::parse::Parser::parse2(
            |s: syn::parse::ParseStream<'_>| {
                let n: syn::LitInt = s.parse()?;
                let mut order = Vec::new();
                while !s.is_empty() {
                    s.parse::<syn::Token![,]>()?;
                    if s.is_empty() {
                        break;
                    }
                    let word: syn::Ident = s.parse()?;
                    let desc = match word.to_string().as_str() {
                        "desc" => true,
                        "asc" => false,
                        _ => {
                            return Err(syn::Error::new(
                                word.span(),
                                "`top` orders by `desc(|r| value)` or `asc(|r| value)`",
                            ))
                        }
                    };
                    let inside;
                    syn::parenthesized!(inside in s);
                    order.push((inside.parse::<syn::Expr>()?, desc));
                }
                Ok((n, order))
            },
            step.call().args.clone(),
        );
        let (n, order) = match parsed {
            Ok(p) => p,
            Err(e) => return self.syn_error(e),
        };
        let n = match n.base10_parse::<u64>() {
            Ok(n) => n,
            Err(e) => return self.syn_error(e),
        };
        let ty = record_type(input);
        // The records are kept whole, in their layout.
        let at = step.call().name.span();
        for part in inferred_parts(&ty) {
            self.bound(at, part, quote!(weir_runtime::Layout));
        }
        self.check(at, "layout", &ty);
        let order = order
            .into_iter()
            .map(|(f, desc)| {
                let value = self.param('O');
                self.bound(f.span(), &value, quote!(weir_runtime::state::OrderValue));
                let r = self.guarded(
                    &f,
                    Guard {
                        guard: "value",
                        input: &ty,
                        inputs: vec![ty.by_ref()],
                        output: value.clone(),
                        outs: &[&value],
                        requirement: None,
                    },
                );
                (Code::Rust(r), desc)
            })
            .collect();
        Some((n, order))
    }

    fn overlap_args(
        &mut self,
        _info: &OpInfo,
        step: &Step,
    ) -> Option<crate::lower::OverlapSpec<Span>> {
        self.error(
            step.call().name.span(),
            "`overlap_join` is not built for `stream!` yet: write it in a `.pipe` pipeline, or pair the records with `interval_join` and a `filter`",
        )
    }

    fn stream_names(&mut self, _info: &OpInfo, step: &Step) -> Option<Vec<(String, Span)>> {
        let names = syn::parse::Parser::parse2(
            syn::punctuated::Punctuated::<syn::Ident, syn::Token![,]>::parse_terminated,
            step.call().args.clone(),
        );
        match names {
            Ok(n) => Some(n.iter().map(|i| (i.to_string(), i.span())).collect()),
            Err(e) => self.syn_error(e),
        }
    }

    fn sink(&mut self, _info: &OpInfo, step: &Step, input: &Schema) -> Option<SinkSpec<Span>> {
        let ty = record_type(input);
        let call = step.call();
        let (format, output) = match step {
            Step::Sink { kind } => self.file_sink(kind, &ty)?,
            Step::Op(call) if call.name == "collect" => {
                if !call.args.is_empty() {
                    return self.error(call.parens, "`collect()` takes no arguments");
                }
                (SinkFormat::Collect, OutputLocation::Program)
            }
            Step::Op(call) => {
                let f = self.one_closure(call)?;
                let r = self.guarded(
                    &f,
                    Guard {
                        guard: "for_each",
                        input: &ty,
                        inputs: vec![ty.clone()],
                        output: RustType::path("()"),
                        outs: &[],
                        requirement: None,
                    },
                );
                (SinkFormat::ForEach(r), OutputLocation::Program)
            }
        };
        // Sinks into the program have no file to name them by.
        let name = (output == OutputLocation::Program).then(|| {
            self.program_sinks += 1;
            (
                format!("{}_{}", call.name, self.program_sinks),
                call.name.span(),
            )
        });
        Some(SinkSpec {
            name,
            format,
            output,
            rfc3339: false,
            span: call.span(),
        })
    }

    fn result_schema(&mut self, columns: Vec<Field>) -> Arc<Schema> {
        let types = columns.iter().map(|c| rust_type_of(&c.ty)).collect();
        Arc::new(Schema::rust(RustType::Tuple(types)))
    }

    fn unify(&mut self, input: &Schema, other: &Schema, at: &Span) -> bool {
        let (Some(a), Some(b)) = (&input.rust, &other.rust) else {
            return input.same_records(other);
        };
        let (a, b) = (self.rust.resolve(a), self.rust.resolve(b));
        if a == b {
            return true;
        }
        // Where rustc infers one of the types, it becomes the other, and rustc checks at
        // the user's tokens that the two are one: a mismatch names both types there.
        let alias = match (&a, &b) {
            (_, RustType::Inferred { .. }) => (b.clone(), a.clone()),
            (RustType::Inferred { .. }, _) => (a.clone(), b.clone()),
            _ => return false,
        };
        let (wa, wb) = (self.witness_at(&a, *at), self.witness_at(&b, *at));
        self.push_guard(
            quote::quote_spanned!(*at=> weir_runtime::inline_guard::union_input(#wa, #wb);),
        );
        self.rust.aliases.push(alias);
        true
    }

    fn finish_graph(&mut self, graph: &petgraph::graph::DiGraph<crate::ir::Node, crate::ir::Edge>) {
        self.add_clone_bounds(graph);
    }
}

/// The Rust type of records of `schema` (inline schemas always have one).
pub(super) fn record_type(schema: &Schema) -> RustType {
    schema
        .rust
        .clone()
        .unwrap_or_else(|| RustType::path(schema.describe()))
}

/// The Rust type of a result column of type `ty`.
fn rust_type_of(ty: &Type) -> RustType {
    match ty {
        Type::Rust(t) => t.clone(),
        Type::Bool => RustType::path("bool"),
        Type::I64 | Type::Timestamp => RustType::path("i64"),
        Type::U64 => RustType::path("u64"),
        Type::F64 => RustType::path("f64"),
        Type::Str => RustType::path("String"),
        Type::List(t) => rust_type_of(t),
    }
}

impl InlineFront {
    /// `sink csv("path")` or `sink jsonl("path")` of records of `ty`.
    fn file_sink(&mut self, kind: &Call, ty: &RustType) -> Option<(SinkFormat, OutputLocation)> {
        let format = match kind.name.to_string().as_str() {
            "csv" => {
                self.bound(kind.name.span(), ty, quote!(weir_runtime::Record));
                SinkFormat::Csv
            }
            "jsonl" => {
                self.bound(kind.name.span(), ty, quote!(weir_runtime::serde::Serialize));
                SinkFormat::Jsonl
            }
            other => {
                let mut message = format!("unknown sink kind `{other}`");
                match did_you_mean(other, ["csv", "jsonl"]) {
                    Some(help) => message.push_str(&format!("; {help}")),
                    None => message.push_str(
                        "; file sinks are `sink csv(\"path\")` and `sink jsonl(\"path\")`",
                    ),
                }
                return self.error(kind.name.span(), message);
            }
        };
        match syn::parse2::<syn::LitStr>(kind.args.clone()) {
            Ok(p) => Some((format, OutputLocation::Path(p.value()))),
            Err(_) => self.error(
                kind.span(),
                "expected the file's path as a string, as in `sink csv(\"out/result.csv\")`",
            ),
        }
    }
}

/// A diagnostic as `compile_error!`s at the user's tokens: the message with its help, then
/// each related place with its label.
pub(super) fn to_syn_error(d: &Diagnostic<Span>) -> syn::Error {
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str(&format!("\nhelp: {help}"));
    }
    let mut e = syn::Error::new(d.span, text);
    for (span, label) in &d.related {
        e.combine(syn::Error::new(*span, label));
    }
    e
}

/// The types rustc infers in `ty`: itself, or the inferred elements of a tuple.
fn inferred_parts(ty: &RustType) -> Vec<&RustType> {
    match ty {
        RustType::Inferred { .. } => vec![ty],
        RustType::Tuple(parts) => parts.iter().flat_map(inferred_parts).collect(),
        _ => Vec::new(),
    }
}
