//! `iterate`: rounds over a bounded input once it has ended, as Flink's bulk and delta
//! iterations and Pregel's supersteps: graph jobs (PageRank, connected components,
//! shortest paths) and learning jobs (regression, k-means).
//!
//! `.pipe`: `iterate(graph src -> dst, rounds 200) { vertex rank: f64 = 1.0 / vertices;
//! message incoming: f64 = sum; aggregate change: f64 = sum; on round { ... } on end {
//! emit { ... }; } until round > 0 and change < 1e-10; }`, or without `graph`, the
//! records themselves as elements. The statements are typed by
//! `lower/iterate_types.rs`; `docs/language.md` says what a round sees.
//!
//! State: the records as rows of numbers in pool pages (`weir_runtime::iteration::
//! WordRows`); at the end of input a graph's compressed sparse rows, its vertex values and
//! messages in page runs, all under the operator's budget. Records past the budget go to
//! disk (each round reads them front to back, the disk's first); a graph does not spill
//! (a round reads its edges in any order). Its node has a feedback edge to itself (each
//! round's state goes into the next), so graphs draw the loop. Records are read on worker
//! 0 (they are order-sensitive), where their iteration runs; a graph's iteration runs on
//! every worker (`graph_rounds.rs`).

mod codegen;
mod graph_rounds;
mod program;
mod windows;

use std::fmt;
use std::sync::Arc;

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use serde::Serialize;
use weir_runtime::memory::MemoryDemand;

use super::api::{Lower, OpInfo, OperatorCode};
use crate::codegen::context::Gen;
use crate::ir::iterate::{IterateLogic, IterationShape};
use crate::ir::process::StateVarKind;
use crate::ir::{Operator, OperatorNode, Plan, RustFn, Schema, StateKind};
use crate::diagnostics::Diagnostic;
use crate::ir::{TimeDomain, WindowKind};
use crate::lower::{Applied, FrontEnd, Lowering, PendingWindow, Stream};

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Iterate {
    /// What it does.
    pub logic: IterateLogic,
}

/// Weight in the division of memory: an iteration holds its whole input.
const WEIGHT: u32 = 4;
/// Pages it cannot work without: a page of rows, and room to build a small graph.
const MIN_PAGES: u64 = 4;

impl Lower for Iterate {
    const INFO: OpInfo = OpInfo {
        state: StateKind::Iteration,
        completes_window: true,
        ..OpInfo::new(
            "iterate",
            Some("iterate(graph src -> dst, rounds N) { vertex ...; on round { ... } on end { emit { ... }; } until ...; }"),
            &["iterate([graph(|e| (e.src, e.dst)),] rounds(N), program)"],
        )
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        mut input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let schema = l.schema_of(&input);
        let window = match input.window.take() {
            Some(w) => match per_window(l, &w, &input) {
                Some(kind) => Some(kind),
                None => return Applied::Broken,
            },
            None => None,
        };
        let timed = window.is_some();
        let Some(logic) = l.fe.iterate(&Self::INFO, step, &schema, window) else {
            return Applied::Broken;
        };
        let out = Arc::new(match &logic {
            IterateLogic::Statements(def) => Schema::record(def.output.clone()),
            IterateLogic::Program(p) => Schema::rust(p.output.clone()),
        });
        let node = l.add_node(Operator::new(Iterate { logic }), out, &F::step_span(step));
        l.connect(&input, node, 0);
        // Each round's state goes into the next: the loop graphs draw.
        l.feedback(node, node);
        // Results per window carry `window_end - 1`; at the end of a bounded input, none.
        Applied::Stream(Stream::new(node, timed))
    }
}

/// The window an iteration runs over, one at a time: tumbling or sliding, on event
/// time, run once when the watermark passes its end (a record after that is late: counted
/// and reported), over all its records (not per key).
fn per_window<F: FrontEnd>(
    l: &mut Lowering<F>,
    w: &PendingWindow<F::Span>,
    input: &Stream<F::Span>,
) -> Option<WindowKind> {
    let refuse = |l: &mut Lowering<F>, message: &str, at: &F::Span, label: &str, help: &str| {
        l.report(Diagnostic::error(message, at.clone(), label).with_help(help));
        None
    };
    if !matches!(w.kind, WindowKind::Tumbling { .. } | WindowKind::Sliding { .. }) {
        return refuse(l, "an iteration runs over tumbling or sliding windows", &w.kind_span, "this window", "use `tumbling D` or `sliding D every P`");
    }
    if w.time == TimeDomain::ProcessingTime {
        return refuse(l, "an iteration over windows runs on event time", &w.span, "processing time", "drop `processing_time`, and declare event time on the source");
    }
    if w.lateness > 0 || w.late.is_some() {
        return refuse(l, "an iteration over a window runs once, when the watermark passes the window's end: it takes no late data options, and counts and reports its late records", &w.span, "late data option", "drop `allowed_lateness` and `late -> ...`");
    }
    if !input.timed {
        return refuse(l, "the stream has no event time, and an iteration's windows are in event time", &w.span, "no event time", &format!("add `{}` to its source", F::event_time_form()));
    }
    if input.key.is_some() {
        return refuse(l, "an iteration runs over all of a window's records, not per key", &w.span, "after `key_by`", "drop the `key_by`: the rounds see every record of the window");
    }
    Some(w.kind)
}

impl OperatorNode for Iterate {
    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    fn order_sensitive(&self) -> bool {
        // Records: sums in their order, and `position`. A graph runs on every worker, each
        // its vertices; only float sums may add up in another order.
        !self.logic.is_graph()
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = match &self.logic {
            IterateLogic::Statements(def) => def,
            IterateLogic::Program(p) => return program::describe(p, f),
        };
        // The head and what the rounds keep; the statements are in the program.
        let mut head = Vec::new();
        if let IterationShape::Graph {
            ends, undirected, ..
        } = &d.shape
        {
            let way = if *undirected { " undirected" } else { "" };
            head.push(format!("graph {} -> {}{way}", ends.0, ends.1));
        }
        if let Some(r) = d.rounds {
            head.push(format!("rounds {r}"));
        }
        if let Some(u) = &d.until {
            head.push(format!("until {u}"));
        }
        if let Some(w) = &d.window {
            write!(f, "window({w}) |> ")?;
        }
        f.write_str("iterate(")?;
        write!(f, "{}) {{ ", head.join(", "))?;
        for s in &d.model {
            match &s.kind {
                StateVarKind::Scalar(t, _) => write!(f, "state {}: {t}; ", s.name)?,
                StateVarKind::List(t) => write!(f, "list {}: {t}; ", s.name)?,
                StateVarKind::Map(k, v) => write!(f, "map {}: {k} -> {v}; ", s.name)?,
            }
        }
        for v in &d.vertex_values {
            write!(f, "vertex {}: {}; ", v.name, v.ty)?;
        }
        if let Some(m) = &d.message {
            write!(f, "message {}: {} = {}; ", m.name, m.ty, m.combine.name())?;
        }
        for a in &d.aggregates {
            match &a.key {
                Some(k) => write!(f, "aggregate {}: {k} -> {} = {}; ", a.name, a.ty, a.combine.name())?,
                None => write!(f, "aggregate {}: {} = {}; ", a.name, a.ty, a.combine.name())?,
            }
        }
        f.write_str("}")
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        let def = match &self.logic {
            IterateLogic::Statements(def) => def,
            IterateLogic::Program(p) => return program::check(p, plan, n),
        };
        if plan.graph[n].schema.fields != def.output {
            return Err("its output schema is not the shape of its emits".into());
        }
        let input = plan
            .input_schema(n, 0)
            .ok_or("it has no input")?;
        let width = match &def.shape {
            IterationShape::Records { fields } => {
                if input.fields != *fields {
                    return Err("its records are not its input's".into());
                }
                fields.len()
            }
            IterationShape::Graph { src, dst, columns, .. } => {
                let at = |i: usize| input.fields.get(i).map(|f| &f.ty);
                if at(*src) != Some(&crate::ir::Type::U64) || at(*dst) != Some(&crate::ir::Type::U64) {
                    return Err("its edges' ends are not u64 fields of its input".into());
                }
                2 + columns.len()
            }
        };
        if width * 8 > weir_runtime::memory::DEFAULT_PAGE_SIZE {
            return Err("a record does not fit a page".into());
        }
        Ok(())
    }

    fn memory(&self, _plan: &Plan, _n: NodeIndex) -> Option<MemoryDemand> {
        Some(MemoryDemand {
            weight: WEIGHT,
            min_pages: MIN_PAGES,
        })
    }

    fn spill(&self, _plan: &Plan, _n: NodeIndex) -> Result<(), &'static str> {
        if self.logic.is_graph() {
            return Err("a graph iteration keeps its graph in memory: every round reads its edges in any order");
        }
        // Records are read front to back each round: from disk too.
        Ok(())
    }

    fn closures(&self) -> Vec<&RustFn> {
        match &self.logic {
            IterateLogic::Statements(_) => Vec::new(),
            IterateLogic::Program(p) => p.graph.iter().map(|(f, _)| f).chain([&p.program]).collect(),
        }
    }
}

impl OperatorCode for Iterate {
    fn fields(&self, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
        match &self.logic {
            IterateLogic::Statements(def) => codegen::fields(def, g, n),
            IterateLogic::Program(p) => program::fields(p, g, n),
        }
    }

    fn push(&self, g: &Gen<'_>, n: NodeIndex, _port: usize, input: &Ident) -> TokenStream {
        match &self.logic {
            IterateLogic::Statements(def) => codegen::push(def, g, n, input),
            IterateLogic::Program(p) => program::push(p, g, n, input),
        }
    }

    fn methods(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        match &self.logic {
            IterateLogic::Statements(def) => codegen::methods(def, g, n),
            IterateLogic::Program(p) => program::methods(p, g, n),
        }
    }

    fn receive_round(&self, _g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        codegen::receive_round(n)
    }

    fn on_watermark(&self, _g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        match self.logic.window() {
            Some(_) => windows::on_watermark(n),
            None => TokenStream::new(),
        }
    }

    fn finish(&self, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
        match self.logic.window() {
            Some(_) => windows::finish(g, n),
            None => codegen::finish(self.logic.is_graph(), n),
        }
    }
}
