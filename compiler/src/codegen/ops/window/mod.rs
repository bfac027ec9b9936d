//! `window(...) |> aggregate { ... }` on a keyed stream: what every window kind shares
//! (state fields, lateness, emitting, firing, end of input). Which windows a record joins
//! is each kind's own file.
//!
//! Time windows keep their accumulators in the runtime's `WindowState` and fire from the
//! chain's watermark method (event time) or as the clock passes them (processing time).
//! Count windows keep a count beside the accumulators in a `KeyedTable` and fire on the
//! record that completes them. Every result goes out through the node's `emit` method, so
//! firing, re-firing for late records, and end of input share one path.

mod count;
mod session;
mod sliding;
mod tumbling;

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::aggregate::{encode_key, key_builder, key_outputs, state};
use crate::codegen::accumulators::accumulators;
use crate::codegen::names::ident;
use crate::codegen::Gen;
use crate::ir::{accumulator_offsets, AggregateField, KeySpec, Operator, TimeDomain, WindowKind};

/// Bytes before the accumulators in a count window's block: the count.
pub(crate) const COUNT_WORD: usize = 8;

/// A window node's operator, unpacked.
pub(crate) struct Window<'a> {
    key: &'a KeySpec,
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

/// The job's fields and methods for window node `n`: scratch, watermark, late count,
/// emit, fire, refire.
pub(crate) fn names(n: NodeIndex) -> [Ident; 6] {
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
                quote!(weir_runtime::state::KeyedTable),
                quote!(weir_runtime::state::KeyedTable::new(#memory, #size)?),
            )
        }
        _ => {
            let lateness = w.lateness;
            (
                quote!(weir_runtime::state::WindowState),
                quote!(weir_runtime::state::WindowState::new(#memory, #acc_size, #lateness)?),
            )
        }
    };
    let field = quote! {
        #s: #ty,
        #k: weir_runtime::layout::RecordBuilder,
        #scratch: ::std::vec::Vec<u8>,
        #watermark: i64,
        #late: u64
    };
    let init = quote! {
        #s: #init,
        #k: weir_runtime::layout::RecordBuilder::new(),
        #scratch: ::std::vec::Vec::new(),
        #watermark: i64::MIN,
        #late: 0
    };
    (field, init)
}

/// What every time-window kind needs to land a record: the state field, the key's encoding,
/// the set-up of a new window's accumulators, and what follows once the record has a window
/// (`slot`).
struct Landing {
    state: Ident,
    encode: TokenStream,
    init: TokenStream,
    landed: TokenStream,
}

impl Landing {
    /// Opens the fixed window `[start, start + SIZE)` of the key and lands the record there.
    fn open_fixed(&self) -> TokenStream {
        let Landing {
            state,
            encode,
            init,
            landed,
        } = self;
        quote! {
            #encode
            if let ::core::option::Option::Some(slot) = self.#state.open(key, start, start.saturating_add(SIZE), wm, |acc| { #init })? {
                #landed
            }
        }
    }
}

/// Code that adds the record in `input` to its windows.
pub(crate) fn push(g: &Gen<'_>, n: NodeIndex, input: &Ident) -> TokenStream {
    let w = window(g, n);
    let s = state(n);
    let [_, watermark, late, _, fire, refire] = names(n);
    if let WindowKind::Count { n: count } = w.kind {
        return count::push(g, n, &w, count, input);
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
        if let weir_runtime::state::WindowOutcome::Refire(slot) = self.#s.after_update(slot, wm) {
            self.#refire(slot)?;
        }
    };
    let landing = Landing {
        state: s,
        encode,
        init: init.clone(),
        landed,
    };
    let assign = match w.kind {
        WindowKind::Tumbling { size, offset } => tumbling::assign(&landing, size, offset),
        WindowKind::Sliding {
            size,
            slide,
            offset,
        } => sliding::assign(&landing, size, slide, offset),
        WindowKind::Session { gap } => session::assign(&landing, merge, gap),
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
    let mut values = key_outputs(g, n, w.key);
    let base = if w.kind.has_bounds() { 0 } else { COUNT_WORD };
    if w.kind.has_bounds() {
        values.push(quote!(start));
        values.push(quote!(end));
    }
    let dummy = ident("unused");
    values.extend(accumulators(g, w.aggregates, &dummy, base).outputs);
    let record = g.result_record(n, values);
    let ts = match (w.kind.has_bounds(), w.time) {
        (true, TimeDomain::EventTime) => quote!(end.saturating_sub(1)),
        _ => quote!(i64::MIN),
    };
    let rest = g.emit(n, &out);
    let doc = format!("One result of the window at {}.", node.location);
    let emit_fn = quote! {
        #[doc = #doc]
        #[allow(unused_variables)]
        fn #emit(&mut self, start: i64, end: i64, key_len: usize, bytes: &[u8]) -> ::core::result::Result<(), weir_runtime::JobError> {
            let k = weir_runtime::layout::RecordView::new(&bytes[..key_len]);
            let acc = &bytes[key_len..];
            let ts = #ts;
            let #out = #record;
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
        fn #fire(&mut self, wm: i64) -> ::core::result::Result<(), weir_runtime::JobError> {
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
        fn #refire(&mut self, slot: u32) -> ::core::result::Result<(), weir_runtime::JobError> {
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
    let [_, _, late, _, fire, _] = names(n);
    let location = &g.plan.graph[n].location;
    let flush = if w.kind.has_bounds() {
        quote!(self.#fire(i64::MAX)?;)
    } else {
        count::flush(n)
    };
    let message = format!("window at {location}: dropped {{}} late record(s); name a side output with `late -> stream` to keep them");
    quote! {
        #flush
        if self.#late > 0 {
            ctx.report(format!(#message, self.#late));
        }
    }
}
