//! `aggregate { ... }` on a keyed stream: a segment-backed keyed table of accumulators,
//! updated per record, drained at end of input.
//!
//! The key is encoded in the runtime's binary layout into a reused builder, so looking up a
//! key allocates nothing; accumulators are 8-byte words at offsets fixed by the compiler.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::codegen::expr::ExprGen;
use crate::codegen::names::{field_ident, ident};
use crate::codegen::Gen;
use crate::ir::{accumulator_offsets, AggFunc, AggregateField, KeyLayout, Operator, Type};

fn state(n: NodeIndex) -> Ident {
    ident(&format!("state_{}", n.index()))
}

fn key_builder(n: NodeIndex) -> Ident {
    ident(&format!("key_{}", n.index()))
}

/// The job's fields for aggregate `n` (budget number `index`) and their initializers.
pub(crate) fn state_field(g: &Gen<'_>, n: NodeIndex, index: usize) -> (TokenStream, TokenStream) {
    let node = &g.plan.graph[n];
    let Operator::Aggregate { aggregates, .. } = &node.op else {
        unreachable!("only aggregates keep state so far")
    };
    let (_, acc_size) = accumulator_offsets(aggregates);
    let (s, k) = (state(n), key_builder(n));
    let location = &node.location;
    let field = quote! {
        #s: ::weir_runtime::state::KeyedTable,
        #k: ::weir_runtime::layout::RecordBuilder
    };
    let init = quote! {
        #s: ::weir_runtime::state::KeyedTable::new(ctx.operator_memory(#index, "aggregate", #location), #acc_size)?,
        #k: ::weir_runtime::layout::RecordBuilder::new()
    };
    (field, init)
}

fn word_type(ty: &Type) -> TokenStream {
    match ty {
        Type::U64 => quote!(u64),
        Type::F64 => quote!(f64),
        _ => quote!(i64),
    }
}

/// Code that adds the record in `input` to the table.
pub(crate) fn push(
    g: &Gen<'_>,
    n: NodeIndex,
    key: &[usize],
    aggregates: &[AggregateField],
    input: &Ident,
) -> TokenStream {
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
    let exprs = ExprGen {
        record: input,
        file: &g.plan.file,
    };
    let (offsets, _) = accumulator_offsets(aggregates);
    let mut args = Vec::new();
    let mut inits = Vec::new();
    let mut updates = Vec::new();
    for (i, (a, &off)) in aggregates.iter().zip(&offsets).enumerate() {
        let v = ident(&format!("v{i}"));
        if let Some(e) = &a.arg {
            let value = exprs.value(e);
            args.push(quote!(let #v = #value;));
        }
        let arg_ty = a.arg.as_ref().map(|e| word_type(&e.ty));
        let get = |t: &TokenStream| quote!(::weir_runtime::state::acc_get::<#t>(acc, #off));
        let set = |val: TokenStream| quote!(::weir_runtime::state::acc_set(acc, #off, #val););
        let float = a.arg.as_ref().is_some_and(|e| e.ty == Type::F64);
        match (a.func, &arg_ty) {
            (AggFunc::Count, _) => {
                inits.push(set(quote!(0u64)));
                let cur = get(&quote!(u64));
                updates.push(set(quote!(#cur.wrapping_add(1))));
            }
            (AggFunc::Sum, Some(t)) => {
                inits.push(set(quote!(0 as #t)));
                let cur = get(t);
                updates.push(if float {
                    set(quote!(#cur + #v))
                } else {
                    set(quote!(#cur.wrapping_add(#v)))
                });
            }
            (AggFunc::Min, Some(t)) => {
                let init = if float {
                    quote!(f64::INFINITY)
                } else {
                    quote!(#t::MAX)
                };
                inits.push(set(init));
                let cur = get(t);
                updates.push(if float {
                    set(quote!(#cur.min(#v)))
                } else {
                    set(quote!(::core::cmp::min(#cur, #v)))
                });
            }
            (AggFunc::Max, Some(t)) => {
                let init = if float {
                    quote!(f64::NEG_INFINITY)
                } else {
                    quote!(#t::MIN)
                };
                inits.push(set(init));
                let cur = get(t);
                updates.push(if float {
                    set(quote!(#cur.max(#v)))
                } else {
                    set(quote!(::core::cmp::max(#cur, #v)))
                });
            }
            (AggFunc::Avg, Some(_)) => {
                let count_off = off + 8;
                inits.push(set(quote!(0f64)));
                inits.push(quote!(::weir_runtime::state::acc_set(acc, #count_off, 0u64);));
                let sum = get(&quote!(f64));
                updates.push(set(quote!(#sum + (#v as f64))));
                updates.push(quote! {
                    ::weir_runtime::state::acc_set(acc, #count_off, ::weir_runtime::state::acc_get::<u64>(acc, #count_off) + 1);
                });
            }
            (f, None) => unreachable!("{} always has an argument", f.name()),
        }
    }
    let (s, k) = (state(n), key_builder(n));
    quote! {
        #(#args)*
        let key = self.#k.begin(#fixed) #(#puts)* .bytes();
        let acc = self.#s.upsert(key, |acc| { #(#inits)* })?;
        #(#updates)*
    }
}

/// The method that drains aggregate `n` at end of input and emits one record per key.
pub(crate) fn finish_fn(g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let node = &g.plan.graph[n];
    let Operator::Aggregate { key, aggregates } = &node.op else {
        unreachable!("only aggregates keep state so far")
    };
    let (up, _) = g.plan.inputs(n)[0];
    let layout = KeyLayout::new(&g.plan.graph[up].schema, key);
    let out = g.var(n);
    let name = g.records.name(&node.schema.fields);
    let mut inits = Vec::new();
    for ((_, offset, ty), field) in layout.fields.iter().zip(&node.schema.fields) {
        let f = field_ident(&field.name);
        inits.push(match ty {
            Type::Str => quote!(#f: ::std::borrow::Cow::Borrowed(k.str_at(#offset))),
            Type::U64 => quote!(#f: k.u64_at(#offset)),
            Type::F64 => quote!(#f: k.f64_at(#offset)),
            Type::Bool => quote!(#f: k.bool_at(#offset)),
            _ => quote!(#f: k.i64_at(#offset)),
        });
    }
    let (offsets, _) = accumulator_offsets(aggregates);
    for ((a, off), field) in aggregates
        .iter()
        .zip(offsets)
        .zip(&node.schema.fields[key.len()..])
    {
        let f = field_ident(&field.name);
        inits.push(match a.func {
            AggFunc::Avg => {
                let count_off = off + 8;
                quote!(#f: ::weir_runtime::state::acc_get::<f64>(acc, #off) / (::weir_runtime::state::acc_get::<u64>(acc, #count_off) as f64))
            }
            _ => {
                let t = word_type(&a.ty);
                quote!(#f: ::weir_runtime::state::acc_get::<#t>(acc, #off))
            }
        });
    }
    let rest = g.emit(n, &out);
    let method = ident(&format!("finish_{}", n.index()));
    let s = state(n);
    let doc = format!(
        "End of input for the aggregate at {}: one record per key, in first-seen order.",
        node.location
    );
    quote! {
        #[doc = #doc]
        fn #method(&mut self) -> ::core::result::Result<(), ::weir_runtime::JobError> {
            let drained = self.#s.drain();
            for (key, acc) in drained.iter() {
                let k = ::weir_runtime::layout::RecordView::new(key);
                let #out = #name { #(#inits,)* };
                #rest
            }
            ::core::result::Result::Ok(())
        }
    }
}
