//! `window(...)`, completed by the `aggregate` after it: per key and window, the
//! aggregates of the window's records.
//!
//! `.pipe`: `key_by(auction) |> window(tumbling 10s, allowed_lateness 5s, late -> late)
//! |> aggregate { bids: count() }`; `stream!`: the same with `window(tumbling 10s, ...)`
//! and `aggregate(count())`. Kinds: `tumbling S [offset O]`, `sliding S every P [offset
//! O]`, `session gap G` (one file each here) and `count N`. Options: `allowed_lateness D`,
//! `late -> name` (the side output, output port 1, carrying the window's input records)
//! and `processing_time`.
//!
//! Tumbling and sliding windows keep their accumulators in the runtime's `FixedWindows`
//! (one table by key and window start), sessions in `SessionWindows` (a list of sessions
//! per key); both fire from the watermark (event time) or as the clock passes them
//! (processing time). Count windows keep a count beside the accumulators in a `KeyedTable` and fire on the record that completes
//! them. Every result goes out through the node's `emit` method, so firing, re-firing for
//! late records, and end of input share one path.

mod combiner;
mod count;
mod firing;
mod landing;
mod session;
mod sliding;
mod tumbling;

use landing::Landing;

use std::fmt;
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use serde::Serialize;
use weir_runtime::memory::MemoryDemand;

use super::keyed::{check_keyed, keyed_closures, keyed_demand, same_in_any_order};
use super::api::{CombinerCode, Lower, OpInfo, OperatorCode};
use crate::ir::OperatorNode;
use crate::codegen::accumulators::{exact_merge, spill_support, text_slots};
use crate::codegen::keys::{key_builder_field, key_width};
use crate::codegen::names::{node_field, node_method};
use crate::codegen::context::Gen;
use crate::diagnostics::Diagnostic;
use crate::ir::{
    accumulator_offsets, describe_aggregates, AggregateField, Edge, InputDistribution, KeySpec, Node, Operator,
    PartialResults, Plan, RustFn, Schema, StateKind, TimeDomain, WindowKind, WindowProblem,
};
use crate::lower::{Applied, FrontEnd, Lowering, PendingWindow, Stream};

/// Bytes before the accumulators in a count window's block: the count.
pub(crate) const COUNT_WORD: usize = 8;

/// The most sliding windows one record may belong to (`size / slide`): past it, every
/// record would update that many accumulators.
pub const MAX_WINDOWS_PER_RECORD: i64 = 10_000;

/// Weight of a window operator: it holds a block per key and open window, so it gets twice
/// an aggregate's share.
const WEIGHT: u32 = 2;
/// A time window's pages besides its table: for sessions, the first page of session nodes
/// and the first page of timers; for fixed windows, the first data page and room to
/// rebuild the index.
const TIME_WINDOW_EXTRA_PAGES: u64 = 2;

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Window {
    /// What the input is keyed by.
    pub key: KeySpec,
    /// Which windows a record belongs to.
    pub window: WindowKind,
    /// Event time (watermarks) or processing time (the clock).
    pub time: TimeDomain,
    /// How long after its end a window still takes late records, in ms.
    pub lateness: i64,
    /// The aggregates, in output order after the key columns (and window bounds).
    pub aggregates: Vec<AggregateField>,
}

impl Lower for Window {
    // Not `passes_records`: the step after a window completes it, and after an error in
    // the window it would report its own error about a missing window or key.
    const INFO: OpInfo = OpInfo {
        outputs: 2,
        state: StateKind::Keyed,
        ..OpInfo::new(
            "window",
            Some("window(tumbling 10s | sliding 10s every 5s | session gap 30s | count 100, allowed_lateness 5s, late -> name, processing_time)"),
            &["window(tumbling 10s, ...)"],
        )
    };

    /// Reads the window and leaves it pending on the stream for `aggregate`, `join` or
    /// `iterate`: the first two need the stream keyed (each key's windows), an iteration
    /// runs over all of a window's records.
    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let Some(mut w) = l.fe.window(&Self::INFO, step) else {
            return Applied::Broken;
        };
        if !w.kind.is_valid() {
            return l.report(Diagnostic::error(
                "window lengths must be positive, and an offset shorter than the window's step",
                w.kind_span,
                "invalid window",
            ));
        }
        w.kind = w.kind.with_offset_from_zero();
        if let WindowKind::Sliding { size, slide, .. } = w.kind {
            if slide > size {
                return l.report(
                    Diagnostic::error(
                        "a sliding window's slide is longer than its size: records between two windows would belong to none",
                        w.kind_span,
                        "gaps between windows",
                    )
                    .with_help("make the slide at most the size (a slide equal to the size is a tumbling window)"),
                );
            }
            if size / slide > MAX_WINDOWS_PER_RECORD {
                return l.report(
                    Diagnostic::error(
                        format!(
                            "each record would belong to {} sliding windows; weir takes at most {MAX_WINDOWS_PER_RECORD}",
                            size / slide
                        ),
                        w.kind_span,
                        "too many windows per record",
                    )
                    .with_help("a longer slide, or a shorter window"),
                );
            }
        }
        let late_data = w.lateness > 0 || w.late.is_some();
        if let Some(problem) = w.kind.problem(w.time, late_data, input.timed) {
            let mut d = Diagnostic::error(problem.message(), w.span.clone(), problem.label());
            if problem == WindowProblem::NoEventTime {
                d = d.with_help(format!(
                    "add `{}` to the source, or use `processing_time`",
                    F::event_time_form()
                ));
            }
            return l.report(d);
        }
        Applied::Stream(Stream {
            window: Some(w),
            name: None,
            ..input
        })
    }
}

/// Completes the pending window `w` on `input` with `aggregates`, whose results have
/// schema `out`: the window node, and its late side output bound to its name.
pub(crate) fn complete<F: FrontEnd>(
    l: &mut Lowering<F>,
    input: Stream<F::Span>,
    w: PendingWindow<F::Span>,
    key: KeySpec,
    aggregates: Vec<AggregateField>,
    out: Arc<Schema>,
) -> Applied<F::Span> {
    let op = Operator::new(Window {
        key,
        window: w.kind,
        time: w.time,
        lateness: w.lateness,
        aggregates,
    });
    let node = l.add_node(op, out, &w.span);
    l.connect(&input, node, 0);
    if let Some((name, at)) = w.late {
        let late = Stream {
            port: 1,
            ..Stream::new(node, input.timed)
        };
        l.bind_side_output(&name, at, late);
    }
    // Results carry the window's end as their time: event time flows on.
    let timed = w.time == TimeDomain::EventTime && w.kind.has_bounds();
    Applied::Stream(Stream::new(node, timed))
}

impl OperatorNode for Window {
    fn input_distribution(&self, _port: usize) -> InputDistribution<'_> {
        InputDistribution::ByKeyGroup(&self.key)
    }

    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    /// Tumbling and sliding event-time windows: a record is late exactly when one worker
    /// would find it late (it is judged by its reading worker's watermark), and a window
    /// fires once every worker's watermark has passed its end, with every record that was
    /// not late. Not with allowed lateness (a late record then updates a window that may
    /// not have fired yet on several workers), a late side output (a key's late records
    /// would come from several workers interleaved), aggregates whose result depends on
    /// order, sessions (a record may join a session one worker had already closed) or
    /// counts.
    fn exact_in_event_time_slices(&self, plan: &Plan, n: NodeIndex) -> bool {
        matches!(
            self.window,
            WindowKind::Tumbling { .. } | WindowKind::Sliding { .. }
        ) && self.time == TimeDomain::EventTime
            && self.lateness == 0
            && plan.outputs(n, 1).is_empty()
            && same_in_any_order(&self.aggregates)
    }

    /// As on slices; and processing-time windows, whose windows are the clock's on any
    /// number of workers (their results were never a function of the input alone).
    fn exact_on_ordered_shares(&self, plan: &Plan, n: NodeIndex) -> bool {
        self.exact_in_event_time_slices(plan, n)
            || (self.time == TimeDomain::ProcessingTime
                && matches!(
                    self.window,
                    WindowKind::Tumbling { .. } | WindowKind::Sliding { .. }
                )
                && same_in_any_order(&self.aggregates))
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "window({}", self.window)?;
        if self.time == TimeDomain::ProcessingTime {
            f.write_str(", processing_time")?;
        }
        if self.lateness > 0 {
            write!(f, ", allowed_lateness {}", crate::ir::Millis(self.lateness))?;
        }
        write!(
            f,
            ") |> aggregate {{ {} }}",
            describe_aggregates(&self.aggregates)
        )
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        let bounds = if self.window.has_bounds() { 2 } else { 0 };
        check_keyed(plan, n, &self.key, &self.aggregates, bounds)
    }

    /// Port 1 carries the late records: the window's input records.
    fn output_schema(&self, graph: &DiGraph<Node, Edge>, n: NodeIndex, port: usize) -> Arc<Schema> {
        match port {
            0 => graph[n].schema.clone(),
            _ => crate::ir::input_schema(graph, n, 0).unwrap_or_else(|| graph[n].schema.clone()),
        }
    }

    fn memory(&self, plan: &Plan, n: NodeIndex) -> Option<MemoryDemand> {
        let (_, acc) = accumulator_offsets(&self.aggregates);
        let extra = if self.window.has_bounds() {
            TIME_WINDOW_EXTRA_PAGES
        } else {
            0
        };
        Some(keyed_demand(plan, n, &self.key, acc, WEIGHT, extra))
    }

    fn spill(&self, _plan: &Plan, _n: NodeIndex) -> Result<(), &'static str> {
        match self.window {
            WindowKind::Tumbling { .. } | WindowKind::Sliding { .. } => exact_merge(&self.aggregates),
            // Sessions are moved to disk and back whole, never merged in parts.
            WindowKind::Session { .. } => Ok(()),
            // A group is moved to disk and back whole, never merged.
            WindowKind::Count { .. } => Ok(()),
        }
    }

    fn closures(&self) -> Vec<&RustFn> {
        keyed_closures(&self.key, &self.aggregates)
    }

    /// Tumbling and sliding event-time windows: a partial result per key and window. Not
    /// with text aggregates, whose values are not in the accumulators sent on.
    fn partial_results(&self, _plan: &Plan, _n: NodeIndex) -> Option<PartialResults> {
        let fixed = matches!(
            self.window,
            WindowKind::Tumbling { .. } | WindowKind::Sliding { .. }
        );
        let text = self.aggregates.iter().any(AggregateField::is_text);
        (fixed && !text && self.time == TimeDomain::EventTime).then_some(PartialResults::PerWindow)
    }
}

impl OperatorCode for Window {
    fn fields(&self, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
        state_fields(self, g, n)
    }

    fn push(&self, g: &Gen<'_>, n: NodeIndex, _port: usize, input: &Ident) -> TokenStream {
        landing::push(self, g, n, input)
    }

    fn on_watermark(&self, _g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        if !(self.window.has_bounds() && self.time == TimeDomain::EventTime) {
            return quote!();
        }
        let Names {
            watermark, fire, ..
        } = Names::of(n);
        quote! {
            self.#watermark = wm;
            self.#fire(wm)?;
        }
    }

    fn on_tick(&self, _g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        if !(self.window.has_bounds() && self.time == TimeDomain::ProcessingTime) {
            return quote!();
        }
        // The clock is the watermark of a processing-time window.
        let Names { fire, .. } = Names::of(n);
        quote! {
            let now = self.clock.now();
            self.#fire(now - 1)?;
        }
    }

    fn methods(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        firing::methods(self, g, n)
    }

    fn combiner(&self, g: &Gen<'_>, n: NodeIndex, input: &Ident) -> Option<CombinerCode> {
        combiner::combiner(self, g, n, input)
    }

    fn finish(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        firing::finish(self, g, n)
    }
}

/// The job's fields and methods of window node `n`.
pub(crate) struct Names {
    state: Ident,
    scratch: Ident,
    watermark: Ident,
    late: Ident,
    emit: Ident,
    fire: Ident,
    refire: Ident,
}

impl Names {
    fn of(n: NodeIndex) -> Self {
        Names {
            state: node_field(n, "state"),
            scratch: node_field(n, "scratch"),
            watermark: node_field(n, "watermark"),
            late: node_field(n, "late"),
            emit: node_method(n, "emit"),
            fire: node_method(n, "fire"),
            refire: node_method(n, "refire"),
        }
    }
}

fn state_fields(w: &Window, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
    let (_, acc_size) = accumulator_offsets(&w.aggregates);
    let Names {
        state,
        scratch,
        watermark,
        late,
        ..
    } = Names::of(n);
    let memory = g.operator_memory(n);
    let (ty, init) = match w.window {
        WindowKind::Count { .. } => {
            let size = COUNT_WORD + acc_size;
            let mut init = quote!(weir_runtime::state::CountGroups::new(#memory, #size)?);
            if w.aggregates.iter().any(AggregateField::is_text) {
                let slots = text_slots(&w.aggregates, COUNT_WORD);
                init = quote!(#init.with_text(#slots));
            }
            (quote!(weir_runtime::state::CountGroups), init)
        }
        WindowKind::Tumbling { size, .. } | WindowKind::Sliding { size, .. } => {
            let lateness = w.lateness;
            let width = key_width(g, n, &w.key);
            let spill = spill_support(g, &w.aggregates);
            let mut init = quote!(weir_runtime::state::FixedWindows::new(#memory, #size, #acc_size, #lateness, #width, #spill)?);
            if w.aggregates.iter().any(AggregateField::is_text) {
                let slots = text_slots(&w.aggregates, 0);
                init = quote!(#init.with_text(#slots));
            }
            (quote!(weir_runtime::state::FixedWindows), init)
        }
        WindowKind::Session { .. } if w.aggregates.iter().any(AggregateField::is_text) => {
            let lateness = w.lateness;
            let slots = text_slots(&w.aggregates, 0);
            (
                quote!(weir_runtime::state::TextSessionWindows),
                quote!(weir_runtime::state::TextSessionWindows::new(#memory, #acc_size, #lateness, #slots)?),
            )
        }
        WindowKind::Session { .. } => {
            let lateness = w.lateness;
            (
                quote!(weir_runtime::state::SessionWindows),
                quote!(weir_runtime::state::SessionWindows::new(#memory, #acc_size, #lateness)?),
            )
        }
    };
    let mut fields = vec![(quote!(#state: #ty), quote!(#state: #init))];
    fields.extend(key_builder_field(g, n, &w.key));
    fields.extend([
        (
            quote!(#scratch: ::std::vec::Vec<u8>),
            quote!(#scratch: ::std::vec::Vec::new()),
        ),
        (quote!(#watermark: i64), quote!(#watermark: i64::MIN)),
        (quote!(#late: u64), quote!(#late: 0)),
    ]);
    fields
}

/// Code running `body` with `start` set to each tumbling or sliding window of `kind` that
/// holds the record's `ts`, earliest first: how a window join and an iteration over
/// windows place a record (`None` for sessions and counts). Event times and durations are
/// bounded (`weir_runtime::time`), so nothing overflows.
pub(crate) fn each_fixed_window(kind: &WindowKind, body: TokenStream) -> Option<TokenStream> {
    match *kind {
        WindowKind::Tumbling { size, offset } => Some(quote! {
            let start = ts - (ts - #offset).rem_euclid(#size);
            #body
        }),
        WindowKind::Sliding {
            size,
            slide,
            offset,
        } => Some(quote! {
            let latest = ts - (ts - #offset).rem_euclid(#slide);
            let mut start = latest - ((latest - (ts - #size) - 1) / #slide) * #slide;
            while start <= latest {
                #body
                start += #slide;
            }
        }),
        WindowKind::Session { .. } | WindowKind::Count { .. } => None,
    }
}
