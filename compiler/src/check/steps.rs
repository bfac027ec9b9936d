//! How `.pipe` writes a step's arguments, read against the input's schema: the
//! [`FrontEnd`] of the `.pipe` front-end. Expressions are typed here (`types.rs`), so a
//! `.pipe` user never sees a rustc error about generated code.

use std::sync::Arc;

use super::PipeFront;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::ir::{AggregateField, Code, Field, KeySpec, RustFn, Schema, TExpr, Type};
use crate::lower::expr_types::{ExprChecker, ListUse};
use crate::lower::{
    Applied, FrontEnd, IntervalSpec, KnownStep, Lowering, PendingWindow, ProcessInput, RecordArg,
    RecordRole, SinkSpec, Stream,
};
use crate::ops::{self, OpInfo};
use crate::parse::ast::{Expr, ExprKind, FieldInit, OpBody, OpSyntax, Span};

impl FrontEnd for PipeFront<'_> {
    type Span = Span;
    type Step = OpSyntax;
    const WARNINGS_ARE_ERRORS: bool = false;

    fn info(name: &str) -> Option<&'static OpInfo> {
        ops::pipe_info(name)
    }

    fn form(info: &OpInfo) -> String {
        info.pipe.unwrap_or(info.name).to_string()
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
        ops::pipe_steps()
    }

    fn event_time_form() -> &'static str {
        "with event_time(field), watermark(bounded 2s)"
    }

    fn sink_naming_help() -> String {
        "name one explicitly: `sink other_name = csv(\"...\")`".into()
    }

    fn step_name(step: &OpSyntax) -> (String, Span) {
        (step.name.name.clone(), step.name.span.clone())
    }

    fn step_span(step: &OpSyntax) -> Span {
        step.span.clone()
    }

    fn place(&mut self, span: &Span) -> (Span, String) {
        (span.clone(), self.file.location(span.start))
    }

    fn diagnostics(&mut self) -> &mut Diagnostics {
        &mut self.diagnostics
    }

    fn no_args(&mut self, info: &OpInfo, step: &OpSyntax) -> Option<()> {
        match &step.body {
            OpBody::Args(args) if args.is_empty() => Some(()),
            OpBody::Args(args) => self.report(Diagnostic::error(
                format!("`{}` takes no arguments", info.name),
                args[0].span.clone(),
                "unexpected argument",
            )),
            _ => self.wrong_form(info, step),
        }
    }

    fn process(
        &mut self,
        info: &OpInfo,
        step: &OpSyntax,
        input: &ProcessInput<'_>,
    ) -> Option<crate::ir::process::ProcessLogic> {
        let OpBody::Process(body) = &step.body else {
            return self.wrong_form(info, step);
        };
        crate::lower::process_types::check_process(
            body,
            input.schema,
            input.key_fields,
            input.timed,
            &step.span,
            &mut self.diagnostics,
        )
        .map(crate::ir::process::ProcessLogic::Statements)
    }

    fn iterate(
        &mut self,
        info: &OpInfo,
        step: &OpSyntax,
        input: &Schema,
        window: Option<crate::ir::WindowKind>,
    ) -> Option<crate::ir::iterate::IterateLogic> {
        let OpBody::Iterate(phrases, body) = &step.body else {
            return self.wrong_form(info, step);
        };
        let head = self.iterate_head(phrases)?;
        crate::lower::iterate_types::check_iterate(
            &head,
            body,
            input,
            window,
            &step.span,
            &mut self.diagnostics,
        )
        .map(|def| crate::ir::iterate::IterateLogic::Statements(Box::new(def)))
    }

    fn predicate(&mut self, info: &OpInfo, step: &OpSyntax, input: &Schema) -> Option<Code> {
        let OpBody::Args(args) = &step.body else {
            return self.wrong_form(info, step);
        };
        let [cond] = args.as_slice() else {
            return self.report(Diagnostic::error(
                format!("`{}` takes one condition, found {}", info.name, args.len()),
                step.span.clone(),
                "here",
            ));
        };
        let predicate = ExprChecker::new(input, &mut self.diagnostics).check(
            cond,
            Some(&Type::Bool),
            ListUse::Refused,
        )?;
        Some(Code::Expr(predicate))
    }

    fn key(&mut self, info: &OpInfo, step: &OpSyntax, input: &Schema) -> Option<KeySpec> {
        let OpBody::Args(args) = &step.body else {
            return self.wrong_form(info, step);
        };
        if args.is_empty() {
            return self.report(Diagnostic::error(
                format!("`{}` needs at least one field", info.name),
                step.span.clone(),
                "no key",
            ));
        }
        let mut indexes = Vec::new();
        let mut ok = true;
        for a in args {
            let ExprKind::Name(name) = &a.kind else {
                self.diagnostics.push(
                    Diagnostic::error(
                        format!("`{}` takes field names", info.name),
                        a.span.clone(),
                        "not a field name",
                    )
                    .with_help("to key by a computed value, add it as a field with `map` first"),
                );
                ok = false;
                continue;
            };
            // The expression checker gives the unknown-field message and suggestion.
            if ExprChecker::new(input, &mut self.diagnostics)
                .check(a, None, ListUse::Refused)
                .is_none()
            {
                ok = false;
                continue;
            }
            match input.index_of(name) {
                Some(i) => indexes.push(i),
                None => ok = false,
            }
        }
        ok.then_some(KeySpec::Fields(indexes))
    }

    fn record(
        &mut self,
        info: &OpInfo,
        step: &OpSyntax,
        input: &Schema,
        role: RecordRole,
    ) -> Option<RecordArg<Span>> {
        let OpBody::Record(fields) = &step.body else {
            return self.wrong_form(info, step);
        };
        if fields.is_empty() && role == RecordRole::Map {
            return self.report(Diagnostic::error(
                format!("`{}` must build at least one field", info.name),
                step.span.clone(),
                "empty record",
            ));
        }
        let lists = match role {
            RecordRole::Map => ListUse::Refused,
            RecordRole::FlatMap => ListUse::Allowed,
        };
        self.record_fields(input, fields, lists)
            .map(RecordArg::Fields)
    }

    fn closure_schema(&mut self, closure: &RustFn, _role: RecordRole) -> Arc<Schema> {
        // `.pipe` has no closures; a record of the closure's type is the honest answer.
        Arc::new(Schema::rust(closure.output.clone()))
    }

    fn aggregates(
        &mut self,
        info: &OpInfo,
        step: &OpSyntax,
        input: &Schema,
    ) -> Option<Vec<(AggregateField, Span)>> {
        let OpBody::Record(fields) = &step.body else {
            return self.wrong_form(info, step);
        };
        let mut out = Vec::new();
        let mut ok = true;
        for f in fields {
            match self.aggregate_field(input, f) {
                Some(a) => out.push((a, f.name.span.clone())),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn window(&mut self, info: &OpInfo, step: &OpSyntax) -> Option<PendingWindow<Span>> {
        let OpBody::Phrases(phrases) = &step.body else {
            return self.wrong_form(info, step);
        };
        self.window_phrases(step, phrases)
    }

    fn interval(&mut self, info: &OpInfo, step: &OpSyntax) -> Option<IntervalSpec<Span>> {
        let OpBody::Phrases(phrases) = &step.body else {
            return self.wrong_form(info, step);
        };
        self.interval_phrases(step, phrases)
    }

    fn join_keys(&mut self, _left: &KeySpec, _right: &KeySpec, _at: &Span) -> Option<bool> {
        None
    }

    fn joined_records(
        &mut self,
        _left: &Schema,
        _right: &Schema,
        _optional: [bool; 2],
        _at: &Span,
    ) -> Option<Arc<Schema>> {
        None
    }

    fn join_args(
        &mut self,
        info: &OpInfo,
        step: &OpSyntax,
    ) -> Option<(Vec<(String, Span)>, Option<(i64, Span)>)> {
        let OpBody::Args(args) = &step.body else {
            return self.wrong_form(info, step);
        };
        let (mut names, mut ttl) = (Vec::new(), None);
        let mut ok = true;
        for a in args {
            match &a.kind {
                ExprKind::Name(name) => names.push((name.clone(), a.span.clone())),
                ExprKind::Call(f, inner) if f.name == "ttl" => match inner.as_slice() {
                    [Expr {
                        kind: ExprKind::Duration(ms),
                        ..
                    }] if ttl.is_none() => ttl = Some((*ms as i64, a.span.clone())),
                    _ => {
                        self.diagnostics.push(
                            Diagnostic::error(
                                "`ttl` takes one duration, given once",
                                a.span.clone(),
                                "not one duration",
                            )
                            .with_help("write `ttl(1h)`: records are kept an hour of event time"),
                        );
                        ok = false;
                    }
                },
                _ => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            "`join` takes the stream to join with, a kind of join and `ttl(duration)`",
                            a.span.clone(),
                            "not a stream name, a kind or a ttl",
                        )
                        .with_help("write `join(other)`, `join(other, left)` or `join(other, ttl(1h))`"),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some((names, ttl))
    }

    fn top_args(
        &mut self,
        info: &OpInfo,
        step: &OpSyntax,
        input: &Schema,
    ) -> Option<(u64, Vec<(Code, bool)>)> {
        let OpBody::Args(args) = &step.body else {
            return self.wrong_form(info, step);
        };
        let Some((first, rest)) = args.split_first() else {
            return self.report(Diagnostic::error(
                "`top` needs how many rows and what orders them",
                step.span.clone(),
                "no arguments",
            ));
        };
        let ExprKind::Int(n) = first.kind else {
            return self.report(Diagnostic::error(
                "`top` takes how many rows first, a whole number",
                first.span.clone(),
                "not a whole number",
            ));
        };
        let mut order = Vec::new();
        let mut ok = true;
        for a in rest {
            let (e, desc) = match &a.kind {
                ExprKind::Call(f, inner)
                    if (f.name == "desc" || f.name == "asc") && inner.len() == 1 =>
                {
                    (&inner[0], f.name == "desc")
                }
                _ => (a, false),
            };
            match ExprChecker::new(input, &mut self.diagnostics).check(e, None, ListUse::Refused) {
                Some(t) if matches!(t.ty, Type::List(_)) => ok = false,
                Some(t) => order.push((Code::Expr(t), desc)),
                None => ok = false,
            }
        }
        ok.then_some((n, order))
    }

    fn overlap_args(
        &mut self,
        info: &OpInfo,
        step: &OpSyntax,
    ) -> Option<crate::lower::OverlapSpec<Span>> {
        let OpBody::Args(args) = &step.body else {
            return self.wrong_form(info, step);
        };
        let span_of = |e: &Expr| match &e.kind {
            ExprKind::Call(f, inner) if f.name == "span" => match inner.as_slice() {
                [Expr {
                    kind: ExprKind::Name(a),
                    ..
                }, Expr {
                    kind: ExprKind::Name(b),
                    ..
                }] => Some((a.clone(), b.clone(), e.span.clone())),
                _ => None,
            },
            _ => None,
        };
        match args.as_slice() {
            [Expr {
                kind: ExprKind::Name(other),
                span,
            }, left, right] => match (span_of(left), span_of(right)) {
                (Some(l), Some(r)) => Some(crate::lower::OverlapSpec {
                    other: (other.clone(), span.clone()),
                    left: l,
                    right: r,
                }),
                _ => self.report(
                    Diagnostic::error(
                        "each side's interval is `span(start, end)`, two of its fields",
                        step.span.clone(),
                        "not two spans",
                    )
                    .with_help("write `overlap_join(other, span(start, end), span(begins, ends))`"),
                ),
            },
            _ => self.report(
                Diagnostic::error(
                    "`overlap_join` takes the other stream and each side's interval",
                    step.span.clone(),
                    "here",
                )
                .with_help("write `overlap_join(other, span(start, end), span(begins, ends))`"),
            ),
        }
    }

    fn stream_names(&mut self, info: &OpInfo, step: &OpSyntax) -> Option<Vec<(String, Span)>> {
        let OpBody::Args(args) = &step.body else {
            return self.wrong_form(info, step);
        };
        let mut names = Vec::new();
        let mut ok = true;
        for a in args {
            match &a.kind {
                ExprKind::Name(name) => names.push((name.clone(), a.span.clone())),
                _ => {
                    self.diagnostics.push(Diagnostic::error(
                        format!("`{}` takes stream names", info.name),
                        a.span.clone(),
                        "not a stream name",
                    ));
                    ok = false;
                }
            }
        }
        ok.then_some(names)
    }

    fn sink(&mut self, info: &OpInfo, step: &OpSyntax, _input: &Schema) -> Option<SinkSpec<Span>> {
        let OpBody::Sink { name, call } = &step.body else {
            return self.wrong_form(info, step);
        };
        let (format, output, rfc3339) = self.sink_call(call)?;
        Some(SinkSpec {
            name: name.as_ref().map(|n| (n.name.clone(), n.span.clone())),
            format,
            output,
            rfc3339,
            span: call.span.clone(),
        })
    }

    fn result_schema(&mut self, columns: Vec<Field>) -> Arc<Schema> {
        Arc::new(Schema::record(columns))
    }

    fn unify(&mut self, input: &Schema, other: &Schema, _at: &Span) -> bool {
        input.same_records(other)
    }
}

impl PipeFront<'_> {
    pub(super) fn report<T>(&mut self, d: Diagnostic) -> Option<T> {
        self.diagnostics.push(d);
        None
    }

    /// A step whose body has another shape than its operator's.
    fn wrong_form<T>(&mut self, info: &OpInfo, step: &OpSyntax) -> Option<T> {
        self.report(Diagnostic::error(
            format!("`{}` is written `{}`", info.name, Self::form(info)),
            step.span.clone(),
            "wrong form",
        ))
    }

    /// Checks `name: expr` fields; a bare `name` is the input field of that name.
    fn record_fields(
        &mut self,
        schema: &Schema,
        fields: &[FieldInit],
        lists: ListUse,
    ) -> Option<Vec<(String, TExpr, Span)>> {
        let mut out: Vec<(String, TExpr, Span)> = Vec::new();
        let mut ok = true;
        for f in fields {
            if out.iter().any(|(n, _, _)| *n == f.name.name) {
                self.diagnostics.push(Diagnostic::error(
                    format!("field `{}` is given twice", f.name.name),
                    f.name.span.clone(),
                    "duplicate field",
                ));
                ok = false;
                continue;
            }
            let value = f.value.clone().unwrap_or_else(|| Expr {
                kind: ExprKind::Name(f.name.name.clone()),
                span: f.name.span.clone(),
            });
            match ExprChecker::new(schema, &mut self.diagnostics).check(&value, None, lists) {
                Some(t) => out.push((f.name.name.clone(), t, value.span.clone())),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}
