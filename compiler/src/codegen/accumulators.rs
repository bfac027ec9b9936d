//! Accumulator code shared by `aggregate` and windowed aggregates: how each aggregate
//! function starts, takes a record, merges with another (for session windows), and reads
//! out. Every accumulator is a run of 8-byte words at an offset the compiler fixes.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::expr::ExprGen;
use super::names::ident;
use super::Gen;
use crate::ir::{accumulator_offsets, AggFunc, AggregateField, Type};

/// The statements for a list of aggregates whose block starts at byte `base`.
pub(crate) struct AccumulatorCode {
    /// `let v0 = ...;` per argument, evaluated on the input record.
    pub args: TokenStream,
    /// Prepares a new block in `acc`.
    pub init: TokenStream,
    /// Adds the record (its arguments and `ts`) to `acc`.
    pub update: TokenStream,
    /// Folds block `from` into block `into`.
    pub merge: TokenStream,
    /// Each aggregate's result, read from `acc`.
    pub outputs: Vec<TokenStream>,
}

fn word(ty: &Type) -> TokenStream {
    match ty {
        Type::U64 => quote!(u64),
        Type::F64 => quote!(f64),
        Type::Bool => quote!(u64),
        _ => quote!(i64),
    }
}

fn get(buf: &str, t: &TokenStream, off: usize) -> TokenStream {
    let b = ident(buf);
    quote!(::weir_runtime::state::acc_get::<#t>(#b, #off))
}

fn set(buf: &str, off: usize, v: TokenStream) -> TokenStream {
    let b = ident(buf);
    quote!(::weir_runtime::state::acc_set(#b, #off, #v);)
}

/// Generates the accumulator code for `aggregates` over records in `input`.
pub(crate) fn accumulators(
    g: &Gen<'_>,
    aggregates: &[AggregateField],
    input: &Ident,
    base: usize,
) -> AccumulatorCode {
    let exprs = ExprGen {
        record: input,
        locals: false,
        file: &g.plan.file,
    };
    let (offsets, _) = accumulator_offsets(aggregates);
    let (mut args, mut init, mut update, mut merge, mut outputs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, (a, &off)) in aggregates.iter().zip(&offsets).enumerate() {
        let off = base + off;
        let v = ident(&format!("v{i}"));
        if let Some(e) = &a.arg {
            let value = exprs.value(e);
            // bools are stored as words
            let value = if e.ty == Type::Bool {
                quote!(u64::from(#value))
            } else {
                value
            };
            args.push(quote!(let #v = #value;));
        }
        let t = a.arg.as_ref().map_or(quote!(u64), |e| word(&e.ty));
        let float = a.arg.as_ref().is_some_and(|e| e.ty == Type::F64);
        let read = |v: TokenStream| {
            if a.ty == Type::Bool {
                quote!((#v != 0))
            } else {
                v
            }
        };
        match a.func {
            AggFunc::Count => {
                init.push(set("acc", off, quote!(0u64)));
                let cur = get("acc", &t, off);
                update.push(set("acc", off, quote!(#cur.wrapping_add(1))));
                let (x, y) = (get("into", &t, off), get("from", &t, off));
                merge.push(set("into", off, quote!(#x.wrapping_add(#y))));
                outputs.push(get("acc", &t, off));
            }
            AggFunc::Sum => {
                init.push(set("acc", off, quote!(0 as #t)));
                let cur = get("acc", &t, off);
                let (x, y) = (get("into", &t, off), get("from", &t, off));
                if float {
                    update.push(set("acc", off, quote!(#cur + #v)));
                    merge.push(set("into", off, quote!(#x + #y)));
                } else {
                    update.push(set("acc", off, quote!(#cur.wrapping_add(#v))));
                    merge.push(set("into", off, quote!(#x.wrapping_add(#y))));
                }
                outputs.push(get("acc", &t, off));
            }
            AggFunc::Min | AggFunc::Max => {
                let is_min = a.func == AggFunc::Min;
                let start = match (float, is_min) {
                    (true, true) => quote!(f64::INFINITY),
                    (true, false) => quote!(f64::NEG_INFINITY),
                    (false, true) => quote!(#t::MAX),
                    (false, false) => quote!(#t::MIN),
                };
                init.push(set("acc", off, start));
                let pick = |x: TokenStream, y: TokenStream| match (float, is_min) {
                    (true, true) => quote!(#x.min(#y)),
                    (true, false) => quote!(#x.max(#y)),
                    (false, true) => quote!(::core::cmp::min(#x, #y)),
                    (false, false) => quote!(::core::cmp::max(#x, #y)),
                };
                update.push(set("acc", off, pick(get("acc", &t, off), quote!(#v))));
                merge.push(set(
                    "into",
                    off,
                    pick(get("into", &t, off), get("from", &t, off)),
                ));
                outputs.push(get("acc", &t, off));
            }
            AggFunc::Avg => {
                let n = off + 8;
                let f = quote!(f64);
                let u = quote!(u64);
                init.push(set("acc", off, quote!(0f64)));
                init.push(set("acc", n, quote!(0u64)));
                let (sum, count) = (get("acc", &f, off), get("acc", &u, n));
                update.push(set("acc", off, quote!(#sum + (#v as f64))));
                update.push(set("acc", n, quote!(#count + 1)));
                let (xs, ys) = (get("into", &f, off), get("from", &f, off));
                let (xn, yn) = (get("into", &u, n), get("from", &u, n));
                merge.push(set("into", off, quote!(#xs + #ys)));
                merge.push(set("into", n, quote!(#xn + #yn)));
                outputs.push(quote!(#sum / (#count as f64)));
            }
            AggFunc::First | AggFunc::Last => {
                // value, the event time it came with, and whether there is one. Ties on
                // time keep the earliest arrival for `first` and take the latest for `last`.
                let (at, has) = (off + 8, off + 16);
                let i = quote!(i64);
                let u = quote!(u64);
                init.push(set("acc", has, quote!(0u64)));
                let better = |cand: TokenStream, cur: TokenStream| {
                    if a.func == AggFunc::First {
                        quote!(#cand < #cur)
                    } else {
                        quote!(#cand >= #cur)
                    }
                };
                let (cur_at, cur_has) = (get("acc", &i, at), get("acc", &u, has));
                let take = better(quote!(ts), cur_at);
                let (sv, sa, sh) = (
                    set("acc", off, quote!(#v)),
                    set("acc", at, quote!(ts)),
                    set("acc", has, quote!(1u64)),
                );
                update.push(quote!(if #cur_has == 0 || #take { #sv #sa #sh }));
                let (from_at, from_has, into_has) = (
                    get("from", &i, at),
                    get("from", &u, has),
                    get("into", &u, has),
                );
                let take = better(from_at.clone(), get("into", &i, at));
                let (fv, fa) = (get("from", &t, off), from_at.clone());
                let (mv, ma, mh) = (
                    set("into", off, fv),
                    set("into", at, fa),
                    set("into", has, quote!(1u64)),
                );
                merge.push(quote!(if #from_has != 0 && (#into_has == 0 || #take) { #mv #ma #mh }));
                outputs.push(read(get("acc", &t, off)));
            }
            AggFunc::Reduce => {
                let has = off + 8;
                let u = quote!(u64);
                let combine = a
                    .combine
                    .as_ref()
                    .expect("reduce has a combining expression");
                let combined = ExprGen {
                    record: input,
                    locals: true,
                    file: &g.plan.file,
                }
                .value(combine);
                let combined = if a.ty == Type::Bool {
                    quote!(u64::from(#combined))
                } else {
                    combined
                };
                let as_value = |w: TokenStream| {
                    if a.ty == Type::Bool {
                        quote!((#w != 0))
                    } else {
                        w
                    }
                };
                init.push(set("acc", has, quote!(0u64)));
                let (cur, cur_has) = (as_value(get("acc", &t, off)), get("acc", &u, has));
                let b_value = as_value(quote!(#v));
                let (first, first_has) =
                    (set("acc", off, quote!(#v)), set("acc", has, quote!(1u64)));
                let folded = set("acc", off, combined.clone());
                update.push(quote! {
                    if #cur_has == 0 { #first #first_has } else { let a = #cur; let b = #b_value; #folded }
                });
                let (x, y) = (
                    as_value(get("into", &t, off)),
                    as_value(get("from", &t, off)),
                );
                let (xh, yh) = (get("into", &u, has), get("from", &u, has));
                let copy = set("into", off, get("from", &t, off));
                let fold = set("into", off, combined);
                merge.push(quote! {
                    if #yh != 0 {
                        if #xh == 0 { #copy ::weir_runtime::state::acc_set(into, #has, 1u64); }
                        else { let a = #x; let b = #y; #fold }
                    }
                });
                outputs.push(read(get("acc", &t, off)));
            }
        }
    }
    AccumulatorCode {
        args: quote!(#(#args)*),
        init: quote!(#(#init)*),
        update: quote!(#(#update)*),
        merge: quote!(#(#merge)*),
        outputs,
    }
}
