//! The generated code of an iteration: each record kept as a row of numbers while the
//! input lasts; at its end, one method that runs the rounds as plain loops: over the rows
//! (on worker 0), or over the vertices of the graph built from them (on every worker, in
//! `graph_rounds.rs`), each vertex's values and messages indexed by its number. The model
//! and the aggregates' totals are a struct (`st`); a round's aggregates fold into another
//! (`acc`), which becomes the totals when the round ends.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{graph_rounds, windows};
use crate::codegen::context::Gen;
use crate::codegen::expr::ExprGen;
use crate::codegen::names::{field_ident, ident, node_field, node_method};
use crate::codegen::statements::{owned_type, OperatorStatements, StatementCode};
use crate::ir::iterate::{AggregateVar, Combine, IterateDef, IterationShape};
use crate::ir::process::{StateVar, StateVarKind, TStmt, Var};
use crate::ir::{TExpr, TExprKind, Type};

/// The rows' field and the method that runs the rounds.
pub(super) fn names(n: NodeIndex) -> (Ident, Ident) {
    (node_field(n, "rows"), node_method(n, "iterate"))
}

/// The field where the node's workers' rows between rounds arrive.
pub(super) fn round_inbox(n: NodeIndex) -> Ident {
    node_field(n, "inbox")
}

/// Code for a row arriving on the node's round channel: into its inbox.
pub(super) fn receive_round(n: NodeIndex) -> TokenStream {
    let inbox = round_inbox(n);
    quote! {
        let peers = self.exchange.as_ref().map_or(1, |x| x.slot().peers);
        self.#inbox.arrive(ts, row, peers);
    }
}

/// Words in a row: a graph's two ends and its columns, or each field of a record.
fn width(def: &IterateDef) -> usize {
    match &def.shape {
        IterationShape::Records { fields } => fields.len(),
        IterationShape::Graph { columns, .. } => 2 + columns.len(),
    }
}

pub(super) fn fields(def: &IterateDef, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
    let (rows, _) = names(n);
    let memory = g.operator_memory(n);
    let width = width(def);
    // Records are read front to back each round, so they may go to disk; a graph's
    // edges stay in memory.
    let make = if def.shape.is_graph() {
        quote!(new)
    } else {
        quote!(spilling)
    };
    let mut fields = vec![(
        quote!(#rows: weir_runtime::iteration::WordRows),
        quote!(#rows: weir_runtime::iteration::WordRows::#make(#memory, #width)),
    )];
    // Where the workers' rows between rounds arrive (an iteration over records runs on
    // worker 0 alone: nothing does).
    let inbox = round_inbox(n);
    fields.push((
        quote!(#inbox: weir_runtime::iteration::RoundInbox),
        quote!(#inbox: ::core::default::Default::default()),
    ));
    if let Some(w) = &def.window {
        fields.extend(windows::fields(w, width, None, g, n));
    }
    fields
}

pub(super) fn push(def: &IterateDef, g: &Gen<'_>, n: NodeIndex, input: &Ident) -> TokenStream {
    let (rows, _) = names(n);
    let schema = g
        .plan
        .input_schema(n, 0)
        .expect("the type-check pass saw the iteration's input");
    let word = |i: usize| {
        let f = field_ident(&schema.fields[i].name);
        quote!(weir_runtime::state::AccWord::to_word(#input.#f))
    };
    let words: Vec<TokenStream> = match &def.shape {
        IterationShape::Records { fields } => (0..fields.len()).map(word).collect(),
        IterationShape::Graph {
            src, dst, columns, ..
        } => [*src, *dst]
            .into_iter()
            .chain(columns.iter().map(|(i, _)| *i))
            .map(word)
            .collect(),
    };
    let keep = match &def.window {
        Some(w) => windows::push(
            w,
            n,
            quote!(let p_row = [#(#words),*];),
            quote!(rows.push(&p_row)),
        ),
        None => quote!(self.#rows.push(&[#(#words),*])?;),
    };
    match def.shape {
        IterationShape::Records { .. } => {
            let only = on_worker_zero(g, n);
            quote!(#only #keep)
        }
        IterationShape::Graph { .. } => keep,
    }
}

/// Code refusing a record that reached an iteration over records on another worker than
/// worker 0, where its rounds run: a keyed step before it spread its input over the
/// workers, and the rounds would see only worker 0's part.
pub(super) fn on_worker_zero(g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let message = format!(
        "iterate at {}: an iteration over records runs on worker 0 and reads all its records there, but a keyed step before it spreads them over the workers; run the job with --parallelism 1, or iterate before the keyed step",
        g.plan.graph[n].location
    );
    quote! {
        if self.exchange.as_ref().is_some_and(|x| x.slot().index != 0) {
            return ::core::result::Result::Err(weir_runtime::JobError::Config(#message.to_string()));
        }
    }
}

pub(super) fn finish(graph: bool, n: NodeIndex) -> TokenStream {
    let (_, method) = names(n);
    if graph {
        // Every worker runs its part of the graph.
        return quote!(self.#method(ctx)?;);
    }
    // Its records were all read on worker 0 (records are order-sensitive).
    quote! {
        if ctx.worker().index == 0 {
            self.#method(ctx)?;
        }
    }
}

pub(super) fn methods(def: &IterateDef, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let (rows, method) = names(n);
    let record = ident("record");
    let exprs = ExprGen {
        record: &record,
        locals: false,
        file: &g.plan.file,
        scratch: false,
    };
    let readable = readable(def);
    let ops = IterationStatements {
        g,
        n,
        def,
        gathered: false,
    };
    let code = StatementCode {
        exprs: &exprs,
        states: &readable,
        ops: &ops,
    };
    let model = model_struct(&code, def);
    let on_round = code.block(&def.on_round);
    // On several workers, messages that are the same along every out-edge are gathered
    // along in-edges (`graph_rounds.rs`): `send` folds into the vertex's own slot.
    let gathered_ops = IterationStatements {
        gathered: true,
        ..ops
    };
    let on_round_gathered = gathers(def).then(|| {
        StatementCode {
            ops: &gathered_ops,
            ..code
        }
        .block(&def.on_round)
    });
    let on_round_end = code.block(&def.on_round_end);
    let until = def
        .until
        .as_ref()
        .map_or_else(|| quote!(false), |u| exprs.value(u));
    let rounds = def.rounds.map_or_else(|| quote!(u64::MAX), |r| quote!(#r));
    let on_end = code.block(&def.on_end);
    let absorb = def.aggregates.iter().map(|a| {
        let f = ident(&format!("s_{}", a.name));
        quote!(st.#f = acc.#f;)
    }).collect::<Vec<_>>();
    let location = g.plan.graph[n].location.to_string();
    let before = format!("iterate at {location}: ");
    let round_of = |body: TokenStream, between: TokenStream| {
        quote! {
            let mut st = IState::initial()?;
            let mut p_round: u64 = 0;
            loop {
                let mut acc = IAggregates::new();
                #body
                #between
                #(#absorb)*
                #on_round_end
                let p_last = #until;
                p_round += 1;
                if p_last || p_round >= #rounds {
                    break;
                }
                p_next_round(&mut p_messages);
            }
        }
    };
    // Per window: its bounds are the method's, results carry `window_end - 1`, and the
    // counts wait for the end (`windows.rs`).
    let (params, emit_ts, stats) = match def.window {
        Some(_) => (
            quote!(p_window_start: i64, p_window_end: i64),
            quote!(p_window_end - 1),
            windows::count_rounds(n),
        ),
        None => (
            quote!(ctx: &mut weir_runtime::JobContext),
            quote!(i64::MIN),
            quote! {
                if ctx.args().stats {
                    ctx.report_count(#before, self.#rows.len(), " record(s) read", "");
                    ctx.report_count(#before, p_round, " round(s)", "");
                }
            },
        ),
    };
    let fire = def
        .window
        .as_ref()
        .map(|_| windows::fire_method(n, width(def)));
    let run = match &def.shape {
        IterationShape::Records { fields } => records_rounds(
            fields,
            &rows,
            &RoundsEnds {
                on_round: &on_round,
                on_end: &on_end,
                emit_ts: &emit_ts,
                stats: &stats,
            },
            &round_of,
        ),
        IterationShape::Graph {
            undirected,
            columns,
            ..
        } => {
            let parts = graph_rounds::GraphParts {
                def,
                exprs: &exprs,
                undirected: *undirected,
                columns: columns.len(),
                width: width(def),
                rows: &rows,
                inbox: round_inbox(n),
                channel: g
                    .plan
                    .physical()
                    .round_channel(n)
                    .expect("an iteration has a round channel"),
                on_round: &on_round,
                on_round_gathered: on_round_gathered.as_ref(),
                on_end: &on_end,
                before: &before,
            };
            graph_rounds::run(&parts, &round_of)
        }
    };
    quote! {
        #[allow(unused_variables, unused_mut, unused_assignments, clippy::all)]
        fn #method(&mut self, #params) -> ::core::result::Result<(), weir_runtime::JobError> {
            #model
            let p_memory = self.#rows.memory().clone();
            #run
            ::core::result::Result::Ok(())
        }

        #fire
    }
}

/// The code around an iteration's rounds that both shapes take: `on round`, `on end`, the
/// time results carry, and the counts reported at the end.
struct RoundsEnds<'a> {
    on_round: &'a TokenStream,
    on_end: &'a TokenStream,
    emit_ts: &'a TokenStream,
    stats: &'a TokenStream,
}

/// The rounds of an iteration over records (`fields`, kept as rows of words in
/// `self.rows`): each round reads them page by page, rows of a width the compiler knows,
/// so no field is checked.
fn records_rounds(
    fields: &[crate::ir::Field],
    rows: &Ident,
    ends: &RoundsEnds<'_>,
    round_of: &dyn Fn(TokenStream, TokenStream) -> TokenStream,
) -> TokenStream {
    let RoundsEnds {
        on_round,
        on_end,
        emit_ts,
        stats,
    } = *ends;
    let decode = fields.iter().enumerate().map(|(i, f)| {
        let name = field_ident(&f.name);
        let ty = owned_type(&f.ty);
        quote!(#name: <#ty as weir_runtime::state::AccWord>::from_word(p_row[#i]))
    });
    let members = fields.iter().map(|f| {
        let name = field_ident(&f.name);
        let ty = owned_type(&f.ty);
        quote!(#name: #ty)
    });
    let width = fields.len();
    let rounds_loop = round_of(
        quote! {
            let mut p_position: u64 = 0;
            let mut p_pages = self.#rows.reader();
            while let ::core::option::Option::Some(p_page) = p_pages.next_page()? {
                for p_row in p_page.chunks_exact(#width) {
                    let record = IRecord { #(#decode,)* };
                    #on_round
                    p_position += 1;
                }
            }
        },
        quote!(),
    );
    quote! {
        #[allow(dead_code)]
        struct IRecord { #(#members,)* }
        let mut p_messages = ();
        let p_next_round = |_: &mut ()| {};
        #rounds_loop
        let ts = #emit_ts;
        #on_end
        #stats
    }
}

/// What the statements read as states: the model, and the aggregates' totals.
fn readable(def: &IterateDef) -> Vec<StateVar> {
    let mut all = def.model.clone();
    all.extend(def.aggregates.iter().map(|a| StateVar {
        name: a.name.clone(),
        kind: match &a.key {
            Some(k) => StateVarKind::Map(k.clone(), a.ty.clone()),
            None => StateVarKind::Scalar(a.ty.clone(), literal(a.combine, &a.ty)),
        },
    }));
    all
}

/// The value of no contribution to `combine` over `ty`, as an expression.
pub(super) fn literal(combine: Combine, ty: &Type) -> TExpr {
    TExpr {
        kind: TExprKind::Lit(combine.identity(ty)),
        ty: ty.clone(),
        span: crate::diagnostics::Span { start: 0, end: 0 },
    }
}

/// `IState` (the model and the aggregates' totals, `st`) and `IAggregates` (a round's
/// aggregates as they fold, `acc`).
fn model_struct(code: &StatementCode<'_>, def: &IterateDef) -> TokenStream {
    let (mut members, mut inits) = (Vec::new(), Vec::new());
    for s in code.states {
        let f = ident(&format!("s_{}", s.name));
        let (ty, init) = member(code, s);
        members.push(quote!(#f: #ty));
        inits.push(quote!(#f: #init));
    }
    let aggregates: Vec<StateVar> = readable(&IterateDef {
        model: Vec::new(),
        ..def.clone()
    });
    let (mut acc_members, mut acc_inits) = (Vec::new(), Vec::new());
    for s in &aggregates {
        let f = ident(&format!("s_{}", s.name));
        let (ty, init) = member(code, s);
        acc_members.push(quote!(#f: #ty));
        acc_inits.push(quote!(#f: #init));
    }
    let (mut puts, mut folds) = (Vec::new(), Vec::new());
    for a in &def.aggregates {
        let f = ident(&format!("s_{}", a.name));
        let word = quote!(weir_runtime::state::AccWord);
        let ty = owned_type(&a.ty);
        match &a.key {
            None => {
                puts.push(quote!(out.push(#word::to_word(self.#f));));
                let update = combined(a.combine, &a.ty, quote!(self.#f), quote!(p_x));
                folds.push(quote! {
                    let p_x = <#ty as #word>::from_word(next());
                    #update
                });
            }
            Some(k) => {
                let kt = owned_type(k);
                let none = code.exprs.value(&literal(a.combine, &a.ty));
                puts.push(quote! {
                    out.push(self.#f.len() as u64);
                    for (k, v) in self.#f.iter() {
                        out.push(#word::to_word(*k));
                        out.push(#word::to_word(*v));
                    }
                });
                let update = combined(a.combine, &a.ty, quote!(*p_slot), quote!(p_x));
                folds.push(quote! {
                    for _ in 0..next() {
                        let p_k = <#kt as #word>::from_word(next());
                        let p_x = <#ty as #word>::from_word(next());
                        let p_slot = self.#f.slot(p_k, #none);
                        #update
                    }
                });
            }
        }
    }
    quote! {
        #[derive(Debug, Clone)]
        struct IState { #(#members,)* }
        impl IState {
            fn initial() -> ::core::result::Result<Self, weir_runtime::JobError> {
                ::core::result::Result::Ok(IState { #(#inits,)* })
            }
        }
        #[derive(Debug)]
        struct IAggregates { #(#acc_members,)* }
        impl IAggregates {
            fn new() -> Self {
                IAggregates { #(#acc_inits,)* }
            }
            /// This worker's part of a round's aggregates, as bytes for the others.
            fn bytes(&self) -> ::std::vec::Vec<u8> {
                let mut out: ::std::vec::Vec<u64> = ::std::vec::Vec::new();
                #(#puts)*
                out.iter().flat_map(|w| w.to_le_bytes()).collect()
            }
            /// Folds a worker's part in.
            fn fold(&mut self, bytes: &[u8]) {
                let mut words = bytes.chunks_exact(8).map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes")));
                let mut next = || words.next().unwrap_or(0);
                #(#folds)*
            }
        }
    }
}

/// A member of `IState` or `IAggregates`: a map is a `SortedMap` (small, read for every
/// element), other states as a process keeps them.
fn member(code: &StatementCode<'_>, s: &StateVar) -> (TokenStream, TokenStream) {
    match &s.kind {
        StateVarKind::Map(k, v) => {
            let (k, v) = (owned_type(k), owned_type(v));
            (
                quote!(weir_runtime::iteration::SortedMap<#k, #v>),
                quote!(weir_runtime::iteration::SortedMap::new()),
            )
        }
        _ => code.member(s),
    }
}

/// Whether a graph iteration's rounds may gather its messages along in-edges on several
/// workers: it has a message, and every `send` (only `on round` sends) gives the same
/// value along each out-edge, reading no edge field.
fn gathers(def: &IterateDef) -> bool {
    fn per_edge(block: &[TStmt]) -> bool {
        block.iter().any(|s| match s {
            TStmt::Send(x) => x.any(&|e| matches!(e.kind, TExprKind::Var(Var::EdgeField(_)))),
            TStmt::If(_, a, b) => per_edge(a) || per_edge(b),
            TStmt::ForList { body, .. } | TStmt::ForMap { body, .. } => per_edge(body),
            _ => false,
        })
    }
    def.shape.is_graph() && def.message.is_some() && !per_edge(&def.on_round)
}

/// What an iteration's statements do to it: emit downstream (in `on end`), send along
/// the vertex's out-edges (or, `gathered`, into its own slot, read along in-edges), fold
/// into `acc`.
#[derive(Clone, Copy)]
struct IterationStatements<'a> {
    g: &'a Gen<'a>,
    n: NodeIndex,
    def: &'a IterateDef,
    gathered: bool,
}

impl OperatorStatements for IterationStatements<'_> {
    fn emit(&self, values: Vec<TokenStream>) -> TokenStream {
        let record = self.g.result_record(self.n, values);
        let out = self.g.var(self.n);
        let rest = self.g.emit(self.n, 0, &out);
        quote! {
            let #out = #record;
            #rest
        }
    }

    fn send(&self, code: &StatementCode<'_>, value: &TExpr) -> TokenStream {
        let m = self
            .def
            .message
            .as_ref()
            .expect("the checker allows `send` only with a message");
        let combine = |slot: TokenStream, x: TokenStream| combined(m.combine, &m.ty, slot, x);
        let per_edge = value.any(&|e| matches!(e.kind, TExprKind::Var(Var::EdgeField(_))));
        let IterationShape::Graph { columns, .. } = &self.def.shape else {
            unreachable!("the checker allows `send` only in a graph iteration")
        };
        let x = code.exprs.value(value);
        if self.gathered {
            let update = combine(quote!(p_sent[p_v]), quote!(p_value));
            return quote! {{
                let p_value = #x;
                #update
            }};
        }
        let update = combine(quote!(p_out[p_t]), quote!(p_sent));
        if !per_edge {
            // The same message along every edge: computed once.
            return quote! {
                let p_sent = #x;
                for &p_t in &p_targets[p_start..p_end] {
                    let p_t = p_t as usize;
                    #update
                }
            };
        }
        let edge_values = columns.iter().enumerate().map(|(c, (_, f))| {
            let name = ident(&format!("e_{}", f.name));
            let col = ident(&format!("p_column{c}"));
            let ty = owned_type(&f.ty);
            quote!(let #name = <#ty as weir_runtime::state::AccWord>::from_word(#col[p_e]);)
        });
        quote! {
            for p_e in p_start..p_end {
                let p_t = p_targets[p_e] as usize;
                #(#edge_values)*
                let p_sent = #x;
                #update
            }
        }
    }

    fn contribute(
        &self,
        code: &StatementCode<'_>,
        aggregate: &str,
        key: Option<&TExpr>,
        value: &TExpr,
    ) -> TokenStream {
        let a: &AggregateVar = self
            .def
            .aggregates
            .iter()
            .find(|a| a.name == aggregate)
            .expect("the checker found the aggregate");
        let f = ident(&format!("s_{aggregate}"));
        let x = code.exprs.value(value);
        match key {
            None => {
                let update = combined(a.combine, &a.ty, quote!(acc.#f), quote!(p_value));
                quote! {{
                    let p_value = #x;
                    #update
                }}
            }
            Some(k) => {
                let k = code.owned(k);
                let none = code.exprs.value(&literal(a.combine, &a.ty));
                let update = combined(a.combine, &a.ty, quote!(*p_slot), quote!(p_value));
                quote! {{
                    let p_value = #x;
                    let p_slot = acc.#f.slot(#k, #none);
                    #update
                }}
            }
        }
    }
}

/// `slot` combined with `x` by `combine`, over numbers of `ty` (integers wrap, as
/// expressions do).
pub(super) fn combined(combine: Combine, ty: &Type, slot: TokenStream, x: TokenStream) -> TokenStream {
    match (combine, ty) {
        (Combine::Sum, Type::F64) => quote!(#slot += #x;),
        (Combine::Sum, _) => quote!(#slot = (#slot).wrapping_add(#x);),
        (Combine::Min, _) => quote!(if #x < #slot { #slot = #x; }),
        (Combine::Max, _) => quote!(if #x > #slot { #slot = #x; }),
    }
}
