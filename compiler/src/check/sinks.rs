//! `sink`: where a pipeline's records go, and the sink's name for `--output`.

use super::spelling::did_you_mean;
use super::{Checker, StreamValue};
use crate::diagnostics::Diagnostic;
use crate::ir::{Operator, OutputLocation, SinkFormat, SinkOp, StateKind};
use crate::parse::ast::{Arg, Call, OpSyntax, Span};

impl Checker<'_> {
    pub(super) fn sink(
        &mut self,
        input: &StreamValue,
        op: &OpSyntax,
        name: Option<(&String, &Span)>,
        call: &Call,
    ) -> Option<()> {
        let kind = call.name.name.as_str();
        let (format, output) = match kind {
            "csv" | "jsonl" => {
                if call.args.len() > 1 {
                    self.diagnostics.push(Diagnostic::error(
                        format!("`{kind}` sinks take only a path"),
                        call.span.clone(),
                        "too many arguments",
                    ));
                    return None;
                }
                let path = self.path_arg(call)?;
                let format = if kind == "csv" {
                    SinkFormat::Csv
                } else {
                    SinkFormat::Jsonl
                };
                (format, OutputLocation::Path(path))
            }
            "stdout" => {
                let format = match call.args.as_slice() {
                    [] => SinkFormat::Csv,
                    [Arg {
                        name: None,
                        word: None,
                        value,
                    }] => match self.word(value, "csv or jsonl")?.as_str() {
                        "csv" => SinkFormat::Csv,
                        "jsonl" => SinkFormat::Jsonl,
                        other => {
                            self.diagnostics.push(Diagnostic::error(
                                format!("unknown output format `{other}`"),
                                value.span.clone(),
                                "expected csv or jsonl",
                            ));
                            return None;
                        }
                    },
                    _ => {
                        self.diagnostics.push(Diagnostic::error(
                            "`stdout` takes at most a format, csv or jsonl",
                            call.span.clone(),
                            "too many arguments",
                        ));
                        return None;
                    }
                };
                (format, OutputLocation::Stdout)
            }
            other => {
                let mut d = Diagnostic::error(
                    format!("unknown sink kind `{other}`"),
                    call.name.span.clone(),
                    "not a sink kind",
                )
                .with_help("the sink kinds are csv(path), jsonl(path) and stdout()");
                if let Some(h) = did_you_mean(other, ["csv", "jsonl", "stdout"]) {
                    d = d.with_help(h);
                }
                self.diagnostics.push(d);
                return None;
            }
        };
        let (sink_name, name_span) = match name {
            Some((n, s)) => (n.clone(), s.clone()),
            None => (default_sink_name(&output), call.span.clone()),
        };
        if let Some(first) = self.sinks.get(&sink_name) {
            let first = first.clone();
            self.diagnostics.push(
                Diagnostic::error(
                    format!("two sinks are named `{sink_name}`"),
                    name_span,
                    "second sink with this name",
                )
                .with_related(first, "first sink with this name")
                .with_help("name one explicitly: `sink other_name = csv(\"...\")`"),
            );
            return None;
        }
        self.sinks.insert(sink_name.clone(), name_span);
        let schema = self.schema_of(input);
        let node = self.add_node(
            Operator::Sink(SinkOp {
                name: sink_name,
                format,
                output,
            }),
            schema,
            StateKind::Stateless,
            op.span.clone(),
        );
        self.connect(input, node, 0);
        Some(())
    }
}

/// A sink's name when none is given: its file's stem, or `stdout`.
pub(crate) fn default_sink_name(output: &OutputLocation) -> String {
    match output {
        OutputLocation::Stdout => "stdout".into(),
        OutputLocation::Program => "program".into(),
        OutputLocation::Path(p) => std::path::Path::new(p)
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| !s.is_empty())
            .unwrap_or("output")
            .to_string(),
    }
}
