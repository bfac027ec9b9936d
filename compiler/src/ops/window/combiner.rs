//! A tumbling or sliding event-time window folded on the worker that read its records
//! (Flink's local aggregation, per window), when every worker reads a slice of the job's one
//! event-time source (`InputSplit::EventTimeSlices`).
//!
//! The reading worker judges each record late by its own watermark, which is the one a
//! single worker would have at that record, and folds it into a partial result per key and
//! window (`weir_runtime::parallel::Combiner::for_windows`). Before its watermark reaches
//! the end of a window it holds, the worker sends its partial results on; the key's worker
//! merges them into its state, which fires on the least watermark over the workers, so no
//! window fires before every worker's part of it has arrived. A window whose records cross
//! one by one costs an encoded row per record; folded, about one row per key, window and
//! worker.

use petgraph::graph::NodeIndex;
use proc_macro2::Ident;
use quote::quote;

use super::{Landing, Names, Window, WindowKind};
use crate::codegen::accumulators::accumulators;
use crate::codegen::context::Gen;
use crate::ir::accumulator_offsets;
use crate::codegen::accumulators::spill_support;
use crate::codegen::keys::key_width;
use crate::ops::api::{CombinerCode, WindowCombinerCode};

/// The fold of window `w` (node `n`) on the reading worker and the merge on the key's
/// worker, where the job reads its event-time source in slices and an exchange straight
/// from it feeds the window.
pub(super) fn combiner(w: &Window, g: &Gen<'_>, n: NodeIndex, input: &Ident) -> Option<CombinerCode> {
    let size = match w.window {
        WindowKind::Tumbling { size, .. } | WindowKind::Sliding { size, .. } => size,
        WindowKind::Session { .. } | WindowKind::Count { .. } => return None,
    };
    let Names {
        state,
        late,
        fire,
        scratch,
        ..
    } = Names::of(n);
    let (_, acc_size) = accumulator_offsets(&w.aggregates);
    let code = accumulators(g, &w.aggregates, input, 0);
    let width = key_width(g, n, &w.key);
    let spill = spill_support(g, &w.aggregates);
    let landing = Landing {
        state: state.clone(),
        encode: quote!(),
        init: code.init.clone(),
        landed: code.update.clone(),
        combined: true,
        // Windows with text aggregates have no partial results (`partial_results`).
        text: Vec::new(),
    };
    let assign = landing.assign_fixed(&w.window)?;
    let merge = &code.merge;
    Some(CombinerCode {
        acc_size,
        args: code.args,
        init: code.init,
        update: code.update,
        // Never late here: the worker that read the records has judged them.
        merge: quote! {
            let (key, start) = weir_runtime::parallel::window_key(key);
            let mut fresh = false;
            if let ::core::option::Option::Some((_, into)) = self.#state.open(key, start, start.saturating_add(#size), i64::MIN, |acc| {
                acc.copy_from_slice(partial);
                fresh = true;
            })? {
                if !fresh {
                    let from = partial;
                    #merge
                }
            }
        },
        windows: Some(WindowCombinerCode {
            fold: quote! {
                let wm = c.watermark(&x.outbox);
                let mut on_time = false;
                #assign
                if !on_time {
                    self.#late += 1;
                }
            },
            state: quote!(weir_runtime::state::FixedWindows::new(mem, #size, #acc_size, 0i64, #width, #spill)?),
            hold: quote!(self.#state.hold_through(before);),
            settle: quote! {
                if let (::core::option::Option::Some(to), ::core::option::Option::Some(x)) = (earlier, self.exchange.as_mut()) {
                    weir_runtime::parallel::hand_over_windows(&mut self.#state, &mut x.outbox, id, to, &mut self.#scratch)?;
                }
                self.#fire(i64::MAX)
            },
        }),
    })
}
