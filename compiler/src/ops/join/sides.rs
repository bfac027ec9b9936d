//! How generated code writes a join side's keys and records into state and reads them
//! back, for both kinds of records: named fields (`.pipe`, one value per field, with
//! defaults for a missing side and a `matched` flag) and Rust values (`stream!`, through
//! their [`Layout`](weir_runtime::Layout), `Option` for a side that can be missing).
//! Shared by the window join and the interval join.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::codegen::keys::{decode_fields, encode_fields};
use crate::codegen::names::node_field;
use crate::codegen::context::Gen;
use crate::ir::{KeyLayout, KeySpec, Schema, Type};
use crate::ops::union::idle_behind;

/// Per input port of join node `n`: the key builder, the record builder and the late count.
pub(crate) fn port_fields(n: NodeIndex, port: usize) -> (Ident, Ident, Ident) {
    (
        node_field(n, &format!("key{port}")),
        node_field(n, &format!("record{port}")),
        node_field(n, &format!("late{port}")),
    )
}

/// The fields every join node `n` has besides its state: its watermark, the combined
/// watermark of its two inputs (skipping idle ones, as at a union), and each port's
/// builders and late count.
pub(crate) fn input_fields(g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
    let (watermark, watermarks) = (node_field(n, "watermark"), node_field(n, "watermarks"));
    let mut inputs = g.plan.inputs(n);
    inputs.sort_by_key(|(_, e)| e.port);
    let idle = inputs.iter().map(|(up, _)| match idle_behind(g.plan, *up) {
        Some(ms) => quote!(::core::option::Option::Some(#ms)),
        None => quote!(::core::option::Option::None),
    });
    let mut all = vec![
        (quote!(#watermark: i64), quote!(#watermark: i64::MIN)),
        (
            quote!(#watermarks: weir_runtime::time::CombinedWatermark),
            quote!(#watermarks: weir_runtime::time::CombinedWatermark::new(&[#(#idle),*], ctx.clock().now())),
        ),
    ];
    for port in 0..2 {
        let (key, record, late) = port_fields(n, port);
        all.push((
            quote!(#key: weir_runtime::layout::RecordBuilder),
            quote!(#key: weir_runtime::layout::RecordBuilder::new()),
        ));
        all.push((
            quote!(#record: weir_runtime::layout::RecordBuilder),
            quote!(#record: weir_runtime::layout::RecordBuilder::new()),
        ));
        all.push((quote!(#late: u64), quote!(#late: 0)));
    }
    all
}

/// What a record in `input` arriving on `port` of join node `n` (keyed by `keys`, left
/// then right) takes to be kept: its side's schema, the expressions giving its key and
/// whole record in the port's builders, its `JoinSide`, and the port's late count.
pub(crate) struct Arrival {
    pub schema: std::sync::Arc<Schema>,
    pub encode_key: TokenStream,
    pub encode_record: TokenStream,
    pub side: TokenStream,
    pub late: Ident,
}

/// See [`Arrival`]; shared by the window join and the interval join.
pub(crate) fn arrival(g: &Gen<'_>, n: NodeIndex, port: usize, keys: [&KeySpec; 2], input: &Ident) -> Arrival {
    let (key_builder, record_builder, late) = port_fields(n, port);
    let schema = super::side_schema(g, n, port);
    Arrival {
        encode_key: encode_key(g, &key_builder, keys[port], &schema, input),
        encode_record: encode_record(&record_builder, &schema, input),
        side: if port == 0 {
            quote!(weir_runtime::state::JoinSide::Left)
        } else {
            quote!(weir_runtime::state::JoinSide::Right)
        },
        late,
        schema,
    }
}

/// The expression giving the bytes of `input`'s key in the builder `self.#builder`.
pub(crate) fn encode_key(g: &Gen<'_>, builder: &Ident, key: &KeySpec, schema: &Schema, input: &Ident) -> TokenStream {
    match key {
        KeySpec::Fields(fields) => encode_fields(builder, schema, fields, input),
        KeySpec::Rust(r) => {
            let value = g.call(r, quote!(&#input));
            quote!(weir_runtime::Layout::encode(&#value, &mut self.#builder))
        }
    }
}

/// The expression giving the bytes of the whole record `input` in `self.#builder`.
pub(crate) fn encode_record(builder: &Ident, schema: &Schema, input: &Ident) -> TokenStream {
    match &schema.rust {
        Some(_) => quote!(weir_runtime::Layout::encode(&#input, &mut self.#builder)),
        None => {
            let all: Vec<usize> = (0..schema.fields.len()).collect();
            encode_fields(builder, schema, &all, input)
        }
    }
}

/// `Some(width)` when every key of the side is that many bytes, as a `quote`d
/// `Option<usize>`.
pub(crate) fn key_width(key: &KeySpec, schema: &Schema) -> TokenStream {
    let width = match key {
        KeySpec::Fields(fields) => KeyLayout::new(schema, fields).width(),
        KeySpec::Rust(_) => None,
    };
    match width {
        Some(w) => quote!(::core::option::Option::Some(#w)),
        None => quote!(::core::option::Option::None),
    }
}

/// The start of a join's `on_watermark`: the two inputs' combined watermark (the least,
/// skipping idle ones), kept in the node's `watermark` field; returns early when it did
/// not move.
pub(crate) fn combined_watermark(n: NodeIndex) -> TokenStream {
    let (watermark, watermarks) = (node_field(n, "watermark"), node_field(n, "watermarks"));
    quote! {
        let now = self.clock.now();
        let ::core::option::Option::Some(wm) = self.#watermarks.update(port, wm, now) else {
            return ::core::result::Result::Ok(());
        };
        self.#watermark = wm;
    }
}

/// The output values of a pair at join node `n` when a record arrives on `port`: its own
/// side's values read from `own` and the other side's from `partner` (both `RecordView`s),
/// left first; `optional` says which sides an outer join can miss. Shared by the joins that
/// emit a pair as its second record arrives (interval, regular, overlap).
pub(crate) fn pair_values(
    g: &Gen<'_>,
    n: NodeIndex,
    port: usize,
    (own, partner): (&Ident, &Ident),
    optional: [bool; 2],
) -> Vec<TokenStream> {
    let (schema, other) = (super::side_schema(g, n, port), super::side_schema(g, n, 1 - port));
    let own = side_values(g, &schema, Some(own), optional[port]);
    let theirs = side_values(g, &other, Some(partner), optional[1 - port]);
    if port == 0 {
        own.into_iter().chain(theirs).collect()
    } else {
        theirs.into_iter().chain(own).collect()
    }
}

/// Both sides' key closures (inline pipelines).
pub(crate) fn key_closures(keys: [&KeySpec; 2]) -> Vec<&crate::ir::RustFn> {
    keys.into_iter().filter_map(KeySpec::closure).collect()
}

/// A side's values in an output record: read from `view` (a `RecordView` of the stored
/// record) when the side is there, else its defaults; with its `matched` flag (fields) or
/// wrapped in `Option` (Rust values) when `optional`.
pub(crate) fn side_values(g: &Gen<'_>, schema: &Schema, view: Option<&Ident>, optional: bool) -> Vec<TokenStream> {
    if let Some(t) = &schema.rust {
        let ty = g.rust_type(t);
        let value = view.map(|v| quote!(<#ty as weir_runtime::Layout>::read(&#v, 0)));
        return vec![match (value, optional) {
            (Some(v), true) => quote!(::core::option::Option::Some(#v)),
            (Some(v), false) => v,
            (None, _) => quote!(::core::option::Option::None),
        }];
    }
    let mut values = match view {
        Some(v) => decode_fields(schema, &(0..schema.fields.len()).collect::<Vec<_>>(), v),
        None => schema.fields.iter().map(|f| default_value(&f.ty)).collect(),
    };
    if optional {
        let found = view.is_some();
        values.push(quote!(#found));
    }
    values
}

/// The default value of a missing side's field of type `ty`.
fn default_value(ty: &Type) -> TokenStream {
    match ty {
        Type::Str => quote!(::std::borrow::Cow::Borrowed("")),
        Type::U64 => quote!(0u64),
        Type::F64 => quote!(0.0f64),
        Type::Bool => quote!(false),
        Type::I64 | Type::Timestamp | Type::List(_) | Type::Rust(_) => quote!(0i64),
    }
}
