//! Type checking of an iteration (`ir::iterate::IterateBody` with its `IterateHead`) into
//! an [`IterateDef`]: what its elements are (records, or the vertices of a graph of
//! edges), its declarations, and its handlers' statements, checked by the process
//! checker with each handler's names in scope (`iterate_scope.rs`) and its rules: the
//! model changes only in `on round_end`, aggregates take values only in `on round`,
//! `send` only in a graph's `on round`, records are emitted only in `on end`.

use super::expr_types::{ExprChecker, ListUse};
use super::iterate_declarations::Declarations;
use super::iterate_scope::{Names, Place};
use super::process_types::ProcessChecker;
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, Span};
use crate::ir::iterate::{IterateBody, IterateDef, IterateHead, IterationShape};
use crate::ir::process::Handler;
use crate::ir::process::TStmt;
use crate::ir::untyped::{Expr, Ident};
use crate::ir::{Field, Schema, TExpr, Type, WindowKind};

/// The handlers an iteration has.
const HANDLERS: [&str; 3] = ["round", "round_end", "end"];

/// Checks an iteration over records of `input`, written at `at`.
pub fn check_iterate(
    head: &IterateHead,
    body: &IterateBody,
    input: &Schema,
    window: Option<WindowKind>,
    at: &Span,
    diagnostics: &mut Diagnostics,
) -> Option<IterateDef> {
    let mut c = ProcessChecker {
        diagnostics,
        output: None,
        ok: true,
    };
    let shape = shape(&mut c, head, input, at);
    if head.rounds.is_none() && body.until.is_empty() {
        c.report(
            Diagnostic::error("an iteration needs an end", at.clone(), "this iteration")
                .with_help("give `rounds N` (at most N rounds), `until condition;`, or both"),
        );
    }
    if let Some((0, span)) = &head.rounds {
        c.report(Diagnostic::error(
            "`rounds 0` runs no round",
            span.clone(),
            "at least 1",
        ));
    }
    let shape = shape?;
    let graph = shape.is_graph();
    if graph && window.is_some() {
        c.report(
            Diagnostic::error(
                "a graph iteration does not run per window",
                at.clone(),
                "over a window",
            )
            .with_help("a graph's rounds need all its edges: iterate over a bounded input, or over records per window"),
        );
    }
    let decls = Declarations::check(&mut c, &body.decls, graph);
    let handlers = handlers(&mut c, &body.handlers);
    let mut names = Names::of(&decls);
    names.windowed = window.is_some();
    let no_record = Schema::record(Vec::new());
    let on_round = on_round(&mut c, &shape, &decls, &names, handlers.round, at);
    let on_round_end = {
        let it = names.base(graph, Place::RoundEnd);
        let stmts = handlers
            .round_end
            .map(|h| h.body.as_slice())
            .unwrap_or_default();
        c.handler(stmts, &no_record, &decls.readable, it)
    };
    let until = until(&mut c, &body.until, &decls, &names, graph);
    emitted_before_the_end(&mut c);
    let on_end = {
        let mut it = names.base(graph, Place::End);
        if graph {
            it.vertex_values = &names.vertex_values;
        }
        let stmts = handlers.end.map(|h| h.body.as_slice()).unwrap_or_default();
        c.handler(stmts, &no_record, &decls.readable, it)
    };
    let Some((output, _)) = c.output.take() else {
        if !c.ok {
            // An `emit` that did not check is reported already.
            return None;
        }
        c.report(
            Diagnostic::error(
                "an iteration must emit records",
                at.clone(),
                "this iteration emits nothing",
            )
            .with_help(if graph {
                "add `on end { emit { ... }; }`: it runs for each vertex after the last round"
            } else {
                "add `on end { emit { ... }; }`: it runs once after the last round"
            }),
        );
        return None;
    };
    c.ok.then_some(IterateDef {
        shape,
        rounds: head.rounds.as_ref().map(|(n, _)| *n),
        model: decls.model,
        vertex_values: decls.vertex_values,
        message: decls.message,
        aggregates: decls.aggregates,
        on_round,
        on_round_end,
        until,
        on_end,
        output,
        window,
    })
}

/// `on round`'s statements: for each element, with its names (a vertex's values and
/// messages over a graph, a record's fields otherwise), `send` and `<-`.
fn on_round(
    c: &mut ProcessChecker<'_>,
    shape: &IterationShape,
    decls: &Declarations,
    names: &Names,
    handler: Option<&Handler>,
    at: &Span,
) -> Vec<TStmt> {
    let graph = shape.is_graph();
    let (round_input, columns): (Schema, Vec<Field>) = match shape {
        IterationShape::Records { fields } => (Schema::record(fields.clone()), Vec::new()),
        IterationShape::Graph { columns, .. } => (
            Schema::record(Vec::new()),
            columns.iter().map(|(_, f)| f.clone()).collect(),
        ),
    };
    let send = match &decls.message {
        Some(m) => Ok((m.ty.clone(), columns.as_slice())),
        None if graph => Err("declare what is sent first: `message name: f64 = sum;`"),
        None => Err("`send` is for a graph iteration (`iterate(graph src -> dst, ...)`)"),
    };
    let mut it = names.base(graph, Place::Round);
    it.send = send;
    it.contribute = Ok(());
    it.model_fixed = Some("the model changes in `on round_end`, once per round");
    if graph {
        it.vertex_values = &names.vertex_values;
        it.messages = &names.messages;
    }
    let stmts = handler.map(|h| h.body.as_slice()).unwrap_or_default();
    let checked = c.handler(stmts, &round_input, &decls.readable, it);
    if handler.is_none() {
        c.report(
            Diagnostic::error(
                "an iteration needs `on round { ... }`",
                at.clone(),
                "this iteration",
            )
            .with_help(if graph {
                "`on round` runs for each vertex in each round"
            } else {
                "`on round` runs for each record in each round"
            }),
        );
    }
    checked
}

/// The condition of `until`, written at most once, over the model and the round's totals.
fn until(
    c: &mut ProcessChecker<'_>,
    written: &[Expr],
    decls: &Declarations,
    names: &Names,
    graph: bool,
) -> Option<TExpr> {
    let (cond, rest) = written.split_first()?;
    for again in rest {
        c.report(Diagnostic::error(
            "`until` is written twice",
            again.span.clone(),
            "a second condition",
        ));
    }
    let it = names.base(graph, Place::Until);
    let scope = Names::scope_of(&decls.readable, it);
    let no_record = Schema::record(Vec::new());
    let t = ExprChecker::with_scope(&no_record, &scope, c.diagnostics).check(
        cond,
        Some(&Type::Bool),
        ListUse::Refused,
    );
    if t.is_none() {
        c.ok = false;
    }
    t
}

/// Refuses what the rounds emitted: an iteration's output is what `on end` emits.
fn emitted_before_the_end(c: &mut ProcessChecker<'_>) {
    if let Some((_, span)) = c.output.take() {
        c.report(
            Diagnostic::error(
                "an iteration emits records only in `on end`",
                span,
                "emitted during the rounds",
            )
            .with_help(
                "keep what a round found in the model or a vertex value, and emit it in `on end`",
            ),
        );
    }
}

/// What the records are: edges of a graph (`graph src -> dst`), or elements themselves.
/// Either way they are kept as numbers.
fn shape(
    c: &mut ProcessChecker<'_>,
    head: &IterateHead,
    input: &Schema,
    at: &Span,
) -> Option<IterationShape> {
    // A row is kept in one page of 64-bit words.
    let most = weir_runtime::memory::DEFAULT_PAGE_SIZE / 8;
    if input.fields.len() > most {
        c.report(Diagnostic::error(
            format!(
                "an iteration keeps at most {most} numbers a record; these have {}",
                input.fields.len()
            ),
            at.clone(),
            "records too wide",
        ));
        return None;
    }
    let Some(g) = &head.graph else {
        let text: Vec<&Field> = input.fields.iter().filter(|f| f.ty == Type::Str).collect();
        if let Some(f) = text.first() {
            c.report(
                Diagnostic::error(
                    format!(
                        "an iteration keeps its records as numbers; `{}` is text",
                        f.name
                    ),
                    at.clone(),
                    "records with a str field",
                )
                .with_help("keep the numbers with `map { ... }` before `iterate`"),
            );
            return None;
        }
        return Some(IterationShape::Records {
            fields: input.fields.clone(),
        });
    };
    let mut vertex_field = |name: &Ident| -> Option<usize> {
        let Some(i) = input.index_of(&name.name) else {
            let names = input.fields.iter().map(|f| f.name.as_str());
            let d = Diagnostic::error(
                format!("unknown field `{}`", name.name),
                name.span.clone(),
                format!("not a field of {}", input.describe()),
            )
            .with_help_opt(did_you_mean(&name.name, names));
            c.report(d);
            return None;
        };
        if input.fields[i].ty != Type::U64 {
            c.report(
                Diagnostic::error(
                    format!(
                        "a vertex is a u64; `{}` is {}",
                        name.name, input.fields[i].ty
                    ),
                    name.span.clone(),
                    "not a u64",
                )
                .with_help("declare the field u64 in the schema"),
            );
            return None;
        }
        Some(i)
    };
    let (src, dst) = (vertex_field(&g.src), vertex_field(&g.dst));
    let (src, dst) = (src?, dst?);
    let mut columns = Vec::new();
    for (i, f) in input.fields.iter().enumerate() {
        if i == src || i == dst {
            continue;
        }
        if f.ty == Type::Str {
            c.report(
                Diagnostic::error(
                    format!(
                        "an edge's columns are kept as numbers; `{}` is text",
                        f.name
                    ),
                    g.src.span.clone(),
                    "edges with a str field",
                )
                .with_help("keep the numbers with `map { ... }` before `iterate`"),
            );
            return None;
        }
        columns.push((i, f.clone()));
    }
    Some(IterationShape::Graph {
        src,
        dst,
        ends: (g.src.name.clone(), g.dst.name.clone()),
        undirected: g.undirected,
        columns,
    })
}

/// The handlers by name.
struct Handlers<'b> {
    round: Option<&'b Handler>,
    round_end: Option<&'b Handler>,
    end: Option<&'b Handler>,
}

fn handlers<'b>(c: &mut ProcessChecker<'_>, all: &'b [Handler]) -> Handlers<'b> {
    let mut found = Handlers {
        round: None,
        round_end: None,
        end: None,
    };
    for h in all {
        let slot = match h.on.name.as_str() {
            "round" => &mut found.round,
            "round_end" => &mut found.round_end,
            "end" => &mut found.end,
            other => {
                let d = Diagnostic::error(
                    format!("unknown handler `on {other}`"),
                    h.on.span.clone(),
                    "not a handler",
                )
                .with_help("an iteration has `on round { ... }`, `on round_end { ... }` and `on end { ... }`")
                .with_help_opt(did_you_mean(other, HANDLERS));
                c.report(d);
                continue;
            }
        };
        if slot.is_some() {
            c.report(Diagnostic::error(
                format!("`on {}` is written twice", h.on.name),
                h.on.span.clone(),
                "a second handler",
            ));
        }
        *slot = Some(h);
    }
    found
}
