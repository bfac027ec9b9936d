//! The generated code of a `stream!` iteration: the records kept while the input lasts
//! (a graph's edges as rows of words, from the user's `graph(|e| ...)` closure; records
//! as their `Layout` bytes), and at its end the runtime's rounds
//! (`weir_runtime::iteration::run_vertex_program` / `run_records_program`) over the
//! user's program, then what it emits sent on.

use std::fmt;

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::codegen::{names, round_inbox};
use super::windows;
use crate::codegen::context::Gen;
use crate::ir::iterate::IterateProgram;
use crate::ir::Plan;

/// `iterate(graph(closure), rounds N) { program }` for explain and graphs.
pub(super) fn describe(p: &IterateProgram, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("iterate(")?;
    if let Some((edges, undirected)) = &p.graph {
        let kind = if *undirected { "undirected_graph" } else { "graph" };
        write!(f, "{kind}({}), ", edges.text)?;
    }
    write!(f, "rounds({}), {})", p.rounds, p.program.text)
}

pub(super) fn check(p: &IterateProgram, plan: &Plan, n: NodeIndex) -> Result<(), String> {
    if plan.graph[n].schema.rust.as_ref() != Some(&p.output) {
        return Err("its output is not its program's".into());
    }
    plan.input_schema(n, 0).ok_or("it has no input")?;
    Ok(())
}

pub(super) fn fields(
    p: &IterateProgram,
    g: &Gen<'_>,
    n: NodeIndex,
) -> Vec<(TokenStream, TokenStream)> {
    let (rows, _) = names(n);
    let memory = g.operator_memory(n);
    let program = g.rust_type(&p.program_type);
    let store = match &p.graph {
        // A graph's edges stay in memory; records are read front to back each round,
        // from disk too.
        Some(_) => (
            quote!(#rows: weir_runtime::iteration::WordRows),
            quote!(#rows: weir_runtime::iteration::WordRows::new(#memory, weir_runtime::iteration::edge_width::<#program>())),
        ),
        None => (
            quote!(#rows: weir_runtime::iteration::EncodedRows),
            quote!(#rows: weir_runtime::iteration::EncodedRows::new(#memory)),
        ),
    };
    let inbox = round_inbox(n);
    let mut fields = vec![
        store,
        (
            quote!(#inbox: weir_runtime::iteration::RoundInbox),
            quote!(#inbox: ::core::default::Default::default()),
        ),
    ];
    if let Some(w) = &p.window {
        let store = quote!(weir_runtime::iteration::EncodedRows);
        fields.extend(windows::fields(w, 0, Some(store), g, n));
    }
    fields
}

pub(super) fn push(p: &IterateProgram, g: &Gen<'_>, n: NodeIndex, input: &Ident) -> TokenStream {
    let (rows, _) = names(n);
    match &p.graph {
        Some((edges, _)) => {
            let edge = g.call(edges, quote!(&#input));
            quote!(weir_runtime::iteration::push_edge(&mut self.#rows, &#edge)?;)
        }
        None => {
            let only = super::codegen::on_worker_zero(g, n);
            let keep = match &p.window {
                Some(w) => windows::push(w, n, quote!(), quote!(rows.push(&#input))),
                None => quote!(self.#rows.push(&#input)?;),
            };
            quote!(#only #keep)
        }
    }
}

pub(super) fn methods(p: &IterateProgram, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let (rows, method) = names(n);
    let program = g.call(&p.program, quote!());
    let program_ty = g.rust_type(&p.program_type);
    let rounds = p.rounds;
    let out = g.var(n);
    let rest = g.emit(n, 0, &out);
    let before = format!("iterate at {}: ", g.plan.graph[n].location);
    let run = match &p.graph {
        Some((_, undirected)) => {
            let inbox = round_inbox(n);
            let channel = g
                .plan
                .physical()
                .round_channel(n)
                .expect("an iteration has a round channel");
            quote! {
                let p_memory = self.#rows.memory().clone();
                let mut p_rows = ::std::mem::replace(
                    &mut self.#rows,
                    weir_runtime::iteration::WordRows::new(p_memory, weir_runtime::iteration::edge_width::<#program_ty>()),
                );
                let mut p_channel = weir_runtime::iteration::JobChannel::new(
                    self,
                    #channel,
                    |j: &mut Self| &mut j.#inbox,
                );
                let p_done = weir_runtime::iteration::run_vertex_program(
                    &p_program,
                    &mut p_rows,
                    #undirected,
                    #rounds,
                    p_channel.as_mut().map(|c| c as &mut dyn weir_runtime::iteration::RoundChannel),
                )?;
                drop(p_channel);
                drop(p_rows);
                let ts = i64::MIN;
                for p_v in 0..p_done.vertices() {
                    if let ::core::option::Option::Some(#out) = p_done.end(&p_program, p_v) {
                        #rest
                    }
                }
                // Counts are summed over the workers: each its own vertices and edges.
                if ctx.args().stats {
                    ctx.report_count(#before, p_done.vertices() as u64, " vertices", "");
                    ctx.report_count(#before, p_done.edges() as u64, " edges", "");
                    let p_rounds = if ctx.worker().index == 0 { p_done.rounds() } else { 0 };
                    ctx.report_count(#before, p_rounds, " round(s)", "");
                }
            }
        }
        None => {
            let input = g
                .plan
                .input_schema(n, 0)
                .expect("the type-check pass saw the iteration's input");
            let record = g.record_type(&input);
            if p.window.is_some() {
                return per_window(n, &program, &program_ty, &record, rounds, &out, &rest);
            }
            quote! {
                let p_done = weir_runtime::iteration::run_records_program::<#record, #program_ty>(
                    &p_program,
                    &mut self.#rows,
                    #rounds,
                )?;
                let ts = i64::MIN;
                for #out in weir_runtime::iteration::RecordsProgram::<#record>::end(&p_program, &p_done.model) {
                    #rest
                }
                if ctx.args().stats {
                    ctx.report_count(#before, self.#rows.len(), " record(s) read", "");
                    ctx.report_count(#before, p_done.rounds, " round(s)", "");
                }
            }
        }
    };
    quote! {
        #[allow(unused_variables, unused_mut, clippy::all)]
        fn #method(&mut self, ctx: &mut weir_runtime::JobContext) -> ::core::result::Result<(), weir_runtime::JobError> {
            let p_program: #program_ty = #program;
            #run
            ::core::result::Result::Ok(())
        }
    }
}

/// The method running a records program over one window's records (in the rows'
/// field, put there by `fire`), emitting at `window_end - 1`; and `fire`.
fn per_window(
    n: NodeIndex,
    program: &TokenStream,
    program_ty: &TokenStream,
    record: &TokenStream,
    rounds: u64,
    out: &Ident,
    rest: &TokenStream,
) -> TokenStream {
    let (rows, method) = names(n);
    let count = windows::count_rounds(n);
    let fire = windows::fire_method(n, 0);
    quote! {
        #[allow(unused_variables, unused_mut, clippy::all)]
        fn #method(&mut self, p_window_start: i64, p_window_end: i64) -> ::core::result::Result<(), weir_runtime::JobError> {
            let p_program: #program_ty = #program;
            let p_done = weir_runtime::iteration::run_records_program::<#record, #program_ty>(
                &p_program,
                &mut self.#rows,
                #rounds,
            )?;
            let ts = p_window_end - 1;
            let p_window = weir_runtime::iteration::WindowBounds { start: p_window_start, end: p_window_end };
            for #out in weir_runtime::iteration::RecordsProgram::<#record>::end_of_window(&p_program, p_window, &p_done.model) {
                #rest
            }
            let p_round = p_done.rounds;
            #count
            ::core::result::Result::Ok(())
        }

        #fire
    }
}
