//! A keyed process function, as front-ends write it (`ProcessBody`, untyped, with spans)
//! and as the checker makes it (`ProcessDef`, typed): per-key state, a handler for each
//! record and one for each timer that fires, and the records they emit.

use serde::Serialize;

use super::untyped::{Expr, Ident};
use super::{Field, RustFn, RustType, TExpr, TExprKind, Type};
use crate::diagnostics::Span;

/// `process { declarations handlers }` as written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessBody {
    /// `state`, `list` and `map` declarations, in order.
    pub states: Vec<StateDecl>,
    /// `on record { ... }` and `on timer { ... }`.
    pub handlers: Vec<Handler>,
}

/// `state name: type = value;`, `list name: type;` or `map name: key -> value;`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateDecl {
    /// `state`, `list` or `map`.
    pub kind: Ident,
    /// The state's name.
    pub name: Ident,
    /// The value type (a map's key type).
    pub ty: Ident,
    /// A map's value type.
    pub value_ty: Option<Ident>,
    /// A scalar's initial value.
    pub init: Option<Expr>,
    /// The whole declaration.
    pub span: Span,
}

/// `on record { ... }` or `on timer { ... }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Handler {
    /// `record` or `timer`.
    pub on: Ident,
    /// Its statements.
    pub body: Vec<Stmt>,
}

/// A statement with where it is written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stmt {
    /// What it does.
    pub kind: StmtKind,
    /// The whole statement.
    pub span: Span,
}

/// The statements of a handler.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum StmtKind {
    /// `let name = expr;`
    Let(Ident, Expr),
    /// `name = expr;`
    Assign(Ident, Expr),
    /// `if c { ... } else { ... }` (`else if` is an `if` alone in the else branch).
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    /// `for x in list { ... }` or `for k, v in map { ... }`.
    For(Vec<Ident>, Ident, Vec<Stmt>),
    /// `emit { name: expr, name, ... };`
    Emit(Vec<(Ident, Option<Expr>)>),
    /// `[delete] timer [processing] at|after expr;`
    Timer {
        /// `delete timer ...`.
        delete: bool,
        /// `processing` written (or `after`, which is always processing time).
        processing: bool,
        /// `after` (a duration from now) rather than `at` (a time).
        after: bool,
        /// The time or duration.
        when: Expr,
    },
    /// `clear name;`
    Clear(Ident),
    /// `append(list, x);`, `put(map, k, v);`, `remove(map, k);`
    Call(Ident, Vec<Expr>),
    /// `send value;` (an iteration's): a message along each of the vertex's out-edges.
    Send(Expr),
    /// `name <- value;` or `name[key] <- value;` (an iteration's): folds the value into an
    /// aggregate.
    Contribute(Ident, Option<Expr>, Expr),
}

/// What a process function does, as its front-end wrote it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ProcessLogic {
    /// `.pipe`: declared state and typed statements.
    Statements(ProcessDef),
    /// `stream!`: the user's closures over a state of the user's type.
    Closures(Box<ProcessClosures>),
}

impl ProcessLogic {
    /// Whether the generated code reads (or replays) the job's clock: for statements, only
    /// when they set a processing-time timer or read `processing_time`; closures may
    /// always.
    pub fn reads_clock(&self) -> bool {
        match self {
            ProcessLogic::Statements(def) => def.reads_clock(),
            ProcessLogic::Closures(_) => true,
        }
    }

    /// Whether anything runs when a timer fires.
    pub fn has_on_timer(&self) -> bool {
        match self {
            ProcessLogic::Statements(def) => !def.on_timer.is_empty(),
            ProcessLogic::Closures(c) => c.on_timer.is_some(),
        }
    }
}

/// `process(on_record(|r, st, ctx| ...), on_timer(|timer, st, ctx| ...))` in `stream!`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessClosures {
    /// Run for each record: `FnMut(&R, &mut S, &mut ProcessContext<K, O>)`.
    pub on_record: RustFn,
    /// Run for each timer that fires: `FnMut(Timer, &mut S, &mut ProcessContext<K, O>)`.
    pub on_timer: Option<RustFn>,
    /// The key's state (`S`): kept encoded, starting at its `Default`.
    pub state: RustType,
    /// The records emitted (`O`).
    pub output: RustType,
}

/// A checked process function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessDef {
    /// The per-key state, in declaration order.
    pub states: Vec<StateVar>,
    /// Run for each record.
    pub on_record: Vec<TStmt>,
    /// Run for each timer that fires.
    pub on_timer: Vec<TStmt>,
    /// The fields of the records it emits.
    pub output: Vec<Field>,
}

impl ProcessDef {
    /// Whether a handler sets a processing-time timer or reads `processing_time`: only
    /// then does the generated code read (or replay) the clock.
    pub fn reads_clock(&self) -> bool {
        self.on_record
            .iter()
            .chain(&self.on_timer)
            .any(TStmt::reads_clock)
    }
}

/// One piece of per-key state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateVar {
    /// Its name.
    pub name: String,
    /// What it holds.
    pub kind: StateVarKind,
}

/// What a piece of state holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum StateVarKind {
    /// One value, and the value a key starts with.
    Scalar(Type, TExpr),
    /// A list of values.
    List(Type),
    /// A map from keys to values, iterated in key order.
    Map(Type, Type),
}

impl StateVarKind {
    /// `bool`, `list of f64`, `map str -> i64`: how messages name it.
    pub fn describe(&self) -> String {
        match self {
            StateVarKind::Scalar(t, _) => format!("state of type {t}"),
            StateVarKind::List(t) => format!("list state of {t}"),
            StateVarKind::Map(k, v) => format!("map state of {k} -> {v}"),
        }
    }
}

/// Which clock a timer follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TimerClock {
    /// The watermark.
    Event,
    /// The job's clock.
    Processing,
}

/// A checked statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TStmt {
    /// A new local value.
    Let(String, TExpr),
    /// A new value for a local or a scalar state.
    Assign(Place, TExpr),
    /// A branch.
    If(TExpr, Vec<TStmt>, Vec<TStmt>),
    /// Each element of a list state, by value.
    ForList {
        /// The element's name.
        var: String,
        /// The list.
        list: String,
        /// The body.
        body: Vec<TStmt>,
    },
    /// Each entry of a map state, in key order.
    ForMap {
        /// The key's name.
        key: String,
        /// The value's name.
        value: String,
        /// The map.
        map: String,
        /// The body.
        body: Vec<TStmt>,
    },
    /// An output record, its fields in the output's order.
    Emit(Vec<TExpr>),
    /// Sets (or deletes) the key's timer at an absolute time.
    Timer {
        /// Its clock.
        clock: TimerClock,
        /// Deletes instead of setting.
        delete: bool,
        /// When, in milliseconds.
        time: TExpr,
    },
    /// A state back to its start (a scalar to its initial value, a list or map empty).
    Clear(String),
    /// `append(list, x)`.
    Append(String, TExpr),
    /// `put(map, k, v)`.
    Put(String, TExpr, TExpr),
    /// `remove(map, k)`.
    Remove(String, TExpr),
    /// An iteration's message along each out-edge, evaluated per edge.
    Send(TExpr),
    /// Folds a value into an iteration's aggregate (by key, for a keyed one).
    Contribute {
        /// The aggregate.
        aggregate: String,
        /// The key of a keyed aggregate.
        key: Option<TExpr>,
        /// The value.
        value: TExpr,
    },
}

impl TStmt {
    /// Whether this statement (or one inside it) sets or deletes a processing-time timer
    /// or reads `processing_time`.
    fn reads_clock(&self) -> bool {
        let e = |e: &TExpr| e.any(&|e| matches!(e.kind, TExprKind::Var(Var::ProcessingTime)));
        let block = |b: &[TStmt]| b.iter().any(TStmt::reads_clock);
        match self {
            TStmt::Let(_, x)
            | TStmt::Assign(_, x)
            | TStmt::Append(_, x)
            | TStmt::Remove(_, x)
            | TStmt::Send(x) => e(x),
            TStmt::Contribute { key, value, .. } => key.as_ref().is_some_and(e) || e(value),
            TStmt::Put(_, k, v) => e(k) || e(v),
            TStmt::If(c, a, b) => e(c) || block(a) || block(b),
            TStmt::ForList { body, .. } | TStmt::ForMap { body, .. } => block(body),
            TStmt::Emit(values) => values.iter().any(e),
            TStmt::Timer { clock, time, .. } => *clock == TimerClock::Processing || e(time),
            TStmt::Clear(_) => false,
        }
    }
}

/// What an assignment changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Place {
    /// A scalar state.
    State(String),
    /// A `let` local.
    Local(String),
    /// A value of an iteration's vertex at hand.
    Vertex(String),
}

/// A name a process function's expressions read besides the record's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Var {
    /// A scalar state.
    State(String),
    /// A `let` local or a loop variable.
    Local(String),
    /// A key field inside `on timer` (where there is no record).
    KeyField(String),
    /// The record's event time.
    EventTime,
    /// The operator's current watermark.
    Watermark,
    /// The job's clock.
    ProcessingTime,
    /// The time of the timer firing.
    TimerTime,
    /// `"event_time"` or `"processing_time"`: the clock of the timer firing.
    TimerKind,
    /// An iteration's value of the vertex at hand (`vertex rank: f64 = ...`).
    VertexValue(String),
    /// An iteration's messages to the vertex at hand, combined.
    Message(String),
    /// The id of an iteration's vertex at hand (`vertex`).
    VertexId,
    /// The number of vertices of an iteration's graph (`vertices`).
    VertexCount,
    /// The number of out-edges of the vertex at hand (`out_degree`).
    OutDegree,
    /// An iteration's round, from 0 (`round`).
    Round,
    /// The position of the record at hand in an iteration's input, from 0 (`position`).
    Position,
    /// A column of the edge a message is sent along (inside `send`).
    EdgeField(String),
    /// The start of the window an iteration runs over (`window_start`).
    WindowStart,
    /// The end of the window an iteration runs over (`window_end`).
    WindowEnd,
}

impl Var {
    /// The name as a program writes it.
    pub fn written(&self) -> String {
        match self {
            Var::State(n)
            | Var::Local(n)
            | Var::KeyField(n)
            | Var::VertexValue(n)
            | Var::Message(n)
            | Var::EdgeField(n) => n.clone(),
            Var::EventTime => "event_time".into(),
            Var::Watermark => "watermark".into(),
            Var::ProcessingTime => "processing_time".into(),
            Var::TimerTime => "timer_time".into(),
            Var::TimerKind => "timer_kind".into(),
            Var::VertexId => "vertex".into(),
            Var::VertexCount => "vertices".into(),
            Var::OutDegree => "out_degree".into(),
            Var::Round => "round".into(),
            Var::Position => "position".into(),
            Var::WindowStart => "window_start".into(),
            Var::WindowEnd => "window_end".into(),
        }
    }
}

/// Functions over a list or map state, in expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StateFunc {
    /// `len(list)` or `len(map)`.
    Len,
    /// `get(map, key, default)`.
    Get,
    /// `contains(map, key)`.
    Contains,
}

impl StateFunc {
    /// The function's name.
    pub fn name(self) -> &'static str {
        match self {
            StateFunc::Len => "len",
            StateFunc::Get => "get",
            StateFunc::Contains => "contains",
        }
    }
}
