//! What a graph node's operator is, behind one trait: the IR holds each node's operator as
//! an [`Operator`] (a boxed [`OperatorNode`]), so it names no operator and no registry. The
//! operators (`crate::ops`) implement the trait; code that needs one kind asks for its
//! payload (`op.payload::<SourceOp>()`).

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use weir_runtime::memory::MemoryDemand;

use super::{Edge, InputDistribution, Node, PartialResults, Plan, RustFn, Schema, StateKind};

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
    /// Whether it takes an updating stream (a `rolling` aggregate's, whose rows replace
    /// their key's earlier rows): steps that keep such rows as they are (`key_by`, a
    /// `map` that keeps the key fields, sinks) and `rolling` itself, which retracts a
    /// replaced row's contribution. Any other step needs every row to stand.
    pub takes_updates: bool,
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
            takes_updates: false,
        }
    }

    /// Whether a `.pipe` step is called `name`.
    pub(crate) fn pipe_step(&self, name: &str) -> bool {
        self.pipe.is_some() && self.name == name
    }
}

/// What a node's operator is and what the passes ask of it, whatever stage reads the
/// plan: its table entry, description, type rules, schema per output port, memory demand
/// and spilling, and what the physical plan asks (input distribution, order, partial
/// results). Every hook has the node's index, so it can read its inputs and outputs from
/// the plan. (Its code generation hooks are the operator API's `OperatorCode`.)
pub trait OperatorNode: AsOperator + fmt::Debug + 'static {
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

    /// Whether the node's results stay one worker's when every worker generates its own
    /// share of the input in time order (a Nexmark run's events by offset and step, the
    /// runtime's `InputSplit::Slices` over generated sources): every share starts at the
    /// run's start, and a record reaches the node before its worker's watermark passes
    /// it, so a record is late exactly when one worker would find it late. Wherever that
    /// holds for slices it holds here; event-time window joins and interval joins add to
    /// it (their pairs do not depend on which worker's record came first).
    fn exact_on_ordered_shares(&self, plan: &Plan, n: NodeIndex) -> bool {
        self.exact_in_event_time_slices(plan, n)
    }

    /// Whether the node's records may be folded on the worker that read them before they
    /// cross an exchange to it, as partial results (Flink's local aggregation): `None`
    /// unless the operator's partial results merge exactly. The physical planning pass
    /// decides where they are.
    fn partial_results(&self, plan: &Plan, n: NodeIndex) -> Option<PartialResults> {
        let _ = (plan, n);
        None
    }

    /// What the node asks of the records arriving on input `port`: a keyed operator asks
    /// for every record of a key on the worker owning its key group, by its key (where a
    /// parallel inline job finds the key closure of an exchange).
    fn input_distribution(&self, port: usize) -> InputDistribution<'_> {
        let _ = port;
        InputDistribution::Any
    }

    /// The files the node reads or writes, as written in the pipeline, with who uses each
    /// (`source `bids``, `the dead-letter file of source `bids``, `sink `out``).
    fn files(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The user's closures the operator calls (inline pipelines).
    fn closures(&self) -> Vec<&RustFn> {
        Vec::new()
    }
}

/// What every operator payload gets for free, so an [`Operator`] can be cloned, compared
/// and asked for its payload.
pub trait AsOperator {
    /// A copy, boxed.
    fn boxed(&self) -> Box<dyn OperatorNode>;
    /// Whether `other` is the same kind of operator with an equal payload.
    fn same(&self, other: &dyn OperatorNode) -> bool;
    /// The payload, to downcast.
    fn as_any(&self) -> &dyn Any;
}

impl<T: OperatorNode + Clone + PartialEq> AsOperator for T {
    fn boxed(&self) -> Box<dyn OperatorNode> {
        Box::new(self.clone())
    }

    fn same(&self, other: &dyn OperatorNode) -> bool {
        other
            .as_any()
            .downcast_ref::<T>()
            .is_some_and(|other| other == self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A node's operator: any [`OperatorNode`].
pub struct Operator(Box<dyn OperatorNode>);

impl Operator {
    /// The node operator `op` is.
    pub fn new(op: impl OperatorNode) -> Self {
        Operator(Box::new(op))
    }

    /// The operator's hooks.
    pub fn def(&self) -> &dyn OperatorNode {
        &*self.0
    }

    /// The payload if the operator is a `T` (`op.payload::<SourceOp>()`), so code that
    /// needs one kind asks for it without matching on the kind.
    pub fn payload<T: 'static>(&self) -> Option<&T> {
        self.0.as_any().downcast_ref::<T>()
    }

    /// The operator's name as written in a pipeline.
    pub fn kind(&self) -> &'static str {
        self.0.info().name
    }

    /// The operator's table entry.
    pub fn info(&self) -> &'static OpInfo {
        self.0.info()
    }
}

impl Clone for Operator {
    fn clone(&self) -> Self {
        Operator(self.0.boxed())
    }
}

impl PartialEq for Operator {
    fn eq(&self, other: &Self) -> bool {
        self.0.same(&*other.0)
    }
}

impl fmt::Debug for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for Operator {
    /// A one-line description, for graphs and `weir explain`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.describe(f)
    }
}
