//! The type-check pass: verifies that the graph is well typed whichever front-end built it.
//!
//! Front-ends type expressions as they lower them; this pass checks the graph they made
//! against the invariants the code generator relies on: each node's ports are connected as
//! its table entry says, its state kind is its operator's, and the operator's own type rules
//! hold (its `check` hook: field references match the input schema, output schemas match
//! what it computes, keyed operators receive input hash-partitioned on their key). A
//! failure here is a compiler bug, reported at the operator's place.

use std::sync::Arc;

use petgraph::graph::NodeIndex;

use super::Pass;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::ir::{Plan, RustFn, Schema, TExpr, TExprKind};

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

/// The schema of the records on input `port` of `n`.
pub(crate) fn input_of(plan: &Plan, n: NodeIndex, port: usize) -> Result<Arc<Schema>, String> {
    plan.input_schema(n, port)
        .ok_or_else(|| format!("its input {port} is not connected"))
}

/// Records of `a` and `b` are of one type (for inline records, once the types the
/// front-end unified are resolved).
pub(crate) fn same(plan: &Plan, a: &Schema, b: &Schema) -> Result<(), String> {
    let resolved = |s: &Schema| match (&plan.rust, &s.rust) {
        (Some(code), Some(t)) => Some(code.resolve(t)),
        (_, t) => t.clone(),
    };
    if a.same_fields(b) && resolved(a) == resolved(b) {
        Ok(())
    } else {
        Err(format!(
            "schema {} differs from {}",
            a.describe(),
            b.describe()
        ))
    }
}

/// Closure `r` takes the records of `input` (by reference when `by_ref`).
pub(crate) fn closure_takes(r: &RustFn, input: &Schema, by_ref: bool) -> Result<(), String> {
    let Some(ty) = &input.rust else {
        return Err("a closure reads records that are not Rust values".into());
    };
    let want = if by_ref { ty.by_ref() } else { ty.clone() };
    if r.inputs.as_deref() != Some(std::slice::from_ref(&want)) {
        return Err("its closure does not take the input records".into());
    }
    Ok(())
}

/// Every field reference of `e` names the input field at its index with that field's type.
pub(crate) fn expr_fits(e: &TExpr, input: &Schema) -> Result<(), String> {
    match &e.kind {
        TExprKind::Lit(_) => Ok(()),
        TExprKind::Field(i, name) => match input.fields.get(*i) {
            Some(f) if f.name == *name && f.ty == e.ty => Ok(()),
            _ => Err(format!("field reference `{name}` does not match the input")),
        },
        TExprKind::Unary(_, a) | TExprKind::Cast(a) => expr_fits(a, input),
        TExprKind::Binary(_, a, b) => {
            expr_fits(a, input)?;
            expr_fits(b, input)
        }
        TExprKind::If(c, a, b) => {
            expr_fits(c, input)?;
            expr_fits(a, input)?;
            expr_fits(b, input)
        }
        TExprKind::Call(_, args) => args.iter().try_for_each(|a| expr_fits(a, input)),
    }
}
