//! `uid`: names the stateful operator before it, so that a savepoint knows its state by
//! that name whatever else changes in the pipeline (docs/checkpoints.md, *Savepoints*).
//! Without one, an operator's identity is derived from its kind, key, sources and sinks
//! (`codegen/identity.rs`).
//!
//! `.pipe`: `|> aggregate { … } |> uid(counts)`; `stream!`: the same. It makes no node.

use super::api::{Lower, OpInfo};
use crate::diagnostics::Diagnostic;
use crate::lower::{Applied, FrontEnd, Lowering, Stream};

/// See the module documentation.
pub(crate) struct Uid;

impl Lower for Uid {
    const INFO: OpInfo = OpInfo {
        takes_updates: true,
        ..OpInfo::new("uid", Some("uid(name)"), &["uid(name)"])
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let Some(names) = l.fe.stream_names(&Self::INFO, step) else {
            return Applied::Broken;
        };
        let [(name, at)] = names.as_slice() else {
            return l.report(
                Diagnostic::error(
                    "`uid` takes one name",
                    F::step_span(step),
                    format!("{} names", names.len()),
                )
                .with_help(format!("write `{}`", F::form(&Self::INFO))),
            );
        };
        if l.name_node(input.node, &input.describe(), name, at) {
            Applied::Stream(input)
        } else {
            Applied::Broken
        }
    }
}
