//! The names a process function's handler reads besides the record's fields: its state,
//! its locals, the key's fields inside `on timer`, and the clocks (`event_time`,
//! `watermark`, `processing_time`, `timer_time`, `timer_kind`). An iteration's handlers
//! (`lower/iterate_types.rs`) read through the same scope with [`IterationNames`]: the
//! vertex's values, its messages, `vertex`, `round` and the like, and inside `send` the
//! edge's columns; they have no clocks.

use super::expr_types::NameScope;
use crate::ir::process::{StateVar, StateVarKind, Var};
use crate::ir::{Field, Type};

/// What an iteration's handler sees besides its model (`states`) and locals.
pub(super) struct IterationNames<'a> {
    /// Values of the vertex at hand (`vertex rank: f64 = ...`), assignable.
    pub vertex_values: &'a [(String, Type)],
    /// The messages to the vertex at hand, combined, read-only.
    pub messages: &'a [(String, Type)],
    /// Aggregates: in `states` for reading, never assigned (folded with `<-`).
    pub aggregates: &'a [String],
    /// The special names known here: `vertex`, `vertices`, `out_degree`, `round`.
    pub specials: Vec<(&'static str, Var, Type)>,
    /// Names of the iteration this handler does not see, with why.
    pub not_here: Vec<(String, String)>,
    /// Why the model may not change here (`None`: it may, in `on round_end`).
    pub model_fixed: Option<&'static str>,
    /// The edge's columns, inside `send`'s value.
    pub edge: Option<&'a [Field]>,
    /// What `send` takes here, with the edge's columns: `Err` says why there is none.
    pub send: Result<(Type, &'a [Field]), &'static str>,
    /// Whether aggregates take values (`<-`) here; `Err` says why not.
    pub contribute: Result<(), &'static str>,
}

/// Which handler is being checked.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum On {
    /// `on record`.
    Record,
    /// `on timer`.
    Timer,
}

/// The names a handler's expressions see.
pub(super) struct Scope<'a> {
    pub on: On,
    pub states: &'a [StateVar],
    /// Key fields by name (inside `on timer`, the only fields there are).
    pub key: &'a [Field],
    /// Locals, innermost last.
    pub locals: Vec<(String, Type)>,
    /// Whether the records carry event time.
    pub timed: bool,
    /// An iteration's names, when checking one.
    pub iteration: Option<IterationNames<'a>>,
}

impl NameScope for Scope<'_> {
    fn resolve(&self, name: &str) -> Option<Result<(Var, Type), (String, String)>> {
        if let Some((_, ty)) = self.locals.iter().rev().find(|(n, _)| n == name) {
            return Some(Ok((Var::Local(name.to_string()), ty.clone())));
        }
        if let Some(it) = &self.iteration {
            if let Some(found) = it.resolve(name) {
                return Some(found);
            }
        }
        if let Some(s) = self.states.iter().find(|s| s.name == name) {
            return Some(match &s.kind {
                StateVarKind::Scalar(ty, _) => Ok((Var::State(name.to_string()), ty.clone())),
                kind => Err((
                    format!("`{name}` is a {}, not a value", kind.describe()),
                    "read it with len, get or contains, or go through it with for".to_string(),
                )),
            });
        }
        let special = match name {
            "watermark" => Some((Var::Watermark, Type::Timestamp)),
            "processing_time" => Some((Var::ProcessingTime, Type::Timestamp)),
            "event_time" if self.on == On::Record && self.timed => {
                Some((Var::EventTime, Type::Timestamp))
            }
            "event_time" if self.on == On::Record => {
                return Some(Err((
                    "`event_time` needs a stream with event time".to_string(),
                    "these records have none: declare `event_time(...)` on the source".to_string(),
                )))
            }
            "timer_time" if self.on == On::Timer => Some((Var::TimerTime, Type::Timestamp)),
            "timer_kind" if self.on == On::Timer => Some((Var::TimerKind, Type::Str)),
            "timer_time" | "timer_kind" => {
                return Some(Err((
                    format!("`{name}` is only known in `on timer`"),
                    "no timer is firing here".to_string(),
                )))
            }
            _ => None,
        };
        if special.is_some() {
            return special.map(Ok);
        }
        if self.on == On::Timer {
            if let Some(f) = self.key.iter().find(|f| f.name == name) {
                return Some(Ok((Var::KeyField(name.to_string()), f.ty.clone())));
            }
            return Some(Err((
                format!("`{name}` is not known in `on timer`"),
                "a timer has no record: only the key's fields, the state and locals are here"
                    .to_string(),
            )));
        }
        None
    }

    fn container(&self, name: &str) -> Option<&StateVarKind> {
        if self.locals.iter().any(|(n, _)| n == name) {
            return None;
        }
        self.states
            .iter()
            .find(|s| s.name == name)
            .map(|s| &s.kind)
            .filter(|k| !matches!(k, StateVarKind::Scalar(..)))
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.locals.iter().map(|(n, _)| n.clone()).collect();
        names.extend(self.states.iter().map(|s| s.name.clone()));
        names.extend(self.key.iter().map(|f| f.name.clone()));
        if let Some(it) = &self.iteration {
            names.extend(it.vertex_values.iter().map(|(n, _)| n.clone()));
            names.extend(it.messages.iter().map(|(n, _)| n.clone()));
            names.extend(it.specials.iter().map(|(n, ..)| n.to_string()));
            names.extend(it.edge.into_iter().flatten().map(|f| f.name.clone()));
        }
        names
    }
}

impl IterationNames<'_> {
    fn resolve(&self, name: &str) -> Option<Result<(Var, Type), (String, String)>> {
        if let Some(f) = self.edge.and_then(|e| e.iter().find(|f| f.name == name)) {
            return Some(Ok((Var::EdgeField(name.to_string()), f.ty.clone())));
        }
        if let Some((_, ty)) = self.vertex_values.iter().find(|(n, _)| n == name) {
            return Some(Ok((Var::VertexValue(name.to_string()), ty.clone())));
        }
        if let Some((_, ty)) = self.messages.iter().find(|(n, _)| n == name) {
            return Some(Ok((Var::Message(name.to_string()), ty.clone())));
        }
        if let Some((_, var, ty)) = self.specials.iter().find(|(n, ..)| *n == name) {
            return Some(Ok((var.clone(), ty.clone())));
        }
        if let Some((_, why)) = self.not_here.iter().find(|(n, _)| n == name) {
            return Some(Err((format!("`{name}` is not known here"), why.clone())));
        }
        match name {
            "watermark" | "processing_time" | "event_time" | "timer_time" | "timer_kind" => {
                Some(Err((
                    format!("an iteration has no `{name}`"),
                    "rounds run after the input ends, outside time".to_string(),
                )))
            }
            _ => None,
        }
    }
}
