//! Operators after `|>`: each is checked against its input stream and becomes a node.

use std::sync::Arc;

use super::spelling::did_you_mean;
use super::types::{ExprChecker, ListUse};
use super::{Checker, Key, StreamValue};
use crate::diagnostics::Diagnostic;
use crate::ir::{
    AggFunc, AggregateField, Code, Field, KeySpec, Operator, Schema, StateKind, TExpr, TimeDomain,
    Type,
};
use crate::parse::ast::{Expr, ExprKind, FieldInit, OpBody, OpSyntax};

/// The operator names, for suggestions and help.
const OPERATORS: &[&str] = &[
    "filter",
    "map",
    "flat_map",
    "key_by",
    "window",
    "aggregate",
    "union",
    "sink",
];

/// What applying an operator gives.
pub(super) enum Applied {
    /// A new stream.
    Stream(StreamValue),
    /// The stream was written to a sink.
    Sunk,
    /// An error was reported.
    Broken,
}

impl Checker<'_> {
    pub(super) fn operator(&mut self, input: &StreamValue, op: &OpSyntax) -> Applied {
        let applied = match (op.name.name.as_str(), &op.body) {
            ("filter", OpBody::Args(args)) => self.filter(input, op, args),
            ("map", OpBody::Record(fields)) => self.map(input, op, fields),
            ("flat_map", OpBody::Record(fields)) => self.flat_map(input, op, fields),
            ("key_by", OpBody::Args(args)) => self.key_by(input, op, args),
            ("aggregate", OpBody::Record(fields)) => self.aggregate(input, op, fields),
            ("window", OpBody::Window(phrases)) => self.window(input, op, phrases),
            ("union", OpBody::Args(args)) => self.union(input, op, args),
            ("sink", OpBody::Sink { name, call }) => {
                return match self.sink(input, op, name.as_ref().map(|n| (&n.name, &n.span)), call) {
                    Some(()) => Applied::Sunk,
                    None => Applied::Broken,
                }
            }
            (name, _) if OPERATORS.contains(&name) => {
                let shape = match name {
                    "filter" => "filter(condition)",
                    "map" => "map { name: expression, ... }",
                    "flat_map" => "flat_map { name: list_expression, ... }",
                    "key_by" => "key_by(field, ...)",
                    "aggregate" => {
                        "aggregate { name: count() | sum(e) | min(e) | max(e) | avg(e), ... }"
                    }
                    "union" => "union(stream, ...)",
                    _ => "sink csv(\"path\") | sink jsonl(\"path\") | sink stdout()",
                };
                self.diagnostics.push(Diagnostic::error(
                    format!("`{name}` is written `{shape}`"),
                    op.span.clone(),
                    "wrong form",
                ));
                None
            }
            (name, _) => {
                let mut d = Diagnostic::error(
                    format!("unknown operator `{name}`"),
                    op.name.span.clone(),
                    "not an operator",
                )
                .with_help(format!("the operators are {}", OPERATORS.join(", ")));
                if let Some(h) = did_you_mean(name, OPERATORS.iter().copied()) {
                    d = d.with_help(h);
                }
                self.diagnostics.push(d);
                None
            }
        };
        match applied {
            Some(v) => Applied::Stream(v),
            None => Applied::Broken,
        }
    }

    fn filter(&mut self, input: &StreamValue, op: &OpSyntax, args: &[Expr]) -> Option<StreamValue> {
        let [cond] = args else {
            self.diagnostics.push(Diagnostic::error(
                format!("`filter` takes one condition, found {}", args.len()),
                op.span.clone(),
                "here",
            ));
            return None;
        };
        let schema = self.schema_of(input);
        let predicate = ExprChecker::new(&schema, &mut self.diagnostics).check(
            cond,
            Some(&Type::Bool),
            ListUse::Refused,
        )?;
        self.stateless(
            input,
            Operator::Filter {
                predicate: Code::Expr(predicate),
            },
            schema,
            &op.span,
        )
    }

    /// Adds a stateless operator fed by `input` and returns its (unkeyed) output stream.
    fn stateless(
        &mut self,
        input: &StreamValue,
        op: Operator,
        schema: Arc<Schema>,
        span: &crate::parse::ast::Span,
    ) -> Option<StreamValue> {
        let node = self.add_node(op, schema, StateKind::Stateless, span.clone());
        self.connect(input, node, 0);
        Some(StreamValue::new(node, input.timed))
    }

    /// Checks `name: expr` fields; a bare `name` is the input field of that name.
    fn record_fields(
        &mut self,
        schema: &Schema,
        fields: &[FieldInit],
        lists: ListUse,
    ) -> Option<Vec<(String, TExpr)>> {
        let mut out: Vec<(String, TExpr)> = Vec::new();
        let mut ok = true;
        for f in fields {
            if out.iter().any(|(n, _)| *n == f.name.name) {
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
                Some(t) => out.push((f.name.name.clone(), t)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn map(
        &mut self,
        input: &StreamValue,
        op: &OpSyntax,
        fields: &[FieldInit],
    ) -> Option<StreamValue> {
        if fields.is_empty() {
            self.diagnostics.push(Diagnostic::error(
                "`map` must build at least one field",
                op.span.clone(),
                "empty record",
            ));
            return None;
        }
        let schema = self.schema_of(input);
        let fields = self.record_fields(&schema, fields, ListUse::Refused)?;
        let out = record_schema(&fields);
        self.stateless(input, Operator::Map { fields }, out, &op.span)
    }

    fn flat_map(
        &mut self,
        input: &StreamValue,
        op: &OpSyntax,
        fields: &[FieldInit],
    ) -> Option<StreamValue> {
        let schema = self.schema_of(input);
        let fields = self.record_fields(&schema, fields, ListUse::Allowed)?;
        let lists: Vec<usize> = fields
            .iter()
            .enumerate()
            .filter(|(_, (_, e))| matches!(e.ty, Type::List(_)))
            .map(|(i, _)| i)
            .collect();
        let [list_field] = lists.as_slice() else {
            let d = if lists.is_empty() {
                Diagnostic::error(
                    "`flat_map` needs one field whose value is a list",
                    op.span.clone(),
                    "no list here",
                )
                .with_help("for example: flat_map { word: split_whitespace(line) }")
            } else {
                Diagnostic::error(
                    "`flat_map` can explode only one list per record",
                    fields[lists[1]].1.span.clone(),
                    "a second list",
                )
                .with_related(fields[lists[0]].1.span.clone(), "the first list")
            };
            self.diagnostics.push(d);
            return None;
        };
        let out = record_schema(&fields);
        let op_kind = Operator::FlatMap {
            fields,
            list_field: *list_field,
        };
        self.stateless(input, op_kind, out, &op.span)
    }

    fn key_by(&mut self, input: &StreamValue, op: &OpSyntax, args: &[Expr]) -> Option<StreamValue> {
        if args.is_empty() {
            self.diagnostics.push(Diagnostic::error(
                "`key_by` needs at least one field",
                op.span.clone(),
                "no key",
            ));
            return None;
        }
        let schema = self.schema_of(input);
        let mut key = Key {
            fields: Vec::new(),
            indexes: Vec::new(),
        };
        let mut ok = true;
        for a in args {
            let ExprKind::Name(name) = &a.kind else {
                self.diagnostics.push(
                    Diagnostic::error(
                        "`key_by` takes field names",
                        a.span.clone(),
                        "not a field name",
                    )
                    .with_help("to key by a computed value, add it as a field with `map` first"),
                );
                ok = false;
                continue;
            };
            // Reuse the expression checker for the unknown-field message and suggestion.
            if ExprChecker::new(&schema, &mut self.diagnostics)
                .check(a, None, ListUse::Refused)
                .is_none()
            {
                ok = false;
                continue;
            }
            let i = schema.index_of(name).expect("checked above");
            key.fields.push(name.clone());
            key.indexes.push(i);
        }
        ok.then_some(StreamValue {
            node: input.node,
            key: Some(key),
            timed: input.timed,
            window: None,
        })
    }

    fn aggregate(
        &mut self,
        input: &StreamValue,
        op: &OpSyntax,
        fields: &[FieldInit],
    ) -> Option<StreamValue> {
        let Some(key) = input.key.clone() else {
            self.diagnostics.push(
                Diagnostic::error(
                    "`aggregate` needs a keyed stream",
                    op.name.span.clone(),
                    "the input is not keyed",
                )
                .with_help("add `|> key_by(field)` before `aggregate`"),
            );
            return None;
        };
        if fields.is_empty() {
            self.diagnostics.push(Diagnostic::error(
                "`aggregate` needs at least one aggregate",
                op.span.clone(),
                "nothing to compute",
            ));
            return None;
        }
        let schema = self.schema_of(input);
        let mut out_fields: Vec<Field> = key
            .indexes
            .iter()
            .map(|&i| schema.fields[i].clone())
            .collect();
        let window = input.window.clone();
        if window.as_ref().is_some_and(|w| w.kind.has_bounds()) {
            for bound in ["window_start", "window_end"] {
                if out_fields.iter().any(|f| f.name == bound) {
                    self.diagnostics.push(Diagnostic::error(
                        format!("key field `{bound}` would clash with the window's bound"),
                        op.span.clone(),
                        "window results have fields window_start and window_end",
                    ));
                    return None;
                }
                out_fields.push(Field {
                    name: bound.into(),
                    ty: Type::Timestamp,
                });
            }
        }
        let mut aggregates = Vec::new();
        let mut ok = true;
        for f in fields {
            if out_fields.iter().any(|o| o.name == f.name.name) {
                self.diagnostics.push(Diagnostic::error(
                    format!("field `{}` is already in the output", f.name.name),
                    f.name.span.clone(),
                    "a key field or an earlier aggregate has this name",
                ));
                ok = false;
                continue;
            }
            match self.aggregate_field(&schema, f) {
                Some(a) => {
                    out_fields.push(Field {
                        name: a.name.clone(),
                        ty: a.ty.clone(),
                    });
                    aggregates.push(a);
                }
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        let out = Arc::new(Schema {
            rust: None,
            name: None,
            fields: out_fields,
        });
        let Some(w) = window else {
            let aggregate = Operator::Aggregate {
                key: KeySpec::Fields(key.indexes.clone()),
                aggregates,
            };
            let node = self.add_node(aggregate, out, StateKind::Keyed, op.span.clone());
            self.connect(input, node, 0);
            return Some(StreamValue::new(node, false));
        };
        let windowed = Operator::WindowAggregate {
            key: KeySpec::Fields(key.indexes.clone()),
            window: w.kind,
            time: w.time,
            lateness: w.lateness,
            aggregates,
        };
        let node = self.add_node(windowed, out, StateKind::Keyed, w.span.start..op.span.end);
        self.connect(input, node, 0);
        if let Some(name) = &w.late {
            let late = self.add_node(
                Operator::LateRecords,
                schema,
                StateKind::Stateless,
                name.span.clone(),
            );
            self.graph.add_edge(
                node,
                late,
                crate::ir::Edge {
                    partitioning: crate::ir::Partitioning::Forward,
                    port: 0,
                    late: true,
                },
            );
            self.bind(
                &name.name,
                name.span.clone(),
                Some(StreamValue::new(late, true)),
            );
        }
        let timed = w.time == TimeDomain::EventTime && w.kind.has_bounds();
        Some(StreamValue::new(node, timed))
    }

    fn aggregate_field(&mut self, schema: &Schema, f: &FieldInit) -> Option<AggregateField> {
        let call = f.value.as_ref().and_then(|v| match &v.kind {
            ExprKind::Call(name, args) => Some((name, args, v)),
            _ => None,
        });
        let Some((fname, args, whole)) = call else {
            let span = f
                .value
                .as_ref()
                .map_or(f.name.span.clone(), |v| v.span.clone());
            self.diagnostics.push(
                Diagnostic::error(
                    format!("`{}` must be an aggregate function", f.name.name),
                    span,
                    "not an aggregate",
                )
                .with_help("write count(), sum(e), min(e), max(e) or avg(e)"),
            );
            return None;
        };
        let Some(func) = AggFunc::from_name(&fname.name) else {
            let mut d = Diagnostic::error(
                format!("unknown aggregate function `{}`", fname.name),
                fname.span.clone(),
                "not an aggregate function",
            )
            .with_help("the aggregate functions are count, sum, min, max and avg");
            if let Some(h) = did_you_mean(&fname.name, AggFunc::NAMES.iter().copied()) {
                d = d.with_help(h);
            }
            self.diagnostics.push(d);
            return None;
        };
        let wanted = match func {
            AggFunc::Count => 0,
            AggFunc::Reduce => 2,
            _ => 1,
        };
        if args.len() != wanted {
            self.diagnostics.push(Diagnostic::error(
                format!(
                    "`{}` takes {wanted} argument(s), found {}",
                    func.name(),
                    args.len()
                ),
                whole.span.clone(),
                "here",
            ));
            return None;
        }
        let arg = match args.first() {
            Some(a) => Some(ExprChecker::new(schema, &mut self.diagnostics).check(
                a,
                None,
                ListUse::Refused,
            )?),
            None => None,
        };
        let mut combine = None;
        if let (Some(a), Some(c)) = (&arg, args.get(1)) {
            if a.ty == Type::Str {
                self.diagnostics.push(Diagnostic::error(
                    "`reduce` over str is not supported yet",
                    a.span.clone(),
                    "this is str",
                ));
                return None;
            }
            // The combining expression sees the running value as `a` and the new one as `b`.
            let pair = Schema {
                rust: None,
                name: None,
                fields: vec![
                    Field {
                        name: "a".into(),
                        ty: a.ty.clone(),
                    },
                    Field {
                        name: "b".into(),
                        ty: a.ty.clone(),
                    },
                ],
            };
            combine = Some(ExprChecker::new(&pair, &mut self.diagnostics).check(
                c,
                Some(&a.ty),
                ListUse::Refused,
            )?);
        }
        let ty = match (&arg, func) {
            (None, _) => Type::U64,
            (Some(_), AggFunc::Avg) => Type::F64,
            (Some(a), _) => a.ty.clone(),
        };
        if let Some(a) = &arg {
            let allowed = match func {
                AggFunc::Sum | AggFunc::Avg => a.ty.is_numeric(),
                AggFunc::Min | AggFunc::Max => a.ty.is_numeric() || a.ty == Type::Timestamp,
                _ => a.ty != Type::Str,
            };
            if !allowed && matches!(func, AggFunc::First | AggFunc::Last) {
                self.diagnostics.push(
                    Diagnostic::error(
                        format!("`{}` over str is not supported yet", func.name()),
                        a.span.clone(),
                        "this is str",
                    )
                    .with_help("first and last take numbers, bools and timestamps"),
                );
                return None;
            }
            if !allowed {
                self.diagnostics.push(Diagnostic::error(
                    format!(
                        "type mismatch: `{}` needs a number, found {}",
                        func.name(),
                        a.ty
                    ),
                    a.span.clone(),
                    format!("this is {}", a.ty),
                ));
                return None;
            }
        }
        Some(AggregateField {
            name: f.name.name.clone(),
            func,
            arg: arg.map(Code::Expr),
            combine: combine.map(Code::Expr),
            ty,
        })
    }

    fn union(&mut self, input: &StreamValue, op: &OpSyntax, args: &[Expr]) -> Option<StreamValue> {
        if args.is_empty() {
            self.diagnostics.push(Diagnostic::error(
                "`union` needs at least one other stream",
                op.span.clone(),
                "nothing to merge",
            ));
            return None;
        }
        let schema = self.schema_of(input);
        let mut others = Vec::new();
        let mut ok = true;
        for a in args {
            let ExprKind::Name(name) = &a.kind else {
                self.diagnostics.push(Diagnostic::error(
                    "`union` takes stream names",
                    a.span.clone(),
                    "not a stream name",
                ));
                ok = false;
                continue;
            };
            let Some(v) = self.use_stream(name, &a.span) else {
                ok = false;
                continue;
            };
            let other = self.schema_of(&v);
            if !other.same_fields(&schema) {
                self.diagnostics.push(
                    Diagnostic::error(
                        format!("`union` needs streams of the same schema, but `{name}` differs"),
                        a.span.clone(),
                        format!("this is {}", other.describe()),
                    )
                    .with_related(
                        op.span.clone(),
                        format!("the input is {}", schema.describe()),
                    ),
                );
                ok = false;
                continue;
            }
            if v.timed != input.timed {
                self.diagnostics.push(
                    Diagnostic::error(
                        format!("`union` needs all or none of its streams to carry event time, and `{name}` differs from the input"),
                        a.span.clone(),
                        "event time differs",
                    )
                    .with_help("declare `with event_time(field)` on every source of the union, or on none"),
                );
                ok = false;
                continue;
            }
            others.push(v);
        }
        if !ok {
            return None;
        }
        let node = self.add_node(
            Operator::Union,
            schema,
            StateKind::Stateless,
            op.span.clone(),
        );
        self.connect(input, node, 0);
        for (i, v) in others.iter().enumerate() {
            self.connect(v, node, i + 1);
        }
        Some(StreamValue::new(node, input.timed))
    }
}

/// The schema of records built from `fields`; a list-valued field holds one element.
fn record_schema(fields: &[(String, TExpr)]) -> Arc<Schema> {
    Arc::new(Schema {
        rust: None,
        name: None,
        fields: fields
            .iter()
            .map(|(n, e)| Field {
                name: n.clone(),
                ty: match &e.ty {
                    Type::List(inner) => (**inner).clone(),
                    t => t.clone(),
                },
            })
            .collect(),
    })
}
