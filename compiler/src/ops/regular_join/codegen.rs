//! Generated code of a regular join: a record meets the other side's kept records of its
//! key (within the ttl of its time, if one is given), each pair is emitted at once, and
//! the record is kept; the combined watermark drops records a ttl has passed, counting
//! their key entries.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::RegularJoin;
use crate::codegen::context::Gen;
use crate::codegen::names::{ident, node_field};
use crate::ops::join::side_schema;
use crate::ops::join::sides::{arrival, combined_watermark, input_fields, key_width, pair_values, Arrival};

/// The job's fields of regular join node `n`.
struct Names {
    state: Ident,
    partners: Ident,
    expired: Ident,
}

impl Names {
    fn of(n: NodeIndex) -> Self {
        Names {
            state: node_field(n, "state"),
            partners: node_field(n, "partners"),
            expired: node_field(n, "expired"),
        }
    }
}

pub(super) fn fields(j: &RegularJoin, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
    let Names {
        state,
        partners,
        expired,
        ..
    } = Names::of(n);
    let memory = g.operator_memory(n);
    let (lower, upper) = j.bounds();
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
        (quote!(#expired: u64), quote!(#expired: 0)),
    ];
    all.extend(input_fields(g, n));
    all
}

/// Code for the record in `input` arriving on `port`: paired with what is kept, then kept.
/// A record without event time (`ts` is `i64::MIN`) is kept at time 0, inside every
/// interval.
pub(super) fn push(j: &RegularJoin, g: &Gen<'_>, n: NodeIndex, port: usize, input: &Ident) -> TokenStream {
    let Names { state, partners, .. } = Names::of(n);
    let Arrival {
        encode_key,
        encode_record,
        side,
        ..
    } = arrival(g, n, port, [&j.left_key, &j.right_key], input);
    let (own_view, partner_view) = (ident("own"), ident("pv"));
    let values = pair_values(g, n, port, (&own_view, &partner_view), [false, false]);
    let out = g.var(n);
    let record = g.result_record(n, values);
    let emit = g.emit(n, 0, &out);
    quote! {
        let timed = ts != i64::MIN;
        let at = if timed { ts } else { 0 };
        let mut partners = ::std::mem::take(&mut self.#partners);
        {
            let key = #encode_key;
            let record = #encode_record;
            self.#state.probe(#side, key, at, record, &mut partners)?;
            self.#state.add(#side, key, at, record)?;
        }
        let #own_view = weir_runtime::layout::RecordView::new(partners.own());
        for (partner_ts, partner) in partners.iter() {
            let #partner_view = weir_runtime::layout::RecordView::new(partner);
            let ts = if timed { ts.max(partner_ts) } else { ts };
            let #out = #record;
            #emit
        }
        self.#partners = partners;
    }
}

/// The combined watermark of both inputs drops the records a ttl has passed; their key
/// entries count as expired (not those the end of input drops).
pub(super) fn on_watermark(j: &RegularJoin, n: NodeIndex) -> TokenStream {
    let Names {
        state,
        expired,
        ..
    } = Names::of(n);
    let combined = combined_watermark(n);
    let count = j.ttl.map(|_| {
        quote! {
            if wm < weir_runtime::time::MAX_WATERMARK {
                self.#expired += gone as u64;
            }
        }
    });
    quote! {
        #combined
        let gone = self.#state.expire(wm);
        #count
    }
}

/// End of input: the key entries a ttl expired are reported.
pub(super) fn finish(j: &RegularJoin, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let Some(ttl) = j.ttl else {
        return TokenStream::new();
    };
    let Names { expired, .. } = Names::of(n);
    let before = format!("join at {}: ", g.plan.graph[n].location);
    let after = format!(
        " key entr(ies) expired from its state, {} of event time after their records",
        crate::ir::Millis(ttl)
    );
    quote! {
        if self.#expired > 0 {
            ctx.report_count(#before, self.#expired, #after, "");
        }
    }
}
