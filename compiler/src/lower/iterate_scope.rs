//! The names each part of an iteration sees (`IterationNames` for the process checker's
//! scope), and what may change where: vertex values and messages only for the vertex at
//! hand, the model only in `on round_end`, aggregates only by `<-` in `on round`.

use super::iterate_declarations::Declarations;
use super::process_scope::{IterationNames, On, Scope};
use super::process_types::ProcessChecker;
use crate::ir::process::{StateVar, TStmt, Var};
use crate::ir::{Schema, Type};

/// Which part of an iteration is being checked.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    Init,
    Round,
    RoundEnd,
    Until,
    End,
}

/// The names each part of an iteration sees.
#[derive(Default)]
pub(super) struct Names {
    pub vertex_values: Vec<(String, Type)>,
    pub messages: Vec<(String, Type)>,
    pub aggregates: Vec<String>,
    /// Whether the iteration runs per window (`window_start`, `window_end` in scope).
    pub windowed: bool,
}

impl Names {
    pub(super) fn of(d: &Declarations) -> Self {
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
            windowed: false,
        }
    }

    /// The names of `place`, without vertex values, messages, `send` or `<-`.
    pub(super) fn base(&self, graph: bool, place: Place) -> IterationNames<'_> {
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
        if self.windowed {
            specials.push(("window_start", Var::WindowStart, Type::Timestamp));
            specials.push(("window_end", Var::WindowEnd, Type::Timestamp));
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

    pub(super) fn scope_of<'a>(readable: &'a [StateVar], it: IterationNames<'a>) -> Scope<'a> {
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
    pub(super) fn handler(
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
