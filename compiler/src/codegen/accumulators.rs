//! Accumulator code shared by `aggregate` and windowed aggregates: how each aggregate
//! function starts, takes a record, merges with another (session windows, and spilled
//! state coming back), and reads out. Every accumulator is a run of 8-byte words at an offset the compiler fixes.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::context::Gen;
use super::expr::ExprGen;
use super::names::ident;
use crate::ir::{accumulator_offsets, AggFunc, AggregateField, Code, RustType, Type};

/// The statements for a list of aggregates whose block starts at byte `base`.
pub(crate) struct AccumulatorCode {
    /// `let v0 = ...;` per argument, evaluated on the input record.
    pub args: TokenStream,
    /// Prepares a new block in `acc`.
    pub init: TokenStream,
    /// Adds the record (its arguments and `ts`) to `acc`.
    pub update: TokenStream,
    /// Folds block `from` (later records) into block `into` (earlier ones).
    pub merge: TokenStream,
    /// Each aggregate's result, read from `acc`.
    pub outputs: Vec<TokenStream>,
    /// Each text aggregate's value for the record (`v.as_bytes()`), in slot order: the
    /// state offers them to its text slots ([`text_slots`]).
    pub text: Vec<TokenStream>,
}

/// The text slots of `aggregates` (whose block starts at `base`), as the runtime's
/// `&'static [TextSlot]`.
pub(crate) fn text_slots(aggregates: &[AggregateField], base: usize) -> TokenStream {
    let (offsets, _) = accumulator_offsets(aggregates);
    let slots = aggregates.iter().zip(offsets).filter(|(a, _)| a.is_text()).map(|(a, off)| {
        let offset = base + off;
        let kind = match a.func {
            AggFunc::Min => quote!(Min),
            AggFunc::Max => quote!(Max),
            AggFunc::First => quote!(First),
            AggFunc::CollectList => {
                let separator = a.separator.as_deref().unwrap_or(",");
                quote!(Join { separator: #separator })
            }
            AggFunc::CountDistinct => quote!(Distinct),
            _ => quote!(Last),
        };
        quote!(weir_runtime::state::TextSlot { offset: #offset, kind: weir_runtime::state::TextAggregate::#kind })
    });
    quote!(&[#(#slots),*])
}

/// The bytes `count_distinct` counts of value `v` (aggregate `i`): text as it is, numbers
/// as their 8 bytes (a float's zero and NaN each one value, as SQL counts them).
fn distinct_bytes(
    code: &mut AccumulatorCode,
    a: &AggregateField,
    v: &Ident,
    i: usize,
) -> TokenStream {
    let b = ident(&format!("b{i}"));
    let ty = match &a.arg {
        Some(Code::Expr(e)) => &e.ty,
        // A closure's value: its type says (`DistinctValue`, which rustc checks).
        _ => {
            let bytes = ident(&format!("bytes{i}"));
            code.args.extend(quote! {
                let mut #b = [0u8; 8];
                let #bytes = weir_runtime::state::DistinctValue::distinct_bytes(&#v, &mut #b);
            });
            return quote!(#bytes);
        }
    };
    let bytes = match ty {
        Type::Str => return quote!(#v.as_bytes()),
        Type::Bool => quote!([u8::from(#v)]),
        Type::F64 => quote!(weir_runtime::state::distinct_f64(#v)),
        _ => quote!((#v).to_le_bytes()),
    };
    code.args.extend(quote!(let #b = #bytes;));
    quote!(&#b[..])
}

/// How a keyed state with text slots is driven: its field, the method that finds or
/// makes a key's entry (an address, a new block prepared by `init`) and the one that gives
/// the entry's accumulators.
pub(crate) struct KeyedTextState<'a> {
    pub state: &'a Ident,
    pub find: &'a str,
    pub acc: &'a str,
}

/// The loop that lands a record in a keyed state with text slots (an aggregate's table,
/// a count window's groups): the key's entry found or made (`init`, then its `slots`
/// marked empty), the state offered the record's `text` values, then `land` with `acc`.
/// When the state had to move its entries to disk for room, the key is looked up again
/// (a new part of it, or the entry brought back) and offered them again.
pub(crate) fn keyed_text_landing(
    keyed: KeyedTextState<'_>,
    init: &TokenStream,
    slots: &TokenStream,
    text: &[TokenStream],
    land: &TokenStream,
) -> TokenStream {
    let KeyedTextState { state, find, acc } = keyed;
    let (find, acc) = (ident(find), ident(acc));
    quote! {
        loop {
            let addr = self.#state.#find(key, |acc| {
                #init
                weir_runtime::state::TextAccumulators::empty(#slots, acc);
            })?;
            let text: &[&[u8]] = &[#(#text),*];
            if self.#state.update_text(addr, text, ts)? == weir_runtime::state::TextOutcome::Moved {
                continue;
            }
            let acc = self.#state.#acc(addr);
            #land
            break;
        }
    }
}

/// The Rust type of an aggregate's argument values: a `.pipe` type, or the type the
/// inline front-end named for a closure's result.
fn value_type(g: &Gen<'_>, code: &Code) -> TokenStream {
    match code {
        Code::Expr(e) => match e.ty {
            Type::U64 => quote!(u64),
            Type::F64 => quote!(f64),
            Type::Bool => quote!(bool),
            _ => quote!(i64),
        },
        Code::Rust(r) => g.rust_type(&r.output),
    }
}

/// Why partial results of a floating-point sum do not merge exactly.
const FLOAT_SUM: &str =
    "partial sums of floating-point values added in another order can differ in their last bits";
/// Why a floating-point min or max does not.
const FLOAT_MIN_MAX: &str =
    "the min or max of floating-point values can be 0.0 or -0.0 depending on the order values arrive in";

/// Whether the accumulators of `aggregates` merge exactly: folding two partial results
/// together gives what folding the records one by one gives, bit for bit, so state that
/// spilled in parts comes back to the same result. `Err` says which one does not, and why.
/// A closure's inferred value type counts as exact here; [`spill_support`] has rustc check
/// it.
pub(crate) fn exact_merge(aggregates: &[AggregateField]) -> Result<(), &'static str> {
    for a in aggregates {
        if a.func == AggFunc::Reduce {
            return Err("a `reduce` is applied record by record, and merging partial results gives the same answer only for an associative function, which weir cannot check");
        }
        let float = match &a.arg {
            Some(Code::Expr(e)) => e.ty == Type::F64,
            Some(Code::Rust(r)) => {
                matches!(&r.output, RustType::Path(p) if p == "f64" || p == "f32")
            }
            None => false,
        };
        match a.func {
            AggFunc::Sum | AggFunc::Avg if float => return Err(FLOAT_SUM),
            AggFunc::Min | AggFunc::Max if float => return Err(FLOAT_MIN_MAX),
            _ => {}
        }
    }
    Ok(())
}

/// The `SpillSupport` of a keyed operator over `aggregates`: their merge code, or why
/// they cannot spill. A closure's value type that rustc infers is checked by rustc
/// (`AggNumber::MERGES_EXACTLY`), so an inline integer sum spills and a float sum does not.
pub(crate) fn spill_support(g: &Gen<'_>, aggregates: &[AggregateField]) -> TokenStream {
    if let Err(why) = exact_merge(aggregates) {
        return quote!(weir_runtime::spill::SpillSupport::Cannot(#why));
    }
    let unused = ident("unused");
    let merge = accumulators(g, aggregates, &unused, 0).merge;
    let inferred: Vec<TokenStream> = aggregates
        .iter()
        .filter(|a| {
            matches!(
                a.func,
                AggFunc::Sum | AggFunc::Avg | AggFunc::Min | AggFunc::Max
            )
        })
        .filter_map(|a| match &a.arg {
            Some(c @ Code::Rust(r)) if !matches!(r.output, RustType::Path(_)) => {
                Some(value_type(g, c))
            }
            _ => None,
        })
        .collect();
    let merges =
        quote!(weir_runtime::spill::SpillSupport::Merge(|into: &mut [u8], from: &[u8]| { #merge }));
    if inferred.is_empty() {
        return merges;
    }
    quote! {
        if true #(&& <#inferred as weir_runtime::state::AggNumber>::MERGES_EXACTLY)* {
            #merges
        } else {
            weir_runtime::spill::SpillSupport::Cannot(#FLOAT_SUM)
        }
    }
}

fn get(buf: &str, t: &TokenStream, off: usize) -> TokenStream {
    let b = ident(buf);
    quote!(weir_runtime::state::acc_get::<#t>(#b, #off))
}

fn set(buf: &str, off: usize, v: TokenStream) -> TokenStream {
    let b = ident(buf);
    quote!(weir_runtime::state::acc_set(#b, #off, #v);)
}

/// `AggNumber::method(x, y)`: one number operation, the same for every number type.
fn number(method: &str, x: TokenStream, y: TokenStream) -> TokenStream {
    let m = ident(method);
    quote!(weir_runtime::state::AggNumber::#m(#x, #y))
}

/// Generates the accumulator code for `aggregates` over records in `input`.
pub(crate) fn accumulators(
    g: &Gen<'_>,
    aggregates: &[AggregateField],
    input: &Ident,
    base: usize,
) -> AccumulatorCode {
    let (offsets, size) = accumulator_offsets(aggregates);
    let mut code = AccumulatorCode {
        args: TokenStream::new(),
        init: TokenStream::new(),
        update: TokenStream::new(),
        merge: TokenStream::new(),
        outputs: Vec::new(),
        text: Vec::new(),
    };
    for (i, (a, &off)) in aggregates.iter().zip(&offsets).enumerate() {
        let v = ident(&format!("v{i}"));
        if let Some(arg) = &a.arg {
            let value = g.code_value(arg, input);
            code.args.extend(quote!(let #v = #value;));
        }
        if a.func == AggFunc::CountDistinct {
            // The state keeps the set; the count is in the block.
            let at = base + off;
            let bytes = distinct_bytes(&mut code, a, &v, i);
            code.text.push(bytes);
            code.outputs
                .push(quote!(weir_runtime::state::TextAccumulators::distinct_count(acc, #at)));
            continue;
        }
        if a.is_text() {
            // The state keeps it (its slot's words and value); a fired window's copy holds
            // the values after the block.
            let slot = code.text.len();
            let end = base + size;
            code.text.push(quote!(#v.as_bytes()));
            code.outputs.push(quote!(::std::borrow::Cow::Borrowed(
                weir_runtime::state::TextAccumulators::read(&acc[#end..], #slot)
            )));
            continue;
        }
        let t = a.arg.as_ref().map_or(quote!(u64), |c| value_type(g, c));
        let at = base + off;
        match a.func {
            AggFunc::Count => count(&mut code, at),
            AggFunc::Sum | AggFunc::Min | AggFunc::Max => {
                fold_number(&mut code, a.func, &t, &v, at)
            }
            AggFunc::Avg => average(&mut code, &t, &v, at),
            AggFunc::First | AggFunc::Last => first_or_last(&mut code, a.func, &t, &v, at),
            AggFunc::Reduce => reduce(g, &mut code, a, &t, &v, input, at),
            AggFunc::CollectList | AggFunc::CountDistinct => {
                unreachable!("collect_list and count_distinct are text slots (`is_text`)")
            }
        }
    }
    code
}

fn count(code: &mut AccumulatorCode, off: usize) {
    let u = quote!(u64);
    code.init.extend(set("acc", off, quote!(0u64)));
    let cur = get("acc", &u, off);
    code.update
        .extend(set("acc", off, quote!(#cur.wrapping_add(1))));
    let (x, y) = (get("into", &u, off), get("from", &u, off));
    code.merge
        .extend(set("into", off, quote!(#x.wrapping_add(#y))));
    code.outputs.push(get("acc", &u, off));
}

/// `sum`, `min` and `max`: one word folded with a number operation.
fn fold_number(code: &mut AccumulatorCode, func: AggFunc, t: &TokenStream, v: &Ident, off: usize) {
    let (start, method) = match func {
        AggFunc::Sum => ("ZERO", "plus"),
        AggFunc::Min => ("HIGHEST", "smaller"),
        _ => ("LOWEST", "larger"),
    };
    let start = ident(start);
    code.init.extend(set(
        "acc",
        off,
        quote!(<#t as weir_runtime::state::AggNumber>::#start),
    ));
    let folded = number(method, get("acc", t, off), quote!(#v));
    code.update.extend(set("acc", off, folded));
    let merged = number(method, get("into", t, off), get("from", t, off));
    code.merge.extend(set("into", off, merged));
    code.outputs.push(get("acc", t, off));
}

/// `avg`: a 16-byte sum (integers exactly, as an `i128`; floats as an `f64`) and a count;
/// the number type does the arithmetic (`AggNumber::avg_*`).
fn average(code: &mut AccumulatorCode, t: &TokenStream, v: &Ident, off: usize) {
    let n = off + 16;
    let u = quote!(u64);
    code.init.extend(set("acc", off, quote!(0u64)));
    code.init.extend(set("acc", off + 8, quote!(0u64)));
    code.init.extend(set("acc", n, quote!(0u64)));
    let count = get("acc", &u, n);
    code.update
        .extend(quote!(weir_runtime::state::AggNumber::avg_add(#v, acc, #off);));
    code.update.extend(set("acc", n, quote!(#count + 1)));
    let (xn, yn) = (get("into", &u, n), get("from", &u, n));
    code.merge
        .extend(quote!(<#t as weir_runtime::state::AggNumber>::avg_merge(into, from, #off);));
    code.merge.extend(set("into", n, quote!(#xn + #yn)));
    code.outputs
        .push(quote!(<#t as weir_runtime::state::AggNumber>::avg_of(acc, #off, #count)));
}

/// `first` and `last`: the value, the event time it came with, and whether there is one.
/// Ties on time keep the earliest arrival for `first` and take the latest for `last`.
fn first_or_last(
    code: &mut AccumulatorCode,
    func: AggFunc,
    t: &TokenStream,
    v: &Ident,
    off: usize,
) {
    let (at, has) = (off + 8, off + 16);
    let (i, u) = (quote!(i64), quote!(u64));
    code.init.extend(set("acc", has, quote!(0u64)));
    let better = |cand: TokenStream, cur: TokenStream| {
        if func == AggFunc::First {
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
    code.update
        .extend(quote!(if #cur_has == 0 || #take { #sv #sa #sh }));
    let (from_at, from_has, into_has) = (
        get("from", &i, at),
        get("from", &u, has),
        get("into", &u, has),
    );
    let take = better(from_at.clone(), get("into", &i, at));
    let (mv, ma, mh) = (
        set("into", off, get("from", t, off)),
        set("into", at, from_at),
        set("into", has, quote!(1u64)),
    );
    code.merge
        .extend(quote!(if #from_has != 0 && (#into_has == 0 || #take) { #mv #ma #mh }));
    code.outputs.push(get("acc", t, off));
}

/// `reduce`: the value and whether there is one; two values combine through the `.pipe`
/// expression over `a` and `b`, or the user's closure.
fn reduce(
    g: &Gen<'_>,
    code: &mut AccumulatorCode,
    a: &AggregateField,
    t: &TokenStream,
    v: &Ident,
    input: &Ident,
    off: usize,
) {
    let has = off + 8;
    let u = quote!(u64);
    let combined = match a
        .combine
        .as_ref()
        .expect("reduce has a combining expression")
    {
        Code::Expr(e) => ExprGen {
            record: input,
            locals: true,
            file: &g.plan.file,
            scratch: false,
        }
        .value(e),
        Code::Rust(r) => g.call(r, quote!(a, b)),
    };
    code.init.extend(set("acc", has, quote!(0u64)));
    let (cur, cur_has) = (get("acc", t, off), get("acc", &u, has));
    let (first, first_has) = (set("acc", off, quote!(#v)), set("acc", has, quote!(1u64)));
    let folded = set("acc", off, combined.clone());
    code.update.extend(quote! {
        if #cur_has == 0 { #first #first_has } else { let a = #cur; let b = #v; #folded }
    });
    let (x, y) = (get("into", t, off), get("from", t, off));
    let (xh, yh) = (get("into", &u, has), get("from", &u, has));
    let copy = set("into", off, y.clone());
    let fold = set("into", off, combined);
    code.merge.extend(quote! {
        if #yh != 0 {
            if #xh == 0 { #copy weir_runtime::state::acc_set(into, #has, 1u64); }
            else { let a = #x; let b = #y; #fold }
        }
    });
    code.outputs.push(get("acc", t, off));
}

/// Whether every one of `aggregates` can take a record back out (a `rolling` over an
/// updating stream, whose `-U` rows retract what their `+U` rows added): counts, sums
/// and averages; the first aggregate that cannot, otherwise.
pub(crate) fn first_unretractable(aggregates: &[AggregateField]) -> Option<&AggregateField> {
    aggregates
        .iter()
        .find(|a| !matches!(a.func, AggFunc::Count | AggFunc::Sum | AggFunc::Avg))
}

/// Takes the record whose arguments are the `v{i}` of [`accumulators`] back out of `acc`
/// (the block at `base`): each aggregate must be retractable ([`first_unretractable`]).
pub(crate) fn retractions(g: &Gen<'_>, aggregates: &[AggregateField], base: usize) -> TokenStream {
    let (offsets, _) = accumulator_offsets(aggregates);
    let mut out = TokenStream::new();
    for (i, (a, &off)) in aggregates.iter().zip(&offsets).enumerate() {
        let v = ident(&format!("v{i}"));
        let t = a.arg.as_ref().map_or(quote!(u64), |c| value_type(g, c));
        let at = base + off;
        let u = quote!(u64);
        match a.func {
            AggFunc::Count => {
                let cur = get("acc", &u, at);
                out.extend(set("acc", at, quote!(#cur.wrapping_sub(1))));
            }
            AggFunc::Sum => {
                let taken = number("minus", get("acc", &t, at), quote!(#v));
                out.extend(set("acc", at, taken));
            }
            AggFunc::Avg => {
                let n = at + 16;
                let count = get("acc", &u, n);
                out.extend(quote!(weir_runtime::state::AggNumber::avg_remove(#v, acc, #at);));
                out.extend(set("acc", n, quote!(#count.wrapping_sub(1))));
            }
            _ => unreachable!("only retractable aggregates are taken back"),
        }
    }
    out
}
