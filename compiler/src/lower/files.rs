//! The files a pipeline reads and writes, checked when it is compiled: no output is also an
//! input or another output, and standard input and output have one user each. Paths are
//! compared as written, cleaned (`./o.csv` is `o.csv`); the job checks again at start, after
//! `--input`/`--output` and following links (`weir_runtime::io::files`).

use std::path::PathBuf;

use weir_runtime::io::files::lexically_clean;

use super::{FrontEnd, Lowering};
use crate::diagnostics::Diagnostic;
use crate::ir::{InputLocation, OnError, OutputLocation, SinkOp, SourceOp};

/// One use of a file: who, how, which file (`None`: a std stream), and the node.
struct Use {
    who: String,
    writes: bool,
    stream: &'static str,
    path: Option<PathBuf>,
    shown: String,
    node: usize,
}

impl<F: FrontEnd> Lowering<F> {
    /// Reports every output that is also an input or another output.
    pub(super) fn check_files(&mut self) {
        let mut uses: Vec<Use> = Vec::new();
        for n in self.graph.node_indices() {
            let op = &self.graph[n].op;
            if let Some(s) = op.payload::<SourceOp>() {
                let who = format!("source `{}`", s.name);
                match &s.input {
                    InputLocation::Path(p) => uses.push(file(&who, false, p, n.index())),
                    InputLocation::Stdin => {
                        uses.push(stream(&who, false, "standard input", n.index()))
                    }
                    InputLocation::Program | InputLocation::Generated => {}
                }
                if let OnError::DeadLetter(p) = &s.on_error {
                    let who = format!("the dead-letter file of source `{}`", s.name);
                    uses.push(file(&who, true, p, n.index()));
                }
            }
            if let Some(s) = op.payload::<SinkOp>() {
                let who = format!("sink `{}`", s.name);
                match &s.output {
                    OutputLocation::Path(p) => uses.push(file(&who, true, p, n.index())),
                    OutputLocation::Stdout => {
                        uses.push(stream(&who, true, "standard output", n.index()))
                    }
                    OutputLocation::Program => {}
                }
            }
        }
        for (j, b) in uses.iter().enumerate() {
            let Some(a) = uses[..j].iter().find(|a| {
                let same = match (&a.path, &b.path) {
                    (Some(x), Some(y)) => x == y,
                    (None, None) => a.stream == b.stream,
                    _ => false,
                };
                same && (a.writes || b.writes || a.path.is_none())
            }) else {
                continue;
            };
            let what = match (a.writes, b.writes, &b.path) {
                (_, _, None) if !b.writes => "both read standard input".to_string(),
                (_, _, None) => "both write standard output".to_string(),
                (true, true, _) => format!("both write {}", b.shown),
                _ => format!("use {}: the job would overwrite its own input", b.shown),
            };
            let d = Diagnostic::error(
                format!("{} and {} {what}", a.who, b.who),
                self.spans[b.node].clone(),
                "this one",
            )
            .with_related(self.spans[a.node].clone(), "the other")
            .with_help("give each output a file of its own, apart from every input");
            self.fe.diagnostics().push(d);
        }
    }
}

fn file(who: &str, writes: bool, path: &str, node: usize) -> Use {
    Use {
        who: who.to_string(),
        writes,
        stream: "",
        path: Some(lexically_clean(std::path::Path::new(path))),
        shown: format!("`{path}`"),
        node,
    }
}

fn stream(who: &str, writes: bool, name: &'static str, node: usize) -> Use {
    Use {
        who: who.to_string(),
        writes,
        stream: name,
        path: None,
        shown: name.to_string(),
        node,
    }
}
