//! `join(other)` with no window before it: a regular (unwindowed) join, as Flink SQL's
//! `a JOIN b ON a.k = b.k` over two streams. Each record meets every record of the other
//! stream with an equal key that came before it and is still kept, and each pair is
//! emitted at once: results come incrementally, not at the end of a window.
//!
//! `.pipe`: `auctions |> key_by(seller) |> join(persons)` (`persons` a keyed stream, its
//! key of the same types), or `join(persons, ttl(1h))`. Without a time-to-live every
//! record is kept until the end of input, so state grows with the input (as Flink's
//! regular join without `table.exec.state.ttl`). With `ttl(D)` (both streams need event
//! time) records are kept for `D` of event time: two records pair when their times are at
//! most `D` apart, and a record is dropped once the watermark is `D` past it. The key
//! entries dropped so are counted and reported at the end. Records are never late: a
//! record behind the watermark still meets what is kept.
//!
//! Output as a window join's without the window bounds: every field of each side under its
//! side's name (`auction.id`, `person.name`), with the later of the two times as event
//! time (none when the streams have no event time). Only inner joins: an outer regular
//! join emits a record alone and must take that back when a partner comes, which needs
//! updating results. State is the runtime's `IntervalBuffers`, its interval the
//! time-to-live either way (or everything), spilling past the budget.

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
use crate::ir::{InputDistribution, KeySpec, Operator, Plan, RustFn, StateKind};
use crate::lower::{Applied, FrontEnd, Lowering, Stream};

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegularJoin {
    /// How long a record is kept, in ms of event time; `None`: to the end.
    pub ttl: Option<i64>,
    /// The left input's key (port 0).
    pub left_key: KeySpec,
    /// The right input's key (port 1), of the same types.
    pub right_key: KeySpec,
    /// What the output calls each side's fields: `[left, right]`.
    pub sides: [String; 2],
}

/// Half the time range: with no time-to-live, every record's interval holds every valid
/// event time (and untimed records, kept at time 0).
const FOREVER: i64 = i64::MAX / 2;

/// Weight of a regular join: it keeps whole records per key, as an interval join does.
const WEIGHT: u32 = 2;
/// Bytes a key's entry holds besides its key (the ends of its list of records).
const ENTRY_WORDS: usize = 32;

impl RegularJoin {
    /// The interval a record's partners are in, around its time.
    fn bounds(&self) -> (i64, i64) {
        match self.ttl {
            Some(d) => (-d, d),
            None => (-FOREVER, FOREVER),
        }
    }
}

impl Lower for RegularJoin {
    /// Written `join(...)`: `Join` lowers a join with no window before it here.
    const INFO: OpInfo = OpInfo {
        inputs: (2, 2),
        state: StateKind::Keyed,
        ..OpInfo::new("join", None, &[])
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let span = F::step_span(step);
        let Some(left_key) = l.require_key(&input, &Self::INFO, step) else {
            return Applied::Broken;
        };
        let Some((names, ttl)) = l.fe.join_args(&Self::INFO, step) else {
            return Applied::Broken;
        };
        let mut names = names.into_iter();
        let Some((right_name, right_at)) = names.next() else {
            return l.report(
                Diagnostic::error("`join` needs the stream to join with", span, "nothing to join")
                    .with_help("write `join(other)`, or `join(other, ttl(1h))` to keep records an hour"),
            );
        };
        if let Some((word, at)) = names.next() {
            let why = match JoinKind::from_word(&word) {
                Some(JoinKind::Inner) => None,
                Some(_) => Some((
                    format!("an outer `{word}` join needs a window"),
                    "an unwindowed outer join would emit a record alone and take it back when a partner came: updating results are not built yet",
                )),
                None => Some((format!("unknown kind of join `{word}`"), "the kinds are `inner` (the default), `left`, `right` and `full`")),
            };
            if let Some((message, help)) = why {
                return l.report(Diagnostic::error(message, at, "here").with_help(help));
            }
        }
        let pairs = ("join", ttl.as_ref().map(|_| "a join with a ttl"));
        let Some(Sides {
            right,
            right_key,
            names: sides,
            schemas: [left_schema, right_schema],
        }) = other_side(l, pairs, &input, &left_key, (right_name, right_at.clone()))
        else {
            return Applied::Broken;
        };
        if let (Some((_, at)), false) = (&ttl, input.timed) {
            return l.report(
                Diagnostic::error(
                    "the stream joined has no event time, and a ttl keeps records for a time of it",
                    at.clone(),
                    "no event time",
                )
                .with_help(format!("add `{}` to its source, or leave the ttl out", F::event_time_form())),
            );
        }
        let out = match l.fe.joined_records(&left_schema, &right_schema, [false, false], &right_at) {
            Some(records) => records,
            None => {
                let Some(columns) = output_columns(l, false, JoinKind::Inner, &sides, (&left_schema, &right_schema), &right_at) else {
                    return Applied::Broken;
                };
                l.fe.result_schema(columns)
            }
        };
        let timed = input.timed && right.timed;
        let op = Operator::new(RegularJoin {
            ttl: ttl.map(|(d, _)| d),
            left_key,
            right_key,
            sides,
        });
        let node = l.add_node(op, out, &span);
        l.connect(&input, node, 0);
        l.connect(&right, node, 1);
        Applied::Stream(Stream::new(node, timed))
    }
}

impl OperatorNode for RegularJoin {
    fn input_distribution(&self, port: usize) -> InputDistribution<'_> {
        InputDistribution::ByKeyGroup(if port == 0 { &self.left_key } else { &self.right_key })
    }

    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "join({}", self.sides[1])?;
        if let Some(d) = self.ttl {
            write!(f, ", ttl({})", crate::ir::Millis(d))?;
        }
        write!(f, ") as {}", self.sides[0])
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        let [left, right] = check_inputs(plan, n, [&self.left_key, &self.right_key])?;
        let out = &plan.graph[n].schema;
        if out.rust.is_none() && out.fields.len() != left.fields.len() + right.fields.len() {
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

    /// A record meets every kept partner whatever worker either came from; with a ttl,
    /// a slower watermark keeps records longer but pairs only those within the ttl.
    fn exact_on_ordered_shares(&self, _plan: &Plan, _n: NodeIndex) -> bool {
        true
    }

    /// Both sides' key closures (inline pipelines).
    fn closures(&self) -> Vec<&RustFn> {
        key_closures([&self.left_key, &self.right_key])
    }
}

impl OperatorCode for RegularJoin {
    fn fields(&self, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
        codegen::fields(self, g, n)
    }

    fn push(&self, g: &Gen<'_>, n: NodeIndex, port: usize, input: &Ident) -> TokenStream {
        codegen::push(self, g, n, port, input)
    }

    fn on_watermark(&self, _g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        codegen::on_watermark(self, n)
    }

    fn finish(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        codegen::finish(self, g, n)
    }
}
