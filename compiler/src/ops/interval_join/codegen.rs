//! Generated code of an interval join: a record that is not late meets the other side's
//! buffered records of its key in its interval, each pair is emitted at once, and the
//! record is kept for the other side's later records; the combined watermark drops what no
//! record can meet any more. In an outer join, a record of a side emitted alone that met
//! no partner waits for its deadline, and the watermark that passes it emits it alone
//! unless a partner came meanwhile.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::IntervalJoin;
use crate::codegen::names::{ident, node_field, node_method};
use crate::codegen::context::Gen;
use crate::ops::join::{side_schema, JoinKind};
use crate::ops::join::sides::{
    arrival, combined_watermark, input_fields, key_width, pair_values, port_fields, side_values,
    Arrival,
};

/// The job's fields and methods of interval join node `n`.
struct Names {
    state: Ident,
    partners: Ident,
    unmatched: Ident,
    watermark: Ident,
    emit_unmatched: Ident,
}

impl Names {
    fn of(n: NodeIndex) -> Self {
        Names {
            state: node_field(n, "state"),
            partners: node_field(n, "partners"),
            unmatched: node_field(n, "unmatched"),
            watermark: node_field(n, "watermark"),
            emit_unmatched: node_method(n, "emit_unmatched"),
        }
    }
}

/// Whether the records of `port` that meet no partner are emitted alone.
fn alone(j: &IntervalJoin, port: usize) -> bool {
    if port == 0 {
        j.kind.right_optional()
    } else {
        j.kind.left_optional()
    }
}

pub(super) fn fields(j: &IntervalJoin, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
    let Names {
        state,
        partners,
        unmatched,
        ..
    } = Names::of(n);
    let memory = g.operator_memory(n);
    let (lower, upper) = (j.lower, j.upper);
    let width = key_width(&j.left_key, &side_schema(g, n, 0));
    let outer = j.kind != JoinKind::Inner;
    let sides = [alone(j, 0), alone(j, 1)];
    let emitting = outer.then(|| quote!(.emitting_unmatched([#(#sides),*])?));
    let mut all = vec![
        (
            quote!(#state: weir_runtime::state::IntervalBuffers),
            quote!(#state: weir_runtime::state::IntervalBuffers::new(#memory, #lower, #upper, #width)? #emitting),
        ),
        (
            quote!(#partners: weir_runtime::state::Partners),
            quote!(#partners: ::core::default::Default::default()),
        ),
    ];
    if outer {
        all.push((
            quote!(#unmatched: weir_runtime::state::Unmatched),
            quote!(#unmatched: ::core::default::Default::default()),
        ));
    }
    all.extend(input_fields(g, n));
    all
}

/// Code for the record in `input` arriving on `port`: late, or paired and kept.
pub(super) fn push(j: &IntervalJoin, g: &Gen<'_>, n: NodeIndex, port: usize, input: &Ident) -> TokenStream {
    let Names {
        state,
        partners,
        watermark,
        ..
    } = Names::of(n);
    let Arrival {
        encode_key,
        encode_record,
        side,
        late,
        ..
    } = arrival(g, n, port, [&j.left_key, &j.right_key], input);
    // Both records of a pair are read back from the copies `partners` holds: the record
    // meets any number of partners, and needs no `Clone` for it.
    let (own_view, partner_view) = (ident("own"), ident("pv"));
    let optional = [j.kind.left_optional(), j.kind.right_optional()];
    let values = pair_values(g, n, port, (&own_view, &partner_view), optional);
    let out = g.var(n);
    let record = g.result_record(n, values);
    let emit = g.emit(n, 0, &out);
    let wait = alone(j, port).then(|| {
        quote! {
            if partners.is_empty() {
                self.#state.await_partner(#side, key, ts, record)?;
            }
        }
    });
    let on_late = if g.plan.outputs(n, port + 1).is_empty() {
        quote!(self.#late += 1;)
    } else {
        g.emit(n, port + 1, input)
    };
    quote! {
        if ts <= self.#watermark {
            #on_late
        } else {
            let mut partners = ::std::mem::take(&mut self.#partners);
            {
                let key = #encode_key;
                let record = #encode_record;
                self.#state.probe(#side, key, ts, record, &mut partners)?;
                self.#state.add(#side, key, ts, record)?;
                #wait
            }
            let #own_view = weir_runtime::layout::RecordView::new(partners.own());
            for (partner_ts, partner) in partners.iter() {
                let #partner_view = weir_runtime::layout::RecordView::new(partner);
                let ts = ts.max(partner_ts);
                let #out = #record;
                #emit
            }
            self.#partners = partners;
        }
    }
}

/// The combined watermark of both inputs emits the records it made unmatched for good
/// (outer joins), then drops the records no later record can meet.
pub(super) fn on_watermark(j: &IntervalJoin, n: NodeIndex) -> TokenStream {
    let Names {
        state,
        watermark,
        emit_unmatched,
        ..
    } = Names::of(n);
    let combined = combined_watermark(n);
    let outer = j.kind != JoinKind::Inner;
    let before = outer.then(|| quote!(let before = self.#watermark;));
    let unmatched = outer.then(|| quote!(self.#emit_unmatched(wm, before)?;));
    quote! {
        #before
        #combined
        #unmatched
        self.#state.expire(wm);
    }
}

/// An outer join's `emit_unmatched(wm, before)`: every record whose deadline watermark
/// `wm` has passed with no partner, alone, at its deadline or just past `before` (the
/// watermark before), whichever is later, so that nothing after the join finds it late.
pub(super) fn methods(j: &IntervalJoin, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    if j.kind == JoinKind::Inner {
        return TokenStream::new();
    }
    let Names {
        state,
        unmatched,
        emit_unmatched,
        ..
    } = Names::of(n);
    let view = ident("alone");
    let out = g.var(n);
    let emit = g.emit(n, 0, &out);
    let optional = [j.kind.left_optional(), j.kind.right_optional()];
    let arm = |port: usize| {
        let (own, missing) = (side_schema(g, n, port), side_schema(g, n, 1 - port));
        let own = side_values(g, &own, Some(&view), optional[port]);
        let missing = side_values(g, &missing, None, optional[1 - port]);
        let values = if port == 0 {
            own.into_iter().chain(missing).collect()
        } else {
            missing.into_iter().chain(own).collect()
        };
        let record = g.result_record(n, values);
        quote! {
            for (deadline, record) in unmatched.iter() {
                let #view = weir_runtime::layout::RecordView::new(record);
                let ts = deadline.max(before.saturating_add(1));
                let #out = #record;
                #emit
            }
        }
    };
    let (left, right) = (alone(j, 0).then(|| arm(0)), alone(j, 1).then(|| arm(1)));
    let doc = format!(
        "Emits alone the records of the interval join at {} that met no partner by watermark `wm`.",
        g.plan.graph[n].location
    );
    quote! {
        #[doc = #doc]
        fn #emit_unmatched(&mut self, wm: i64, before: i64) -> ::core::result::Result<(), weir_runtime::JobError> {
            let mut unmatched = ::std::mem::take(&mut self.#unmatched);
            while self.#state.next_unmatched(wm, &mut unmatched)? {
                match unmatched.side() {
                    weir_runtime::state::JoinSide::Left => { #left }
                    weir_runtime::state::JoinSide::Right => { #right }
                }
            }
            self.#unmatched = unmatched;
            ::core::result::Result::Ok(())
        }
    }
}

/// End of input: late records without a side output are reported per side.
pub(super) fn finish(j: &IntervalJoin, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let location = &g.plan.graph[n].location;
    let reports = (0..2).filter(|port| g.plan.outputs(n, port + 1).is_empty()).map(|port| {
        let (_, _, late) = port_fields(n, port);
        let before = format!("interval join at {location}: dropped ");
        let after = format!(
            " late record(s) of `{}`; name a side output with `{} -> stream` to keep them",
            j.sides[port],
            if port == 0 { "late_left" } else { "late_right" }
        );
        quote! {
            if self.#late > 0 {
                ctx.report_count(#before, self.#late, #after, "");
            }
        }
    });
    let Names {
        watermark,
        emit_unmatched,
        ..
    } = Names::of(n);
    let unmatched = (j.kind != JoinKind::Inner)
        .then(|| quote!(self.#emit_unmatched(i64::MAX, self.#watermark)?;));
    quote! {
        #unmatched
        #(#reports)*
    }
}
