//! How `stream!` writes an iteration: `iterate(graph(|e: &Edge| (e.src, e.dst)),
//! rounds(200), PageRank)` (the records are a graph's edges; `undirected_graph(...)` for
//! each edge both ways; `(e.src, e.dst, e.weight)` for edges that carry a number) or
//! `iterate(rounds(100), KMeans { k: 5 })` (each record an element). The program is a
//! value of the user's type implementing `weir::iteration::VertexProgram` or
//! `RecordsProgram`, as Gelly's compute functions are classes; each worker runs a clone.
//! Its guard, at its tokens, makes rustc report a type that does not implement the
//! trait there.

use quote::quote;
use syn::spanned::Spanned;

use super::front::{first_token_span, Guard, InlineFront};
use super::syntax::Step;
use crate::ir::iterate::{IterateLogic, IterateProgram};
use crate::ir::{RustFn, RustType, Schema, WindowKind};

/// The whole step, for messages.
const EXAMPLE: &str = "iterate(graph(|e: &Edge| (e.src, e.dst)), rounds(100), MyProgram)";

/// The types an iteration's program is checked with: the records', the program's and
/// what it emits.
struct ProgramTypes<'a> {
    record: &'a RustType,
    program: &'a RustType,
    output: &'a RustType,
}

/// The arguments of an `iterate(...)` step, as written.
#[derive(Default)]
struct Arguments {
    graph: Option<(syn::Expr, bool)>,
    rounds: Option<u64>,
    program: Option<syn::Expr>,
}

impl InlineFront {
    /// The iteration of an `iterate(...)` step over records of `input`.
    pub(super) fn iterate_program(
        &mut self,
        step: &Step,
        input: &Schema,
        window: Option<WindowKind>,
    ) -> Option<IterateLogic> {
        let call = step.call();
        let args = self.iterate_arguments(step)?;
        let Some(rounds) = args.rounds else {
            return self.error(
                call.parens,
                format!("`iterate` needs `rounds(N)`, the most rounds it runs, as in `{EXAMPLE}`"),
            );
        };
        let Some(program) = args.program else {
            return self.error(
                call.parens,
                format!("`iterate` needs the program to run, a value of a type implementing `weir::iteration::VertexProgram` (with `graph(...)`) or `RecordsProgram`, as in `{EXAMPLE}`"),
            );
        };
        let record = input
            .rust
            .clone()
            .unwrap_or_else(|| RustType::path(input.describe()));
        let (program_type, output) = (self.param('P'), self.param('O'));
        let types = ProgramTypes {
            record: &record,
            program: &program_type,
            output: &output,
        };
        let (graph, program) = match args.graph {
            Some((edges, _)) if window.is_some() => {
                return self.error(
                    edges.span(),
                    "a graph iteration does not run per window: a graph's rounds need all its edges; iterate over a bounded input, or over records per window",
                );
            }
            Some((edges, undirected)) => {
                let (edges, program) = self.vertex_program(&edges, &program, &types);
                (Some((edges, undirected)), program)
            }
            None => (None, self.records_program(&program, &types)),
        };
        Some(IterateLogic::Program(Box::new(IterateProgram {
            graph,
            rounds,
            program,
            program_type,
            output,
            window,
        })))
    }

    /// A graph's edge closure and its `VertexProgram`, through their guards.
    fn vertex_program(
        &mut self,
        edges: &syn::Expr,
        program: &syn::Expr,
        t: &ProgramTypes<'_>,
    ) -> (RustFn, RustFn) {
        let edge = self.param('G');
        let edges = self.guarded(
            edges,
            Guard {
                guard: "iterate_edges",
                input: t.record,
                inputs: vec![t.record.by_ref()],
                output: edge.clone(),
                outs: &[&edge],
                requirement: None,
            },
        );
        let at = first_token_span(program);
        self.bound(at, &edge, quote!(weir_runtime::iteration::GraphEdge));
        self.trait_bound(
            at,
            t.program,
            RustType::Applied(
                "weir_runtime::iteration::VertexProgramOf".into(),
                vec![t.output.clone()],
            ),
        );
        let program = self.program_guard("vertex_program", program, &edge, t);
        (edges, program)
    }

    /// A `RecordsProgram` over the records, through its guard; the records are kept by
    /// their layout.
    fn records_program(&mut self, program: &syn::Expr, t: &ProgramTypes<'_>) -> RustFn {
        let at = first_token_span(program);
        self.bound(at, t.record, quote!(weir_runtime::Layout));
        self.trait_bound(
            at,
            t.program,
            RustType::Applied(
                "weir_runtime::iteration::RecordsProgramOf".into(),
                vec![t.record.clone(), t.output.clone()],
            ),
        );
        self.program_guard("records_program", program, t.record, t)
    }

    /// The program `code` through its guard (`guard`, given the witness of `input`): a
    /// closure making a clone of it each time it is called, of the program's type, emitting
    /// its output.
    fn program_guard(
        &mut self,
        guard: &str,
        code: &syn::Expr,
        input: &RustType,
        t: &ProgramTypes<'_>,
    ) -> RustFn {
        self.guarded(
            code,
            Guard {
                guard,
                input,
                inputs: Vec::new(),
                output: t.program.clone(),
                outs: &[t.program, t.output],
                requirement: None,
            },
        )
    }

    /// `graph(...)` or `undirected_graph(...)`, `rounds(N)` and the program, each once.
    fn iterate_arguments(&mut self, step: &Step) -> Option<Arguments> {
        let mut args = Arguments::default();
        for arg in self.exprs(step.call())? {
            let named = match &arg {
                syn::Expr::Call(c) => match &*c.func {
                    syn::Expr::Path(p) => p.path.get_ident().map(|i| (i.to_string(), c)),
                    _ => None,
                },
                _ => None,
            };
            match named {
                Some((name, c)) if name == "graph" || name == "undirected_graph" => {
                    if args.graph.is_some() {
                        return self.error(arg.span(), "`iterate` takes one `graph(...)`");
                    }
                    let mut inner = c.args.iter();
                    let (Some(edges), None) = (inner.next(), inner.next()) else {
                        return self.error(
                            c.span(),
                            format!("`{name}` takes one closure making a record's edge: `{name}(|e: &Edge| (e.src, e.dst))`, or `(e.src, e.dst, e.weight)` for an edge carrying a number"),
                        );
                    };
                    args.graph = Some((edges.clone(), name == "undirected_graph"));
                }
                Some((name, c)) if name == "rounds" => {
                    if args.rounds.is_some() {
                        return self.error(arg.span(), "`iterate` takes one `rounds(N)`");
                    }
                    let n = match c.args.iter().collect::<Vec<_>>().as_slice() {
                        [syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Int(n),
                            ..
                        })] => n.base10_parse::<u64>().ok().filter(|n| *n > 0),
                        _ => None,
                    };
                    let Some(n) = n else {
                        return self.error(
                            c.span(),
                            "`rounds` takes a whole number of rounds, at least 1, as in `rounds(100)`",
                        );
                    };
                    args.rounds = Some(n);
                }
                _ => {
                    if args.program.is_some() {
                        return self.error(
                            arg.span(),
                            format!("`iterate` takes one program; the others are `graph(...)` and `rounds(N)`, as in `{EXAMPLE}`"),
                        );
                    }
                    args.program = Some(arg);
                }
            }
        }
        Some(args)
    }
}
