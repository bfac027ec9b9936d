//! How `.pipe` writes a sink's kind and destination: `csv("path")`, `jsonl("path")`,
//! `stdout()` or `stdout(jsonl)`, each optionally with `timestamps: rfc3339` (timestamp
//! fields as RFC 3339 text). The sink operator itself is `crate::ops::sink`.

use super::PipeFront;
use crate::diagnostics::did_you_mean;
use crate::diagnostics::Diagnostic;
use crate::ir::{OutputLocation, SinkFormat};
use crate::parse::ast::{Arg, Call};

impl PipeFront<'_> {
    /// The format and destination of sink call `call`, and whether it writes timestamps as
    /// RFC 3339 text.
    pub(super) fn sink_call(&mut self, call: &Call) -> Option<(SinkFormat, OutputLocation, bool)> {
        let rfc3339 = self.timestamps_option(call)?;
        let positional: Vec<Arg> = call
            .args
            .iter()
            .filter(|a| a.name.is_none())
            .cloned()
            .collect();
        let call = &Call {
            args: positional,
            ..call.clone()
        };
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
        Some((format, output, rfc3339))
    }

    /// `timestamps: rfc3339` (text) or `timestamps: millis` (the default) among the call's
    /// named arguments; any other named argument is a mistake.
    fn timestamps_option(&mut self, call: &Call) -> Option<bool> {
        let mut rfc3339 = false;
        for arg in &call.args {
            let Some(name) = &arg.name else { continue };
            if name.name != "timestamps" {
                let mut d = Diagnostic::error(
                    format!("unknown sink option `{}`", name.name),
                    name.span.clone(),
                    "not a sink option",
                )
                .with_help("a sink takes `timestamps: rfc3339` or `timestamps: millis`");
                if let Some(h) = did_you_mean(&name.name, ["timestamps"]) {
                    d = d.with_help(h);
                }
                self.diagnostics.push(d);
                return None;
            }
            rfc3339 = match self.word(&arg.value, "rfc3339 or millis")?.as_str() {
                "rfc3339" => true,
                "millis" => false,
                other => {
                    self.diagnostics.push(Diagnostic::error(
                        format!("unknown timestamp format `{other}`"),
                        arg.value.span.clone(),
                        "expected rfc3339 or millis",
                    ));
                    return None;
                }
            };
        }
        Some(rfc3339)
    }
}
