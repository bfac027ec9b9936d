//! Keys in generated code: a record's key encoded in the runtime's binary layout (into a
//! builder the node reuses, so a lookup allocates nothing), and a stored key read back
//! into result columns. Every keyed operator (aggregate, window, distinct) uses these.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::context::Gen;
use super::names::{field_ident, node_field};
use crate::ir::{KeyLayout, KeySpec, Schema, Type};

/// The field holding node `n`'s key builder, unless its keys are built on the stack (see
/// [`encode_key`]).
pub(crate) fn key_builder_field(
    g: &Gen<'_>,
    n: NodeIndex,
    key: &KeySpec,
) -> Option<(TokenStream, TokenStream)> {
    let on_stack = match key {
        KeySpec::Fields(key) => KeyLayout::new(&key_input(g, n), key).width().is_some(),
        KeySpec::Rust(_) => false,
    };
    let k = node_field(n, "key");
    (!on_stack).then(|| {
        (
            quote!(#k: weir_runtime::layout::RecordBuilder),
            quote!(#k: weir_runtime::layout::RecordBuilder::new()),
        )
    })
}

/// `let key = ...;`: the record's key encoded in the builder of node `n`: its key fields,
/// or the value of the user's key closure in its [`Layout`](weir_runtime::Layout).
pub(crate) fn encode_key(g: &Gen<'_>, n: NodeIndex, key: &KeySpec, input: &Ident) -> TokenStream {
    let k = node_field(n, "key");
    let key = match key {
        KeySpec::Fields(key) => key,
        KeySpec::Rust(r) => {
            let value = g.call(r, quote!(&#input));
            return quote!(let key = weir_runtime::Layout::encode(&#value, &mut self.#k););
        }
    };
    let schema = key_input(g, n);
    let layout = KeyLayout::new(&schema, key);
    if layout.width().is_some() {
        // Numbers and `bool` only: built on the stack, as the builder's `Vec` costs a
        // length check and a resize per record (2% of the tumbling-window benchmark).
        let fixed = layout.fixed_len;
        let puts = puts(&schema, &layout, input);
        return quote! {
            let key_record = weir_runtime::layout::FixedRecord::<#fixed>::new() #(#puts)*;
            let key = key_record.bytes();
        };
    }
    let encoded = encode_fields(&k, &schema, key, input);
    quote!(let key = #encoded;)
}

/// The `.put_*(offset, value)` calls writing each field of `layout` from `input`.
fn puts(schema: &Schema, layout: &KeyLayout, input: &Ident) -> Vec<TokenStream> {
    layout
        .fields
        .iter()
        .map(|(i, offset, ty)| {
            let f = field_ident(&schema.fields[*i].name);
            match ty {
                Type::Str => quote!(.put_str(#offset, &#input.#f)),
                Type::U64 => quote!(.put_u64(#offset, #input.#f)),
                Type::F64 => quote!(.put_f64(#offset, #input.#f)),
                Type::Bool => quote!(.put_bool(#offset, #input.#f)),
                Type::I64 | Type::Timestamp | Type::List(_) | Type::Rust(_) => {
                    quote!(.put_i64(#offset, #input.#f))
                }
            }
        })
        .collect()
}

/// The expression encoding fields `fields` of `input` (records of `schema`) in the
/// builder `self.#builder`, giving the bytes: a key, or a whole record kept in state.
pub(crate) fn encode_fields(
    builder: &Ident,
    schema: &Schema,
    fields: &[usize],
    input: &Ident,
) -> TokenStream {
    let layout = KeyLayout::new(schema, fields);
    let fixed = layout.fixed_len;
    let puts = puts(schema, &layout, input);
    quote!(self.#builder.begin(#fixed) #(#puts)* .bytes())
}

/// The values of fields `fields` of `schema` read back from `view` (a `RecordView` of
/// bytes [`encode_fields`] made).
pub(crate) fn decode_fields(schema: &Schema, fields: &[usize], view: &Ident) -> Vec<TokenStream> {
    KeyLayout::new(schema, fields)
        .fields
        .iter()
        .map(|(_, offset, ty)| match ty {
            Type::Str => quote!(::std::borrow::Cow::Borrowed(#view.str_at(#offset))),
            Type::U64 => quote!(#view.u64_at(#offset)),
            Type::F64 => quote!(#view.f64_at(#offset)),
            Type::Bool => quote!(#view.bool_at(#offset)),
            Type::I64 | Type::Timestamp | Type::List(_) | Type::Rust(_) => {
                quote!(#view.i64_at(#offset))
            }
        })
        .collect()
}

/// `Some(width)` when every key of node `n` has the same width in bytes (no string field,
/// no user key closure), as a `quote`d `Option<usize>`.
pub(crate) fn key_width(g: &Gen<'_>, n: NodeIndex, key: &KeySpec) -> TokenStream {
    match key {
        KeySpec::Fields(key) => match KeyLayout::new(&key_input(g, n), key).width() {
            Some(w) => quote!(::core::option::Option::Some(#w)),
            None => quote!(::core::option::Option::None),
        },
        KeySpec::Rust(_) => quote!(::core::option::Option::None),
    }
}

/// The values of the key columns of node `n`'s output, read from `k` (a `RecordView` of
/// the encoded key).
pub(crate) fn key_outputs(g: &Gen<'_>, n: NodeIndex, key: &KeySpec) -> Vec<TokenStream> {
    let key = match key {
        KeySpec::Fields(key) => key,
        KeySpec::Rust(r) => {
            let t = g.rust_type(&r.output);
            return vec![quote!(<#t as weir_runtime::Layout>::read(&k, 0))];
        }
    };
    decode_fields(&key_input(g, n), key, &super::names::ident("k"))
}

/// The schema of the records keyed node `n` receives.
fn key_input(g: &Gen<'_>, n: NodeIndex) -> std::sync::Arc<crate::ir::Schema> {
    g.plan
        .input_schema(n, 0)
        .expect("the type-check pass saw the keyed node's input")
}
