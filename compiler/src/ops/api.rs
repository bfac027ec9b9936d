//! The operator API: how a step lowers into a node ([`Lower`]) and what a node's operator
//! writes into the generated job ([`OperatorCode`]). With the IR's `OperatorNode` (what it
//! is and what the passes ask of it) and `OpInfo` (its table entry), these are what an
//! operator implements; the registry (`ops/mod.rs`) lists the operators.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::codegen::context::Gen;
pub use crate::ir::OpInfo;
use crate::lower::{Applied, FrontEnd, Lowering, Stream};

/// A node's combiner code (see [`OperatorCode::combiner`]).
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

/// What a node's operator writes into the generated job: its fields, the code for a
/// record on an input port, at a watermark, at a wake-up and at the end of input, its
/// methods and its combiner. The codegen context finds a node's through the registry
/// (`crate::ops::code_of`).
pub(crate) trait OperatorCode {
    /// The code of the fold `OperatorNode::partial_results` allows, asked for only where
    /// the physical plan folds records before they cross to the node.
    fn combiner(&self, g: &Gen<'_>, n: NodeIndex, input: &Ident) -> Option<CombinerCode> {
        let _ = (g, n, input);
        None
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

    /// Code for a row (`ts`, `row`) arriving on the node's round channel (an iterating
    /// node's, `PhysicalPlan::round_channel`): where its workers' rows between rounds go.
    fn receive_round(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        let _ = (g, n);
        unreachable!("only a node with a feedback edge has a round channel")
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
