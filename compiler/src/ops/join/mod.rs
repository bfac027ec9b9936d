//! `join(other [, left | right | full])` after `window(...)`: the window join.
//!
//! `.pipe`: `orders |> key_by(id) |> window(tumbling 10s) |> join(paid)`, where `paid` is
//! a keyed stream (`let paid = payments |> key_by(order_id);`) whose key has the same
//! types. Every pair of a left and a right record with equal keys in the same window is one
//! output record: `window_start`, `window_end`, then every field of each side under its
//! side's name (`orders.id`, `paid.amount`). The left side is named by the stream the
//! pipeline starts from (`left` when a step has changed its records), the right by the
//! stream named in `join(...)`. Outer joins (`left`, `right`, `full`) also emit the records
//! of a side that found no partner in the window, with the other side's fields at their
//! defaults (0, "", false) and a `side.matched` flag per side that can be missing.
//!
//! Tumbling, sliding and session windows, on event time: pairs are emitted when the window
//! fires, windows in order of end, keys in the order they first appeared in the window
//! (sessions: in the order they were opened or last changed), then each left record in
//! arrival order with each right record in arrival order. Sessions are made by the records
//! of both sides of a key together, as in Flink. The watermark is the least of the two
//! inputs', skipping idle ones, as at a union. State is the runtime's `WindowJoin` (per
//! window, the records of both sides in arrival order, indexed by key when it fires) or
//! `SessionJoin`.

mod codegen;
pub(crate) mod pairing;
pub(crate) mod sides;

use pairing::{check_inputs, other_side, Sides};
use sides::key_closures;

use std::fmt;
use std::sync::Arc;

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use serde::Serialize;
use weir_runtime::memory::MemoryDemand;

use super::keyed::keyed_demand;
use super::api::{Lower, OpInfo, OperatorCode};
use crate::ir::OperatorNode;
use crate::codegen::names::field_ident;
use crate::codegen::context::Gen;
use crate::diagnostics::Diagnostic;
use crate::ir::{
    Field, InputDistribution, KeySpec, Operator, Plan, RustFn, Schema, StateKind, TimeDomain, Type,
    WindowKind,
};
use crate::lower::{Applied, FrontEnd, Lowering, PendingWindow, Stream};

/// Which unmatched records a join also emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum JoinKind {
    /// Only pairs.
    Inner,
    /// Pairs, and left records without a partner.
    Left,
    /// Pairs, and right records without a partner.
    Right,
    /// Pairs, and records of either side without a partner.
    Full,
}

impl JoinKind {
    /// The kind named `word` in `join(other, word)`.
    pub(crate) fn from_word(word: &str) -> Option<Self> {
        Some(match word {
            "inner" => JoinKind::Inner,
            "left" => JoinKind::Left,
            "right" => JoinKind::Right,
            "full" => JoinKind::Full,
            _ => return None,
        })
    }

    /// How the kind is written after the other stream: `", left"`, nothing for inner.
    pub(crate) fn as_argument(self) -> &'static str {
        match self {
            JoinKind::Inner => "",
            JoinKind::Left => ", left",
            JoinKind::Right => ", right",
            JoinKind::Full => ", full",
        }
    }

    /// Whether the left side may be missing from an output record.
    pub fn left_optional(self) -> bool {
        matches!(self, JoinKind::Right | JoinKind::Full)
    }

    /// Whether the right side may be missing from an output record.
    pub fn right_optional(self) -> bool {
        matches!(self, JoinKind::Left | JoinKind::Full)
    }
}

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Join {
    /// Inner or which outer join.
    pub kind: JoinKind,
    /// The windows pairs meet in.
    pub window: WindowKind,
    /// The left input's key (port 0).
    pub left_key: KeySpec,
    /// The right input's key (port 1), of the same types.
    pub right_key: KeySpec,
    /// What the output calls each side's fields: `[left, right]`.
    pub sides: [String; 2],
}

/// Weight of a join: it keeps whole records per key and window, so it gets twice an
/// aggregate's share, as a window does.
const WEIGHT: u32 = 2;
/// Bytes a key's entry holds besides its key: the ends of both sides' lists.
const ENTRY_WORDS: usize = 32;

impl Lower for Join {
    const INFO: OpInfo = OpInfo {
        inputs: (2, 2),
        state: StateKind::Keyed,
        completes_window: true,
        ..OpInfo::new(
            "join",
            Some("join(stream) or join(stream, left | right | full)"),
            &["join(stream)"],
        )
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let span = F::step_span(step);
        let Some(w) = input.window.clone() else {
            return super::regular_join::RegularJoin::lower(l, input, step);
        };
        let Some(left_key) = l.require_key(&input, &Self::INFO, step) else {
            return Applied::Broken;
        };
        let Some((names, ttl)) = l.fe.join_args(&Self::INFO, step) else {
            return Applied::Broken;
        };
        if let Some((_, at)) = ttl {
            return l.report(
                Diagnostic::error("a window join takes no ttl", at, "not for a window join")
                    .with_help("a window join keeps records until their window fires; `ttl` is for a join with no window"),
            );
        }
        let Some((kind, right_name, right_at)) = read_args(l, names, &span) else {
            return Applied::Broken;
        };
        if !window_fits(l, &w, &input) {
            return Applied::Broken;
        }
        let pairs = ("join", Some("a window join"));
        let Some(Sides {
            right,
            right_key,
            names: sides,
            schemas: [left_schema, right_schema],
        }) = other_side(l, pairs, &input, &left_key, (right_name, right_at.clone()))
        else {
            return Applied::Broken;
        };
        let optional = [kind.left_optional(), kind.right_optional()];
        let out = match l.fe.joined_records(&left_schema, &right_schema, optional, &right_at) {
            Some(records) => records,
            None => {
                let Some(columns) = output_columns(l, true, kind, &sides, (&left_schema, &right_schema), &right_at) else {
                    return Applied::Broken;
                };
                l.fe.result_schema(columns)
            }
        };
        let op = Operator::new(Join {
            kind,
            window: w.kind,
            left_key,
            right_key,
            sides,
        });
        let node = l.add_node(op, out, &span);
        l.connect(&input, node, 0);
        l.connect(&right, node, 1);
        Applied::Stream(Stream::new(node, true))
    }
}

/// `join(other)` or `join(other, kind)`: the kind, the other stream's name and where it is.
fn read_args<F: FrontEnd>(
    l: &mut Lowering<F>,
    names: Vec<(String, F::Span)>,
    span: &F::Span,
) -> Option<(JoinKind, String, F::Span)> {
    let mut names = names.into_iter();
    let Some((right, right_at)) = names.next() else {
        l.report(
            Diagnostic::error("`join` needs the stream to join with", span.clone(), "nothing to join")
                .with_help("write `join(other)`, or `join(other, left)` for a left outer join"),
        );
        return None;
    };
    let kind = match names.next() {
        None => JoinKind::Inner,
        Some((word, at)) => match JoinKind::from_word(&word) {
            Some(k) => k,
            None => {
                l.report(
                    Diagnostic::error(
                        format!("unknown kind of join `{word}`"),
                        at,
                        "not a kind of join",
                    )
                    .with_help("the kinds are `inner` (the default), `left`, `right` and `full`"),
                );
                return None;
            }
        },
    };
    if let Some((_, at)) = names.next() {
        l.report(
            Diagnostic::error("`join` joins two streams", at, "one stream too many")
                .with_help("join the result again to join a third stream"),
        );
        return None;
    }
    Some((kind, right, right_at))
}

/// Whether the pending window can hold a join: a tumbling, sliding or session window on
/// event time, without lateness options.
fn window_fits<F: FrontEnd>(l: &mut Lowering<F>, w: &PendingWindow<F::Span>, input: &Stream<F::Span>) -> bool {
    let refuse = |l: &mut Lowering<F>, message: &str, at: &F::Span, label: &str, help: &str| {
        l.report(Diagnostic::error(message, at.clone(), label).with_help(help));
        false
    };
    match w.kind {
        WindowKind::Tumbling { .. } | WindowKind::Sliding { .. } | WindowKind::Session { .. } => {}
        WindowKind::Count { .. } => {
            return refuse(l, "a join pairs records in time windows, not count windows", &w.kind_span, "count window", "use a tumbling, sliding or session window");
        }
    }
    if w.time == TimeDomain::ProcessingTime {
        return refuse(l, "a window join runs on event time", &w.span, "processing time", "drop `processing_time`, and declare event time on both sources");
    }
    if w.lateness > 0 || w.late.is_some() {
        return refuse(l, "a window join takes no late data options yet: its late records are counted and reported", &w.span, "late data option", "drop `allowed_lateness` and `late -> ...`");
    }
    if !input.timed {
        return refuse(l, "the stream joined has no event time, and a window join pairs records by event time", &w.span, "no event time", &format!("add `{}` to its source", F::event_time_form()));
    }
    true
}

/// Whether both keys have the same column types; reports the mismatch otherwise.
pub(crate) fn keys_match<F: FrontEnd>(
    l: &mut Lowering<F>,
    sides: &[String; 2],
    (left, left_schema): (&KeySpec, &Schema),
    (right, right_schema): (&KeySpec, &Schema),
    right_at: &F::Span,
) -> bool {
    let types = |k: &KeySpec, s: &Schema| -> Vec<Type> {
        match k {
            KeySpec::Fields(f) => f.iter().map(|&i| s.fields[i].ty.clone()).collect(),
            KeySpec::Rust(_) => Vec::new(),
        }
    };
    let (a, b) = (types(left, left_schema), types(right, right_schema));
    if a == b {
        return true;
    }
    let show = |t: &[Type]| t.iter().map(Type::to_string).collect::<Vec<_>>().join(", ");
    l.report(
        Diagnostic::error(
            format!(
                "the two sides of a join have keys of different types: `{}` is keyed by ({}), `{}` by ({})",
                sides[0],
                show(&a),
                sides[1],
                show(&b)
            ),
            right_at.clone(),
            format!("keyed by ({})", show(&b)),
        )
        .with_help("key both sides by fields of the same types, in the same order (`as` in a `map` converts)"),
    );
    false
}

/// The output's columns: the window bounds (when `bounds`), each side's fields under its
/// name, and a `matched` flag per side an outer join can miss.
pub(crate) fn output_columns<F: FrontEnd>(
    l: &mut Lowering<F>,
    bounds: bool,
    kind: JoinKind,
    sides: &[String; 2],
    schemas: (&Schema, &Schema),
    right_at: &F::Span,
) -> Option<Vec<Field>> {
    if sides[0] == sides[1] {
        l.report(
            Diagnostic::error(
                format!("both sides of the join are called `{}`, so their fields could not be told apart", sides[0]),
                right_at.clone(),
                "the same name as the stream it joins",
            )
            .with_help(format!("name one side differently: `let other = {} ...;`", sides[1])),
        );
        return None;
    }
    let mut columns = Vec::new();
    if bounds {
        columns.push(Field { name: "window_start".into(), ty: Type::Timestamp });
        columns.push(Field { name: "window_end".into(), ty: Type::Timestamp });
    }
    for (side, schema, optional) in [
        (&sides[0], schemas.0, kind.left_optional()),
        (&sides[1], schemas.1, kind.right_optional()),
    ] {
        columns.extend(schema.fields.iter().map(|f| Field {
            name: format!("{side}.{}", f.name),
            ty: f.ty.clone(),
        }));
        if optional {
            columns.push(Field { name: format!("{side}.matched"), ty: Type::Bool });
        }
    }
    // Generated code names `orders.id` `orders__id`: those names must differ too.
    let mut names: Vec<(String, &str)> = columns
        .iter()
        .map(|f| (field_ident(&f.name).to_string(), f.name.as_str()))
        .collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0].0 == w[1].0) {
        l.report(
            Diagnostic::error(
                format!("the join's output fields `{}` and `{}` would clash", w[0].1, w[1].1),
                right_at.clone(),
                "a field of this side clashes",
            )
            .with_help("rename the field, or the stream, with a `map` or a `let` before the join"),
        );
        return None;
    }
    Some(columns)
}

impl OperatorNode for Join {
    fn input_distribution(&self, port: usize) -> InputDistribution<'_> {
        InputDistribution::ByKeyGroup(if port == 0 { &self.left_key } else { &self.right_key })
    }

    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    /// Tumbling and sliding windows: a window's pairs are every pair of its records,
    /// whatever worker each came from. Not sessions, which a record exactly at a
    /// session's end joins on one worker and not on several (where the session may not
    /// have fired yet).
    fn exact_on_ordered_shares(&self, _plan: &Plan, _n: NodeIndex) -> bool {
        matches!(
            self.window,
            WindowKind::Tumbling { .. } | WindowKind::Sliding { .. }
        )
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind.as_argument();
        write!(f, "window({}) |> join({}{kind}) as {}", self.window, self.sides[1], self.sides[0])
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        let [left, right] = check_inputs(plan, n, [&self.left_key, &self.right_key])?;
        let flags = usize::from(self.kind.left_optional()) + usize::from(self.kind.right_optional());
        let out = &plan.graph[n].schema;
        if out.rust.is_none() && out.fields.len() != 2 + left.fields.len() + right.fields.len() + flags {
            return Err("its output schema does not match its inputs".into());
        }
        Ok(())
    }

    fn memory(&self, plan: &Plan, n: NodeIndex) -> Option<MemoryDemand> {
        Some(keyed_demand(plan, n, &self.left_key, ENTRY_WORDS, WEIGHT, 2))
    }

    /// Tumbling and sliding windows go to disk whole, in arrival order, and are read
    /// back when they fire; sessions go to disk with their records, and come back when a
    /// record or a timer of their key needs them.
    fn spill(&self, _plan: &Plan, _n: NodeIndex) -> Result<(), &'static str> {
        Ok(())
    }

    /// Both sides' key closures (inline pipelines).
    fn closures(&self) -> Vec<&RustFn> {
        key_closures([&self.left_key, &self.right_key])
    }
}

impl OperatorCode for Join {
    fn fields(&self, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
        codegen::fields(self, g, n)
    }

    fn push(&self, g: &Gen<'_>, n: NodeIndex, port: usize, input: &Ident) -> TokenStream {
        codegen::push(self, g, n, port, input)
    }

    fn on_watermark(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        codegen::on_watermark(g, n)
    }

    fn methods(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        codegen::methods(self, g, n)
    }

    fn finish(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        codegen::finish(self, g, n)
    }
}

/// The schema of records on input `port` of node `n`.
pub(crate) fn side_schema(g: &Gen<'_>, n: NodeIndex, port: usize) -> Arc<Schema> {
    g.plan
        .input_schema(n, port)
        .expect("the type-check pass saw both inputs of the join")
}
