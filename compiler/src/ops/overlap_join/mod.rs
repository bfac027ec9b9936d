//! `overlap_join(other, span(start, end), span(begins, ends))`: records whose time
//! intervals overlap, on equal keys (the overlap join of event-join algorithms, next to
//! the interval join).
//!
//! `.pipe`: `alarms |> key_by(sensor) |> overlap_join(maintenance, span(start, end),
//! span(begins, ends))`, where `maintenance` is a keyed stream whose key has the same
//! types. Each side names the two `timestamp` fields of its interval, half-open
//! (`[start, end)`, as windows are). A record meets every record of the other side with an
//! equal key whose interval overlaps its own (`start < ends` and `begins < end`; an empty
//! interval overlaps nothing), and each pair is emitted when its second record arrives:
//! each side's fields under its side's name, as a window join has them, with the later
//! start as event time (where the two intervals begin to overlap).
//!
//! A record is late when its start is at or before the join's watermark (the least of the
//! two inputs', skipping idle ones): records are expected in order of their starts, as a
//! source whose event time is the interval's start gives them. Late records are counted
//! and reported. A record is kept until the watermark reaches its end, when no record not
//! late can overlap it any more; its state is the runtime's `IntervalBuffers`, records
//! kept at their end, spilling past the budget.

mod codegen;

use std::fmt;

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use serde::Serialize;
use weir_runtime::memory::MemoryDemand;

use super::api::{Lower, OpInfo, OperatorCode};
use super::join::pairing::{check_inputs, other_side, Sides};
use super::join::sides::key_closures;
use super::join::{output_columns, JoinKind};
use super::keyed::keyed_demand;
use crate::codegen::context::Gen;
use crate::diagnostics::Diagnostic;
use crate::ir::OperatorNode;
use crate::ir::{InputDistribution, KeySpec, Operator, Plan, RustFn, Schema, StateKind, Type};
use crate::lower::{Applied, FrontEnd, Lowering, Stream};

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverlapJoin {
    /// The left input's key (port 0).
    pub left_key: KeySpec,
    /// The right input's key (port 1), of the same types.
    pub right_key: KeySpec,
    /// What the output calls each side's fields: `[left, right]`.
    pub sides: [String; 2],
    /// Each side's interval: the indexes of its start and end fields.
    pub spans: [(usize, usize); 2],
}

/// Weight of an overlap join: it keeps whole records per key, as an interval join does.
const WEIGHT: u32 = 2;
/// Bytes a key's entry holds besides its key (the ends of its list of records).
const ENTRY_WORDS: usize = 32;

impl Lower for OverlapJoin {
    const INFO: OpInfo = OpInfo {
        inputs: (2, 2),
        state: StateKind::Keyed,
        ..OpInfo::new(
            "overlap_join",
            Some("overlap_join(stream, span(start, end), span(start, end))"),
            &["overlap_join(stream, ...)"],
        )
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let span = F::step_span(step);
        let key = l.require_key(&input, &Self::INFO, step);
        let spec = l.fe.overlap_args(&Self::INFO, step);
        let (Some(left_key), Some(spec)) = (key, spec) else {
            return Applied::Broken;
        };
        if !input.timed {
            return l.report(
                Diagnostic::error(
                    "the stream joined has no event time, and an overlap join keeps records until the watermark passes them",
                    span,
                    "no event time",
                )
                .with_help(format!("add `{}` to its source", F::event_time_form())),
            );
        }
        let (right_name, right_at) = spec.other.clone();
        let pairs = ("overlap_join", Some("an overlap join"));
        let Some(Sides {
            right,
            right_key,
            names: sides,
            schemas: [left_schema, right_schema],
        }) = other_side(l, pairs, &input, &left_key, (right_name, right_at.clone()))
        else {
            return Applied::Broken;
        };
        let left_span = interval_fields(l, &left_schema, &spec.left, &sides[0]);
        let right_span = interval_fields(l, &right_schema, &spec.right, &sides[1]);
        let (Some(left_span), Some(right_span)) = (left_span, right_span) else {
            return Applied::Broken;
        };
        let Some(columns) = output_columns(l, false, JoinKind::Inner, &sides, (&left_schema, &right_schema), &right_at) else {
            return Applied::Broken;
        };
        let out = l.fe.result_schema(columns);
        let op = Operator::new(OverlapJoin {
            left_key,
            right_key,
            sides,
            spans: [left_span, right_span],
        });
        let node = l.add_node(op, out, &span);
        l.connect(&input, node, 0);
        l.connect(&right, node, 1);
        Applied::Stream(Stream::new(node, true))
    }
}

/// The indexes of the interval fields `(start, end)` (written at `at`) in `schema`, each a
/// `timestamp`; `None` after reporting.
fn interval_fields<F: FrontEnd>(
    l: &mut Lowering<F>,
    schema: &Schema,
    (start, end, at): &(String, String, F::Span),
    side: &str,
) -> Option<(usize, usize)> {
    let mut found = Vec::new();
    for name in [start, end] {
        match schema.index_of(name) {
            Some(i) if schema.fields[i].ty == Type::Timestamp => found.push(i),
            Some(_) => {
                l.report(Diagnostic::error(
                    format!("`{side}.{name}` bounds an interval, so it must be a timestamp"),
                    at.clone(),
                    "not a timestamp",
                ));
                return None;
            }
            None => {
                l.report(
                    Diagnostic::error(format!("`{side}` has no field `{name}`"), at.clone(), "no such field")
                        .with_help(format!("its fields are {}", schema.describe())),
                );
                return None;
            }
        }
    }
    Some((found[0], found[1]))
}

impl OperatorNode for OverlapJoin {
    fn input_distribution(&self, port: usize) -> InputDistribution<'_> {
        InputDistribution::ByKeyGroup(if port == 0 { &self.left_key } else { &self.right_key })
    }

    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "overlap_join({}) as {}", self.sides[1], self.sides[0])
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        let [left, right] = check_inputs(plan, n, [&self.left_key, &self.right_key])?;
        for (schema, (start, end)) in [(&left, self.spans[0]), (&right, self.spans[1])] {
            let stamp = |i: usize| schema.fields.get(i).is_some_and(|f| f.ty == Type::Timestamp);
            if !stamp(start) || !stamp(end) {
                return Err("an interval's bounds are not timestamps of its input".into());
            }
        }
        let out = &plan.graph[n].schema;
        if out.fields.len() != left.fields.len() + right.fields.len() {
            return Err("its output schema does not match its inputs".into());
        }
        Ok(())
    }

    fn memory(&self, plan: &Plan, n: NodeIndex) -> Option<MemoryDemand> {
        Some(keyed_demand(plan, n, &self.left_key, ENTRY_WORDS, WEIGHT, 4))
    }

    /// The oldest buckets go to disk, looked up there by the records that probe them.
    fn spill(&self, _plan: &Plan, _n: NodeIndex) -> Result<(), &'static str> {
        Ok(())
    }

    /// A record meets every kept partner whatever worker either came from, and is late
    /// exactly when one worker would find it late (its start behind a time-ordered share's
    /// watermark never is).
    fn exact_on_ordered_shares(&self, _plan: &Plan, _n: NodeIndex) -> bool {
        true
    }

    fn closures(&self) -> Vec<&RustFn> {
        key_closures([&self.left_key, &self.right_key])
    }
}

impl OperatorCode for OverlapJoin {
    fn fields(&self, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
        codegen::fields(self, g, n)
    }

    fn push(&self, g: &Gen<'_>, n: NodeIndex, port: usize, input: &Ident) -> TokenStream {
        codegen::push(self, g, n, port, input)
    }

    fn on_watermark(&self, _g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        codegen::on_watermark(n)
    }

    fn finish(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        codegen::finish(self, g, n)
    }
}
