//! Inline sources: `iter(expr)` over anything iterable, and the file sources of `.pipe`
//! (`text`, `csv::<T>`, `jsonl::<T>`) reading into the user's record type; with event
//! time, watermarks, idleness and a bad-record policy as in `.pipe`.

use proc_macro2::Span;
use quote::{quote, ToTokens};
use syn::{Ident, LitStr};

use std::sync::Arc;

use super::front::{Guard, InlineFront};
use super::syntax::Call;
use super::time::duration;
use crate::diagnostics::did_you_mean;
use crate::ir::{
    EventTime, InputLocation, OnError, RustType, Schema, SourceFormat, SourceOp, WatermarkSpec,
};
use crate::lower::{OptionForms, SourceOption, WrittenOption};

const KINDS: &[&str] = &["iter", "text", "csv", "jsonl", "nexmark"];

/// A file source's arguments: the path, then `header: bool` and `delimiter: 'c'` for CSV.
struct FileArgs {
    path: String,
    header: bool,
    delimiter: u8,
}

impl InlineFront {
    /// The source a `source ...` head declares and its records' schema; `name` is the
    /// `let` naming it, if any, and `node` the index its node will have.
    pub(super) fn source(
        &mut self,
        name: Option<&Ident>,
        kind: &Call,
        with: &[Call],
        node: usize,
    ) -> Option<(SourceOp, Arc<Schema>)> {
        let name = name.map_or_else(|| format!("source_{}", self.sources), Ident::to_string);
        self.sources += 1;
        let kind_name = kind.name.to_string();
        if kind_name == "nexmark" {
            return self.nexmark_source(name, kind, with);
        }
        let (format, input, ty) = match kind_name.as_str() {
            "iter" => {
                let expr = self.one_arg(kind, "the values to read, as in `iter(records)`")?;
                let ty = self.param('R');
                let r = self.rust_fn(&expr, None, ty.clone());
                (SourceFormat::Iter(r), InputLocation::Program, ty)
            }
            "text" => {
                let args = self.file_args(kind, false)?;
                (
                    SourceFormat::Text,
                    InputLocation::Path(args.path),
                    RustType::path("String"),
                )
            }
            "csv" | "jsonl" => {
                let Some(t) = &kind.ty else {
                    return self.error(
                        kind.name.span(),
                        format!("`{kind_name}` needs the record type: `{kind_name}::<MyRecord>(\"path\")`"),
                    );
                };
                let ty = RustType::path(t.to_token_stream().to_string());
                let csv = kind_name == "csv";
                let args = self.file_args(kind, csv)?;
                let format = if csv {
                    self.bound(t_span(t), &ty, quote!(weir_runtime::Record));
                    self.check(t_span(t), "csv_records", &ty);
                    SourceFormat::Csv {
                        header: args.header,
                        delimiter: args.delimiter,
                    }
                } else {
                    self.bound(
                        t_span(t),
                        &ty,
                        quote!(weir_runtime::serde::de::DeserializeOwned),
                    );
                    SourceFormat::Jsonl
                };
                (format, InputLocation::Path(args.path), ty)
            }
            other => {
                let mut message = format!("unknown source kind `{other}`");
                match did_you_mean(other, KINDS.iter().copied()) {
                    Some(help) => message.push_str(&format!("; {help}")),
                    None => message.push_str("; sources are `iter(...)`, `text(\"path\")`, `csv::<T>(\"path\")`, `jsonl::<T>(\"path\")` and `nexmark(bid)`"),
                }
                return self.error(kind.name.span(), message);
            }
        };
        let mut op = SourceOp {
            name,
            format,
            input,
            on_error: OnError::Fail,
            event_time: None,
            follow: false,
            time_unit: crate::ir::TimeUnit::Milliseconds,
        };
        if matches!(op.format, SourceFormat::Iter(_)) {
            // The iterator's item type is known before any closure is read.
            let src = quote::format_ident!("{}", crate::ir::source_var_name(node));
            let w = quote::format_ident!("ty_{}", ty.to_string());
            self.push_guard(quote!(let #w = weir_runtime::inline_guard::items(&#src);));
        }
        self.with_clauses(&mut op, &ty, with)?;
        Some((op, Arc::new(Schema::rust(ty))))
    }

    /// `source nexmark(bid, events: 1_000_000)`: one of Nexmark's streams, whose records
    /// are `weir::nexmark::Bid` (or `Person`, `Auction`) values, with event time
    /// `date_time` (`lower::nexmark_spec` rules the settings).
    fn nexmark_source(
        &mut self,
        name: String,
        kind: &Call,
        with: &[Call],
    ) -> Option<(SourceOp, Arc<Schema>)> {
        let (stream, settings) = self.nexmark_settings(kind)?;
        let made = crate::lower::nexmark_spec(stream, kind.span(), settings);
        let (event, spec) = self.diagnostics.reported(made)?;
        let type_name = match event {
            weir_runtime::nexmark::EventKind::Person => "Person",
            weir_runtime::nexmark::EventKind::Auction => "Auction",
            weir_runtime::nexmark::EventKind::Bid => "Bid",
        };
        let ty = RustType::path(format!("weir_runtime::nexmark::{type_name}"));
        let mut op = SourceOp {
            name,
            format: SourceFormat::Nexmark(crate::ir::NexmarkStream {
                kind: event,
                spec: spec.clone(),
            }),
            input: InputLocation::Generated,
            on_error: OnError::Fail,
            event_time: None,
            follow: false,
            time_unit: crate::ir::TimeUnit::Milliseconds,
        };
        let options: Vec<WrittenOption<Span>> = with
            .iter()
            .map(|clause| WrittenOption {
                name: clause.name.to_string(),
                at: clause.span(),
                name_at: clause.name.span(),
                value: self.with_clause(clause, &ty),
            })
            .collect();
        let schema = crate::lower::nexmark_schema(event);
        let options = self.diagnostics.reported(crate::lower::nexmark_options(
            options,
            &spec,
            &schema,
            kind.span(),
        ))?;
        let options = self.nexmark_event_time(type_name, &ty, options);
        let forms = OptionForms {
            all: "`event_time(|r| ...)`, `watermark(...)` and `idle(...)`",
            event_time: "add `event_time(|e| e.date_time as i64)` to this source",
        };
        op.event_time = self
            .diagnostics
            .reported(crate::lower::source_options(options, &op.input, forms))?
            .event_time;
        Some((op, Arc::new(Schema::rust(ty))))
    }

    /// A `nexmark(...)` call's stream (its first word, if it has no value) and settings
    /// (`word: number`).
    #[allow(clippy::type_complexity)]
    fn nexmark_settings(
        &mut self,
        kind: &Call,
    ) -> Option<(
        Option<(String, Span)>,
        Vec<crate::lower::NexmarkSetting<Span>>,
    )> {
        type Setting = (Ident, Option<syn::LitInt>);
        let parsed = syn::parse::Parser::parse2(
            |input: syn::parse::ParseStream<'_>| {
                let mut out: Vec<Setting> = Vec::new();
                while !input.is_empty() {
                    let word: Ident = input.parse()?;
                    let value = if input.peek(syn::Token![:]) {
                        input.parse::<syn::Token![:]>()?;
                        Some(input.parse::<syn::LitInt>()?)
                    } else {
                        None
                    };
                    out.push((word, value));
                    if !input.is_empty() {
                        input.parse::<syn::Token![,]>()?;
                    }
                }
                Ok(out)
            },
            kind.args.clone(),
        );
        let args = match parsed {
            Ok(args) => args,
            Err(e) => return self.syn_error(e),
        };
        let mut stream = None;
        let mut settings = Vec::new();
        for (i, (word, value)) in args.into_iter().enumerate() {
            match value {
                None if i == 0 => stream = Some((word.to_string(), word.span())),
                None => {
                    return self.error(
                        word.span(),
                        format!(
                            "`{word}` needs a value: `{word}: 1000`; {}",
                            crate::lower::NEXMARK_FORMS
                        ),
                    )
                }
                Some(v) => {
                    let value = match v.base10_parse::<u64>() {
                        Ok(v) => Some(v),
                        Err(e) => return self.syn_error(e),
                    };
                    settings.push(crate::lower::NexmarkSetting {
                        name: word.to_string(),
                        at: word.span(),
                        value,
                    });
                }
            }
        }
        Some((stream, settings))
    }

    /// `options` with the event time `nexmark_options` filled in (the `.pipe` field's)
    /// read by a closure over the event of type `ty`, as inline event times are.
    fn nexmark_event_time(
        &mut self,
        type_name: &str,
        ty: &RustType,
        options: Vec<WrittenOption<Span>>,
    ) -> Vec<WrittenOption<Span>> {
        let time = {
            let t = quote::format_ident!("{type_name}");
            quote!(|e: &weir_runtime::nexmark::#t| e.date_time as i64)
        };
        let t = self.rust_fn(&time, Some(vec![ty.by_ref()]), RustType::path("i64"));
        let f = quote::format_ident!("{}", t.field_name());
        self.push_guard(quote!(let #f = #time;));
        options
            .into_iter()
            .map(|mut o| {
                if let Some(SourceOption::EventTime(et)) = &mut o.value {
                    if et.rust.is_none() {
                        et.rust = Some(t.clone());
                        et.field = 0;
                        et.field_name = "date_time".into();
                    }
                }
                o
            })
            .collect()
    }

    fn file_args(&mut self, call: &Call, csv: bool) -> Option<FileArgs> {
        let parsed = syn::parse::Parser::parse2(
            |input: syn::parse::ParseStream<'_>| {
                let path: LitStr = input.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "expected the file's path as a string, as in `\"data/bids.csv\"`",
                    )
                })?;
                let mut args = FileArgs {
                    path: path.value(),
                    header: true,
                    delimiter: b',',
                };
                while input.peek(syn::Token![,]) {
                    input.parse::<syn::Token![,]>()?;
                    if input.is_empty() {
                        break;
                    }
                    let key: Ident = input.parse()?;
                    input.parse::<syn::Token![:]>()?;
                    match key.to_string().as_str() {
                        "header" if csv => args.header = input.parse::<syn::LitBool>()?.value,
                        "delimiter" if csv => {
                            let c = input.parse::<syn::LitChar>()?;
                            args.delimiter = crate::ir::csv_delimiter(c.value())
                                .map_err(|why| syn::Error::new(c.span(), why))?;
                        }
                        _ => {
                            return Err(syn::Error::new(
                                key.span(),
                                format!(
                                    "unknown argument `{key}`{}",
                                    if csv {
                                        "; csv takes `header: bool` and `delimiter: 'c'`"
                                    } else {
                                        ""
                                    }
                                ),
                            ))
                        }
                    }
                }
                Ok(args)
            },
            call.args.clone(),
        );
        match parsed {
            Ok(a) => Some(a),
            Err(e) => self.syn_error(e),
        }
    }

    /// The source's `with` clauses, each read in Rust syntax and ruled by the shared
    /// lowering (`lower::source_options`).
    fn with_clauses(&mut self, op: &mut SourceOp, ty: &RustType, with: &[Call]) -> Option<()> {
        let options = with
            .iter()
            .map(|clause| WrittenOption {
                name: clause.name.to_string(),
                at: clause.span(),
                name_at: clause.name.span(),
                value: self.with_clause(clause, ty),
            })
            .collect();
        let forms = OptionForms {
            all:
                "`event_time(|r| ...)`, `watermark(...)`, `idle(...)`, `on_error(...)`, `time_unit(...)` and `follow`",
            event_time: "add `event_time(|r| r.ts)` to this source",
        };
        let made = self
            .diagnostics
            .reported(crate::lower::source_options(options, &op.input, forms))?;
        op.on_error = made.on_error;
        op.event_time = made.event_time;
        op.follow = made.follow;
        op.time_unit = made.time_unit;
        Some(())
    }

    /// What clause `clause` says, or `None` when its arguments are wrong (said here) or it
    /// is no option (said by the rules).
    fn with_clause(&mut self, clause: &Call, ty: &RustType) -> Option<SourceOption> {
        match clause.name.to_string().as_str() {
            "event_time" => {
                let f = self.one_closure(clause)?;
                let r = self.guarded(
                    &f,
                    Guard {
                        guard: "event_time",
                        input: ty,
                        inputs: vec![ty.by_ref()],
                        output: RustType::path("i64"),
                        outs: &[],
                        requirement: None,
                    },
                );
                Some(SourceOption::EventTime(EventTime {
                    field: 0,
                    field_name: r.text.clone(),
                    watermark: WatermarkSpec::Ascending,
                    idle: None,
                    rust: Some(r),
                }))
            }
            "watermark" => Some(SourceOption::Watermark(Some(self.watermark(clause)?), None)),
            "idle" => Some(SourceOption::Idle(self.duration_arg(clause)?)),
            "on_error" => Some(SourceOption::OnError(self.on_error(clause)?)),
            "time_unit" => {
                let unit = syn::parse2::<Ident>(clause.args.clone())
                    .ok()
                    .and_then(|u| crate::ir::TimeUnit::from_name(&u.to_string()));
                match unit {
                    Some(unit) => Some(SourceOption::TimeUnit(unit)),
                    None => self.error(clause.span(), crate::lower::TIME_UNIT_FORMS),
                }
            }
            "follow" if clause.args.is_empty() => Some(SourceOption::Follow),
            "follow" => self.error(clause.span(), "`follow` takes no arguments"),
            _ => None,
        }
    }

    fn watermark(&mut self, clause: &Call) -> Option<WatermarkSpec> {
        let parsed = syn::parse::Parser::parse2(
            |input: syn::parse::ParseStream<'_>| {
                let word: Ident = input.parse()?;
                match word.to_string().as_str() {
                    "ascending" => Ok(Err(WatermarkSpec::Ascending)),
                    "bounded" => Ok(Ok(input.parse::<syn::Lit>()?)),
                    _ => Err(syn::Error::new(
                        word.span(),
                        "a watermark is `bounded DURATION` (records out of order by at most that much) or `ascending`",
                    )),
                }
            },
            clause.args.clone(),
        );
        match parsed {
            Ok(Err(spec)) => Some(spec),
            Ok(Ok(lit)) => match duration(&lit) {
                Ok(ms) => Some(WatermarkSpec::Bounded(ms)),
                Err(e) => self.syn_error(e),
            },
            Err(e) => self.syn_error(e),
        }
    }

    /// A call whose one argument is a duration (`idle(30s)`).
    pub(super) fn duration_arg(&mut self, call: &Call) -> Option<i64> {
        match syn::parse2::<syn::Lit>(call.args.clone()) {
            Ok(lit) => match duration(&lit) {
                Ok(ms) => Some(ms),
                Err(e) => self.syn_error(e),
            },
            Err(_) => self.error(
                call.span(),
                format!(
                    "`{}` takes a duration, as in `{}(30s)`",
                    call.name, call.name
                ),
            ),
        }
    }

    fn on_error(&mut self, clause: &Call) -> Option<OnError> {
        let parsed = syn::parse::Parser::parse2(
            |input: syn::parse::ParseStream<'_>| {
                let word: Ident = input.parse()?;
                match word.to_string().as_str() {
                    "fail" => Ok(OnError::Fail),
                    "skip" => Ok(OnError::Skip),
                    "dead_letter" => {
                        let content;
                        syn::parenthesized!(content in input);
                        Ok(OnError::DeadLetter(content.parse::<LitStr>()?.value()))
                    }
                    _ => Err(syn::Error::new(
                        word.span(),
                        "a bad-record policy is `fail`, `skip` or `dead_letter(\"path\")`",
                    )),
                }
            },
            clause.args.clone(),
        );
        match parsed {
            Ok(p) => Some(p),
            Err(e) => self.syn_error(e),
        }
    }
}

fn t_span(t: &syn::Type) -> Span {
    syn::spanned::Spanned::span(t)
}
