//! The generated rounds of a graph iteration: the graph built (on several workers, each
//! worker's part, over the iteration's channel), the vertex values and messages, the
//! rounds over the vertices (after each, on several workers, messages to other workers'
//! vertices cross and the aggregates are summed over the workers, in worker order, so
//! every worker ends the rounds at the same one), and `on end` for each vertex.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::codegen::{combined, literal};
use crate::codegen::expr::ExprGen;
use crate::codegen::names::ident;
use crate::codegen::statements::owned_type;
use crate::ir::iterate::IterateDef;
use crate::ir::Type;

/// What the rounds of a graph iteration are made of.
pub(super) struct GraphParts<'a> {
    pub def: &'a IterateDef,
    pub exprs: &'a ExprGen<'a>,
    pub undirected: bool,
    pub columns: usize,
    pub width: usize,
    pub rows: &'a Ident,
    pub inbox: Ident,
    pub channel: usize,
    pub on_round: &'a TokenStream,
    /// `on round` with its sends folded into the vertex's slot, when the messages may be
    /// gathered along in-edges on several workers.
    pub on_round_gathered: Option<&'a TokenStream>,
    pub on_end: &'a TokenStream,
    pub before: &'a str,
}

/// The graph built, the vertex values and messages, the rounds over the vertices, and
/// `on end` for each vertex.
pub(super) fn run(
    parts: &GraphParts<'_>,
    round_of: &dyn Fn(TokenStream, TokenStream) -> TokenStream,
) -> TokenStream {
    let GraphParts {
        def,
        exprs,
        width,
        rows,
        ref inbox,
        channel,
        on_round_gathered,
        before,
        ..
    } = *parts;
    let columns = Columns::of(def, exprs);
    let stats = quote! {
        // Counts are summed over the workers: each its own vertices and edges.
        if ctx.args().stats {
            ctx.report_count(#before, p_n as u64, " vertices", "");
            ctx.report_count(#before, p_graph.edges() as u64, " edges", "");
            let p_rounds = if ctx.worker().index == 0 { p_round } else { 0 };
            ctx.report_count(#before, p_rounds, " round(s)", "");
        }
    };
    let scattered = scattered(parts, &columns, round_of);
    let rounds = match (on_round_gathered, &def.message) {
        (Some(on_round), Some(m)) => {
            let gathered = gathered(parts, m, on_round, &columns, round_of);
            quote! {
                if p_channel.is_some() {
                    #gathered
                    #stats
                } else {
                    #scattered
                    #stats
                }
            }
        }
        _ => quote! {
            #scattered
            #stats
        },
    };
    quote! {
        let mut p_rows = ::std::mem::replace(
            &mut self.#rows,
            weir_runtime::iteration::WordRows::new(p_memory.clone(), #width),
        );
        let mut p_channel = weir_runtime::iteration::JobChannel::new(
            self,
            #channel,
            |j: &mut WeirJob| &mut j.#inbox,
        );
        #rounds
    }
}

/// The code that keeps the vertex values: their page runs made, set at the start, loaded
/// for a vertex and stored back.
struct Columns {
    allocate: Vec<TokenStream>,
    init: Vec<TokenStream>,
    load: Vec<TokenStream>,
    store: Vec<TokenStream>,
}

impl Columns {
    /// The columns of `def`'s vertex values (a `bool` kept as a byte).
    fn of(def: &IterateDef, exprs: &ExprGen<'_>) -> Self {
        let mut columns = Columns {
            allocate: Vec::new(),
            init: Vec::new(),
            load: Vec::new(),
            store: Vec::new(),
        };
        for v in &def.vertex_values {
            let run = ident(&format!("p_run_{}", v.name));
            let col = ident(&format!("p_col_{}", v.name));
            let var = ident(&format!("v_{}", v.name));
            let (elem, to_col, from_col) = match v.ty {
                Type::Bool => (quote!(u8), quote!(u8::from(#var)), quote!(#col[p_v] != 0)),
                ref t => {
                    let t = owned_type(t);
                    (t, quote!(#var), quote!(#col[p_v]))
                }
            };
            let value = exprs.value(&v.init);
            columns.allocate.push(quote! {
                let mut #run = weir_runtime::memory::PageRun::of::<#elem>(&p_memory, p_n)?;
                let #col = &mut #run.slice_mut::<#elem>()[..p_n];
            });
            columns
                .init
                .push(quote! { let #var = #value; #col[p_v] = #to_col; });
            columns.load.push(quote!(let mut #var = #from_col;));
            columns.store.push(quote!(#col[p_v] = #to_col;));
        }
        columns
    }
}

/// The code of an iteration's message: its type, the combination of no message, the
/// variable `on round` reads it as, and how two combine (`*p_slot` with `p_x`).
struct Message {
    ty: TokenStream,
    none: TokenStream,
    var: Ident,
    combine: TokenStream,
}

impl Message {
    fn of(m: &crate::ir::iterate::MessageVar, exprs: &ExprGen<'_>) -> Self {
        Message {
            ty: owned_type(&m.ty),
            none: exprs.value(&literal(m.combine, &m.ty)),
            var: ident(&format!("m_{}", m.name)),
            combine: combined(m.combine, &m.ty, quote!(*p_slot), quote!(p_x)),
        }
    }
}

/// The rounds with messages scattered along out-edges (`weir_runtime::iteration::Graph`):
/// each `send` adds into its target's slot, and on several workers what was added for
/// other workers' vertices crosses to them after each round.
fn scattered(
    parts: &GraphParts<'_>,
    columns: &Columns,
    round_of: &dyn Fn(TokenStream, TokenStream) -> TokenStream,
) -> TokenStream {
    let GraphParts {
        def,
        exprs,
        undirected,
        columns: edge_columns,
        on_round,
        on_end,
        ..
    } = *parts;
    let Columns {
        allocate,
        init,
        load,
        store,
    } = columns;
    let column_slices = (0..edge_columns).map(|c| {
        let name = ident(&format!("p_column{c}"));
        quote!(let #name = p_graph.column(#c);)
    });
    let (messages, split, message_in, cross) = match &def.message {
        Some(m) => {
            let Message {
                ty,
                none,
                var,
                combine,
            } = Message::of(m, exprs);
            (
                quote! {
                    let mut p_messages = weir_runtime::iteration::Messages::<#ty>::new(&p_memory, p_graph.targets_len(), #none)?;
                    let p_next_round = |m: &mut weir_runtime::iteration::Messages<#ty>| m.next_round();
                },
                // What arrived cut to this worker's vertices, so that a vertex's index
                // needs no check; what is sent may go to another worker's.
                quote! {
                    let (p_in, p_out) = p_messages.split();
                    let p_in = &p_in[..p_n];
                },
                quote!(let #var = p_in[p_v];),
                quote! {
                    p_graph.exchange_messages(c, p_round, p_out, #none, |p_slot: &mut #ty, p_x: #ty| { #combine })?;
                },
            )
        }
        None => (
            quote! {
                let mut p_messages = ();
                let p_next_round = |_: &mut ()| {};
            },
            quote!(),
            quote!(),
            quote!(),
        ),
    };
    let vertex = quote! {
        let p_vertex = p_ids[p_v];
        let p_start = p_offsets[p_v] as usize;
        let p_end = p_offsets[p_v + 1] as usize;
        let p_out_degree = (p_end - p_start) as u64;
    };
    let rounds_loop = round_of(
        quote! {
            #split
            for p_v in 0..p_n {
                #vertex
                #message_in
                #(#load)*
                #on_round
                #(#store)*
            }
        },
        between_rounds(&cross),
    );
    quote! {
        let p_graph = match p_channel.as_mut() {
            ::core::option::Option::Some(c) => {
                weir_runtime::iteration::Graph::build_on_workers(&mut p_rows, #undirected, c)?
            }
            ::core::option::Option::None => {
                weir_runtime::iteration::Graph::build(&mut p_rows, #undirected)?
            }
        };
        drop(p_rows);
        let p_n = p_graph.vertices();
        let p_vertices = p_graph.all_vertices();
        let p_ids = &p_graph.ids()[..p_n];
        let p_offsets = &p_graph.offsets()[..p_n + 1];
        let p_targets = p_graph.targets();
        #(#column_slices)*
        #(#allocate)*
        for p_v in 0..p_n {
            #vertex
            #(#init)*
        }
        #messages
        #rounds_loop
        drop(p_channel);
        let ts = i64::MIN;
        for p_v in 0..p_n {
            #vertex
            #(#load)*
            #on_end
        }
    }
}

/// The rounds on several workers with messages gathered along in-edges
/// (`weir_runtime::iteration::InEdges`): each round's sends fold into one value per
/// vertex, the values the other workers read cross, and each vertex's messages are
/// gathered from its in-edges before the next round.
fn gathered(
    parts: &GraphParts<'_>,
    m: &crate::ir::iterate::MessageVar,
    on_round: &TokenStream,
    columns: &Columns,
    round_of: &dyn Fn(TokenStream, TokenStream) -> TokenStream,
) -> TokenStream {
    let GraphParts {
        exprs,
        undirected,
        on_end,
        ..
    } = *parts;
    let Columns {
        allocate,
        init,
        load,
        store,
    } = columns;
    let Message {
        ty,
        none,
        var,
        combine,
    } = Message::of(m, exprs);
    let vertex = quote! {
        let p_vertex = p_ids[p_v];
        let p_out_degree = p_degrees[p_v];
    };
    let rounds_loop = round_of(
        quote! {
            let (p_in, p_sent) = p_messages.split();
            for p_v in 0..p_n {
                #vertex
                let #var = p_in[p_v];
                #(#load)*
                #on_round
                #(#store)*
            }
        },
        between_rounds(&quote!(p_graph.exchange_sent(c, p_round, p_sent)?;)),
    );
    quote! {
        let p_graph = weir_runtime::iteration::InEdges::build_on_workers(
            &mut p_rows,
            #undirected,
            p_channel.as_mut().expect("several workers"),
        )?;
        drop(p_rows);
        let p_n = p_graph.vertices();
        let p_vertices = p_graph.all_vertices();
        let p_ids = &p_graph.ids()[..p_n];
        let p_degrees = &p_graph.out_degrees()[..p_n];
        #(#allocate)*
        for p_v in 0..p_n {
            #vertex
            #(#init)*
        }
        let mut p_messages = weir_runtime::iteration::GatheredMessages::<#ty>::new(&p_memory, p_n, p_graph.senders(), #none)?;
        let p_next_round = |m: &mut weir_runtime::iteration::GatheredMessages<#ty>| {
            m.next_round(&p_graph, |p_slot: &mut #ty, p_x: #ty| { #combine })
        };
        #rounds_loop
        drop(p_channel);
        let ts = i64::MIN;
        for p_v in 0..p_n {
            #vertex
            #(#load)*
            #on_end
        }
    }
}

/// What happens between two rounds on several workers (channel `c`): the messages `cross`
/// to other workers' vertices, and each worker's aggregates are folded in worker order,
/// the same on every worker.
fn between_rounds(cross: &TokenStream) -> TokenStream {
    quote! {
        if let ::core::option::Option::Some(c) = p_channel.as_mut() {
            #cross
            let p_parts = weir_runtime::iteration::RoundChannel::all_gather(c, 7, p_round, &acc.bytes())?;
            acc = IAggregates::new();
            for p_part in &p_parts {
                acc.fold(p_part);
            }
        }
    }
}
