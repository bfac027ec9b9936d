//! Keys in generated code: a record's key encoded in the runtime's binary layout (into a
//! builder the node reuses, so a lookup allocates nothing), and a stored key read back
//! into result columns. Every keyed operator (aggregate, window, distinct) uses these.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::names::{field_ident, node_field};
use super::Gen;
use crate::ir::{KeyLayout, KeySpec, Type};

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
    let input_schema = key_input(g, n);
    let layout = KeyLayout::new(&input_schema, key);
    let fixed = layout.fixed_len;
    let puts = layout.fields.iter().map(|(i, offset, ty)| {
        let f = field_ident(&input_schema.fields[*i].name);
        match ty {
            Type::Str => quote!(.put_str(#offset, &#input.#f)),
            Type::U64 => quote!(.put_u64(#offset, #input.#f)),
            Type::F64 => quote!(.put_f64(#offset, #input.#f)),
            Type::Bool => quote!(.put_bool(#offset, #input.#f)),
            Type::I64 | Type::Timestamp | Type::List(_) | Type::Rust(_) => {
                quote!(.put_i64(#offset, #input.#f))
            }
        }
    });
    quote!(let key = self.#k.begin(#fixed) #(#puts)* .bytes();)
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
    let layout = KeyLayout::new(&key_input(g, n), key);
    layout
        .fields
        .iter()
        .map(|(_, offset, ty)| match ty {
            Type::Str => quote!(::std::borrow::Cow::Borrowed(k.str_at(#offset))),
            Type::U64 => quote!(k.u64_at(#offset)),
            Type::F64 => quote!(k.f64_at(#offset)),
            Type::Bool => quote!(k.bool_at(#offset)),
            Type::I64 | Type::Timestamp | Type::List(_) | Type::Rust(_) => {
                quote!(k.i64_at(#offset))
            }
        })
        .collect()
}

/// The schema of the records keyed node `n` receives.
fn key_input(g: &Gen<'_>, n: NodeIndex) -> std::sync::Arc<crate::ir::Schema> {
    g.plan
        .input_schema(n, 0)
        .expect("the type-check pass saw the keyed node's input")
}
