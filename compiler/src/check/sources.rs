//! `source` declarations: kind, location, schema and options.

use std::sync::Arc;

use super::spelling::did_you_mean;
use super::{Checker, StreamValue};
use crate::diagnostics::Diagnostic;
use crate::ir::{
    Field, InputLocation, OnError, Operator, Schema, SourceFormat, SourceOp, StateKind, Type,
};
use crate::parse::ast::{Arg, Call, Expr, ExprKind, SourceDecl};

const KINDS: &[&str] = &["text", "csv", "jsonl", "stdin"];

impl Checker<'_> {
    pub(super) fn source(&mut self, s: &SourceDecl) -> Option<StreamValue> {
        let kind = s.kind.name.name.as_str();
        let (format, input) = match kind {
            "text" | "csv" | "jsonl" => {
                let path = self.path_arg(&s.kind);
                let format = self.format(kind, &s.kind, 1);
                (format, path.map(InputLocation::Path))
            }
            "stdin" => {
                let format = match s.kind.args.first() {
                    Some(Arg { name: None, value }) => {
                        let word = self.word(value, "a format: text, csv or jsonl")?;
                        if !["text", "csv", "jsonl"].contains(&word.as_str()) {
                            self.diagnostics.push(Diagnostic::error(
                                format!("unknown input format `{word}`"),
                                value.span.clone(),
                                "expected text, csv or jsonl",
                            ));
                            return None;
                        }
                        self.format(&word, &s.kind, 1)
                    }
                    _ => self.format("text", &s.kind, 0),
                };
                (format, Some(InputLocation::Stdin))
            }
            other => {
                let mut d = Diagnostic::error(
                    format!("unknown source kind `{other}`"),
                    s.kind.name.span.clone(),
                    "not a source kind",
                )
                .with_help("the source kinds are text(path), csv(path), jsonl(path) and stdin()");
                if let Some(h) = did_you_mean(other, KINDS.iter().copied()) {
                    d = d.with_help(h);
                }
                self.diagnostics.push(d);
                return None;
            }
        };
        let format = format?;
        let schema = self.source_schema(s, &format);
        let on_error = self.source_options(s);
        let (schema, on_error, input) = (schema?, on_error?, input?);
        let op = Operator::Source(SourceOp {
            name: s.name.name.clone(),
            format,
            input,
            on_error,
        });
        let node = self.add_node(op, schema, StateKind::Stateless, s.span.clone());
        Some(StreamValue { node, key: None })
    }

    fn format(&mut self, kind: &str, call: &Call, positional: usize) -> Option<SourceFormat> {
        let mut header = true;
        let mut delimiter = b',';
        let mut ok = true;
        for (i, arg) in call.args.iter().enumerate() {
            match (&arg.name, kind) {
                (None, _) if i < positional => {}
                (Some(n), "csv") if n.name == "header" => match arg.value.kind {
                    ExprKind::Bool(b) => header = b,
                    _ => {
                        self.diagnostics.push(Diagnostic::error(
                            "`header` takes true or false",
                            arg.value.span.clone(),
                            "not a bool literal",
                        ));
                        ok = false;
                    }
                },
                (Some(n), "csv") if n.name == "delimiter" => match &arg.value.kind {
                    ExprKind::Str(d) if d.len() == 1 && d.is_ascii() => delimiter = d.as_bytes()[0],
                    _ => {
                        self.diagnostics.push(Diagnostic::error(
                            "`delimiter` takes a string of one ASCII character, such as \";\"",
                            arg.value.span.clone(),
                            "not a single-character string",
                        ));
                        ok = false;
                    }
                },
                _ => {
                    let span = arg
                        .name
                        .as_ref()
                        .map_or(arg.value.span.clone(), |n| n.span.clone());
                    let allowed = if kind == "csv" {
                        "csv takes a path, then `header: bool` and `delimiter: \"c\"`"
                    } else {
                        "this source takes only its path"
                    };
                    self.diagnostics.push(
                        Diagnostic::error(
                            format!("unexpected argument to `{}`", call.name.name),
                            span,
                            "not an argument of this source",
                        )
                        .with_help(allowed),
                    );
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        Some(match kind {
            "csv" => SourceFormat::Csv { header, delimiter },
            "jsonl" => SourceFormat::Jsonl,
            _ => SourceFormat::Text,
        })
    }

    fn source_schema(&mut self, s: &SourceDecl, format: &SourceFormat) -> Option<Arc<Schema>> {
        let Some(name) = &s.schema else {
            if *format == SourceFormat::Text {
                return Some(Arc::new(Schema {
                    name: None,
                    fields: vec![Field {
                        name: "line".into(),
                        ty: Type::Str,
                    }],
                }));
            }
            self.diagnostics.push(
                Diagnostic::error(
                    format!("source `{}` needs a schema", s.name.name),
                    s.name.span.clone(),
                    "no schema given",
                )
                .with_help(format!(
                    "declare one and name it: `source {}: MySchema = ...`",
                    s.name.name
                )),
            );
            return None;
        };
        let Some((schema, _)) = self.schemas.get(&name.name) else {
            let mut d = Diagnostic::error(
                format!("unknown schema `{}`", name.name),
                name.span.clone(),
                "no `schema` declares this name",
            );
            if let Some(h) = did_you_mean(&name.name, self.schemas.keys().map(String::as_str)) {
                d = d.with_help(h);
            }
            self.diagnostics.push(d);
            return None;
        };
        let schema = schema.clone();
        if *format == SourceFormat::Text
            && (schema.fields.len() != 1 || schema.fields[0].ty != Type::Str)
        {
            self.diagnostics.push(Diagnostic::error(
                "a text source's schema must have exactly one field, of type str",
                name.span.clone(),
                format!("this schema is {}", schema.describe()),
            ));
            return None;
        }
        Some(schema)
    }

    fn source_options(&mut self, s: &SourceDecl) -> Option<OnError> {
        let mut on_error = OnError::Fail;
        for opt in &s.options {
            if opt.name.name != "on_error" {
                self.diagnostics.push(
                    Diagnostic::error(
                        format!("unknown source option `{}`", opt.name.name),
                        opt.name.span.clone(),
                        "not an option",
                    )
                    .with_help("sources take `with on_error(fail | skip | dead_letter(\"path\"))`"),
                );
                return None;
            }
            let policy = match opt.args.as_slice() {
                [Arg { name: None, value }] => self.policy(value),
                _ => None,
            };
            match policy {
                Some(p) => on_error = p,
                None => {
                    self.diagnostics.push(Diagnostic::error(
                        "on_error takes one policy: fail, skip or dead_letter(\"path\")",
                        opt.span.clone(),
                        "not a policy",
                    ));
                    return None;
                }
            }
        }
        Some(on_error)
    }

    fn policy(&mut self, value: &Expr) -> Option<OnError> {
        match &value.kind {
            ExprKind::Name(n) if n == "fail" => Some(OnError::Fail),
            ExprKind::Name(n) if n == "skip" => Some(OnError::Skip),
            ExprKind::Call(f, args) if f.name == "dead_letter" => match args.as_slice() {
                [Expr {
                    kind: ExprKind::Str(p),
                    ..
                }] => Some(OnError::DeadLetter(p.clone())),
                _ => None,
            },
            _ => None,
        }
    }

    /// The first argument of a file source: a string literal path.
    pub(super) fn path_arg(&mut self, call: &Call) -> Option<String> {
        match call.args.first() {
            Some(Arg {
                name: None,
                value:
                    Expr {
                        kind: ExprKind::Str(p),
                        ..
                    },
            }) => Some(p.clone()),
            _ => {
                self.diagnostics.push(
                    Diagnostic::error(
                        format!(
                            "`{}` needs a file path as its first argument",
                            call.name.name
                        ),
                        call.span.clone(),
                        "no path",
                    )
                    .with_help(format!("write {}(\"path/to/file\")", call.name.name)),
                );
                None
            }
        }
    }

    /// A bare word argument such as `csv` or `skip`.
    pub(super) fn word(&mut self, value: &Expr, what: &str) -> Option<String> {
        match &value.kind {
            ExprKind::Name(n) => Some(n.clone()),
            _ => {
                self.diagnostics.push(Diagnostic::error(
                    format!("expected {what}"),
                    value.span.clone(),
                    "here",
                ));
                None
            }
        }
    }
}
