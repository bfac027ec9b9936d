//! Generated code of an overlap join: a record that is not late (its start after the
//! watermark) meets the other side's kept records of its key whose interval ends after its
//! start, keeps those that start before its end, emits each pair at once, and is kept at
//! its end; the combined watermark drops the records it has reached the end of.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::OverlapJoin;
use crate::codegen::context::Gen;
use crate::codegen::names::{field_ident, ident, node_field};
use crate::ops::join::side_schema;
use crate::ops::join::sides::{
    arrival, combined_watermark, input_fields, key_width, pair_values, port_fields, Arrival,
};

/// The job's fields of overlap join node `n`.
struct Names {
    state: Ident,
    partners: Ident,
    watermark: Ident,
    stored: Ident,
}

impl Names {
    fn of(n: NodeIndex) -> Self {
        Names {
            state: node_field(n, "state"),
            partners: node_field(n, "partners"),
            watermark: node_field(n, "watermark"),
            stored: node_field(n, "stored"),
        }
    }
}

pub(super) fn fields(j: &OverlapJoin, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
    let Names {
        state,
        partners,
        stored,
        ..
    } = Names::of(n);
    let memory = g.operator_memory(n);
    let width = key_width(&j.left_key, &side_schema(g, n, 0));
    let mut all = vec![
        (
            quote!(#state: weir_runtime::state::IntervalBuffers),
            quote!(#state: weir_runtime::state::IntervalBuffers::new(#memory, 0, 0, #width)?),
        ),
        (
            quote!(#partners: weir_runtime::state::Partners),
            quote!(#partners: ::core::default::Default::default()),
        ),
        (quote!(#stored: ::std::vec::Vec<u8>), quote!(#stored: ::std::vec::Vec::new())),
    ];
    all.extend(input_fields(g, n));
    all
}

/// Code for the record in `input` arriving on `port`: late, or paired and kept. Records
/// are kept as `[start][record]` at their end.
pub(super) fn push(j: &OverlapJoin, g: &Gen<'_>, n: NodeIndex, port: usize, input: &Ident) -> TokenStream {
    let Names {
        state,
        partners,
        watermark,
        stored,
    } = Names::of(n);
    let Arrival {
        schema,
        encode_key,
        encode_record,
        side,
        late,
    } = arrival(g, n, port, [&j.left_key, &j.right_key], input);
    let (start, end) = j.spans[port];
    let (start, end) = (field_ident(&schema.fields[start].name), field_ident(&schema.fields[end].name));
    let (own_view, partner_view) = (ident("own"), ident("pv"));
    let values = pair_values(g, n, port, (&own_view, &partner_view), [false, false]);
    let out = g.var(n);
    let record = g.result_record(n, values);
    let emit = g.emit(n, 0, &out);
    quote! {
        let (start, end) = (#input.#start, #input.#end);
        if start <= self.#watermark {
            self.#late += 1;
        } else if start < end {
            let mut partners = ::std::mem::take(&mut self.#partners);
            let mut stored = ::std::mem::take(&mut self.#stored);
            {
                let key = #encode_key;
                let record = #encode_record;
                stored.clear();
                stored.extend_from_slice(&start.to_le_bytes());
                stored.extend_from_slice(record);
                // Kept at their ends: those ending after this start, then those starting
                // before this end.
                self.#state.probe_range(#side, key, (start.saturating_add(1), i64::MAX), &stored, &mut partners)?;
                self.#state.add(#side, key, end, &stored)?;
            }
            let #own_view = weir_runtime::layout::RecordView::new(&partners.own()[8..]);
            for (_, partner) in partners.iter() {
                let (at, kept) = partner.split_at(8);
                let partner_start = i64::from_le_bytes(at.try_into().expect("eight bytes"));
                if partner_start < end {
                    let #partner_view = weir_runtime::layout::RecordView::new(kept);
                    let ts = start.max(partner_start);
                    let #out = #record;
                    #emit
                }
            }
            self.#partners = partners;
            self.#stored = stored;
        }
    }
}

/// The combined watermark drops the records whose ends it has reached.
pub(super) fn on_watermark(n: NodeIndex) -> TokenStream {
    let Names { state, .. } = Names::of(n);
    let combined = combined_watermark(n);
    quote! {
        #combined
        self.#state.drop_through(wm);
    }
}

/// End of input: late records are reported per side.
pub(super) fn finish(j: &OverlapJoin, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let location = &g.plan.graph[n].location;
    let reports = (0..2).map(|port| {
        let (_, _, late) = port_fields(n, port);
        let before = format!("overlap join at {location}: dropped ");
        let after = format!(
            " late record(s) of `{}` (their interval started at or before the watermark)",
            j.sides[port]
        );
        quote! {
            if self.#late > 0 {
                ctx.report_count(#before, self.#late, #after, "");
            }
        }
    });
    quote!(#(#reports)*)
}
