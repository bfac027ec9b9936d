//! Firing windows: the methods that take a window's results out of the state when the
//! watermark (or the clock) passes its end, again for a late record within its lateness,
//! and at the end of the input, all through the node's `emit`.

use petgraph::graph::NodeIndex;
use proc_macro2::TokenStream;
use quote::quote;

use super::{count, Names, Window, COUNT_WORD};
use crate::codegen::accumulators::accumulators;
use crate::codegen::context::Gen;
use crate::codegen::keys::key_outputs;
use crate::codegen::names::ident;
use crate::ir::TimeDomain;

/// The window's methods: `emit` (one result), `fire` (everything due at a watermark) and
/// `refire` (one window again, after a late record).
pub(super) fn methods(w: &Window, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let node = &g.plan.graph[n];
    let Names {
        state: s,
        scratch,
        emit,
        fire,
        refire,
        ..
    } = Names::of(n);
    let out = g.var(n);
    let mut values = key_outputs(g, n, &w.key);
    if w.window.has_bounds() {
        // Key fields its bounds replace (a window of windows) are not in the results.
        let input = g.plan.input_schema(n, 0).expect("a window has an input");
        if input.rust.is_none() {
            let names = w.key.result_columns(&input);
            values = values
                .into_iter()
                .zip(names)
                .filter(|(_, f)| !crate::ops::keyed::replaced_by_bound(&f.name))
                .map(|(v, _)| v)
                .collect();
        }
    }
    let base = if w.window.has_bounds() { 0 } else { COUNT_WORD };
    if w.window.has_bounds() {
        values.push(quote!(start));
        values.push(quote!(end));
    }
    let dummy = ident("unused");
    values.extend(accumulators(g, &w.aggregates, &dummy, base).outputs);
    let record = g.result_record(n, values);
    let ts = match (w.window.has_bounds(), w.time) {
        (true, TimeDomain::EventTime) => quote!(end.saturating_sub(1)),
        _ => quote!(i64::MIN),
    };
    let rest = g.emit(n, 0, &out);
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
    if !w.window.has_bounds() {
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
            loop {
                let f = match self.#s.next_due(wm, &mut scratch) {
                    ::core::result::Result::Ok(::core::option::Option::Some(f)) => f,
                    ::core::result::Result::Ok(::core::option::Option::None) => break,
                    ::core::result::Result::Err(e) => {
                        result = ::core::result::Result::Err(e);
                        break;
                    }
                };
                result = self.#emit(f.start, f.end, f.key_len, &scratch);
                if result.is_err() {
                    break;
                }
            }
            self.#scratch = scratch;
            result
        }

        /// Emits window `slot` again with its updated result.
        fn #refire(&mut self, slot: weir_runtime::state::WindowSlot) -> ::core::result::Result<(), weir_runtime::JobError> {
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
pub(super) fn finish(w: &Window, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let Names { late, fire, .. } = Names::of(n);
    let location = &g.plan.graph[n].location;
    let flush = if w.window.has_bounds() {
        quote!(self.#fire(i64::MAX)?;)
    } else {
        count::flush(n)
    };
    let before = format!("window at {location}: dropped ");
    let after = " late record(s); name a side output with `late -> stream` to keep them";
    quote! {
        #flush
        if self.#late > 0 {
            ctx.report_count(#before, self.#late, #after, "");
        }
    }
}
