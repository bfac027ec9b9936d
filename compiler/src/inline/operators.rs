//! Inline operators: each `|> call(...)` step becomes the same IR operator as its `.pipe`
//! twin, with the user's closures as its code and generic parameters as its types.

use quote::quote;
use syn::spanned::Spanned;

use super::lower::{Lowering, Stream};
use super::syntax::Call;
use super::time::window_phrases;
use crate::check::spelling::did_you_mean;
use crate::ir::{
    AggFunc, AggregateField, Code, KeySpec, Operator, OutputLocation, SinkFormat, SinkOp,
    StateKind, Type,
};

/// Every operator and sink step, for suggestions.
const STEPS: &[&str] = &[
    "filter",
    "map",
    "flat_map",
    "value",
    "window",
    "aggregate",
    "union",
    "collect",
    "for_each",
];

impl Lowering {
    /// The stream after `call` on `input`: `Some(None)` when the step is a sink, `None`
    /// after an error.
    pub(super) fn operator(&mut self, input: &Stream, call: &Call) -> Option<Option<Stream>> {
        let name = call.name.to_string();
        if input.window.is_some() && name != "aggregate" {
            return self.error(
                call.name.span(),
                format!("`window(...)` must be followed by `aggregate(...)`, not `{name}`"),
            );
        }
        let next = match name.as_str() {
            "filter" => {
                let f = self.one_closure(call)?;
                let r = self.guarded(
                    &f,
                    "filter",
                    &input.ty,
                    vec![format!("&{}", input.ty)],
                    "bool".into(),
                    &[],
                    None,
                );
                let op = Operator::Filter {
                    predicate: Code::Rust(r),
                };
                self.stateless(input, op, input.ty.clone())
            }
            "map" => {
                let f = self.one_closure(call)?;
                let out = self.param("R");
                let r = self.guarded(
                    &f,
                    "map",
                    &input.ty,
                    vec![input.ty.clone()],
                    out.clone(),
                    &[&out],
                    None,
                );
                self.stateless(input, Operator::RustMap(r), out)
            }
            "flat_map" => {
                let f = self.one_closure(call)?;
                let out = self.param("R");
                let items = self.param("I");
                let item: proc_macro2::TokenStream = out.parse().expect("a generated name");
                self.bound(
                    f.span(),
                    &items,
                    quote!(::core::iter::IntoIterator<Item = #item>),
                );
                let r = self.guarded(
                    &f,
                    "flat_map",
                    &input.ty,
                    vec![input.ty.clone()],
                    items.clone(),
                    &[&out, &items],
                    None,
                );
                self.stateless(input, Operator::RustFlatMap(r), out)
            }
            "key_by" => {
                let f = self.one_closure(call)?;
                let key = self.param("K");
                self.bound(f.span(), &key, quote!(weir_runtime::Layout));
                let r = self.guarded(
                    &f,
                    "value",
                    &input.ty,
                    vec![format!("&{}", input.ty)],
                    key.clone(),
                    &[&key],
                    Some("layout"),
                );
                Stream {
                    key: Some(r),
                    ..input.clone()
                }
            }
            "window" => {
                if input.key.is_none() {
                    return self.error(
                        call.name.span(),
                        "`window` needs a keyed stream: add `|> key_by(|r| ...)` before it",
                    );
                }
                let w = match window_phrases(call.args.clone(), call.span()) {
                    Ok(w) => w,
                    Err(e) => return self.syn_error(e),
                };
                if !w.kind.is_valid() {
                    return self.error(call.span(), "window lengths must be positive, and an offset shorter than the window's step");
                }
                let late_data = w.lateness > 0 || w.late.is_some();
                if let Some(p) = w.kind.problem(w.time, late_data, input.timed) {
                    return self.error(call.span(), format!("{}: {}", p.message(), p.label()));
                }
                Stream {
                    window: Some(w),
                    ..input.clone()
                }
            }
            "aggregate" => self.aggregate(input, call)?,
            "union" => self.union(input, call)?,
            "collect" => {
                if !call.args.is_empty() {
                    return self.error(call.parens, "`collect()` takes no arguments");
                }
                return self.sink(input, SinkFormat::Collect, OutputLocation::Program);
            }
            "for_each" => {
                let f = self.one_closure(call)?;
                let r = self.guarded(
                    &f,
                    "for_each",
                    &input.ty,
                    vec![input.ty.clone()],
                    "()".into(),
                    &[],
                    None,
                );
                return self.sink(input, SinkFormat::ForEach(r), OutputLocation::Program);
            }
            "csv" | "jsonl" => {
                return self.error(
                    call.name.span(),
                    format!("a file sink is written `sink {name}(\"path\")`"),
                )
            }
            other => {
                let mut message = format!("unknown operator `{other}`");
                match did_you_mean(other, STEPS.iter().copied()) {
                    Some(help) => message.push_str(&format!("; {help}")),
                    None => message.push_str(&format!("; the steps are {}", STEPS.join(", "))),
                }
                return self.error(call.name.span(), message);
            }
        };
        Some(Some(next))
    }

    fn stateless(&mut self, input: &Stream, op: Operator, ty: String) -> Stream {
        let node = self.node(op, &ty, StateKind::Stateless);
        self.connect(input, node, 0, None);
        Stream {
            node,
            ty,
            key: None,
            timed: input.timed,
            window: None,
        }
    }

    /// `aggregate(count(), sum(|r| r.x), ...)`, after `key_by` (and maybe `window`): one
    /// tuple per key (and window) of the key, the window's bounds, and each aggregate.
    fn aggregate(&mut self, input: &Stream, call: &Call) -> Option<Stream> {
        let Some(key) = input.key.clone() else {
            return self.error(
                call.name.span(),
                "`aggregate` needs a keyed stream: add `|> key_by(|r| ...)` before it",
            );
        };
        let mut aggregates = Vec::new();
        let mut columns = vec![key.output.clone()];
        if input.window.as_ref().is_some_and(|w| w.kind.has_bounds()) {
            columns.extend(["i64".to_string(), "i64".to_string()]);
        }
        for (i, agg) in self.exprs(call)?.into_iter().enumerate() {
            let a = self.aggregate_field(input, i, &agg)?;
            columns.push(a.ty.to_string());
            aggregates.push(a);
        }
        if aggregates.is_empty() {
            return self.error(
                call.parens,
                "`aggregate` needs at least one aggregate, as in `aggregate(count())`",
            );
        }
        let ty = format!("({},)", columns.join(", "));
        let key = KeySpec::Rust(key);
        let op = match &input.window {
            None => Operator::Aggregate {
                key: key.clone(),
                aggregates,
            },
            Some(w) => Operator::WindowAggregate {
                key: key.clone(),
                window: w.kind,
                time: w.time,
                lateness: w.lateness,
                aggregates,
            },
        };
        let node = self.node(op, &ty, StateKind::Keyed);
        self.connect(input, node, 0, Some(&key));
        if let Some(late) = input.window.as_ref().and_then(|w| w.late.clone()) {
            let records = self.node(Operator::LateRecords, &input.ty, StateKind::Stateless);
            self.connect_late(node, records);
            let late_stream = Stream {
                node: records,
                ty: input.ty.clone(),
                key: None,
                timed: input.timed,
                window: None,
            };
            self.define(late, late_stream);
        }
        Some(Stream {
            node,
            ty,
            key: None,
            timed: input.timed,
            window: None,
        })
    }

    /// One aggregate: `count()`, `sum(f)`, `min(f)`, `max(f)`, `avg(f)`, `first(f)`,
    /// `last(f)` or `reduce(f, |a, b| ...)`.
    fn aggregate_field(
        &mut self,
        input: &Stream,
        i: usize,
        agg: &syn::Expr,
    ) -> Option<AggregateField> {
        let syn::Expr::Call(c) = agg else {
            return self.error(
                agg.span(),
                "expected an aggregate such as `count()` or `sum(|r| r.price)`",
            );
        };
        let name = match &*c.func {
            syn::Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        };
        let Some(func) = name.as_deref().and_then(AggFunc::from_name) else {
            let written = quote!(#c.func).to_string();
            let mut message = format!(
                "unknown aggregate `{}`",
                name.as_deref().unwrap_or(&written)
            );
            if let Some(help) = name
                .as_deref()
                .and_then(|n| did_you_mean(n, AggFunc::NAMES.iter().copied()))
            {
                message.push_str(&format!("; {help}"));
            } else {
                message.push_str(&format!("; aggregates are {}", AggFunc::NAMES.join(", ")));
            }
            return self.error(c.func.span(), message);
        };
        let args: Vec<&syn::Expr> = c.args.iter().collect();
        let wanted = match func {
            AggFunc::Count => 0,
            AggFunc::Reduce => 2,
            _ => 1,
        };
        if args.len() != wanted {
            let example = match func {
                AggFunc::Count => "count()".to_string(),
                AggFunc::Reduce => "reduce(|r| r.x, |a, b| a + b)".to_string(),
                f => format!("{}(|r| r.x)", f.name()),
            };
            return self.error(
                c.span(),
                format!(
                    "`{}` takes {wanted} argument(s), as in `{example}`; found {}",
                    func.name(),
                    args.len()
                ),
            );
        }
        let (arg, combine, ty) = match args.as_slice() {
            [] => (None, None, Type::U64),
            [f, rest @ ..] => {
                let value = self.param("A");
                let (bound, guard) = match func {
                    AggFunc::Sum | AggFunc::Min | AggFunc::Max | AggFunc::Avg => {
                        (quote!(weir_runtime::state::AggNumber), "number")
                    }
                    _ => (quote!(weir_runtime::state::AccWord), "word"),
                };
                self.bound(f.span(), &value, bound);
                let reads = vec![format!("&{}", input.ty)];
                let arg = self.guarded(
                    f,
                    "value",
                    &input.ty,
                    reads,
                    value.clone(),
                    &[&value],
                    Some(guard),
                );
                let combine = rest.first().map(|g| {
                    let pair = vec![value.clone(), value.clone()];
                    Code::Rust(self.guarded(g, "combine", &value, pair, value.clone(), &[], None))
                });
                let ty = if func == AggFunc::Avg {
                    Type::F64
                } else {
                    Type::Rust(value)
                };
                (Some(Code::Rust(arg)), combine, ty)
            }
        };
        Some(AggregateField {
            name: format!("{}_{i}", func.name()),
            func,
            arg,
            combine,
            ty,
        })
    }

    /// `a |> union(b, c)`: records of every input, in one stream.
    fn union(&mut self, input: &Stream, call: &Call) -> Option<Stream> {
        let names = syn::parse::Parser::parse2(
            syn::punctuated::Punctuated::<syn::Ident, syn::Token![,]>::parse_terminated,
            call.args.clone(),
        );
        let names = match names {
            Ok(n) if !n.is_empty() => n,
            Ok(_) => {
                return self.error(
                    call.parens,
                    "`union` needs the streams to merge, as in `union(other)`",
                )
            }
            Err(e) => return self.syn_error(e),
        };
        let others: Vec<Stream> = names
            .iter()
            .map(|n| self.use_stream(n))
            .collect::<Option<_>>()?;
        let node = self.node(Operator::Union, &input.ty, StateKind::Stateless);
        self.connect(input, node, 0, None);
        for (port, other) in others.iter().enumerate() {
            self.connect(other, node, port + 1, None);
        }
        Some(Stream {
            node,
            ty: input.ty.clone(),
            key: None,
            timed: input.timed && others.iter().all(|o| o.timed),
            window: None,
        })
    }

    /// `sink csv("path")` or `sink jsonl("path")`.
    pub(super) fn file_sink(&mut self, input: &Stream, kind: &Call) -> Option<Option<Stream>> {
        let format = match kind.name.to_string().as_str() {
            "csv" => {
                self.bound(kind.name.span(), &input.ty, quote!(weir_runtime::Record));
                SinkFormat::Csv
            }
            "jsonl" => {
                self.bound(
                    kind.name.span(),
                    &input.ty,
                    quote!(weir_runtime::serde::Serialize),
                );
                SinkFormat::Jsonl
            }
            other => {
                let mut message = format!("unknown sink kind `{other}`");
                if let Some(help) = did_you_mean(other, ["csv", "jsonl"]) {
                    message.push_str(&format!("; {help}"));
                } else {
                    message.push_str(
                        "; file sinks are `sink csv(\"path\")` and `sink jsonl(\"path\")`",
                    );
                }
                return self.error(kind.name.span(), message);
            }
        };
        let path =
            match syn::parse2::<syn::LitStr>(kind.args.clone()) {
                Ok(p) => p.value(),
                Err(_) => return self.error(
                    kind.span(),
                    "expected the file's path as a string, as in `sink csv(\"out/result.csv\")`",
                ),
            };
        self.sink(input, format, OutputLocation::Path(path))
    }

    fn sink(
        &mut self,
        input: &Stream,
        format: SinkFormat,
        output: OutputLocation,
    ) -> Option<Option<Stream>> {
        let name = crate::check::sinks::default_sink_name(&output);
        let op = Operator::Sink(SinkOp {
            name,
            format,
            output,
        });
        let node = self.node(op, &input.ty, StateKind::Stateless);
        self.connect(input, node, 0, None);
        Some(None)
    }
}
