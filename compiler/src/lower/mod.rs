//! The shared lowering: what both front-ends do once they have read a step's syntax.
//!
//! A front-end (`.pipe` in `crate::check`, `stream!` in `crate::inline`) parses its syntax
//! and implements [`FrontEnd`]: how to read each shape of step argument (a condition, a
//! key, a record, aggregates, a window, stream names, a sink) against the input's schema.
//! Everything else is here and in the operators' `lower` functions (`crate::ops`), written
//! once for both: stream names and their uses, the order rules of a pipeline (a window
//! waits for its `aggregate`, nothing follows a sink), keys, event time, side outputs,
//! nodes and edges. So the two front-ends cannot disagree about a rule.

pub(crate) mod expr_types;
mod files;
mod front;
mod function_types;
mod iterate_declarations;
mod iterate_scope;
mod iterate_statements;
pub(crate) mod iterate_types;
mod nexmark;
mod process_collections;
mod process_scope;
pub(crate) mod process_types;
mod source_options;
mod source_time;
mod stream;

pub use front::{
    FrontEnd, IntervalSpec, KnownStep, OverlapSpec, ProcessInput, RecordArg, RecordRole, SinkSpec,
};
pub use nexmark::{
    nexmark_options, nexmark_schema, nexmark_spec, nexmark_watermark, NexmarkSetting, NEXMARK_FORMS,
};
pub use source_options::{
    source_options, OptionForms, SourceOption, SourceSettings, WrittenOption, SOURCE_OPTIONS,
    TIME_UNIT_FORMS,
};
pub use source_time::source_event_time;
pub use stream::{Applied, Flow, PendingWindow, Stream};

use std::collections::HashMap;
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::diagnostics::did_you_mean;
use crate::diagnostics::{Diagnostic, SourceFile};
use crate::ir::{Edge, KeySpec, Node, Operator, Partitioning, Plan, Schema, SourceOp};
use crate::ops::api::OpInfo;

/// A name given to a stream, and whether anything used it.
struct Binding<S> {
    /// `None` when the definition had an error: uses of it are not reported again.
    value: Option<Stream<S>>,
    span: S,
    used: bool,
    /// A side output (`late -> name`): its records would vanish unused, so that is an error.
    side_output: bool,
}

/// One lowering in progress: the graph so far, the names in scope, the diagnostics.
pub struct Lowering<F: FrontEnd> {
    /// The front-end, for reading step arguments; it holds the diagnostics.
    pub fe: F,
    graph: DiGraph<Node, Edge>,
    streams: HashMap<String, Binding<F::Span>>,
    order: Vec<String>,
    sinks: HashMap<String, F::Span>,
    /// Where each node is written, by node index.
    spans: Vec<F::Span>,
    /// A statement did not parse (reported by the parser): what is missing may be in it.
    unparsed: bool,
}

impl<F: FrontEnd> Lowering<F> {
    /// An empty lowering reading steps with `fe`.
    pub fn new(fe: F) -> Self {
        Lowering {
            fe,
            graph: DiGraph::new(),
            streams: HashMap::new(),
            order: Vec::new(),
            sinks: HashMap::new(),
            spans: Vec::new(),
            unparsed: false,
        }
    }

    /// Reports `d`; the step it is about is abandoned.
    pub fn report(&mut self, d: Diagnostic<F::Span>) -> Applied<F::Span> {
        self.fe.diagnostics().push(d);
        Applied::Broken
    }

    /// The graph so far.
    pub fn graph(&self) -> &DiGraph<Node, Edge> {
        &self.graph
    }

    /// Names a stream (`let`, a source); a name is given once.
    pub fn bind(&mut self, name: &str, span: F::Span, value: Option<Stream<F::Span>>) {
        self.bind_as(name, span, value, false);
    }

    /// Names a side output (`late -> name`), which must be used.
    pub fn bind_side_output(&mut self, name: &str, span: F::Span, value: Stream<F::Span>) {
        self.bind_as(name, span, Some(value), true);
    }

    fn bind_as(
        &mut self,
        name: &str,
        span: F::Span,
        value: Option<Stream<F::Span>>,
        side_output: bool,
    ) {
        if let Some(prev) = self.streams.get(name) {
            let first = prev.span.clone();
            self.fe.diagnostics().push(
                Diagnostic::error(
                    format!("`{name}` is already defined"),
                    span,
                    "defined again here",
                )
                .with_related(first, "first defined here")
                .with_help("give each stream its own name"),
            );
            return;
        }
        self.order.push(name.to_string());
        let value = value.map(|v| Stream {
            name: Some(name.to_string()),
            records_of: Some(name.to_string()),
            ..v
        });
        self.streams.insert(
            name.to_string(),
            Binding {
                value,
                span,
                used: false,
                side_output,
            },
        );
    }

    /// The stream named `name`, counted as used; `None` (reported) when undefined, or
    /// when its definition had an error.
    pub fn use_stream(&mut self, name: &str, span: &F::Span) -> Option<Stream<F::Span>> {
        if let Some(b) = self.streams.get_mut(name) {
            b.used = true;
            return b.value.clone();
        }
        let d = Diagnostic::error(
            format!("undefined stream `{name}`"),
            span.clone(),
            "no source or `let` defines this name before here",
        )
        .with_help_opt(did_you_mean(name, self.order.iter().map(String::as_str)));
        self.fe.diagnostics().push(d);
        None
    }

    /// A statement that did not parse (the parser reported it), which defines `defines`
    /// and names `mentions`: the stream it defines is broken (its uses are not reported
    /// again), the streams it names count as used, and what the job lacks (a sink) may be
    /// in it, so that is not reported either.
    pub fn unparsed_statement(&mut self, defines: Option<(&str, F::Span)>, mentions: &[String]) {
        self.unparsed = true;
        for name in mentions {
            if let Some(b) = self.streams.get_mut(name) {
                b.used = true;
            }
        }
        if let Some((name, span)) = defines {
            self.bind(name, span, None);
        }
    }

    /// Adds source `op` with records of `schema`, written at `span`.
    pub fn source(&mut self, op: SourceOp, schema: Arc<Schema>, span: &F::Span) -> Stream<F::Span> {
        let timed = op.event_time.is_some();
        let node = self.add_node(Operator::new(op), schema, span);
        Stream::new(node, timed)
    }

    /// Applies `steps` to `head` in order.
    pub fn pipeline(&mut self, head: Stream<F::Span>, steps: &[F::Step]) -> Flow<F::Span> {
        let mut value = Some(head);
        let mut sunk: Option<F::Span> = None;
        // After an error in a step whose output is its input's records, the later steps
        // are still checked (so one run reports them all), but the pipeline is broken.
        let mut broken = false;
        for step in steps {
            let (name, name_span) = F::step_name(step);
            let Some(current) = value.take() else {
                let mut d =
                    Diagnostic::error("nothing can follow a sink", name_span, "after the sink");
                if let Some(at) = &sunk {
                    d = d.with_related(at.clone(), "the sink ends the pipeline here");
                }
                self.fe.diagnostics().push(d);
                return Flow::Broken;
            };
            let Some(info) = F::info(&name) else {
                self.unknown_step(&name, name_span);
                return Flow::Broken;
            };
            if let Some(w) = &current.window {
                if !info.completes_window {
                    let d = Diagnostic::error(
                        format!("a window must be followed by {}", F::window_completers()),
                        name_span,
                        format!("`{name}` here"),
                    )
                    .with_related(w.span.clone(), "the window")
                    .with_help(format!(
                        "write `|> window(...) |> {}`",
                        F::form(F::known(KnownStep::Aggregate))
                    ));
                    self.fe.diagnostics().push(d);
                    return Flow::Broken;
                }
            }
            if let (Some(made), false) = (&current.updates, info.takes_updates) {
                let d = Diagnostic::error(
                    format!("`{name}` needs every row to stand, and {} is updating", current.describe()),
                    name_span,
                    format!("`{name}` here"),
                )
                .with_related(made.clone(), "each row of this step replaces its key's earlier row")
                .with_help("an updating stream goes to `rolling` (which takes back the rows its `-U` and `-D` rows replace), `filter`, a `map` that keeps `op`, `key_by` or a sink");
                self.fe.diagnostics().push(d);
                return Flow::Broken;
            }
            let input = info.passes_records.then(|| Stream {
                window: None,
                name: None,
                ..current.clone()
            });
            match F::lower_step(self, info, current, step) {
                Some(Applied::Stream(v)) => value = Some(v),
                Some(Applied::Sunk) => sunk = Some(name_span),
                Some(Applied::Broken) => match input {
                    Some(input) => {
                        broken = true;
                        value = Some(input);
                    }
                    None => return Flow::Broken,
                },
                None => {
                    self.unknown_step(&name, name_span);
                    return Flow::Broken;
                }
            }
        }
        match value {
            _ if broken => Flow::Broken,
            Some(v) => Flow::Stream(v),
            None => Flow::Sunk,
        }
    }

    /// Reports `other`, named `name` at `at` as the other input of `step`, when it is an
    /// updating stream, which only `rolling` takes; `true` when it is not.
    pub fn insert_only(
        &mut self,
        other: &Stream<F::Span>,
        step: &str,
        (name, at): (&str, &F::Span),
    ) -> bool {
        let Some(made) = &other.updates else {
            return true;
        };
        let d = Diagnostic::error(
            format!("`{step}` needs every row of `{name}` to stand, and it is updating"),
            at.clone(),
            "an updating stream",
        )
        .with_related(
            made.clone(),
            "each row of this step replaces its key's earlier row",
        );
        self.fe.diagnostics().push(d);
        false
    }

    fn unknown_step(&mut self, name: &str, span: F::Span) {
        let steps = F::step_names();
        let d = Diagnostic::error(
            format!("unknown operator `{name}`"),
            span,
            "not an operator",
        )
        .with_help(format!("the operators are {}", steps.join(", ")))
        .with_help_opt(F::unknown_step_help(name))
        .with_help_opt(did_you_mean(name, steps.iter().copied()));
        self.fe.diagnostics().push(d);
    }

    /// Ends `let name = ...`: names the stream, or reports that a sink left none.
    pub fn end_let(&mut self, name: &str, span: F::Span, flow: Flow<F::Span>) {
        let value = match flow {
            Flow::Stream(v) => Some(v),
            Flow::Sunk => {
                self.fe.diagnostics().push(
                    Diagnostic::error(
                        format!("`{name}` names a pipeline that ends in a sink"),
                        span.clone(),
                        "a sink has no output stream to name",
                    )
                    .with_help(
                        "drop the `let`, or move the sink to a statement that uses this stream",
                    ),
                );
                None
            }
            Flow::Broken => None,
        };
        self.bind(name, span, value);
    }

    /// Ends a pipeline statement written at `span`: its result must go somewhere.
    pub fn end_statement(&mut self, flow: Flow<F::Span>, span: F::Span) {
        let Flow::Stream(v) = flow else { return };
        match v.window {
            Some(w) => self.fe.diagnostics().push(
                Diagnostic::error(
                    format!("a window must be followed by {}", F::window_completers()),
                    w.span,
                    "this window computes nothing",
                )
                .with_help(format!(
                    "write `|> window(...) |> {}`",
                    F::form(F::known(KnownStep::Aggregate))
                )),
            ),
            None => self.fe.diagnostics().push(
                Diagnostic::warning(
                    "the result of this pipeline is never used",
                    span,
                    "this stream goes nowhere",
                )
                .with_help(format!(
                    "end it with a sink (`{}`), or name it with `let`",
                    F::form(F::known(KnownStep::Sink))
                )),
            ),
        }
    }

    /// The plan, when nothing is wrong; the front-end, with every diagnostic, either way.
    pub fn finish(
        mut self,
        name: String,
        file: SourceFile,
        no_sink_at: F::Span,
    ) -> (Option<Plan>, F) {
        for name in &self.order {
            let b = &self.streams[name];
            if !b.used && b.side_output {
                self.fe.diagnostics().push(
                    Diagnostic::error(
                        format!("the late records go to `{name}`, which is never used, so they would vanish"),
                        b.span.clone(),
                        "never used",
                    )
                    .with_help(format!(
                        "send them somewhere (`{name} |> ...` ending in a sink), or drop `late -> {name}` to have them counted"
                    )),
                );
            } else if !b.used && b.value.is_some() {
                self.fe.diagnostics().push(
                    Diagnostic::warning(
                        format!("stream `{name}` is never used"),
                        b.span.clone(),
                        "defined here, used nowhere",
                    )
                    .with_help("use it in a pipeline, or remove it"),
                );
            }
        }
        self.check_files();
        let has_sink = self
            .graph
            .node_weights()
            .any(|n| n.op.info().name == F::known(KnownStep::Sink).name);
        // A pipeline that lost its sink to an error above says so already.
        if !has_sink && !self.failed() && !self.unparsed {
            self.fe.diagnostics().push(
                Diagnostic::error(
                    "the pipeline has no sink, so it would compute nothing",
                    no_sink_at,
                    "no sink anywhere",
                )
                .with_help(format!(
                    "end a pipeline with a sink: `{}`",
                    F::form(F::known(KnownStep::Sink))
                )),
            );
        }
        self.fe.finish_graph(&self.graph);
        if self.failed() {
            return (None, self.fe);
        }
        let plan = Plan {
            name,
            file,
            graph: self.graph,
            chains: Vec::new(),
            physical: None,
            rust: None,
        };
        (Some(plan), self.fe)
    }

    /// Whether anything reported so far stops the compilation.
    fn failed(&mut self) -> bool {
        let d = self.fe.diagnostics();
        match F::WARNINGS_ARE_ERRORS {
            true => !d.is_empty(),
            false => d.has_errors(),
        }
    }

    /// The schema of the records on `s`.
    pub fn schema_of(&self, s: &Stream<F::Span>) -> Arc<Schema> {
        crate::ir::output_schema(&self.graph, s.node, s.port)
    }

    /// Adds a node for `op` with output `schema`, written at `span`.
    pub fn add_node(&mut self, op: Operator, schema: Arc<Schema>, span: &F::Span) -> NodeIndex {
        self.spans.push(span.clone());
        let (span, location) = self.fe.place(span);
        let state = op.info().state;
        self.graph.add_node(Node {
            op,
            schema,
            state,
            span,
            location,
            chain: None,
            memory: None,
            uid: None,
        })
    }

    /// Names node `n` (what stream `of` carries) `name` for savepoints (a `uid` step at
    /// `at`): refused when it keeps no state, is named already, or another node has the
    /// name.
    pub fn name_node(&mut self, n: NodeIndex, of: &str, name: &str, at: &F::Span) -> bool {
        let node = &self.graph[n];
        let problem = if node.state == crate::ir::StateKind::Stateless {
            Some((
                format!("`uid` names a stateful operator, and {of} comes from `{}`, which keeps no state", node.op.kind()),
                "nothing to name",
            ))
        } else if let Some(given) = &node.uid {
            Some((
                format!("{of} comes from an operator already named `{given}`"),
                "named twice",
            ))
        } else if self
            .graph
            .node_weights()
            .any(|o| o.uid.as_deref() == Some(name))
        {
            Some((
                format!("another operator is named `{name}`: savepoints would not tell them apart"),
                "a name used twice",
            ))
        } else {
            None
        };
        if let Some((message, label)) = problem {
            self.report(Diagnostic::error(message, at.clone(), label));
            return false;
        }
        self.graph[n].uid = Some(name.to_string());
        true
    }

    /// Connects `from` to input `port` of `to`: hash-partitioned when `from` is keyed.
    pub fn connect(&mut self, from: &Stream<F::Span>, to: NodeIndex, port: usize) {
        let partitioning = match &from.key {
            Some(k) => Partitioning::Hash(k.partition_names(&self.schema_of(from))),
            None => Partitioning::Forward,
        };
        let edge = Edge {
            kind: crate::ir::EdgeKind::Stream,
            partitioning,
            from_port: from.port,
            port,
        };
        self.graph.add_edge(from.node, to, edge);
    }

    /// Adds a feedback edge from `from` back to `to` (an iteration's, to itself): left out
    /// of the graph's order and of the nodes' inputs and outputs, drawn as a loop.
    pub fn feedback(&mut self, from: NodeIndex, to: NodeIndex) {
        let edge = Edge {
            kind: crate::ir::EdgeKind::Feedback,
            partitioning: Partitioning::Forward,
            from_port: 0,
            port: 0,
        };
        self.graph.add_edge(from, to, edge);
    }

    /// Adds a one-input operator fed by `input` whose records keep their event time.
    pub fn one_input(
        &mut self,
        input: &Stream<F::Span>,
        op: Operator,
        schema: Arc<Schema>,
        span: &F::Span,
    ) -> Applied<F::Span> {
        let node = self.add_node(op, schema, span);
        self.connect(input, node, 0);
        // Only steps that take updating streams get one (`filter`), and keep it so.
        Applied::Stream(Stream {
            updates: input.updates.clone(),
            ..Stream::new(node, input.timed)
        })
    }

    /// The key of `input`, or a report that `info`'s operator needs a keyed stream.
    pub fn require_key(
        &mut self,
        input: &Stream<F::Span>,
        info: &OpInfo,
        step: &F::Step,
    ) -> Option<KeySpec> {
        if let Some(k) = &input.key {
            return Some(k.clone());
        }
        let (name, span) = F::step_name(step);
        let key_by = F::form(F::known(KnownStep::KeyBy));
        let mut d = Diagnostic::error(
            format!("`{name}` needs a keyed stream"),
            span,
            "the input is not keyed",
        );
        // A window's aggregate or join is per key: the key comes before the window.
        d = match &input.window {
            Some(w) => d
                .with_related(w.span.clone(), "each key's windows")
                .with_help(format!("add `|> {key_by}` before `window`")),
            None => d.with_help(format!("add `|> {key_by}` before `{}`", info.name)),
        };
        self.fe.diagnostics().push(d);
        None
    }

    /// Registers sink `name`; reports a second sink of the same name.
    pub fn claim_sink_name(&mut self, name: &str, span: F::Span) -> bool {
        if let Some(first) = self.sinks.get(name) {
            let d = Diagnostic::error(
                format!("two sinks are named `{name}`"),
                span,
                "second sink with this name",
            )
            .with_related(first.clone(), "first sink with this name")
            .with_help(F::sink_naming_help());
            self.fe.diagnostics().push(d);
            return false;
        }
        self.sinks.insert(name.to_string(), span);
        true
    }
}

#[cfg(test)]
mod tests;
