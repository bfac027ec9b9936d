//! The operator API: what the registry knows of an operator before there is one
//! ([`OpInfo`]), how a step lowers into a node ([`Lower`]), and what a node's operator does
//! at each stage after lowering ([`OperatorDef`]). Operators implement these; the registry
//! (`ops/mod.rs`) lists the operators.

use std::fmt;
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use weir_runtime::memory::MemoryDemand;

use crate::codegen::context::Gen;
use crate::ir::{Edge, InputDistribution, Node, PartialResults, Plan, RustFn, Schema, StateKind};
use crate::lower::{Applied, FrontEnd, Lowering, Stream};

/// A node's combiner code (see [`OperatorDef::combiner`]).
pub(crate) struct CombinerCode {
    /// Bytes of a partial result's accumulators.
    pub acc_size: usize,
    /// Folding the record into `acc`: values read from the record, a new key's `acc`, the
    /// update of `acc`.
    pub args: TokenStream,
    pub init: TokenStream,
    pub update: TokenStream,
    /// On the key's worker: `partial` (the accumulators of `key`) merged into the node's
    /// state.
    pub merge: TokenStream,
    /// For an event-time window, what its `WindowCombiner` takes; `None`: a `Combiner`
    /// folds one partial result per key, with `init` and `update`.
    pub windows: Option<WindowCombinerCode>,
}

/// A window's combiner (`weir_runtime::parallel::WindowCombiner`).
pub(crate) struct WindowCombinerCode {
    /// The whole fold of a record, given `key`, the combiner `c` and the exchange `x`:
    /// lateness judged by this worker's watermark, the record folded into each of its
    /// windows.
    pub fold: TokenStream,
    /// The combiner's `FixedWindows`, given its memory `mem`.
    pub state: TokenStream,
    /// For a job that runs the window in time order instead
    /// (`weir_runtime::parallel::finish_in_time_order`): the bodies of
    /// `Exchanging::hold_windows_through` (given `before`) and `settle_windows` (given
    /// `earlier` and the exchange's number `id`).
    pub hold: TokenStream,
    pub settle: TokenStream,
}

/// What the table knows of an operator before there is one: its names, how each front-end
/// writes it, its ports and its state.
#[derive(Debug)]
pub struct OpInfo {
    /// The operator's name in graphs, plans and messages; also its `.pipe` step name.
    pub name: &'static str,
    /// How a `.pipe` pipeline writes it after `|>`; `None` when it is no step there.
    pub pipe: Option<&'static str>,
    /// How a `stream!` pipeline writes it, one form per step name it answers to.
    pub inline: &'static [&'static str],
    /// Input ports: at least, at most.
    pub inputs: (usize, usize),
    /// Output ports: 0 for a sink, 1, or 2 for an operator with a side output (port 1).
    pub outputs: usize,
    /// What state it keeps.
    pub state: StateKind,
    /// Whether it takes a pending `window(...)` (the step right after a window must).
    pub completes_window: bool,
    /// Whether its output records are its input's (a filter, a union): after an error in
    /// it, the pipeline's later steps are still checked against the input.
    pub passes_records: bool,
}

impl OpInfo {
    /// The entry of an operator with one input and one output, no state, that takes no
    /// pending window and whose failure stops the check of its pipeline: what most
    /// operators are. Others change a field (`OpInfo { state: .., ..OpInfo::new(..) }`).
    pub const fn new(
        name: &'static str,
        pipe: Option<&'static str>,
        inline: &'static [&'static str],
    ) -> OpInfo {
        OpInfo {
            name,
            pipe,
            inline,
            inputs: (1, 1),
            outputs: 1,
            state: StateKind::Stateless,
            completes_window: false,
            passes_records: false,
        }
    }

    /// Whether a `.pipe` step is called `name`.
    pub(crate) fn pipe_step(&self, name: &str) -> bool {
        self.pipe.is_some() && self.name == name
    }
}

/// What a node's operator does at each stage after lowering. Every hook has the node's
/// index, so it can read its inputs and outputs from the plan.
pub(crate) trait OperatorDef {
    /// The operator's entry in the table.
    fn info(&self) -> &'static OpInfo;

    /// A one-line description for graphs and `weir explain`.
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;

    /// Checks the node against the operator's type rules: a failure is a compiler bug (the
    /// lowering should have reported the user's mistake), found by the type-check pass.
    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String>;

    /// The schema of what leaves output `port` (port 0 is the node's own schema).
    fn output_schema(&self, graph: &DiGraph<Node, Edge>, n: NodeIndex, port: usize) -> Arc<Schema> {
        let _ = port;
        graph[n].schema.clone()
    }

    /// What the node asks of the job's memory, for stateful operators.
    fn memory(&self, plan: &Plan, n: NodeIndex) -> Option<MemoryDemand> {
        let _ = (plan, n);
        None
    }

    /// Whether the node's state can go to disk past its budget: `Ok(())` when it can,
    /// otherwise why not (for `weir explain` and the budget error). Only stateful
    /// operators are asked.
    fn spill(&self, plan: &Plan, n: NodeIndex) -> Result<(), &'static str> {
        let _ = (plan, n);
        Err("spilling is not built for this operator yet (issue 10)")
    }

    /// Whether the node's results can depend on the order its records arrive in (event
    /// time and lateness, counts of records, the first of a key, float sums). When no node
    /// of a job's does, a parallel run may read each file in slices; the safe default is
    /// that order matters.
    fn order_sensitive(&self) -> bool {
        true
    }

    /// Whether the node's results stay one worker's when the job's one event-time source
    /// is read in slices (the runtime's `InputSplit::EventTimeSlices`): each worker's
    /// watermark starts from the largest event time before its slice, a record is judged
    /// late against the watermark of the worker that read it, and windows fire on the
    /// least watermark over the workers, so later than on one worker. True wherever order
    /// does not matter at all.
    fn exact_in_event_time_slices(&self, plan: &Plan, n: NodeIndex) -> bool {
        let _ = (plan, n);
        !self.order_sensitive()
    }

    /// Whether the node's records may be folded on the worker that read them before they
    /// cross an exchange to it, as partial results (Flink's local aggregation): `None`
    /// unless the operator's partial results merge exactly. The physical planning pass
    /// decides where they are.
    fn partial_results(&self, plan: &Plan, n: NodeIndex) -> Option<PartialResults> {
        let _ = (plan, n);
        None
    }

    /// The code of the fold [`OperatorDef::partial_results`] allows, asked for only where
    /// the physical plan folds records before they cross to the node.
    fn combiner(&self, g: &Gen<'_>, n: NodeIndex, input: &Ident) -> Option<CombinerCode> {
        let _ = (g, n, input);
        None
    }

    /// What the node asks of the records arriving on input `port`: a keyed operator asks
    /// for every record of a key on the worker owning its key group, by its key (where a
    /// parallel inline job finds the key closure of an exchange).
    fn input_distribution(&self, port: usize) -> InputDistribution<'_> {
        let _ = port;
        InputDistribution::Any
    }

    /// The user's closures the operator calls (inline pipelines).
    fn closures(&self) -> Vec<&RustFn> {
        Vec::new()
    }

    /// The job's fields for the node, with their initializers.
    fn fields(&self, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
        let _ = (g, n);
        Vec::new()
    }

    /// Code for the record in `input` arriving on input `port`.
    fn push(&self, g: &Gen<'_>, n: NodeIndex, port: usize, input: &Ident) -> TokenStream;

    /// Code run when a watermark `wm` reaches the node on input `port`; it may `return`
    /// early to hold the watermark back (a merge waits for its slowest input).
    fn on_watermark(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        let _ = (g, n);
        quote!()
    }

    /// Code run when a job waiting on live input wakes up (`tick`): a processing-time
    /// window fires what is due, a sink writes out what has waited.
    fn on_tick(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        let _ = (g, n);
        quote!()
    }

    /// Methods of the job the node's code calls.
    fn methods(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        let _ = (g, n);
        quote!()
    }

    /// Code run at end of input, in topological order: stateful operators emit what they
    /// hold, sinks commit.
    fn finish(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        let _ = (g, n);
        quote!()
    }
}

/// How one registered step turns its arguments into nodes, for any front-end.
pub(crate) trait Lower {
    /// The step's entry in the table.
    const INFO: OpInfo;

    /// Lowers the step `step` applied to `input`.
    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span>;
}
