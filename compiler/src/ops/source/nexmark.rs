//! The code of a `nexmark(...)` source: a `weir_runtime::nexmark::NexmarkSource` of its
//! stream, whose events become the stream's records field by field (`str` fields
//! borrowed from the generator's buffers).

use petgraph::graph::NodeIndex;
use proc_macro2::TokenStream;
use quote::quote;

use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::codegen::context::Gen;
use crate::codegen::names::{field_ident, ident};
use crate::ir::{Code, NexmarkStream, Partitioning, Plan, TExpr, TExprKind, Type};
use crate::ops::filter::Filter;
use crate::ops::map::Map;
use weir_runtime::nexmark::{EventKind, NexmarkSpec};

/// `nexmark(bid, events: 1000)`: the stream and the settings that are not the standard's.
pub(super) fn summary(n: &NexmarkStream) -> String {
    let standard = NexmarkSpec::default();
    let s = &n.spec;
    let mut out = vec![n.kind.name().to_string()];
    for (name, v, d) in [
        ("events", s.events, standard.events),
        ("rate", s.rate, standard.rate),
        ("seed", s.seed, standard.seed),
        ("persons", s.persons, standard.persons),
        ("auctions", s.auctions, standard.auctions),
        ("bids", s.bids, standard.bids),
        ("active_people", s.active_people, standard.active_people),
        ("in_flight_auctions", s.in_flight_auctions, standard.in_flight_auctions),
        ("out_of_order", s.out_of_order, standard.out_of_order),
        ("base_time", s.base_time, standard.base_time),
    ] {
        if v != d {
            out.push(format!("{name}: {v}"));
        }
    }
    format!("nexmark({})", out.join(", "))
}

/// Opening source node `n`'s generator, and taking its next event as `record` and
/// handing it on with `deliver` (`end` at the end of the worker's share).
pub(super) fn read(
    g: &Gen<'_>,
    n: NodeIndex,
    stream: &NexmarkStream,
    name: &str,
    end: &TokenStream,
    deliver: &TokenStream,
) -> (TokenStream, TokenStream) {
    let s = &stream.spec;
    let (events, rate, seed, persons, auctions, bids) =
        (s.events, s.rate, s.seed, s.persons, s.auctions, s.bids);
    let (active, in_flight, out_of_order, base_time) =
        (s.active_people, s.in_flight_auctions, s.out_of_order, s.base_time);
    let (kind, next) = match stream.kind {
        EventKind::Person => (quote!(Person), quote!(next_person)),
        EventKind::Auction => (quote!(Auction), quote!(next_auction)),
        EventKind::Bid => (quote!(Bid), quote!(next_bid)),
    };
    let schema = &g.plan.graph[n].schema;
    let ty = g.record_type(schema);
    let extra = schema.rust.is_some() || reads_extra(g.plan, n);
    let record = if schema.rust.is_some() {
        quote!(::core::clone::Clone::clone(event))
    } else {
        let name = g.records.name(&schema.fields);
        let fields = schema.fields.iter().map(|f| {
            let id = field_ident(&f.name);
            let from = ident(&f.name);
            match f.ty {
                Type::Str => quote!(#id: ::std::borrow::Cow::Borrowed(event.#from.as_str())),
                // Generated times are far inside i64 (`base_time` is checked).
                Type::Timestamp => quote!(#id: event.#from as i64),
                _ => quote!(#id: event.#from),
            }
        });
        quote!(#name { #(#fields),* })
    };
    let open = quote! {
        let mut src = weir_runtime::nexmark::NexmarkSource::open(
            ctx,
            #name,
            weir_runtime::nexmark::NexmarkSpec {
                events: #events,
                rate: #rate,
                seed: #seed,
                persons: #persons,
                auctions: #auctions,
                bids: #bids,
                active_people: #active,
                in_flight_auctions: #in_flight,
                out_of_order: #out_of_order,
                base_time: #base_time,
            },
            weir_runtime::nexmark::EventKind::#kind,
            #extra,
        )?;
    };
    let next = quote! {
        let ::core::option::Option::Some(event) = src.#next() else #end;
        let record: #ty = #record;
        #deliver
    };
    (open, next)
}

/// Whether the records of node `n` may have their `extra` text read: unless each goes
/// through filters that do not read it to a `map` that neither reads nor keeps it (with
/// no key on the way made of it), the generator makes it. (It is drawn last, so leaving
/// it out changes no other field: `weir_runtime::nexmark::EventMaker`.)
fn reads_extra(plan: &Plan, n: NodeIndex) -> bool {
    let mentions = |e: &TExpr| e.any(&|x| matches!(&x.kind, TExprKind::Field(_, f) if f == "extra"));
    plan.graph.edges_directed(n, Direction::Outgoing).any(|edge| {
        if matches!(&edge.weight().partitioning, Partitioning::Hash(k) if k.iter().any(|f| f == "extra")) {
            return true;
        }
        let next = &plan.graph[edge.target()].op;
        if let Some(Map::Fields(fields)) = next.payload::<Map>() {
            return fields.iter().any(|(_, e)| mentions(e));
        }
        match next.payload::<Filter>().map(|f| &f.predicate) {
            Some(Code::Expr(e)) if !mentions(e) => reads_extra(plan, edge.target()),
            _ => true,
        }
    })
}
