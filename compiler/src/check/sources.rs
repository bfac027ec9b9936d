//! `source` declarations: kind, location, schema and options.

use std::sync::Arc;

use super::PipeFront;
use crate::diagnostics::did_you_mean;
use crate::diagnostics::Diagnostic;
use crate::ir::{
    EventTime, Field, InputLocation, OnError, Schema, SourceFormat, SourceOp, Type, WatermarkSpec,
};
use crate::lower::{OptionForms, SourceOption, SourceSettings, WrittenOption};
use crate::parse::ast::{Arg, Call, Expr, ExprKind, SourceDecl};

const KINDS: &[&str] = &["text", "csv", "jsonl", "stdin", "nexmark"];

impl PipeFront<'_> {
    /// The source `s` declares and its records' schema, or `None` after reporting.
    pub(super) fn source(&mut self, s: &SourceDecl) -> Option<(SourceOp, Arc<Schema>)> {
        let kind = s.kind.name.name.as_str();
        if kind == "nexmark" {
            return self.nexmark_source(s);
        }
        let (format, input) = match kind {
            "text" | "csv" | "jsonl" => {
                let path = self.path_arg(&s.kind);
                let format = self.format(kind, &s.kind, 1);
                (format, path.map(InputLocation::Path))
            }
            "stdin" => {
                let format = match s.kind.args.first() {
                    Some(Arg {
                        name: None,
                        word: None,
                        value,
                    }) => {
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
                .with_help("the source kinds are text(path), csv(path), jsonl(path), stdin() and nexmark(stream)");
                if let Some(h) = did_you_mean(other, KINDS.iter().copied()) {
                    d = d.with_help(h);
                }
                self.diagnostics.push(d);
                return None;
            }
        };
        let format = format?;
        let schema = self.source_schema(s, &format);
        // A path that could not be read (said already) still lets the options be checked.
        let reads = input.clone().unwrap_or(InputLocation::Path(String::new()));
        let options = self.source_options(s, schema.as_deref(), &reads);
        let (schema, made, input) = (schema?, options?, input?);
        let op = SourceOp {
            name: s.name.name.clone(),
            format,
            input,
            on_error: made.on_error,
            event_time: made.event_time,
            follow: made.follow,
            time_unit: made.time_unit,
        };
        Some((op, schema))
    }

    /// `source bids = nexmark(bid, events: 1000000) [with watermark(...)]`: one of
    /// Nexmark's streams, with its own schema and event time (`lower::nexmark_spec`).
    fn nexmark_source(&mut self, s: &SourceDecl) -> Option<(SourceOp, Arc<Schema>)> {
        let call = &s.kind;
        let (stream, settings, mut ok) = self.nexmark_settings(call);
        if let Some(schema) = &s.schema {
            self.diagnostics.push(
                Diagnostic::error(
                    "a Nexmark source brings its own schema",
                    schema.span.clone(),
                    "not for a Nexmark source",
                )
                .with_help("leave it out: `source bids = nexmark(bid)` has Nexmark's fields"),
            );
            ok = false;
        }
        let made = crate::lower::nexmark_spec(stream, call.span.clone(), settings);
        let (kind, spec) = self.diagnostics.reported(made)?;
        let schema = crate::lower::nexmark_schema(kind);
        let options = s
            .options
            .iter()
            .map(|opt| WrittenOption {
                name: opt.name.name.clone(),
                at: opt.span.clone(),
                name_at: opt.name.span.clone(),
                value: self.source_option(opt, Some(&schema)),
            })
            .collect();
        let options = crate::lower::nexmark_options(options, &spec, &schema, call.span.clone());
        let forms = OptionForms {
            all: "event_time(field), watermark(...) and idle(duration)",
            event_time: "add `event_time(date_time)`",
        };
        let made = self.diagnostics.reported(
            options.and_then(|o| crate::lower::source_options(o, &InputLocation::Generated, forms)),
        )?;
        if !ok {
            return None;
        }
        let op = SourceOp {
            name: s.name.name.clone(),
            format: SourceFormat::Nexmark(crate::ir::NexmarkStream { kind, spec }),
            input: InputLocation::Generated,
            on_error: made.on_error,
            event_time: made.event_time,
            follow: false,
            time_unit: made.time_unit,
        };
        Some((op, Arc::new(schema)))
    }

    /// A `nexmark(...)` call's stream (its first word) and settings (`name: number`), and
    /// whether every argument was one of those (the others are reported).
    fn nexmark_settings(
        &mut self,
        call: &Call,
    ) -> (
        Option<(String, crate::parse::ast::Span)>,
        Vec<crate::lower::NexmarkSetting<crate::parse::ast::Span>>,
        bool,
    ) {
        let mut stream = None;
        let mut settings = Vec::new();
        let mut ok = true;
        for (i, arg) in call.args.iter().enumerate() {
            match (&arg.name, &arg.value.kind) {
                (None, ExprKind::Name(w)) if i == 0 && arg.word.is_none() => {
                    stream = Some((w.clone(), arg.value.span.clone()));
                }
                (Some(n), value) if arg.word.is_none() => {
                    let value = match value {
                        ExprKind::Int(v) => Some(*v),
                        _ => {
                            self.diagnostics.push(Diagnostic::error(
                                format!("`{}` takes a whole number", n.name),
                                arg.value.span.clone(),
                                "not a whole number",
                            ));
                            None
                        }
                    };
                    settings.push(crate::lower::NexmarkSetting {
                        name: n.name.clone(),
                        at: n.span.start..arg.value.span.end,
                        value,
                    });
                }
                _ => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            "unexpected argument to `nexmark`",
                            arg.value.span.clone(),
                            "not an argument of this source",
                        )
                        .with_help(crate::lower::NEXMARK_FORMS),
                    );
                    ok = false;
                }
            }
        }
        (stream, settings, ok)
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
                    ExprKind::Str(d) if d.chars().count() == 1 => {
                        match crate::ir::csv_delimiter(d.chars().next().expect("one")) {
                            Ok(d) => delimiter = d,
                            Err(why) => {
                                self.diagnostics.push(Diagnostic::error(
                                    why,
                                    arg.value.span.clone(),
                                    "not a delimiter CSV can have",
                                ));
                                ok = false;
                            }
                        }
                    }
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
                    rust: None,
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
            if self.unparsed_schemas.contains(&name.name) {
                return None;
            }
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

    /// `with on_error(...), event_time(field), watermark(...), idle(...), follow`.
    /// The source's options, each read in `.pipe` syntax and ruled by the shared lowering
    /// (`lower::source_options`).
    fn source_options(
        &mut self,
        s: &SourceDecl,
        schema: Option<&Schema>,
        input: &InputLocation,
    ) -> Option<SourceSettings> {
        let options = s
            .options
            .iter()
            .map(|opt| WrittenOption {
                name: opt.name.name.clone(),
                at: opt.span.clone(),
                name_at: opt.name.span.clone(),
                value: self.source_option(opt, schema),
            })
            .collect();
        let forms = OptionForms {
            all: "on_error(...), event_time(field), watermark(...), idle(duration), time_unit(...) and follow",
            event_time: "add `event_time(field)` naming the source's timestamp field",
        };
        self.diagnostics
            .reported(crate::lower::source_options(options, input, forms))
    }

    /// What option `opt` says, or `None` when its arguments are wrong (said here) or it is
    /// no option (said by the rules).
    fn source_option(&mut self, opt: &Call, schema: Option<&Schema>) -> Option<SourceOption> {
        let lone = |opt: &Call| match opt.args.as_slice() {
            [Arg {
                name: None,
                word: None,
                value,
            }] => Some(value.clone()),
            _ => None,
        };
        match opt.name.name.as_str() {
            "on_error" => {
                let policy = lone(opt).and_then(|value| self.policy(&value));
                if policy.is_none() {
                    self.option_error(
                        opt,
                        "on_error takes one policy: fail, skip or dead_letter(\"path\")",
                    );
                }
                policy.map(SourceOption::OnError)
            }
            "event_time" => {
                let schema = schema?;
                let Some(Expr {
                    kind: ExprKind::Name(n),
                    span,
                }) = lone(opt)
                else {
                    self.option_error(opt, "event_time takes the name of a timestamp field");
                    return None;
                };
                match schema.index_of(&n) {
                    Some(i) if schema.fields[i].ty == Type::Timestamp => {
                        Some(SourceOption::EventTime(EventTime {
                            rust: None,
                            field: i,
                            field_name: n.clone(),
                            watermark: WatermarkSpec::Ascending,
                            idle: None,
                        }))
                    }
                    Some(i) => {
                        self.diagnostics.push(
                            Diagnostic::error(
                                format!(
                                    "event time must be a timestamp field, but `{n}` is {}",
                                    schema.fields[i].ty
                                ),
                                span,
                                "not a timestamp",
                            )
                            .with_help(
                                "declare the field as `timestamp` (milliseconds since the epoch)",
                            ),
                        );
                        None
                    }
                    None => {
                        let d = Diagnostic::error(
                            format!("unknown field `{n}`"),
                            span,
                            format!("not a field of {}", schema.describe()),
                        )
                        .with_help_opt(did_you_mean(
                            &n,
                            schema.fields.iter().map(|f| f.name.as_str()),
                        ));
                        self.diagnostics.push(d);
                        None
                    }
                }
            }
            "watermark" => {
                let (mut spec, mut idle) = (None, None);
                for arg in &opt.args {
                    match (
                        arg.name.as_ref(),
                        arg.word.as_ref().map(|w| w.name.as_str()),
                        &arg.value.kind,
                    ) {
                        (None, Some("bounded"), ExprKind::Duration(ms)) => {
                            spec = Some(WatermarkSpec::Bounded(*ms as i64))
                        }
                        (None, Some("idle"), ExprKind::Duration(ms)) => idle = Some(*ms as i64),
                        (None, None, ExprKind::Name(n)) if n == "ascending" => {
                            spec = Some(WatermarkSpec::Ascending)
                        }
                        _ => {
                            self.option_error(opt, "watermark takes `bounded <duration>` or `ascending`, and optionally `idle <duration>`");
                            return None;
                        }
                    }
                }
                Some(SourceOption::Watermark(spec, idle))
            }
            "idle" => match lone(opt).map(|v| v.kind) {
                Some(ExprKind::Duration(ms)) => Some(SourceOption::Idle(ms as i64)),
                _ => {
                    self.option_error(opt, "idle takes a duration, such as idle(30s)");
                    None
                }
            },
            "time_unit" => match lone(opt).map(|v| v.kind) {
                Some(ExprKind::Name(n)) if crate::ir::TimeUnit::from_name(&n).is_some() => {
                    crate::ir::TimeUnit::from_name(&n).map(SourceOption::TimeUnit)
                }
                _ => {
                    self.option_error(opt, crate::lower::TIME_UNIT_FORMS);
                    None
                }
            },
            "follow" if opt.args.is_empty() => Some(SourceOption::Follow),
            "follow" => {
                self.option_error(opt, "follow takes no arguments: `with follow`");
                None
            }
            _ => None,
        }
    }

    fn option_error(&mut self, opt: &Call, message: &str) -> bool {
        self.diagnostics
            .push(Diagnostic::error(message, opt.span.clone(), "here"));
        false
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
                word: None,
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
