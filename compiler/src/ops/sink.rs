//! `sink`: where a pipeline's records go; it ends the pipeline.
//!
//! `.pipe`: `sink csv("out.csv")`, `sink jsonl("out.jsonl")`, `sink stdout()` (or
//! `stdout(jsonl)`), optionally named (`sink top = csv(...)`, the key of
//! `--output top=PATH`). `stream!`: `sink csv("path")`, `sink jsonl("path")`, `collect()`
//! (into the `Vec` the job returns) and `for_each(|r| ...)`.

use std::fmt;

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::api::{Lower, OpInfo, OperatorCode};
use crate::ir::OperatorNode;
use crate::codegen::names::{field_ident, node_field};
use crate::codegen::context::Gen;

use crate::ir::{Operator, OutputLocation, Plan, RustFn, SinkFormat, Type};
use crate::lower::{Applied, FrontEnd, Lowering, Stream};
use crate::ops::checks::{input_of, same};

pub use crate::ir::SinkOp;

impl SinkOp {
    /// `csv("out.csv")`, `stdout(csv)`, `collect()`.
    pub(crate) fn summary(&self) -> String {
        let format = match &self.format {
            SinkFormat::Csv => "csv",
            SinkFormat::Jsonl => "jsonl",
            SinkFormat::Collect => return "collect()".into(),
            SinkFormat::ForEach(r) => return format!("for_each({r})"),
        };
        let times = if self.rfc3339 {
            ", timestamps: rfc3339"
        } else {
            ""
        };
        match &self.output {
            OutputLocation::Path(p) => format!("{format}({p:?}{times})"),
            OutputLocation::Stdout => format!("stdout({format}{times})"),
            OutputLocation::Program => format.into(),
        }
    }
}

impl Lower for SinkOp {
    const INFO: OpInfo = OpInfo {
        takes_updates: true,
        outputs: 0,
        ..OpInfo::new(
            "sink",
            Some("sink csv(\"path\") | sink jsonl(\"path\") | sink stdout()"),
            &["sink csv(\"path\")", "collect()", "for_each(|r| ...)"],
        )
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let schema = l.schema_of(&input);
        let Some(spec) = l.fe.sink(&Self::INFO, step, &schema) else {
            return Applied::Broken;
        };
        let (name, at) = match spec.name {
            Some(named) => named,
            None => (default_sink_name(&spec.output), spec.span),
        };
        if !l.claim_sink_name(&name, at) {
            return Applied::Broken;
        }
        let op = Operator::new(SinkOp {
            name,
            format: spec.format,
            output: spec.output,
            rfc3339: spec.rfc3339,
        });
        let node = l.add_node(op, schema, &F::step_span(step));
        l.connect(&input, node, 0);
        Applied::Sunk
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

impl OperatorNode for SinkOp {
    fn files(&self) -> Vec<(String, String)> {
        match &self.output {
            OutputLocation::Path(p) => vec![(format!("sink `{}`", self.name), p.clone())],
            OutputLocation::Stdout | OutputLocation::Program => Vec::new(),
        }
    }

    fn order_sensitive(&self) -> bool {
        false
    }

    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sink {} = {}", self.name, self.summary())
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        let input = input_of(plan, n, 0)?;
        same(plan, &plan.graph[n].schema, &input)
    }

    fn closures(&self) -> Vec<&RustFn> {
        match &self.format {
            SinkFormat::ForEach(r) => vec![r],
            SinkFormat::Csv | SinkFormat::Jsonl | SinkFormat::Collect => Vec::new(),
        }
    }
}

impl OperatorCode for SinkOp {
    fn fields(&self, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
        let node = &g.plan.graph[n];
        let f = node_field(n, "sink");
        let name = &self.name;
        let spec = match &self.output {
            OutputLocation::Path(p) => quote!(weir_runtime::io::OutputSpec::File(#p.to_string())),
            OutputLocation::Stdout | OutputLocation::Program => {
                quote!(weir_runtime::io::OutputSpec::Stdout)
            }
        };
        let ty = g.record_type(&node.schema);
        vec![match self.format {
            SinkFormat::Csv => {
                let headers = match node.schema.rust {
                    Some(_) => quote!(<#ty as weir_runtime::Record>::FIELDS),
                    None => {
                        let names = node.schema.fields.iter().map(|f| f.name.as_str());
                        quote!(&[#(#names),*])
                    }
                };
                (
                    quote!(#f: weir_runtime::io::CsvSink),
                    quote!(#f: weir_runtime::io::CsvSink::create(ctx, #name, #spec, #headers)?),
                )
            }
            SinkFormat::Jsonl => (
                quote!(#f: weir_runtime::io::JsonlSink),
                quote!(#f: weir_runtime::io::JsonlSink::create(ctx, #name, #spec)?),
            ),
            SinkFormat::Collect => (
                quote!(#f: weir_runtime::io::CollectSink<#ty>),
                quote!(#f: weir_runtime::io::CollectSink::new()),
            ),
            // The closure is a field of its own.
            SinkFormat::ForEach(_) => return Vec::new(),
        }]
    }

    fn push(&self, g: &Gen<'_>, n: NodeIndex, _port: usize, input: &Ident) -> TokenStream {
        let f = node_field(n, "sink");
        let schema = &g.plan.graph[n].schema;
        match &self.format {
            SinkFormat::Jsonl if self.rfc3339 => {
                let stamps = schema
                    .fields
                    .iter()
                    .filter(|f| f.ty == Type::Timestamp)
                    .map(|f| f.name.as_str());
                quote!(self.#f.write_with_text_times(&#input, &[#(#stamps),*])?;)
            }
            SinkFormat::Jsonl => quote!(self.#f.write(&#input)?;),
            SinkFormat::Collect => quote!(self.#f.push(#input);),
            SinkFormat::ForEach(r) => {
                let call = g.call(r, quote!(#input));
                quote!(#call;)
            }
            SinkFormat::Csv if schema.rust.is_some() => quote! {
                weir_runtime::Record::to_csv(&#input, &mut self.#f);
                self.#f.end_record()?;
            },
            SinkFormat::Csv => {
                let writes = schema.fields.iter().map(|field| {
                    let name = field_ident(&field.name);
                    match field.ty {
                        Type::Str => quote!(self.#f.field_str(&#input.#name);),
                        Type::U64 => quote!(self.#f.field_u64(#input.#name);),
                        Type::F64 => quote!(self.#f.field_f64(#input.#name);),
                        Type::Bool => quote!(self.#f.field_bool(#input.#name);),
                        Type::Timestamp if self.rfc3339 => {
                            quote!(self.#f.field_rfc3339(#input.#name)?;)
                        }
                        Type::I64 | Type::Timestamp | Type::List(_) | Type::Rust(_) => {
                            quote!(self.#f.field_i64(#input.#name);)
                        }
                    }
                });
                quote! {
                    #(#writes)*
                    self.#f.end_record()?;
                }
            }
        }
    }

    fn on_tick(&self, _g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        match self.format {
            SinkFormat::Csv | SinkFormat::Jsonl => {
                let s = node_field(n, "sink");
                quote!(self.#s.flush_if_due()?;)
            }
            SinkFormat::Collect | SinkFormat::ForEach(_) => quote!(),
        }
    }

    /// Files are flushed and committed once everything upstream has finished.
    fn finish(&self, _g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        match self.format {
            SinkFormat::Csv | SinkFormat::Jsonl => {
                let s = node_field(n, "sink");
                quote!(self.#s.finish(ctx)?;)
            }
            SinkFormat::Collect | SinkFormat::ForEach(_) => quote!(),
        }
    }
}

/// What an inline job returns: the `Vec` of its one `collect()` sink, a tuple of them for
/// several, `()` for none; as the value read from `job`, and as its type.
pub(crate) fn collected(g: &Gen<'_>) -> (TokenStream, TokenStream) {
    let sinks: Vec<NodeIndex> = g
        .plan
        .graph
        .node_indices()
        .filter(|&n| {
            let sink = g.plan.graph[n].op.payload::<SinkOp>();
            sink.is_some_and(|s| s.format == SinkFormat::Collect)
        })
        .collect();
    let vecs = sinks.iter().map(|&n| {
        let f = node_field(n, "sink");
        quote!(#f.into_rows())
    });
    let types = sinks.iter().map(|&n| {
        let ty = g.record_type(&g.plan.graph[n].schema);
        quote!(::std::vec::Vec<#ty>)
    });
    match sinks.len() {
        1 => {
            let (v, t) = (vecs.clone().next(), types.clone().next());
            (quote!(job.#v), quote!(#t))
        }
        _ => (quote!((#(job.#vecs,)*)), quote!((#(#types,)*))),
    }
}
