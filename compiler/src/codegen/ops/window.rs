//! `window(...) |> aggregate { ... }` on a keyed stream.
//!
//! Time windows keep their accumulators in the runtime's `WindowState` and fire from the
//! chain's watermark method (event time) or as the clock passes them (processing time).
//! Count windows keep a count beside the accumulators in a `KeyedTable` and fire on the
//! record that completes them. Every result goes out through the node's `emit` method, so
//! firing, re-firing for late records, and end of input share one path.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::aggregate::{encode_key, key_builder, key_outputs, state};
use crate::codegen::accumulators::accumulators;
use crate::codegen::names::{field_ident, ident};
use crate::codegen::Gen;
use crate::ir::{accumulator_offsets, AggregateField, Operator, TimeDomain, WindowKind};

/// Bytes before the accumulators in a count window's block: the count.
const COUNT_WORD: usize = 8;

struct Window<'a> {
    key: &'a [usize],
    kind: WindowKind,
    time: TimeDomain,
    lateness: i64,
    aggregates: &'a [AggregateField],
}

fn window<'g>(g: &'g Gen<'_>, n: NodeIndex) -> Window<'g> {
    match &g.plan.graph[n].op {
        Operator::WindowAggregate {
            key,
            window,
            time,
            lateness,
            aggregates,
        } => Window {
            key,
            kind: *window,
            time: *time,
            lateness: *lateness,
            aggregates,
        },
        _ => unreachable!("called for windows"),
    }
}

fn names(n: NodeIndex) -> [Ident; 6] {
    let i = n.index();
    [
        ident(&format!("scratch_{i}")),
        ident(&format!("watermark_{i}")),
        ident(&format!("late_{i}")),
        ident(&format!("emit_{i}")),
        ident(&format!("fire_{i}")),
        ident(&format!("refire_{i}")),
    ]
}

/// The job's fields for window `n` (budget number `index`) and their initializers.
pub(crate) fn state_field(g: &Gen<'_>, n: NodeIndex, index: usize) -> (TokenStream, TokenStream) {
    let w = window(g, n);
    let (_, acc_size) = accumulator_offsets(w.aggregates);
    let (s, k) = (state(n), key_builder(n));
    let [scratch, watermark, late, ..] = names(n);
    let location = &g.plan.graph[n].location;
    let memory = quote!(ctx.operator_memory(#index, "window", #location));
    let (ty, init) = match w.kind {
        WindowKind::Count { .. } => {
            let size = COUNT_WORD + acc_size;
            (
                quote!(::weir_runtime::state::KeyedTable),
                quote!(::weir_runtime::state::KeyedTable::new(#memory, #size)?),
            )
        }
        _ => {
            let lateness = w.lateness;
            (
                quote!(::weir_runtime::state::WindowState),
                quote!(::weir_runtime::state::WindowState::new(#memory, #acc_size, #lateness)?),
            )
        }
    };
    let field = quote! {
        #s: #ty,
        #k: ::weir_runtime::layout::RecordBuilder,
        #scratch: ::std::vec::Vec<u8>,
        #watermark: i64,
        #late: u64
    };
    let init = quote! {
        #s: #init,
        #k: ::weir_runtime::layout::RecordBuilder::new(),
        #scratch: ::std::vec::Vec::new(),
        #watermark: i64::MIN,
        #late: 0
    };
    (field, init)
}

/// Code that adds the record in `input` to its windows.
pub(crate) fn push(g: &Gen<'_>, n: NodeIndex, input: &Ident) -> TokenStream {
    let w = window(g, n);
    let s = state(n);
    let [scratch, watermark, late, emit, fire, refire] = names(n);
    if let WindowKind::Count { n: count } = w.kind {
        let code = accumulators(g, w.aggregates, input, COUNT_WORD);
        let (args, init, update) = (&code.args, &code.init, &code.update);
        let encode = encode_key(g, n, w.key, input);
        return quote! {
            #args
            #encode
            let addr = self.#s.upsert_entry(key, |acc| { ::weir_runtime::state::acc_set(acc, 0, 0u64); #init })?;
            let acc = self.#s.acc_at_mut(addr);
            #update
            let count = ::weir_runtime::state::acc_get::<u64>(acc, 0) + 1;
            ::weir_runtime::state::acc_set(acc, 0, count);
            if count == #count {
                let mut scratch = ::std::mem::take(&mut self.#scratch);
                scratch.clear();
                scratch.extend_from_slice(self.#s.key_at(addr));
                let key_len = scratch.len();
                scratch.extend_from_slice(self.#s.acc_at(addr));
                let acc = self.#s.acc_at_mut(addr);
                ::weir_runtime::state::acc_set(acc, 0, 0u64);
                #init
                let emitted = self.#emit(0, 0, key_len, &scratch);
                self.#scratch = scratch;
                emitted?;
            }
        };
    }
    let code = accumulators(g, w.aggregates, input, 0);
    let (args, init, update, merge) = (&code.args, &code.init, &code.update, &code.merge);
    let clock = match w.time {
        TimeDomain::EventTime => quote!(let wm = self.#watermark;),
        // A processing-time record belongs to the windows of its arrival; the clock is the
        // watermark, and windows it has passed fire first.
        TimeDomain::ProcessingTime => quote! {
            let ts = self.clock.now();
            let wm = ts - 1;
            self.#fire(wm)?;
        },
    };
    let encode = encode_key(g, n, w.key, input);
    let landed = quote! {
        on_time = true;
        let acc = self.#s.acc_mut(slot);
        #update
        if let ::weir_runtime::state::WindowOutcome::Refire(slot) = self.#s.after_update(slot, wm) {
            self.#refire(slot)?;
        }
    };
    let fixed = |start: TokenStream| {
        quote! {
            #encode
            if let ::core::option::Option::Some(slot) = self.#s.open(key, #start, #start.saturating_add(SIZE), wm, |acc| { #init })? {
                #landed
            }
        }
    };
    let assign = match w.kind {
        WindowKind::Tumbling { size, offset } => {
            let body = fixed(quote!(start));
            quote! {
                const SIZE: i64 = #size;
                let start = ts.wrapping_sub(ts.wrapping_sub(#offset).rem_euclid(SIZE));
                #body
            }
        }
        WindowKind::Sliding {
            size,
            slide,
            offset,
        } => {
            let body = fixed(quote!(start));
            quote! {
                const SIZE: i64 = #size;
                let mut start = ts.wrapping_sub(ts.wrapping_sub(#offset).rem_euclid(#slide));
                while start > ts.saturating_sub(SIZE) {
                    #body
                    start = start.saturating_sub(#slide);
                }
            }
        }
        WindowKind::Session { gap } => quote! {
            #encode
            let opened = self.#s.open_session(key, ts, #gap, wm, |acc| { #init }, |into, from| {
                #merge
                ::core::result::Result::Ok(())
            })?;
            if let ::core::option::Option::Some(slot) = opened {
                #landed
            }
        },
        WindowKind::Count { .. } => unreachable!("handled above"),
    };
    let late_edge = g.plan.late_outputs(n).first().map(|(t, _)| *t);
    let on_late = match late_edge {
        Some(t) => {
            let method = Gen::chain_method(g.plan.graph[t].chain.expect("chained"));
            quote!(self.#method(#input, ts)?;)
        }
        None => quote!(self.#late += 1;),
    };
    quote! {
        #clock
        #args
        let mut on_time = false;
        #assign
        if !on_time {
            #on_late
        }
    }
}

/// The window's methods: `emit` (one result), `fire` (everything due at a watermark) and
/// `refire` (one window again, after a late record).
pub(crate) fn methods(g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let w = window(g, n);
    let node = &g.plan.graph[n];
    let s = state(n);
    let [scratch, _, _, emit, fire, refire] = names(n);
    let out = g.var(n);
    let name = g.records.name(&node.schema.fields);
    let mut inits = key_outputs(g, n, w.key);
    let base = if w.kind.has_bounds() { 0 } else { COUNT_WORD };
    let dummy = ident("unused");
    let values = accumulators(g, w.aggregates, &dummy, base).outputs;
    let mut fields = node.schema.fields[w.key.len()..].iter();
    if w.kind.has_bounds() {
        fields.next();
        fields.next();
        inits.push(quote!(window_start: start));
        inits.push(quote!(window_end: end));
    }
    for (v, field) in values.into_iter().zip(fields) {
        let f = field_ident(&field.name);
        inits.push(quote!(#f: #v));
    }
    let ts = match (w.kind.has_bounds(), w.time) {
        (true, TimeDomain::EventTime) => quote!(end.saturating_sub(1)),
        _ => quote!(i64::MIN),
    };
    let rest = g.emit(n, &out);
    let doc = format!("One result of the window at {}.", node.location);
    let emit_fn = quote! {
        #[doc = #doc]
        #[allow(unused_variables)]
        fn #emit(&mut self, start: i64, end: i64, key_len: usize, bytes: &[u8]) -> ::core::result::Result<(), ::weir_runtime::JobError> {
            let k = ::weir_runtime::layout::RecordView::new(&bytes[..key_len]);
            let acc = &bytes[key_len..];
            let ts = #ts;
            let #out = #name { #(#inits,)* };
            #rest
            ::core::result::Result::Ok(())
        }
    };
    if !w.kind.has_bounds() {
        return emit_fn;
    }
    quote! {
        #emit_fn

        /// Emits every window due at `wm`, in order of end, then of opening.
        fn #fire(&mut self, wm: i64) -> ::core::result::Result<(), ::weir_runtime::JobError> {
            if self.#s.next_timer().is_none_or(|t| t > wm) {
                return ::core::result::Result::Ok(());
            }
            let mut scratch = ::std::mem::take(&mut self.#scratch);
            let mut result = ::core::result::Result::Ok(());
            while let ::core::option::Option::Some(f) = self.#s.next_due(wm, &mut scratch) {
                result = self.#emit(f.start, f.end, f.key_len, &scratch);
                if result.is_err() {
                    break;
                }
            }
            self.#scratch = scratch;
            result
        }

        /// Emits window `slot` again with its updated result.
        fn #refire(&mut self, slot: u32) -> ::core::result::Result<(), ::weir_runtime::JobError> {
            let mut scratch = ::std::mem::take(&mut self.#scratch);
            let f = self.#s.copy_window(slot, &mut scratch);
            let result = self.#emit(f.start, f.end, f.key_len, &scratch);
            self.#scratch = scratch;
            result
        }
    }
}

/// End of input for window `n`: everything still open fires, and dropped late records are
/// reported.
pub(crate) fn finish(g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let w = window(g, n);
    let s = state(n);
    let [scratch, _, late, emit, fire, _] = names(n);
    let location = &g.plan.graph[n].location;
    let flush = if w.kind.has_bounds() {
        quote!(self.#fire(i64::MAX)?;)
    } else {
        // Count windows still filling are emitted as they stand: input has ended, and no
        // record is dropped without a trace.
        quote! {
            let drained = self.#s.drain();
            let mut scratch = ::std::mem::take(&mut self.#scratch);
            for (key, acc) in drained.iter() {
                if ::weir_runtime::state::acc_get::<u64>(acc, 0) > 0 {
                    scratch.clear();
                    scratch.extend_from_slice(key);
                    scratch.extend_from_slice(acc);
                    self.#emit(0, 0, key.len(), &scratch)?;
                }
            }
            self.#scratch = scratch;
        }
    };
    let message = format!("window at {location}: dropped {{}} late record(s); name a side output with `late -> stream` to keep them");
    quote! {
        #flush
        if self.#late > 0 {
            ctx.report(format!(#message, self.#late));
        }
    }
}
