//! The names a process function's handler reads besides the record's fields: its state,
//! its locals, the key's fields inside `on timer`, and the clocks (`event_time`,
//! `watermark`, `processing_time`, `timer_time`, `timer_kind`).

use super::expr_types::NameScope;
use crate::ir::process::{StateVar, StateVarKind, Var};
use crate::ir::{Field, Type};

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
}

impl NameScope for Scope<'_> {
    fn resolve(&self, name: &str) -> Option<Result<(Var, Type), (String, String)>> {
        if let Some((_, ty)) = self.locals.iter().rev().find(|(n, _)| n == name) {
            return Some(Ok((Var::Local(name.to_string()), ty.clone())));
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
        names
    }
}
