//! `process`: a keyed process function (Flink's `KeyedProcessFunction`): per-key state
//! (scalars, lists, maps) and timers, a handler for each record and one for each timer
//! that fires, emitting any number of records.
//!
//! `.pipe`: `key_by(account) |> process { state flagged: bool = false; on record { ... }
//! on timer { ... } }` (the statements are typed by `lower/process_types.rs`). No
//! `stream!` form yet.
//!
//! State: `ProcessState`, each key's state one byte string (the generated state struct,
//! encoded) and its timers, under the operator's budget, spilling past it. Event-time
//! timers fire when the watermark reaches them (and all at the end of input);
//! processing-time timers when the job's clock does, checked at each watermark and wake-up
//! (those still waiting at the end of input do not fire, as in Flink).

mod codegen;

use std::fmt;
use std::sync::Arc;

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use serde::Serialize;
use weir_runtime::memory::MemoryDemand;

use super::api::{Lower, OpInfo, OperatorCode};
use super::keyed::{check_keyed_input, keyed_demand};
use crate::codegen::context::Gen;
use crate::ir::process::{ProcessDef, StateVarKind};
use crate::ir::{
    Field, InputDistribution, KeySpec, Operator, OperatorNode, Plan, RustFn, Schema, StateKind,
};
use crate::lower::{Applied, FrontEnd, Lowering, Stream};

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Process {
    /// What the input is keyed by.
    pub key: KeySpec,
    /// The checked function.
    pub def: ProcessDef,
}

/// Weight in the division of memory: as an aggregate's.
const WEIGHT: u32 = 1;
/// Pages beyond the value index: value slots of a few sizes, the timers' index, entries
/// and queues.
const EXTRA_PAGES: u64 = 8;

impl Lower for Process {
    const INFO: OpInfo = OpInfo {
        state: StateKind::Keyed,
        ..OpInfo::new(
            "process",
            Some("process { state name: type = value; on record { ... } on timer { ... } }"),
            &[],
        )
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let Some(key) = l.require_key(&input, &Self::INFO, step) else {
            return Applied::Broken;
        };
        let schema = l.schema_of(&input);
        let key_fields: Vec<Field> = match &key {
            KeySpec::Fields(idx) => idx.iter().map(|&i| schema.fields[i].clone()).collect(),
            KeySpec::Rust(_) => Vec::new(),
        };
        let Some(def) = l
            .fe
            .process(&Self::INFO, step, &schema, &key_fields, input.timed)
        else {
            return Applied::Broken;
        };
        let out = Arc::new(Schema::record(def.output.clone()));
        let node = l.add_node(Operator::new(Process { key, def }), out, &F::step_span(step));
        l.connect(&input, node, 0);
        Applied::Stream(Stream::new(node, input.timed))
    }
}

impl OperatorNode for Process {
    fn input_distribution(&self, _port: usize) -> InputDistribution<'_> {
        InputDistribution::ByKeyGroup(&self.key)
    }

    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("process { ")?;
        for s in &self.def.states {
            match &s.kind {
                StateVarKind::Scalar(t, init) => write!(f, "state {}: {t} = {init}; ", s.name)?,
                StateVarKind::List(t) => write!(f, "list {}: {t}; ", s.name)?,
                StateVarKind::Map(k, v) => write!(f, "map {}: {k} -> {v}; ", s.name)?,
            }
        }
        let timers = if self.def.on_timer.is_empty() {
            ""
        } else {
            " on timer"
        };
        write!(f, "on record{timers} }}")
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        check_keyed_input(plan, n, &self.key)?;
        if plan.graph[n].schema.fields != self.def.output {
            return Err("its output schema is not the shape of its emits".into());
        }
        Ok(())
    }

    fn memory(&self, plan: &Plan, n: NodeIndex) -> Option<MemoryDemand> {
        Some(keyed_demand(plan, n, &self.key, 16, WEIGHT, EXTRA_PAGES))
    }

    fn spill(&self, _plan: &Plan, _n: NodeIndex) -> Result<(), &'static str> {
        Ok(())
    }

    fn closures(&self) -> Vec<&RustFn> {
        self.key.closure().into_iter().collect()
    }
}

impl OperatorCode for Process {
    fn fields(&self, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
        codegen::fields(self, g, n)
    }

    fn push(&self, _g: &Gen<'_>, n: NodeIndex, _port: usize, input: &Ident) -> TokenStream {
        codegen::push(n, input)
    }

    fn on_watermark(&self, _g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        codegen::on_watermark(self, n)
    }

    fn on_tick(&self, _g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        codegen::on_tick(self, n)
    }

    fn methods(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        codegen::methods(self, g, n)
    }

    fn finish(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        codegen::finish(g, n)
    }
}
