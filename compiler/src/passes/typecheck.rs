//! The type-check pass: verifies that the graph is well typed whichever front-end built it.
//!
//! Front-ends type expressions as they lower them; this pass checks the graph they made
//! against the invariants the code generator relies on: each operator has the inputs it
//! needs, every field reference matches the input schema, output schemas match what the
//! operator computes, and keyed operators receive hash-partitioned input on their key. A
//! failure here is a compiler bug, reported at the operator's place.

use petgraph::graph::NodeIndex;

use super::Pass;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::ir::{Code, Operator, Partitioning, Plan, Schema, StateKind, TExpr, TExprKind, Type};

/// See the module documentation.
pub struct TypeCheckPass;

impl Pass for TypeCheckPass {
    fn name(&self) -> &'static str {
        "type check"
    }

    fn run(&self, plan: &mut Plan) -> Diagnostics {
        let mut out = Diagnostics::new();
        for n in plan.graph.node_indices() {
            if let Err(problem) = check_node(plan, n) {
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

fn check_node(plan: &Plan, n: NodeIndex) -> Result<(), String> {
    let node = &plan.graph[n];
    let inputs = plan.inputs(n);
    let arity = match node.op {
        Operator::Source(_) => 0..=0,
        Operator::Union => 2..=usize::MAX,
        _ => 1..=1,
    };
    if !arity.contains(&inputs.len()) {
        return Err(format!("it has {} inputs", inputs.len()));
    }
    let want_state = match node.op {
        Operator::Aggregate { .. } | Operator::WindowAggregate { .. } => StateKind::Keyed,
        _ => StateKind::Stateless,
    };
    let late_inputs = inputs.iter().filter(|(_, e)| e.late).count();
    let wants_late = matches!(node.op, Operator::LateRecords);
    if late_inputs != usize::from(wants_late) {
        return Err("late records flow only from a window to its side output".into());
    }
    if node.state != want_state {
        return Err(format!("its state kind is {:?}", node.state));
    }
    let input = inputs.first().map(|(i, _)| plan.graph[*i].schema.clone());
    match (&node.op, &input) {
        (Operator::Source(_), _) => Ok(()),
        (Operator::Filter { predicate }, Some(i)) => {
            same(&node.schema, i)?;
            if let Code::Expr(predicate) = predicate {
                expr(predicate, i)?;
                if predicate.ty != Type::Bool {
                    return Err("its predicate is not bool".into());
                }
            }
            Ok(())
        }
        // rustc checks what a closure takes and returns; the output is the closure's type.
        (Operator::RustMap(r) | Operator::RustFlatMap(r), Some(i)) => {
            if r.inputs.as_deref() != i.rust.as_ref().map(std::slice::from_ref) {
                return Err("its closure does not take the input records".into());
            }
            Ok(())
        }
        (Operator::Map { fields }, Some(i)) | (Operator::FlatMap { fields, .. }, Some(i)) => {
            if fields.len() != node.schema.fields.len() {
                return Err("its output schema does not match its fields".into());
            }
            for ((name, e), f) in fields.iter().zip(&node.schema.fields) {
                expr(e, i)?;
                let ty = match (&node.op, &e.ty) {
                    (Operator::FlatMap { .. }, Type::List(t)) => (**t).clone(),
                    (_, t) => t.clone(),
                };
                if *name != f.name || ty != f.ty {
                    return Err(format!("output field `{name}` does not match its value"));
                }
            }
            Ok(())
        }
        (Operator::LateRecords, Some(_)) => {
            let (window, _) = inputs[0];
            if !matches!(plan.graph[window].op, Operator::WindowAggregate { .. }) {
                return Err("its input is not a window".into());
            }
            let window_input = plan.inputs(window)[0].0;
            same(&node.schema, &plan.graph[window_input].schema)
        }
        (
            Operator::WindowAggregate {
                key, aggregates, ..
            },
            Some(i),
        )
        | (Operator::Aggregate { key, aggregates }, Some(i)) => {
            if inputs[0].1.partitioning != Partitioning::Hash(key.partition_names(i)) {
                return Err("its input is not hash-partitioned on its key".into());
            }
            for a in aggregates {
                if let Some(Code::Expr(e)) = &a.arg {
                    expr(e, i)?;
                }
            }
            let bounds = match node.op {
                Operator::WindowAggregate { window, .. } if window.has_bounds() => 2,
                _ => 0,
            };
            if node.schema.rust.is_none()
                && node.schema.fields.len() != key.columns() + bounds + aggregates.len()
            {
                return Err("its output schema does not match its key and aggregates".into());
            }
            Ok(())
        }
        (Operator::Union, _) | (Operator::Sink(_), _) => {
            for (src, _) in &inputs {
                same(&node.schema, &plan.graph[*src].schema)?;
            }
            Ok(())
        }
        _ => Err("it has no input".into()),
    }
}

fn same(a: &Schema, b: &Schema) -> Result<(), String> {
    if a.same_fields(b) && a.rust == b.rust {
        Ok(())
    } else {
        Err(format!(
            "schema {} differs from {}",
            a.describe(),
            b.describe()
        ))
    }
}

/// Every field reference names the input field at its index with that field's type.
fn expr(e: &TExpr, input: &Schema) -> Result<(), String> {
    match &e.kind {
        TExprKind::Lit(_) => Ok(()),
        TExprKind::Field(i, name) => match input.fields.get(*i) {
            Some(f) if f.name == *name && f.ty == e.ty => Ok(()),
            _ => Err(format!("field reference `{name}` does not match the input")),
        },
        TExprKind::Unary(_, a) | TExprKind::Cast(a) => expr(a, input),
        TExprKind::Binary(_, a, b) => {
            expr(a, input)?;
            expr(b, input)
        }
        TExprKind::If(c, a, b) => {
            expr(c, input)?;
            expr(a, input)?;
            expr(b, input)
        }
        TExprKind::Call(_, args) => args.iter().try_for_each(|a| expr(a, input)),
    }
}
