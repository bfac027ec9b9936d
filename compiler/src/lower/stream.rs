//! Streams as the lowering sees them, and what applying a step gives.

use petgraph::graph::NodeIndex;

use crate::ir::{KeySpec, TimeDomain, WindowKind};

/// A stream: the node and output port making its records, and what the next step may rely
/// on.
#[derive(Debug, Clone)]
pub struct Stream<S> {
    /// The node producing the records.
    pub node: NodeIndex,
    /// Its output port (1 for a window's late records).
    pub port: usize,
    /// What `key_by` keyed it by, until an operator uses the key.
    pub key: Option<KeySpec>,
    /// Whether records carry event time.
    pub timed: bool,
    /// A `window(...)` waiting for its `aggregate`.
    pub window: Option<PendingWindow<S>>,
    /// The name it was used by, while no step has changed it (for messages).
    pub name: Option<String>,
    /// The named stream whose records these still are, through steps that keep them
    /// (`key_by`, a pending `window`): what a join calls this side (`orders.id`).
    pub records_of: Option<String>,
    /// For an updating stream (a `rolling` aggregate's changelog, its `op` column saying
    /// which rows add and which take back): where the step that made it is written.
    pub updates: Option<S>,
}

impl<S> Stream<S> {
    /// The unkeyed results (port 0) of `node`.
    pub fn new(node: NodeIndex, timed: bool) -> Self {
        Stream {
            node,
            port: 0,
            key: None,
            timed,
            window: None,
            name: None,
            records_of: None,
            updates: None,
        }
    }

    /// How messages call the stream: by its name, or as the input of the step.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(n) => format!("`{n}`"),
            None => "the input".into(),
        }
    }
}

/// `window(...)` as read, until the `aggregate` that completes it.
#[derive(Debug, Clone)]
pub struct PendingWindow<S> {
    /// Which windows.
    pub kind: WindowKind,
    /// Event or processing time.
    pub time: TimeDomain,
    /// Allowed lateness in ms.
    pub lateness: i64,
    /// `late -> name`: the side output's name and where it is written.
    pub late: Option<(String, S)>,
    /// The whole `window(...)` step.
    pub span: S,
    /// The window kind's phrase (`tumbling 10s`).
    pub kind_span: S,
}

/// What applying one step gives.
// Short-lived and passed by value once per step: boxing the stream would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Applied<S> {
    /// A new stream.
    Stream(Stream<S>),
    /// The stream was written to a sink.
    Sunk,
    /// An error was reported.
    Broken,
}

/// What a whole pipeline leaves behind.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Flow<S> {
    /// A stream, to name or to report as unused.
    Stream(Stream<S>),
    /// It ended in a sink.
    Sunk,
    /// It had an error (already reported).
    Broken,
}
