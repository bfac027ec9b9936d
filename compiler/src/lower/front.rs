//! What a front-end provides the shared lowering: its kind of place, its step syntax, and
//! a reader for each shape of step argument.
//!
//! A reader reports its own syntax errors (a wrong form, an unknown field) at the user's
//! tokens and returns `None`; the rules that hold whatever the syntax (keyed input, event
//! time, output schemas, names) are the lowering's and the operators'.

use std::sync::Arc;

use petgraph::graph::DiGraph;

use super::PendingWindow;
use super::{Applied, Lowering, Stream};
use crate::diagnostics::Diagnostics;
use crate::diagnostics::Span as ByteSpan;
use crate::ir::{
    AggregateField, Code, Edge, Field, KeySpec, Node, OutputLocation, RustFn, Schema, SinkFormat,
    TExpr,
};
use crate::ops::api::OpInfo;

/// What a record-building step (`map`, `flat_map`) makes its records with.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordArg<S> {
    /// Named, typed fields (`.pipe`), with where each value is written.
    Fields(Vec<(String, TExpr, S)>),
    /// The user's closure (`stream!`).
    Closure(RustFn),
}

/// Which record-building step reads a [`RecordArg`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordRole {
    /// One record per record.
    Map,
    /// Any number of records per record: one field is a list (`.pipe`), or the closure
    /// returns something iterable (`stream!`).
    FlatMap,
}

/// What a `process` step reads: records of `schema`, keyed by `key` (by the fields
/// `key_fields` in `.pipe`), with event time when `timed`.
#[derive(Debug, Clone, Copy)]
pub struct ProcessInput<'a> {
    /// The records.
    pub schema: &'a Schema,
    /// What they are keyed by.
    pub key: &'a KeySpec,
    /// The key's fields, for a key of fields.
    pub key_fields: &'a [Field],
    /// Whether records carry event time.
    pub timed: bool,
}

/// A sink as read: its name if given, its format and its destination.
#[derive(Debug, Clone)]
pub struct SinkSpec<S> {
    /// `sink name = ...`, if given.
    pub name: Option<(String, S)>,
    /// How records are encoded.
    pub format: SinkFormat,
    /// Where they go.
    pub output: OutputLocation,
    /// Timestamps written as RFC 3339 text (`timestamps: rfc3339`).
    pub rfc3339: bool,
    /// The sink's call, where an unnamed sink is reported.
    pub span: S,
}

/// `interval_join(other, between L and U, ...)` as read: a right record at `s` meets a left
/// record at `t` when `t + lower <= s <= t + upper` (bounds made inclusive).
#[derive(Debug, Clone)]
pub struct IntervalSpec<S> {
    /// The other stream's name and where it is written.
    pub other: (String, S),
    /// The least offset of a partner's time, inclusive, in ms.
    pub lower: i64,
    /// The greatest offset, inclusive, in ms.
    pub upper: i64,
    /// The `between ...` phrase.
    pub bounds_span: S,
    /// `late_left -> name`: the side output of late records of the joined stream.
    pub late_left: Option<(String, S)>,
    /// `late_right -> name`: the side output of late records of the other stream.
    pub late_right: Option<(String, S)>,
    /// `inner`, `left`, `right` or `full` as written (an inner join when absent): which
    /// records without a partner are also emitted.
    pub kind: Option<(String, S)>,
}

/// `overlap_join(other, span(start, end), span(from, until))` as read: the other stream,
/// and the fields of each side's interval `[start, end)`, as written.
#[derive(Debug, Clone)]
pub struct OverlapSpec<S> {
    /// The other stream's name and where it is written.
    pub other: (String, S),
    /// This stream's interval: its start and end fields, and where they are written.
    pub left: (String, String, S),
    /// The other stream's.
    pub right: (String, String, S),
}

/// A step the lowering's own rules name ([`FrontEnd::known`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnownStep {
    /// `aggregate`, which completes a pending window.
    Aggregate,
    /// `sink`, which ends a pipeline.
    Sink,
    /// `key_by`, which keys a stream.
    KeyBy,
}

/// A front-end's side of the lowering. See the module documentation.
pub trait FrontEnd {
    /// Where things are written: byte ranges of a `.pipe` file, or `proc_macro2::Span`s.
    type Span: Clone + std::fmt::Debug;
    /// One `|> ...` step as parsed.
    type Step;

    /// Whether this front-end reports warnings as errors (`stream!`: a macro cannot warn
    /// on a stable compiler).
    const WARNINGS_ARE_ERRORS: bool;

    /// The table entry of step `name`, as this front-end names steps.
    fn info(name: &str) -> Option<&'static OpInfo>;
    /// How this front-end writes operator `info`, for help texts, between backticks
    /// (several forms are joined by "`, `").
    fn form(info: &OpInfo) -> String;
    /// Every step name, for suggestions.
    fn step_names() -> Vec<&'static str>;
    /// The steps that complete a window, for messages ("`aggregate`, `join` or
    /// `iterate`"): the registry's, which the front-end knows.
    fn window_completers() -> String;
    /// The table entry of a step the lowering names in its own rules (`aggregate` after a
    /// window, `sink` at a pipeline's end, `key_by` before a keyed operator): the
    /// front-end, not the lowering, knows the registry.
    fn known(step: KnownStep) -> &'static OpInfo;
    /// Lowers `step`, an application of operator `info`, through the registry; `None`
    /// when `info` is not registered.
    fn lower_step(
        l: &mut Lowering<Self>,
        info: &OpInfo,
        input: Stream<Self::Span>,
        step: &Self::Step,
    ) -> Option<Applied<Self::Span>>
    where
        Self: Sized;
    /// A hint for an unknown step that is something else in this front-end.
    fn unknown_step_help(name: &str) -> Option<String> {
        let _ = name;
        None
    }
    /// How a source declares event time, for help texts.
    fn event_time_form() -> &'static str;
    /// How to give a sink a name of its own.
    fn sink_naming_help() -> String;
    /// The step's name and where the name is written.
    fn step_name(step: &Self::Step) -> (String, Self::Span);
    /// Where the whole step is written.
    fn step_span(step: &Self::Step) -> Self::Span;
    /// The node span and the `file:line:col` of a node written at `span`.
    fn place(&mut self, span: &Self::Span) -> (ByteSpan, String);
    /// Where every diagnostic goes, in the order found: the front-end's readers and the
    /// lowering report into the same list.
    fn diagnostics(&mut self) -> &mut Diagnostics<Self::Span>;

    /// A step that takes no arguments.
    fn no_args(&mut self, info: &OpInfo, step: &Self::Step) -> Option<()>;

    /// A condition on a record of `input`.
    fn predicate(&mut self, info: &OpInfo, step: &Self::Step, input: &Schema) -> Option<Code>;

    /// A key of records of `input`.
    fn key(&mut self, info: &OpInfo, step: &Self::Step, input: &Schema) -> Option<KeySpec>;

    /// How a record-building step makes its records from records of `input`.
    fn record(
        &mut self,
        info: &OpInfo,
        step: &Self::Step,
        input: &Schema,
        role: RecordRole,
    ) -> Option<RecordArg<Self::Span>>;

    /// The schema of records made by `closure` in `role`.
    fn closure_schema(&mut self, closure: &RustFn, role: RecordRole) -> Arc<Schema>;

    /// Aggregates over records of `input`, each with where it is written.
    fn aggregates(
        &mut self,
        info: &OpInfo,
        step: &Self::Step,
        input: &Schema,
    ) -> Option<Vec<(AggregateField, Self::Span)>>;

    /// The process function of a `process` step over `input`.
    fn process(
        &mut self,
        info: &OpInfo,
        step: &Self::Step,
        input: &ProcessInput<'_>,
    ) -> Option<crate::ir::process::ProcessLogic>;

    /// The iteration of an `iterate` step over records of `input`, per `window` if
    /// one comes before it.
    fn iterate(
        &mut self,
        info: &OpInfo,
        step: &Self::Step,
        input: &Schema,
        window: Option<crate::ir::WindowKind>,
    ) -> Option<crate::ir::iterate::IterateLogic>;

    /// The window of a `window(...)` step.
    fn window(&mut self, info: &OpInfo, step: &Self::Step) -> Option<PendingWindow<Self::Span>>;

    /// The other stream, the bounds and the options of an interval join.
    fn interval(&mut self, info: &OpInfo, step: &Self::Step) -> Option<IntervalSpec<Self::Span>>;

    /// Whether the two sides of a join have keys of one type, where this front-end decides:
    /// `stream!` has rustc check, at `at`, that the two key types are one (`Some(true)`);
    /// `.pipe` leaves it to the operator, which compares the key fields (`None`).
    fn join_keys(&mut self, left: &KeySpec, right: &KeySpec, at: &Self::Span) -> Option<bool>;

    /// The records a join of `left` and `right` records makes, where they are Rust values
    /// (`stream!`): `(L, R)`, with `Option` for a side an outer join can miss
    /// (`optional`), both record types required to have a binary layout, since whole
    /// records are kept in state. `None` in `.pipe`, where the operator makes columns
    /// named by side.
    fn joined_records(
        &mut self,
        left: &Schema,
        right: &Schema,
        optional: [bool; 2],
        at: &Self::Span,
    ) -> Option<Arc<Schema>>;

    /// A join's arguments: the stream and words (`join(other, left)`), and the time-to-live
    /// of its state when `ttl(1h)` is given (in ms, and where it is written).
    #[allow(clippy::type_complexity)]
    fn join_args(
        &mut self,
        info: &OpInfo,
        step: &Self::Step,
    ) -> Option<(Vec<(String, Self::Span)>, Option<(i64, Self::Span)>)>;

    /// A top-N step's arguments (`top(3, desc(score), ts)`): how many rows, then what
    /// orders them, each with whether it is descending.
    fn top_args(
        &mut self,
        info: &OpInfo,
        step: &Self::Step,
        input: &Schema,
    ) -> Option<(u64, Vec<(Code, bool)>)>;

    /// An overlap join's arguments; `None` after reporting (or where the front-end has no
    /// overlap join yet).
    fn overlap_args(&mut self, info: &OpInfo, step: &Self::Step)
        -> Option<OverlapSpec<Self::Span>>;

    /// The stream names a step takes (`union(a, b)`).
    fn stream_names(
        &mut self,
        info: &OpInfo,
        step: &Self::Step,
    ) -> Option<Vec<(String, Self::Span)>>;

    /// A sink step, writing records of `input`.
    fn sink(
        &mut self,
        info: &OpInfo,
        step: &Self::Step,
        input: &Schema,
    ) -> Option<SinkSpec<Self::Span>>;

    /// The schema of result records made of `columns` (an aggregate's key, window bounds
    /// and aggregates): a record struct, or a tuple.
    fn result_schema(&mut self, columns: Vec<Field>) -> Arc<Schema>;

    /// Whether records of `other`, merged at `at` into a stream of `input`, can be one
    /// type. `.pipe` compares fields; `stream!` compares the types it knows, and where
    /// rustc infers one, makes it the other and has rustc check it at `at`.
    fn unify(&mut self, input: &Schema, other: &Schema, at: &Self::Span) -> bool;

    /// Called once with the finished graph (inline: bounds on streams that fan out).
    fn finish_graph(&mut self, graph: &DiGraph<Node, Edge>) {
        let _ = graph;
    }
}
