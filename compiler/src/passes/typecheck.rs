//! The type-check pass: verifies that the graph is well typed whichever front-end built it.
//!
//! Front-ends type expressions as they lower them; this pass checks the graph they made
//! against the invariants the code generator relies on: each node's ports are connected as
//! its table entry says, its state kind is its operator's, and the operator's own type rules
//! hold (its `check` hook: field references match the input schema, output schemas match
//! what it computes, keyed operators receive input hash-partitioned on their key). A
//! failure here is a compiler bug, reported at the operator's place.

use petgraph::graph::NodeIndex;

use super::Pass;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::ir::Plan;

/// See the module documentation.
pub struct TypeCheckPass;

impl Pass for TypeCheckPass {
    fn name(&self) -> &'static str {
        "type check"
    }

    fn run(&self, plan: &mut Plan) -> Diagnostics {
        let mut out = Diagnostics::new();
        for n in plan.graph.node_indices() {
            if let Err(problem) =
                check_ports(plan, n).and_then(|()| plan.graph[n].op.def().check(plan, n))
            {
                let node = &plan.graph[n];
                out.push(Diagnostic::error(
                    format!("internal compiler error in `{}`: {problem}", node.op.kind()),
                    node.span.clone(),
                    "while checking this operator",
                ));
            }
        }
        out
    }
}

/// The rules every operator shares, from its table entry: how many inputs, which output
/// ports feed others, and its state kind.
fn check_ports(plan: &Plan, n: NodeIndex) -> Result<(), String> {
    let node = &plan.graph[n];
    let info = node.op.info();
    let inputs = plan.inputs(n);
    let (least, most) = info.inputs;
    if inputs.len() < least || inputs.len() > most {
        return Err(format!("it has {} inputs", inputs.len()));
    }
    if inputs.iter().enumerate().any(|(i, (_, e))| e.port != i) {
        return Err("its input ports are not numbered 0, 1, ...".into());
    }
    if let Some((_, e)) = plan
        .all_outputs(n)
        .into_iter()
        .find(|(_, e)| e.from_port >= info.outputs)
    {
        return Err(format!("it has no output port {}", e.from_port));
    }
    if node.state != info.state {
        return Err(format!("its state kind is {:?}", node.state));
    }
    Ok(())
}
