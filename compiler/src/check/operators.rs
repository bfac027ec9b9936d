//! Operators after `|>`: each is checked against its input stream and becomes a node.

use std::sync::Arc;

use super::spelling::did_you_mean;
use super::types::{ExprChecker, ListUse};
use super::{Checker, Key, StreamValue};
use crate::diagnostics::Diagnostic;
use crate::ir::{AggFunc, AggregateField, Field, Operator, Schema, StateKind, TExpr, Type};
use crate::parse::ast::{Expr, ExprKind, FieldInit, OpBody, OpSyntax};

/// The operator names, for suggestions and help.
const OPERATORS: &[&str] = &[
    "filter",
    "map",
    "flat_map",
    "key_by",
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
        self.stateless(input, Operator::Filter { predicate }, schema, &op.span)
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
        Some(StreamValue { node, key: None })
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
            name: None,
            fields: out_fields,
        });
        let node = self.add_node(
            Operator::Aggregate {
                key: key.indexes.clone(),
                aggregates,
            },
            out,
            StateKind::Keyed,
            op.span.clone(),
        );
        self.connect(input, node, 0);
        Some(StreamValue { node, key: None })
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
        let wanted = usize::from(func != AggFunc::Count);
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
        let ty = match (&arg, func) {
            (None, _) => Type::U64,
            (Some(_), AggFunc::Avg) => Type::F64,
            (Some(a), _) => a.ty.clone(),
        };
        if let Some(a) = &arg {
            let allowed = a.ty.is_numeric()
                || (a.ty == Type::Timestamp && matches!(func, AggFunc::Min | AggFunc::Max));
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
            arg,
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
        Some(StreamValue { node, key: None })
    }
}

/// The schema of records built from `fields`; a list-valued field holds one element.
fn record_schema(fields: &[(String, TExpr)]) -> Arc<Schema> {
    Arc::new(Schema {
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
