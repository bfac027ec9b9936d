//! `interval_join(other, between L and U, ...)`: each record meets the other stream's
//! records with the same key within a time interval of it.
//!
//! `.pipe`: `orders |> key_by(id) |> interval_join(paid, between 0s and 15m)`, where `paid`
//! is a keyed stream whose key has the same types (Flink's
//! `a.keyBy(...).intervalJoin(b.keyBy(...)).between(lower, upper)`). A left record at `t`
//! meets every right record with an equal key at a time `s` in `[t + L, t + U]`; the bounds
//! are inclusive unless `exclusive_lower` or `exclusive_upper` is given. Each pair is one
//! output record, emitted when the later of the two arrives: every field of each side
//! under its side's name (`orders.id`, `paid.amount`, as in a window join), with the larger
//! of the two times as its event time.
//!
//! An outer join (`left`, `right` or `full`, as in Flink SQL) also emits each record of
//! its side that never meets a partner, with the other side's fields at their defaults
//! and `side.matched` false (as a window outer join has them): a left record at `t` once
//! the watermark has passed `t + U`, when no partner can come any more; a right record at
//! `s` once it has passed `s - L`. It is emitted up to a second later than that (records
//! wait in one-second buckets), with that deadline as its event time (or just past the
//! watermark when that is later), so a window after the join does not count it late.
//!
//! A record is late when the watermark (the least of the two inputs', skipping idle ones)
//! has reached its time, as in Flink. Late records of the joined stream go to `late_left ->
//! name` (output port 1), of the other stream to `late_right -> name` (port 2), or are
//! counted and reported. State is the runtime's `IntervalBuffers`: each side's records by
//! key in time buckets, dropped once no record that is not late could meet them; past the
//! budget the oldest buckets go to disk.

mod codegen;

use std::fmt;
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use proc_macro2::{Ident, TokenStream};
use serde::Serialize;
use weir_runtime::memory::MemoryDemand;

use super::keyed::keyed_demand;
use super::join::pairing::{check_inputs, other_side, Sides};
use super::join::sides::key_closures;
use super::join::{output_columns, JoinKind};
use super::api::{Lower, OpInfo, OperatorCode};
use crate::ir::OperatorNode;
use crate::codegen::context::Gen;
use crate::diagnostics::Diagnostic;
use crate::ir::{Edge, InputDistribution, KeySpec, Node, Operator, Plan, RustFn, Schema, StateKind};
use crate::lower::{Applied, FrontEnd, Lowering, Stream};

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalJoin {
    /// A partner's time minus the left record's, least, inclusive, in ms.
    pub lower: i64,
    /// The greatest, inclusive.
    pub upper: i64,
    /// The left input's key (port 0).
    pub left_key: KeySpec,
    /// The right input's key (port 1), of the same types.
    pub right_key: KeySpec,
    /// What the output calls each side's fields: `[left, right]`.
    pub sides: [String; 2],
    /// Inner, or which side's records without a partner are emitted too.
    pub kind: JoinKind,
}

/// Weight of an interval join: it keeps whole records per key, as a window join does.
const WEIGHT: u32 = 2;
/// Bytes a key's entry holds besides its key (the ends of its list of records).
const ENTRY_WORDS: usize = 32;

impl Lower for IntervalJoin {
    const INFO: OpInfo = OpInfo {
        inputs: (2, 2),
        outputs: 3,
        state: StateKind::Keyed,
        ..OpInfo::new(
            "interval_join",
            Some("interval_join(stream, between -5s and 10s, left | right | full, exclusive_lower, exclusive_upper, late_left -> name, late_right -> name)"),
            &["interval_join(stream, ...)"],
        )
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let span = F::step_span(step);
        let key = l.require_key(&input, &Self::INFO, step);
        let spec = l.fe.interval(&Self::INFO, step);
        let (Some(left_key), Some(spec)) = (key, spec) else {
            return Applied::Broken;
        };
        if spec.lower > spec.upper {
            return l.report(
                Diagnostic::error(
                    format!(
                        "the interval from {} ms to {} ms holds no time, so no record would meet another",
                        spec.lower, spec.upper
                    ),
                    spec.bounds_span,
                    "empty interval",
                )
                .with_help("the lower bound comes first: `between -5s and 10s`"),
            );
        }
        if !input.timed {
            return l.report(
                Diagnostic::error(
                    "the stream joined has no event time, and an interval join pairs records by event time",
                    span,
                    "no event time",
                )
                .with_help(format!("add `{}` to its source", F::event_time_form())),
            );
        }
        let kind = match &spec.kind {
            None => JoinKind::Inner,
            Some((word, at)) => match JoinKind::from_word(word) {
                Some(kind) => kind,
                None => {
                    return l.report(
                        Diagnostic::error(format!("unknown kind of join `{word}`"), at.clone(), "not a kind of join")
                            .with_help("the kinds are `inner` (the default), `left`, `right` and `full`"),
                    )
                }
            },
        };
        let (right_name, right_at) = spec.other.clone();
        let pairs = ("interval_join", Some("an interval join"));
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
                let Some(columns) = output_columns(l, false, kind, &sides, (&left_schema, &right_schema), &right_at) else {
                    return Applied::Broken;
                };
                l.fe.result_schema(columns)
            }
        };
        let op = Operator::new(IntervalJoin {
            lower: spec.lower,
            upper: spec.upper,
            left_key,
            right_key,
            sides,
            kind,
        });
        let node = l.add_node(op, out, &span);
        l.connect(&input, node, 0);
        l.connect(&right, node, 1);
        for (port, late) in [(1, spec.late_left), (2, spec.late_right)] {
            if let Some((name, at)) = late {
                let timed = if port == 1 { input.timed } else { right.timed };
                let stream = Stream {
                    port,
                    ..Stream::new(node, timed)
                };
                l.bind_side_output(&name, at, stream);
            }
        }
        Applied::Stream(Stream::new(node, true))
    }
}

impl OperatorNode for IntervalJoin {
    fn input_distribution(&self, port: usize) -> InputDistribution<'_> {
        InputDistribution::ByKeyGroup(if port == 0 { &self.left_key } else { &self.right_key })
    }

    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    /// A record meets every partner in its interval whatever worker either came from,
    /// and one kept alone is emitted only once no partner can come. Not with late side
    /// outputs, whose records would come from several workers interleaved.
    fn exact_on_ordered_shares(&self, plan: &Plan, n: NodeIndex) -> bool {
        plan.outputs(n, 1).is_empty() && plan.outputs(n, 2).is_empty()
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind.as_argument();
        write!(
            f,
            "interval_join({}, between {} and {}{kind}) as {}",
            self.sides[1],
            crate::ir::Millis(self.lower),
            crate::ir::Millis(self.upper),
            self.sides[0]
        )
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        let [left, right] = check_inputs(plan, n, [&self.left_key, &self.right_key])?;
        let out = &plan.graph[n].schema;
        let flags = usize::from(self.kind.left_optional()) + usize::from(self.kind.right_optional());
        if out.rust.is_none() && out.fields.len() != left.fields.len() + right.fields.len() + flags {
            return Err("its output schema does not match its inputs".into());
        }
        if self.lower > self.upper {
            return Err("its interval is empty".into());
        }
        Ok(())
    }

    /// Port 1 carries the left input's late records, port 2 the right input's.
    fn output_schema(&self, graph: &DiGraph<Node, Edge>, n: NodeIndex, port: usize) -> Arc<Schema> {
        match port {
            0 => graph[n].schema.clone(),
            p => crate::ir::input_schema(graph, n, p - 1).unwrap_or_else(|| graph[n].schema.clone()),
        }
    }

    fn memory(&self, plan: &Plan, n: NodeIndex) -> Option<MemoryDemand> {
        Some(keyed_demand(plan, n, &self.left_key, ENTRY_WORDS, WEIGHT, 4))
    }

    /// The oldest buckets go to disk, looked up there by the records that probe them.
    fn spill(&self, _plan: &Plan, _n: NodeIndex) -> Result<(), &'static str> {
        Ok(())
    }

    /// Both sides' key closures (inline pipelines).
    fn closures(&self) -> Vec<&RustFn> {
        key_closures([&self.left_key, &self.right_key])
    }
}

impl OperatorCode for IntervalJoin {
    fn fields(&self, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
        codegen::fields(self, g, n)
    }

    fn push(&self, g: &Gen<'_>, n: NodeIndex, port: usize, input: &Ident) -> TokenStream {
        codegen::push(self, g, n, port, input)
    }

    fn on_watermark(&self, _g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        codegen::on_watermark(self, n)
    }

    fn methods(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        codegen::methods(self, g, n)
    }

    fn finish(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        codegen::finish(self, g, n)
    }
}
