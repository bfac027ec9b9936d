//! Generated code of a window join: each side's records land in their windows (key and
//! whole record encoded in the runtime's binary layout), the combined watermark fires
//! windows, and each fired key's records are paired.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::sides::{
    arrival, combined_watermark, input_fields, port_fields, side_values, Arrival,
};
use super::{side_schema, Join};
use crate::codegen::names::{ident, node_field, node_method};
use crate::codegen::context::Gen;
use crate::ir::WindowKind;

/// The job's fields and methods of join node `n`.
struct Names {
    state: Ident,
    watermark: Ident,
    fire: Ident,
    emit_group: Ident,
}

impl Names {
    fn of(n: NodeIndex) -> Self {
        Names {
            state: node_field(n, "state"),
            watermark: node_field(n, "watermark"),
            fire: node_method(n, "fire"),
            emit_group: node_method(n, "emit_group"),
        }
    }
}

pub(super) fn fields(j: &Join, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
    let Names { state, .. } = Names::of(n);
    let memory = g.operator_memory(n);
    let (ty, init) = match j.window {
        WindowKind::Tumbling { size, .. } | WindowKind::Sliding { size, .. } => (
            quote!(weir_runtime::state::WindowJoin),
            {
                // An inner join emits nothing for a key with records on one side only.
                let keys = match j.kind.left_optional() || j.kind.right_optional() {
                    true => quote!(weir_runtime::state::FiredKeys::All),
                    false => quote!(weir_runtime::state::FiredKeys::Paired),
                };
                quote!(weir_runtime::state::WindowJoin::new(#memory, #size, #keys)?)
            },
        ),
        WindowKind::Session { gap } => (
            quote!(weir_runtime::state::SessionJoin),
            quote!(weir_runtime::state::SessionJoin::new(#memory, #gap)?),
        ),
        WindowKind::Count { .. } => unreachable!("the lowering refuses count windows in joins"),
    };
    // Taken out while a window fires, so its records are read in place while the job
    // emits.
    let mut all = vec![(
        quote!(#state: ::core::option::Option<#ty>),
        quote!(#state: ::core::option::Option::Some(#init)),
    )];
    all.extend(input_fields(g, n));
    all
}

/// Code that keeps the record in `input`, arriving on `port`, in each of its windows.
pub(super) fn push(j: &Join, g: &Gen<'_>, n: NodeIndex, port: usize, input: &Ident) -> TokenStream {
    let Names {
        state, watermark, ..
    } = Names::of(n);
    let Arrival {
        encode_key,
        encode_record,
        side,
        late,
        ..
    } = arrival(g, n, port, [&j.left_key, &j.right_key], input);
    let add = quote! {
        if state.add(#side, key, start, wm, record)? {
            on_time = true;
        }
    };
    let assign = match j.window {
        WindowKind::Tumbling { .. } | WindowKind::Sliding { .. } => {
            crate::ops::window::each_fixed_window(&j.window, add)
                .expect("tumbling and sliding windows are fixed")
        }
        // A session grows around the record: the state finds or merges it.
        WindowKind::Session { .. } => quote! {
            if state.add(#side, key, ts, wm, record)? {
                on_time = true;
            }
        },
        WindowKind::Count { .. } => unreachable!("the lowering refuses count windows in joins"),
    };
    quote! {
        let wm = self.#watermark;
        let key = #encode_key;
        let record = #encode_record;
        let state = self.#state.as_mut().expect("the join's state is back after firing");
        let mut on_time = false;
        #assign
        if !on_time {
            self.#late += 1;
        }
    }
}

/// The combined watermark of both inputs (the least, skipping idle ones) fires windows.
pub(super) fn on_watermark(_g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let Names { fire, .. } = Names::of(n);
    let combined = combined_watermark(n);
    quote! {
        #combined
        self.#fire(wm)?;
    }
}

/// `fire` (every key of every window due at a watermark) and `emit_group` (one key's
/// pairs, and its unmatched records in an outer join).
pub(super) fn methods(j: &Join, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let fire = fire_method(n);
    let emit_group = emit_group_method(j, g, n);
    quote! {
        #fire
        #emit_group
    }
}

/// `fire`: every key of every window due at a watermark, read from the state taken out of
/// the job meanwhile.
fn fire_method(n: NodeIndex) -> TokenStream {
    let Names {
        state,
        fire,
        emit_group,
        ..
    } = Names::of(n);
    quote! {
        /// Emits every key of every window due at `wm`, windows in order of end, keys in
        /// the order they opened the window.
        fn #fire(&mut self, wm: i64) -> ::core::result::Result<(), weir_runtime::JobError> {
            let mut state = self.#state.take().expect("the join's state is back after firing");
            let mut result = ::core::result::Result::Ok(());
            if state.next_timer().is_some_and(|t| t <= wm) {
                loop {
                    // Reading a window out may read its spilled parts back: it can fail.
                    let group = match state.next_group(wm) {
                        ::core::result::Result::Ok(::core::option::Option::Some(group)) => group,
                        ::core::result::Result::Ok(::core::option::Option::None) => break,
                        ::core::result::Result::Err(e) => {
                            result = ::core::result::Result::Err(e);
                            break;
                        }
                    };
                    result = self.#emit_group(&group);
                    if result.is_err() {
                        break;
                    }
                }
            }
            self.#state = ::core::option::Option::Some(state);
            result
        }
    }
}

/// `emit_group`: one key's pairs, and in an outer join its records without a partner.
fn emit_group_method(j: &Join, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let Names { emit_group, .. } = Names::of(n);
    let (left, right) = (side_schema(g, n, 0), side_schema(g, n, 1));
    let (lv, rv) = (ident("lv"), ident("rv"));
    let (left_optional, right_optional) = (j.kind.left_optional(), j.kind.right_optional());
    // The output record with each side's values, or the side missing (`None`).
    let record = |l: Option<&Ident>, r: Option<&Ident>| {
        // `.pipe` records start with the window's bounds; `stream!` yields `(L, R)`.
        let mut values = match left.rust {
            Some(_) => Vec::new(),
            None => vec![quote!(start), quote!(end)],
        };
        values.extend(side_values(g, &left, l, left_optional));
        values.extend(side_values(g, &right, r, right_optional));
        g.result_record(n, values)
    };
    let (pair, left_alone, right_alone) = (
        record(Some(&lv), Some(&rv)),
        record(Some(&lv), None),
        record(None, Some(&rv)),
    );
    let out = g.var(n);
    let emit = g.emit(n, 0, &out);
    let unmatched_left = right_optional.then(|| {
        quote! {
            if group.no_right() {
                let #out = #left_alone;
                #emit
            }
        }
    });
    let unmatched_right = left_optional.then(|| {
        quote! {
            if group.no_left() {
                for r in group.right() {
                    let #rv = weir_runtime::layout::RecordView::new(r);
                    let #out = #right_alone;
                    #emit
                }
            }
        }
    });
    let doc = format!("The pairs of one key of a fired window of the join at {}.", g.plan.graph[n].location);
    let group_ty = match j.window {
        WindowKind::Session { .. } => quote!(weir_runtime::state::SessionGroup<'_>),
        _ => quote!(weir_runtime::state::JoinGroup<'_>),
    };
    quote! {
        #[doc = #doc]
        #[allow(unused_variables)]
        fn #emit_group(&mut self, group: &#group_ty) -> ::core::result::Result<(), weir_runtime::JobError> {
            let (start, end) = (group.start, group.end);
            let ts = end.saturating_sub(1);
            for l in group.left() {
                let #lv = weir_runtime::layout::RecordView::new(l);
                for r in group.right() {
                    let #rv = weir_runtime::layout::RecordView::new(r);
                    let #out = #pair;
                    #emit
                }
                #unmatched_left
            }
            #unmatched_right
            ::core::result::Result::Ok(())
        }
    }
}

/// End of input: every window still open fires, and late records are reported per side.
pub(super) fn finish(j: &Join, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let Names { fire, .. } = Names::of(n);
    let location = &g.plan.graph[n].location;
    let reports = (0..2).map(|port| {
        let (_, _, late) = port_fields(n, port);
        let before = format!("join at {location}: dropped ");
        let after = format!(
            " late record(s) of `{}`, whose windows had fired",
            j.sides[port]
        );
        quote! {
            if self.#late > 0 {
                ctx.report_count(#before, self.#late, #after, "");
            }
        }
    });
    quote! {
        self.#fire(i64::MAX)?;
        #(#reports)*
    }
}
