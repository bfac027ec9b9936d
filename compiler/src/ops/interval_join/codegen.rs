//! Generated code of an interval join: a record that is not late meets the other side's
//! buffered records of its key in its interval, each pair is emitted at once, and the
//! record is kept for the other side's later records; the combined watermark drops what no
//! record can meet any more.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::IntervalJoin;
use crate::codegen::names::{ident, node_field};
use crate::codegen::context::Gen;
use crate::ops::join::side_schema;
use crate::ops::join::sides::{
    arrival, combined_watermark, input_fields, key_width, port_fields, side_values, Arrival,
};

/// The job's fields of interval join node `n`.
struct Names {
    state: Ident,
    partners: Ident,
    watermark: Ident,
}

impl Names {
    fn of(n: NodeIndex) -> Self {
        Names {
            state: node_field(n, "state"),
            partners: node_field(n, "partners"),
            watermark: node_field(n, "watermark"),
        }
    }
}

pub(super) fn fields(j: &IntervalJoin, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
    let Names {
        state, partners, ..
    } = Names::of(n);
    let memory = g.operator_memory(n);
    let (lower, upper) = (j.lower, j.upper);
    let width = key_width(&j.left_key, &side_schema(g, n, 0));
    let mut all = vec![
        (
            quote!(#state: weir_runtime::state::IntervalBuffers),
            quote!(#state: weir_runtime::state::IntervalBuffers::new(#memory, #lower, #upper, #width)?),
        ),
        (
            quote!(#partners: weir_runtime::state::Partners),
            quote!(#partners: ::core::default::Default::default()),
        ),
    ];
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
        schema,
        encode_key,
        encode_record,
        side,
        late,
    } = arrival(g, n, port, [&j.left_key, &j.right_key], input);
    let other_schema = side_schema(g, n, 1 - port);
    // Both records of a pair are read back from the copies `partners` holds: the record
    // meets any number of partners, and needs no `Clone` for it.
    let (own_view, partner_view) = (ident("own"), ident("pv"));
    let own = side_values(g, &schema, Some(&own_view), false);
    let theirs = side_values(g, &other_schema, Some(&partner_view), false);
    let values = if port == 0 {
        own.into_iter().chain(theirs).collect()
    } else {
        theirs.into_iter().chain(own).collect()
    };
    let out = g.var(n);
    let record = g.result_record(n, values);
    let emit = g.emit(n, 0, &out);
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

/// The combined watermark of both inputs drops the records no later record can meet.
pub(super) fn on_watermark(_g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let Names { state, .. } = Names::of(n);
    let combined = combined_watermark(n);
    quote! {
        #combined
        self.#state.expire(wm);
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
    quote! {
        #(#reports)*
    }
}
