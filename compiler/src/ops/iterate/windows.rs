//! The generated code of an iteration over windows (`window(tumbling 1m) |>
//! iterate(...)`): each record kept in the rows of each window that contains it
//! (`weir_runtime::iteration::WindowRows`); when the watermark passes a window's end, its
//! rows become the iteration's rows and the rounds run over them alone, emitting at
//! `window_end - 1`. A record for a window that has run is late: counted and reported.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::codegen::names;
use crate::codegen::context::Gen;
use crate::codegen::names::{node_field, node_method};
use crate::ir::WindowKind;

/// The fields and method an iteration over windows adds.
pub(super) struct WindowNames {
    windows: Ident,
    late: Ident,
    fired: Ident,
    rounds: Ident,
    fire: Ident,
}

impl WindowNames {
    pub(super) fn of(n: NodeIndex) -> Self {
        WindowNames {
            windows: node_field(n, "windows"),
            late: node_field(n, "late"),
            fired: node_field(n, "windows_run"),
            rounds: node_field(n, "rounds_run"),
            fire: node_method(n, "fire"),
        }
    }
}

/// The open windows' rows (and the watermark), and the counts reported at the end.
pub(super) fn fields(
    window: &WindowKind,
    width: usize,
    store: Option<TokenStream>,
    g: &Gen<'_>,
    n: NodeIndex,
) -> Vec<(TokenStream, TokenStream)> {
    let WindowNames {
        windows,
        late,
        fired,
        rounds,
        ..
    } = WindowNames::of(n);
    let memory = g.operator_memory(n);
    let store = store.unwrap_or_else(|| quote!(weir_runtime::iteration::WordRows));
    let size = match *window {
        WindowKind::Tumbling { size, .. } | WindowKind::Sliding { size, .. } => size,
        _ => unreachable!("the lowering takes tumbling and sliding windows"),
    };
    vec![
        (
            quote!(#windows: weir_runtime::iteration::WindowRows<#store>),
            quote!(#windows: weir_runtime::iteration::WindowRows::new(#memory, #width, #size)),
        ),
        (quote!(#late: u64), quote!(#late: 0)),
        (quote!(#fired: u64), quote!(#fired: 0)),
        (quote!(#rounds: u64), quote!(#rounds: 0)),
    ]
}

/// Code that keeps the record in each of its windows: `prepare` once, then `keep` (an
/// expression) with the window's rows in `rows`.
pub(super) fn push(
    window: &WindowKind,
    n: NodeIndex,
    prepare: TokenStream,
    keep: TokenStream,
) -> TokenStream {
    let WindowNames { windows, late, .. } = WindowNames::of(n);
    let keep = quote! {
        on_time |= self.#windows.push_with(start, |rows| #keep)?;
    };
    let assign = crate::ops::window::each_fixed_window(window, keep)
        .expect("the lowering takes tumbling and sliding windows");
    quote! {
        #prepare
        let mut on_time = false;
        #assign
        if !on_time {
            self.#late += 1;
        }
    }
}

/// At a watermark: the windows it has passed run.
pub(super) fn on_watermark(n: NodeIndex) -> TokenStream {
    let WindowNames { windows, fire, .. } = WindowNames::of(n);
    quote! {
        self.#windows.advance(wm);
        self.#fire(wm)?;
    }
}

/// `fire`: runs each window the watermark `wm` has passed, earliest first, over its rows
/// alone, then gives its rows back.
pub(super) fn fire_method(n: NodeIndex, width: usize) -> TokenStream {
    let (rows, method) = names(n);
    let WindowNames { windows, fire, .. } = WindowNames::of(n);
    quote! {
        fn #fire(&mut self, wm: i64) -> ::core::result::Result<(), weir_runtime::JobError> {
            while let ::core::option::Option::Some((start, end, rows)) = self.#windows.next_due(wm) {
                let p_memory = rows.memory().clone();
                self.#rows = rows;
                let ran = self.#method(start, end);
                self.#rows = weir_runtime::iteration::WindowStore::for_window(p_memory, #width);
                ran?;
            }
            ::core::result::Result::Ok(())
        }
    }
}

/// Counted after a window's rounds (no context there).
pub(super) fn count_rounds(n: NodeIndex) -> TokenStream {
    let WindowNames { fired, rounds, .. } = WindowNames::of(n);
    quote! {
        self.#fired += 1;
        self.#rounds += p_round;
    }
}

/// End of input: every open window runs, and the counts are reported.
pub(super) fn finish(g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let WindowNames {
        late,
        fired,
        rounds,
        fire,
        ..
    } = WindowNames::of(n);
    let before = format!("iterate at {}: ", g.plan.graph[n].location);
    let dropped = format!("iterate at {}: dropped ", g.plan.graph[n].location);
    quote! {
        self.#fire(i64::MAX)?;
        if self.#late > 0 {
            ctx.report_count(#dropped, self.#late, " late record(s): their windows had run", "");
        }
        if ctx.args().stats {
            ctx.report_count(#before, self.#fired, " window(s)", "");
            ctx.report_count(#before, self.#rounds, " round(s)", "");
        }
    }
}
