//! The operator registry: one file per operator, one table that registers them.
//!
//! Each operator file holds everything about its operator: its names and written forms for
//! both front-ends and its ports ([`OpInfo`]); its lowering from step arguments into a node
//! (a `lower` function over any [`FrontEnd`](crate::lower::FrontEnd)); its type rules, its
//! memory demand and its code generation hooks ([`OperatorDef`]).
//!
//! The [`registry!`] table below is the only place that lists them. It generates the
//! [`Operator`] enum and every dispatch over it, so no other code matches on the operator
//! kind, and a new operator that forgets a hook does not compile.

use std::fmt;
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use serde::Serialize;
use weir_runtime::memory::MemoryDemand;

use crate::codegen::Gen;
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
    fn pipe_step(&self, name: &str) -> bool {
        self.pipe.is_some() && self.name == name
    }
}

/// The step name a written form starts with: `filter` in `filter(|r| ...)`.
fn step_name(form: &str) -> &str {
    form.split(['(', ' ', '{']).next().unwrap_or(form)
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

pub(crate) mod checks;
pub(crate) mod keyed;

/// The table. `nodes` are operators that become graph nodes (a variant of [`Operator`]
/// each, its payload `module::Type` in `ops/module.rs` or `ops/module/mod.rs`); `steps`
/// are pipeline steps that only change the stream (`key_by`). Each line declares its
/// module too, so a new operator is its file and one line here.
macro_rules! registry {
    (
        nodes { $($variant:ident => $module:ident :: $ty:ident,)* }
        steps { $($smodule:ident :: $step:ident,)* }
    ) => {
        $(
            pub(crate) mod $module;
            pub use $module::$ty;
        )*
        $(pub(crate) mod $smodule;)*

        /// What a node does: one variant per registered operator, its payload defined in
        /// the operator's file.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        pub enum Operator {
            $(
                #[doc = concat!("See [`", stringify!($ty), "`].")]
                $variant($module::$ty),
            )*
        }

        impl Operator {
            /// The operator's hooks.
            pub(crate) fn def(&self) -> &dyn OperatorDef {
                match self {
                    $(Operator::$variant(op) => op,)*
                }
            }

            /// The payload if the operator is a `T` (`op.payload::<SourceOp>()`), so code
            /// that needs one kind asks for it without matching on the kind.
            pub fn payload<T: 'static>(&self) -> Option<&T> {
                match self {
                    $(Operator::$variant(op) => (op as &dyn std::any::Any).downcast_ref::<T>(),)*
                }
            }
        }

        /// Every registered operator and step, in table order.
        pub static TABLE: &[&OpInfo] = &[
            $(&<$module::$ty as Lower>::INFO,)*
            $(&<$smodule::$step as Lower>::INFO,)*
        ];

        /// Lowers `step`, an application of the operator `info`; `None` when `info` is
        /// not in the table.
        pub(crate) fn lower_step<F: FrontEnd>(
            l: &mut Lowering<F>,
            info: &OpInfo,
            input: Stream<F::Span>,
            step: &F::Step,
        ) -> Option<Applied<F::Span>> {
            $(
                if info.name == <$module::$ty as Lower>::INFO.name {
                    return Some(<$module::$ty as Lower>::lower(l, input, step));
                }
            )*
            $(
                if info.name == <$smodule::$step as Lower>::INFO.name {
                    return Some(<$smodule::$step as Lower>::lower(l, input, step));
                }
            )*
            None
        }
    };
}

registry! {
    nodes {
        Source => source::SourceOp,
        Filter => filter::Filter,
        Map => map::Map,
        FlatMap => flat_map::FlatMap,
        Aggregate => aggregate::Aggregate,
        Window => window::Window,
        Union => union::Union,
        Join => join::Join,
        IntervalJoin => interval_join::IntervalJoin,
        Distinct => distinct::Distinct,
        Sink => sink::SinkOp,
    }
    steps {
        key_by::KeyBy,
    }
}

impl Operator {
    /// The operator's name as written in a pipeline.
    pub fn kind(&self) -> &'static str {
        self.def().info().name
    }

    /// The operator's table entry.
    pub fn info(&self) -> &'static OpInfo {
        self.def().info()
    }
}

impl fmt::Display for Operator {
    /// A one-line description, for graphs and `weir explain`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.def().describe(f)
    }
}

/// The `.pipe` step names, in table order: for suggestions and help.
pub fn pipe_steps() -> Vec<&'static str> {
    TABLE
        .iter()
        .filter(|i| i.pipe.is_some())
        .map(|i| i.name)
        .collect()
}

/// The `stream!` step names, in table order.
pub fn inline_steps() -> Vec<&'static str> {
    TABLE
        .iter()
        .flat_map(|i| i.inline.iter().map(|f| step_name(f)))
        .collect()
}

/// The table entry of the `.pipe` step `name`.
pub fn pipe_info(name: &str) -> Option<&'static OpInfo> {
    TABLE.iter().copied().find(|i| i.pipe_step(name))
}

/// The table entry of the `stream!` step `name`, and the form written for that name.
pub fn inline_info(name: &str) -> Option<(&'static OpInfo, &'static str)> {
    TABLE.iter().find_map(|i| {
        i.inline
            .iter()
            .find(|f| step_name(f) == name)
            .map(|f| (*i, *f))
    })
}

/// The table entry of `aggregate`, which completes a pending window.
pub(crate) fn aggregate_info() -> &'static OpInfo {
    &<Aggregate as Lower>::INFO
}

/// The table entry of `key_by`.
pub(crate) fn key_by_info() -> &'static OpInfo {
    &<key_by::KeyBy as Lower>::INFO
}

/// The table entry of `sink`.
pub(crate) fn sink_info() -> &'static OpInfo {
    &<SinkOp as Lower>::INFO
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_registered_once_per_front_end() {
        let pipe = pipe_steps();
        let mut sorted = pipe.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), pipe.len(), "{pipe:?}");
        let inline = inline_steps();
        let mut sorted = inline.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), inline.len(), "{inline:?}");
    }

    #[test]
    fn the_steps_of_both_front_ends_come_from_the_table() {
        assert_eq!(
            pipe_steps(),
            [
                "filter",
                "map",
                "flat_map",
                "aggregate",
                "window",
                "union",
                "join",
                "interval_join",
                "distinct",
                "sink",
                "key_by"
            ]
        );
        let inline = inline_steps();
        for step in [
            "filter", "key_by", "distinct", "collect", "for_each", "sink",
        ] {
            assert!(inline.contains(&step), "{step} missing from {inline:?}");
        }
        assert!(!inline.contains(&"value"));
        assert!(!inline.contains(&"source"));
    }

    #[test]
    fn ports_fit_the_operator() {
        for info in TABLE {
            assert!(info.inputs.0 <= info.inputs.1, "{}", info.name);
            // Port 1 a side output; an interval join's late records of its other input, port 2.
            assert!(info.outputs <= 3, "{}", info.name);
        }
        let window = pipe_info("window").expect("registered");
        assert_eq!(window.outputs, 2, "the late side output is port 1");
        let union = pipe_info("union").expect("registered");
        assert_eq!(union.inputs, (2, usize::MAX));
    }
}
