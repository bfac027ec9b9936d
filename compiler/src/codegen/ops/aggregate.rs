//! `aggregate { ... }` on a keyed stream: a segment-backed keyed table of accumulators,
//! updated per record, drained at end of input.
//!
//! The key is encoded in the runtime's binary layout into a reused builder, so looking up a
//! key allocates nothing; accumulators are 8-byte words at offsets fixed by the compiler.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::codegen::accumulators::accumulators;
use crate::codegen::names::{field_ident, ident};
use crate::codegen::rust_code::rust_tokens;
use crate::codegen::Gen;
use crate::ir::{accumulator_offsets, AggregateField, KeyLayout, KeySpec, Operator, Type};

pub(crate) fn state(n: NodeIndex) -> Ident {
    ident(&format!("state_{}", n.index()))
}

pub(crate) fn key_builder(n: NodeIndex) -> Ident {
    ident(&format!("key_{}", n.index()))
}

/// The job's fields for aggregate `n` (budget number `index`) and their initializers.
pub(crate) fn state_field(g: &Gen<'_>, n: NodeIndex, index: usize) -> (TokenStream, TokenStream) {
    let node = &g.plan.graph[n];
    let Operator::Aggregate { aggregates, .. } = &node.op else {
        unreachable!("called for aggregates")
    };
    let (_, acc_size) = accumulator_offsets(aggregates);
    let (s, k) = (state(n), key_builder(n));
    let location = &node.location;
    let field = quote! {
        #s: weir_runtime::state::KeyedTable,
        #k: weir_runtime::layout::RecordBuilder
    };
    let init = quote! {
        #s: weir_runtime::state::KeyedTable::new(ctx.operator_memory(#index, "aggregate", #location), #acc_size)?,
        #k: weir_runtime::layout::RecordBuilder::new()
    };
    (field, init)
}

/// `let key = ...;`: the record's key encoded in the builder of node `n`: its key fields,
/// or the value of the user's key closure in its [`Layout`](weir_runtime::Layout).
pub(crate) fn encode_key(g: &Gen<'_>, n: NodeIndex, key: &KeySpec, input: &Ident) -> TokenStream {
    let k = key_builder(n);
    let key = match key {
        KeySpec::Fields(key) => key,
        KeySpec::Rust(r) => {
            let value = g.call(r, quote!(&#input));
            return quote!(let key = weir_runtime::Layout::encode(&#value, &mut self.#k););
        }
    };
    let (up, _) = g.plan.inputs(n)[0];
    let input_schema = &g.plan.graph[up].schema;
    let layout = KeyLayout::new(input_schema, key);
    let fixed = layout.fixed_len;
    let puts = layout.fields.iter().map(|(i, offset, ty)| {
        let f = field_ident(&input_schema.fields[*i].name);
        match ty {
            Type::Str => quote!(.put_str(#offset, &#input.#f)),
            Type::U64 => quote!(.put_u64(#offset, #input.#f)),
            Type::F64 => quote!(.put_f64(#offset, #input.#f)),
            Type::Bool => quote!(.put_bool(#offset, #input.#f)),
            _ => quote!(.put_i64(#offset, #input.#f)),
        }
    });
    quote!(let key = self.#k.begin(#fixed) #(#puts)* .bytes();)
}

/// The values of the key columns of node `n`'s output, read from `k` (a `RecordView` of
/// the encoded key).
pub(crate) fn key_outputs(g: &Gen<'_>, n: NodeIndex, key: &KeySpec) -> Vec<TokenStream> {
    let key = match key {
        KeySpec::Fields(key) => key,
        KeySpec::Rust(r) => {
            let t = rust_tokens(&r.output);
            return vec![quote!(<#t as weir_runtime::Layout>::read(&k, 0))];
        }
    };
    let (up, _) = g.plan.inputs(n)[0];
    let layout = KeyLayout::new(&g.plan.graph[up].schema, key);
    layout
        .fields
        .iter()
        .map(|(_, offset, ty)| match ty {
            Type::Str => quote!(::std::borrow::Cow::Borrowed(k.str_at(#offset))),
            Type::U64 => quote!(k.u64_at(#offset)),
            Type::F64 => quote!(k.f64_at(#offset)),
            Type::Bool => quote!(k.bool_at(#offset)),
            _ => quote!(k.i64_at(#offset)),
        })
        .collect()
}

/// Code that adds the record in `input` to the table.
pub(crate) fn push(
    g: &Gen<'_>,
    n: NodeIndex,
    key: &KeySpec,
    aggregates: &[AggregateField],
    input: &Ident,
) -> TokenStream {
    let code = accumulators(g, aggregates, input, 0);
    let (args, init, update) = (&code.args, &code.init, &code.update);
    let encode = encode_key(g, n, key, input);
    let s = state(n);
    quote! {
        #args
        #encode
        let acc = self.#s.upsert(key, |acc| { #init })?;
        #update
    }
}

/// The method that drains aggregate `n` at end of input and emits one record per key.
pub(crate) fn finish_fn(g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let node = &g.plan.graph[n];
    let Operator::Aggregate { key, aggregates } = &node.op else {
        unreachable!("called for aggregates")
    };
    let out = g.var(n);
    let mut values = key_outputs(g, n, key);
    let dummy = ident("unused");
    values.extend(accumulators(g, aggregates, &dummy, 0).outputs);
    let record = g.result_record(n, values);
    let rest = g.emit(n, &out);
    let method = ident(&format!("finish_{}", n.index()));
    let s = state(n);
    let doc = format!(
        "End of input for the aggregate at {}: one record per key, in first-seen order.",
        node.location
    );
    quote! {
        #[doc = #doc]
        fn #method(&mut self) -> ::core::result::Result<(), weir_runtime::JobError> {
            let drained = self.#s.drain();
            for (key, acc) in drained.iter() {
                let k = weir_runtime::layout::RecordView::new(key);
                let ts = i64::MIN;
                let #out = #record;
                #rest
            }
            ::core::result::Result::Ok(())
        }
    }
}
