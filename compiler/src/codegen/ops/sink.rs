//! `sink`: CSV rows written field by field, or JSON lines through serde; in an inline
//! pipeline also `collect()` into a `Vec` the job returns, and `for_each(closure)`.

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

fn sink_op<'g>(g: &'g Gen<'_>, n: NodeIndex) -> &'g SinkOp {
    match &g.plan.graph[n].op {
        Operator::Sink(s) => s,
        _ => unreachable!("called for sinks"),
    }
}

/// The job's field for sink `n` and its initializer (none for `for_each`, whose closure is
/// a field of its own).
pub(crate) fn sink_field(g: &Gen<'_>, n: NodeIndex) -> Option<(TokenStream, TokenStream)> {
    let node = &g.plan.graph[n];
    let s = sink_op(g, n);
    let f = field(n);
    let name = &s.name;
    let spec = match &s.output {
        OutputLocation::Path(p) => quote!(weir_runtime::io::OutputSpec::File(#p.to_string())),
        OutputLocation::Stdout | OutputLocation::Program => {
            quote!(weir_runtime::io::OutputSpec::Stdout)
        }
    };
    let ty = g.record_type(&node.schema);
    Some(match s.format {
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
            quote!(#f: ::std::vec::Vec<#ty>),
            quote!(#f: ::std::vec::Vec::new()),
        ),
        SinkFormat::ForEach(_) => return None,
    })
}

/// Code that writes the record in `input`.
pub(crate) fn push(g: &Gen<'_>, n: NodeIndex, s: &SinkOp, input: &Ident) -> TokenStream {
    let f = field(n);
    match &s.format {
        SinkFormat::Jsonl => quote!(self.#f.write(&#input)?;),
        SinkFormat::Collect => quote!(self.#f.push(#input);),
        SinkFormat::ForEach(r) => {
            let call = g.call(r, quote!(#input));
            quote!(#call;)
        }
        SinkFormat::Csv if g.plan.graph[n].schema.rust.is_some() => quote! {
            weir_runtime::Record::to_csv(&#input, &mut self.#f);
            self.#f.end_record()?;
        },
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

/// End of input for sink `n`: files are flushed and committed.
pub(crate) fn finish(g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    match sink_op(g, n).format {
        SinkFormat::Csv | SinkFormat::Jsonl => {
            let s = field(n);
            quote!(self.#s.finish(ctx)?;)
        }
        SinkFormat::Collect | SinkFormat::ForEach(_) => quote!(),
    }
}

/// What an inline job returns: the `Vec` of its one `collect()` sink, a tuple of them for
/// several, `()` for none.
pub(crate) fn collected(g: &Gen<'_>) -> TokenStream {
    let vecs: Vec<Ident> = g
        .sinks()
        .filter(|&n| matches!(sink_op(g, n).format, SinkFormat::Collect))
        .map(field)
        .collect();
    match vecs.as_slice() {
        [one] => quote!(job.#one),
        all => quote!((#(job.#all,)*)),
    }
}
