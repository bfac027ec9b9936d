//! `sink`: CSV rows written field by field, or JSON lines through serde.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::codegen::names::{field_ident, ident};
use crate::codegen::Gen;
use crate::ir::{Operator, OutputLocation, SinkFormat, SinkOp, Type};

/// The job field holding sink `n`.
pub(crate) fn field(n: NodeIndex) -> Ident {
    ident(&format!("sink_{}", n.index()))
}

/// The job's field for sink `n` and its initializer.
pub(crate) fn sink_field(g: &Gen<'_>, n: NodeIndex) -> (TokenStream, TokenStream) {
    let node = &g.plan.graph[n];
    let Operator::Sink(s) = &node.op else {
        unreachable!("called for sinks")
    };
    let f = field(n);
    let name = &s.name;
    let spec = match &s.output {
        OutputLocation::Path(p) => quote!(::weir_runtime::io::OutputSpec::File(#p.to_string())),
        OutputLocation::Stdout => quote!(::weir_runtime::io::OutputSpec::Stdout),
    };
    match s.format {
        SinkFormat::Csv => {
            let headers = node.schema.fields.iter().map(|f| f.name.as_str());
            (
                quote!(#f: ::weir_runtime::io::CsvSink),
                quote!(#f: ::weir_runtime::io::CsvSink::create(ctx, #name, #spec, &[#(#headers),*])?),
            )
        }
        SinkFormat::Jsonl => (
            quote!(#f: ::weir_runtime::io::JsonlSink),
            quote!(#f: ::weir_runtime::io::JsonlSink::create(ctx, #name, #spec)?),
        ),
    }
}

/// Code that writes the record in `input`.
pub(crate) fn push(g: &Gen<'_>, n: NodeIndex, s: &SinkOp, input: &Ident) -> TokenStream {
    let f = field(n);
    match s.format {
        SinkFormat::Jsonl => quote!(self.#f.write(&#input)?;),
        SinkFormat::Csv => {
            let writes = g.plan.graph[n].schema.fields.iter().map(|field| {
                let name = field_ident(&field.name);
                match field.ty {
                    Type::Str => quote!(self.#f.field_str(&#input.#name);),
                    Type::U64 => quote!(self.#f.field_u64(#input.#name);),
                    Type::F64 => quote!(self.#f.field_f64(#input.#name);),
                    Type::Bool => quote!(self.#f.field_bool(#input.#name);),
                    _ => quote!(self.#f.field_i64(#input.#name);),
                }
            });
            quote! {
                #(#writes)*
                self.#f.end_record()?;
            }
        }
    }
}
