//! Type checking of an iteration (`ir::iterate::IterateBody` with its `IterateHead`) into
//! an [`IterateDef`]: what its elements are (records, or the vertices of a graph of
//! edges), its declarations, and its handlers' statements, checked by the process
//! checker with each handler's names in scope ([`IterationNames`]) and its rules: the
//! model changes only in `on round_end`, aggregates take values only in `on round`,
//! `send` only in a graph's `on round`, records are emitted only in `on end`.

use super::expr_types::{ExprChecker, ListUse};
use super::process_scope::{IterationNames, On, Scope};
use super::process_types::ProcessChecker;
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, Span};
use crate::ir::iterate::{
    AggregateVar, Combine, IterateBody, IterateDef, IterateHead, IterationShape, MessageVar,
    VertexValue,
};
use crate::ir::process::{Handler, StateDecl, StateVar, StateVarKind, TStmt, Var};
use crate::ir::untyped::{ExprKind, Ident};
use crate::ir::{Field, Schema, TExpr, TExprKind, Type};

/// The handlers an iteration has.
const HANDLERS: [&str; 3] = ["round", "round_end", "end"];

/// Checks an iteration over records of `input`, written at `at`.
pub fn check_iterate(
    head: &IterateHead,
    body: &IterateBody,
    input: &Schema,
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
    let decls = Declarations::check(&mut c, &body.decls, graph);
    let handlers = handlers(&mut c, &body.handlers);
    let names = Names::of(&decls);
    let no_record = Schema::record(Vec::new());
    let round_input = match &shape {
        IterationShape::Records { fields } => Schema::record(fields.clone()),
        IterationShape::Graph { .. } => no_record.clone(),
    };
    let columns: Vec<Field> = match &shape {
        IterationShape::Graph { columns, .. } => columns.iter().map(|(_, f)| f.clone()).collect(),
        IterationShape::Records { .. } => Vec::new(),
    };

    let on_round = {
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
        let stmts = handlers
            .round
            .map(|h| h.body.as_slice())
            .unwrap_or_default();
        c.handler(stmts, &round_input, &decls.readable, it)
    };
    if handlers.round.is_none() {
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
    let on_round_end = {
        let it = names.base(graph, Place::RoundEnd);
        let stmts = handlers
            .round_end
            .map(|h| h.body.as_slice())
            .unwrap_or_default();
        c.handler(stmts, &no_record, &decls.readable, it)
    };
    let until = match body.until.as_slice() {
        [] => None,
        [cond, rest @ ..] => {
            for again in rest {
                c.report(Diagnostic::error(
                    "`until` is written twice",
                    again.span.clone(),
                    "a second condition",
                ));
            }
            let it = names.base(graph, Place::Until);
            let scope = names.scope(&decls.readable, it);
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
    };
    // Nothing emitted before `on end`: its shape is the iteration's output.
    let emitted_early = c.output.take();
    if let Some((_, span)) = emitted_early {
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
    })
}

/// What the records are: edges of a graph (`graph src -> dst`), or elements themselves.
/// Either way they are kept as numbers.
fn shape(
    c: &mut ProcessChecker<'_>,
    head: &IterateHead,
    input: &Schema,
    at: &Span,
) -> Option<IterationShape> {
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

/// The declarations, checked.
struct Declarations {
    model: Vec<StateVar>,
    vertex_values: Vec<VertexValue>,
    message: Option<MessageVar>,
    aggregates: Vec<AggregateVar>,
    /// The model and the aggregates, as the statements read them.
    readable: Vec<StateVar>,
}

impl Declarations {
    fn check(c: &mut ProcessChecker<'_>, decls: &[StateDecl], graph: bool) -> Self {
        let model_decls: Vec<StateDecl> = decls
            .iter()
            .filter(|d| matches!(d.kind.name.as_str(), "state" | "list" | "map"))
            .cloned()
            .collect();
        let model = c.states(&model_decls);
        let mut out = Declarations {
            model,
            vertex_values: Vec::new(),
            message: None,
            aggregates: Vec::new(),
            readable: Vec::new(),
        };
        let mut seen: Vec<String> = out.model.iter().map(|s| s.name.clone()).collect();
        for d in decls {
            let kind = d.kind.name.as_str();
            if matches!(kind, "state" | "list" | "map") {
                continue;
            }
            if seen.contains(&d.name.name) {
                c.report(Diagnostic::error(
                    format!("`{}` is declared twice", d.name.name),
                    d.name.span.clone(),
                    "declared again",
                ));
                continue;
            }
            seen.push(d.name.name.clone());
            match kind {
                "vertex" => out.vertex(c, d, graph),
                "message" => out.message(c, d, graph),
                _ => out.aggregate(c, d),
            }
        }
        out.readable = out.model.clone();
        out.readable.extend(out.aggregates.iter().map(|a| StateVar {
            name: a.name.clone(),
            kind: match &a.key {
                Some(k) => StateVarKind::Map(k.clone(), a.ty.clone()),
                None => StateVarKind::Scalar(
                    a.ty.clone(),
                    TExpr {
                        kind: TExprKind::Lit(a.combine.identity(&a.ty)),
                        ty: a.ty.clone(),
                        span: Span { start: 0, end: 0 },
                    },
                ),
            },
        }));
        out
    }

    fn vertex(&mut self, c: &mut ProcessChecker<'_>, d: &StateDecl, graph: bool) {
        if !graph {
            c.report(
                Diagnostic::error(
                    "`vertex` values belong to a graph iteration",
                    d.kind.span.clone(),
                    "these records are not edges",
                )
                .with_help("read the records as edges: `iterate(graph src -> dst, ...)`"),
            );
            return;
        }
        let Some(ty) = c.type_named(&d.ty) else {
            return;
        };
        if ty == Type::Str || d.value_ty.is_some() {
            c.report(Diagnostic::error(
                "a vertex value is a number or a bool",
                d.span.clone(),
                "written `vertex name: f64 = value;`",
            ));
            return;
        }
        let Some(init) = &d.init else {
            c.report(
                Diagnostic::error(
                    format!("vertex value `{}` needs an initial value", d.name.name),
                    d.span.clone(),
                    "no `= value`",
                )
                .with_help("it may read `vertex`, `vertices` and `out_degree`"),
            );
            return;
        };
        let none = Names::default();
        let mut it = none.base(true, Place::Init);
        it.not_here.clear();
        let scope = Names::scope_of(&[], it);
        let empty = Schema::record(Vec::new());
        let Some(init) = ExprChecker::with_scope(&empty, &scope, c.diagnostics).check(
            init,
            Some(&ty),
            ListUse::Refused,
        ) else {
            c.ok = false;
            return;
        };
        self.vertex_values.push(VertexValue {
            name: d.name.name.clone(),
            ty,
            init,
        });
    }

    fn message(&mut self, c: &mut ProcessChecker<'_>, d: &StateDecl, graph: bool) {
        if !graph {
            c.report(
                Diagnostic::error(
                    "messages belong to a graph iteration",
                    d.kind.span.clone(),
                    "these records are not edges",
                )
                .with_help("read the records as edges: `iterate(graph src -> dst, ...)`"),
            );
            return;
        }
        if let Some(first) = &self.message {
            c.report(
                Diagnostic::error(
                    "an iteration sends one kind of message",
                    d.span.clone(),
                    "a second message",
                )
                .with_help(format!("`{}` is declared already", first.name)),
            );
            return;
        }
        let Some((ty, combine)) = combined_value(c, d, "message") else {
            return;
        };
        self.message = Some(MessageVar {
            name: d.name.name.clone(),
            ty,
            combine,
        });
    }

    fn aggregate(&mut self, c: &mut ProcessChecker<'_>, d: &StateDecl) {
        let key = match &d.value_ty {
            None => None,
            Some(_) => {
                let Some(k) = c.type_named(&d.ty) else {
                    return;
                };
                if !matches!(k, Type::U64 | Type::I64 | Type::Bool) {
                    c.report(Diagnostic::error(
                        "an aggregate's key is a u64, an i64 or a bool",
                        d.ty.span.clone(),
                        format!("{k} keys are not kept"),
                    ));
                    return;
                }
                Some(k)
            }
        };
        let Some((ty, combine)) = combined_value(c, d, "aggregate") else {
            return;
        };
        self.aggregates.push(AggregateVar {
            name: d.name.name.clone(),
            key,
            ty,
            combine,
        });
    }
}

/// The number type and combining function of `message name: type = sum;` or `aggregate
/// name: [key ->] type = sum;`.
fn combined_value(
    c: &mut ProcessChecker<'_>,
    d: &StateDecl,
    what: &str,
) -> Option<(Type, Combine)> {
    let ty_ident = d.value_ty.as_ref().unwrap_or(&d.ty);
    let ty = c.type_named(ty_ident)?;
    if !matches!(ty, Type::F64 | Type::U64 | Type::I64 | Type::Timestamp) {
        c.report(Diagnostic::error(
            format!(
                "a{} {what} is a number",
                if what == "aggregate" { "n" } else { "" }
            ),
            ty_ident.span.clone(),
            format!("{ty} cannot be combined"),
        ));
        return None;
    }
    let form = format!("`{what} {}: {} = sum;` (or min, max)", d.name.name, ty);
    let combine = match d.init.as_ref().map(|e| &e.kind) {
        Some(ExprKind::Name(n)) => Combine::from_name(n),
        _ => None,
    };
    match combine {
        Some(combine) => Some((ty, combine)),
        None => {
            c.report(
                Diagnostic::error(
                    format!("how does `{}` combine?", d.name.name),
                    d.init.as_ref().map_or(d.span.clone(), |e| e.span.clone()),
                    "sum, min or max",
                )
                .with_help(format!("write {form}")),
            );
            None
        }
    }
}

/// Which part of an iteration is being checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Init,
    Round,
    RoundEnd,
    Until,
    End,
}

/// The names each part of an iteration sees.
#[derive(Default)]
struct Names {
    vertex_values: Vec<(String, Type)>,
    messages: Vec<(String, Type)>,
    aggregates: Vec<String>,
}

impl Names {
    fn of(d: &Declarations) -> Self {
        Names {
            vertex_values: d
                .vertex_values
                .iter()
                .map(|v| (v.name.clone(), v.ty.clone()))
                .collect(),
            messages: d
                .message
                .iter()
                .map(|m| (m.name.clone(), m.ty.clone()))
                .collect(),
            aggregates: d.aggregates.iter().map(|a| a.name.clone()).collect(),
        }
    }

    /// The names of `place`, without vertex values, messages, `send` or `<-`.
    fn base(&self, graph: bool, place: Place) -> IterationNames<'_> {
        let mut specials = Vec::new();
        let per_vertex = graph && matches!(place, Place::Init | Place::Round | Place::End);
        if per_vertex {
            specials.push(("vertex", Var::VertexId, Type::U64));
            specials.push(("out_degree", Var::OutDegree, Type::U64));
        }
        if graph {
            specials.push(("vertices", Var::VertexCount, Type::U64));
        }
        if place != Place::Init {
            specials.push(("round", Var::Round, Type::U64));
        }
        if !graph && place == Place::Round {
            specials.push(("position", Var::Position, Type::U64));
        }
        let mut not_here = Vec::new();
        for (name, _) in &self.vertex_values {
            not_here.push((
                name.clone(),
                "a vertex value is read in `on round` and `on end`, for the vertex at hand"
                    .to_string(),
            ));
        }
        for (name, _) in &self.messages {
            not_here.push((
                name.clone(),
                "messages are read in `on round`, by the vertex they reached".to_string(),
            ));
        }
        if !graph {
            for name in ["vertex", "vertices", "out_degree"] {
                not_here.push((
                    name.to_string(),
                    "these records are not edges: `iterate(graph src -> dst, ...)` makes vertices"
                        .to_string(),
                ));
            }
        }
        if graph && !per_vertex {
            for name in ["vertex", "out_degree"] {
                not_here.push((
                    name.to_string(),
                    "there is no vertex at hand here: this runs once".to_string(),
                ));
            }
        }
        IterationNames {
            vertex_values: &[],
            messages: &[],
            aggregates: &self.aggregates,
            specials,
            not_here,
            model_fixed: match place {
                Place::RoundEnd => None,
                Place::Until => Some("`until` only reads"),
                _ => Some("the model changes in `on round_end`, once per round"),
            },
            edge: None,
            send: Err(match place {
                Place::Round => "`send` is for a graph iteration",
                _ => "messages are sent in `on round`, by a vertex",
            }),
            contribute: Err("aggregates take values in `on round`, from each element"),
        }
    }

    fn scope<'a>(&self, readable: &'a [StateVar], it: IterationNames<'a>) -> Scope<'a> {
        Self::scope_of(readable, it)
    }

    fn scope_of<'a>(readable: &'a [StateVar], it: IterationNames<'a>) -> Scope<'a> {
        Scope {
            on: On::Record,
            states: readable,
            key: &[],
            locals: Vec::new(),
            timed: false,
            iteration: Some(it),
        }
    }
}

impl ProcessChecker<'_> {
    /// A handler's statements with `it`'s names in scope, over records of `input`.
    fn handler(
        &mut self,
        stmts: &[crate::ir::process::Stmt],
        input: &Schema,
        readable: &[StateVar],
        it: IterationNames<'_>,
    ) -> Vec<TStmt> {
        let mut scope = Names::scope_of(readable, it);
        self.block(stmts, input, &mut scope)
    }
}
