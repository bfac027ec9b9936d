//! Semantic analysis: a syntax tree becomes a typed operator graph, or diagnostics.
//!
//! Names are resolved in statement order (a stream can use only streams defined before it,
//! so the graph is acyclic by construction). Every statement is checked even after an error,
//! so one run reports every mistake; a stream whose definition failed is remembered as
//! broken, so its uses do not repeat the error.

mod operators;
pub(crate) mod sinks;
mod sources;
pub(crate) mod spelling;
mod types;
mod windows;

use std::collections::HashMap;
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use crate::ir::{Edge, Field, Node, Operator, Partitioning, Plan, Schema, StateKind, Type};
use crate::parse::ast::{Item, Pipeline, Program, SchemaDecl, Span};
pub use spelling::did_you_mean;

/// Parses and checks `file`. Returns the logical plan when there is no error, and every
/// diagnostic (warnings too) either way.
pub fn check(file: &SourceFile) -> (Option<Plan>, Diagnostics) {
    match crate::parse::parse(&file.text) {
        Ok(program) => check_program(file, &program),
        Err(d) => (None, d),
    }
}

/// Checks a parsed program.
pub fn check_program(file: &SourceFile, program: &Program) -> (Option<Plan>, Diagnostics) {
    let mut c = Checker {
        file,
        diagnostics: Diagnostics::new(),
        graph: DiGraph::new(),
        schemas: HashMap::new(),
        streams: HashMap::new(),
        order: Vec::new(),
        sinks: HashMap::new(),
    };
    for item in &program.items {
        if let Item::Schema(s) = item {
            c.schema(s);
        }
    }
    for item in &program.items {
        match item {
            Item::Schema(_) => {}
            Item::Source(s) => {
                let value = c.source(s);
                c.bind(&s.name.name, s.name.span.clone(), value);
            }
            Item::Let(l) => {
                let flow = c.pipeline(&l.pipeline);
                let value = match flow {
                    Flow::Stream(v) => Some(v),
                    Flow::Sunk => {
                        c.diagnostics.push(Diagnostic::error(
                            format!("`{}` names a pipeline that ends in a sink", l.name.name),
                            l.name.span.clone(),
                            "a sink has no output stream to name",
                        ).with_help("drop the `let`, or move the sink to a statement that uses this stream"));
                        None
                    }
                    Flow::Broken => None,
                };
                c.bind(&l.name.name, l.name.span.clone(), value);
            }
            Item::Pipeline(p) => {
                let flow = c.pipeline(p);
                if let Flow::Stream(_) = c.unfinished_window(flow) {
                    c.diagnostics.push(
                        Diagnostic::warning(
                            "the result of this pipeline is never used",
                            p.span.clone(),
                            "this stream goes nowhere",
                        )
                        .with_help("end it with `|> sink stdout()`, or name it with `let`"),
                    );
                }
            }
        }
    }
    c.warn_unused();
    let has_sink = c
        .graph
        .node_weights()
        .any(|n| matches!(n.op, Operator::Sink(_)));
    if !has_sink && !c.diagnostics.has_errors() {
        c.diagnostics.push(Diagnostic::error(
            "the pipeline has no sink, so it would compute nothing",
            0..file.text.len().min(1),
            "no `|> sink ...` anywhere",
        ));
    }
    if c.diagnostics.has_errors() {
        return (None, c.diagnostics);
    }
    let plan = Plan {
        name: plan_name(&file.path),
        file: file.clone(),
        graph: c.graph,
        chains: Vec::new(),
        rust: None,
    };
    (Some(plan), c.diagnostics)
}

/// The pipeline's name: the file stem, made a valid identifier.
fn plan_name(path: &str) -> String {
    let stem = std::path::Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("pipeline");
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "job_");
    }
    name
}

/// A stream as a value: the node that produces it, its key if it was keyed, whether its
/// records carry event time, and a window waiting for its `aggregate`.
#[derive(Debug, Clone)]
pub(crate) struct StreamValue {
    node: NodeIndex,
    key: Option<Key>,
    timed: bool,
    window: Option<PendingWindow>,
}

impl StreamValue {
    fn new(node: NodeIndex, timed: bool) -> Self {
        StreamValue {
            node,
            key: None,
            timed,
            window: None,
        }
    }
}

/// `window(...)` as checked, until the `aggregate` that completes it.
#[derive(Debug, Clone)]
struct PendingWindow {
    kind: crate::ir::WindowKind,
    time: crate::ir::TimeDomain,
    lateness: i64,
    late: Option<crate::parse::ast::Ident>,
    span: Span,
}

#[derive(Debug, Clone)]
struct Key {
    fields: Vec<String>,
    indexes: Vec<usize>,
}

/// What a pipeline leaves behind.
enum Flow {
    /// A stream, to name or to warn about.
    Stream(StreamValue),
    /// It ended in a sink.
    Sunk,
    /// It had an error (already reported).
    Broken,
}

struct Binding {
    /// `None` when the definition had an error: uses of it are not reported again.
    value: Option<StreamValue>,
    span: Span,
    used: bool,
}

pub(crate) struct Checker<'f> {
    file: &'f SourceFile,
    diagnostics: Diagnostics,
    graph: DiGraph<Node, Edge>,
    schemas: HashMap<String, (Arc<Schema>, Span)>,
    streams: HashMap<String, Binding>,
    order: Vec<String>,
    sinks: HashMap<String, Span>,
}

impl Checker<'_> {
    fn schema(&mut self, s: &SchemaDecl) {
        if let Some((_, first)) = self.schemas.get(&s.name.name) {
            let first = first.clone();
            self.diagnostics.push(
                Diagnostic::error(
                    format!("schema `{}` is defined twice", s.name.name),
                    s.name.span.clone(),
                    "second definition",
                )
                .with_related(first, "first definition"),
            );
            return;
        }
        let mut fields: Vec<Field> = Vec::new();
        let mut ok = true;
        for (name, ty) in &s.fields {
            if fields.iter().any(|f| f.name == name.name) {
                self.diagnostics.push(Diagnostic::error(
                    format!(
                        "field `{}` appears twice in schema `{}`",
                        name.name, s.name.name
                    ),
                    name.span.clone(),
                    "duplicate field",
                ));
                ok = false;
            }
            match Type::from_name(&ty.name) {
                Some(t) => fields.push(Field {
                    name: name.name.clone(),
                    ty: t,
                }),
                None => {
                    let mut d = Diagnostic::error(
                        format!("unknown type `{}`", ty.name),
                        ty.span.clone(),
                        "not a type",
                    )
                    .with_help("the types are bool, i64, u64, f64, str and timestamp");
                    if let Some(h) =
                        did_you_mean(&ty.name, ["bool", "i64", "u64", "f64", "str", "timestamp"])
                    {
                        d = d.with_help(h);
                    }
                    self.diagnostics.push(d);
                    ok = false;
                }
            }
        }
        if fields.is_empty() && ok {
            self.diagnostics.push(Diagnostic::error(
                format!("schema `{}` has no fields", s.name.name),
                s.name.span.clone(),
                "empty schema",
            ));
        }
        // A broken schema is still registered, so its uses do not report "unknown schema".
        let schema = Schema {
            rust: None,
            name: Some(s.name.name.clone()),
            fields,
        };
        self.schemas
            .insert(s.name.name.clone(), (Arc::new(schema), s.name.span.clone()));
    }

    fn bind(&mut self, name: &str, span: Span, value: Option<StreamValue>) {
        if let Some(prev) = self.streams.get(name) {
            let first = prev.span.clone();
            self.diagnostics.push(
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
        self.streams.insert(
            name.to_string(),
            Binding {
                value,
                span,
                used: false,
            },
        );
    }

    fn pipeline(&mut self, p: &Pipeline) -> Flow {
        let Some(binding) = self.streams.get_mut(&p.head.name) else {
            let mut d = Diagnostic::error(
                format!("undefined stream `{}`", p.head.name),
                p.head.span.clone(),
                "no source or `let` defines this name before here",
            );
            if let Some(h) = did_you_mean(&p.head.name, self.order.iter().map(String::as_str)) {
                d = d.with_help(h);
            }
            self.diagnostics.push(d);
            return Flow::Broken;
        };
        binding.used = true;
        let Some(mut value) = binding.value.clone() else {
            return Flow::Broken;
        };
        let mut sunk = false;
        for op in &p.ops {
            if let Some(w) = &value.window {
                if op.name.name != "aggregate" {
                    self.diagnostics.push(
                        Diagnostic::error(
                            "a window must be followed by `aggregate`",
                            op.span.clone(),
                            "not an aggregate",
                        )
                        .with_related(w.span.clone(), "the window")
                        .with_help("write `|> window(...) |> aggregate { name: count(), ... }`"),
                    );
                    return Flow::Broken;
                }
            }
            if sunk {
                self.diagnostics.push(Diagnostic::error(
                    "nothing can follow a sink",
                    op.span.clone(),
                    "after the sink",
                ));
                return Flow::Broken;
            }
            match self.operator(&value, op) {
                operators::Applied::Stream(v) => value = v,
                operators::Applied::Sunk => sunk = true,
                operators::Applied::Broken => return Flow::Broken,
            }
        }
        if sunk {
            Flow::Sunk
        } else {
            Flow::Stream(value)
        }
    }

    /// Reports a window left without its `aggregate` at the end of a pipeline.
    fn unfinished_window(&mut self, flow: Flow) -> Flow {
        match flow {
            Flow::Stream(v) if v.window.is_some() => {
                let span = v
                    .window
                    .as_ref()
                    .map(|w| w.span.clone())
                    .unwrap_or_default();
                self.diagnostics.push(
                    Diagnostic::error(
                        "a window must be followed by `aggregate`",
                        span,
                        "this window computes nothing",
                    )
                    .with_help("write `|> window(...) |> aggregate { name: count(), ... }`"),
                );
                Flow::Broken
            }
            other => other,
        }
    }

    fn warn_unused(&mut self) {
        for name in &self.order {
            let b = &self.streams[name];
            if !b.used && b.value.is_some() {
                self.diagnostics.push(
                    Diagnostic::warning(
                        format!("stream `{name}` is never used"),
                        b.span.clone(),
                        "defined here, used nowhere",
                    )
                    .with_help("use it in a pipeline, or remove it"),
                );
            }
        }
    }

    /// Marks stream `name` used and returns it; reports it if undefined.
    fn use_stream(&mut self, name: &str, span: &Span) -> Option<StreamValue> {
        match self.streams.get_mut(name) {
            Some(b) => {
                b.used = true;
                b.value.clone()
            }
            None => {
                let mut d = Diagnostic::error(
                    format!("undefined stream `{name}`"),
                    span.clone(),
                    "no source or `let` defines this name before here",
                );
                if let Some(h) = did_you_mean(name, self.order.iter().map(String::as_str)) {
                    d = d.with_help(h);
                }
                self.diagnostics.push(d);
                None
            }
        }
    }

    fn add_node(
        &mut self,
        op: Operator,
        schema: Arc<Schema>,
        state: StateKind,
        span: Span,
    ) -> NodeIndex {
        let location = self.file.location(span.start);
        self.graph.add_node(Node {
            op,
            schema,
            state,
            span,
            location,
            chain: None,
            memory: None,
        })
    }

    fn connect(&mut self, from: &StreamValue, to: NodeIndex, port: usize) {
        let partitioning = match &from.key {
            Some(k) => Partitioning::Hash(k.fields.clone()),
            None => Partitioning::Forward,
        };
        let edge = Edge {
            partitioning,
            port,
            late: false,
        };
        self.graph.add_edge(from.node, to, edge);
    }

    fn schema_of(&self, v: &StreamValue) -> Arc<Schema> {
        self.graph[v.node].schema.clone()
    }
}
